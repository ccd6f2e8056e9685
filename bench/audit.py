"""Audit reads on the projection benchmark's history (schema bench_projections, ~210,000
events: run bash bench/projections.sh first): one request's timeline, and the picture as of a
moment on both axes. Prints the figures and the command.

    .venv/bin/python bench/audit.py
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.audit import timeline  # noqa: E402
from api.ports import Principal  # noqa: E402
from domain.envelope import Classification  # noqa: E402
from domain.request import AssistanceRequest  # noqa: E402
from mlob.application import MlobApplication  # noqa: E402
from mlob.config import StoreConfig  # noqa: E402
from mlob.service import Service  # noqa: E402

AUDITOR = Principal("INSP-JENV", "auditor", Classification.STATE_SECRET_SECRET)


def main() -> None:
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    config = StoreConfig(
        kind="postgresql",
        host="127.0.0.1",
        port=5432,
        user="postgres",
        dbname="test",
        schema="bench_projections",
    )
    service = Service(MlobApplication(config))
    events = service.last_position()
    if events == 0:
        sys.exit("run bash bench/projections.sh first (it leaves schema bench_projections)")
    requests = service.app.index.streams_created_as([AssistanceRequest.Created.TOPIC])
    rng = random.Random(1)
    sample = rng.sample(requests, min(200, len(requests)))
    timeline(service, AssistanceRequest, sample[0], AUDITOR)  # warm the pool
    took = []
    for subject in sample:
        started = time.perf_counter()
        timeline(service, AssistanceRequest, subject, AUDITOR)
        took.append((time.perf_counter() - started) * 1000)
    took.sort()
    result = {
        "commit": commit,
        "events": events,
        "timeline_ms": {
            "p50": round(statistics.median(took), 1),
            "p99": round(took[int(0.99 * (len(took) - 1))], 1),
            "n": len(took),
        },
    }
    print(
        f"history: {events:,} events; one request's timeline over {len(took)} requests: "
        f"p50 {result['timeline_ms']['p50']} ms, p99 {result['timeline_ms']['p99']} ms "
        "(target <= 50 ms)"
    )
    last = service.app.history(after=events - 1, limit=1)[0].record.entry.recorded_at
    for axis in ("recorded", "occurred"):
        moment = last - timedelta(seconds=5)
        started = time.perf_counter()
        rows, position = service.rows_as_of(moment, axis)
        seconds = time.perf_counter() - started
        result[f"as_of_{axis}_s"] = round(seconds, 2)
        print(
            f"picture as of a moment near the end ({axis} axis): {seconds:.2f} s, "
            f"{sum(len(r) for r in rows.values()):,} rows, position {position:,} "
            f"({events / seconds:,.0f} events/s replayed; target <= 2 s at 1M events)"
        )
    service.app.close()
    print(json.dumps(result))
    print("reproduce with: bash bench/projections.sh && .venv/bin/python bench/audit.py")


if __name__ == "__main__":
    main()
