"""The schemas before a migration, as the tests load them (data/schema-before-<id>.<dialect>
.sql.gz, made by schema_fixture.py with the code of the commit before that migration).

They are kept gzipped: each is a dump (SQLite's ``iterdump``, ``pg_dump``) of what an older
commit's code made at start, data to load and never to edit, and each repeats most of the one
before it.
"""

from __future__ import annotations

import gzip
import sqlite3
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
import psycopg

from mlob.config import StoreConfig, parse_database_url
from mlob.write.application import MlobApplication
from tests.conftest import POSTGRES_URL, pg_connect

DATA = Path(__file__).parent / "data"


def fixture(migration: str, dialect: str) -> Path:
    """The schema before ``migration`` (e.g. ``"0008"``) on ``dialect`` (sqlite, postgresql)."""
    return DATA / f"schema-before-{migration}.{dialect}.sql.gz"


def fixtures(dialect: str) -> list[Path]:
    return sorted(DATA.glob(f"schema-before-*.{dialect}.sql.gz"))


def migration_after(fixture: Path) -> str:
    return fixture.name.removeprefix("schema-before-").split(".")[0]


def read(fixture: Path) -> str:
    return gzip.decompress(fixture.read_bytes()).decode()


def load_sqlite(fixture: Path, path: Path) -> None:
    """Make the SQLite store at ``path`` as the fixture's code made it."""
    with sqlite3.connect(path) as c:
        c.executescript(read(fixture))


def load_postgresql(fixture: Path, schema: str) -> None:
    """Make the (empty, existing) ``schema`` as the fixture's code made it, with psql: pg_dump's
    output is a psql script (COPY from stdin, meta-commands), not plain SQL."""
    script = read(fixture).replace("CREATE SCHEMA SCHEMA_NAME;", "")
    script = script.replace("SCHEMA_NAME", f'"{schema}"')
    server = parse_database_url(POSTGRES_URL).conninfo
    loaded = subprocess.run(
        ["psql", "-v", "ON_ERROR_STOP=1", "-q", "-d", server, "-f", "-"],
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert loaded.returncode == 0, loaded.stderr


#: Read-model rows per read model (``requests``, ``incidents``, …), as the projections keep them.
Rows = Mapping[str, Sequence[Mapping[str, Any]]]


def insert_rows_sqlite(c: sqlite3.Connection, rows: Rows) -> None:
    """Put ``rows`` in ``mlob_rows_<name>`` as the code before the migration wrote them: the
    columns every version has (id, level, position, data), none of those a migration adds."""
    for name, of_name in rows.items():
        c.executemany(
            f"INSERT INTO mlob_rows_{name} (id, level, position, data) VALUES (?, ?, 1, ?)",
            [(r["id"], r["level"], orjson.dumps(r)) for r in of_name],
        )


def insert_rows_postgresql(conn: psycopg.Connection, rows: Rows) -> None:
    """As insert_rows_sqlite, on PostgreSQL."""
    for name, of_name in rows.items():
        for r in of_name:
            conn.execute(
                f"INSERT INTO mlob_rows_{name} (id, level, position, data) "
                "VALUES (%s, %s, 1, %s::jsonb)",
                (r["id"], r["level"], orjson.dumps(r).decode()),
            )


def start_from(migration: str, store: StoreConfig, rows: Rows) -> None:
    """Make ``store`` (new, empty) as the code before ``migration`` left it, with ``rows``; then
    start and close it, as a deployment of the new code does: a start applies the migrations."""
    if store.kind == "sqlite":
        assert store.sqlite_path is not None
        load_sqlite(fixture(migration, "sqlite"), store.sqlite_path)
        with sqlite3.connect(store.sqlite_path) as c:
            insert_rows_sqlite(c, rows)
    else:
        load_postgresql(fixture(migration, "postgresql"), store.schema)
        with pg_connect(store.schema) as conn:
            insert_rows_postgresql(conn, rows)
    MlobApplication(store).close()
