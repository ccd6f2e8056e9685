"""The write store's check before lending a pooled connection (mlob/store/pool_check.py):
after the server dropped the pool's connections the next post is recorded (issue 19's "stale
pooled connections are checked before use"), and a sound connection lent a moment ago is not
asked with a round trip (issue 25). Against the real server."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from psycopg.conninfo import make_conninfo
from psycopg_pool import ConnectionPool

from mlob.service import Service
from mlob.store import pool_check
from mlob.write.application import MlobApplication
from tests.conftest import POSTGRES_URL, postgres_config
from tests.integration.api.conftest import Api, item, serving

pytestmark = pytest.mark.postgres

OPENED = {"title": "dyke breach", "regions": ["VR08"], "grip": "1"}


def terminate(application_name: str) -> int:
    """What a restart or an administrator's ``pg_terminate_backend`` does to the node: its
    server processes end (waited for, as a restart's are gone before it accepts again)."""
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        pids = [
            r[0]
            for r in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s",
                (application_name,),
            )
        ]
        conn.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (pids,))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,)
            ).fetchone()
            if row is not None and row[0] == 0:
                break
            time.sleep(0.02)
    return len(pids)


@pytest.fixture
def node(pg_schema: str) -> Iterator[tuple[Api, str]]:
    base = postgres_config(pg_schema)
    name = f"mlob-check-{pg_schema}"
    config = dataclasses.replace(base, conninfo=make_conninfo(base.conninfo, application_name=name))
    service = Service(MlobApplication(config))
    with serving(service, projections=False) as client:
        yield Api(client, service), name


def test_every_post_after_the_server_dropped_the_pools_connections_is_recorded(
    node: tuple[Api, str],
) -> None:
    api, name = node
    for _ in range(6):  # every connection of the pool has been lent
        api.accepted("VR08", item("incident.opened", uuid4(), OPENED))
    assert terminate(name) > 0
    for _ in range(6):  # the stale connections are found before use, none answers an error
        api.accepted("VR08", item("incident.opened", uuid4(), OPENED))


@pytest.fixture
def conn() -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as opened:
        yield opened


@pytest.fixture
def check() -> Iterator[Any]:
    with ConnectionPool(POSTGRES_URL, min_size=1, max_size=1) as pool:
        yield pool_check.check_for(pool)


def test_a_connection_lent_a_moment_ago_is_not_asked(
    conn: psycopg.Connection[Any], check: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[object] = []
    real = ConnectionPool.check_connection

    def counted(c: Any) -> None:
        asked.append(c)
        real(c)

    monkeypatch.setattr(ConnectionPool, "check_connection", counted)
    check(conn)
    assert len(asked) == 1, "a connection never checked is asked"
    check(conn)
    check(conn)
    assert len(asked) == 1, "lent a moment ago, nothing to read: no round trip"
    monkeypatch.setattr(pool_check, "FULL_CHECK_AFTER", 0.0)
    time.sleep(0.01)
    check(conn)
    assert len(asked) == 2, "not lent for a while: asked"


def test_a_dropped_connection_fails_the_check_at_once(
    conn: psycopg.Connection[Any], check: Any
) -> None:
    check(conn)
    pid = conn.info.backend_pid
    with psycopg.connect(POSTGRES_URL, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", (pid,))
    deadline = time.monotonic() + 5
    while not pool_check.has_input(conn) and time.monotonic() < deadline:
        time.sleep(0.01)  # the server's goodbye is on its way
    with pytest.raises(psycopg.OperationalError):
        check(conn)


def test_the_read_stores_pool_checks_without_a_round_trip_and_survives_a_drop(
    pg_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read store's pool (projection batches, the board, feeds) checks as the write
    store's does: no round trip for a connection lent a moment ago, and after the server
    dropped its connections the next read is answered, not an error."""
    from mlob.read.readstore import PostgresReadStore

    base = postgres_config(pg_schema)
    name = f"mlob-read-{pg_schema}"
    config = dataclasses.replace(base, conninfo=make_conninfo(base.conninfo, application_name=name))
    MlobApplication(config)  # the store's tables (migrations)
    asked: list[object] = []
    real = ConnectionPool.check_connection

    def counted(c: Any) -> None:
        asked.append(c)
        real(c)

    monkeypatch.setattr(ConnectionPool, "check_connection", counted)  # before the pool is made
    store = PostgresReadStore(config, ["incidents"])
    try:
        store.tracking("incidents")
        for _ in range(5):
            store.tracking("incidents")
        # The pool may lend a connection it opened meanwhile (checked once, at its first
        # lending); none lent a moment ago is asked again (psycopg's own check asks at every
        # lending).
        again = len(asked) - len({id(c) for c in asked})
        assert again == 0, "lent a moment ago, nothing to read: no round trip"
        assert terminate(name) > 0
        assert store.tracking("incidents").position == 0  # answered on a fresh connection
    finally:
        store.close()
