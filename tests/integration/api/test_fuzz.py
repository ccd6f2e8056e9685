"""Schemathesis over the OpenAPI document, inside the suite and bounded in time: no 5xx."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings

from api.app import create_app
from api.ports import Principal
from domain.envelope import Classification
from mlob.bootstrap import open_projections
from mlob.config import StoreConfig
from mlob.demo import load_demo
from mlob.service import Service
from mlob.write.application import MlobApplication

_DIR = Path(tempfile.mkdtemp(prefix="mlob-fuzz-"))
SERVICE = Service(MlobApplication(StoreConfig(kind="sqlite", sqlite_path=_DIR / "fuzz.sqlite3")))
load_demo(SERVICE)
PROJECTIONS = open_projections(SERVICE)
PROJECTIONS.start()
TOKENS = {
    role: SERVICE.issue_token(
        Principal("LOCC", "admin", Classification.STATE_SECRET_TOP_SECRET),
        org="LOCC",
        role=role,
        clearance=Classification.STATE_SECRET_SECRET,
    ).token
    for role in ("coordinator", "admin")
}
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(SERVICE))


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: schemathesis.Case) -> None:
    role = "admin" if "/tokens" in case.path else "coordinator"
    response = case.call(headers={"Authorization": f"Bearer {TOKENS[role]}"})
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
