"""The stall after a write burst (issue 19), reproduced on its own and measured.

    .venv/bin/python bench/stall.py [--workers 2] [--seconds 15] [--schema bench_stall] [--watch]

One ``mlob serve --workers N`` (and one ``mlob worker`` for the projections, as compose deploys
it) on a fresh PostgreSQL schema; 500 incidents seeded; the open-loop generator at 600 events/s
on the fresh store; a burst (wrk: single events, then batches of 100, ``--seconds`` each); the
generator at 600 events/s (``--rate``) again. Prints, per phase, p50/p99/max, the worst latency
of each second and the servers' group commits by outcome (``mlob_commits_total``: a conflict
is a group run again), and the command that reproduces it. ``--watch`` samples, every 0.5 s of
the last phase, PostgreSQL's non-idle backends and ungranted locks, and ``py-spy dump`` of
every server process (py-spy from PyPI, on PATH or ``--py-spy``), into
/tmp/mlob-stall-watch.log.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script, bench/ would come first

import bench.bench  # noqa: E402
from bench.bench import lua, start, wrk  # noqa: E402
from bench.common import DSN, database_url, fresh_schema, issue_token, seed, stop, wait_for  # noqa: E402

PY = sys.executable
WATCH_LOG = Path("/tmp/mlob-stall-watch.log")


def commits(url: str, admin: str) -> dict[str, float]:
    """The servers' group commits so far by outcome (``mlob_commits_total``, all processes)."""
    req = urllib.request.Request(url + "/metrics", headers={"Authorization": f"Bearer {admin}"})
    text = urllib.request.urlopen(req, timeout=60).read().decode()
    found = re.findall(r'^mlob_commits_total\{outcome="(\w+)"\} ([\d.e+]+)$', text, re.M)
    return {outcome: float(n) for outcome, n in found}


def at_rate(url: str, token: str, rate: int, seconds: int, ids_file: Path) -> dict[str, object]:
    gen = subprocess.run(
        [PY, str(ROOT / "bench/loadgen.py"), url, token, str(rate), str(seconds), str(ids_file)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(gen.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def watch(stop_at: threading.Event, pids: list[int], py_spy: str | None) -> None:
    """Every 0.5 s: PostgreSQL's non-idle backends and waiting locks, py-spy of each server."""
    with WATCH_LOG.open("w") as log, psycopg.connect(DSN, autocommit=True) as conn:
        t0 = time.monotonic()
        while not stop_at.is_set():
            log.write(f"=== t={time.monotonic() - t0:.1f}s\n")
            for row in conn.execute(
                "SELECT pid, application_name, state, wait_event_type, wait_event,"
                " now() - xact_start, left(query, 90) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND state <> 'idle'"
            ):
                log.write(f"pg {row}\n")
            for row in conn.execute(
                "SELECT pid, locktype, mode, relation::regclass FROM pg_locks WHERE NOT granted"
            ):
                log.write(f"lock-wait {row}\n")
            if py_spy:
                for pid in pids:
                    dump = subprocess.run(
                        [py_spy, "dump", "--nonblocking", "--pid", str(pid)],
                        capture_output=True,
                        text=True,
                    ).stdout
                    log.write(f"--- py-spy {pid}\n{dump}\n")
            log.flush()
            stop_at.wait(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--seconds", type=int, default=15, help="each burst phase")
    parser.add_argument("--after", type=int, default=15, help="the open-loop run after the burst")
    parser.add_argument("--rate", type=int, default=600, help="open-loop events/s offered")
    parser.add_argument("--schema", default="bench_stall")
    parser.add_argument(
        "--projections",
        choices=("worker", "in-process", "none"),
        default="worker",
        help="none: no process runs them (the write path alone; nothing catches up after it)",
    )
    parser.add_argument("--watch", action="store_true", help="sample PostgreSQL and py-spy")
    parser.add_argument("--py-spy", default=shutil.which("py-spy"))
    parser.add_argument(
        "--code",
        help="run the servers from this checkout (e.g. an older commit's: "
        "git archive COMMIT | tar -x -C DIR), not this one",
    )
    args = parser.parse_args()
    bench.bench.DURATION = args.seconds  # wrk's
    if not shutil.which("wrk"):
        sys.exit("bench/stall.py: wrk is missing (apt-get install wrk)")
    command = shlex.join([".venv/bin/python", "bench/stall.py", *sys.argv[1:]])
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    print(f"reproduce: {command}   (commit {commit})", flush=True)

    fresh_schema(args.schema)
    env = {"MLOB_DATABASE_URL": database_url(args.schema)}
    if args.code:
        env["PYTHONPATH"] = str(Path(args.code).resolve())
        print(f"servers run the code in {env['PYTHONPATH']}", flush=True)
    if args.projections in ("worker", "none"):
        env["MLOB_PROJECTIONS"] = "workers"
    token = issue_token(env, "VR08", "operator")
    admin = issue_token(env, "LOCC", "admin", "stg_zeer_geheim")  # to read /metrics
    serve = [PY, "-m", "mlob.cli", "serve", "--port", "8793", "--log-level", "warning"]
    server = start([*serve, "--workers", str(args.workers)], env)
    worker = start([PY, "-m", "mlob.cli", "worker"], env) if args.projections == "worker" else None
    results: dict[str, object] = {"workers": args.workers, "projections": args.projections}
    try:
        url = "http://127.0.0.1:8793"
        wait_for(url + "/health", timeout=300)  # a busy machine starts slowly
        incidents = seed(url, token, 500)
        ids_file = Path("/tmp/mlob-stall-incidents.json")
        ids_file.write_text(json.dumps(incidents))
        pids = children(server.pid) if args.workers > 1 else [server.pid]
        print(f"server processes: {pids}", flush=True)

        def show(label: str, figures: Mapping[str, object]) -> None:
            results[label] = figures
            print(f"{label}: {json.dumps(figures)}", flush=True)

        def phase(label: str, run: Callable[[], Mapping[str, object]]) -> None:
            """One phase, with the group commits that conflicted during it."""
            before = commits(url, admin)
            figures = dict(run())
            now = commits(url, admin)
            figures["commits"] = {k: int(v - before.get(k, 0)) for k, v in now.items()}
            show(label, figures)

        rate = args.rate
        phase("fresh", lambda: at_rate(url, token, rate, 5, ids_file))
        # Runs 1902/1903: wrk scripts of their own beside bench/run.sh's (runs 2 and 3).
        phase("burst_single", lambda: wrk(url, lua(token, incidents, 1, 1902)))
        phase("burst_batch100", lambda: wrk(url, lua(token, incidents, 100, 1903)))
        halt = threading.Event()
        watcher = None
        if args.watch:
            watcher = threading.Thread(target=watch, args=(halt, pids, args.py_spy), daemon=True)
            watcher.start()
        try:
            phase("after_burst", lambda: at_rate(url, token, rate, args.after, ids_file))
        finally:
            halt.set()
            if watcher is not None:
                watcher.join()
        now = children(server.pid) if args.workers > 1 else [server.pid]
        results["server_processes_replaced"] = sorted(set(pids) - set(now))
    finally:
        stop(server)
        if worker is not None:
            stop(worker)
    after = results["after_burst"]
    fresh = results["fresh"]
    assert isinstance(after, dict) and isinstance(fresh, dict)
    print(
        "summary:",
        json.dumps(
            {
                "workers": args.workers,
                "code": args.code or commit,
                "rate": rate,
                "fresh_p99_ms": fresh["p99_ms"],
                "after_burst_p99_ms": after["p99_ms"],
                "after_burst_max_ms": after["max_ms"],
                "after_burst_achieved_per_s": after["achieved_per_s"],
                "after_burst_commits": after["commits"],
                "server_processes_replaced": results["server_processes_replaced"],
            }
        ),
        flush=True,
    )
    if args.watch:
        print(f"samples: {WATCH_LOG}", flush=True)
    print(f"reproduce: {command}", flush=True)


if __name__ == "__main__":
    main()
