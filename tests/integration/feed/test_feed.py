"""The live feed over WebSocket (in-process server, both stores): authentication, channels,
access, frames and positions, resume with no gap and no duplicate, read-model rows."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any
from uuid import uuid4

import orjson
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from domain.envelope import Classification
from mlob.bootstrap import open_projections
from mlob.config import StoreConfig
from mlob.service import Service
from mlob.write.application import MlobApplication
from tests.integration.api.conftest import Api, fire_request, item
from tests.integration.feed.helpers import collect, incident, receive, replays_held


def connect(api: Api, org: str = "LOCC", role: str = "coordinator", **kw: Any):
    return api.client.websocket_connect("/v1/feed", headers=api.headers(org, role, **kw))


def test_a_token_is_required(api: Api) -> None:
    with api.client.websocket_connect("/v1/feed") as ws:
        ws.send_text('{"token": "mlob_nonsense"}')
        assert receive(ws)["code"] == "invalid_token"


def test_token_in_the_first_message_then_live_events(api: Api) -> None:
    with api.client.websocket_connect("/v1/feed") as ws:
        ws.send_text(orjson.dumps({"token": api.token("LOCC", "coordinator")}).decode())
        welcome = receive(ws, "welcome")
        assert welcome["scope"]["kind"] == "national"
        ws.send_text('{"subscribe": ["national"]}')
        assert receive(ws, "subscribed")["channels"] == ["national"]
        subject = incident(api)
        [event] = collect(ws, 1)
        assert event["stream_id"] == subject and event["type"] == "incident.opened"
        assert event["actor"]["org"] == "VR08" and event["data"]["title"].startswith("incident")
        assert "national" in event["channels"] and "region:VR08" in event["channels"]


def test_channels_and_access(api: Api) -> None:
    with connect(api, "VR23", "operator") as ws:
        receive(ws, "welcome")
        ws.send_text('{"subscribe": ["region:VR08"]}')
        assert receive(ws, "error")["code"] == "channel_not_permitted"
        ws.send_text('{"subscribe": ["provider:IFV"]}')
        assert receive(ws, "error")["code"] == "channel_not_permitted"
        ws.send_text('{"subscribe": ["nonsense:x", "region"]}')
        assert receive(ws, "error")["code"] == "channel_not_permitted"
        ws.send_text('{"subscribe": "region:VR23"}')
        assert receive(ws, "error")["code"] == "malformed"
        ws.send_text("not json")
        assert receive(ws, "error")["code"] == "malformed"
        ws.send_text('{"subscribe": ["region:VR23", "national"]}')
        receive(ws, "subscribed")
        incident(api, "VR08")  # another region's: not for VR23, not even on national
        theirs = incident(api, "VR08", regions=["VR08", "VR23"])
        [event] = collect(ws, 1)
        assert event["stream_id"] == theirs


def test_classified_events_only_for_cleared_readers(api: Api) -> None:
    cleared = {"clearance": Classification.STATE_SECRET_CONFIDENTIAL}
    with connect(api) as plain, connect(api, clearance=Classification.STATE_SECRET_SECRET) as ok:
        for ws in (plain, ok):
            receive(ws, "welcome")
            ws.send_text('{"subscribe": ["national"]}')
            receive(ws, "subscribed")
        secret = incident(api, envelope={"classification": "stg_confidentieel"}, **cleared)
        public = incident(api)
        assert [e["stream_id"] for e in collect(plain, 1)] == [public]
        assert [e["stream_id"] for e in collect(ok, 2)] == [secret, public]


def test_exercise_events_only_when_asked_for(api: Api) -> None:
    with connect(api) as ws:
        receive(ws, "welcome")
        ws.send_text('{"subscribe": ["national"]}')
        receive(ws, "subscribed")
        incident(api, envelope={"exercise": True})
        real = incident(api)
        assert [e["stream_id"] for e in collect(ws, 1)] == [real]
        ws.send_text('{"subscribe": ["national"], "exercise": true}')
        receive(ws, "subscribed")
        drill = incident(api, envelope={"exercise": True})
        assert [e["stream_id"] for e in collect(ws, 1)] == [drill]


def test_exercise_in_a_subscription_means_what_it_means_on_every_route(api: Api) -> None:
    """true: exercises only; all: both; anything else is refused with its reason."""
    with connect(api) as ws:
        receive(ws, "welcome")
        ws.send_text('{"subscribe": ["national"], "exercise": "maybe"}')
        error = receive(ws, "error")
        assert error["code"] == "malformed" and "all (both)" in error["reason"]
        ws.send_text('{"subscribe": ["national"], "exercise": true}')
        assert receive(ws, "subscribed")["exercise"] == "true"
        incident(api)  # real: not for an exercises-only subscription
        drill = incident(api, envelope={"exercise": True})
        assert [e["stream_id"] for e in collect(ws, 1)] == [drill]
        ws.send_text('{"subscribe": ["national"], "exercise": "all"}')
        assert receive(ws, "subscribed")["exercise"] == "all"
        real = incident(api)
        drill = incident(api, envelope={"exercise": True})
        assert [e["stream_id"] for e in collect(ws, 2)] == [real, drill]


def test_request_and_provider_channels(api: Api) -> None:
    request = uuid4()
    with connect(api) as ws:
        receive(ws, "welcome")
        ws.send_text(orjson.dumps({"subscribe": [f"request:{request}"]}).decode())
        receive(ws, "subscribed")
        incident(api)  # not on that channel
        assert api.post("VR08", fire_request(request)).status_code == 201
        [event] = collect(ws, 1)
        assert event["stream_id"] == str(request)
        assert "capability:FIRE_WATER_SUPPLY" in event["channels"]


def test_resume_after_a_position_with_no_gap_and_no_duplicate(api: Api) -> None:
    before = [incident(api) for _ in range(5)]
    start = api.position()
    after = [incident(api) for _ in range(5)]
    # deterministic: appends arrive between catch-up and live
    with replays_held(api) as (paused, resume), connect(api) as ws:
        receive(ws, "welcome")
        ws.send_text(orjson.dumps({"subscribe": ["national"], "after": start - 3}).decode())
        assert receive(ws, "subscribed")["position"] == start - 3
        assert paused.wait(10)
        during = [incident(api) for _ in range(5)]
        time.sleep(0.3)  # the hub dispatches these while the connection is still catching up
        resume.set()
        later = [incident(api) for _ in range(3)]
        events = collect(ws, 3 + 5 + 5 + 3)
    got = [e["stream_id"] for e in events]
    assert got == before[-3:] + after + during + later


def test_read_model_rows_on_the_views_channel(api: Api) -> None:
    with connect(api) as ws:
        receive(ws, "welcome")
        ws.send_text('{"subscribe": ["views"]}')
        receive(ws, "subscribed")
        subject = incident(api)
        deadline = time.monotonic() + 15
        rows: list[dict] = []
        while not rows and time.monotonic() < deadline:
            rows = [r for r in receive(ws, "frame")["rows"] if r["id"] == subject]
        [row] = rows
        assert row["projection"] == "incidents" and row["row"]["grip"] == "1"


@pytest.mark.parametrize("message", ['{"ping": 1}', '{"type": "ping"}'])
def test_ping(api: Api, message: str) -> None:
    with connect(api) as ws:
        receive(ws, "welcome")
        ws.send_text(message)
        answer = receive(ws)
        assert answer["type"] in ("pong", "error")


def test_streams_created_before_the_feed_started_are_published(api: Api) -> None:
    """A restarted server's feed knows incidents (and requests) opened before it started."""
    older = incident(api)
    report = item("incident.situation_reported", older, {"summary": "water rising"})
    with connect(api) as ws:  # the feed hub starts with this first connection
        receive(ws, "welcome")
        ws.send_text('{"subscribe": ["national"]}')
        receive(ws, "subscribed")
        assert api.post("VR08", report).status_code == 201
        [event] = collect(ws, 1)
        assert event["stream_id"] == older and event["data"]["summary"] == "water rising"
        assert f"incident:{older}" in event["channels"]


def test_unsubscribe_stops_a_channel_on_the_same_connection(api: Api) -> None:
    with connect(api) as ws:
        receive(ws, "welcome")
        ws.send_text('{"subscribe": ["region:VR08", "region:VR23"]}')
        assert receive(ws, "subscribed")["channels"] == ["region:VR08", "region:VR23"]
        ws.send_text('{"unsubscribe": ["region:VR08"]}')
        assert receive(ws, "unsubscribed")["channels"] == ["region:VR23"]
        incident(api, "VR08")  # no longer wanted
        theirs = incident(api, "VR23")
        assert [e["stream_id"] for e in collect(ws, 1)] == [theirs]


def test_resume_pages_past_unpublished_events(api: Api, monkeypatch: Any) -> None:
    """Token events are never published; a page that holds some must not end the replay."""
    import api.feed as feed

    monkeypatch.setattr(feed, "BATCH", 5)
    headers = api.headers("LOCC", "coordinator")  # its token exists before the start position
    start = api.position()
    api.token("VR21")  # an unpublished event at the front of the replay
    opened = [incident(api) for _ in range(10)]
    with api.client.websocket_connect("/v1/feed", headers=headers) as ws:
        receive(ws, "welcome")
        ws.send_text(orjson.dumps({"subscribe": ["national"], "after": start}).decode())
        receive(ws, "subscribed")
        assert [e["stream_id"] for e in collect(ws, 10)] == opened


def test_a_plain_step_on_a_classified_subject_stays_classified(api: Api) -> None:
    cleared = {"clearance": Classification.STATE_SECRET_CONFIDENTIAL}
    with connect(api) as plain:
        receive(plain, "welcome")
        plain.send_text('{"subscribe": ["national"]}')
        receive(plain, "subscribed")
        secret = incident(api, envelope={"classification": "stg_confidentieel"}, **cleared)
        step = item("incident.grip_changed", uuid.UUID(secret), {"grip": "3"})  # no label
        assert api.post("VR08", step, **cleared).status_code == 201
        public = incident(api)
        assert [e["stream_id"] for e in collect(plain, 1)] == [public]


def test_classified_frames_are_in_the_read_access_log(api: Api) -> None:
    """Who received which item above ongerubriceerd through which channel: logged."""
    cleared = {"clearance": Classification.STATE_SECRET_SECRET}
    with connect(api, **cleared) as ws:
        receive(ws, "welcome")
        ws.send_text('{"subscribe": ["national"]}')
        receive(ws, "subscribed")
        secret = incident(api, envelope={"classification": "stg_geheim"}, **cleared)
        public = incident(api)
        assert [e["stream_id"] for e in collect(ws, 2)] == [secret, public]
    auditor = api.headers("INSP-JENV", "auditor", **cleared)
    logged = api.listed("/v1/access-log", auditor, {"item": secret})
    assert any(
        e["route"] == "feed national" and e["org"] == "LOCC" and e["classification"] == "stg_geheim"
        for e in logged
    ), logged
    plain = api.listed("/v1/access-log", auditor, {"item": public})
    assert plain == []


def test_error_frames_in_the_language_of_the_handshake(api: Api) -> None:
    """Issue 22: the feed's error frames carry their reason in Dutch when the handshake asks
    for it (Accept-Language), in English otherwise; the codes are the same."""
    headers = {**api.headers("LOCC", "coordinator"), "Accept-Language": "nl-NL,nl;q=0.9"}
    with api.client.websocket_connect("/v1/feed", headers=headers) as ws:
        receive(ws, "welcome")
        ws.send_text('{"subscribe": ["region:VR99"], "after": -1}')
        error = receive(ws, "error")
        assert error == {
            "type": "error",
            "code": "malformed",
            "reason": "after is een positie: een geheel getal van 0 of hoger.",
        }
        ws.send_text('{"hello": 1}')
        assert receive(ws, "error")["reason"] == "Stuur subscribe, unsubscribe of ping."
    with connect(api) as ws:
        receive(ws, "welcome")
        ws.send_text('{"hello": 1}')
        assert receive(ws, "error")["reason"] == "send subscribe, unsubscribe or ping"
    with api.client.websocket_connect("/v1/feed", headers={"Accept-Language": "nl"}) as ws:
        ws.send_text('{"token": "mlob_nonsense"}')
        refused = receive(ws)
        assert refused == {
            "type": "error",
            "code": "invalid_token",
            "reason": "Stuur een geldig token mee.",
        }


THREADS = ("correlation_id", "correlation", "causation_id", "causation")


def test_a_frame_names_the_messages_of_its_threads_as_the_history_does(api: Api) -> None:
    """Correlation and causation in a frame, known from the stream's route or asked of the
    store, name what the history names, at each reader's clearance: a classified step's
    message never for a reader below it, a correlation the client chose unresolved."""
    cleared = {"clearance": Classification.STATE_SECRET_CONFIDENTIAL}
    with connect(api) as plain, connect(api, **cleared) as ok:
        for ws in (plain, ok):
            receive(ws, "welcome")
            ws.send_text('{"subscribe": ["national"]}')
            receive(ws, "subscribed")
        first, other = uuid4(), uuid4()
        opened = item("incident.opened", first, {"title": "t", "regions": ["VR08"], "grip": "1"})
        steps = [
            opened,
            item("incident.grip_changed", first, {"grip": "2"}, classification="stg_confidentieel"),
            item("incident.grip_changed", first, {"grip": "3"}),  # answers the classified step
            item(
                "incident.opened",
                other,
                {"title": "o", "regions": ["VR08"], "grip": "1"},
                correlation_id=opened["message_id"],  # another subject's message
            ),
        ]
        for step in steps:
            assert api.post("VR08", step, **cleared).status_code == 201
        for ws, count, kw in ((plain, 3, {}), (ok, 4, cleared)):
            framed = collect(ws, count)
            headers = api.headers("LOCC", "coordinator", **kw)
            history = {
                e["position"]: e
                for stream in (first, other)
                for e in map(
                    orjson.loads,
                    api.client.get(
                        "/v1/history",
                        params={"stream": str(stream), "format": "jsonl"},
                        headers=headers,
                    ).text.splitlines(),
                )
            }
            assert len(framed) == len(history) == count
            for event in framed:
                shown = history[event["position"]]
                assert {f: event[f] for f in THREADS} == {f: shown[f] for f in THREADS}
            if ws is plain:  # the plain step's causation is the classified step's message
                assert framed[1]["causation_id"] is None and framed[1]["causation"] is None
            assert framed[-1]["correlation"] == {"org": None, "message_id": opened["message_id"]}


def test_a_closed_hub_is_no_longer_woken_by_commits(tmp_path: Path) -> None:
    """The hub's wake-up goes back at close: commits after it do not call into a closed
    event loop, and a service whose app starts again holds one wake-up, not two."""
    service = Service(MlobApplication(StoreConfig("sqlite", sqlite_path=tmp_path / "m.db")))
    projections = open_projections(service)
    projections.start()
    try:
        before = list(service.app.after_commit)
        for _ in range(2):
            with TestClient(create_app(service)) as client:
                api_ = Api(client, service)
                with client.websocket_connect(
                    "/v1/feed", headers=api_.headers("LOCC", "coordinator")
                ) as ws:
                    receive(ws, "welcome")
                assert len(service.app.after_commit) == len(before) + 1
            assert service.app.after_commit == before
    finally:
        projections.close()
        service.close()
        service.app.close()
