"""One application over a real store, seeded once per module through the HTTP API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.ports import Principal
from domain.envelope import Classification
from mlob.bootstrap import open_projections, open_webhooks
from mlob.config import StoreConfig
from mlob.service import Service
from mlob.write.application import MlobApplication
from tests.conftest import STORES, fresh_store
from tests.integration.access.world import (
    ZG,
    Reader,
    Seed,
    Subject,
    seed_subscriptions,
    seed_world,
)

#: Issues every token of the test: LOCC's administrators manage every organisation's tokens,
#: and an administrator issues none above its own clearance.
ISSUER = Principal(org="LOCC", role="admin", clearance=ZG)


@dataclass
class World:
    client: TestClient
    service: Service
    seed: Seed
    started: datetime  # before the first seeded step
    head: int  # the last seeded position (the markers)

    @property
    def app(self) -> Any:
        return self.client.app

    @property
    def subjects(self) -> dict[str, Subject]:
        return self.seed.subjects

    def id(self, name: str) -> UUID:
        return self.seed.subjects[name].id

    def of_type(self, type_: str) -> list[Subject]:
        return [s for s in self.seed.subjects.values() if s.type == type_]

    def headers(self, reader: Reader) -> dict[str, str]:
        return self.seed.headers(reader.org, reader.role, reader.clearance)


def _wait_for_projections(client: TestClient, seed: Seed, position: int) -> None:
    headers = seed.headers("LOCC", "coordinator", ZG)
    for path in ("/v1/picture", "/v1/capacity-overview"):
        answer = client.get(path, headers=headers, params={"min_position": position, "wait": 10})
        assert answer.status_code == 200, answer.text
        assert answer.json()["reached"], f"{path}: the projections did not reach {position}"


@pytest.fixture(scope="module", params=STORES)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """The same world on each store (the read paths select rows per level in SQL)."""
    with fresh_store(request.param, tmp_path_factory.mktemp("access"), "t_access") as config:
        yield from _world_on(config)


def _world_on(config: StoreConfig) -> Iterator[World]:
    """The world seeded through the API on the store ``config`` names, its projections caught
    up and its alerts raised."""
    ahead: list[timedelta] = [timedelta(0)]  # the service's clock, moved for the alerts
    service = Service(MlobApplication(config), clock=lambda: datetime.now(UTC) + ahead[0])
    projections = open_projections(service)
    projections.start()
    # Subscriptions and alerts (issue 24); the runner is not started: nothing is sent, the
    # sweep reads what is queued and raised.
    runner = open_webhooks(service, "access-test-webhook-key-" + "k" * 16)

    def issue(org: str, role: str, clearance: Classification, label: str) -> Any:
        return service.issue_token(ISSUER, org=org, role=role, clearance=clearance, label=label)

    try:
        app = create_app(service)
        # A failing route answers 500 (and is reported) instead of ending the sweep.
        with TestClient(app, raise_server_exceptions=False) as client:
            seed = Seed(client, issue)
            started = seed.clock
            seed_world(seed)
            seed_subscriptions(seed)
            head = service.last_position()
            _wait_for_projections(client, seed, head)
            # A week on, every open request and duty is overdue: alerts for the sweep.
            ahead[0] = timedelta(days=7)
            runner.raise_alerts()
            ahead[0] = timedelta(0)
            yield World(client, service, seed, started, head)
    finally:
        projections.close()
        service.close()
        service.app.close()
