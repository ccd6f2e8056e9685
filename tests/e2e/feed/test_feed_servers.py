"""The feed against real server processes: an append on one node reaches subscribers on
another (PostgreSQL LISTEN/NOTIFY, surviving a killed LISTEN backend), a client that stops
reading gets resync and is closed while the server's memory stays bounded, and a resume after
disconnects at random points misses nothing and repeats nothing; a token revoked on one node
closes its sockets on another."""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.conftest import POSTGRES_URL, STORES, _dsn
from tests.servers import RawClient, Server, issue_token


@pytest.fixture(params=STORES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'mlob.sqlite3'}"
    return f"{POSTGRES_URL}?schema={request.getfixturevalue('pg_schema')}"


@pytest.fixture
def pg_url(pg_schema: str) -> str:
    return f"{POSTGRES_URL}?schema={pg_schema}"


def opened(subject: uuid.UUID, summary_size: int = 0) -> dict[str, Any]:
    return {
        "type": "incident.opened",
        "subject": str(subject),
        "message_id": str(uuid.uuid4()),
        "occurred_at": datetime.now(UTC).isoformat(),
        "data": {
            "title": "x" * min(200, max(1, summary_size)),
            "regions": ["VR08"],
            "grip": "1",
            "description": "d" * summary_size,
        },
    }


def reported(subject: uuid.UUID, size: int) -> dict[str, Any]:
    return {
        "type": "incident.situation_reported",
        "subject": str(subject),
        "message_id": str(uuid.uuid4()),
        "occurred_at": datetime.now(UTC).isoformat(),
        "data": {"summary": "s" * size},
    }


def post(server: Server, token: str, items: list[dict[str, Any]]) -> list[int]:
    response = httpx.post(
        f"{server.url}/v1/events",
        json={"items": items},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert response.status_code == 201, response.text
    return [e["position"] for e in response.json()["events"]]


def subscribe(
    server: Server, token: str, after: int | None = None, **options: Any
) -> ClientConnection:
    ws = connect(server.ws_url, additional_headers={"Authorization": f"Bearer {token}"}, **options)
    assert orjson.loads(ws.recv(timeout=10))["type"] == "welcome"
    message: dict[str, Any] = {"subscribe": ["national"]}
    if after is not None:
        message["after"] = after
    ws.send(orjson.dumps(message).decode())
    assert orjson.loads(ws.recv(timeout=10))["type"] == "subscribed"
    return ws


def events_until(ws: ClientConnection, positions: set[int], timeout: float = 20) -> list[int]:
    """Event positions received until all of ``positions`` arrived (strictly increasing)."""
    got: list[int] = []
    deadline = time.monotonic() + timeout
    while not positions <= set(got):
        left = deadline - time.monotonic()
        assert left > 0, f"missing {sorted(positions - set(got))[:5]}"
        message = orjson.loads(ws.recv(timeout=left))
        for event in message.get("events", []):
            assert not got or event["position"] > got[-1]
            got.append(event["position"])
    return got


@pytest.mark.postgres
def test_many_nodes_and_a_lost_listen_connection(pg_url: str) -> None:
    token = issue_token(pg_url)
    a, b = Server(pg_url).start(), Server(pg_url).start()
    try:
        ws = subscribe(b, token)
        positions = post(a, token, [opened(uuid.uuid4()) for _ in range(3)])
        assert events_until(ws, set(positions), timeout=5) == positions

        with psycopg.connect(_dsn(), autocommit=True) as conn:
            assert b.proc is not None
            killed = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s",
                (f"mlob-listen {b.proc.pid}",),
            ).fetchall()
            assert len(killed) == 1, "the node with a subscriber listens"
        time.sleep(0.2)
        positions = post(a, token, [opened(uuid.uuid4())])
        assert events_until(ws, set(positions), timeout=5) == positions
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # and the LISTEN connections are back
            with psycopg.connect(_dsn(), autocommit=True) as conn:
                back = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                    (f"mlob-listen {b.proc.pid}",),
                ).fetchone()
            if back and back[0] >= 1:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("LISTEN was not re-established")
        ws.close()
    finally:
        a.kill()
        b.kill()


@pytest.mark.serial  # a memory bound: measured without a parallel worker beside it
def test_a_client_that_stops_reading_gets_resync_and_memory_stays_bounded(
    database_url: str,
) -> None:
    token = issue_token(database_url)
    server = Server(database_url).start()
    try:
        # A client that subscribes and then stops reading (8 KiB receive buffer).
        stalled = RawClient(server.port, token)
        assert orjson.loads(stalled.recv()[1])["type"] == "welcome"
        stalled.send('{"subscribe": ["national"]}')
        assert orjson.loads(stalled.recv()[1])["type"] == "subscribed"
        reader = subscribe(server, token)
        flood = uuid.uuid4()
        first = post(server, token, [opened(flood)])[0]
        events_until(reader, {first})
        # Far more than the socket buffers hold: ~24 MB of events the stalled client does not
        # read (reports on one incident, so nothing else in the server grows with them). The
        # first third warms what grows with any traffic (caches, pools, the runners' state);
        # the rest, ~16 MB, must leave the memory about where it was: held for the stalled
        # client, it would all show.
        last = first
        baseline = 0
        for batch in range(60):
            if batch == 20:
                baseline = server.rss_kib()
            last = post(server, token, [reported(flood, 3_900) for _ in range(100)])[-1]
            events_until(reader, {last}, timeout=60)  # a reading client keeps up meanwhile
        growth = server.rss_kib() - baseline
        assert growth < 8_000, f"server memory grew by {growth} KiB over ~16 MB of events"
        # The stalled client, reading at last, finds a resync with where to resume, then a close.
        received: list[int] = []
        resync = None
        while True:
            opcode, payload = stalled.recv(timeout=30)
            if opcode == 8:
                assert int.from_bytes(payload[:2], "big") == 1013
                break
            message = orjson.loads(payload)
            if message["type"] == "frame":
                assert resync is None, "nothing after the resync"
                received += [e["position"] for e in message["events"]]
            elif message["type"] == "resync":
                resync = message
        stalled.close()
        assert resync is not None, "the stalled client was told to resync"
        assert received and resync["position"] == received[-1] < last
        # ... and resumes from there, missing nothing and repeating nothing.
        resumed = subscribe(server, token, after=resync["position"])
        got = events_until(resumed, {last}, timeout=60)
        assert got == list(range(resync["position"] + 1, last + 1))
        for ws in (reader, resumed):
            ws.close()
    finally:
        server.kill()


def test_resume_after_disconnects_at_random_points(database_url: str) -> None:
    token = issue_token(database_url)
    server = Server(database_url).start()
    rng = random.Random(7)
    try:
        received: list[int] = []
        position = 0
        posted: list[int] = []
        for _ in range(6):
            ws = subscribe(server, token, after=position)
            posted += post(server, token, [opened(uuid.uuid4()) for _ in range(rng.randint(5, 40))])
            stop_after = rng.uniform(0.0, 0.3)
            deadline = time.monotonic() + stop_after
            try:
                while time.monotonic() < deadline:
                    message = orjson.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
                    if message["type"] == "frame":
                        received += [e["position"] for e in message["events"]]
                        position = message["position"]
            except TimeoutError:
                pass
            ws.close()  # at a random point, perhaps mid-burst
        ws = subscribe(server, token, after=position)
        received += events_until(ws, set(posted) - set(received), timeout=30)
        ws.close()
        assert received == sorted(set(received)), "no duplicate, strictly increasing"
        assert set(posted) <= set(received), "no gap"
    finally:
        server.kill()


def test_shutdown_closes_connections_cleanly(database_url: str) -> None:
    token = issue_token(database_url)
    server = Server(database_url).start()
    ws = subscribe(server, token)
    # uvicorn shuts down gracefully, then re-raises the signal: -15 is a clean exit here.
    assert server.terminate() in (0, -15)
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            ws.recv(timeout=10)
    assert closed.value.rcvd is not None, "a close frame, not a dropped connection"
    assert closed.value.rcvd.code in (1001, 1012)


@pytest.mark.postgres
def test_a_revocation_on_one_node_closes_the_token_s_sockets_on_another(pg_schema: str) -> None:
    url = f"{POSTGRES_URL}?schema={pg_schema}"
    admin = issue_token(url, "LOCC", "admin")
    a, b = Server(url).start(), Server(url).start()
    try:
        issued = httpx.post(
            f"{a.url}/v1/tokens",
            json={"org": "LOCC", "role": "coordinator"},
            headers={"Authorization": f"Bearer {admin}"},
        ).json()
        auth = {"Authorization": f"Bearer {issued['token']}"}
        with connect(b.ws_url, additional_headers=auth) as ws:
            assert orjson.loads(ws.recv(timeout=10))["type"] == "welcome"
            ws.send('{"subscribe": ["national"]}')
            assert orjson.loads(ws.recv(timeout=10))["type"] == "subscribed"
            response = httpx.delete(
                f"{a.url}/v1/tokens/{issued['token_id']}",
                headers={"Authorization": f"Bearer {admin}"},
            )
            assert response.status_code == 204
            messages = []
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    messages.append(orjson.loads(ws.recv(timeout=5)))
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1008, "token_revoked")
        assert messages[-1]["code"] == "token_revoked"
    finally:
        a.kill()
        b.kill()
