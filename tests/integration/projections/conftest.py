"""The demo scenario recorded on a store, with its projections caught up, at a fixed moment."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from api.post_events import Item
from mlob import demo
from mlob.bootstrap import open_projections
from mlob.config import StoreConfig
from mlob.runners.projector import Projections
from mlob.service import Service
from mlob.write.application import MlobApplication

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
