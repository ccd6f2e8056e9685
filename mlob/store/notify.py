"""Wake-ups across processes: a PostgreSQL LISTEN connection for appended events and changed
read models. A lost connection is noticed and re-established; callers poll as a fallback, so
no event waits forever."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable, Sequence

import psycopg
from psycopg import sql

from mlob.metrics import LISTEN_CONNECTS

log = logging.getLogger("mlob.notify")

#: ``application_name`` of the LISTEN connections, with the process id (operators can see
#: which server listens; tests terminate one).
APPLICATION_NAME = "mlob-listen"

#: PostgreSQL truncates identifiers (channel names are identifiers) at 63 bytes.
_MAX_IDENTIFIER = 63


def schema_channel(base: str, schema: str) -> str:
    """The NOTIFY channel ``base`` of one store. Channels are per database, not per schema:
    several stores in one database (one schema each) would wake each other's readers, and
    another store's append looks like a foreign write (its readers' memory is emptied)."""
    if not schema or schema == "public":
        return base
    name = f"{base}_{schema}"
    if len(name.encode()) <= _MAX_IDENTIFIER:
        return name
    digest = hashlib.sha256(schema.encode()).hexdigest()[:16]  # distinct where truncation isn't
    return f"{base}_{digest}"


class Listener:
    """A thread that LISTENs on ``channels`` and calls ``callback`` on every notification,
    and once after each (re)connect (anything sent while it was away is then read)."""

    def __init__(
        self,
        info: str,
        channels: Sequence[str],
        callback: Callable[[], None],
        *,
        timeout: float = 1.0,
        retry: float = 1.0,
        inspect: Callable[[psycopg.Notify | None], bool] | None = None,
    ) -> None:
        self.info = info
        self.channels = tuple(channels)
        self.callback = callback
        #: Called before ``callback`` with each notification, and with None after each
        #: (re)connect (something may have been missed); False: no call back for this one.
        self.inspect = inspect
        self.timeout = timeout
        self.retry = retry
        self.connects = 0
        #: Whether it is listening now (readiness reports it; while away, readers poll).
        self.connected = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mlob-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    self.info, autocommit=True, application_name=f"{APPLICATION_NAME} {os.getpid()}"
                ) as conn:
                    for channel in self.channels:
                        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    self.connects += 1
                    LISTEN_CONNECTS.inc()
                    self.connected = True
                    if self.inspect is not None:
                        self.inspect(None)
                    self.callback()  # after a (re)connect always
                    while not self._stop.is_set():
                        # Every notification as it comes, for ``timeout`` s; then a round trip
                        # that notices a terminated backend. Not after each notification:
                        # under load one comes per commit, and that was a query and a new
                        # generator per commit (4 % of a single post's server CPU,
                        # docs/performance.md, issue 25, branch write3).
                        for notify in conn.notifies(timeout=self.timeout):
                            if self.inspect is None or self.inspect(notify):
                                self.callback()
                            if self._stop.is_set():
                                break
                        conn.execute("SELECT 1")
            except psycopg.Error as exc:
                self.connected = False
                log.warning("LISTEN connection lost (%s); reconnecting", exc)
                self._stop.wait(self.retry)
