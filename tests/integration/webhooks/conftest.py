"""Subscriptions over a real store (SQLite and PostgreSQL) with the delivery runner running,
and real HTTP receivers on loopback (a small threaded ``http.server``): what they get is what
went over the wire, signatures checked with the ``standardwebhooks`` verifier."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest
from standardwebhooks.webhooks import Webhook

from mlob.bootstrap import open_webhooks
from mlob.config import StoreConfig
from mlob.runners.webhooks import Retry, WebhookRunner
from mlob.service import Service
from mlob.write.application import MlobApplication
from tests.integration.api.conftest import Api, serving

KEY = "k" * 40
#: Retries in milliseconds: a test sees several within a second.
FAST = Retry(base=0.02, ceiling=0.2, window=60.0, timeout=0.3)


#: An answer that comes only after the sender's timeout.
HANG = 0


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    #: When it arrived (time.monotonic()).
    at: float = field(default_factory=time.monotonic)

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1: records every request, answers ``answers`` in turn
    (then 204, or 200 with ``answer_body``), waits ``delay`` seconds before answering, and
    keeps what it accepted."""

    server: ThreadingHTTPServer
    answers: list[int] = field(default_factory=list)
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    up: bool = True
    #: What a 2xx answer carries (none: an empty body).
    answer_body: bytes = b""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def accepted(self) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.headers.get("x-answered") == "2xx"]

    def verified(self, secret: str) -> list[Any]:
        """Each accepted body, verified by the standardwebhooks verifier (raises if not)."""
        hook = Webhook(secret)
        return [hook.verify(r.body, r.headers) for r in self.accepted()]

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.accepted()
            if len(got) >= count:
                return got
            time.sleep(0.02)
        raise AssertionError(f"{len(self.accepted())} of {count} deliveries arrived")


def make_receiver(keep_alive: bool = False) -> Receiver:
    """A receiver; ``keep_alive``: HTTP/1.1, a connection kept between requests (HTTP/1.0,
    closed after each, unless)."""
    holder: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

        def do_POST(self) -> None:
            receiver = holder[0]
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            with receiver.lock:
                default = 200 if receiver.answer_body else 204  # a 204 has no body
                status = receiver.answers.pop(0) if receiver.answers else default
                if not receiver.up:
                    status = 503
            if receiver.delay:
                time.sleep(receiver.delay)
            if status == HANG:  # past the sender's timeout: it gives up before the answer
                headers["x-answered"] = "timeout"
                with receiver.lock:
                    receiver.requests.append(Received(headers, body))
                time.sleep(1.0)
                return
            else:
                headers["x-answered"] = "2xx" if 200 <= status < 300 else str(status)
            with receiver.lock:
                receiver.requests.append(Received(headers, body))
            answer = receiver.answer_body if 200 <= status < 300 else b""
            self.send_response(status)
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver = Receiver(server)
    holder.append(receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = make_receiver()
    yield made
    made.server.shutdown()
    made.server.server_close()


@pytest.fixture
def receivers() -> Iterator[Callable[[], Receiver]]:
    made: list[Receiver] = []

    def another(keep_alive: bool = False) -> Receiver:
        made.append(make_receiver(keep_alive))
        return made[-1]

    yield another
    for r in made:
        r.server.shutdown()
        r.server.server_close()


class Clock:
    """The service's clock, moved by the test."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> datetime:
        return datetime.fromtimestamp(time.time() + self.offset, UTC)


@dataclass
class Hooked(Api):
    runner: WebhookRunner | None = None
    clock: Clock | None = None

    def subscribe(self, org: str, role: str = "admin", **body: Any) -> dict[str, Any]:
        response = self.client.post(
            "/v1/subscriptions", json=body, headers=self.headers(org, role, **_clear(body))
        )
        assert response.status_code == 201, response.text
        return dict(response.json())


def _clear(body: dict[str, Any]) -> dict[str, Any]:
    from domain.envelope import Classification

    level = body.get("clearance")
    return {"clearance": Classification(level)} if level else {}


def hooked_api(
    store_config: StoreConfig, key: str | None = KEY, retry: Retry = FAST
) -> Iterator[Hooked]:
    clock = Clock()
    service = Service(MlobApplication(store_config), clock=clock)
    runner = open_webhooks(service, key, retry=retry)
    runner.tick_every = 0.1
    runner.poll = 0.05
    with serving(service) as client:
        runner.start()
        yield Hooked(client, service, runner=runner, clock=clock)


@pytest.fixture
def hooked(store_config: StoreConfig) -> Iterator[Hooked]:
    yield from hooked_api(store_config)


def stored(org: str, n: int) -> dict[str, Any]:
    """An overdue alert of ``org``'s as the runner stores it (subject ``s-<org>-<n>``)."""
    body = {"alert": "step_overdue", "subject": f"s-{org}-{n}", "step": "overdue:submitted"}
    return {
        "subject": f"s-{org}-{n}",
        "step": "overdue:submitted",
        "crossing": "2026-12-01T00:00:00Z",
        "level": 0,
        "orgs": [org],
        "concerns": {"regions": [org], "involved": [org]},
        "body": body,
    }
