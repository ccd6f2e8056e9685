"""The check a pooled connection passes before it is lent (the write store's pool and the read
store's).

After the server dropped the pool's connections (a restart, a failover, an administrator's
``pg_terminate_backend``) the next write must get a fresh connection, not one error per stale
one (issue 19). psycopg_pool's own check (``ConnectionPool.check_connection``) asks the server
with an empty query: a round trip per commit, 5 % of a single post's CPU
(bench/profile_writes.py). A server that drops a connection tells the client so — it sends
its FATAL error and closes the socket, and a server process that dies has its socket closed by
the kernel — so a dropped connection has something to read while a sound idle one has nothing.
Looking at the socket is one system call without a round trip. Only a connection that was not
lent for a while gets the round trip as well: one that a firewall or a NAT dropped silently
shows nothing on its socket.

A stale connection found is seldom alone (a restart drops them all): the whole pool is checked
at once then (``ConnectionPool.check``), since psycopg_pool waits a growing pause (1 s, 2 s,
...) before each next connection it tries, and five stale ones outwaited the 5 s a request
waits for a connection (a 503, on the library's own pre-ping too).
"""

from __future__ import annotations

import select
import time
import weakref
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

#: Seconds since a connection was last lent after which it is asked with a round trip.
FULL_CHECK_AFTER = 5.0

#: When each connection passed its last check (forgotten with the connection).
_LENT: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()


def install_check(pool: ConnectionPool[Any]) -> None:
    """Make :func:`check_for` ``pool``'s check, before it is opened. psycopg_pool takes its
    check only when a pool is made, and the check needs the pool (it checks all at once when
    one is stale): so it is set on the made pool, here only."""
    pool._check = check_for(pool)


def check_for(pool: ConnectionPool[Any]) -> Callable[[Any], None]:
    """The check ``pool`` runs on a connection before lending it (its ``check``)."""

    def check_before_use(conn: Any) -> None:
        """Return quietly if ``conn`` may be lent; raise if it is broken (the pool then
        discards it and lends another or a new one)."""
        if conn.closed or conn.broken:
            raise psycopg.OperationalError("the connection is closed")
        now = time.monotonic()
        last = _LENT.get(conn)
        if last is None or now - last > FULL_CHECK_AFTER or has_input(conn):
            # Something to read on an idle connection is the server's goodbye (or a message
            # nobody waits for): let a round trip decide.
            try:
                ConnectionPool.check_connection(conn)
            except Exception:
                pool.check()  # the others are likely gone too: replace them all now
                raise
        _LENT[conn] = now

    return check_before_use


def has_input(conn: Any) -> bool:
    """Whether the server sent anything, or closed, on this idle connection."""
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))
