"""Migration 0006 (issue 21) fills the listing columns of rows written before it exactly as the
read store writes them with every row from then on (mlob/read/listing.py), and starts a rebuild
under way again; on SQLite and PostgreSQL, from the schema before it."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from mlob.config import StoreConfig
from mlob.read import listing
from mlob.write.application import MlobApplication
from tests.conftest import pg_connect, postgres_config
from tests.integration.store.schemas_before import (
    fixture,
    insert_rows_postgresql,
    insert_rows_sqlite,
    load_postgresql,
    load_sqlite,
)

#: Rows as the projections keep them (only what the listing reads, and some more).
ROWS: dict[str, list[dict[str, Any]]] = {
    "requests": [
        {
            "id": "6a1e2d1c-0000-4000-8000-000000000001",
            "level": 0,
            "kind": "region_art51",
            "status": "submitted",
            "status_since": "2026-11-23T21:40:00.123000+01:00",
            "incident_id": "6a1e2d1c-0000-4000-8000-0000000000ff",
            "title": "Pompen Waalbandijk",
            "exercise": False,
            "classification": "ongerubriceerd",
            "regions": ["VR08", "VR23"],
            "involved": ["LOCC", "VR08"],
        },
        {
            "id": "6a1e2d1c-0000-4000-8000-000000000001",
            "level": 2,
            "kind": "region_art51",
            "status": "refused",
            "status_since": "2026-11-24T08:00:00+00:00",
            "incident_id": None,
            "title": "Pompen Waalbandijk",
            "exercise": True,
            "classification": "ongerubriceerd",
            "regions": ["VR08"],
            "involved": ["LOCC", "VR08", "JV-OZI"],
        },
    ],
    "incidents": [
        {
            "id": "6a1e2d1c-0000-4000-8000-0000000000ff",
            "level": 0,
            "title": "Hoogwater",
            "closed": True,
            "exercise": False,
            "classification": "ongerubriceerd",
            "regions": ["VR08"],
            "involved": ["VR08"],
        }
    ],
    "capacities": [
        {
            "id": "6a1e2d1c-0000-4000-8000-0000000000aa",
            "level": 0,
            "capability": "FIRE_WATER_SUPPLY",
            "provider": "VR07",
            "name": "Pompen",
            "exercise": False,
            "classification": "ongerubriceerd",
            "regions": [],
            "involved": ["VR07"],
        }
    ],
}
OLD_TABLE = (
    "CREATE TABLE {table} (id TEXT NOT NULL, level integer NOT NULL, position {integer} NOT "
    "NULL, data {blob} NOT NULL, CONSTRAINT {table}_pkey PRIMARY KEY (id, level))"
)


def expected(dialect: str) -> dict[str, list[tuple[Any, ...]]]:
    return {
        name: [listing.stored_values(name, r, dialect) for r in rows] for name, rows in ROWS.items()
    }


def test_sqlite_rows_of_before_are_filled_as_the_read_store_writes_them(tmp_path: Path) -> None:
    path = tmp_path / "before.sqlite3"
    load_sqlite(fixture("0006", "sqlite"), path)
    with sqlite3.connect(path) as c:
        for name in ROWS:
            for table in (f"mlob_rows_{name}", f"mlob_rows_{name}__next"):
                c.execute(OLD_TABLE.format(table=table, integer="INTEGER", blob="BLOB"))
        insert_rows_sqlite(c, ROWS)
        c.execute("INSERT INTO mlob_view_tracking VALUES ('requests~next', 1, 'v', NULL)")
    MlobApplication(StoreConfig(kind="sqlite", sqlite_path=path)).close()
    with sqlite3.connect(path) as c:
        for name, wanted in expected("sqlite").items():
            columns = ", ".join(listing.column_names(name))
            found = c.execute(f"SELECT {columns} FROM mlob_rows_{name} ORDER BY id, level")
            assert [tuple(r) for r in found] == [(w[0], int(w[1]), *w[2:]) for w in wanted], name
        tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert not {t for t in tables if t.endswith("__next")}
        assert not c.execute("SELECT 1 FROM mlob_view_tracking WHERE name LIKE '%~next'").fetchall()


@pytest.mark.postgres
def test_postgresql_rows_of_before_are_filled_as_the_read_store_writes_them(
    pg_schema: str,
) -> None:
    load_postgresql(fixture("0006", "postgresql"), pg_schema)
    with pg_connect(pg_schema) as conn:
        for name in ROWS:
            for table in (f"mlob_rows_{name}", f"mlob_rows_{name}__next"):
                conn.execute(OLD_TABLE.format(table=table, integer="bigint", blob="jsonb"))
        insert_rows_postgresql(conn, ROWS)
        conn.execute("INSERT INTO mlob_view_tracking VALUES ('requests~next', 1, 'v', NULL)")
    MlobApplication(postgres_config(pg_schema)).close()
    with pg_connect(pg_schema) as conn:
        for name, wanted in expected("postgresql").items():
            columns = ", ".join(listing.column_names(name))
            found = conn.execute(f"SELECT {columns} FROM mlob_rows_{name} ORDER BY id, level")
            assert [tuple(r) for r in found] == wanted, name
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "AND table_name LIKE '%%next'",
            (pg_schema,),
        ).fetchall()
        assert tables == []
        assert not conn.execute(
            "SELECT 1 FROM mlob_view_tracking WHERE name LIKE '%~next'"
        ).fetchall()
