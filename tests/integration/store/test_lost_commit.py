"""Honest outcomes when a commit's connection fails (issue 19): a 503 means nothing was
recorded; a commit that was recorded but whose answer was lost answers its original receipt;
only when the store cannot tell in time does the answer say so (504 ``outcome_unknown``), and a
retry with the same message ids is then safe. Against the real server, through a real TCP proxy
between mlob and PostgreSQL that cuts the connection at the commit."""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from typing import Literal
from uuid import uuid4

import httpx
import pytest
from fastapi.testclient import TestClient
from psycopg.conninfo import make_conninfo

from api.app import create_app
from mlob.service import Service
from mlob.write.application import MlobApplication
from tests.conftest import POSTGRES_URL, pg_connect, postgres_config
from tests.integration.api.conftest import Api, item, serving

pytestmark = pytest.mark.postgres

Cut = Literal["after_commit", "before_commit", "hold"]


def hang_up(end: socket.socket) -> None:
    """Close now: shut down first, as a plain close leaves the connection open while the
    other direction's thread still waits in ``recv`` on it."""
    with contextlib.suppress(OSError):
        end.shutdown(socket.SHUT_RDWR)
    end.close()


class CuttingProxy:
    """Forwards TCP to PostgreSQL; armed, it cuts the connection that sends the next COMMIT of
    an append of events:
    ``after_commit`` — the server gets the COMMIT, the client never gets the answer;
    ``before_commit`` — neither side gets anything more (the server rolls back);
    ``hold`` — the client is cut, the server's side stays open (its backend waits, in its
    transaction, so nobody can tell the outcome until ``release``)."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.armed: Cut | None = None
        self.cuts = 0
        self.held: list[socket.socket] = []
        #: Connections that appended events (other commits, e.g. the projections', pass).
        self.appenders: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, upstream: bool) -> None:
        try:
            while data := source.recv(65536):
                cut = None
                if upstream and b"LOCK TABLE" in data:  # appends lock the events table
                    self.appenders.add(source)
                if upstream and b"COMMIT" in data and source in self.appenders:
                    with self._lock:
                        cut, self.armed = self.armed, None
                if cut is None:
                    sink.sendall(data)
                    continue
                self.cuts += 1
                hang_up(source)  # the client's side first: no answer reaches it
                if cut == "after_commit":
                    sink.sendall(data)
                    threading.Timer(1.0, hang_up, (sink,)).start()
                elif cut == "before_commit":
                    hang_up(sink)
                else:
                    self.held.append(sink)
                return
        except OSError:
            pass
        for end in (source, sink):
            hang_up(end)

    def release(self) -> None:
        for sink in self.held:
            hang_up(sink)
        self.held.clear()

    def close(self) -> None:
        self.release()
        self.listener.close()


@pytest.fixture
def proxied(pg_schema: str) -> Iterator[tuple[Api, CuttingProxy]]:
    config = postgres_config(pg_schema)
    params = config.params
    proxy = CuttingProxy(params.get("host", "127.0.0.1"), int(params.get("port", "5432")))
    through = make_conninfo(config.conninfo, host="127.0.0.1", port=str(proxy.port))
    service = Service(MlobApplication(dataclasses.replace(config, conninfo=through)))
    try:
        with serving(service, projections=False) as client:
            yield Api(client, service), proxy
    finally:
        proxy.close()


def opened() -> dict[str, object]:
    return item("incident.opened", uuid4(), {"title": "dyke", "regions": ["VR08"], "grip": "1"})


def recorded_once(api: Api, body: dict[str, object]) -> None:
    """Retrying the same message answers its receipt as a replay and records nothing more."""
    before = api.position()
    again = api.accepted("VR08", body)
    assert again["replayed"] is True and api.position() == before


def cut_post(
    api: Api, proxy: CuttingProxy, cut: Cut
) -> tuple[httpx.Response, dict[str, object], int]:
    """Warm up, arm the proxy with ``cut`` and post a new incident: the answer, the body posted
    and the position before it."""
    api.accepted("VR08", opened())  # connections and the writer warmed up
    body = opened()
    before = api.position()
    proxy.armed = cut
    answer = api.client.post("/v1/events", json=body, headers=api.headers("VR08"))
    assert proxy.cuts == 1
    return answer, body, before


def test_a_recorded_commit_whose_answer_was_lost_answers_its_receipt(
    proxied: tuple[Api, CuttingProxy],
) -> None:
    """The server got the COMMIT and committed; only its answer never reached mlob, which
    finds the messages recorded and answers their receipt."""
    api = proxied[0]
    answer, body, before = cut_post(*proxied, "after_commit")
    assert answer.status_code == 201, answer.text
    receipt = answer.json()
    assert receipt["replayed"] is False and receipt["events"][0]["position"] == before + 1
    recorded_once(api, body)


def test_a_commit_that_never_reached_the_store_is_503_and_nothing_is_recorded(
    proxied: tuple[Api, CuttingProxy],
) -> None:
    """The connection went before the COMMIT: the server rolled the transaction back."""
    api = proxied[0]
    answer, body, before = cut_post(*proxied, "before_commit")
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] == "5"
    error = answer.json()["error"]
    assert error["code"] == "store_unavailable" and "nothing was recorded" in error["reason"]
    assert "server" not in error["reason"] and "connection" not in error["reason"]  # no driver text
    assert api.position() == before
    assert api.accepted("VR08", body)["replayed"] is False  # the retry records it, once
    recorded_once(api, body)


def test_a_commit_whose_outcome_cannot_be_told_is_504_and_a_retry_is_safe(
    proxied: tuple[Api, CuttingProxy],
) -> None:
    api, proxy = proxied
    started = time.monotonic()
    answer, body, before = cut_post(api, proxy, "hold")
    assert answer.status_code == 504, answer.text
    assert 4.5 <= time.monotonic() - started < 15
    assert answer.headers["Retry-After"] == "5"
    assert answer.json()["error"]["code"] == "outcome_unknown"
    proxy.release()  # the server's side goes: its backend rolls the transaction back
    deadline = time.monotonic() + 10
    while True:  # until the held backend has gone (its lock on the events table with it)
        retry = api.client.post("/v1/events", json=body, headers=api.headers("VR08"))
        if retry.status_code == 201 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert retry.status_code == 201, retry.text
    assert retry.json()["events"][0]["position"] > before
    recorded_once(api, body)


def test_the_proxy_itself_passes_everything_unarmed(proxied: tuple[Api, CuttingProxy]) -> None:
    api, proxy = proxied
    for _ in range(3):
        api.accepted("VR08", opened())
    assert proxy.cuts == 0 and POSTGRES_URL


def test_a_commit_the_server_refused_is_503_and_nothing_is_recorded(pg_schema: str) -> None:
    """The server answered the append with an error (here its lock_timeout: another session
    holds the index table): the transaction rolled back and the connection stands, so nothing
    was recorded and the answer says so at once (503), rather than waiting for an outcome
    that is already known and answering 504 ``outcome_unknown``."""
    config = postgres_config(pg_schema)
    timed = make_conninfo(config.conninfo, options="-c lock_timeout=300")
    service = Service(MlobApplication(dataclasses.replace(config, conninfo=timed)))
    try:
        with TestClient(create_app(service)) as client:
            api = Api(client, service)
            api.accepted("VR08", opened())
            before = api.position()
            body = opened()
            with pg_connect(pg_schema) as blocker, blocker.transaction():
                blocker.execute("LOCK TABLE mlob_event_index IN ACCESS EXCLUSIVE MODE")
                answer = client.post("/v1/events", json=body, headers=api.headers("VR08"))
            assert answer.status_code == 503, answer.text
            assert answer.json()["error"]["code"] == "store_unavailable"
            assert api.position() == before
            assert api.accepted("VR08", body)["replayed"] is False  # and then it records
    finally:
        service.close()
        service.app.close()
