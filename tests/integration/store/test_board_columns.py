"""Migration 0008 (issue 21) fills the board's and the summary's columns and ``until_level`` of
rows written before it exactly as the read store writes them from then on (mlob/read/listing.py,
readstore.py); on SQLite and PostgreSQL, from the schema before it."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest

from mlob.config import StoreConfig, parse_database_url
from mlob.read import listing
from mlob.write.application import MlobApplication
from tests.conftest import POSTGRES_URL, pg_connect, postgres_config

DATA = Path(__file__).parent / "data"
BOARD = ("on_board", "step", "urgent", "since_us", "formalise_us", "duty_us")
SUMMARY = ("closed", "grip_rank")

REQUEST = {
    "id": "6a1e2d1c-0000-4000-8000-000000000001",
    "kind": "region_art51",
    "status": "refused",
    "step": "refused",
    "urgent": True,
    "status_since": "2026-11-23T21:40:00.123456+01:00",
    "submitted_at": "2026-11-23T20:00:00+00:00",
    "formalisation_outstanding": True,
    "duties_outstanding": [
        {"duty": "a", "since": "2026-11-24T08:00:00.000001+00:00"},
        {"duty": "b", "since": "2026-11-24T07:00:00-05:00"},
    ],
    "title": "Pompen",
    "exercise": False,
    "classification": "ongerubriceerd",
    "regions": ["VR08"],
    "involved": ["VR08"],
}
ROWS: dict[str, list[dict[str, Any]]] = {
    "requests": [
        {**REQUEST, "level": 0},
        {**REQUEST, "level": 2, "status": "submitted", "step": "submitted", "urgent": False},
        {
            **REQUEST,
            "id": "6a1e2d1c-0000-4000-8000-000000000002",
            "level": 0,
            "status": "draft",
            "step": "exhaustion_check",
            "submitted_at": None,
            "formalisation_outstanding": False,
            "duties_outstanding": [],
        },
        {
            **REQUEST,
            "id": "6a1e2d1c-0000-4000-8000-000000000003",
            "level": 1,
            "status": "closed",
            "step": "closed",
            "formalisation_outstanding": False,
            "duties_outstanding": [],
        },
    ],
    "incidents": [
        {
            "id": "6a1e2d1c-0000-4000-8000-0000000000ff",
            "level": lvl,
            "title": "Hoogwater",
            "closed": closed,
            "grip": grip,
            "exercise": False,
            "classification": "ongerubriceerd",
            "regions": ["VR08"],
            "involved": ["VR08"],
        }
        for lvl, closed, grip in ((0, False, "rijk"), (3, True, "2"))
    ],
}
#: The level of each row's subject's next higher row (1000: none).
UNTIL = {"requests": [2, 1000, 1000, 1000], "incidents": [3, 1000]}


def expected(name: str) -> list[tuple[Any, ...]]:
    columns = listing.column_names(name)
    wanted = BOARD if name == "requests" else SUMMARY
    at = [columns.index(c) for c in wanted]
    return [
        (*(listing.stored_values(name, r, "sqlite")[i] for i in at), until)
        for r, until in zip(ROWS[name], UNTIL[name], strict=True)
    ]


def select(name: str) -> str:
    wanted = BOARD if name == "requests" else SUMMARY
    return f"SELECT {', '.join(wanted)}, until_level FROM mlob_rows_{name} ORDER BY id, level"


def test_sqlite_rows_of_before_are_filled_as_the_read_store_writes_them(tmp_path: Path) -> None:
    path = tmp_path / "before.sqlite3"
    with sqlite3.connect(path) as c:
        c.executescript((DATA / "schema-before-0008.sqlite.sql").read_text())
        for name, rows in ROWS.items():
            c.executemany(
                f"INSERT INTO mlob_rows_{name} (id, level, position, data) VALUES (?, ?, 1, ?)",
                [(r["id"], r["level"], orjson.dumps(r)) for r in rows],
            )
    MlobApplication(StoreConfig(kind="sqlite", sqlite_path=path)).close()
    with sqlite3.connect(path) as c:
        for name in ROWS:
            assert [tuple(r) for r in c.execute(select(name))] == expected(name), name


@pytest.mark.postgres
def test_postgresql_rows_of_before_are_filled_as_the_read_store_writes_them(
    pg_schema: str,
) -> None:
    script = (DATA / "schema-before-0008.postgresql.sql").read_text()
    script = script.replace("CREATE SCHEMA SCHEMA_NAME;", "").replace(
        "SCHEMA_NAME", f'"{pg_schema}"'
    )
    server = parse_database_url(POSTGRES_URL).conninfo
    loaded = subprocess.run(
        ["psql", "-v", "ON_ERROR_STOP=1", "-q", "-d", server, "-f", "-"],
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert loaded.returncode == 0, loaded.stderr
    with pg_connect(pg_schema) as conn:
        for name, rows in ROWS.items():
            for r in rows:
                conn.execute(
                    f"INSERT INTO mlob_rows_{name} (id, level, position, data) "
                    "VALUES (%s, %s, 1, %s::jsonb)",
                    (r["id"], r["level"], orjson.dumps(r).decode()),
                )
    MlobApplication(postgres_config(pg_schema)).close()
    with pg_connect(pg_schema) as conn:
        for name in ROWS:
            assert [tuple(r) for r in conn.execute(select(name))] == expected(name), name
