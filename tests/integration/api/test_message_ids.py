"""Issue 16, defect 10: message ids are each organisation's own; rights come before a replay;
a reused id of a message above the sender's clearance says nothing of it. Each failed on
72956bf (one namespace for all organisations)."""

from __future__ import annotations

from uuid import uuid4

from domain.envelope import Classification
from tests.conftest import on_both_stores
from tests.integration.api.conftest import Api, fire_request

pytestmark = on_both_stores

SECRET = Classification.STATE_SECRET_SECRET


def test_another_organisation_cannot_squat_a_message_id(api: Api) -> None:
    squatted = fire_request(uuid4(), region="VR23", message_id="vr08-2026-0042")
    squatted["data"]["lines"][0]["municipality"] = "Venlo"
    assert api.post("VR23", squatted).status_code == 201
    real = fire_request(uuid4(), message_id="vr08-2026-0042")
    answer = api.post("VR08", real)
    assert answer.status_code == 201, answer.text
    [event] = answer.json()["events"]
    assert (event["org"], event["message_id"]) == ("VR08", "vr08-2026-0042")
    again = api.post("VR08", real)
    assert again.status_code == 201 and again.json()["replayed"] is True
    assert again.json()["events"] == answer.json()["events"]


def test_a_read_only_token_gets_no_replay(api: Api) -> None:
    body = fire_request(uuid4())
    assert api.post("VR08", body).status_code == 201
    for role in ("viewer", "auditor", "admin"):
        api.refused("VR08", body, 403, "read_only_role", role=role)


def test_a_reused_id_says_nothing_of_a_message_above_the_senders_clearance(api: Api) -> None:
    secret = {**fire_request(uuid4(), message_id="m-1"), "classification": SECRET.value}
    assert api.post("VR08", secret, clearance=SECRET).status_code == 201
    other = fire_request(uuid4(), message_id="m-1")
    error = api.refused("VR08", other, 409, "not_possible_now")
    assert "m-1" not in error["reason"]
    # Cleared for it, the sender learns that the id was used with other content.
    api.refused("VR08", other, 409, "message_id_reused", clearance=SECRET)
