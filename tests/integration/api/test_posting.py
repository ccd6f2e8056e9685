"""POST /v1/events: answers for good and bad input, on SQLite and PostgreSQL."""

from __future__ import annotations

from uuid import uuid4

from domain.envelope import Classification
from tests.conftest import on_both_stores
from tests.integration.api.conftest import Api, chair, fire_request, item

pytestmark = on_both_stores


def test_post_one_event_and_replay_it(api: Api) -> None:
    subject = uuid4()
    body = fire_request(subject)
    first = api.post("VR08", body)
    assert first.status_code == 201, first.text
    events = first.json()["events"]
    assert [(e["stream_id"], e["version"]) for e in events] == [(str(subject), 1)]
    assert events[0]["position"] == api.position()
    assert events[0]["type"] == "request.drafted"
    again = api.post("VR08", body)
    assert again.status_code == 201 and again.json() == {**first.json(), "replayed": True}
    assert api.position() == events[0]["position"]


def test_same_message_id_other_body_is_a_conflict(api: Api) -> None:
    body = fire_request(uuid4())
    assert api.post("VR08", body).status_code == 201
    other = {**body, "data": {**body["data"], "title": "other"}}
    api.refused("VR08", other, 409, "message_id_reused")


def test_malformed_wrong_types_unknown_type_and_oversized(api: Api) -> None:
    api.token("VR08")
    before = api.position()
    response = api.client.post("/v1/events", content=b"{not json", headers=api.headers("VR08"))
    assert response.status_code == 400 and response.json()["error"]["code"] == "malformed_json"
    wrong = fire_request(uuid4())
    wrong["data"]["lines"][0]["quantity"] = "two"
    error = api.refused("VR08", wrong, 422, "invalid_data")
    assert error["details"][0]["loc"][:3] == ["lines", 0, "quantity"]
    api.refused(
        "VR08", {**fire_request(uuid4()), "type": "request.teleported"}, 422, "unknown_event_type"
    )
    api.refused("VR08", {"type": "request.drafted"}, 422, "invalid_item")
    api.refused(
        "VR08", {**fire_request(uuid4()), "occurred_at": "2026-11-23T10:00:00"}, 422, "invalid_item"
    )
    api.refused("VR08", {**fire_request(uuid4()), "actor": "LOCC"}, 422, "invalid_item")
    api.refused(
        "VR08", {**fire_request(uuid4()), "message_id": "a\u0000b"}, 422, "invalid_characters"
    )
    huge = fire_request(uuid4())
    huge["data"]["title"] = "x" * (1024 * 1024 + 10)
    api.refused("VR08", huge, 413, "body_too_large")
    assert api.position() == before


def test_unauthenticated_and_revoked(api: Api) -> None:
    body = fire_request(uuid4())
    assert api.client.post("/v1/events", json=body).status_code == 401
    bad = api.client.post("/v1/events", json=body, headers={"Authorization": "Bearer mlob_x_y"})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "invalid_token"
    issued = api.service.issue_token(
        api_admin(), org="VR08", role="operator", clearance=Classification.UNCLASSIFIED
    )
    headers = {"Authorization": f"Bearer {issued.token}"}
    assert api.client.post("/v1/events", json=body, headers=headers).status_code == 201
    api.service.revoke_token(api_admin(), issued.token_id, "left the service")
    refused = api.client.post("/v1/events", json=fire_request(uuid4()), headers=headers)
    assert refused.status_code == 401


def api_admin():  # type: ignore[no-untyped-def]
    from tests.integration.api.conftest import ADMIN

    return ADMIN


def test_domain_refusal_gives_code_and_legal_source(api: Api) -> None:
    subject = uuid4()
    body = fire_request(subject)
    del body["authority"]
    assert api.post("VR08", body).status_code == 201
    mayor = {"body": "mayor", "of": "Nijmegen"}
    error = api.refused(
        "VR08", item("request.submitted", subject, authority=mayor), 422, "wrong_authority"
    )
    assert "art. 51 Wvr" in error["source"] and error["index"] == 0


def test_rights_cross_organisation_and_auditors(api: Api) -> None:
    subject = uuid4()
    assert api.post("VR08", fire_request(subject)).status_code == 201
    # Need to know: a request another region or a police unit is not involved in does not
    # exist for them (the same 404 as an unknown id, never a 403 that confirms it).
    api.refused(
        "VR07", item("request.submitted", subject, authority=chair("VR07")), 404, "unknown_subject"
    )
    api.refused("POL-ON", item("request.received", subject), 404, "unknown_subject")
    # Who sees it but may not take the step is told so: LOCC, and a region it concerns.
    api.refused(
        "LOCC",
        item("request.submitted", subject, authority=chair("VR08")),
        403,
        "step_not_permitted",
        role="coordinator",
    )
    shared = uuid4()
    body = fire_request(shared)
    body["data"]["lines"][0]["municipality"] = "Venlo"  # in VR23
    assert api.post("VR08", body).status_code == 201
    api.refused(
        "VR23", item("request.submitted", shared, authority=chair("VR23")), 403, "not_own_request"
    )
    api.refused("VR08", fire_request(uuid4(), region="VR08"), 403, "read_only_role", role="auditor")
    api.refused("VR07", fire_request(uuid4(), region="VR08"), 422, "wrong_authority")


def test_unknown_subject_is_404_and_version_conflict_409(api: Api) -> None:
    api.refused("LOCC", item("request.received", uuid4()), 404, "unknown_subject")
    subject = uuid4()
    assert api.post("VR08", fire_request(subject)).status_code == 201
    api.refused(
        "VR08",
        item("request.submitted", subject, authority=chair("VR08"), expected_version=5),
        409,
        "version_conflict",
    )
    ok = api.post(
        "VR08", item("request.submitted", subject, authority=chair("VR08"), expected_version=1)
    )
    assert ok.status_code == 201 and ok.json()["events"][0]["version"] == 2
    api.refused("VR08", fire_request(subject), 409, "subject_exists")


def test_batch_is_atomic(api: Api) -> None:
    subject = uuid4()
    good = [fire_request(subject), item("request.submitted", subject, authority=chair("VR08"))]
    bad = item("request.received", subject)  # VR08 is not the hub
    error = api.refused("VR08", {"items": [*good, bad]}, 403, "step_not_permitted")
    assert error["index"] == 2
    api.refused("VR08", {"items": []}, 422, "invalid_item")
    response = api.post("VR08", {"items": good})
    assert response.status_code == 201
    assert [e["version"] for e in response.json()["events"]] == [1, 2]
    dup = fire_request(uuid4())
    api.refused(
        "VR08",
        {"items": [dup, {**dup, "subject": str(uuid4())}]},
        422,
        "duplicate_message_in_batch",
    )


def test_server_sets_actor_and_threads_messages(api: Api) -> None:
    subject = uuid4()
    draft = fire_request(subject)
    submit = item("request.submitted", subject, authority=chair("VR08"))
    api.post("VR08", {"items": [draft, submit]})
    history = api.service.app.history(stream_id=subject)
    envelopes = [h.event.envelope for h in history]
    assert {e.actor.org for e in envelopes} == {"VR08"}
    assert envelopes[0].correlation_id == draft["message_id"] == envelopes[1].correlation_id
    assert envelopes[1].causation_id == draft["message_id"]


def test_classified_writes_need_clearance(api: Api) -> None:
    body = {**fire_request(uuid4()), "classification": "stg_geheim"}
    api.refused("VR08", body, 403, "classification_above_clearance")
    cleared = api.post("VR08", body, clearance=Classification.STATE_SECRET_SECRET)
    assert cleared.status_code == 201


def test_refusals_go_to_the_rejection_log_not_the_stream(api: Api) -> None:
    subject = uuid4()
    auditor = api.headers("INSP-JENV", "auditor")
    api.token("VR08")
    api.token("POL-ON")
    before = api.position()
    api.refused("POL-ON", item("request.received", subject), 404, "unknown_subject")
    api.refused("VR08", {**fire_request(uuid4()), "type": "nope"}, 422, "unknown_event_type")
    log = api.client.get("/v1/rejections", headers=auditor)
    assert log.status_code == 200 and log.json()["next"] is None
    rows = log.json()["items"]
    assert api.listed("/v1/rejections", auditor, {"limit": 1}) == rows  # page by page
    assert [(r["org"], r["code"]) for r in rows[-2:]] == [
        ("POL-ON", "unknown_subject"),
        ("VR08", "unknown_event_type"),
    ]
    assert rows[-2]["subject"] == str(subject) and rows[-2]["status"] == 404
    assert api.client.get("/v1/rejections", headers=api.headers("VR08")).status_code == 403
    assert api.position() == before
