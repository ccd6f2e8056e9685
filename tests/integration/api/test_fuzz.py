"""Schemathesis over the OpenAPI document, inside the suite and bounded in time: no 5xx.

Every operation the document names is called with data that fits its schema and with data
that does not. The schema is loaded when the test runs, not when pytest collects (every pytest
process collects every module: loading the demo there cost each of them seconds), and the
cases come from schemathesis' strategies rather than its pytest plugin, whose lazy loader does
not run on pytest 9. The coverage phase (every boundary case the schema defines, some 15,000
calls) is not part of the suite: ``st run`` against a server does it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.schemas import APIOperation, BaseSchema

from api.app import create_app
from api.ports import Principal
from domain.envelope import Classification
from mlob.bootstrap import open_projections, open_webhooks
from mlob.config import StoreConfig
from mlob.demo import load_demo
from mlob.service import Service
from mlob.write.application import MlobApplication

ADMIN = Principal("LOCC", "admin", Classification.STATE_SECRET_TOP_SECRET)
EXAMPLES_PER_MODE = 12


@dataclass
class DemoApi:
    schema: BaseSchema
    tokens: dict[str, str]


@pytest.fixture(scope="module")
def demo_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoApi]:
    """The API over the demo, as ``make run`` serves it (projections and webhooks running)."""
    path: Path = tmp_path_factory.mktemp("fuzz") / "fuzz.sqlite3"
    service = Service(MlobApplication(StoreConfig(kind="sqlite", sqlite_path=path)))
    load_demo(service)
    projections = open_projections(service)
    projections.start()
    open_webhooks(service, None)
    tokens = {
        role: service.issue_token(
            ADMIN, org="LOCC", role=role, clearance=Classification.STATE_SECRET_SECRET
        ).token
        for role in ("coordinator", "admin")
    }
    try:
        yield DemoApi(schemathesis.openapi.from_asgi("/openapi.json", create_app(service)), tokens)
    finally:
        projections.close()
        service.close()
        service.app.close()


def test_no_server_errors(demo_api: DemoApi) -> None:
    operations = [result.ok() for result in demo_api.schema.get_all_operations()]
    assert len(operations) > 30, "the document lists the API's operations"
    for operation in operations:
        role = "admin" if "/tokens" in operation.path else "coordinator"
        headers = {"Authorization": f"Bearer {demo_api.tokens[role]}"}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                calls_without_5xx(operation, mode, headers)
            except Unsatisfiable:
                # An operation without parameters or body has no data that does not fit.
                assert mode is GenerationMode.NEGATIVE, operation.label


def calls_without_5xx(
    operation: APIOperation, mode: GenerationMode, headers: dict[str, str]
) -> None:
    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=EXAMPLES_PER_MODE,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def no_5xx(case: schemathesis.Case) -> None:
        response = case.call(headers=headers)
        assert response.status_code < 500, (case.method, case.path, response.text[:500])

    no_5xx()
