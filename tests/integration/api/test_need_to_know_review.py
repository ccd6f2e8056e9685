"""What an independent attack on issue 16's change found (each failed before its fix)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import orjson

from domain.envelope import Classification
from tests.conftest import on_both_stores
from tests.integration.api.conftest import Api, item

pytestmark = on_both_stores

TOP = Classification.STATE_SECRET_TOP_SECRET
SECRET = Classification.STATE_SECRET_SECRET


def _incident(api: Api) -> str:
    subject = str(uuid4())
    body = item("incident.opened", uuid4(), {"title": "t", "regions": ["VR08"], "grip": "1"})
    body["subject"] = subject
    assert api.post("VR08", body).status_code == 201
    return subject


def test_a_classified_step_that_adds_a_region_does_not_let_it_act(api: Api) -> None:
    """VR05 is added to VR08's incident by a stg_geheim step: for an uncleared VR05 the
    incident does not exist, to act on as much as to read (it could post, then read it)."""
    subject = _incident(api)
    widened = item("incident.regions_changed", subject, {"regions": ["VR08", "VR05"]})
    widened["classification"] = SECRET.value
    assert api.post("VR08", widened, clearance=TOP).status_code == 201
    assert (
        api.client.get(f"/v1/incidents/{subject}", headers=api.headers("VR05")).status_code == 404
    )
    report = item("incident.situation_reported", subject, {"summary": "here"})
    api.refused("VR05", report, 404, "unknown_subject")
    assert (
        api.client.get(f"/v1/incidents/{subject}", headers=api.headers("VR05")).status_code == 404
    )
    # Cleared, VR05 is in it.
    assert api.post("VR05", report, clearance=SECRET).status_code == 201


def test_a_hidden_subject_is_not_read_before_it_is_refused(api: Api, monkeypatch: Any) -> None:
    """A hidden subject answers at a constant cost, as an unknown id does (no fold of its
    stream first: timing told them apart, 106 against 2 ms at 3,000 steps)."""
    subject = _incident(api)
    assert api.service.wait_for_views(api.position(), ["incidents"], 10)
    folded: list[Any] = []
    real = api.service.load_leveled
    monkeypatch.setattr(api.service, "load_leveled", lambda *a: folded.append(a) or real(*a))
    other = api.headers("VR05")
    for path in (f"/v1/incidents/{subject}", f"/v1/incidents/{subject}/timeline"):
        assert api.client.get(path, headers=other).status_code == 404, path
    assert folded == []
    assert (
        api.client.get(f"/v1/incidents/{subject}", headers=api.headers("VR08")).status_code == 200
    )


def test_token_events_in_the_history_are_for_their_managers_and_auditors(api: Api) -> None:
    """Tokens are audited history, but only their organisation's administrators and the
    national auditors cleared for them see them, and never a secret's hash."""
    api.token("VR08", "operator", TOP)  # a stg_zeer_geheim token of VR08

    def tokens_seen(org: str, role: str, clearance: Classification) -> list[dict[str, Any]]:
        answer = api.client.get(
            "/v1/history",
            params={"format": "jsonl"},
            headers=api.headers(org, role, clearance=clearance),
        )
        assert answer.status_code == 200, answer.text
        events = [orjson.loads(line) for line in answer.text.splitlines()]
        return [e for e in events if e["type"].startswith("token.")]

    assert tokens_seen("VR08", "coordinator", TOP) == []
    assert tokens_seen("LOCC", "coordinator", TOP) == []
    assert not any(
        e["data"]["clearance"] == TOP.value for e in tokens_seen("VR08", "admin", SECRET)
    )
    seen = tokens_seen("INSP-JENV", "auditor", TOP)
    assert any(e["data"]["org"] == "VR08" and e["data"]["clearance"] == TOP.value for e in seen)
    assert all("secret_hash" not in e["data"] for e in seen)


def test_a_client_correlation_never_tells_of_another_subject(api: Api) -> None:
    """A correlation the client chose, naming another subject's message, is shown as posted
    without saying whose it is (it resolved to the other organisation), and never names a
    message above the reader's clearance."""
    theirs = _incident(api)
    [opened] = [
        orjson.loads(line)
        for line in api.client.get(
            "/v1/history",
            params={"stream": theirs, "format": "jsonl"},
            headers=api.headers("INSP-JENV", "auditor", clearance=TOP),
        ).text.splitlines()
    ]
    mine = str(uuid4())
    body = item("incident.opened", uuid4(), {"title": "m", "regions": ["VR05"], "grip": "1"})
    body.update(subject=mine, correlation_id=opened["message_id"])
    assert api.post("VR05", body).status_code == 201
    timeline = api.client.get(
        f"/v1/incidents/{mine}/timeline", headers=api.headers("VR05", "coordinator")
    )
    [step] = timeline.json()["events"]
    assert step["correlation"] == {"org": None, "message_id": opened["message_id"]}
