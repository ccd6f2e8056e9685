"""Failover to a standby during a write burst with open feeds (issue 20), as one scenario the
test (test_failover.py) asserts on and ``bench/failover.py`` prints figures from.

A primary and a streaming standby (tests/pgpair.py); on the multi-host URL
``postgresql://…,…/mlob?target_session_attrs=read-write`` one ``mlob serve``
(``MLOB_PROJECTIONS=workers``) and one ``mlob worker`` running the projections, as in
compose.yaml; 6 posting clients and 2 feed clients. After ``burst_before`` s the primary is
stopped with ``pg_ctl stop -m immediate`` and the standby promoted at once (``pg_ctl
promote``). The clients retry a 503, a 504 or a lost connection with the same body (same
message id) until it answers 201; feed clients whose connection ends reconnect and resume
``after`` the last frame's position (the second one drops its connection right after the
stop, so it reconnects while the store is away). Then the new primary is examined: which
acknowledged messages it holds, whether each message is recorded once, ``mlob audit verify``,
the projections' rows against a rebuild from its events, and what the feeds delivered against
its index.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from domain.envelope import Classification
from mlob.bootstrap import open_application, open_projections
from mlob.cli import CLI_ADMIN
from mlob.config import load_settings, parse_database_url
from mlob.read.readstore import open_read_store
from mlob.service import Service
from projections.specs import PROJECTIONS
from tests import ROOT
from tests.pgpair import Pair
from tests.servers import Server, incident_opened


@dataclass
class Answer:
    message_id: str
    sent: float  # time.monotonic() when the request went out
    answered: float
    status: int  # 0: no HTTP answer (connection failed)


class Poster(threading.Thread):
    """Posts one ``incident.opened`` after another; a 503, a 504 or a failed connection is
    retried with the same body (the same message id) until it answers 201."""

    def __init__(self, url: str, token: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.url, self.token, self.stop = url, token, stop
        self.answers: list[Answer] = []
        self.acked: list[str] = []  # message ids answered 201
        self.unexpected: list[tuple[int, str]] = []

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.url, timeout=30, headers=headers) as client:
            while not self.stop.is_set():
                body = incident_opened("failover")
                message_id = body["message_id"]
                give_up = None  # once stopping: finish this message, within a bound
                while True:
                    sent = time.monotonic()
                    try:
                        response = client.post("/v1/events", json=body)
                        status = response.status_code
                    except httpx.HTTPError:
                        status = 0
                    self.answers.append(Answer(message_id, sent, time.monotonic(), status))
                    if status == 201:
                        self.acked.append(message_id)
                        break
                    if status not in (0, 503, 504):
                        self.unexpected.append((status, response.text))
                        break
                    if self.stop.is_set():
                        give_up = give_up or time.monotonic() + 20
                        if time.monotonic() > give_up:
                            break
                    time.sleep(0.2)


class FeedClient(threading.Thread):
    """A ``national`` subscriber that reconnects when its connection ends and resumes after
    the last frame's position; it keeps every event position it received, in order. Setting
    ``cut`` makes it drop its connection and reconnect (as a client whose network failed)."""

    def __init__(self, ws_url: str, token: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.ws_url, self.token, self.stop = ws_url, token, stop
        self.cut = threading.Event()
        self.positions: list[int] = []
        self.position: int | None = None  # the last frame's position
        self.connections = 0
        self.closes: list[str] = []

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        while not self.stop.is_set():
            try:
                with connect(self.ws_url, additional_headers=headers, open_timeout=10) as ws:
                    welcome = orjson.loads(ws.recv(timeout=10))
                    if welcome["type"] != "welcome":
                        raise ConnectionError(str(welcome))
                    message: dict[str, Any] = {"subscribe": ["national"]}
                    if self.position is not None:
                        message["after"] = self.position
                    ws.send(orjson.dumps(message).decode())
                    self.connections += 1
                    while not self.stop.is_set():
                        if self.cut.is_set():
                            self.cut.clear()
                            break
                        try:
                            frame = orjson.loads(ws.recv(timeout=0.2))
                        except TimeoutError:
                            continue
                        if frame["type"] == "subscribed" and self.position is None:
                            self.position = frame["position"]
                        elif frame["type"] == "frame":
                            self.positions += [e["position"] for e in frame["events"]]
                            self.position = frame["position"]
                        elif frame["type"] in ("error", "resync"):
                            self.closes.append(str(frame))
            except (ConnectionClosed, InvalidStatus, OSError, ConnectionError) as exc:
                self.closes.append(repr(exc))
                self.stop.wait(0.3)


@dataclass
class Outcome:
    synchronous: bool
    acked: set[str] = field(default_factory=set)
    #: message id -> how many events the new primary holds for it
    recorded: dict[str, int] = field(default_factory=dict)
    #: (position, message id) of every posted event in the new primary's index
    index: list[tuple[int, str]] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    unexpected: list[tuple[int, str]] = field(default_factory=list)
    #: ``pg_ctl stop -m immediate`` began, and returned (the primary is gone)
    stop_asked_at: float = 0.0
    stopped_at: float = 0.0
    promoted_at: float = 0.0
    #: the first 201 of a request sent after the stop (None: writes never came back)
    recovered_at: float | None = None
    feeds: list[list[int]] = field(default_factory=list)
    feed_connections: list[int] = field(default_factory=list)
    feed_closes: list[list[str]] = field(default_factory=list)
    verify: subprocess.CompletedProcess[str] | None = None
    rows_before: dict[str, list[str]] = field(default_factory=dict)
    rows_rebuilt: dict[str, list[str]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    #: ``GET /health/ready`` after the burst: status and body
    ready: tuple[int, Any] = (0, None)

    @property
    def outage(self) -> float | None:
        """Seconds from the primary's stop to the first successful write after it."""
        return None if self.recovered_at is None else self.recovered_at - self.stopped_at

    @property
    def missing(self) -> set[str]:
        """Acknowledged messages the new primary does not hold."""
        return self.acked - set(self.recorded)


def service(url: str) -> Service:
    """The store in this process, with its read models (not started)."""
    settings = load_settings({"MLOB_DATABASE_URL": url})
    opened = Service(open_application(settings))
    open_projections(opened, settings.board_targets)
    return opened


def tokens(url: str) -> tuple[str, str]:
    """A VR08 operator's token (the posters') and a LOCC coordinator's (the feeds'), issued in
    this process: a ``mlob tokens issue`` each would cost a Python start each."""
    opened = service(url)
    try:
        return tuple(  # type: ignore[return-value]
            opened.issue_token(
                CLI_ADMIN, org=org, role=role, clearance=Classification.UNCLASSIFIED
            ).token
            for org, role in (("VR08", "operator"), ("LOCC", "coordinator"))
        )
    finally:
        assert opened.projections is not None
        opened.projections.close()
        opened.app.close()


def rebuilt_rows(url: str) -> dict[str, list[str]]:
    """Every projection rebuilt from the store's events, then its rows."""
    opened = service(url)
    assert opened.projections is not None
    try:
        opened.projections.rebuild()
        opened.projections.catch_up()
        assert not opened.projections.rebuilding(), "the rebuild did not finish"
    finally:
        opened.projections.close()
        opened.app.close()
    return rows(url)


def rows(url: str) -> dict[str, list[str]]:
    store = open_read_store(parse_database_url(url), [p.name for p in PROJECTIONS])
    try:
        return {p.name: sorted(repr(r) for r in store.all_rows(p.name)) for p in PROJECTIONS}
    finally:
        store.close()


def caught_up(url: str, head: int, timeout: float) -> bool:
    """Whether every projection is built (by the code's version: no rebuild under way) and
    at ``head`` or past it within ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        store = open_read_store(parse_database_url(url), [p.name for p in PROJECTIONS])
        try:
            tracking, under_way = store.all_tracking(), store.rebuilds()
        finally:
            store.close()
        if (
            len(tracking) == len(PROJECTIONS)
            and not under_way
            and all(t.version and t.position >= head for t in tracking)
        ):
            return True
        time.sleep(0.2)
    return False


@contextmanager
def pair(synchronous: bool) -> Iterator[Pair]:
    made = Pair(synchronous=synchronous)
    try:
        yield made.create()
    finally:
        made.remove()


def failover(
    synchronous: bool = True,
    burst_before: float = 2.0,
    burst_after: float = 1.5,
    log: Path | None = None,
) -> Outcome:
    """Run the scenario on a fresh pair; ``log``: the server's standard error goes there."""
    outcome = Outcome(synchronous=synchronous)
    started = time.monotonic()
    with pair(synchronous) as clusters:
        outcome.seconds["clusters"] = time.monotonic() - started
        url = clusters.url()
        poster_token, reader_token = tokens(url)
        outcome.seconds["tokens"] = time.monotonic() - started
        server = Server(url, errors=log)
        # The layout of compose.yaml: the node serves, a worker runs the projections.
        server.env["MLOB_PROJECTIONS"] = "workers"
        worker: subprocess.Popen[bytes] | None = None
        verify: subprocess.Popen[str] | None = None
        stop_posting, stop_feeds = threading.Event(), threading.Event()
        posters = [Poster(server.url, poster_token, stop_posting) for _ in range(6)]
        feeds = [FeedClient(server.ws_url, reader_token, stop_feeds) for _ in range(2)]
        try:
            with open(log or os.devnull, "ab") as errors:
                worker = subprocess.Popen(
                    [sys.executable, "-m", "mlob.cli", "worker"],
                    env={**os.environ, "MLOB_DATABASE_URL": url},
                    cwd=ROOT,
                    stdout=subprocess.DEVNULL,
                    stderr=errors,
                )
            server.start()
            # The worker has built the projections (tokens' events) before the burst begins.
            assert caught_up(url, server.last_position(), timeout=60), "the worker did not start"
            outcome.seconds["server"] = time.monotonic() - started
            for thread in (*feeds, *posters):
                thread.start()
            time.sleep(burst_before)
            outcome.stop_asked_at = time.monotonic()
            clusters.primary.stop_immediately()
            outcome.stopped_at = time.monotonic()  # its postmaster is gone
            feeds[1].cut.set()  # one feed reconnects during the switch, one stays connected
            clusters.standby.promote()
            outcome.promoted_at = time.monotonic()
            deadline = time.monotonic() + 30
            while outcome.recovered_at is None and time.monotonic() < deadline:
                time.sleep(0.05)
                after = [
                    a.answered
                    for p in posters
                    for a in list(p.answers)
                    if a.status == 201 and a.sent > outcome.stopped_at
                ]
                outcome.recovered_at = min(after) if after else None
            time.sleep(burst_after)
            stop_posting.set()
            for p in posters:
                p.join(timeout=30)
            outcome.seconds["burst"] = time.monotonic() - started
            # ``mlob audit verify`` as an operator runs it, once nothing is posted any more;
            # meanwhile the feeds, the projections and a rebuild are checked here.
            verify = subprocess.Popen(
                [sys.executable, "-m", "mlob.cli", "audit", "verify"],
                env={**os.environ, "MLOB_DATABASE_URL": url},
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for p in posters:
                outcome.acked.update(p.acked)
                outcome.answers += p.answers
                outcome.unexpected += p.unexpected
            with psycopg.connect(parse_database_url(url).connect_info(), autocommit=True) as conn:
                outcome.index = [
                    (int(position), str(message_id))
                    for position, message_id in conn.execute(
                        "SELECT position, message_id FROM mlob_event_index "
                        "WHERE message_id = ANY(%s) ORDER BY position",
                        (list({a.message_id for a in outcome.answers}),),
                    ).fetchall()
                ]
                head = conn.execute("SELECT max(position) FROM mlob_event_index").fetchone()
            for _, message_id in outcome.index:
                outcome.recorded[message_id] = outcome.recorded.get(message_id, 0) + 1
            burst = {p for p, _ in outcome.index}
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not all(burst <= set(f.positions) for f in feeds):
                time.sleep(0.1)
            stop_feeds.set()
            for f in feeds:
                f.join(timeout=10)
            outcome.feeds = [list(f.positions) for f in feeds]
            outcome.feed_connections = [f.connections for f in feeds]
            outcome.feed_closes = [list(f.closes) for f in feeds]
            outcome.seconds["feeds"] = time.monotonic() - started
            deadline = time.monotonic() + 10  # the node is ready again on the new primary
            while time.monotonic() < deadline:
                ready = httpx.get(f"{server.url}/health/ready", timeout=5)
                outcome.ready = (ready.status_code, ready.json())
                if ready.status_code == 200:
                    break
                time.sleep(0.2)
            if head is not None and caught_up(url, int(head[0]), timeout=20):
                outcome.rows_before = rows(url)
        except BaseException:
            if verify is not None:
                verify.kill()
            raise
        finally:
            stop_posting.set()
            stop_feeds.set()
            server.kill()
            if worker is not None:
                worker.kill()
                worker.wait(timeout=10)
        outcome.seconds["caught up"] = time.monotonic() - started
        try:
            if outcome.rows_before:
                outcome.rows_rebuilt = rebuilt_rows(url)
            outcome.seconds["rebuilt"] = time.monotonic() - started
            assert verify is not None
            out, err = verify.communicate(timeout=60)
        finally:
            if verify is not None:
                verify.kill()
        outcome.verify = subprocess.CompletedProcess(verify.args, verify.returncode, out, err)
        outcome.seconds["verified"] = time.monotonic() - started
    outcome.seconds["total"] = time.monotonic() - started
    return outcome
