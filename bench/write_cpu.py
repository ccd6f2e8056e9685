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
from bench.common import database_url, events_in, fresh_schema, issue_token, seed, stop, wait_for

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
WARM_UP = 3


def ticks(pid: int) -> int:
    """User and system CPU of a process, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])


def measure(tree: str, batch: int, run: int) -> tuple[float, float]:
    """(server CPU µs per event, events per second) of one run of ``tree``'s server."""
    fresh_schema(SCHEMA)
    env = {
        "MLOB_DATABASE_URL": database_url(SCHEMA),
        "MLOB_PROJECTIONS": "workers",
        "PYTHONPATH": tree,
    }
    os.environ["PYTHONPATH"] = tree  # the token is issued by the same checkout's CLI
    token = issue_token(env, "VR08", "operator")
    server = subprocess.Popen(
        [PY, "-m", "mlob.cli", "serve", "--port", str(PORT), "--log-level", "warning"],
        env={**os.environ, **env},
        cwd=tree,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{PORT}"
        wait_for(f"{url}/health")
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
        before, first, started = ticks(server.pid), events_in(SCHEMA), time.monotonic()
        time.sleep(SECONDS)
        cpu = (ticks(server.pid) - before) / os.sysconf("SC_CLK_TCK")
        events = events_in(SCHEMA) - first
        elapsed = time.monotonic() - started
        load.wait()
    finally:
        stop(server)
    return 1e6 * cpu / max(events, 1), events / elapsed


def main() -> None:
    found: dict[tuple[str, int], list[float]] = {(t, b): [] for t in TREES for b in BATCHES}
    loads = []
    for run in range(1, ROUNDS + 1):
        for tree in TREES:
            for batch in BATCHES:
                per_event, rate = measure(tree, batch, run)
                loads.append(os.getloadavg()[0])
                found[tree, batch].append(per_event)
                print(
                    f"round {run} {tree} batch {batch}: {per_event:.0f} µs/event, "
                    f"{rate:.0f} events/s, load {loads[-1]:.1f}",
                    flush=True,
                )
    print(f"load average (1 min) during the runs: {min(loads):.1f}-{max(loads):.1f}")
    for batch in BATCHES:
        base = statistics.median(found[TREES[0], batch])
        for tree in TREES:
            median = statistics.median(found[tree, batch])
            print(
                f"batch {batch:>3} {tree}: median {median:.0f} µs/event "
                f"({median / base:.2f} x the first)"
            )


if __name__ == "__main__":
    main()
