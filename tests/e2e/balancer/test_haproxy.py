"""Two ``mlob serve`` nodes and a ``mlob worker`` behind Debian's HAProxy, run on
mlob/deploy/haproxy.cfg — the file compose.yaml mounts — with this machine's addresses in its
environment. One node is SIGKILLed under load: clients that retry with the same message id
through the balancer lose no acknowledged event and record none twice, feed clients reconnect
through the balancer and resume on the other node without gap or duplicate, and the balancer
stops sending to the dead node."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
import pytest
from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

from tests import ROOT
from tests.conftest import POSTGRES_URL, _dsn, fresh_schema, require_program
from tests.servers import Server, free_port, incident_opened, issue_token

pytestmark = pytest.mark.postgres

CONFIG = ROOT / "mlob/deploy/haproxy.cfg"
#: ``srv_op_state`` in ``show servers state``: 0 stopped, 2 running.
STOPPED, RUNNING = 0, 2


class Balancer:
    """Debian's ``haproxy`` in the foreground on mlob/deploy/haproxy.cfg, in front of ``nodes``
    (``node1``, ``node2`` in the config), on a free port, with its admin socket in ``tmp``."""

    def __init__(self, nodes: list[Server], tmp: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/v1/feed"
        self.stats = tmp / "haproxy.sock"
        self.log = tmp / "haproxy.log"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "MLOB_NODE1": f"127.0.0.1:{nodes[0].port}",
            "MLOB_NODE2": f"127.0.0.1:{nodes[1].port}",
            "MLOB_LB_BIND": f"127.0.0.1:{self.port}",
            "MLOB_LB_STATS": str(self.stats),
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Balancer:
        tool = require_program("haproxy")
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [tool, "-db", "-f", str(CONFIG)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        # Servers start as up: wait until a health check of each passed.
        deadline = time.monotonic() + 20
        while self.checks() != {"node1": "L7OK", "node2": "L7OK"}:
            assert time.monotonic() < deadline, self.log.read_text(errors="replace")[-2000:]
            time.sleep(0.1)
        return self

    def checks(self) -> dict[str, str]:
        """The last health check's result per node (``show stat``'s ``check_status``)."""
        try:
            lines = self.command("show stat").splitlines()
        except OSError:  # the socket is not there yet
            return {}
        header = lines[0].lstrip("# ").split(",")
        rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
        return {r["svname"]: r["check_status"] for r in rows if r["svname"].startswith("node")}

    def command(self, line: str) -> str:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(str(self.stats))
            s.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def states(self) -> dict[str, int]:
        """Each node's operational state as HAProxy sees it (``show servers state``)."""
        lines = self.command("show servers state nodes").splitlines()
        header = next(line for line in lines if line.startswith("# be_id")).split()[1:]
        states = {}
        for line in lines:
            if line and line[0].isdigit() and len(line.split()) > 2:
                row = dict(zip(header, line.split(), strict=False))
                states[row["srv_name"]] = int(row["srv_op_state"])
        return states

    def wait_for(self, condition: Any, timeout: float) -> float:
        """Wait until ``condition(states)``; returns when it first held (monotonic)."""
        deadline = time.monotonic() + timeout
        states: dict[str, int] = {}
        while time.monotonic() < deadline:
            try:
                states = self.states()
            except OSError:  # the socket is not there yet
                states = {}
            if condition(states):
                return time.monotonic()
            time.sleep(0.05)
        log = self.log.read_text(errors="replace")[-2000:]
        raise AssertionError(f"haproxy's servers stayed {states}; its log:\n{log}")

    def stop(self) -> None:
        if self.proc is not None:
            os.killpg(self.proc.pid, 9)
            self.proc.wait(timeout=10)
            self.proc = None


class Worker:
    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mlob.cli", "worker"],
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def stop(self) -> None:
        os.killpg(self.proc.pid, 9)
        self.proc.wait(timeout=10)


@dataclass
class Answer:
    sent: float  # when the request was sent (monotonic)
    status: int  # 0: no answer (connection error)
    node: str
    message_id: str
    position: int = 0
    error: str = ""


@dataclass
class Load:
    """Threads posting new incidents through the balancer; a post that gets a 5xx or no answer
    is sent again with the same message id (and body) until it gets its 201."""

    url: str
    token: str
    stop: threading.Event = field(default_factory=threading.Event)
    answers: list[Answer] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def run(self) -> None:
        with httpx.Client(
            base_url=self.url, timeout=10, headers={"Authorization": f"Bearer {self.token}"}
        ) as client:
            while not self.stop.is_set():
                body = incident_opened("load")
                message_id = body["message_id"]
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline:  # finished even when told to stop
                    sent = time.monotonic()
                    try:
                        response = client.post("/v1/events", json=body)
                    except httpx.HTTPError as exc:
                        error = type(exc).__name__
                        self.answers.append(Answer(sent, 0, "", message_id, 0, error))
                        time.sleep(0.05)
                        continue
                    node = response.headers.get("x-mlob-node", "")
                    if response.status_code == 201:
                        position = response.json()["events"][0]["position"]
                        self.answers.append(Answer(sent, 201, node, message_id, position))
                        break
                    self.answers.append(Answer(sent, response.status_code, node, ""))
                    if response.status_code < 500:
                        self.errors.append(response.text)
                        return
                    time.sleep(0.05)
                else:
                    self.errors.append(f"{message_id} never acknowledged")
                    return

    def acked(self) -> dict[str, int]:
        return {a.message_id: a.position for a in self.answers if a.status == 201}


@dataclass
class Follower:
    """A feed client through the balancer: on any loss it reconnects there and subscribes with
    ``after`` = the last frame's position."""

    url: str
    token: str
    until: list[int]  # holds the last position to wait for once the load has stopped
    quit: threading.Event  # the test ends
    events: list[tuple[int, str]] = field(default_factory=list)
    connections: list[tuple[float, str]] = field(default_factory=list)  # (when, node)
    position: int = 0
    losses: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def run(self) -> None:
        auth = {"Authorization": f"Bearer {self.token}"}
        while not self.done():
            try:
                with connect(self.url, additional_headers=auth, open_timeout=5) as ws:
                    assert ws.response is not None
                    node = ws.response.headers.get("X-Mlob-Node", "")
                    self.connections.append((time.monotonic(), node))
                    ws.send(
                        orjson.dumps({"subscribe": ["national"], "after": self.position}).decode()
                    )
                    while not self.done():
                        try:
                            self.receive(orjson.loads(ws.recv(timeout=0.5)))
                        except TimeoutError:
                            continue
            except (WebSocketException, OSError) as exc:
                self.losses.append(repr(exc))
                time.sleep(0.1)

    def done(self) -> bool:
        return self.quit.is_set() or (bool(self.until) and self.position >= self.until[0])

    def receive(self, message: dict[str, Any]) -> None:
        if message["type"] == "frame":
            for event in message["events"]:
                self.events.append((event["position"], event["message_id"]))
            self.position = max(self.position, message["position"])
        elif message["type"] == "error":
            self.errors.append(str(message))


def wait_ready(url: str) -> None:
    deadline = time.monotonic() + 20
    while httpx.get(f"{url}/health/ready", timeout=3).status_code != 200:
        assert time.monotonic() < deadline, "node not ready"
        time.sleep(0.1)


@pytest.fixture
def schema() -> Iterator[str]:
    with fresh_schema("lb20") as name:
        yield name


def test_a_node_killed_under_load_behind_haproxy(schema: str, tmp_path: Path) -> None:
    url = f"{POSTGRES_URL}?schema={schema}"
    env = {"MLOB_PROJECTIONS": "workers"}
    operator = issue_token(url, "VR08", "operator")
    coordinator = issue_token(url, "LOCC", "coordinator")
    nodes = [Server(url, env=env), Server(url, env=env)]
    worker: Worker | None = None
    balancer: Balancer | None = None
    threads: list[threading.Thread] = []
    stop, quit = threading.Event(), threading.Event()
    until: list[int] = []
    try:
        for node in nodes:
            node.start()
            wait_ready(node.url)
        worker = Worker({**env, "MLOB_DATABASE_URL": url})
        balancer = Balancer(nodes, tmp_path).start()
        followers = [Follower(balancer.ws_url, coordinator, until, quit) for _ in range(4)]
        for follower in followers:  # one at a time: leastconn puts two on each node
            threads.append(threading.Thread(target=follower.run, daemon=True))
            threads[-1].start()
            deadline = time.monotonic() + 10
            while not follower.connections:
                assert time.monotonic() < deadline, follower.losses
                time.sleep(0.02)
        assert sorted(node for f in followers for _, node in f.connections) == [
            "node1",
            "node1",
            "node2",
            "node2",
        ]
        load = Load(balancer.url, operator, stop)
        loaders = [threading.Thread(target=load.run, daemon=True) for _ in range(4)]
        for thread in loaders:
            thread.start()
        time.sleep(3)
        assert {a.node for a in load.answers if a.status == 201} == {"node1", "node2"}

        killed_at = time.monotonic()
        nodes[0].kill()  # SIGKILL
        detected = balancer.wait_for(lambda s: s.get("node1") == STOPPED, 10)
        assert balancer.states()["node2"] == RUNNING
        time.sleep(4)  # the load goes on against the survivor
        stop.set()
        for thread in loaders:
            thread.join(timeout=30)
        assert not load.errors, load.errors[:3]

        # Every acknowledged event is in the store exactly once, at its receipt's position, and
        # nothing of the load is there that no client was told about.
        acked = load.acked()
        with psycopg.connect(_dsn(), autocommit=True) as conn:
            stored = conn.execute(
                f'SELECT position, message_id FROM "{schema}".mlob_event_index '
                "WHERE actor_org = 'VR08' ORDER BY position"
            ).fetchall()
        assert sorted(acked.items(), key=lambda kv: kv[1]) == [(m, p) for p, m in stored]
        after_kill = [a for a in load.answers if a.sent > killed_at]
        assert any(a.status == 201 for a in after_kill), "the survivor took over the load"

        # The balancer stopped sending to the dead node: once it had it down, every request was
        # answered by the survivor, with a 201.
        after_detection = [a for a in load.answers if a.sent > detected]
        assert after_detection and {(a.status, a.node) for a in after_detection} == {(201, "node2")}

        # Every follower has every event of the load, in order, once; those that were on the
        # killed node reconnected through the balancer to the survivor and resumed there.
        until.append(stored[-1][0])
        for thread in threads:
            thread.join(timeout=20)
        for follower in followers:
            assert not follower.errors, follower.errors[:3]
            positions = [p for p, _ in follower.events]
            assert positions == sorted(set(positions)), "no duplicate, in order"
            assert set(stored) <= {(p, m) for p, m in follower.events}, "no gap"
        moved = [f for f in followers if f.connections[0][1] == "node1"]
        assert len(moved) == 2
        for follower in moved:
            assert [node for _, node in follower.connections[1:]] == ["node2"], follower.connections

        # The worker kept projecting: the survivor's read model lists every incident (in pages).
        listed: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"min_position": stored[-1][0], "wait": 10, "limit": 500}
            if cursor:
                params["cursor"] = cursor
            incidents = httpx.get(
                f"{balancer.url}/v1/incidents",
                params=params,
                headers={"Authorization": f"Bearer {coordinator}"},
                timeout=15,
            )
            assert incidents.status_code == 200, incidents.text
            assert incidents.headers["x-mlob-node"] == "node2"
            listed += incidents.json()["items"]
            cursor = incidents.json()["next"]
            if not cursor:
                break
        assert sum(1 for i in listed if i["title"] == "load") == len(acked)
        print(
            f"\nbalancer: {len(acked)} acknowledged, "
            f"{sum(1 for a in load.answers if a.status != 201)} retried answers "
            f"({sorted({(a.status, a.error) for a in load.answers if a.status != 201})}), "
            f"node1 down after {detected - killed_at:.2f} s"
        )
    finally:
        stop.set()
        quit.set()
        if balancer is not None:
            balancer.stop()
        if worker is not None:
            worker.stop()
        for node in nodes:
            node.kill()
