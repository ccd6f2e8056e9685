"""The projection worker's CPU per event (issue 25), and where it goes: bench/run.sh's layout (one
``mlob serve`` with ``MLOB_PROJECTIONS=workers``, one ``mlob worker``: projections, picture
checkpoints, webhooks, board clock) on PostgreSQL, ``wrk`` posting bench/run.sh's mix (single
events or batches of 100) to 500 seeded incidents, without feed subscribers.

For each checkout in ``CODES`` (colon-separated trees, each with its .venv; default: this one),
in turn per round (``ROUNDS``, default 3) and per ``BATCHES`` (default ``1,100``), on a fresh
schema: the worker's, server's and PostgreSQL's CPU µs per recorded event over wrk's run
(``run``: what bench/run.sh reports) and up to the moment the worker has done all these events
gave it (``done``: the projections at the top, then a second of less than ``QUIET`` CPU: picture
checkpoints and the webhook runner's reading go on after the projections caught up), and the
worker's CPU per second with nothing posted for ``IDLE`` seconds after it (its polling).
Then each checkout's median per figure.
``PROFILE=1``: py-spy samples the worker during the batch runs instead, and its busy samples'
inclusive shares are printed (``PROFILE_MATCH`` to list only frames whose name holds it).

Reproduce: ``flock -x /work/bench.lock .venv/bin/python bench/profile_worker.py``
(``CODES=../base:. SECONDS_=8``).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench import lua
from bench.common import (
    DSN,
    cpu_seconds,
    database_url,
    events_in,
    fresh_schema,
    seed,
    stop,
    wait_for,
)
from bench.profile_writes import SPY, py_spy, shares

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = "bench_profile_worker"
PORT = 8797
CODES = [Path(c).resolve() for c in os.environ.get("CODES", str(ROOT)).split(":")]
ROUNDS = int(os.environ.get("ROUNDS", "3"))
BATCHES = [int(b) for b in os.environ.get("BATCHES", "1,100").split(",")]
SECONDS = int(os.environ.get("SECONDS_", "8"))
PROFILE = os.environ.get("PROFILE", "") not in ("", "0")
MATCH = os.environ.get("PROFILE_MATCH", "")
#: Seconds the worker is watched with nothing posted, after each run.
IDLE = 3
#: CPU seconds per second below which the worker counts as done (idle: ~0.04, polling).
QUIET = 0.1


def launch(code: Path, args: list[str], env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
    log = Path(tempfile.gettempdir(), f"mlob-{SCHEMA}-{name}.log").open("wb")  # noqa: SIM115
    return subprocess.Popen(
        [str(code / ".venv/bin/python"), "-m", "mlob.cli", *args],
        env={**os.environ, **env},
        cwd=code,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def token(code: Path, env: dict[str, str]) -> str:
    out = subprocess.run(
        [
            *(str(code / ".venv/bin/python"), "-m", "mlob.cli", "tokens", "issue"),
            *("--org", "VR08", "--role", "operator", "--clearance=ongerubriceerd"),
        ],
        env={**os.environ, **env},
        cwd=code,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def caught_up(top: int, timeout: float = 120) -> float:
    """Wait until every projection's stored position is at ``top``; the seconds it took."""
    started = time.monotonic()
    with psycopg.connect(DSN, autocommit=True) as conn:
        while time.monotonic() - started < timeout:
            sql = f'SELECT min(position) FROM "{SCHEMA}".mlob_view_tracking'
            row = conn.execute(sql).fetchone()
            if row and row[0] is not None and row[0] >= top:
                return time.monotonic() - started
            time.sleep(0.05)
    raise RuntimeError(f"the worker did not reach {top}")


def quiet(pids: dict[str, int], timeout: float = 120) -> float:
    """Wait until the worker has done what these events gave it (picture checkpoints and the
    webhook runner's reading too, after the projections): a second in which it used less than
    ``QUIET`` of a CPU; the seconds it took."""
    started = time.monotonic()
    last = cpu_seconds(pids)["worker"]
    while time.monotonic() - started < timeout:
        time.sleep(1)
        now = cpu_seconds(pids)["worker"]
        if now - last < QUIET:
            return time.monotonic() - started
        last = now
    raise RuntimeError("the worker did not settle")


def measure(code: Path, batch: int, run: int) -> dict[str, Any]:
    fresh_schema(SCHEMA)
    env = {"MLOB_DATABASE_URL": database_url(SCHEMA), "MLOB_PROJECTIONS": "workers"}
    issued = token(code, env)
    server = launch(code, ["serve", "--port", str(PORT), "--log-level", "warning"], env, "serve")
    worker = launch(code, ["worker"], env, "worker")
    raw = Path(tempfile.gettempdir(), f"mlob-{SCHEMA}-spy.txt")
    try:
        url = f"http://127.0.0.1:{PORT}"
        wait_for(f"{url}/health")
        script = lua(issued, seed(url, issued, 500), batch, run)
        caught_up(events_in(SCHEMA))
        pids = {"server": server.pid, "worker": worker.pid}
        before, first = cpu_seconds(pids), events_in(SCHEMA)
        wrk = ["wrk", "-t2", "-c16", f"-d{SECONDS}s", "--timeout=10s", "-s", str(script), url]
        if PROFILE:
            load = subprocess.Popen(wrk, stdout=subprocess.DEVNULL)
            subprocess.run(
                [
                    *(str(py_spy()), "record", "-p", str(worker.pid), "-r", "100"),
                    *("-d", str(SECONDS), "-f", "raw", "-o", str(raw)),
                ],
                env={**os.environ, "PYTHONPATH": str(SPY)},
                capture_output=True,
                check=True,
            )
            load.wait()
        else:
            subprocess.run(wrk, capture_output=True, check=True)
        during, last = cpu_seconds(pids), events_in(SCHEMA)
        lag = caught_up(last)
        settled = quiet(pids)
        after = cpu_seconds(pids)
        time.sleep(IDLE)  # nothing posted: what the worker costs per second by itself
        idle = cpu_seconds(pids)
    finally:
        stop(server)
        stop(worker)
    n = max(last - first, 1)
    figures: dict[str, Any] = {
        "events": n,
        "events_per_s": round(n / SECONDS),
        "lag_s": round(lag, 2),
        "settled_s": round(settled, 1),
        "run": {k: round((during[k] - before[k]) / n * 1e6, 1) for k in during},
        "done": {k: round((after[k] - before[k]) / n * 1e6, 1) for k in after},
        "idle_worker_ms_per_s": round((idle["worker"] - after["worker"]) / IDLE * 1e3, 1),
    }
    if PROFILE:
        busy, found = shares(raw)
        print(f"worker busy samples {busy}; inclusive shares:")
        for frame, share in found[:250]:
            if MATCH in frame and share >= 0.5:
                print(f"{share:5.1f} %  {frame}")
    return figures


def main() -> None:
    results: dict[str, dict[int, list[dict[str, Any]]]] = {str(c): {} for c in CODES}
    run = 100
    for round_ in range(ROUNDS):
        for code in CODES if round_ % 2 == 0 else CODES[::-1]:
            for batch in BATCHES:
                run += 1
                figures = measure(code, batch, run)
                results[str(code)].setdefault(batch, []).append(figures)
                print(f"{code} batch {batch}: {json.dumps(figures)}", flush=True)
    print(f"medians over {ROUNDS} rounds (worker µs per event; load {os.getloadavg()[0]:.1f}):")
    for code, by_batch in results.items():
        for batch, runs in by_batch.items():
            med = {
                when: {
                    k: statistics.median(r[when][k] for r in runs) for k in ("worker", "postgres")
                }
                for when in ("run", "done")
            }
            med["idle_worker_ms_per_s"] = statistics.median(r["idle_worker_ms_per_s"] for r in runs)
            rate = statistics.median(r["events_per_s"] for r in runs)
            print(f"{code} batch {batch}: {rate:.0f} events/s {json.dumps(med)}")
    print("reproduce: flock -x /work/bench.lock .venv/bin/python bench/profile_worker.py")


if __name__ == "__main__":
    main()
