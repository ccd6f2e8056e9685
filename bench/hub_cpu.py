"""The feed hub's CPU per event, code against code, interleaved (issue 17, the traced walk).

For each round and each checkout in ``HUB_CPU_TREES`` (comma-separated paths; default: this
checkout alone), in turn, a child process of that checkout's code: one ``Service`` on a fresh
SQLite file (no server, no projections), ``HUB_CPU_INCIDENTS`` incidents opened, then
``HUB_CPU_EVENTS`` events of bench/run.sh's mix (30 % ``incident.opened``, 70 %
``incident.situation_reported`` on those incidents) posted ``HUB_CPU_WINDOW`` at a time, each
group like one window of the live feed: the hub reads it (``FeedHub._read``: from memory,
routed and rendered) and one national reader's connection builds its frames
(``Connection.frames``). The thread CPU (``time.thread_time``) of those two steps alone is
divided by the events; the writer's work is not in it. Prints each measurement and, per
checkout, the median and its ratio to the first checkout's.

Reproduce: ``git worktree add --detach ../base <commit>`` then
``HUB_CPU_TREES=../base,$PWD .venv/bin/python bench/hub_cpu.py``.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

ROOT = Path(__file__).resolve().parent.parent
TREES = [str(Path(t).resolve()) for t in os.environ.get("HUB_CPU_TREES", str(ROOT)).split(",")]
ROUNDS = int(os.environ.get("HUB_CPU_ROUNDS", "3"))
INCIDENTS = int(os.environ.get("HUB_CPU_INCIDENTS", "200"))
EVENTS = int(os.environ.get("HUB_CPU_EVENTS", "3000"))
WINDOW = int(os.environ.get("HUB_CPU_WINDOW", "5"))


class _Socket:
    """What a connection reads of its WebSocket before it sends."""

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}


def _item(incidents: list[str], rng: random.Random) -> dict[str, Any]:
    if rng.random() < 0.3 or not incidents:
        data = {"title": "bench incident", "regions": ["VR08"], "grip": "1"}
        return {"type": "incident.opened", "subject": str(uuid4()), "data": data}
    return {
        "type": "incident.situation_reported",
        "subject": rng.choice(incidents),
        "data": {"summary": "water level report"},
    }


async def _measure() -> dict[str, float]:
    """In a child process, on the checkout's own code: µs of hub CPU per event."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.feed import Connection, FeedHub
    from api.ports import Principal
    from domain.envelope import Classification
    from mlob.config import StoreConfig
    from mlob.service import Service
    from mlob.write.application import MlobApplication

    admin = Principal(org="LOCC", role="admin", clearance=Classification.STATE_SECRET_TOP_SECRET)
    rng = random.Random(17)
    with tempfile.TemporaryDirectory() as tmp:
        service = Service(MlobApplication(StoreConfig("sqlite", sqlite_path=Path(tmp) / "m.db")))
        token = service.issue_token(
            admin, org="VR08", role="operator", clearance=Classification.UNCLASSIFIED
        ).token
        headers = {"Authorization": f"Bearer {token}"}
        client = TestClient(create_app(service))

        def post(item: dict[str, Any]) -> None:
            item.setdefault("message_id", str(uuid4()))
            item.setdefault("occurred_at", datetime.now(UTC).isoformat())
            response = client.post("/v1/events", json=item, headers=headers)
            assert response.status_code == 201, response.text

        incidents = []
        for _ in range(INCIDENTS):
            subject = str(uuid4())
            post(
                {
                    "type": "incident.opened",
                    "subject": subject,
                    "data": {"title": "seed", "regions": ["VR08"], "grip": "1"},
                }
            )
            incidents.append(subject)
        hub = FeedHub(service)
        hub.head = 0
        batch, _ = hub._read()  # the routes learn every stream, as a running hub has
        hub.head = batch.upto
        conn = Connection(hub, _Socket(), Principal("LOCC", "coordinator"))  # type: ignore[arg-type]
        conn.channels = {"national"}
        conn.cursor = hub.head
        read = frames = 0.0
        events = 0
        while events < EVENTS:
            for _ in range(WINDOW):
                post(_item(incidents, rng))
            started = time.thread_time()
            batch, _ = hub._read()
            middle = time.thread_time()
            built = conn.frames(batch)
            read += middle - started
            frames += time.thread_time() - middle
            assert built and len(batch.events) == WINDOW, (len(built), len(batch.events))
            hub.head = batch.upto
            events += WINDOW
        client.close()
        service.close()
        service.app.close()
    return {"read_us": read / events * 1e6, "frames_us": frames / events * 1e6}


def main() -> None:
    if sys.argv[1:] == ["--child"]:
        sys.path[0] = os.getcwd()  # the checkout's packages, not bench/'s modules beside this
        print(json.dumps(asyncio.run(_measure())))
        return
    results: dict[str, list[dict[str, float]]] = {tree: [] for tree in TREES}
    for run in range(ROUNDS):
        for tree in TREES:
            env = {**os.environ, "PYTHONPATH": tree}
            out = subprocess.run(  # this script, on the checkout's code
                [sys.executable, str(ROOT / "bench" / "hub_cpu.py"), "--child"],
                env=env,
                cwd=tree,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            found = json.loads(out.strip().splitlines()[-1])
            results[tree].append(found)
            print(f"round {run + 1} {tree}: {found}", flush=True)
    first = TREES[0]
    for tree in TREES:
        line = []
        for key in ("read_us", "frames_us"):
            median = statistics.median(r[key] for r in results[tree])
            base = statistics.median(r[key] for r in results[first])
            line.append(f"{key} {median:.1f} ({median / base:.2f} x)")
        print(f"{tree}: " + ", ".join(line))


if __name__ == "__main__":
    main()
