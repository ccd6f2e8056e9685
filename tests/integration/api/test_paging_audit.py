"""The auditors' lists in pages (issue 21): the history, the timelines and their refused
attempts, on SQLite and PostgreSQL; bounded in what one page reads and decodes, the policy
asked for every item."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from api import audit, history, paging
from domain.envelope import Classification
from tests.conftest import on_both_stores
from tests.integration.api.conftest import Api, chair, fire_request, item

pytestmark = on_both_stores

AUDITOR = {"clearance": Classification.STATE_SECRET_SECRET}
START = datetime.now(UTC) - timedelta(hours=3)


def at(minutes: float) -> str:
    return (START + timedelta(minutes=minutes)).isoformat()


def assessed_request(api: Api) -> UUID:
    """A request drafted, submitted, received and assessed: four steps, minutes apart."""
    subject = uuid4()
    assert api.post("VR08", fire_request(subject, occurred_at=at(0))).status_code == 201
    submitted = item("request.submitted", subject, authority=chair("VR08"), occurred_at=at(5))
    assert api.post("VR08", submitted).status_code == 201
    for step, data, minutes in (
        ("request.received", {}, 20),
        ("request.assessed", {"forward": True, "findings": "ok"}, 80),
    ):
        answer = api.post(
            "LOCC", item(step, subject, data, occurred_at=at(minutes)), role="coordinator"
        )
        assert answer.status_code == 201, answer.text
    return subject


def get(api: Api, path: str, headers: dict[str, str], **params: Any) -> Any:
    response = api.client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def timeline_pages(api: Api, path: str, headers: dict[str, str], limit: int) -> list[Any]:
    pages = [get(api, path, headers, limit=limit)]
    while pages[-1]["next"] is not None:
        pages.append(get(api, path, headers, limit=limit, cursor=pages[-1]["next"]))
    return pages


def decoded(api: Api, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The positions the service decodes from now on (``logged_at``); a read of a whole
    stream (``stream_events``) fails."""
    seen: list[int] = []
    real = api.service.logged_at

    def counted(positions: Any) -> Any:
        seen.extend(positions)
        return real(positions)

    def whole(*args: Any) -> Any:
        raise AssertionError("a timeline decoded its whole stream")

    monkeypatch.setattr(api.service, "logged_at", counted)
    monkeypatch.setattr(api.service, "stream_events", whole)
    return seen


def test_a_timeline_pages_its_steps_and_keeps_the_durations_of_the_whole(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    subject = assessed_request(api)
    auditor = api.headers("INSP-JENV", "auditor")
    path = f"/v1/requests/{subject}/timeline"
    whole = get(api, path, auditor, limit=500)
    assert len(whole["events"]) == 4 and whole["next"] is None
    pages = timeline_pages(api, path, auditor, limit=1)
    assert len(pages) == 4 and [len(p["events"]) for p in pages] == [1, 1, 1, 1]
    assert [e for p in pages for e in p["events"]] == whole["events"]
    # The time since the step before crosses pages; the durations are the whole timeline's.
    assert [p["events"][0]["seconds_since_previous_step"] for p in pages] == [
        None,
        300.0,
        900.0,
        3600.0,
    ]
    assert all(p["durations"] == whole["durations"] for p in pages)
    assert {(d["from"], d["to"]) for d in whole["durations"]} == {
        ("submitted", "received"),
        ("received", "assessed"),
    }
    # A cursor holds for its own subject's timeline only.
    other = assessed_request(api)
    for wrong in (f"/v1/requests/{other}/timeline", "/v1/requests", "/v1/rejections"):
        refused = api.client.get(wrong, params={"cursor": pages[0]["next"]}, headers=auditor)
        assert refused.status_code == 400, wrong
        assert refused.json()["error"]["code"] == "invalid_cursor"
    # An incident's page decodes its own steps only (no durations to compute).
    incident = uuid4()
    opened = {"title": "x", "regions": ["VR08"], "grip": "1"}
    api.post("VR08", item("incident.opened", incident, opened))
    for grip in ("2", "3"):
        api.post("VR08", item("incident.grip_changed", incident, {"grip": grip}))
    seen = decoded(api, monkeypatch)
    page = get(api, f"/v1/incidents/{incident}/timeline", auditor, limit=1)
    assert [e["data"].get("grip") for e in page["events"]] == ["1"]
    assert seen == [page["events"][0]["position"]]


def test_a_timeline_page_leaves_out_steps_above_the_readers_clearance(api: Api) -> None:
    incident = uuid4()
    cleared = {"clearance": Classification.STATE_SECRET_CONFIDENTIAL}
    api.post(
        "VR08", item("incident.opened", incident, {"title": "o", "regions": ["VR08"], "grip": "1"})
    )
    secret = {
        **item("incident.situation_reported", incident, {"summary": "secret detail"}),
        "classification": "stg_confidentieel",
    }
    assert api.post("VR08", secret, **cleared).status_code == 201
    api.post("VR08", item("incident.grip_changed", incident, {"grip": "2"}))
    path = f"/v1/incidents/{incident}/timeline"
    plain = timeline_pages(api, path, api.headers("INSP-JENV", "auditor"), limit=1)
    assert len(plain) == 2 and "secret detail" not in str(plain)
    high = api.headers("INSP-JENV", "auditor", **cleared)
    assert len(timeline_pages(api, path, high, limit=1)) == 3


def test_refused_attempts_beyond_the_timelines_share_page_on_in_the_rejection_log(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    subject = assessed_request(api)
    for _ in range(3):
        api.refused("VR08", item("request.received", subject), 403, "step_not_permitted")
    api.refused("VR08", item("request.received", uuid4()), 404, "unknown_subject")
    auditor = api.headers("INSP-JENV", "auditor")
    monkeypatch.setattr(audit, "REFUSED_MAX", 2)
    timeline = get(api, f"/v1/requests/{subject}/timeline", auditor)
    assert len(timeline["refused"]) == 2 and timeline["refused_next"] is not None
    rest = get(
        api, "/v1/rejections", auditor, subject=str(subject), cursor=timeline["refused_next"]
    )
    assert len(rest["items"]) == 1 and rest["next"] is None
    every = api.listed("/v1/rejections", auditor, {"subject": str(subject), "limit": 1})
    assert [r["id"] for r in every] == [r["id"] for r in timeline["refused"] + rest["items"]]
    assert all(r["subject"] == str(subject) for r in every)
    # The cursor is the subject's: without that filter it is refused.
    moved = api.client.get(
        "/v1/rejections", params={"cursor": timeline["refused_next"]}, headers=auditor
    )
    assert moved.status_code == 400 and moved.json()["error"]["code"] == "invalid_cursor"


def walk(api: Api, headers: dict[str, str], **params: Any) -> tuple[list[Any], int]:
    """Every item of the history's pages, and how many pages it took."""
    found, count, cursor = [], 0, None
    while True:
        body = get(api, "/v1/history", headers, **params, **({"cursor": cursor} if cursor else {}))
        found += body["items"]
        count += 1
        cursor = body["next"]
        if cursor is None:
            return found, count


def export(api: Api, headers: dict[str, str], **params: Any) -> list[Any]:
    import orjson

    response = api.client.get("/v1/history", params={**params, "format": "jsonl"}, headers=headers)
    assert response.status_code == 200, response.text
    return [orjson.loads(line) for line in response.text.splitlines()]


def test_a_history_page_looks_at_a_bounded_stretch_of_the_log(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(4):
        region = "VR08" if n % 2 else "VR23"
        opened = {"title": f"i{n}", "regions": [region], "grip": "1"}
        assert api.post(region, item("incident.opened", uuid4(), opened)).status_code == 201
    assert api.service.wait_for_views(api.position(), ["incidents"], 10)
    narrow = api.headers("VR08", "coordinator")
    everything = export(api, narrow)
    assert everything and all(
        e["actor"]["org"] == "VR08" for e in everything if e["type"] == "incident.opened"
    )
    monkeypatch.setattr(history, "WINDOW", 2)
    seen = decoded(api, monkeypatch)
    found, count = walk(api, narrow, limit=50)
    # The same events, over more pages than they fill (some pages hold none).
    assert found == everything and count > len(everything) // 50 + 1
    # Nothing is decoded that the reader is not answered.
    assert sorted(seen) == [e["position"] for e in everything]


def test_a_selective_history_filter_decodes_only_what_it_answers(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    subject = assessed_request(api)
    for n in range(3):
        api.post(
            "VR23",
            item("incident.opened", uuid4(), {"title": f"{n}", "regions": ["VR23"], "grip": "1"}),
        )
    auditor = api.headers("INSP-JENV", "auditor", **AUDITOR)
    seen = decoded(api, monkeypatch)
    found, _ = walk(api, auditor, stream=str(subject), limit=3)
    assert [e["version"] for e in found] == [1, 2, 3, 4]
    assert sorted(seen) == [e["position"] for e in found]
    seen.clear()
    found, _ = walk(api, auditor, org="VR23", type="incident.opened")
    assert len(found) == 3 and sorted(seen) == [e["position"] for e in found]


def test_a_history_page_is_clamped_and_its_cursor_bound_to_the_filters(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    assessed_request(api)
    auditor = api.headers("INSP-JENV", "auditor", **AUDITOR)
    monkeypatch.setattr(paging, "MAX_LIMIT", 3)  # the clamp, without 501 events
    first = get(api, "/v1/history", auditor, limit=100_000)
    assert len(first["items"]) == 3 and first["next"] is not None
    assert get(api, "/v1/history", auditor, limit=100_000, cursor=first["next"])["items"]
    for changed in (
        {"org": "VR08"},
        {"exercise": "all"},
        {"after": 1},
        {"type": "request.drafted"},
    ):
        refused = api.client.get(
            "/v1/history", params={**changed, "cursor": first["next"]}, headers=auditor
        )
        assert refused.status_code == 400, changed
        assert refused.json()["error"]["code"] == "invalid_cursor"
    for bad in (0, -1):
        assert (
            api.client.get("/v1/history", params={"limit": bad}, headers=auditor).status_code == 422
        )
