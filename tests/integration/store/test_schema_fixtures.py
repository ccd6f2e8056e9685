"""Each migration is tested from the schema before it (issue 19, "Migrations"): the store as the
code before that migration left it is kept as an SQL fixture (data/schema-before-<id>.<dialect>
.sql.gz, made with that commit's code: see mlob/migrations/__init__.py); a start on it applies the
pending migrations and leaves exactly the schema a new store gets, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import psycopg
import pytest

from mlob import migrations
from mlob.config import StoreConfig, parse_database_url
from mlob.write.application import MlobApplication
from tests.conftest import POSTGRES_URL, pg_connect, postgres_config
from tests.integration.store.schemas_before import (
    fixtures,
    load_postgresql,
    load_sqlite,
    migration_after,
)


def sqlite_columns(path: Path) -> dict[str, list[str]]:
    with sqlite3.connect(path) as c:
        tables = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: [r[1] for r in c.execute(f'PRAGMA table_info("{t}")')] for t in tables}


def pg_columns(schema: str) -> dict[str, list[str]]:
    with pg_connect(schema) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = %s ORDER BY table_name, ordinal_position",
            (schema,),
        ).fetchall()
    found: dict[str, list[str]] = {}
    for table, column in rows:
        found.setdefault(table, []).append(column)
    return found


@pytest.mark.parametrize("fixture", fixtures("sqlite"), ids=migration_after)
def test_a_sqlite_store_of_the_previous_schema_upgrades(fixture: Path, tmp_path: Path) -> None:
    path = tmp_path / "before.sqlite3"
    load_sqlite(fixture, path)
    store = StoreConfig(kind="sqlite", sqlite_path=path)
    assert migrations.pending(store)[0].startswith(migration_after(fixture))
    MlobApplication(store).close()  # a start applies what is pending
    assert migrations.pending(store) == []
    fresh = StoreConfig(kind="sqlite", sqlite_path=tmp_path / "fresh.sqlite3")
    MlobApplication(fresh).close()
    assert sqlite_columns(path) == sqlite_columns(tmp_path / "fresh.sqlite3")


@pytest.mark.postgres
@pytest.mark.parametrize("fixture", fixtures("postgresql"), ids=migration_after)
def test_a_postgresql_store_of_the_previous_schema_upgrades(fixture: Path, pg_schema: str) -> None:
    load_postgresql(fixture, pg_schema)
    server = parse_database_url(POSTGRES_URL).conninfo
    store = postgres_config(pg_schema)
    assert migrations.pending(store)[0].startswith(migration_after(fixture))
    MlobApplication(store).close()
    assert migrations.pending(store) == []
    fresh = f"{pg_schema}_new"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{fresh}"')
    try:
        MlobApplication(dataclasses.replace(store, schema=fresh)).close()
        assert pg_columns(pg_schema) == pg_columns(fresh)
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{fresh}" CASCADE')
