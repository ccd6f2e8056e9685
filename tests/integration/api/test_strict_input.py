"""Issue 16, defect 13: strict input, the error shape everywhere, /docs from mlob itself, the
event types behind a token. Each of these failed on 72956bf."""

from __future__ import annotations

import re
from uuid import uuid4

from tests.integration.api.conftest import Api, fire_request, item


def test_quantities_are_whole_numbers_not_booleans_or_text(api: Api) -> None:
    for wrong in (True, "3", 2.5):
        body = fire_request(uuid4())
        body["data"]["lines"][0]["quantity"] = wrong
        error = api.refused("VR08", body, 422, "invalid_data")
        assert error["details"][0]["loc"][-1] == "quantity"


def test_a_message_id_is_more_than_white_space(api: Api) -> None:
    for blank in (" ", "\t\n", "   "):
        api.refused("VR08", fire_request(uuid4(), message_id=blank), 422, "invalid_item")


def test_moments_are_iso_text_not_numbers(api: Api) -> None:
    headers = api.headers("LOCC", "auditor")
    for path, name in (
        ("/v1/picture", "as_of"),
        ("/v1/capacity-overview", "as_of"),
        ("/v1/history", "occurred_from"),
        ("/v1/stats", "from"),
    ):
        for number in ("0.5", "1700000000"):
            answer = api.client.get(path, params={name: number}, headers=headers)
            assert answer.status_code == 422, (path, number, answer.text)
            assert answer.json()["error"]["code"] == "invalid_request"
    ok = api.client.get(
        "/v1/picture", params={"as_of": "2026-11-23T21:40:00+01:00"}, headers=headers
    )
    assert ok.status_code == 200
    body = item("request.drafted", uuid4(), occurred_at=1700000000)
    api.refused("VR08", body, 422, "invalid_item")


def test_positions_past_what_a_store_holds_are_refused_not_a_500(api: Api) -> None:
    """``after`` and ``min_position`` beyond a signed 64-bit integer overflowed the query (500
    on /v1/access-log and /v1/rejections); now they are a 422 with the reason."""
    huge = str(10**20)
    for path, name, org, role in (
        ("/v1/access-log", "after", "LOCC", "auditor"),
        ("/v1/rejections", "after", "LOCC", "auditor"),
        ("/v1/history", "after", "LOCC", "auditor"),
        ("/v1/requests", "min_position", "LOCC", "coordinator"),
        ("/v1/picture", "min_position", "LOCC", "coordinator"),
    ):
        answer = api.client.get(path, params={name: huge}, headers=api.headers(org, role))
        assert answer.status_code == 422, (path, answer.text)
        assert answer.json()["error"]["code"] == "invalid_request"
    last = api.client.get(
        "/v1/access-log", params={"after": str(2**63 - 1)}, headers=api.headers("LOCC", "auditor")
    )
    assert last.status_code == 200, last.text


def test_unknown_paths_and_methods_answer_in_the_error_shape(api: Api) -> None:
    for method, path, status, code in (
        ("get", "/no/such/thing", 404, "not_found"),
        ("get", "/redoc", 404, "not_found"),
        ("delete", "/v1/picture", 405, "method_not_allowed"),
        ("put", "/v1/tokens", 405, "method_not_allowed"),
    ):
        answer = getattr(api.client, method)(path, headers=api.headers("LOCC", "admin"))
        assert answer.status_code == status, (path, answer.text)
        error = answer.json()["error"]
        assert (error["status"], error["code"]) == (status, code) and error["reason"]


def test_event_types_need_a_token(api: Api) -> None:
    assert api.client.get("/v1/event-types").status_code == 401
    listed = api.client.get("/v1/event-types", headers=api.headers("VR08"))
    assert listed.status_code == 200 and listed.json()


def test_the_docs_load_nothing_from_elsewhere(api: Api) -> None:
    page = api.client.get("/docs")
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/") for s in sources), sources
    for source in sources:
        asset = api.client.get(source)
        assert asset.status_code == 200 and asset.content, source
    assert "SwaggerUIBundle" in api.client.get("/screen/docs.js").text
    licence = api.client.get("/screen/vendor/swagger-ui/LICENSE")
    assert licence.status_code == 200 and "Apache License" in licence.text
