"""The read answers hold to the schemas the OpenAPI document publishes (issue 22, a typed
contract): every JSON read route is read on the demo (with a classified incident, a refusal,
overdue alerts, a subscription and its deliveries added) as several readers, and each answer is
validated against its route's schema in ``/openapi.json``. The schemas are closed where the
shape is (``additionalProperties: false``), so an answer that gains or loses a field fails here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import jsonschema_rs
import pytest

from api.schemas import READ_ANSWERS
from domain.envelope import Classification
from mlob.config import StoreConfig
from mlob.demo import load_demo
from tests.integration.api.conftest import fire_request, item
from tests.integration.webhooks.conftest import Hooked, hooked_api

TOP = Classification.STATE_SECRET_TOP_SECRET
#: The readers, each (org, role, clearance): national, a region, a provider, and the roles that
#: read the audit and token routes.
READERS = (
    ("LOCC", "auditor", TOP),
    ("LOCC", "admin", TOP),
    ("LOCC", "coordinator", Classification.STATE_SECRET_SECRET),
    ("VR08", "operator", Classification.UNCLASSIFIED),
    ("VR08", "admin", Classification.UNCLASSIFIED),
    ("DEF-DOPS", "operator", Classification.STATE_SECRET_CONFIDENTIAL),
)


@dataclass
class Demo:
    api: Hooked
    document: dict[str, Any]
    ids: dict[str, str]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    path: Path = tmp_path_factory.mktemp("schemas") / "demo.sqlite3"
    for api in hooked_api(StoreConfig(kind="sqlite", sqlite_path=path)):
        for org, role, clearance in READERS:  # issued first: later the clock moves ahead
            api.headers(org, role, clearance=clearance)
        load_demo(api.service)
        secret = uuid4()
        opened = item(
            "incident.opened",
            secret,
            {"title": "Dreiging", "regions": ["VR08"], "grip": "2"},
            classification="stg_geheim",
        )
        api.accepted("LOCC", opened, role="coordinator", clearance=TOP)
        api.post("VR08", fire_request(uuid4(), region="VR07"))  # refused: a rejection
        reader = api.headers("LOCC", "coordinator", clearance=Classification.STATE_SECRET_SECRET)
        seen = api.client.get(f"/v1/incidents/{secret}", headers=reader)  # the access log
        assert seen.status_code == 200, seen.text
        subscribed = api.client.post(
            "/v1/subscriptions",
            json={
                "url": "http://127.0.0.1:9/hook",
                "channels": ["national"],
                "clearance": "ongerubriceerd",
            },
            headers=api.headers("LOCC", "admin", clearance=TOP),
        )
        assert subscribed.status_code == 201, subscribed.text
        assert api.service.wait_for_views(api.position(), ("requests", "incidents"), 10)
        assert api.clock is not None
        api.clock.offset = 24 * 3600  # every open step overdue: alerts
        auditor = api.headers("LOCC", "auditor", clearance=TOP)
        deadline = time.monotonic() + 10
        while not (alerts := items(api.client.get("/v1/alerts", headers=auditor).json())):
            assert time.monotonic() < deadline, "no alert"
            time.sleep(0.05)
        admin = api.headers("LOCC", "admin", clearance=TOP)
        acked = api.client.post(f"/v1/alerts/{alerts[0]['id']}/ack", headers=admin)
        assert acked.status_code == 200, acked.text
        first = {
            name: api.listed(f"/v1/{name}", auditor)[0]["id"] for name in ("requests", "capacities")
        }
        document = api.client.get("/openapi.json").json()
        ids = {
            "request_id": first["requests"],
            "incident_id": str(secret),
            "capacity_id": first["capacities"],
            "subscription_id": subscribed.json()["id"],
        }
        yield Demo(api, document, ids)


def items(answer: Any) -> list[Any]:
    """A list answer's items: a page's (``{"items", "next"}``) or a plain list's."""
    return list(answer["items"] if isinstance(answer, dict) else answer)


def validator(document: dict[str, Any], path: str) -> Any:
    """The validator of a route's 200 JSON answer, its references resolved in the document."""
    schema = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    return jsonschema_rs.Draft202012Validator(
        {**schema["schema"], "components": document["components"]}
    )


def answer_of(demo: Demo, path: str, headers: dict[str, str]) -> tuple[int, Any]:
    """The answer to ``GET path`` (its ids filled in)."""
    url = path.format(**demo.ids)
    response = demo.api.client.get(url, headers=headers)
    if response.status_code == 503 and path == "/health/ready":  # not ready: the same shape
        return 200, response.json()
    if response.status_code != 200:
        return response.status_code, None
    body = response.json()
    return 200, body


def test_every_json_read_route_has_a_schema_of_its_own(demo: Demo) -> None:
    for path, operations in demo.document["paths"].items():
        get = operations.get("get")
        if get is None:
            continue
        content = get["responses"].get("200", {}).get("content", {})
        if "application/json" not in content:
            continue  # EDXL (XML), metrics (text)
        schema = content["application/json"]["schema"]
        named = schema.get("$ref") or schema.get("items", {}).get("$ref")
        assert named, (path, schema)  # never an untyped object
        assert path in READ_ANSWERS or path.startswith("/health"), path


#: The health routes document their models too (response_model, api/app.py).
HEALTH = ("/health", "/health/live", "/health/ready")


@pytest.mark.parametrize("path", sorted(READ_ANSWERS) + list(HEALTH))
def test_the_answers_hold_to_the_published_schema(demo: Demo, path: str) -> None:
    check = validator(demo.document, path)
    read, filled = 0, False
    for org, role, clearance in READERS:
        status, body = answer_of(demo, path, demo.api.headers(org, role, clearance=clearance))
        if status in (403, 404):  # not for this reader (audit, tokens, another's subject)
            continue
        assert status == 200, (path, org, role, status)
        errors = [f"{e.instance_path}: {e.message}"[:300] for e in check.iter_errors(body)]
        assert not errors, (path, org, role, errors[:5])
        read += 1
        listed = body if isinstance(body, list) else body.get("items")
        filled = filled or listed != [] or path in HEALTH
    assert read, f"nobody could read {path}"
    assert filled, f"{path}: only empty lists were read, which prove little"


def test_an_answer_with_a_field_more_or_less_does_not_hold(demo: Demo) -> None:
    """The schemas are closed: what the test above checks can fail."""
    auditor = demo.api.headers("LOCC", "auditor", clearance=TOP)
    for path in ("/v1/requests/{request_id}", "/v1/board", "/v1/capacities"):
        _, body = answer_of(demo, path, auditor)
        check = validator(demo.document, path)
        assert check.is_valid(body)
        target = body["items"][0] if "items" in body else body
        key = next(iter(target))
        target["unexpected"] = 1
        assert not check.is_valid(body), path
        del target["unexpected"]
        value = target.pop(key)
        assert not check.is_valid(body), path
        target[key] = value
