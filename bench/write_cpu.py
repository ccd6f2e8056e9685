"""Server CPU seconds per event on the write path, code against code, interleaved (issue 25).

For each round and each checkout named in ``WRITE_CPU_TREES`` (comma-separated paths; default:
this checkout alone), in turn: one ``mlob serve`` of that checkout on a fresh PostgreSQL schema
with the projections off the server (``MLOB_PROJECTIONS=workers``, no worker, as
bench/profile_writes.py), ``wrk -t2 -c16`` posting bench/run.sh's mix of single events and then
of batches of 100 to 500 seeded incidents. The server's CPU (user + system, from ``/proc``)
over a window after a warm-up is divided by the events the store recorded in that window (its
positions, read from the store), so neither wrk's rate nor the machine's other load enters the
figure. Prints every measurement and, per checkout, the median per mode and its ratio to the
first checkout's.

``WRITE_CPU_LAYOUT=run`` measures in bench/run.sh's layout instead: a ``mlob worker`` process runs
the projections and 100 feed subscribers (LOCC coordinators on ``/v1/feed``, bench/feed.py's
draining client in processes of their own) are connected while the load runs, so the feed
hub's fan-out is in the server's figure; the worker's CPU per event is printed beside it.
Each checkout runs with its own ``.venv`` when it has one (else this interpreter) and issues
its tokens with its own CLI, so an older commit (72956bf) is measured as it was.

``WRITE_CPU_RATE`` (events/s) offers single events at that fixed rate instead (bench/loadgen.py,
an open loop): under wrk's closed loop the rate, and so the size of the writer's groups and the
CPU per event, follows the machine's other load more than the code; at one offered rate every
checkout gets the same groups (as long as it keeps up: the rate printed beside it says so).

Reproduce (a baseline checkout beside this one):
``git worktree add --detach ../base <commit>`` then
``WRITE_CPU_TREES=../base,$PWD .venv/bin/python bench/write_cpu.py`` (``WRITE_CPU_ROUNDS``,
``WRITE_CPU_SECONDS``, ``WRITE_CPU_BATCHES``: e.g. ``1,100``).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench import PY, lua
from bench.common import (
    cpu_seconds,
    database_url,
    events_in,
    fresh_schema,
    issue_token,
    python_of,
    seed,
    stop,
    wait_for,
)
from bench.profile_writes import py_spy

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = "bench_write_cpu"
PORT = 8792
TREES = [
    str(Path(t).resolve())
    for t in os.environ.get("WRITE_CPU_TREES", str(Path(__file__).parent.parent)).split(",")
]
ROUNDS = int(os.environ.get("WRITE_CPU_ROUNDS", "3"))
SECONDS = int(os.environ.get("WRITE_CPU_SECONDS", "12"))
BATCHES = [int(b) for b in os.environ.get("WRITE_CPU_BATCHES", "1,100").split(",")]
RATE = os.environ.get("WRITE_CPU_RATE", "")
LAYOUT = os.environ.get("WRITE_CPU_LAYOUT", "server")
SUBSCRIBERS = int(os.environ.get("WRITE_CPU_SUBSCRIBERS", "100"))
#: A folder: py-spy records each run's server over the window into it (raw format; read it
#: with bench/profile_writes.py's ``shares``). The figures of such runs include py-spy's pauses.
SPY_INTO = os.environ.get("WRITE_CPU_SPY", "")
WARM_UP = 3


def measure(tree: str, batch: int, run: int) -> tuple[float, float, float, float]:
    """(server CPU µs per event, events per second, worker CPU µs per event, PostgreSQL CPU µs
    per event) of one run of ``tree``'s server."""
    fresh_schema(SCHEMA)
    env = {
        "MLOB_DATABASE_URL": database_url(SCHEMA),
        "MLOB_PROJECTIONS": "workers",
        "PYTHONPATH": tree,
    }
    token = issue_token(env, "VR08", "operator", code=tree)
    # A token opens at most 8 feed connections on later commits: one per 6 subscribers.
    watchers = ",".join(
        issue_token(env, "LOCC", "coordinator", code=tree)
        for _ in range(SUBSCRIBERS // 6 + 1 if LAYOUT == "run" else 0)
    )

    def spawn(*args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [python_of(tree), "-m", "mlob.cli", *args],
            env={**os.environ, **env},
            cwd=tree,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    server = spawn("serve", "--port", str(PORT), "--log-level", "warning")
    worker = spawn("worker") if LAYOUT == "run" else None
    subscribers = None
    try:
        url = f"http://127.0.0.1:{PORT}"
        wait_for(f"{url}/health")
        if LAYOUT == "run":
            from bench.feed import TMP, Subscribers

            TMP.mkdir(parents=True, exist_ok=True)
            subscribers = Subscribers()
            connected = subscribers.connect(PORT, "/v1/feed", watchers, SUBSCRIBERS, drain=True)
            if connected["connected"] != SUBSCRIBERS:
                raise RuntimeError(f"feed subscribers: {connected}")
        incidents = seed(url, token, 500)
        duration = SECONDS + WARM_UP + 2
        if RATE and batch == 1:
            ids = Path(f"/tmp/{SCHEMA}-incidents.json")
            ids.write_text(json.dumps(incidents))
            command = [PY, "bench/loadgen.py", url, token, RATE, str(duration), str(ids)]
        else:
            script = lua(token, incidents, batch, run)
            command = ["wrk", "-t2", "-c16", f"-d{duration}s", "-s", str(script), url]
        load = subprocess.Popen(command, stdout=subprocess.DEVNULL, cwd=ROOT)
        time.sleep(WARM_UP)
        processes = {"server": server.pid, **({"worker": worker.pid} if worker else {})}
        before, first, started = cpu_seconds(processes), events_in(SCHEMA), time.monotonic()
        if SPY_INTO:  # the server, and the worker beside it (``-worker`` in the name)
            spies = []
            for pid, suffix in [(server.pid, ""), *([(worker.pid, "-worker")] if worker else [])]:
                raw = Path(SPY_INTO) / f"{Path(tree).name}-{batch}-{run}{suffix}.txt"
                spy = [str(py_spy()), "record", "--nonblocking", "--gil", "-p", str(pid)]
                spy += ["-r", "100", "-d", str(SECONDS), "-f", "raw", "-o", str(raw)]
                spies.append(subprocess.Popen(spy, stdout=subprocess.DEVNULL))
            for process in spies:
                process.wait()
        else:
            time.sleep(SECONDS)
        after = cpu_seconds(processes)
        cpu, postgres_cpu = (after[k] - before[k] for k in ("server", "postgres"))
        worker_cpu = after["worker"] - before["worker"] if worker else 0.0
        events = events_in(SCHEMA) - first
        elapsed = time.monotonic() - started
        load.wait()
    finally:
        if subscribers is not None:
            subscribers.quit()
        stop(server)
        if worker is not None:
            stop(worker)
    per_event = 1e6 / max(events, 1)
    return cpu * per_event, events / elapsed, worker_cpu * per_event, postgres_cpu * per_event


def main() -> None:
    found: dict[tuple[str, int], list[float]] = {(t, b): [] for t in TREES for b in BATCHES}
    rates: dict[tuple[str, int], list[float]] = {(t, b): [] for t in TREES for b in BATCHES}
    others: dict[tuple[str, int], list[tuple[float, float]]] = {k: [] for k in rates}
    loads = []
    for run in range(1, ROUNDS + 1):
        for tree in TREES:
            for batch in BATCHES:
                per_event, rate, worker, postgres = measure(tree, batch, run)
                loads.append(os.getloadavg()[0])
                found[tree, batch].append(per_event)
                rates[tree, batch].append(rate)
                others[tree, batch].append((worker, postgres))
                print(
                    f"round {run} {tree} batch {batch}: {per_event:.0f} µs/event, "
                    f"{rate:.0f} events/s, worker {worker:.0f} µs/event, "
                    f"PostgreSQL {postgres:.0f} µs/event, load {loads[-1]:.1f}",
                    flush=True,
                )
    print(f"load average (1 min) during the runs: {min(loads):.1f}-{max(loads):.1f}")
    for batch in BATCHES:
        base = statistics.median(found[TREES[0], batch])
        base_rate = statistics.median(rates[TREES[0], batch])
        for tree in TREES:
            median = statistics.median(found[tree, batch])
            rate = statistics.median(rates[tree, batch])
            worker = statistics.median(w for w, _ in others[tree, batch])
            postgres = statistics.median(p for _, p in others[tree, batch])
            print(
                f"batch {batch:>3} {tree}: median {median:.0f} µs/event "
                f"({median / base:.2f} x the first), {rate:.0f} events/s "
                f"({rate / base_rate:.2f} x the first); worker {worker:.0f}, "
                f"PostgreSQL {postgres:.0f} µs/event"
            )


if __name__ == "__main__":
    main()
