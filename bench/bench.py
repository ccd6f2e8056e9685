"""mlob's write benchmark: one command (bench/run.sh) prints figures and how they were made.

Runs, in one go and on one PostgreSQL: the baselines (raw psycopg INSERT+COMMIT with 32
connections; the eventsourcing library at 1 and 100 events per save; a bare FastAPI POST), then
mlob with wrk (single events, batches of 100) and an open-loop generator at 600 events/s for
p99, then the library's two runs again (the machine's speed drifts within minutes: mlob is
compared with the mean of the runs before and after it, and both are printed). The event mix is
30% new incidents and 70% situation reports on existing incidents.
For each of the two throughput runs it reports the CPU seconds per recorded event (issue 25) of
the server (with its child processes), the projection worker and every PostgreSQL process
(from /proc; run it on a machine left alone). BENCH_CODE=<checkout> measures that checkout's
mlob (its own .venv) with this bench, e.g. a worktree of the baseline commit for a comparison
in the same hour: ``BENCH_CODE=../base bash bench/run.sh``.
mlob runs as deployed for load (compose.yaml): one ``mlob serve`` process that writes and serves
the feed, and one ``mlob worker`` process that runs the projections and picture checkpoints
(BENCH_PROJECTIONS=in-process runs them in the server instead); BENCH_SUBSCRIBERS (100)
live-feed subscribers (bench/feed.py's client, in two processes of their own) are connected
while it is measured.
At the end (BENCH_BALANCER=0 leaves it out) the same store is measured three ways, each
measurement taken in turn for the three so that the machine's drift touches all alike: one
node without a balancer (the subscribers on it), two nodes behind HAProxy on
mlob/deploy/haproxy.cfg (compose.yaml's layout; the subscribers connect through it, so half
land on each node), and one node behind HAProxy (a second HAProxy whose two server lines name
the first node: what the balancer itself costs).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script, bench/ (and so bench.py) would come first

from bench.common import (  # noqa: E402
    CODE,
    CODE_PY,
    DB,
    DSN,
    HOST,
    PORT,
    USER,
    circumstances,
    cpu_seconds,
    database_url,
    events_in,
    fresh_schema,
    issue_token,
    issue_tokens,
    seed,
    sh,
    stop,
    wait_for,
)

PY = sys.executable

DURATION = int(os.environ.get("BENCH_SECONDS", "15"))
#: Server processes: one, as the README recommends (two on shared streams conflict and take
#: turns; one of them used to stall for 16-35 s after a burst, bench/stall.py and
#: docs/performance.md).
WORKERS = int(os.environ.get("BENCH_WORKERS", "1"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
#: Live-feed subscribers (a coordinator each, channel ``national``) connected to mlob while it
#: is measured, so the feed's work is in the figures (issue 5: "with projections and feeds").
SUBSCRIBERS = int(os.environ.get("BENCH_SUBSCRIBERS", "100"))
#: Subscribers read every frame off the socket but parse none (their CPU is this machine's, not
#: mlob's; parsing clients took most of a core at batch rates). BENCH_PARSE=1: they parse.
DRAIN = os.environ.get("BENCH_PARSE", "") in ("", "0")
#: Where the projections run: ``worker`` (a ``mlob worker`` process, as compose.yaml deploys
#: it) or ``in-process`` (in the server, the default of a bare ``mlob serve``).
PROJECTIONS = os.environ.get("BENCH_PROJECTIONS", "worker")
#: One node against two behind HAProxy at the end of the run (issue 20); 0 leaves it out.
BALANCER = os.environ.get("BENCH_BALANCER", "1") not in ("", "0")
#: Rounds of that comparison (each: single events and batches, every layout in turn).
BALANCER_ROUNDS = int(os.environ.get("BENCH_BALANCER_ROUNDS", "3"))
#: Ports (BENCH_PORT and the next four) and schemas (BENCH_SCHEMA_mlob, BENCH_SCHEMA_baselines),
#: so that two runs on one machine do not clobber each other.
BASE_PORT = int(os.environ.get("BENCH_PORT", "8790"))
NODE1_PORT, BARE_PORT, NODE2_PORT, BALANCER_PORT, BALANCER_ONE_PORT = (
    BASE_PORT + i for i in range(5)
)
SCHEMA = os.environ.get("BENCH_SCHEMA", "bench")
#: Where its files go: /tmp/mlob-bench-* (or /tmp/mlob-<BENCH_SCHEMA>-*).
TMP = f"/tmp/mlob-{SCHEMA}-"
BALANCER_SOCKETS = {name: Path(f"{TMP}haproxy-{name}.sock") for name in ("two", "one")}


def header() -> dict[str, object]:
    return {
        **circumstances(),
        "server": f"mlob serve --workers {WORKERS} (uvicorn, uvloop, httptools)",
        "projections": "a mlob worker process" if PROJECTIONS == "worker" else "in the server",
        "subscribers": f"{SUBSCRIBERS} coordinators on national, frames "
        + ("read, not parsed" if DRAIN else "parsed"),
        "wrk": f"-t2 -c{CONNECTIONS} -d{DURATION}s",
    }


def start(cmd: list[str], env: dict[str, str], name: str | None = None) -> subprocess.Popen[bytes]:
    """Start a process; its output goes to /tmp/mlob-bench-<name or command>.log (read it when
    a run fails: the server's reason is there; ``bench`` is BENCH_SCHEMA)."""
    name = name or next((a for a in cmd[3:] if not a.startswith("-")), cmd[-1]).replace("/", "_")
    log = Path(f"{TMP}{name}.log").open("wb")  # noqa: SIM115 - the child keeps it
    if cmd[:3] == [PY, "-m", "mlob.cli"]:  # the measured mlob: BENCH_CODE's (common.CODE)
        cmd = [CODE_PY, *cmd[1:]]
    return subprocess.Popen(
        cmd,
        env={**os.environ, **env},
        cwd=CODE if cmd[0] == CODE_PY else ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wrk(url: str, script: Path, timeout: str = "2s") -> dict[str, float]:
    """wrk's figures; an answer slower than ``timeout`` (wrk's default: 2 s) is not counted."""
    out = sh(
        "wrk",
        "-t2",
        f"-c{CONNECTIONS}",
        f"-d{DURATION}s",
        f"--timeout={timeout}",
        "--latency",
        "-s",
        str(script),
        url,
    )
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    timeouts = re.search(r"Socket errors:.* timeout (\d+)", out)
    lat = dict(re.findall(r"\n\s+(50|99)%\s+([\d.]+\w+)", out))
    return {
        "requests_per_s": round(rps),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "timeouts": int(timeouts.group(1)) if timeouts else 0,
        "p50": lat.get("50", "?"),
        "p99": lat.get("99", "?"),
    }  # type: ignore[dict-item]


def lua(token: str, incidents: list[str], batch: int, run: int) -> Path:
    occurred = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    text = (
        Path(__file__)
        .with_name("mix.lua.in")
        .read_text()
        .replace("@TOKEN@", token)
        .replace("@RUN@", str(run))
        .replace("@OCCURRED@", occurred)
        .replace("@BATCH@", str(batch))
        .replace("@INCIDENTS@", ", ".join(f'"{i}"' for i in incidents))
    )
    path = Path(f"{TMP}{batch}-{run}.lua")
    path.write_text(text)
    return path


def run_baselines(*which: str) -> list[dict[str, object]]:
    fresh_schema(f"{SCHEMA}_baselines")
    base = subprocess.run(
        [
            PY,
            str(ROOT / "bench/baselines.py"),
            DSN + f" options=-csearch_path={SCHEMA}_baselines",
            f"{SCHEMA}_baselines",
            HOST,
            str(PORT),
            USER,
            DB,
            *which,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return [json.loads(line) for line in base.stdout.splitlines() if line.startswith("{")]


def library_rate(baselines: list[dict[str, object]], per_save: int) -> float:
    return float(
        next(
            b["events_per_s"]  # type: ignore[arg-type]
            for b in baselines
            if str(b["baseline"]).startswith(f"eventsourcing {per_save} ")
        )
    )


def at_600(url: str, token: str, ids_file: Path) -> dict[str, Any]:
    """The open-loop generator at 600 events/s offered against ``url``."""
    gen = subprocess.run(
        [PY, str(ROOT / "bench/loadgen.py"), url, token, "600", str(DURATION), str(ids_file)],
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, Any] = json.loads(gen.stdout.strip().splitlines()[-1])
    return figures


def haproxy(name: str, line: str) -> str:
    """A command on a balancer's admin socket."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(str(BALANCER_SOCKETS[name]))
        s.sendall(line.encode() + b"\n")
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode()


def compare_with_balancer(
    env: dict[str, str],
    token: str,
    incidents: list[str],
    ids_file: Path,
    subscribers: object,
    watchers: str,
) -> dict[str, object]:
    """One node without a balancer, two behind HAProxy, one behind HAProxy: single events and
    batches of 100 in rounds, then 600 events/s offered, each measured for the three in turn.
    Two HAProxy processes on mlob/deploy/haproxy.cfg stay up throughout: one in front of both
    nodes, one whose two server lines both name the first node (no state is switched between
    measurements)."""
    tool = shutil.which("haproxy")
    if tool is None:
        sys.exit("bench: haproxy is missing (apt-get install haproxy)")
    node2 = start(
        [PY, "-m", "mlob.cli", "serve", "--port", str(NODE2_PORT), "--log-level", "warning"],
        env,
        name="serve-node2",
    )
    node1, node2_address = f"127.0.0.1:{NODE1_PORT}", f"127.0.0.1:{NODE2_PORT}"
    balancers = {}
    for name, (port, second) in {
        "two": (BALANCER_PORT, node2_address),
        "one": (BALANCER_ONE_PORT, node1),
    }.items():
        BALANCER_SOCKETS[name].unlink(missing_ok=True)
        balancers[name] = start(
            [tool, "-db", "-f", str(ROOT / "mlob/deploy/haproxy.cfg")],
            {
                "MLOB_NODE1": node1,
                "MLOB_NODE2": second,
                "MLOB_LB_BIND": f"127.0.0.1:{port}",
                "MLOB_LB_STATS": str(BALANCER_SOCKETS[name]),
            },
            name=f"haproxy-{name}",
        )
    results: dict[str, Any] = {
        "balancer": f"{sh(tool, '-v').splitlines()[0]}, mlob/deploy/haproxy.cfg (leastconn)"
    }
    try:
        wait_for(f"http://127.0.0.1:{NODE2_PORT}/health")
        deadline = time.monotonic() + 30
        while any(
            set(balancer_stats(name, "check_status").values()) != {"L7OK"} for name in balancers
        ):
            if time.monotonic() > deadline:
                raise RuntimeError("haproxy's checks did not pass")
            time.sleep(0.2)
        layouts: dict[str, tuple[int, str | None]] = {
            "one_node": (NODE1_PORT, None),
            "two_nodes_haproxy": (BALANCER_PORT, "two"),
            "one_node_haproxy": (BALANCER_ONE_PORT, "one"),
        }
        order = list(layouts)
        run = 10

        def measure(layout: str, what: str) -> None:
            nonlocal run
            port, balancer = layouts[layout]
            # The subscribers follow the layout: all on the node, or through the balancer.
            subscribers.all(op="close")  # type: ignore[attr-defined]
            connected = subscribers.connect(  # type: ignore[attr-defined]
                port, "/v1/feed", watchers, SUBSCRIBERS, drain=DRAIN
            )
            url = f"http://127.0.0.1:{port}"
            time.sleep(2)  # what the previous measurement left in flight ends first
            answered = balancer_stats(balancer, "hrsp_2xx") if balancer else {}
            run += 1
            figures: dict[str, Any]
            if what == "at_600":
                figures = at_600(url, token, ids_file)
            else:
                batch = 1 if what == "single" else 100
                figures = {**wrk(url, lua(token, incidents, batch, run), timeout="10s")}
                figures["events_per_s"] = figures["requests_per_s"] * batch
            figures["subscribers_connected"] = connected["connected"]
            if balancer == "two":  # which node answered the measurement's 2xx, and their state
                figures["2xx_by_node"] = {
                    node: int(count or 0) - int(answered[node] or 0)
                    for node, count in balancer_stats(balancer, "hrsp_2xx").items()
                }
                figures["node_status"] = balancer_stats(balancer, "status")
            results.setdefault(layout, {}).setdefault(what, []).append(figures)
            print(f"{layout} {what}:", json.dumps(figures), flush=True)

        # Rounds, each layout in turn (in a rotated order each round): the machine's speed
        # drifts within minutes, and the ratios within a round are what compare.
        for round_ in range(BALANCER_ROUNDS):
            for what in ("single", "batch100"):
                for layout in order[round_ % 3 :] + order[: round_ % 3]:
                    measure(layout, what)
        for layout in order:
            measure(layout, "at_600")
    finally:
        for proc in balancers.values():
            stop(proc)
        stop(node2)
    return results


def balancer_stats(name: str, column: str) -> dict[str, str]:
    """A column of the balancer's ``show stat`` per node (``check_status``, ``hrsp_2xx``)."""
    try:
        lines = haproxy(name, "show stat").splitlines()
    except OSError:
        return {}
    header = lines[0].lstrip("# ").split(",")
    rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
    return {r["svname"]: r[column] for r in rows if r["svname"].startswith("node")}


def balancer_summary(lb: dict[str, dict[str, list[dict[str, Any]]]]) -> dict[str, object]:
    """Per layout the median rate over the rounds; per round the ratio of each layout's rate to
    one node's (measured minutes apart at most), and the median of those ratios."""
    out: dict[str, object] = {}
    for what in ("single", "batch100"):
        one = [float(f["events_per_s"]) for f in lb["one_node"][what]]
        out[f"{what}_events_per_s_median"] = {
            layout: statistics.median(float(f["events_per_s"]) for f in runs[what])
            for layout, runs in lb.items()
            if isinstance(runs, dict)
        }
        for layout in ("two_nodes_haproxy", "one_node_haproxy"):
            ratios = [
                round(float(f["events_per_s"]) / base, 2) if base else None
                for f, base in zip(lb[layout][what], one, strict=True)
            ]
            known = [r for r in ratios if r is not None]
            out[f"{what}_{layout}_vs_one_node"] = {
                "per_round": ratios,
                "median": statistics.median(known) if known else None,
            }
    out["p99_ms_at_600"] = {
        layout: runs["at_600"][0]["p99_ms"] for layout, runs in lb.items() if isinstance(runs, dict)
    }
    return out


def main() -> None:
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is missing (apt-get install wrk)")
    results: dict[str, object] = {"run": header()}
    print(json.dumps(results["run"], indent=1), flush=True)

    baselines = run_baselines()
    results["baselines"] = baselines
    for b in baselines:
        print(json.dumps(b), flush=True)

    bare = start(
        [
            PY,
            "-m",
            "uvicorn",
            "bench.bare_app:app",
            "--port",
            str(BARE_PORT),
            "--workers",
            str(WORKERS),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--log-level",
            "warning",
        ],
        {},
    )
    try:
        wait_for(f"http://127.0.0.1:{BARE_PORT}/docs")
        bare_url = f"http://127.0.0.1:{BARE_PORT}"
        results["bare_fastapi"] = wrk(bare_url, lua("x", [str(uuid4())], 1, 1))
        print("bare FastAPI POST:", json.dumps(results["bare_fastapi"]), flush=True)
    finally:
        stop(bare)

    fresh_schema(f"{SCHEMA}_mlob")
    env = {"MLOB_DATABASE_URL": database_url(f"{SCHEMA}_mlob")}
    if PROJECTIONS == "worker":
        env["MLOB_PROJECTIONS"] = "workers"
    token = issue_token(env, "VR08", "operator")
    admin = issue_token(env, "LOCC", "admin", "stg_zeer_geheim")
    server = start(
        [
            PY,
            "-m",
            "mlob.cli",
            "serve",
            "--port",
            str(NODE1_PORT),
            "--workers",
            str(WORKERS),
            "--log-level",
            "warning",
        ],
        env,
    )
    worker = start([PY, "-m", "mlob.cli", "worker"], env) if PROJECTIONS == "worker" else None
    try:
        wait_for(f"http://127.0.0.1:{NODE1_PORT}/health")
        url = f"http://127.0.0.1:{NODE1_PORT}"
        from bench.feed import TMP, Subscribers

        TMP.mkdir(parents=True, exist_ok=True)
        subscribers = Subscribers()
        # A token opens at most 8 feed connections (issue 16): the watchers get one per 6.
        watchers = issue_tokens(
            url, admin, "LOCC", "coordinator", "ongerubriceerd", SUBSCRIBERS // 6 + 1
        )
        connected = subscribers.connect(NODE1_PORT, "/v1/feed", watchers, SUBSCRIBERS, drain=DRAIN)
        results["feed_subscribers"] = connected
        print(f"feed subscribers during the mlob runs: {json.dumps(connected)}", flush=True)
        incidents = seed(url, token, 500)
        ids_file = Path(f"{TMP}incidents.json")
        ids_file.write_text(json.dumps(incidents))

        def at_600_here(label: str) -> None:
            results[label] = at_600(url, token, ids_file)
            print(
                f"mlob at 600 events/s offered ({label}):", json.dumps(results[label]), flush=True
            )

        processes = {"server": server.pid, **({"worker": worker.pid} if worker else {})}

        def throughput(batch: int, run: int) -> dict[str, Any]:
            """wrk's figures, with the CPU seconds per recorded event of each process (issue
            25: server, projection worker, PostgreSQL), over wrk's run."""
            before, first = cpu_seconds(processes), events_in(f"{SCHEMA}_mlob")
            figures: dict[str, Any] = {**wrk(url, lua(token, incidents, batch, run))}
            after, last = cpu_seconds(processes), events_in(f"{SCHEMA}_mlob")
            figures["events_per_s"] = figures["requests_per_s"] * batch
            recorded = max(last - first, 1)
            figures["cpu_us_per_event"] = {
                name: round((after[name] - before[name]) / recorded * 1e6, 1) for name in after
            }
            figures["cpu_us_per_event"]["total"] = round(
                sum(figures["cpu_us_per_event"].values()), 1
            )
            return figures

        at_600_here("mlob_at_600")  # on the freshly seeded store
        single = results["mlob_single"] = throughput(1, 2)
        print("mlob single events:", json.dumps(single), flush=True)
        batch = results["mlob_batch100"] = throughput(100, 3)
        print("mlob batches of 100:", json.dumps(batch), flush=True)
        at_600_here(
            "mlob_at_600_after_load"
        )  # the same, after the throughput runs filled the store
        with psycopg.connect(DSN, autocommit=True) as conn:  # let PostgreSQL catch up first
            conn.execute("CHECKPOINT")
            conn.execute("VACUUM ANALYZE")
        at_600_here("mlob_at_600_after_load_checkpointed")
        if BALANCER and WORKERS == 1:
            results["balancer"] = compare_with_balancer(
                env, token, incidents, ids_file, subscribers, watchers
            )
    finally:
        if "subscribers" in locals():
            subscribers.quit()
        stop(server)
        if worker is not None:
            stop(worker)

    # The library again, now that mlob is stopped: the machine's speed drifts within minutes
    # (its single-save rate moved 2 x between runs), so mlob is compared with the mean of the
    # two brackets, and both are printed.
    after = run_baselines("library")
    results["baselines_after"] = after
    for b in after:
        print("after mlob's runs:", json.dumps(b), flush=True)
    lib1 = (library_rate(baselines, 1) + library_rate(after, 1)) / 2
    lib100 = (library_rate(baselines, 100) + library_rate(after, 100)) / 2
    single = results["mlob_single"]["events_per_s"]  # type: ignore[index]
    batch = results["mlob_batch100"]["events_per_s"]  # type: ignore[index]
    summary = {
        "single_events_per_s": single,
        "library_1_per_save_before_after": [library_rate(baselines, 1), library_rate(after, 1)],
        "single_vs_library_1_per_save": round(single / lib1, 2),
        "batch100_events_per_s": batch,
        "library_100_per_save_before_after": [
            library_rate(baselines, 100),
            library_rate(after, 100),
        ],
        "batch100_vs_library_100_per_save": round(batch / lib100, 2),
        "cpu_us_per_event_single": results["mlob_single"]["cpu_us_per_event"],  # type: ignore[index]
        "cpu_us_per_event_batch100": results["mlob_batch100"]["cpu_us_per_event"],  # type: ignore[index]
        "p99_ms_at_600": results["mlob_at_600"]["p99_ms"],  # type: ignore[index]
        "p99_ms_at_600_after_load": results["mlob_at_600_after_load"]["p99_ms"],  # type: ignore[index]
    }
    if "balancer" in results:
        summary["balancer"] = balancer_summary(results["balancer"])  # type: ignore[arg-type]
    results["summary"] = summary
    print("summary:", json.dumps(summary), flush=True)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    # A run of another checkout's mlob (BENCH_CODE) does not replace this one's figures.
    name = "latest.json" if CODE == ROOT else f"latest-of-{results['run']['commit']}.json"  # type: ignore[index]
    (out / name).write_text(json.dumps(results, indent=1))
    print(f"written {out / name}; reproduce with: bash bench/run.sh", flush=True)


if __name__ == "__main__":
    main()
