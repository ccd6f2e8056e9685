"""Health that tells the truth (issue 19): ``/health/live`` says the process answers;
``/health/ready`` says whether the node should get traffic — its store answers, its feed hub
follows, the projections it runs move — and answers 503 when one of them does not."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from api.ports import StoreUnavailable
from tests.conftest import on_both_stores
from tests.integration.api.conftest import Api
from tests.integration.feed.helpers import incident, receive

pytestmark = on_both_stores


def ready(api: Api) -> tuple[int, dict[str, Any]]:
    answer = api.client.get("/health/ready")
    return answer.status_code, answer.json()


def until(api: Api, status: int, seconds: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        code, body = ready(api)
        if code == status or time.monotonic() > deadline:
            assert code == status, body
            return body
        time.sleep(0.1)


def test_a_fresh_node_is_live_and_ready(api: Api) -> None:
    assert api.client.get("/health/live").json() == {"status": "ok"}
    incident(api)
    body = until(api, 200)
    checks = body["checks"]
    assert body["status"] == "ready"
    assert checks["store"]["ok"] and checks["store"]["last_position"] == api.position()
    assert checks["feed"] == {"ok": True, "state": "idle", "connections": 0}
    assert checks["projections"]["run_here"] and set(checks["projections"]["lag"]) >= {
        "requests",
        "incidents",
        "capacities",
    }
    assert ("listen" in checks) == (api.service.store_kind == "postgresql")


def test_a_feed_hub_that_stopped_reading_makes_the_node_not_ready(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = api.headers("LOCC", "coordinator")
    with api.client.websocket_connect("/v1/feed", headers=headers) as ws:
        receive(ws, "welcome")
        code, body = ready(api)
        assert code == 200 and body["checks"]["feed"]["state"] == "following"
        hub = api.client.app.state.feed  # type: ignore[attr-defined]
        hub.stuck_after = 0.5
        real = api.service.logged_events

        def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("reading failed")

        monkeypatch.setattr(api.service, "logged_events", broken)
        body = until(api, 503)
        assert body["status"] == "not_ready"
        assert body["checks"]["feed"]["ok"] is False and body["checks"]["feed"]["state"] == "stuck"
        monkeypatch.setattr(api.service, "logged_events", real)
        assert until(api, 200)["checks"]["feed"]["state"] == "following"


def test_a_stuck_projection_makes_the_node_not_ready(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert api.service.projections is not None
    [runner] = [r for r in api.service.projections.runners if r.projection.name == "incidents"]

    def broken() -> int:
        raise RuntimeError("the projection cannot apply this event")

    monkeypatch.setattr(runner, "run_once", broken)
    api.service.stuck_after = 0.5
    incident(api)
    body = until(api, 503)
    assert body["checks"]["projections"]["stuck"] == ["incidents"]
    assert body["checks"]["projections"]["lag"]["incidents"] > 0


def test_a_store_that_does_not_answer_makes_the_node_not_ready(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def away() -> int:
        raise StoreUnavailable("connection refused")

    monkeypatch.setattr(api.service, "last_position", away)
    code, body = ready(api)
    assert code == 503 and body["checks"]["store"]["ok"] is False
    assert api.client.get("/health/live").status_code == 200


def test_a_writer_held_on_one_group_makes_the_node_not_ready(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 20: two nodes writing the same streams held one node's group writer in conflicts
    for minutes while the node said ready, so the balancer kept sending it appends that waited
    30 s for a 504. A writer busy with one group longer than ``writer_stuck_after`` makes the
    node not ready; it is ready again once the group is settled."""
    incident(api)  # the writer is running
    assert until(api, 200)["checks"]["writer"] == {"ok": True, "busy_s": 0.0}
    recorder = api.service.app.recorder
    release = threading.Event()
    real = recorder.append  # type: ignore[attr-defined]

    def held(*args: Any, **kwargs: Any) -> Any:
        release.wait(20)
        return real(*args, **kwargs)

    monkeypatch.setattr(recorder, "append", held)
    api.service.writer_stuck_after = 0.3
    posted = threading.Thread(target=incident, args=(api,))
    posted.start()
    try:
        body = until(api, 503)
        assert body["checks"]["writer"]["ok"] is False
        assert body["checks"]["writer"]["busy_s"] >= 0.3  # rounded to 0.1 s
    finally:
        release.set()
        posted.join(timeout=20)
    assert until(api, 200)["checks"]["writer"]["ok"] is True
