"""The read-access log: who opened or received which item above ongerubriceerd, when, through
which route; readable by auditors of national organisations, within their clearance."""

from __future__ import annotations

from uuid import uuid4

from domain.envelope import Classification
from tests.conftest import on_both_stores
from tests.integration.api.conftest import Api, chair, fire_request, item

pytestmark = on_both_stores

SECRET = Classification.STATE_SECRET_SECRET


def test_classified_reads_are_logged_for_national_auditors(api: Api) -> None:
    secret, plain = uuid4(), uuid4()
    body = {**fire_request(secret), "classification": SECRET.value}
    assert api.post("VR08", body, clearance=SECRET).status_code == 201
    # Submitted, so that it is on the board (a draft is not, and the board notes what it shows)
    submitted = item("request.submitted", secret, authority=chair("VR08"))
    assert (
        api.post(
            "VR08", {**submitted, "classification": SECRET.value}, clearance=SECRET
        ).status_code
        == 201
    )
    assert api.post("VR08", fire_request(plain)).status_code == 201
    now = {"min_position": api.position(), "wait": 10}
    reader = api.headers("LOCC", "coordinator", clearance=SECRET)
    assert api.client.get(f"/v1/requests/{secret}", headers=reader).status_code == 200
    assert api.client.get(f"/v1/requests/{plain}", headers=reader).status_code == 200
    assert api.client.get("/v1/requests", params=now, headers=reader).status_code == 200
    assert api.client.get("/v1/board", params=now, headers=reader).status_code == 200
    assert api.client.get(f"/v1/requests/{secret}/timeline", headers=reader).status_code == 200

    auditor = api.headers("INSP-JENV", "auditor", clearance=SECRET)
    entries = api.listed("/v1/access-log", auditor, {"limit": 500})
    # In pages, oldest first, each entry once; a cursor holds only with the same filters.
    assert api.listed("/v1/access-log", auditor, {"limit": 1}) == entries
    assert [e["id"] for e in entries] == sorted({e["id"] for e in entries})
    first = api.client.get("/v1/access-log", params={"limit": 1}, headers=auditor).json()
    assert len(first["items"]) == 1 and first["next"] is not None
    moved = api.client.get(
        "/v1/access-log", params={"item": str(secret), "cursor": first["next"]}, headers=auditor
    )
    assert moved.status_code == 400 and moved.json()["error"]["code"] == "invalid_cursor"
    seen = {(e["org"], e["route"], e["item"], e["classification"]) for e in entries}
    for route in (
        "GET /v1/requests/{id}",
        "GET /v1/requests",
        "GET /v1/board",
        "GET /v1/requests/{id}/timeline",
    ):
        assert ("LOCC", route, str(secret), SECRET.value) in seen, route
    assert all(e["item"] != str(plain) for e in entries), "unclassified reads are not logged"
    assert all(e["role"] == "coordinator" and e["at"] for e in entries)
    one = api.listed("/v1/access-log", auditor, {"item": str(secret), "limit": 1})
    assert one and all(e["item"] == str(secret) for e in one)

    # Within the auditor's clearance only; national auditors only.
    low = api.client.get("/v1/access-log", headers=api.headers("INSP-JENV", "auditor"))
    assert low.status_code == 200 and low.json() == {"items": [], "next": None}
    for org, role in (("VR08", "auditor"), ("LOCC", "coordinator"), ("LOCC", "admin")):
        refused = api.client.get("/v1/access-log", headers=api.headers(org, role, clearance=SECRET))
        assert refused.status_code == 403 and refused.json()["error"]["code"], (org, role)
