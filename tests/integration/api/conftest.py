"""An API client over a real store (SQLite and PostgreSQL) with tokens for several parties."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from api.app import create_app
from api.ports import Principal
from domain.envelope import Classification
from mlob.bootstrap import open_projections, open_webhooks
from mlob.config import StoreConfig
from mlob.service import Service
from mlob.write.application import MlobApplication
from tests.conftest import store_of

#: Issues the tests' tokens: LOCC's administrator may issue any organisation's, at any clearance
#: up to its own (domain.policy.issue_refusal).
ADMIN = Principal(org="LOCC", role="admin", clearance=Classification.STATE_SECRET_TOP_SECRET)


@dataclass
class Api:
    client: TestClient
    service: Service
    tokens: dict[str, str] = field(default_factory=dict)

    def token(
        self,
        org: str,
        role: str = "operator",
        clearance: Classification = Classification.UNCLASSIFIED,
    ) -> str:
        key = f"{org}/{role}/{clearance.value}"
        if key not in self.tokens:
            self.tokens[key] = self.service.issue_token(
                ADMIN, org=org, role=role, clearance=clearance
            ).token
        return self.tokens[key]

    def headers(self, org: str, role: str = "operator", **kw: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(org, role, **kw)}"}

    def post(self, org: str, body: Any, role: str = "operator", **kw: Any) -> Response:
        return self.client.post("/v1/events", json=body, headers=self.headers(org, role, **kw))

    def accepted(self, org: str, body: Any, role: str = "operator", **kw: Any) -> Any:
        """Post, expect ``201``, and return the answer's body."""
        response = self.post(org, body, role, **kw)
        assert response.status_code == 201, response.text
        return response.json()

    def listed(
        self, path: str, headers: dict[str, str], params: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Every item of a paged list (``{"items", "next"}``), following ``next`` to the end."""
        found: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            asked = {**(params or {}), **({"cursor": cursor} if cursor else {})}
            response = self.client.get(path, params=asked, headers=headers)
            assert response.status_code == 200, (path, asked, response.text)
            body = response.json()
            found += body["items"]
            cursor = body["next"]
            if cursor is None:
                return found

    def position(self) -> int:
        return self.service.last_position()

    def refused(self, org: str, body: Any, status: int, code: str, **kw: Any) -> dict[str, Any]:
        """Post, expect a refusal with ``status`` and ``code``, and nothing recorded."""
        headers = self.headers(org, **kw)  # issuing a token is an event itself: do it first
        before = self.position()
        response = self.client.post("/v1/events", json=body, headers=headers)
        assert response.status_code == status, response.text
        error = response.json()["error"]
        assert error["code"] == code, error
        assert error["reason"] and error["source"]
        assert self.position() == before, "a refused post recorded something"
        return error


def item(
    type_: str, subject: UUID, data: dict[str, Any] | None = None, **kw: Any
) -> dict[str, Any]:
    return {
        "type": type_,
        "subject": str(subject),
        "message_id": kw.pop("message_id", str(uuid4())),
        "occurred_at": kw.pop("occurred_at", datetime.now(UTC).isoformat()),
        "data": data or {},
        **kw,
    }


def chair(region: str) -> dict[str, str]:
    return {"body": "chair_safety_region", "of": region, "capacity": "namens"}


def fire_request(subject: UUID, region: str = "VR08", **kw: Any) -> dict[str, Any]:
    return item(
        "request.drafted",
        subject,
        {
            "kind": "region_art51",
            "title": "pumps",
            "lines": [
                {
                    "line_id": "L1",
                    "capability": "FIRE_WATER_SUPPLY",
                    "quantity": 2,
                    "effect": "pump out the tunnel",
                    "municipality": "Nijmegen",
                }
            ],
        },
        authority=chair(region),
        **kw,
    )


@contextmanager
def serving(service: Service, *, projections: bool = True) -> Iterator[TestClient]:
    """The API over ``service`` with its projections running; afterwards the projections (the
    ones running then: a test may have restarted them), the service and its store are closed.
    ``projections=False``: the API alone, for the tests of the store's own connections."""
    if projections:
        open_projections(service).start()
        if service.webhooks is None:  # as a server has them (no key: no subscription is made)
            open_webhooks(service, None)
    try:
        with TestClient(create_app(service)) as client:
            yield client
    finally:
        if service.projections is not None:
            service.projections.close()
        service.close()
        service.app.close()


@pytest.fixture
def store_config(request: pytest.FixtureRequest, tmp_path: Path) -> StoreConfig:
    """SQLite, or each store for the tests marked ``on_both_stores`` (tests/conftest.py)."""
    return store_of(getattr(request, "param", "sqlite"), request, tmp_path)


@pytest.fixture
def api(store_config: StoreConfig) -> Iterator[Api]:
    service = Service(MlobApplication(store_config))
    with serving(service) as client:
        yield Api(client, service)
