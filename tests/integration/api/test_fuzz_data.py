"""Fuzz every event type's data against real subjects: start from valid data and replace
fields with arbitrary JSON (wrong types, naive and aware times, odd strings, huge numbers).
The answer is a 4xx or a recorded event, never a 5xx."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from api.commands import REGISTRY
from api.ports import Principal
from domain.envelope import Classification
from mlob.config import StoreConfig
from mlob.demo import CAP_PUMPS_VR07, FLOOD, TRANSPORT_VR08, load_demo
from mlob.service import Service
from mlob.write.application import MlobApplication
from tests.samples import sample

ORGS = ["VR08", "LOCC", "VR07", "DEF-CDS", "POL-LE", "IFV"]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    path = tmp_path_factory.mktemp("fuzzdata") / "mlob.sqlite3"
    service = Service(MlobApplication(StoreConfig(kind="sqlite", sqlite_path=path)))
    load_demo(service)
    app = create_app(service)
    app.state.tokens = {
        org: service.issue_token(
            Principal("LOCC", "admin", Classification.STATE_SECRET_TOP_SECRET),
            org=org,
            role="operator",
            clearance=Classification.STATE_SECRET_SECRET,
        ).token
        for org in ORGS
    }
    return TestClient(app)


TIMES = st.sampled_from(
    [
        "2026-11-23T10:00:00",
        "2026-11-23T10:00:00Z",
        "2099-01-01T00:00:00+00:00",
        "0001-01-01",
        "not a time",
    ]
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | TIMES
    | st.sampled_from(["VR08", "L1", "FIRE_WATER_SUPPLY", str(uuid4()), "granted", ""]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=8,
)

SUBJECTS = {"request": TRANSPORT_VR08, "incident": FLOOD, "capacity": CAP_PUMPS_VR07}


@pytest.mark.parametrize("type_name", sorted(REGISTRY))
def test_data_from_the_schema_never_gives_a_5xx(client: TestClient, type_name: str) -> None:
    event_type = REGISTRY[type_name]
    # The type's example (api/commands.py), a booking naming a capacity the demo has.
    valid = sample(type_name, capacity_id=str(CAP_PUMPS_VR07))
    keys = sorted({*valid, *event_type.model.model_fields})
    fields = st.dictionaries(st.sampled_from(keys), JSON, max_size=4) if keys else st.just({})

    @settings(
        max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(changes=fields, org=st.sampled_from(ORGS), fresh=st.booleans())
    def check(changes: dict, org: str, fresh: bool) -> None:  # type: ignore[type-arg]
        data = {**valid, **changes}
        subject = uuid4() if (event_type.creates or fresh) else SUBJECTS[event_type.subject]
        body = {
            "type": type_name,
            "subject": str(subject),
            "message_id": str(uuid4()),
            "occurred_at": datetime.now(UTC).isoformat(),
            "data": data,
        }
        token = client.app.state.tokens[org]  # type: ignore[attr-defined]
        response = client.post(
            "/v1/events", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code < 500, (type_name, data, response.text)

    check()
