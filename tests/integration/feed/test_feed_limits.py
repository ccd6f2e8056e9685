"""Feed abuse (issue 16, defect 12): at most 8 open connections and 2 concurrent replays per
token, at most 100 channels per connection and 128 characters per channel name, a binary
message closes with 1003, and a replay builds only what its reader may see, in the hub's own
replay threads (a replay never holds the pump nor changes what the hub knows)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import threading
import time
from typing import Any

import orjson
import pytest

import api.feed as feed
from tests.integration.api.conftest import Api
from tests.integration.feed.helpers import (
    connect_with,
    event_positions,
    fresh_token,
    incident,
    next_of,
    replays_held,
    subscribe,
    until_closed,
    within,
)


def test_at_most_8_connections_per_token(api: Api) -> None:
    token = fresh_token(api)
    with contextlib.ExitStack() as stack:
        open_ = [stack.enter_context(connect_with(api, token)) for _ in range(8)]
        for ws in open_:
            next_of(ws, "welcome")
        with connect_with(api, token) as ninth:
            messages, close = until_closed(ninth, 5)
        assert close["code"] == 1013 and close["reason"] == "too_many_connections"
        assert [m["code"] for m in messages] == ["too_many_connections"]
        with connect_with(api, fresh_token(api)) as other:  # another token's are not counted
            next_of(other, "welcome")
        open_[0].close()
        deadline = time.monotonic() + 5
        while True:  # once one of the eight has gone, the token may open another
            with connect_with(api, token) as again:
                first = within(again, 5)
            if first["type"] == "websocket.send":
                assert orjson.loads(first["text"])["type"] == "welcome"
                break
            assert time.monotonic() < deadline, "the closed connection was not let go"
            time.sleep(0.05)


def test_at_most_2_replays_at_once_per_token(api: Api) -> None:
    token = fresh_token(api)
    incident(api)
    hub = api.client.app.state.feed
    paused: list[Any] = []
    resume = threading.Event()

    async def pause(conn: Any) -> None:
        paused.append(conn)
        while not resume.is_set():
            await asyncio.sleep(0.01)

    hub.before_live = pause
    try:
        with contextlib.ExitStack() as stack:
            replaying = []
            for _ in range(2):
                ws = stack.enter_context(connect_with(api, token))
                replaying.append(ws)
                subscribe(ws, after=0)
            deadline = time.monotonic() + 5
            while len(paused) < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert len(paused) == 2, "two replays run"
            with connect_with(api, token) as third:
                next_of(third, "welcome")
                third.send_text('{"subscribe": ["national"], "after": 0}')
                messages, close = until_closed(third, 5)
            assert [m["code"] for m in messages if m["type"] == "error"] == ["too_many_replays"]
            assert not [m for m in messages if m["type"] in ("subscribed", "frame")]
            assert close["code"] == 1013 and close["reason"] == "too_many_replays"
            with connect_with(api, token) as live:  # a subscription without after is no replay
                subscribe(live)
            with connect_with(api, fresh_token(api)) as other:  # another token may replay
                subscribe(other, after=0)
                deadline = time.monotonic() + 5
                while len(paused) < 3 and time.monotonic() < deadline:
                    time.sleep(0.01)
                assert len(paused) == 3
            resume.set()
            for ws in replaying:
                ws.send_text('{"type": "ping"}')
                next_of(ws, "pong")  # the replay ended
        with connect_with(api, token) as later:  # its slots are free again
            subscribe(later, after=0)
            later.send_text('{"type": "ping"}')
            next_of(later, "pong")
    finally:
        hub.before_live = None
        resume.set()


def test_at_most_100_channels_per_connection_and_128_characters_per_name(api: Api) -> None:
    token = fresh_token(api)
    channels = [f"incident:{n:04d}" for n in range(101)]
    with connect_with(api, token) as ws:
        next_of(ws, "welcome")
        ws.send_text(orjson.dumps({"subscribe": channels[:60]}).decode())
        assert len(next_of(ws, "subscribed")["channels"]) == 60
        ws.send_text(orjson.dumps({"subscribe": channels[60:]}).decode())  # 101 in all
        assert next_of(ws, "error")["code"] == "too_many_channels"
        ws.send_text(orjson.dumps({"subscribe": channels[:100]}).decode())  # 100 in all
        assert len(next_of(ws, "subscribed")["channels"]) == 100
        ws.send_text('{"subscribe": ["national"]}')
        assert next_of(ws, "error")["code"] == "too_many_channels"
        ws.send_text(orjson.dumps({"unsubscribe": channels[:1]}).decode())
        next_of(ws, "unsubscribed")
        ws.send_text('{"subscribe": ["national"]}')
        assert "national" in next_of(ws, "subscribed")["channels"]
        ws.send_text('{"type": "ping"}')
        next_of(ws, "pong")  # still open
    with connect_with(api, token) as ws:
        next_of(ws, "welcome")
        ws.send_text(orjson.dumps({"subscribe": channels}).decode())  # 101 in one message
        assert next_of(ws, "error")["code"] == "too_many_channels"
        longest = "incident:" + "x" * (128 - len("incident:"))
        ws.send_text(orjson.dumps({"subscribe": [longest + "x"]}).decode())
        error = next_of(ws, "error")
        assert error["code"] == "channel_too_long" and longest not in error["reason"]
        ws.send_text(orjson.dumps({"subscribe": [longest]}).decode())
        assert next_of(ws, "subscribed")["channels"] == [longest]
        ws.send_text(orjson.dumps({"subscribe": ["incident:" + "y" * 100_000]}).decode())
        assert next_of(ws, "error")["code"] == "channel_too_long"
        ws.send_text('{"type": "ping"}')
        next_of(ws, "pong")


@pytest.mark.parametrize("when", ["authenticated", "authenticating"])
def test_a_binary_message_closes_with_1003(api: Api, when: str) -> None:
    if when == "authenticated":
        context = connect_with(api, fresh_token(api))
    else:
        context = api.client.websocket_connect("/v1/feed")
    with context as ws:
        if when == "authenticated":
            next_of(ws, "welcome")
        ws.send_bytes(b'{"type": "ping"}')
        messages, close = until_closed(ws, 5)
    assert close["code"] == 1003
    assert [m["code"] for m in messages if m["type"] == "error"] == ["binary_not_accepted"]
    assert not [m for m in messages if m["type"] == "pong"]


def test_a_replay_builds_only_what_its_reader_may_see(api: Api, monkeypatch: Any) -> None:
    """A region that sees little replays a history of other regions' events: those are
    looked at, not serialised; what it may see arrives in order."""
    start = api.position()
    others = [incident(api, "VR01") for _ in range(12)]
    own = [incident(api, "VR08"), incident(api, "VR08")]
    built: list[dict[str, Any]] = []
    render = feed.event_body

    def counting(e: Any) -> dict[str, Any]:
        body = render(e)
        built.append(body)
        return body

    monkeypatch.setattr(feed, "event_body", counting)
    with connect_with(api, fresh_token(api, "VR08", "operator")) as ws:  # starts the hub
        next_of(ws, "welcome")
        ws.send_text(orjson.dumps({"subscribe": ["national"], "after": start}).decode())
        next_of(ws, "subscribed")
        ws.send_text('{"type": "ping"}')
        messages: list[dict[str, Any]] = []
        while not messages or messages[-1]["type"] != "pong":
            messages.append(_next(ws))
    got = [e["stream_id"] for m in messages if m["type"] == "frame" for e in m["events"]]
    assert got == own
    assert positions_increase(event_positions(messages))
    assert not [b for b in built if str(b["stream_id"]) in others], "built what it may not see"


def _next(ws: Any) -> dict[str, Any]:
    message = within(ws, 10)
    assert message["type"] != "websocket.close", message
    parsed: dict[str, Any] = orjson.loads(message["text"])
    return parsed


def positions_increase(positions: list[int]) -> bool:
    return all(a < b for a, b in itertools.pairwise(positions))


def test_a_replay_leaves_what_the_hub_knows_alone(api: Api) -> None:
    token = fresh_token(api)
    with connect_with(api, token) as ws:  # the hub runs, and learns the incident as it is opened
        subscribe(ws)
        start = api.position()
        subject = incident(api)
        next_of(ws, "frame")
        hub = api.client.app.state.feed
        route = hub.routes.streams[subject]
        with connect_with(api, fresh_token(api)) as replaying:
            next_of(replaying, "welcome")
            replaying.send_text(orjson.dumps({"subscribe": ["national"], "after": start}).decode())
            next_of(replaying, "subscribed")
            replaying.send_text('{"type": "ping"}')
            next_of(replaying, "pong")
        assert hub.routes.streams[subject] is route


def test_replays_never_hold_the_pump(api: Api, monkeypatch: Any) -> None:
    """Replays whose store reads hang (a slow store, a huge history) take no thread the hub's
    pump reads in: live frames still reach everyone else."""
    blocked = min(32, (os.cpu_count() or 1) + 4) + 1  # more than asyncio's default threads
    gate = threading.Event()
    read = api.service.event_marks

    def gated(after: int, limit: int, stop: int | None = None) -> Any:
        gate.wait(20)  # a replay's first read (the pump reads logged_events)
        return read(after, limit, stop)

    monkeypatch.setattr(api.service, "event_marks", gated)
    incident(api)
    tokens = [fresh_token(api) for _ in range((blocked + 1) // 2)]
    try:
        with contextlib.ExitStack() as stack:
            watcher = stack.enter_context(connect_with(api, fresh_token(api)))
            subscribe(watcher)
            for n in range(blocked):
                ws = stack.enter_context(connect_with(api, tokens[n // 2]))
                subscribe(ws, after=0)
            time.sleep(0.2)  # the replays are all waiting for the store
            subject = incident(api)
            frame = next_of(watcher, "frame", seconds=3)
            assert [e["stream_id"] for e in frame["events"]] == [subject]
            gate.set()
    finally:
        gate.set()


def test_a_replay_reads_what_it_could_not_hold_from_the_store(api: Api, monkeypatch: Any) -> None:
    """A replay that takes long while the hub dispatches more batches than a connection holds
    reads those from the store as well, instead of ending in a resync that would restart it."""
    monkeypatch.setattr(feed, "PENDING_BATCHES", 2)
    start = api.position()
    before = [incident(api) for _ in range(3)]
    with replays_held(api) as (paused, resume), connect_with(api, fresh_token(api)) as ws:
        subscribe(ws, after=start)
        assert paused.wait(10)
        during = []
        for _ in range(5):  # one batch each: more than the connection holds
            during.append(incident(api))
            time.sleep(feed.WINDOW + 0.03)
        resume.set()
        later = incident(api)
        messages: list[dict[str, Any]] = []
        got: list[str] = []
        while later not in got:
            messages.append(_next(ws))
            got += [e["stream_id"] for e in messages[-1].get("events", ())]
    assert got == [*before, *during, later]
    assert not [m for m in messages if m["type"] in ("resync", "error")]
    assert positions_increase(event_positions(messages))
