"""The typed contract (issue 22): a Python client generated from ``/openapi.json`` by a
maintained generator (openapi-python-client) knows each event type's data, and a request's
whole lifecycle is posted and read through it, on both stores."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import UUID, uuid4

import orjson
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.commands import REGISTRY
from api.contract import model_name
from tests.integration.api.conftest import Api, item
from tests.integration.api.test_exercise import commit, dispatch, steps_to_approval

PACKAGE = "mlob_generated_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The client, generated once per module from the document the app serves."""
    from mlob.config import parse_database_url
    from mlob.service import Service
    from mlob.write.application import MlobApplication

    tmp = tmp_path_factory.mktemp("client")
    service = Service(MlobApplication(parse_database_url(f"sqlite:///{tmp / 'doc.sqlite3'}")))
    try:
        document = TestClient(create_app(service)).get("/openapi.json").json()
    finally:
        service.close()
        service.app.close()
    (tmp / "openapi.json").write_bytes(orjson.dumps(document))
    bin_dir = Path(sys.executable).parent
    done = subprocess.run(
        [
            str(bin_dir / "openapi-python-client"),
            "generate",
            "--path",
            "openapi.json",
            "--output-path",
            PACKAGE,
            "--meta",
            "none",
        ],
        cwd=tmp,
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout, done.stdout  # nothing of the document was skipped
    sys.path.insert(0, str(tmp))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp))
        for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def client_for(generated: ModuleType, api: Api, org: str, **kw: Any) -> Any:
    """The generated client as ``org``, over the app in process (a TestClient is an httpx
    client with the app as its transport)."""
    client = generated.Client(base_url="http://testserver")
    client.set_httpx_client(TestClient(api.client.app, headers=api.headers(org, **kw)))
    return client


def posted(generated: ModuleType, client: Any, body: dict[str, Any]) -> Any:
    """Post ``body`` as the generated model of its type; the parsed receipt."""
    models = importlib.import_module(f"{PACKAGE}.models")
    typed = getattr(models, model_name(body["type"])).from_dict(body)
    assert typed.to_dict()["data"] == body["data"]  # the type's data, as the schema says
    post_events = importlib.import_module(f"{PACKAGE}.api.default.post_events")
    answer = post_events.sync_detailed(client=client, body=typed)
    assert answer.status_code == 201, answer.content
    return answer.parsed


def test_every_postable_type_is_a_model_of_its_own(generated: ModuleType) -> None:
    models = importlib.import_module(f"{PACKAGE}.models")
    for name in REGISTRY:
        assert hasattr(models, model_name(name)), name


def test_a_whole_lifecycle_through_the_generated_client(generated: ModuleType, api: Api) -> None:
    request, capacity, booking = uuid4(), uuid4(), uuid4()
    as_org = {org: client_for(generated, api, org) for org in ("VR08", "VR07")}
    as_org["LOCC"] = client_for(generated, api, "LOCC", role="coordinator")
    registered = item(
        "capacity.registered", capacity, {"capability": "FIRE_WATER_SUPPLY", "quantity": 3}
    )
    moved = {"capacity_id": str(capacity), "booking_id": str(booking)}
    walk = [
        ("VR07", registered),
        *steps_to_approval(request, exercise=False),
        ("VR07", commit(request, capacity, False, booking_id=booking)),
        ("VR07", dispatch(request, capacity, booking, False)),
        ("VR08", item("request.arrived", request, moved)),
        ("VR08", item("request.released", request, moved)),
        ("VR07", item("request.returned", request, moved)),
        ("LOCC", item("request.closed", request)),
    ]
    positions = []
    for org, body in walk:
        receipt = posted(generated, as_org[org], body)
        assert receipt.events[0].type_ == body["type"]
        positions.append(receipt.events[0].position)
    assert positions == sorted(positions)

    # The answers are typed too (api/schemas.py): read through the generated models.
    get_request = importlib.import_module(f"{PACKAGE}.api.default.get_request")
    models = importlib.import_module(f"{PACKAGE}.models")
    detail = get_request.sync(client=as_org["VR08"], request_id=UUID(str(request)))
    assert isinstance(detail, models.RequestOut), detail
    assert detail.status == models.RequestStatus.CLOSED
    assert detail.id == request
    assert [line.capability for line in detail.lines] == ["FIRE_WATER_SUPPLY"]
    assert {b.capacity_id for b in detail.bookings} == {capacity}
    assert all(isinstance(s, models.OpenStep) for s in detail.open_steps)
    list_requests = importlib.import_module(f"{PACKAGE}.api.default.list_requests")
    page = list_requests.sync(client=as_org["VR08"], q=detail.title)
    assert isinstance(page, models.RequestPage), page
    assert request in [row.id for row in page.items]
    get_board = importlib.import_module(f"{PACKAGE}.api.read_models.get_board")
    board = get_board.sync(client=as_org["LOCC"])
    assert isinstance(board, models.Board) and board.total >= len(board.items)
