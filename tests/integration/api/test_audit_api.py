"""Auditors' reads on both stores: the history in pages and as JSON Lines with filters, and
timelines with step durations and refused attempts alongside."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import orjson

from api import paging
from domain.envelope import Classification
from tests.conftest import on_both_stores
from tests.integration.api.conftest import Api, chair, fire_request, item

pytestmark = on_both_stores

AUDITOR = {"clearance": Classification.STATE_SECRET_SECRET}


def history(api: Api, **params: object) -> list[dict]:
    """The export (``format=jsonl``); without a ``limit``, walked in pages of two as well,
    which must give the same events (each once, in order)."""
    headers = api.headers("INSP-JENV", "auditor", **AUDITOR)
    response = api.client.get("/v1/history", params={**params, "format": "jsonl"}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    exported = [orjson.loads(line) for line in response.text.splitlines()]
    if "limit" not in params:
        assert pages(api, headers, **params, limit=2) == exported
    return exported


def pages(api: Api, headers: dict[str, str], **params: object) -> list[dict]:
    """Every page of the history, following ``next`` with the same filters."""
    found: list[dict] = []
    cursor = None
    while True:
        asked = {**params, **({"cursor": cursor} if cursor else {})}
        response = api.client.get("/v1/history", params=asked, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"items", "next"}
        assert len(body["items"]) <= int(str(params.get("limit", paging.DEFAULT_LIMIT)))
        found += body["items"]
        if body["next"] is None:
            return found
        cursor = body["next"]


def test_history_is_for_auditors_and_filters(api: Api) -> None:
    flood, drill = uuid4(), uuid4()
    assert (
        api.post(
            "VR08",
            item("incident.opened", flood, {"title": "flood", "regions": ["VR08"], "grip": "2"}),
        ).status_code
        == 201
    )
    assert (
        api.post(
            "VR23",
            {
                **item(
                    "incident.opened", drill, {"title": "drill", "regions": ["VR23"], "grip": "1"}
                ),
                "exercise": True,
            },
        ).status_code
        == 201
    )
    assert api.client.get("/v1/history", headers=api.headers("VR08")).status_code == 403

    real = {e["stream_id"] for e in history(api)}  # real only by default
    assert str(flood) in real and str(drill) not in real
    everything = history(api, exercise="all")
    positions = [e["position"] for e in everything]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    opened = [e for e in everything if e["type"] == "incident.opened"]
    assert [e["stream_id"] for e in opened] == [str(flood), str(drill)]
    assert opened[0]["actor"] == {"org": "VR08", "role": "operator", "person": None}
    assert opened[0]["data"]["title"] == "flood" and opened[0]["recorded_at"]

    assert history(api, stream=str(drill)) == []  # an exercise: not in the real history
    assert [e["stream_id"] for e in history(api, stream=str(drill), exercise="all")] == [str(drill)]
    assert [
        e["stream_id"] for e in history(api, org="VR23", type="incident.opened", exercise="true")
    ] == [str(drill)]
    assert [e["stream_id"] for e in history(api, exercise=True)] == [str(drill)]
    after = opened[0]["position"]
    assert history(api, after=after, limit=1)[0]["position"] > after
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert history(api, occurred_from=future) == []
    naive = api.client.get(
        "/v1/history",
        params={"occurred_from": "2026-01-01T00:00:00"},
        headers=api.headers("INSP-JENV", "auditor"),
    )
    assert naive.status_code == 422, "a time without its zone is refused, not guessed"


def test_classified_events_stay_out_of_an_uncleared_history(api: Api) -> None:
    secret = uuid4()
    body = {
        **item("incident.opened", secret, {"title": "covert", "regions": ["VR08"], "grip": "1"}),
        "classification": "stg_confidentieel",
    }
    assert (
        api.post("VR08", body, clearance=Classification.STATE_SECRET_CONFIDENTIAL).status_code
        == 201
    )
    plain = api.client.get("/v1/history", headers=api.headers("INSP-JENV", "auditor"))
    assert str(secret) not in plain.text
    assert (
        str(secret)
        in api.client.get(
            "/v1/history", headers=api.headers("INSP-JENV", "auditor", **AUDITOR)
        ).text
    )


def test_a_request_timeline_with_durations_and_refusals(api: Api) -> None:
    subject = uuid4()
    start = datetime.now(UTC) - timedelta(hours=3)

    def at(minutes: float) -> str:
        return (start + timedelta(minutes=minutes)).isoformat()

    assert api.post("VR08", fire_request(subject, occurred_at=at(0))).status_code == 201
    assert (
        api.post(
            "VR08", item("request.submitted", subject, authority=chair("VR08"), occurred_at=at(5))
        ).status_code
        == 201
    )
    # A refused attempt: VR08 may not receive it (only the hub does).
    api.refused("VR08", item("request.received", subject), 403, "step_not_permitted")
    # Another region does not even learn that the request exists (need to know).
    api.refused("VR23", item("request.received", subject), 404, "unknown_subject")
    assert (
        api.post(
            "LOCC", item("request.received", subject, occurred_at=at(20)), role="coordinator"
        ).status_code
        == 201
    )
    assert (
        api.post(
            "LOCC",
            item(
                "request.assessed", subject, {"forward": True, "findings": "ok"}, occurred_at=at(80)
            ),
            role="coordinator",
        ).status_code
        == 201
    )

    response = api.client.get(
        f"/v1/requests/{subject}/timeline", headers=api.headers("INSP-JENV", "auditor")
    )
    assert response.status_code == 200, response.text
    timeline = response.json()
    steps = [e["type"] for e in timeline["events"]]
    assert steps == ["request.drafted", "request.submitted", "request.received", "request.assessed"]
    assert [e["seconds_since_previous_step"] for e in timeline["events"]] == [
        None,
        300.0,
        900.0,
        3600.0,
    ]
    assert timeline["events"][1]["authority"]["body"] == "chair_safety_region"
    assert all(e["recording_delay_seconds"] > 0 for e in timeline["events"])
    durations = {(d["from"], d["to"]): d["seconds"] for d in timeline["durations"]}
    assert durations == {("submitted", "received"): 900.0, ("received", "assessed"): 3600.0}
    refused = [(r["org"], r["code"], r["refused"]) for r in timeline["refused"]]
    assert refused == [("VR08", "step_not_permitted", True), ("VR23", "unknown_subject", True)]
    # A requester sees its own request's steps, not the refusal log.
    own = api.client.get(f"/v1/requests/{subject}/timeline", headers=api.headers("VR08")).json()
    assert len(own["events"]) == 4 and own["refused"] == []
    missing = api.client.get(f"/v1/requests/{uuid4()}/timeline", headers=api.headers("VR08"))
    assert missing.status_code == 404


def test_incident_and_capacity_timelines(api: Api) -> None:
    incident, capacity = uuid4(), uuid4()
    api.post(
        "VR08", item("incident.opened", incident, {"title": "x", "regions": ["VR08"], "grip": "1"})
    )
    api.post("VR08", item("incident.grip_changed", incident, {"grip": "3"}))
    api.post(
        "VR07",
        item("capacity.registered", capacity, {"capability": "FIRE_WATER_SUPPLY", "quantity": 2}),
    )
    headers = api.headers("INSP-JENV", "auditor")
    got = api.client.get(f"/v1/incidents/{incident}/timeline", headers=headers).json()
    assert [e["data"].get("grip") for e in got["events"]] == ["1", "3"]
    got = api.client.get(f"/v1/capacities/{capacity}/timeline", headers=headers).json()
    assert got["events"][0]["data"]["quantity"] == 2 and got["durations"] == []


def test_classification_of_steps_and_subjects_in_history_and_timelines(api: Api) -> None:
    cleared = {"clearance": Classification.STATE_SECRET_CONFIDENTIAL}
    secret, open_incident = uuid4(), uuid4()
    assert (
        api.post(
            "VR08",
            {
                **item(
                    "incident.opened", secret, {"title": "covert", "regions": ["VR08"], "grip": "1"}
                ),
                "classification": "stg_confidentieel",
            },
            **cleared,
        ).status_code
        == 201
    )
    assert (
        api.post(
            "VR08", item("incident.grip_changed", secret, {"grip": "2"}), **cleared
        ).status_code
        == 201
    )
    assert (
        api.post(
            "VR08",
            item(
                "incident.opened",
                open_incident,
                {"title": "open", "regions": ["VR08"], "grip": "1"},
            ),
        ).status_code
        == 201
    )
    assert (
        api.post(
            "VR08",
            {
                **item("incident.situation_reported", open_incident, {"summary": "secret detail"}),
                "classification": "stg_confidentieel",
            },
            **cleared,
        ).status_code
        == 201
    )
    plain = api.headers("INSP-JENV", "auditor")
    history_text = api.client.get("/v1/history", headers=plain).text
    assert str(secret) not in history_text, "a plain step on a classified subject stays hidden"
    assert "secret detail" not in history_text
    timeline = api.client.get(f"/v1/incidents/{open_incident}/timeline", headers=plain).json()
    assert "secret detail" not in str(timeline) and len(timeline["events"]) == 1


def test_the_history_of_a_narrow_reader_replays_no_subject(api: Api, monkeypatch: Any) -> None:
    """Who may see which step of a history is read from the index and the projections' rows,
    not by replaying each subject it passes (a history of a million events would replay them
    all for every reader below the highest clearance)."""
    mine = [item("incident.opened", uuid4(), {"title": "m", "regions": ["VR08"], "grip": "1"})]
    theirs = [item("incident.opened", uuid4(), {"title": "t", "regions": ["VR23"], "grip": "1"})]
    assert api.post("VR08", {"items": mine}).status_code == 201
    assert api.post("VR23", {"items": theirs}).status_code == 201
    assert api.service.wait_for_views(api.position(), ["incidents"], 10)
    folded: list[Any] = []
    real = api.service.load_leveled
    monkeypatch.setattr(api.service, "load_leveled", lambda *a: folded.append(a) or real(*a))
    for org, role in (("VR08", "coordinator"), ("INSP-JENV", "auditor")):
        seen = pages(api, api.headers(org, role))
        streams = {e["stream_id"] for e in seen if e["type"] == "incident.opened"}
        expected = {mine[0]["subject"]} | ({theirs[0]["subject"]} if org != "VR08" else set())
        assert streams == expected, org
    # Only tokens (two events each) are folded, never a subject of the projections.
    subjects = {mine[0]["subject"], theirs[0]["subject"]}
    assert folded and not {str(subject) for _, subject in folded} & subjects
