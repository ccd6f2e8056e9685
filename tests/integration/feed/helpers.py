"""What the feed tests share: a feed connection and its messages, an incident to see in it,
and the hub held at a replay or a read, so that a test decides what happens in between."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from uuid import uuid4

import anyio
import orjson
from starlette.testclient import WebSocketTestSession

from api.ports import IssuedToken
from domain.envelope import Classification
from tests.integration.api.conftest import ADMIN, Api, item


def receive(ws: WebSocketTestSession, kind: str | None = None, timeout: float = 10) -> dict:
    """The next message (of ``kind``), skipping heartbeats."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = orjson.loads(ws.receive_text())
        if message["type"] == "heartbeat":
            continue
        if kind is None or message["type"] == kind:
            return message
    raise AssertionError(f"no {kind} message")


def incident(api: Api, org: str = "VR08", regions: list[str] | None = None, **kw: Any) -> str:
    subject = uuid4()
    body = item(
        "incident.opened",
        subject,
        {"title": f"incident {subject.hex[:4]}", "regions": regions or [org], "grip": "1"},
    )
    body.update(kw.pop("envelope", {}))
    response = api.post(org, body, **kw)
    assert response.status_code == 201, response.text
    return str(subject)


def collect(ws: WebSocketTestSession, count: int, timeout: float = 15) -> list[dict]:
    """Events from frames until ``count`` arrived; checks positions only ever increase."""
    events: list[dict] = []
    last = -1
    deadline = time.monotonic() + timeout
    while len(events) < count and time.monotonic() < deadline:
        frame = receive(ws, "frame")
        assert frame["position"] > last or frame["events"] == [], "frame positions increase"
        for event in frame["events"]:
            assert event["position"] > last, "no duplicate, no reordering"
            assert event["position"] <= frame["position"]
            last = event["position"]
            events.append(event)
        last = max(last, frame["position"])
    return events


def within(ws: WebSocketTestSession, seconds: float) -> dict[str, Any]:
    """The next ASGI message the server sent (a text message or the close), or TimeoutError."""

    async def get() -> dict[str, Any]:
        with anyio.fail_after(seconds):
            message: dict[str, Any] = await ws._send_rx.receive()
            return message

    return ws.portal.call(get)


def until_closed(ws: WebSocketTestSession, seconds: float) -> tuple[list[dict], dict[str, Any]]:
    """The messages (parsed) before the close, and the close, within ``seconds``."""
    deadline = time.monotonic() + seconds
    messages = []
    while True:
        message = within(ws, max(0.01, deadline - time.monotonic()))
        if message["type"] == "websocket.close":
            return messages, message
        messages.append(orjson.loads(message["text"]))


def next_of(ws: WebSocketTestSession, kind: str, seconds: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        message = within(ws, max(0.01, deadline - time.monotonic()))
        assert message["type"] != "websocket.close", message
        parsed = orjson.loads(message["text"])
        if parsed["type"] == kind:
            return parsed


def event_positions(messages: list[dict]) -> list[int]:
    return [e["position"] for m in messages if m["type"] == "frame" for e in m["events"]]


def gate_reads(api: Api) -> tuple[threading.Event, Callable[[], None]]:
    """Hold the hub's next store read until the returned event is set (what is appended
    meanwhile is then read in one batch); the callable undoes it."""
    hub = api.client.app.state.feed
    read = hub._read
    gate = threading.Event()
    gate.set()

    def gated() -> Any:
        gate.wait(10)
        return read()

    hub._read = gated

    def undo() -> None:
        gate.set()
        hub._read = read

    return gate, undo


def connect_with(api: Api, token: IssuedToken) -> Any:
    """A feed connection that signs in with this token."""
    return api.client.websocket_connect("/v1/feed", headers=bearer(token))


def bearer(token: IssuedToken) -> dict[str, str]:
    return {"Authorization": f"Bearer {token.token}"}


def fresh_token(
    api: Api, org: str = "LOCC", role: str = "coordinator", expires_at: datetime | None = None
) -> IssuedToken:
    """A token of its own (its connections and replays count for it alone)."""
    return api.service.issue_token(
        ADMIN, org=org, role=role, clearance=Classification.UNCLASSIFIED, expires_at=expires_at
    )


def subscribe(ws: WebSocketTestSession, after: int | None = None) -> dict[str, Any]:
    """Past the welcome, subscribe to the national channel (from ``after``, a replay)."""
    next_of(ws, "welcome")
    ws.send_text(
        orjson.dumps(
            {"subscribe": ["national"], **({} if after is None else {"after": after})}
        ).decode()
    )
    return next_of(ws, "subscribed")


@contextmanager
def replays_held(api: Api) -> Iterator[tuple[threading.Event, threading.Event]]:
    """Hold every replay before it goes live: yields ``paused`` (set once one waits) and
    ``resume`` (set it to let them go on); undone on leaving."""
    hub = api.client.app.state.feed
    paused, resume = threading.Event(), threading.Event()

    async def pause(_: Any) -> None:
        paused.set()
        while not resume.is_set():
            await anyio.sleep(0.01)

    hub.before_live = pause
    try:
        yield paused, resume
    finally:
        hub.before_live = None
        resume.set()
