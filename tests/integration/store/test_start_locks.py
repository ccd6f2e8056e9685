"""A normal start takes no lock that stops other nodes' work (issue 19, "no ACCESS EXCLUSIVE lock
at a normal start"): while another transaction holds what a busy node's writers and readers
hold (ROW EXCLUSIVE on every table of the store), a node starting on a store already made
opens its store, applies no migration and opens its read store without waiting. Before, the
library's CREATE UNIQUE INDEX IF NOT EXISTS took a SHARE lock on the events table at every
start, waiting for (and then stopping) every append of the other nodes."""

from __future__ import annotations

import threading

import psycopg
import pytest

from mlob.config import StoreConfig
from mlob.migrations import pending
from mlob.read.readstore import open_read_store
from mlob.write.application import MlobApplication
from projections.specs import PROJECTIONS
from tests.conftest import _dsn, postgres_config

pytestmark = pytest.mark.postgres
NAMES = [p.name for p in PROJECTIONS]


def start(config: StoreConfig) -> None:
    app = MlobApplication(config)
    try:
        assert pending(config) == []
        open_read_store(config, NAMES).close()
    finally:
        app.close()


def test_a_node_starts_while_others_write(pg_schema: str) -> None:
    config = postgres_config(pg_schema)
    start(config)  # the first start makes the store
    with psycopg.connect(_dsn()) as busy:
        tables = [
            row[0]
            for row in busy.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s", (pg_schema,)
            )
        ]
        assert len(tables) > 10
        for table in tables:  # what appends and projection writes hold until they commit
            busy.execute(f'LOCK TABLE "{pg_schema}"."{table}" IN ROW EXCLUSIVE MODE')
        failures: list[BaseException] = []

        def second() -> None:
            try:
                start(config)
            except BaseException as exc:  # reported below
                failures.append(exc)

        node = threading.Thread(target=second, daemon=True)
        node.start()
        node.join(10)
        waited = node.is_alive()
        busy.rollback()  # let a waiting start finish before the schema is dropped
        node.join(30)
    assert not waited, "a starting node waited for a lock the writers hold"
    assert not failures, failures
