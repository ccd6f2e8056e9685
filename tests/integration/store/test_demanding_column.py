"""Migration 0009 fills ``demanding`` of the requests' rows written before it exactly as the read
store writes it from then on (mlob/read/listing.py: ``projections.readmodels.demanding``, the
row's own flag, or for rows of the code before it was kept, their status); on SQLite and
PostgreSQL, from the schema before it."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from mlob.config import StoreConfig
from mlob.read import listing
from projections import readmodels as rm
from tests.conftest import pg_connect, postgres_config
from tests.integration.store.schemas_before import start_from


def _request(n: int, level: int = 0, **fields: Any) -> dict[str, Any]:
    return {
        "id": f"6a1e2d1c-0000-4000-8000-00000000000{n}",
        "level": level,
        "kind": "region_art51",
        "status": "submitted",
        "title": "Pompen",
        "exercise": False,
        "classification": "ongerubriceerd",
        "regions": ["VR08"],
        "involved": ["VR08"],
        **fields,
    }


ROWS = [
    _request(1, demanding=True, status="closed"),  # the row's own flag, not its status
    _request(1, level=2, demanding=False, status="submitted"),
    _request(2, demanding=None),  # null: not demanding, as bool(None)
    _request(3, status="approved"),  # rows before the flag: by status
    _request(4, status="appealed"),
    _request(5, status="closed"),
]
#: What the read store writes (and the reference says), per row; not all the same.
EXPECTED = [(listing.stored_values("requests", r, "sqlite")[-1],) for r in ROWS]
SELECT = "SELECT demanding FROM mlob_rows_requests ORDER BY id, level"


def test_the_rows_cover_both_answers() -> None:
    assert [e[0] for e in EXPECTED] == [int(rm.demanding(r)) for r in ROWS] == [1, 0, 0, 1, 0, 0]
    assert listing.column_names("requests")[-1] == "demanding"


def test_sqlite_rows_of_before_are_filled_as_the_read_store_writes_them(tmp_path: Path) -> None:
    path = tmp_path / "before.sqlite3"
    start_from("0009", StoreConfig(kind="sqlite", sqlite_path=path), {"requests": ROWS})
    with sqlite3.connect(path) as c:
        assert [tuple(r) for r in c.execute(SELECT)] == EXPECTED


@pytest.mark.postgres
def test_postgresql_rows_of_before_are_filled_as_the_read_store_writes_them(
    pg_schema: str,
) -> None:
    start_from("0009", postgres_config(pg_schema), {"requests": ROWS})
    with pg_connect(pg_schema) as conn:
        assert [tuple(r) for r in conn.execute(SELECT)] == EXPECTED
