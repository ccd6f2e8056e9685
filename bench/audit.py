"""Audit reads on a 1M-event history: the picture as of a moment (picture checkpoints plus the
events near the moment) on both time axes, one request's timeline, and the full-replay
baseline. Prints the figures and the command.

The history (schema ``bench_audit``, BENCH_AUDIT_EVENTS, default 1,000,000) is loaded once
through the posting path (bench/projections.py's ``History``): a realistic mix for years of
operations — 1% of incident events open an incident, the rest are situation reports, GRIP and
phase changes come with the requests; about 25% request lifecycles and capacity movements; 2%
of the events are entered afterwards (occurred 10 minutes to 3 hours before they were
recorded), so the two axes differ. A later run reuses the schema when it holds enough events
(BENCH_AUDIT_FRESH=1 reloads). Then it writes the picture checkpoints as a server would (one
every MLOB_PICTURE_CHECKPOINT_EVERY positions, default 10,000 as mlob's), times the picture as of 40
moments spread over each axis (rows from the checkpoint and tail, then the picture and the
capacity overview for an auditor, as ``GET /v1/picture?as_of=`` computes them), and — the
baseline, in the same run — the same picture from a full replay (BENCH_AUDIT_BASELINE=0 skips
it: it takes minutes). Each answer's wall time and CPU time (``time.process_time``: this
process's, PostgreSQL's not counted) are reported, with the load average around each phase.
BENCH_AUDIT_RUNS picks the readers and axes (default every reader on both axes:
``auditor:recorded,auditor:occurred,region:recorded,region:occurred``; ``region`` is the
uncleared VR08 operator of issue 16), BENCH_AUDIT_MOMENTS the moments per run (40).

    bash bench/audit.sh        # or: .venv/bin/python bench/audit.py
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api import paging  # noqa: E402
from api.audit import timeline  # noqa: E402
from api.ports import Principal  # noqa: E402
from bench import common  # noqa: E402
from bench import projections as bp  # noqa: E402
from domain.envelope import Classification  # noqa: E402
from domain.exercise import ExerciseScope  # noqa: E402
from domain.request import AssistanceRequest  # noqa: E402
from mlob.bootstrap import tune_runtime  # noqa: E402
from mlob.config import StoreConfig, parse_database_url  # noqa: E402
from mlob.read.pictures import CODE_VERSION, PictureCheckpoints  # noqa: E402
from mlob.read.pictures import EVERY as PICTURES_EVERY  # noqa: E402
from mlob.read.readstore import open_read_store  # noqa: E402
from mlob.runners.projector import Projections  # noqa: E402
from mlob.service import Service  # noqa: E402
from mlob.write.application import MlobApplication  # noqa: E402
from projections import readmodels as rm  # noqa: E402
from projections.specs import PROJECTIONS  # noqa: E402

SCHEMA = os.environ.get("BENCH_AUDIT_SCHEMA", "bench_audit")
EVENTS = int(os.environ.get("BENCH_AUDIT_EVENTS", "1000000"))
EVERY = int(os.environ.get("MLOB_PICTURE_CHECKPOINT_EVERY", str(PICTURES_EVERY)))
MOMENTS = int(os.environ.get("BENCH_AUDIT_MOMENTS", "40"))
AUDITOR = Principal("INSP-JENV", "auditor", Classification.STATE_SECRET_SECRET)
#: Issue 16: an uncleared region's reader (scope VR08, clearance ongerubriceerd).
REGION = Principal("VR08", "operator", Classification.UNCLASSIFIED)
#: The share of situation reports marked Stg. Geheim (BENCH_AUDIT_CLASSIFIED).
CLASSIFIED = float(os.environ.get("BENCH_AUDIT_CLASSIFIED", "0.02"))
TARGET_S, TARGET_TIMELINE_MS = 2.0, 50.0
READERS = {"auditor": AUDITOR, "region": REGION}
RUNS = os.environ.get(
    "BENCH_AUDIT_RUNS", "auditor:recorded,auditor:occurred,region:recorded,region:occurred"
)


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def load(config: StoreConfig) -> dict[str, Any]:
    common.fresh_schema(SCHEMA)
    service = Service(MlobApplication(config))
    bp.out(f"loading >= {EVENTS:,} events into schema {SCHEMA} (minutes) ...")
    started = time.perf_counter()
    history = bp.History(
        service, datetime.now(UTC), new_incidents=0.01, late=0.02, classified=CLASSIFIED
    )
    history.build(EVENTS)
    took = time.perf_counter() - started
    service.app.close()
    with psycopg.connect(common.DSN, autocommit=True) as conn:
        conn.execute(f'VACUUM ANALYZE "{SCHEMA}".mlob_events')
        conn.execute(f'VACUUM ANALYZE "{SCHEMA}".mlob_event_index')
    bp.out(f"loaded {history.posted:,} events in {took:.0f} s ({history.posted / took:,.0f}/s)")
    return {"seconds": round(took), "events_per_s": round(history.posted / took)}


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 3),
        "p99": round(ordered[int(0.99 * (len(ordered) - 1))], 3),
        "max": round(ordered[-1], 3),
        "n": len(ordered),
    }


def picture_for(
    service: Service, moment: datetime, axis: str, checkpoints: bool, reader: Principal
) -> tuple[dict[str, Any], dict[str, Any], int]:
    """What ``GET /v1/picture?as_of=`` and ``GET /v1/capacity-overview?as_of=`` answer ``reader``
    (api/readviews.py), through the same functions: the rows as of ``moment``, those within the
    reader's clearance (real subjects: the routes' default ``exercise=false``), the picture's
    summary and its first page of incidents within the reader's scope (the route's default
    ``limit``; the one access policy, domain/policy.py, behind ``picture_page``), and the
    capacity overview. Returns the two
    answers' bodies without their metadata, and how many rows were replayed.
    tests/integration/test_bench_imports.py checks the bodies against the routes' answers."""
    rows, _ = service.rows_as_of(moment, axis, checkpoints)
    incidents, requests, capacities = (
        rm.visible(rows[name], reader.clearance, ExerciseScope.REAL)
        for name in ("incidents", "requests", "capacities")
    )
    page = rm.picture_page(reader, incidents, requests, 0, paging.DEFAULT_LIMIT)
    picture = {"incidents": page.items(), "summary": page.summary}
    overview = rm.capacity_overview(capacities, requests)
    return picture, overview, sum(len(r) for r in rows.values())


def picture_as_of(
    service: Service, moment: datetime, axis: str, checkpoints: bool, reader: Principal = AUDITOR
) -> int:
    """The picture and the capacity overview as of ``moment`` for ``reader``; rows counted."""
    return picture_for(service, moment, axis, checkpoints, reader)[2]


def main() -> None:
    run = bp.header()
    run["schema"] = SCHEMA
    bp.out(json.dumps(run, indent=1))
    results: dict[str, Any] = {"run": run}
    config = parse_database_url(common.database_url(SCHEMA))
    if os.environ.get("BENCH_AUDIT_FRESH") == "1" or common.events_in(SCHEMA) < EVENTS:
        results["load"] = load(config)
    else:
        bp.out(f"reusing schema {SCHEMA} (BENCH_AUDIT_FRESH=1 reloads)")
    tune_runtime()  # the process settings of mlob serve and mlob worker
    app = MlobApplication(config)
    store = open_read_store(config, [p.name for p in PROJECTIONS])
    service = Service(app)
    service.attach_projections(Projections(app, store, clock=lambda: datetime.now(UTC)))
    events = app.last_position()
    results["events"] = events

    with bp.Phase("checkpoints") as phase:
        started = time.perf_counter()
        written = PictureCheckpoints(app, store, EVERY).advance()
        took = time.perf_counter() - started
    checkpoints = store.picture_checkpoints(CODE_VERSION)
    sizes = [c["size"] for c in checkpoints]
    results["checkpoints"] = {
        "every": EVERY,
        "written_now": len(written),
        "seconds_now": round(took, 1),
        "count": len(checkpoints),
        "bytes_total": sum(sizes),
        "bytes_last": sizes[-1] if sizes else 0,
        **phase.note(),
    }
    bp.out(
        f"picture checkpoints: {len(checkpoints)} (every {EVERY:,} positions), "
        f"{len(written)} written now in {took:.1f} s; stored {sum(sizes) / 2**20:,.0f} MiB, "
        f"the last {sizes[-1] / 2**20 if sizes else 0:.1f} MiB"
    )

    requests = app.index.streams_created_as([AssistanceRequest.Created.TOPIC])
    rng = random.Random(1)
    sample = rng.sample(requests, min(200, len(requests)))
    timeline(service, AssistanceRequest, sample[0], AUDITOR)  # warm the pool
    took_ms = []
    for subject in sample:
        started = time.perf_counter()
        timeline(service, AssistanceRequest, subject, AUDITOR)
        took_ms.append((time.perf_counter() - started) * 1000)
    results["timeline_ms"] = percentiles(took_ms)
    bp.out(
        f"one request's timeline, {len(sample)} requests: p50 {results['timeline_ms']['p50']} "
        f"ms, p99 {results['timeline_ms']['p99']} ms (target <= {TARGET_TIMELINE_MS:.0f} ms)"
    )

    first, last = app.history(after=0, limit=1)[0], app.history(after=events - 1, limit=1)[0]
    with psycopg.connect(common.DSN) as conn:
        occurred = conn.execute(
            f'SELECT min(occurred_at), max(occurred_at) FROM "{SCHEMA}".mlob_event_index'
        ).fetchone()
    assert occurred is not None
    spans = {
        "recorded": (first.recorded_at, last.recorded_at),
        "occurred": (occurred[0], occurred[1]),
    }
    picture_as_of(service, spans["recorded"][1], "recorded", True)  # warm the pool
    for run_name in RUNS.split(","):
        who, axis = run_name.strip().split(":")
        reader = READERS[who]
        low, high = spans[axis]
        took_s, cpu_s, rows = [], [], 0
        with bp.Phase(f"as_of {axis} {who}") as phase:
            load_before = load_average()
            for _ in range(MOMENTS):
                moment = low + (high - low) * rng.random()
                started, cpu = time.perf_counter(), time.process_time()
                rows = picture_as_of(service, moment, axis, True, reader)
                cpu_s.append(time.process_time() - cpu)
                took_s.append(time.perf_counter() - started)
        key = f"as_of_{axis}{'' if who == 'auditor' else '_' + who}_s"
        cpu_figures = percentiles(cpu_s)
        results[key] = {
            **percentiles(took_s),
            "cpu_p50": cpu_figures["p50"],
            "cpu_p99": cpu_figures["p99"],
            "cpu_mean": round(statistics.mean(cpu_s), 3),
            "rows_last": rows,
            "load_before": load_before,
            "load_after": load_average(),
            **phase.note(),
        }
        figure = results[key]
        bp.out(
            f"the picture as of a moment ({axis} axis, {reader.org} {reader.role} "
            f"{reader.clearance.value}), {MOMENTS} moments over the history: "
            f"p50 {figure['p50']} s, p99 {figure['p99']} s, max {figure['max']} s "
            f"(target <= {TARGET_S:.0f} s at 1M events); CPU per answer p50 "
            f"{figure['cpu_p50']} s, p99 {figure['cpu_p99']} s, mean {figure['cpu_mean']} s; "
            f"load average {figure['load_before']} -> {figure['load_after']}"
        )
    if os.environ.get("BENCH_AUDIT_BASELINE", "1") != "0":
        moment = spans["recorded"][0] + (spans["recorded"][1] - spans["recorded"][0]) / 2
        load_before = load_average()
        started, cpu = time.perf_counter(), time.process_time()
        picture_as_of(service, moment, "recorded", False)
        full, full_cpu = time.perf_counter() - started, time.process_time() - cpu
        started, cpu = time.perf_counter(), time.process_time()
        picture_as_of(service, moment, "recorded", True)
        fast, fast_cpu = time.perf_counter() - started, time.process_time() - cpu
        results["baseline_full_replay_s"] = round(full, 1)
        results["baseline_full_replay_cpu_s"] = round(full_cpu, 1)
        results["same_moment_from_checkpoint_s"] = round(fast, 3)
        results["same_moment_from_checkpoint_cpu_s"] = round(fast_cpu, 3)
        results["baseline_load"] = f"{load_before} -> {load_average()}"
        bp.out(
            f"baseline: the same picture (middle of the history, recorded axis) by full replay "
            f"{full:.1f} s ({full_cpu:.1f} CPU-s); from a checkpoint {fast:.3f} s "
            f"({fast_cpu:.3f} CPU-s; {full / fast:,.0f} x faster); load average "
            f"{results['baseline_load']}"
        )
    store.close()
    app.close()
    bp.out(json.dumps({k: v for k, v in results.items() if k != "run"}))
    bp.out("reproduce with: bash bench/audit.sh")


if __name__ == "__main__":
    main()
