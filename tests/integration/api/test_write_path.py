"""POST /v1/events is served before the framework (api/post_events.py); the FastAPI route of the
same path must answer the same, and a client that leaves mid-body must record nothing."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import uuid4

import orjson
import pytest
from fastapi.testclient import TestClient

from api.post_events import MAX_BATCH, serve
from tests.conftest import on_both_stores
from tests.integration.api.conftest import Api, chair, fire_request, item

pytestmark = on_both_stores


def opened(**kw: Any) -> dict[str, Any]:
    return item(
        "incident.opened", uuid4(), {"title": "dike", "regions": ["VR08"], "grip": "1"}, **kw
    )


def through_the_route(api: Api) -> TestClient:
    """The same app, reached under a proxy's path prefix: the fast path does not match it, so
    the framework's route answers."""
    return TestClient(api.client.app, root_path="/mlob")


def test_the_route_answers_like_the_write_path(api: Api) -> None:
    route = through_the_route(api)
    headers = api.headers("VR08")
    for client, prefix in ((api.client, ""), (route, "/mlob")):
        body = opened()
        first = client.post(f"{prefix}/v1/events", json=body, headers=headers)
        again = client.post(f"{prefix}/v1/events", json=body, headers=headers)
        assert first.status_code == 201, first.text
        assert first.headers["content-type"] == "application/json"
        assert [e["message_id"] for e in first.json()["events"]] == [body["message_id"]]
        assert first.json()["replayed"] is False
        assert again.status_code == 201 and again.json() == {**first.json(), "replayed": True}
        anonymous = client.post(f"{prefix}/v1/events", json=opened())
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"] == "Bearer"
        assert anonymous.json()["error"]["code"] == "unauthenticated"
        malformed = client.post(f"{prefix}/v1/events", content=b"{", headers=headers)
        assert malformed.status_code == 400
        assert malformed.json()["error"]["code"] == "malformed_json"


def test_a_client_gone_mid_body_records_nothing(api: Api) -> None:
    app = api.client.app
    body = orjson.dumps(opened())
    token = api.token("VR08")
    before = api.position()
    parts = [
        {"type": "http.request", "body": body[: len(body) // 2], "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return parts.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/events",
        "headers": [(b"authorization", f"Bearer {token}".encode())],
    }
    api.client.portal.call(app, scope, receive, send)  # type: ignore[union-attr]
    assert sent == []
    assert api.position() == before


def test_text_that_only_looks_like_a_nul_escape_is_taken(api: Api) -> None:
    body = fire_request(uuid4())
    body["data"]["title"] = "literally \\u0000 in a title"  # a backslash, then "u0000"
    assert api.post("VR08", body).status_code == 201
    nul = fire_request(uuid4())
    nul["data"]["title"] = "a \\\x00 b"  # a backslash, then a real NUL
    api.refused("VR08", nul, 422, "invalid_characters")


def test_too_many_items_get_the_batch_rule_s_own_refusal(api: Api) -> None:
    api.headers("VR08")  # its token is recorded first
    before = api.position()
    items = [fire_request(uuid4()) for _ in range(MAX_BATCH + 1)]
    error = api.refused("VR08", {"items": items}, 413, "batch_too_large")
    assert str(MAX_BATCH) in error["reason"]
    assert api.position() == before


@pytest.mark.parametrize(
    ("declared", "status"),
    [("\u00b2", 422), ("12a", 422), ("9" * 5000, 413)],  # "{}" is no item; 5000 digits: huge
)
def test_a_content_length_that_is_not_a_number_is_no_500(
    api: Api, declared: str, status: int
) -> None:
    """uvicorn refuses such headers itself; another ASGI server might pass them on."""
    seen: list[int] = []
    token = api.headers("VR08")["Authorization"].encode()

    async def run() -> None:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"{}", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                seen.append(message["status"])

        headers = [(b"content-length", declared.encode()), (b"authorization", token)]
        scope = {"type": "http", "method": "POST", "path": "/v1/events", "headers": headers}
        await serve(api.client.app.post_events, scope, receive, send)  # type: ignore[attr-defined]

    asyncio.run(run())
    assert seen == [status]


def test_a_step_s_authority_is_stored_as_json_with_sorted_keys(api: Api) -> None:
    """docs/hash-chain.md: the chain hashes the authority's JSON text with its keys sorted (an
    independent verifier canonicalises it so); orjson writes a dataclass's fields in their
    declaration order whatever OPT_SORT_KEYS says, so the text is made from a dict."""
    subject = uuid4()
    api.post("VR08", {**fire_request(subject), "authority": chair("VR08")})
    [stored] = [e for e in api.service.app.history() if e.stream_id == subject]
    assert stored.authority is not None
    text = orjson.loads(stored.authority)
    assert list(text) == sorted(text) and text["body"] == "chair_safety_region"
