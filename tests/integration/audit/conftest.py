"""The demo with its projections caught up (the `views` fixture) for the audit tests, and SQL
straight against a store's database, as an insider with write access could run it."""

import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from mlob.config import StoreConfig
from mlob.read import pictures as asof
from mlob.store.chain import FORMAT_1, GENESIS, link
from mlob.write.application import MlobApplication
from tests.cli import run_cli
from tests.conftest import POSTGRES_URL, pg_connect
from tests.integration.projections.conftest import views

__all__ = ["as_format_1", "cli", "database_url", "raw_sql", "views"]

#: Migration 0002 (the chain format switch, picture checkpoint signatures).
SWITCH_MIGRATION = "0002_chain_format_and_signed_pictures"


@contextmanager
def raw_sql(store: StoreConfig) -> Iterator[Callable[..., Any]]:
    """Run SQL straight against the store's database, bypassing mlob: ``%s`` placeholders,
    ``EVENTS`` for the events table and ``POSITION_COLUMN`` for its position column."""
    if store.kind == "sqlite":
        conn = sqlite3.connect(str(store.sqlite_path), isolation_level=None)
        try:
            yield lambda q, *a: conn.execute(
                q.replace("%s", "?")
                .replace("EVENTS", "stored_events")
                .replace("POSITION_COLUMN", "rowid"),
                a,
            )
        finally:
            conn.close()
    else:
        with pg_connect(store.schema) as conn:
            yield lambda q, *a: conn.execute(
                q.replace("EVENTS", "mlob_events").replace("POSITION_COLUMN", "notification_id"),
                a,
            )


def as_format_1(app: MlobApplication, store: StoreConfig) -> int:
    """Make the store what the code of 72956bf left behind: every hash as it computed them
    (format 1) and migration 0002 not applied (no switch, no picture checkpoint signature
    columns), so that opening it again upgrades it. Closes ``app``; the last position."""
    rows = app.index.chain_rows(after=0, limit=1_000_000)
    app.close()
    previous = GENESIS
    with raw_sql(store) as run:
        for record, event in rows:
            previous = link(previous, record.entry, event, FORMAT_1)
            position = record.position
            run("UPDATE mlob_event_index SET hash = %s WHERE position = %s", previous, position)
        run("DROP TABLE mlob_chain_formats")
        run("ALTER TABLE mlob_as_of_checkpoints DROP COLUMN content_sha256")
        run("ALTER TABLE mlob_as_of_checkpoints DROP COLUMN signature")
        run("DELETE FROM mlob_migrations WHERE migration_id = %s", SWITCH_MIGRATION)
    return rows[-1][0].position


def database_url(store: StoreConfig) -> str:
    """``MLOB_DATABASE_URL`` for this store."""
    if store.kind == "sqlite":
        return f"sqlite:///{store.sqlite_path}"
    return f"{POSTGRES_URL}?schema={store.schema}"


def cli(store: StoreConfig, key: bytes | None, *args: str) -> subprocess.CompletedProcess[str]:
    """``mlob audit ARGS`` on this store, with ``MLOB_AUDIT_KEY`` set to ``key`` (or unset)."""
    env = {"MLOB_AUDIT_KEY": None if key is None else key.decode()}
    return run_cli("audit", *args, url=database_url(store), env=env)


@pytest.fixture(autouse=True)
def no_silent_fallback(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """A picture that falls back to a full replay is still right, so the oracle tests would not
    see a checkpoint bug: here a fallback fails the test (except where it is the subject)."""
    if "falls_back" in request.node.name:
        return

    def fail(message: str, *args: Any) -> None:
        raise AssertionError(message % args)

    monkeypatch.setattr(asof.log, "warning", fail)
