"""The demo scenario recorded on a store, with its projections caught up, at a fixed moment;
and a bare read store for the property tests of what is read in SQL (``*_sql.py``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, settings

from api.post_events import Item
from mlob import demo
from mlob.bootstrap import open_projections
from mlob.config import StoreConfig
from mlob.read.readstore import ReadStore, open_read_store
from mlob.runners.projector import Projections
from mlob.service import Service
from mlob.write.application import MlobApplication
from tests.conftest import pg_connect

#: The demo's "now": every demo time is hours before it.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class Clock:
    """A clock a test moves by hand (``clock.now = ...``)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def pumps_phoned_in(subject: UUID) -> Item:
    """VR21's chair phones in an urgent request for two pumps (region_art51), a minute before
    NOW."""
    return Item(
        type="request.phoned_in",
        subject=subject,
        message_id=str(uuid4()),
        occurred_at=NOW - timedelta(minutes=1),
        data={
            "kind": "region_art51",
            "requester": "VR21",
            "title": "pumps",
            "lines": [demo.line("L1", "FIRE_WATER_SUPPLY", 2, "pump", "'s-Hertogenbosch")],
        },
        authority=demo.chair("VR21"),
    )


@dataclass
class Views:
    service: Service
    projections: Projections
    now: datetime

    def rows(self, name: str) -> dict[str, dict]:
        return {r["id"]: r for r in self.projections.store.rows(name)}


def demo_projected(store_config: StoreConfig) -> tuple[Service, Projections]:
    """The demo recorded on the store at NOW, and its projections opened and caught up."""
    service = Service(MlobApplication(store_config), clock=lambda: NOW)
    demo.load_demo(service, NOW)
    projections = open_projections(service)
    projections.catch_up()
    return service, projections


@pytest.fixture
def views(store_config: StoreConfig) -> Iterator[Views]:
    service, projections = demo_projected(store_config)
    yield Views(service, projections, NOW)
    projections.stop()
    projections.store.close()
    service.app.close()


#: The read models the SQL property tests write rows of.
NAMES = ("requests", "incidents", "capacities")

#: The SQL property tests' settings, the same for every store: each example writes and reads a
#: few dozen rows, so few examples.
SQL_EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def read_store(store_config: StoreConfig) -> Iterator[tuple[ReadStore, StoreConfig]]:
    """A read store of the NAMES on a new store, with the config to reach its tables."""
    MlobApplication(store_config).close()  # the migrations: mlob's tables
    opened = open_read_store(store_config, NAMES)
    try:
        yield opened, store_config
    finally:
        opened.close()


def clear_rows(config: StoreConfig) -> None:
    """Every example starts from empty tables (a store per example would take seconds)."""
    statements = [f"DELETE FROM mlob_rows_{n}" for n in NAMES]
    statements.append("UPDATE mlob_view_tracking SET position = 0")
    if config.kind == "sqlite":
        assert config.sqlite_path is not None
        with sqlite3.connect(config.sqlite_path) as c:
            for s in statements:
                c.execute(s)
    else:
        assert config.schema is not None
        with pg_connect(config.schema) as conn:
            for s in statements:
                conn.execute(s)


def write_rows(store: ReadStore, name: str, rows: list[dict[str, Any]]) -> None:
    if rows:
        store.apply(name, rows, 1, "v", store.tracking(name).position)
