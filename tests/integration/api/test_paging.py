"""Lists in pages (issue 21): ``{"items", "next"}``, filtered and ordered in the store, the
reader's scope preselected in SQL and judged again by the policy; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pytest

from api import paging
from api.errors import ApiError
from domain.envelope import Classification
from tests.conftest import on_both_stores
from tests.integration.api.conftest import Api, chair, fire_request, item

pytestmark = on_both_stores

#: When the requests' steps happened: one minute apart, so the order is known.
START = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)


def draft(api: Api, region: str, n: int, title: str = "pumps", **kw: Any) -> UUID:
    """A request drafted by ``region``'s chair, its status changed ``n`` minutes after START
    (in another zone than UTC: the order is by the moment, not by its text)."""
    subject = uuid4()
    body = fire_request(subject, region=region, **kw)
    zone = timezone(timedelta(hours=1)) if n % 2 else UTC
    body["occurred_at"] = (START + timedelta(minutes=n)).astimezone(zone).isoformat()
    body["data"]["title"] = title
    if region == "VR23":
        body["data"]["lines"][0]["municipality"] = "Venlo"
    api.accepted(region, body)
    return subject


def page(api: Api, path: str, headers: dict[str, str], **params: Any) -> Any:
    # After the projections have what was posted (they run in their own thread).
    params = {"min_position": api.position(), "wait": 10, **params}
    response = api.client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def walk(api: Api, path: str, headers: dict[str, str], **params: Any) -> list[str]:
    """The ids of every page, in order, following ``next`` with the same filters."""
    ids: list[str] = []
    body = page(api, path, headers, **params)
    while True:
        ids += [i["id"] for i in body["items"]]
        if body["next"] is None:
            return ids
        body = page(api, path, headers, **params, cursor=body["next"])


def test_walking_the_pages_gives_every_row_once_newest_status_change_first(api: Api) -> None:
    made = [draft(api, "VR08" if n % 3 else "VR23", n) for n in range(7)]
    locc = api.headers("LOCC", "coordinator")
    now = {"min_position": api.position()}
    first = page(api, "/v1/requests", locc, limit=3, **now)
    assert set(first) == {"items", "next"} and len(first["items"]) == 3
    assert first["next"] is not None
    newest_first = [str(s) for s in reversed(made)]
    assert walk(api, "/v1/requests", locc, limit=3, **now) == newest_first
    assert walk(api, "/v1/requests", locc, limit=7, **now) == newest_first
    assert page(api, "/v1/requests", locc, limit=7, **now)["next"] is None
    # A filter holds on every page.
    vr23 = [str(s) for n, s in reversed(list(enumerate(made))) if n % 3 == 0]
    assert walk(api, "/v1/requests", locc, limit=1, region="VR23", **now) == vr23


def test_a_regional_reader_paging_sees_all_its_own_and_nothing_of_another_region(
    api: Api,
) -> None:
    made = {n: draft(api, "VR08" if n % 2 else "VR23", n) for n in range(8)}
    now = {"min_position": api.position()}
    for reader, own in (("VR08", 1), ("VR23", 0)):
        headers = api.headers(reader)
        seen = walk(api, "/v1/requests", headers, limit=1, **now)
        wanted = [str(made[n]) for n in sorted(made, reverse=True) if n % 2 == own]
        assert seen == wanted, reader
        # The same with a filter naming the other region: nothing (never another's rows).
        other = "VR23" if reader == "VR08" else "VR08"
        assert walk(api, "/v1/requests", headers, limit=2, region=other, **now) == []
    # A provider not involved sees none of them; a national reader all of them.
    assert walk(api, "/v1/requests", api.headers("DEF-DOPS"), limit=3, **now) == []
    everything = walk(api, "/v1/requests", api.headers("LOCC", "viewer"), limit=3, **now)
    assert sorted(everything) == sorted(str(s) for s in made.values())


def test_a_classified_request_is_listed_only_for_the_cleared(api: Api) -> None:
    plain = draft(api, "VR08", 1)
    secret = uuid4()
    body = {**fire_request(secret), "classification": "stg_confidentieel"}
    api.accepted("VR08", body, clearance=Classification.STATE_SECRET_CONFIDENTIAL)
    now = {"min_position": api.position()}
    uncleared = walk(api, "/v1/requests", api.headers("VR08"), limit=1, **now)
    assert uncleared == [str(plain)]
    cleared = api.headers("VR08", clearance=Classification.STATE_SECRET_CONFIDENTIAL)
    assert set(walk(api, "/v1/requests", cleared, limit=1, **now)) == {str(plain), str(secret)}


def test_a_cursor_holds_only_for_the_filters_it_was_given_for(api: Api) -> None:
    for n in range(3):
        draft(api, "VR08", n)
    locc = api.headers("LOCC", "coordinator")
    first = page(api, "/v1/requests", locc, limit=1, region="VR08")
    cursor = first["next"]
    assert cursor is not None
    same = page(api, "/v1/requests", locc, limit=1, region="VR08", cursor=cursor)
    assert same["items"][0]["id"] != first["items"][0]["id"]
    # Another limit is the same list: a client may ask bigger pages as it goes.
    assert page(api, "/v1/requests", locc, limit=5, region="VR08", cursor=cursor)["items"]
    for changed in (
        {"region": "VR23"},
        {},
        {"region": "VR08", "status": "draft"},
        {"region": "VR08", "exercise": "all"},
        {"region": "VR08", "q": "pumps"},
    ):
        refused = api.client.get("/v1/requests", params={**changed, "cursor": cursor}, headers=locc)
        assert refused.status_code == 400, changed
        error = refused.json()["error"]
        assert error["code"] == "invalid_cursor" and "filters" in error["reason"]
    # Another list's cursor, and what is no cursor at all.
    for path, bad in (
        ("/v1/incidents", cursor),
        ("/v1/requests", "bm90IGEgY3Vyc29y"),
        ("/v1/requests", "%%%"),
    ):
        refused = api.client.get(path, params={"cursor": bad}, headers=locc)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_cursor"


def test_a_limit_above_the_most_is_clamped_and_below_one_refused(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(4):
        draft(api, "VR08", n)
    locc = api.headers("LOCC", "coordinator")
    now = {"min_position": api.position()}
    assert len(page(api, "/v1/requests", locc, limit=100_000, **now)["items"]) == 4
    monkeypatch.setattr(paging, "MAX_LIMIT", 3)  # the clamp, without 501 requests
    clamped = page(api, "/v1/requests", locc, limit=100_000, **now)
    assert len(clamped["items"]) == 3 and clamped["next"] is not None
    assert len(page(api, "/v1/requests", locc, **now)["items"]) == 3
    for bad in (0, -1):
        refused = api.client.get("/v1/requests", params={"limit": bad}, headers=locc)
        assert refused.status_code == 422, bad
        assert refused.json()["error"]["code"] == "invalid_request"


def test_q_finds_a_request_by_its_title_or_message_id(api: Api) -> None:
    dyke = draft(api, "VR08", 1, title="Dijkbewaking Waalbandijk")
    pumps = draft(api, "VR08", 2, title="Pompen 100% capaciteit")
    message = "vr08-2026-0042"
    tagged = uuid4()
    body = fire_request(tagged, message_id=message)
    body["data"]["title"] = "zandzakken"
    api.accepted("VR08", body)
    locc = api.headers("LOCC", "coordinator")
    now = {"min_position": api.position()}

    def found(q: str) -> list[str]:
        return walk(api, "/v1/requests", locc, limit=1, q=q, **now)

    assert found("waalbandijk") == [str(dyke)]  # a part of the title, in any case
    assert found("DIJK") == [str(dyke)]
    assert found("100%") == [str(pumps)]  # % and _ are text, not wildcards
    assert found("0%") == [str(pumps)]
    assert found("_") == []
    assert found(message) == [str(tagged)]
    assert found("no such thing") == []
    # The scope still holds: VR23 finds no VR08 request by its title or message id.
    vr23 = api.headers("VR23")
    assert walk(api, "/v1/requests", vr23, q="Dijk", **now) == []
    assert walk(api, "/v1/requests", vr23, q=message, **now) == []
    assert api.client.get("/v1/requests", params={"q": ""}, headers=locc).status_code == 422


def test_a_message_id_of_a_step_above_the_readers_clearance_finds_nothing(api: Api) -> None:
    subject = uuid4()
    api.accepted("VR08", fire_request(subject))
    hidden = "vr08-secret-step"
    step = item(
        "request.submitted",
        subject,
        message_id=hidden,
        classification="stg_confidentieel",
        authority={"body": "chair_safety_region", "of": "VR08", "capacity": "namens"},
    )
    api.accepted("VR08", step, clearance=Classification.STATE_SECRET_CONFIDENTIAL)
    now = {"min_position": api.position()}
    plain = api.headers("LOCC", "coordinator")
    assert walk(api, "/v1/requests", plain, q=hidden, **now) == []
    cleared = api.headers("LOCC", "coordinator", clearance=Classification.STATE_SECRET_CONFIDENTIAL)
    assert walk(api, "/v1/requests", cleared, q=hidden, **now) == [str(subject)]


def test_incidents_and_capacities_page_with_their_filters(api: Api) -> None:
    for title in ("Hoogwater Maas", "Brand Moerdijk", "Storm"):
        api.accepted(
            "VR08",
            item("incident.opened", uuid4(), {"title": title, "regions": ["VR08"], "grip": "2"}),
        )
    made = {}
    for provider, capability in (
        ("VR07", "FIRE_WATER_SUPPLY"),
        ("VR09", "FIRE_WATER_SUPPLY"),
        ("VR07", "FIRE_FLOOD_RESCUE"),
    ):
        subject = uuid4()
        api.accepted(
            provider,
            item("capacity.registered", subject, {"capability": capability, "quantity": 1}),
        )
        made[(provider, capability)] = str(subject)
    locc = api.headers("LOCC", "viewer")
    now = {"min_position": api.position()}
    incidents = api.listed("/v1/incidents", locc, {"limit": 1, **now})
    assert [i["title"] for i in incidents] == ["Brand Moerdijk", "Hoogwater Maas", "Storm"]
    assert walk(api, "/v1/capacities", locc, limit=1, **now) == [
        made[("VR07", "FIRE_FLOOD_RESCUE")],
        made[("VR07", "FIRE_WATER_SUPPLY")],
        made[("VR09", "FIRE_WATER_SUPPLY")],
    ]
    water = {"capability": "FIRE_WATER_SUPPLY", "limit": 1, **now}
    assert walk(api, "/v1/capacities", locc, **water) == [
        made[("VR07", "FIRE_WATER_SUPPLY")],
        made[("VR09", "FIRE_WATER_SUPPLY")],
    ]
    assert walk(
        api, "/v1/capacities", locc, provider="VR07", capability="FIRE_FLOOD_RESCUE", **now
    ) == [made[("VR07", "FIRE_FLOOD_RESCUE")]]
    # A provider lists its own capacities only.
    assert set(walk(api, "/v1/capacities", api.headers("VR09"), limit=1, **now)) == {
        made[("VR09", "FIRE_WATER_SUPPLY")]
    }


def test_a_request_detail_loads_one_aggregate_and_no_list(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    subject = draft(api, "VR08", 1)
    for n in range(3):
        draft(api, "VR08", n + 2)
    api.client.get(
        "/v1/requests", params={"min_position": api.position()}, headers=api.headers("VR08")
    )
    loaded: list[Any] = []
    service = api.service
    real = service.load_leveled

    def counted(cls: type[Any], stream: UUID) -> Any:
        loaded.append(stream)
        return real(cls, stream)

    def no_list(*args: Any, **kw: Any) -> Any:
        raise AssertionError("a detail read a whole list")

    monkeypatch.setattr(service, "load_leveled", counted)
    monkeypatch.setattr(service, "view_rows", no_list)
    monkeypatch.setattr(service, "view_page", no_list)
    answer = api.client.get(f"/v1/requests/{subject}", headers=api.headers("VR08"))
    assert answer.status_code == 200 and answer.json()["id"] == str(subject)
    assert loaded == [subject]


def test_the_rejection_log_pages_oldest_first_within_the_readers_scope(api: Api) -> None:
    auditor = api.headers("INSP-JENV", "auditor")
    vr08 = api.headers("VR08", "auditor")
    api.token("VR08")
    api.token("VR23")
    for n in range(3):
        api.refused(
            "VR08", {**fire_request(uuid4()), "type": f"nope{n}"}, 422, "unknown_event_type"
        )
        api.refused(
            "VR23", {**fire_request(uuid4(), region="VR23"), "type": "x"}, 422, "unknown_event_type"
        )
    everything = api.listed("/v1/rejections", auditor, {"limit": 500})
    assert [r["org"] for r in everything] == ["VR08", "VR23"] * 3
    assert [r["id"] for r in everything] == sorted(r["id"] for r in everything)
    assert api.listed("/v1/rejections", auditor, {"limit": 2}) == everything
    # A region's auditor pages through its own attempts only, each once.
    own = api.listed("/v1/rejections", vr08, {"limit": 1})
    assert [r["id"] for r in own] == [r["id"] for r in everything if r["org"] == "VR08"]
    # after= starts later; a cursor holds only with the same after.
    later = api.listed("/v1/rejections", auditor, {"after": everything[3]["id"], "limit": 1})
    assert later == everything[4:]
    first = api.client.get("/v1/rejections", params={"limit": 1}, headers=auditor).json()
    moved = api.client.get(
        "/v1/rejections", params={"after": 1, "cursor": first["next"]}, headers=auditor
    )
    assert moved.status_code == 400 and moved.json()["error"]["code"] == "invalid_cursor"


def submitted(api: Api, region: str, n: int) -> UUID:
    subject = draft(api, region, n)
    step = item("request.submitted", subject, authority=chair(region))
    step["occurred_at"] = (START + timedelta(minutes=n, seconds=30)).isoformat()
    api.accepted(region, step)
    return subject


def test_the_board_pages_with_exact_counts_beside_the_first_page(api: Api) -> None:
    made = [submitted(api, "VR08" if n % 2 else "VR23", n) for n in range(5)]
    locc = api.headers("LOCC", "coordinator")
    now = {"min_position": api.position(), "wait": 10}
    whole = page(api, "/v1/board", locc, limit=500, **now)
    assert whole["next"] is None and whole["total"] == 5 == len(whole["items"])
    # All overdue (submitted weeks ago): longest waiting first.
    assert [i["id"] for i in whole["items"]] == [str(s) for s in made]
    first = page(api, "/v1/board", locc, limit=2, **now)
    assert (first["total"], first["overdue"]) == (5, 5) and len(first["items"]) == 2
    assert walk(api, "/v1/board", locc, limit=2, **now) == [str(s) for s in made]
    # A region's board: its own, with its own counts.
    vr08 = page(api, "/v1/board", api.headers("VR08"), limit=1, **now)
    assert (vr08["total"], vr08["overdue"]) == (2, 2)
    assert walk(api, "/v1/board", api.headers("VR08"), limit=1, **now) == [
        str(s) for n, s in enumerate(made) if n % 2
    ]
    refused = api.client.get(
        "/v1/board", params={"exercise": "all", "cursor": first["next"]}, headers=locc
    )
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_cursor"


def test_the_picture_pages_its_incidents_with_the_exact_count_beside_them(api: Api) -> None:
    for title in ("Storm", "Hoogwater Maas", "Brand Moerdijk"):
        opened = {"title": title, "regions": ["VR08"], "grip": "2"}
        api.accepted("VR08", item("incident.opened", uuid4(), opened))
    api.accepted(
        "VR23",
        item("incident.opened", uuid4(), {"title": "Elders", "regions": ["VR23"], "grip": "1"}),
    )
    now = {"min_position": api.position(), "wait": 10}
    for org, wanted in (
        ("LOCC", ["Brand Moerdijk", "Elders", "Hoogwater Maas", "Storm"]),
        ("VR08", ["Brand Moerdijk", "Hoogwater Maas", "Storm"]),
    ):
        headers = api.headers(org, "coordinator")
        first = page(api, "/v1/picture", headers, limit=1, **now)
        assert first["total_incidents"] == len(wanted) and len(first["incidents"]) == 1
        titles, body = [], first
        while True:
            titles += [i["title"] for i in body["incidents"]]
            if body["next"] is None:
                break
            body = page(api, "/v1/picture", headers, limit=1, cursor=body["next"], **now)
        assert titles == wanted, org
        # The summary counts the whole picture, whatever the page.
        assert body["summary"] == first["summary"]
    locc = api.headers("LOCC", "coordinator")
    first = page(api, "/v1/picture", locc, limit=1, **now)
    refused = api.client.get(
        "/v1/picture", params={"axis": "occurred", "cursor": first["next"]}, headers=locc
    )
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_cursor"


def test_a_crafted_cursor_is_a_400_not_a_500(api: Api) -> None:
    """A cursor's fingerprint is no secret: anyone can make one for the right filters. A key
    that is no number (where a list pages by number) or holds NUL is refused as no cursor."""
    admin = api.headers("LOCC", "auditor", clearance=Classification.STATE_SECRET_SECRET)
    for key in ("abc", "²", "1\x00"):
        crafted = paging.encode("rejections", {"after": 0}, (key, ""))
        refused = api.client.get("/v1/rejections", params={"cursor": crafted}, headers=admin)
        assert refused.status_code == 400, (key, refused.text)
        assert refused.json()["error"]["code"] == "invalid_cursor"
    crafted = paging.encode("requests", {}, ("2026\x00", "x"))
    with pytest.raises(ApiError) as refused_nul:
        paging.decode(crafted, "requests", {})
    assert refused_nul.value.status == 400


def watch_reads(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[Any], list[dict[str, Any]]]:
    """From now on a read of a projection's rows whole (``view_rows``) fails and is kept in the
    first list; what the read-access log notes is kept in the second (and noted as well)."""
    whole: list[Any] = []
    noted: list[dict[str, Any]] = []

    def view_rows(*args: Any, **kw: Any) -> list[dict[str, Any]]:
        whole.append(args)
        raise AssertionError("a projection read whole")

    original = api.service.note_reads

    def note_reads(entries: Any) -> None:
        noted.extend(entries)
        original(entries)

    monkeypatch.setattr(api.service, "view_rows", view_rows)
    monkeypatch.setattr(api.service, "note_reads", note_reads)
    return whole, noted


def test_the_board_and_the_picture_read_a_page_not_every_row(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bounded (issue 21): neither reads a projection's rows whole (``view_rows``), and the
    read-access log notes the classified items answered on the page, not all in scope."""
    opened = {"title": "Hoogwater", "regions": ["VR08"], "grip": "2"}
    incident = uuid4()
    api.accepted("VR08", item("incident.opened", incident, opened))
    linked = fire_request(uuid4())
    linked["data"]["incident_id"] = str(incident)
    api.accepted("VR08", linked)
    plain = submitted(api, "VR08", 1)  # the earliest deadline: first on the board
    secret = []
    for n in range(2, 5):  # submitted in a classified step: their rows at that level
        subject = draft(api, "VR08", n)
        step = item("request.submitted", subject, authority=chair("VR08"))
        step["classification"] = "stg_confidentieel"
        step["occurred_at"] = (START + timedelta(minutes=n, seconds=30)).isoformat()
        api.accepted("VR08", step, clearance=Classification.STATE_SECRET_CONFIDENTIAL)
        secret.append(str(subject))
    whole, noted = watch_reads(api, monkeypatch)
    cleared = api.headers("LOCC", "coordinator", clearance=Classification.STATE_SECRET_CONFIDENTIAL)
    board = page(api, "/v1/board", cleared, limit=1)
    assert board["total"] == 1 + len(secret)
    assert [i["id"] for i in board["items"]] == [str(plain)]
    assert [e["item"] for e in noted if e["route"] == "GET /v1/board"] == []
    second = page(api, "/v1/board", cleared, limit=1, cursor=board["next"])
    assert [i["id"] for i in second["items"]] == secret[:1]
    assert [e["item"] for e in noted if e["route"] == "GET /v1/board"] == secret[:1]
    picture = page(api, "/v1/picture", cleared, limit=1)
    assert picture["total_incidents"] == 1 and picture["summary"]["open_incidents"] == 1
    assert [r["id"] for r in picture["incidents"][0]["requests"]] == [linked["subject"]]
    assert whole == []


def test_the_overview_and_the_advice_read_the_demanding_requests_not_every_row(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bounded (issue 21): neither reads a projection's rows whole (``view_rows``), and the
    read-access log notes the rows the answer was computed from: a classified draft (its
    wants are no demand) is neither read nor noted, a classified submitted request is."""
    plain = submitted(api, "VR08", 1)
    secret_draft = uuid4()
    body = fire_request(secret_draft, classification="stg_confidentieel")
    api.accepted("VR08", body, clearance=Classification.STATE_SECRET_CONFIDENTIAL)
    secret = draft(api, "VR08", 2)
    step = item("request.submitted", secret, authority=chair("VR08"))
    step["classification"] = "stg_confidentieel"
    api.accepted("VR08", step, clearance=Classification.STATE_SECRET_CONFIDENTIAL)
    whole, noted = watch_reads(api, monkeypatch)
    cleared = api.headers("LOCC", "coordinator", clearance=Classification.STATE_SECRET_CONFIDENTIAL)
    overview = page(api, "/v1/capacity-overview", cleared)
    [water] = [c for c in overview["capabilities"] if c["capability"] == "FIRE_WATER_SUPPLY"]
    assert water["open_demand"] == 4  # two lines of 2: the submitted requests', not the draft's
    advice = page(api, "/v1/scarcity", cleared)
    [short] = [c for c in advice["capabilities"] if c["capability"] == "FIRE_WATER_SUPPLY"]
    assert {p["request_id"] for p in short["proposal"]} == {str(plain), str(secret)}
    for route in ("GET /v1/capacity-overview", "GET /v1/scarcity"):
        assert [e["item"] for e in noted if e["route"] == route] == [str(secret)], route
    assert whole == []
