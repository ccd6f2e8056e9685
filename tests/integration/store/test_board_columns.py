"""Migration 0008 (issue 21) fills the board's and the summary's columns and ``until_level`` of
rows written before it exactly as the read store writes them from then on (mlob/read/listing.py,
readstore.py); on SQLite and PostgreSQL, from the schema before it."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from mlob.config import StoreConfig
from mlob.read import listing
from tests.conftest import pg_connect, postgres_config
from tests.integration.store.schemas_before import start_from

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
    start_from("0008", StoreConfig(kind="sqlite", sqlite_path=path), ROWS)
    with sqlite3.connect(path) as c:
        for name in ROWS:
            assert [tuple(r) for r in c.execute(select(name))] == expected(name), name


@pytest.mark.postgres
def test_postgresql_rows_of_before_are_filled_as_the_read_store_writes_them(
    pg_schema: str,
) -> None:
    start_from("0008", postgres_config(pg_schema), ROWS)
    with pg_connect(pg_schema) as conn:
        for name in ROWS:
            assert [tuple(r) for r in conn.execute(select(name))] == expected(name), name
