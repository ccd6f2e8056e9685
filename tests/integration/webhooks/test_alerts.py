"""Overdue alerts (issue 24): raised by the clock alone, once per crossing across restarts, to
the organisation that must act and the requesting one (their subscriptions, the feed, and
``/v1/alerts``), acknowledged with ``POST /v1/alerts/{id}/ack``."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import uuid4

import orjson
import pytest

from mlob.runners.hookstore import HookStore
from mlob.runners.webhooks import WebhookRunner
from tests.integration.api.conftest import chair, fire_request, item
from tests.integration.feed.helpers import receive
from tests.integration.webhooks.conftest import KEY, Hooked, stored


def submitted(hooked: Hooked) -> tuple[str, int]:
    """A request VR08 submitted; the tokens the tests use are issued first (an issue is
    recorded at the service's clock, which the tests move ahead of the store's)."""
    for org, role in (("VR08", "operator"), ("VR08", "coordinator"), ("VR08", "viewer")):
        hooked.headers(org, role)
    for org in ("VR09", "LOCC"):
        hooked.headers(org, "operator")
    subject = uuid4()
    hooked.accepted("VR08", fire_request(subject))
    done = hooked.accepted("VR08", item("request.submitted", subject, authority=chair("VR08")))
    return str(subject), done["events"][0]["position"]


def alerts_of(hooked: Hooked, org: str, role: str = "operator") -> list[dict[str, Any]]:
    answer: list[dict[str, Any]] = hooked.client.get(
        "/v1/alerts", headers=hooked.headers(org, role)
    ).json()["items"]
    return answer


def overdue(hooked: Hooked, count: int = 1) -> list[dict[str, Any]]:
    """Move the clock past submitted's target (4 h) and wait for VR08's ``count`` alerts."""
    assert hooked.clock is not None
    hooked.clock.offset = 5 * 3600
    deadline = time.monotonic() + 10
    while len(found := alerts_of(hooked, "VR08")) < count:
        assert time.monotonic() < deadline, "no alert"
        time.sleep(0.05)
    return found


def test_an_overdue_alert_reaches_the_region_by_the_clock_alone(
    hooked: Hooked, receivers: Any
) -> None:
    vr08, locc, vr09 = receivers(), receivers(), receivers()
    region = hooked.subscribe("VR08", url=vr08.url, channels=["region:VR08"], alerts_only=True)
    hub = hooked.subscribe("LOCC", url=locc.url, channels=["national"], alerts_only=True)
    other = hooked.subscribe("VR09", url=vr09.url, channels=["region:VR09"])
    subject, position = submitted(hooked)
    assert hooked.service.wait_for_views(position, ("requests",), 10)
    time.sleep(0.5)
    assert vr08.requests == [] and locc.requests == [], "alerts_only: no events"
    before = hooked.position()
    assert hooked.clock is not None
    hooked.clock.offset = 5 * 3600  # past submitted's target (4 h): LOCC must receive it
    [got] = vr08.wait_for(1)
    assert hooked.position() == before, "no event was posted"
    [body] = vr08.verified(region["secret"])
    assert body["type"] == "alert"
    alert = body["data"]
    assert alert["type"] == "alert" and alert["alert"] == "step_overdue"
    assert alert["subject"] == subject and alert["step"] == "overdue:submitted"
    assert alert["must_act"] == ["LOCC"] and alert["requester"] == "VR08"
    assert sorted(alert["orgs"]) == ["LOCC", "VR08"]
    locc.wait_for(1)  # each subscription has its own sender: LOCC's may come second
    [at_locc] = locc.verified(hub["secret"])
    assert at_locc["data"]["id"] == alert["id"]
    assert at_locc["data"] == alert
    time.sleep(0.5)
    assert vr09.requests == [], "not VR09's alert, nor its region's event"
    assert got.webhook_id.startswith("msg_")
    # Once per crossing: ticks go on, no second alert.
    time.sleep(0.5)
    assert len(vr08.accepted()) == 1
    listed = alerts_of(hooked, "VR08")
    assert [a["id"] for a in listed] == [alert["id"]]
    assert alerts_of(hooked, "VR09") == []
    assert other["id"]


def test_an_alert_is_acknowledged_once_per_organisation(hooked: Hooked) -> None:
    submitted(hooked)
    [alert] = overdue(hooked)
    path = f"/v1/alerts/{alert['id']}/ack"
    done = hooked.client.post(path, headers=hooked.headers("VR08", "operator"))
    assert done.status_code == 200, done.text
    assert [a["org"] for a in done.json()["acks"]] == ["VR08"]
    again = hooked.client.post(path, headers=hooked.headers("VR08", "coordinator"))
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_acknowledged"
    viewer = hooked.client.post(path, headers=hooked.headers("VR08", "viewer"))
    assert viewer.status_code == 403 and viewer.json()["error"]["code"] == "read_only_role"
    # Not VR09's alert: the same answer as for an id that does not exist.
    for response in (
        hooked.client.post(path, headers=hooked.headers("VR09", "operator")),
        hooked.client.post("/v1/alerts/999999/ack", headers=hooked.headers("VR08", "operator")),
    ):
        assert response.status_code == 404 and response.json()["error"]["code"] == "unknown_alert"
    assert hooked.client.post(path).status_code == 401
    for bad in ("x", str(2**64)):  # a number no row id can be: 422, not an overflow's 500
        response = hooked.client.post(f"/v1/alerts/{bad}/ack", headers=hooked.headers("VR08"))
        assert response.status_code == 422, response.text
    locc = hooked.client.post(path, headers=hooked.headers("LOCC", "operator"))
    assert locc.status_code == 200
    assert [a["org"] for a in locc.json()["acks"]] == ["VR08", "LOCC"]
    assert [a["org"] for a in alerts_of(hooked, "VR08")[0]["acks"]] == ["VR08", "LOCC"]


def test_an_alert_is_a_frame_on_the_feed_of_the_organisations_it_is_for(hooked: Hooked) -> None:
    submitted(hooked)
    with (
        hooked.client.websocket_connect("/v1/feed", headers=hooked.headers("VR08")) as mine,
        hooked.client.websocket_connect(
            "/v1/feed", headers=hooked.headers("VR09", "operator")
        ) as theirs,
    ):
        receive(mine, "welcome")
        receive(theirs, "welcome")
        mine.send_text(orjson.dumps({"subscribe": ["region:VR08"]}).decode())
        theirs.send_text(orjson.dumps({"subscribe": ["national"]}).decode())
        receive(mine, "subscribed")
        receive(theirs, "subscribed")
        assert hooked.clock is not None
        hooked.clock.offset = 5 * 3600
        alert = receive(mine, "alert")
        assert alert["step"] == "overdue:submitted" and alert["requester"] == "VR08"
        assert [a["id"] for a in alerts_of(hooked, "VR08")] == [alert["id"]]
        theirs.send_text(orjson.dumps({"type": "ping"}).decode())
        kinds = []
        while not kinds or kinds[-1] != "pong":
            kinds.append(receive(theirs)["type"])
        assert "alert" not in kinds, "VR09 got no alert before its pong"


def test_a_crossing_alerts_once_across_restarts_and_nodes(hooked: Hooked) -> None:
    """Another runner on the same store (a restart, or a second node) raises no alert for a
    crossing one raised already: the table is unique on subject, step and crossing."""
    submitted(hooked)
    overdue(hooked)
    other = WebhookRunner(hooked.service, HookStore(hooked.service.app.store, KEY))
    try:
        assert other.raise_alerts() == 0
    finally:
        other.hooks.close()
    assert len(hooked.service.webhooks.new_alerts(0)) == 1


def test_the_alert_list_reads_past_other_organisations_alerts(hooked: Hooked) -> None:
    """``limit`` is what the caller gets, not what the store reads: a first stretch of other
    organisations' alerts answered nothing, as if the caller had none."""
    hooks = hooked.service.webhooks.hooks

    assert hooks.add_alerts([stored("VR09", n) for n in range(5)] + [stored("VR08", 0)]) == 6
    assert hooks.add_alerts([stored("VR08", 0)]) == 0  # once per (subject, step, crossing)
    listed = hooked.client.get(
        "/v1/alerts", params={"limit": 2}, headers=hooked.headers("VR08", "operator")
    ).json()["items"]
    assert [a["subject"] for a in listed] == ["s-VR08-0"]


def test_acknowledgements_at_once_are_one(hooked: Hooked) -> None:
    """Several acknowledgements of one alert by one organisation at the same moment: one is
    recorded, the others find it (the look-up before the insert let two through to the unique
    key, whose violation was a 500)."""
    hooks = hooked.service.webhooks.hooks
    alert = {
        "subject": "s-ack",
        "step": "overdue:submitted",
        "crossing": "2026-12-01T00:00:00Z",
        "level": 0,
        "orgs": ["VR08"],
        "concerns": {"regions": ["VR08"], "involved": ["VR08"]},
        "body": {"alert": "step_overdue", "subject": "s-ack", "step": "overdue:submitted"},
    }
    hooks.add_alerts([alert])
    [stored] = [a for a in hooks.alerts_after(0, 1000) if a["subject"] == "s-ack"]
    with ThreadPoolExecutor(8) as pool:
        recorded = list(
            pool.map(lambda _: hooks.ack(stored["id"], "VR08", "operator", None, None), range(8))
        )
    assert recorded.count(True) == 1
    assert len(hooks.acks(stored["id"])) == 1


def test_the_alert_tick_reads_only_changed_and_due_requests(
    hooked: Hooked, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once running, the runner's ticks read the requests whose rows changed and those whose
    deadline passed, by id: never every request again (it read them all every tick)."""
    runner = hooked.runner
    assert runner is not None and hooked.clock is not None
    deadline = time.monotonic() + 10
    # Running: its first tick has read every request (it comes a moment after the runner
    # took the lease, so waiting for ``active`` alone raced it).
    while not runner.active or runner.deadlines.targets is None:
        assert time.monotonic() < deadline, "the runner did not start"
        time.sleep(0.02)
    service = hooked.service
    every, by_id = service.view_rows_every_level, service.view_rows_by_id
    read_all: list[str] = []
    read: list[str] = []

    def mine() -> bool:
        return threading.current_thread().name == "mlob-webhooks"

    def all_rows(name: str) -> Any:
        if mine():
            read_all.append(name)
        return every(name)

    def rows_by_id(name: str, ids: Any, *args: Any, **kw: Any) -> Any:
        if mine():
            read.extend(ids)
        return by_id(name, ids, *args, **kw)

    monkeypatch.setattr(service, "view_rows_every_level", all_rows)
    monkeypatch.setattr(service, "view_rows_by_id", rows_by_id)
    subject, position = submitted(hooked)
    assert service.wait_for_views(position, ("requests",), 10)
    deadline = time.monotonic() + 10
    while subject not in read:
        assert time.monotonic() < deadline, "the changed request was not read"
        time.sleep(0.02)
    time.sleep(500 / 1000)  # ticks every 100 ms: a few more
    assert read_all == [], "no tick read every request"
    assert set(read) == {subject}, "nothing else, and not again before its deadline"
    read.clear()
    overdue(hooked)  # its deadline passes: it is read, and alerts
    assert read and set(read) == {subject} and read_all == []
