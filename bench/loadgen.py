"""Open-loop load at a fixed offered rate, in its own process: latency is measured from each
request's scheduled time (no coordinated omission). Prints one JSON line.

    python bench/loadgen.py URL TOKEN RATE SECONDS INCIDENTS_FILE
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from bench/

from bench.common import open_loop, post_event

#: The write benchmark's mix: this share opens an incident, the rest report on existing ones.
MIX_OPENED = 0.3


def event_doc(incidents: list[str], occurred: str, rng: Any = random) -> dict[str, Any]:
    """One event of the mix (``rng``: a ``random.Random`` for a repeatable sequence)."""
    if rng.random() < MIX_OPENED:
        return {
            "type": "incident.opened",
            "subject": str(uuid4()),
            "message_id": str(uuid4()),
            "occurred_at": occurred,
            "data": {"title": "bench incident", "regions": ["VR08"], "grip": "1"},
        }
    return {
        "type": "incident.situation_reported",
        "subject": rng.choice(incidents),
        "message_id": str(uuid4()),
        "occurred_at": occurred,
        "data": {"summary": "water level report"},
    }


def body(incidents: list[str], occurred: str, rng: Any = random) -> bytes:
    return json.dumps(event_doc(incidents, occurred, rng)).encode()


async def main(url: str, token: str, rate: float, seconds: float, incidents: list[str]) -> None:
    parts = urlsplit(url)
    occurred = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(64):
        idle.put_nowait(await asyncio.open_connection(parts.hostname, parts.port))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    by_second: dict[int, list[float]] = {}  # by scheduled second: when a stall happened

    async def one(scheduled: float) -> None:
        reader, writer = await idle.get()
        status, _ = await post_event(reader, writer, token, body(incidents, occurred))
        latencies.append(time.perf_counter() - scheduled)
        by_second.setdefault(int(scheduled - start), []).append(latencies[-1])
        statuses[status] = statuses.get(status, 0) + 1
        idle.put_nowait((reader, writer))

    start = time.perf_counter()
    total = int(rate * seconds)
    await open_loop(one, rate, total, start)
    elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 1)

    print(
        json.dumps(
            {
                "offered_per_s": rate,
                "achieved_per_s": round(total / elapsed),
                "requests": total,
                "statuses": statuses,
                "p50_ms": pct(0.50),
                "p90_ms": pct(0.90),
                "p99_ms": pct(0.99),
                "max_ms": pct(1.0),
                "max_ms_by_second": [
                    round(max(by_second.get(i, [0.0])) * 1000, 1) for i in range(int(seconds))
                ],
            }
        )
    )


if __name__ == "__main__":
    url, token, rate, seconds, incidents_file = sys.argv[1:6]
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    with open(incidents_file) as f:
        ids = json.load(f)
    asyncio.run(main(url, token, float(rate), float(seconds), ids))
