"""The demo scenario recorded on a store, with its projections caught up, at a fixed moment."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from mlob import demo
from mlob.bootstrap import open_projections
from mlob.config import StoreConfig
from mlob.runners.projector import Projections
from mlob.service import Service
from mlob.write.application import MlobApplication

#: The demo's "now": every demo time is hours before it.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@dataclass
class Views:
    service: Service
    projections: Projections
    now: datetime

    def rows(self, name: str) -> dict[str, dict]:
        return {r["id"]: r for r in self.projections.store.rows(name)}


@pytest.fixture
def views(store_config: StoreConfig) -> Iterator[Views]:
    service = Service(MlobApplication(store_config), clock=lambda: NOW)
    demo.load_demo(service, NOW)
    projections = open_projections(service)
    projections.catch_up()
    yield Views(service, projections, NOW)
    projections.stop()
    projections.store.close()
    service.app.close()
