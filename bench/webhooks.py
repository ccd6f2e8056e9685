"""mlob's webhook benchmark (issue 24): one command prints figures and how they were made.

    /work/main/.venv/bin/python bench/webhooks.py      # or: .venv/bin/python bench/webhooks.py

On a fresh PostgreSQL schema and one ``mlob serve`` process (projections and the delivery
runner in it), twice:

1. *baseline*: no subscriptions; an open-loop poster offers HOOKS_RATE (100) events/s for
   HOOKS_SECONDS (20) s, spread evenly over the 25 safety regions (``incident.opened`` by each
   region's operator, single-event ``POST /v1/events`` on kept-alive raw connections);
2. *subscribed*: the same, with 100 subscriptions, 4 on each region's channel
   (``region:VRnn``, made over ``POST /v1/subscriptions`` by the region's administrator), so
   about 400 deliveries/s, to receivers in one separate process (one asyncio loop answering
   204, one path per subscription).

Figures: POST latency p50/p99 in both runs (the target: the subscribed p99 at most 5 ms above
the baseline's); commit-to-receiver latency p50/p99/max over every delivery (the receiver's
``time.monotonic()`` when the request's body arrived minus the poster's when its 201 arrived:
CLOCK_MONOTONIC is one clock for the machine), deliveries received, missing and duplicated,
and whether each subscription got its events in position order. A shared 2-core machine: the
receiver, the poster, PostgreSQL and the server share the CPU, so each run also prints the CPU
seconds each process took while posting (server, worker, receiver, every PostgreSQL process,
this poster) and the commits PostgreSQL made, to say where the time went.

``HOOKS_PROFILE=worker`` (or ``server``) records that process with py-spy while posting (the
subscribed run; installed into a temporary folder on first use, as bench/profile_writes.py
does), only the thread holding the GIL (``--gil``: where the interpreter's CPU goes, not
threads blocked in a system call), and prints the samples' inclusive shares
(``PROFILE_MATCH`` filters the names).

    python bench/webhooks.py receiver PORT OUT   (internal)
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script, bench/ would come first

import orjson  # noqa: E402
import psycopg  # noqa: E402

from bench import common  # noqa: E402

PY = sys.executable
RATE = float(os.environ.get("HOOKS_RATE", "100"))
SECONDS = float(os.environ.get("HOOKS_SECONDS", "20"))
PER_REGION = int(os.environ.get("HOOKS_PER_REGION", "4"))
MLOB_PORT = int(os.environ.get("HOOKS_PORT", "8724"))
#: ``in-process`` (default): the projections and the delivery runner in the server process;
#: ``worker``: in a ``mlob worker`` beside it (``MLOB_PROJECTIONS=workers``, compose.yaml's
#: layout), so the deliveries do not share the posting process's interpreter.
LAYOUT = os.environ.get("HOOKS_LAYOUT", "in-process")
#: ``worker`` or ``server``: py-spy records that process in the subscribed run.
PROFILE = os.environ.get("HOOKS_PROFILE", "")
RECEIVER_PORT = MLOB_PORT + 1
SCHEMA = "hooks24_bench"
KEY = "bench-webhook-key-" + "0" * 32
CONNECTIONS = 16
TMP = Path(os.environ.get("HOOKS_TMP", "/tmp/hooks24-bench"))
REGIONS = [f"VR{n:02d}" for n in range(1, 26)]


# --- the receivers (a process of their own) -----------------------------------------------------


def receiver(port: int, out: str) -> None:
    """Answer 204 to every POST; on SIGTERM write one line per request: monotonic time of
    arrival, path, webhook-id and the event's position.

    It stands for other organisations' machines, so it should cost this machine little: one
    asyncio loop reading HTTP/1.1 requests on kept-alive connections (a listen backlog for
    every lane connecting at once), not a thread and ``http.server``'s parsing per
    connection (1.9 s of CPU for 8,000 deliveries, and SYNs dropped past a backlog of 5)."""
    got: list[tuple[float, str, str, int]] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                path = lines[0].split(b" ")[1].decode()
                fields = {}
                for line in lines[1:]:
                    name, _, value = line.partition(b":")
                    fields[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(fields.get(b"content-length", b"0")))
                at = time.monotonic()
                position = orjson.loads(body).get("data", {}).get("position", -1)
                got.append((at, path, fields.get(b"webhook-id", b"").decode(), position))
                writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def serve() -> None:
        server = await asyncio.start_server(answer, common.HOST, port, backlog=1024)
        stopped = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
        async with server:
            await stopped.wait()
        with open(out, "w") as f:
            for row in got:
                f.write(json.dumps(row) + "\n")
        os._exit(0)

    asyncio.run(serve())


# --- the run -----------------------------------------------------------------------------------


def call(url: str, token: str, body: Any, method: str = "POST") -> Any:
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    return json.loads(urllib.request.urlopen(req, timeout=60).read() or b"null")


def tokens(base: str, admin: str, role: str) -> dict[str, str]:
    return {r: call(f"{base}/v1/tokens", admin, {"org": r, "role": role})["token"] for r in REGIONS}


async def post_all(
    base_port: int, operators: dict[str, str]
) -> tuple[list[float], dict[int, float], int]:
    """Offer RATE events/s for SECONDS s, round-robin over the regions: POST latencies (s),
    each position's ack time (monotonic), and failures."""
    total = int(RATE * SECONDS)
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(CONNECTIONS):
        pool.put_nowait(await asyncio.open_connection(common.HOST, base_port))
    latencies: list[float] = []
    acks: dict[int, float] = {}
    failures = 0
    counter = iter(range(total))

    async def one(scheduled: float) -> None:
        nonlocal failures
        n = next(counter)
        region = REGIONS[n % len(REGIONS)]
        body = {
            "type": "incident.opened",
            "subject": str(uuid4()),
            "message_id": f"bench-{uuid4().hex}",
            "occurred_at": datetime.now(UTC).isoformat(),
            "data": {"title": "bench", "regions": [region], "grip": "1"},
        }
        reader, writer = await pool.get()
        started = time.monotonic()
        try:
            status, answer = await common.post_event(
                reader, writer, operators[region], json.dumps(body).encode()
            )
        finally:
            pool.put_nowait((reader, writer))
        done = time.monotonic()
        latencies.append(done - started)
        if status != 201:
            failures += 1
            return
        acks[json.loads(answer)["events"][0]["position"]] = done

    await common.open_loop(one, RATE, total, time.monotonic(), clock=time.monotonic)
    return latencies, acks, failures


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def ticks(pid: int) -> tuple[int, int]:
    """User and system CPU of a process (with its ended children), in clock ticks; 0 if gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0, 0
    return int(fields[11]) + int(fields[13]), int(fields[12]) + int(fields[14])


def switches(pid: int) -> int:
    """Context switches of a process's live threads (voluntary and not)."""
    total = 0
    for status in Path(f"/proc/{pid}/task").glob("*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if "ctxt_switches:" in line:
                total += int(line.split()[-1])
    return total


def postgres_ticks() -> int:
    """The CPU of every PostgreSQL process on the machine (other users' work included)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if "(postgres)" in text:
            total += sum(int(f) for f in text.rpartition(")")[2].split()[11:13])
    return total


def commits() -> int:
    with psycopg.connect(common.DSN, autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return int(row[0]) if row else 0


def cpu_snapshot(pids: dict[str, int]) -> dict[str, float]:
    now: dict[str, float] = {}
    for name, pid in pids.items():
        user, system = ticks(pid)
        now[name] = float(user + system)
        now[f"{name}_sys"] = float(system)
        now[f"{name}_switches"] = float(switches(pid))
    now["postgres"] = float(postgres_ticks())
    now["poster"] = time.process_time() * os.sysconf("SC_CLK_TCK")
    now["commits"] = float(commits())
    now["wall"] = time.monotonic() * os.sysconf("SC_CLK_TCK")
    return now


def cpu_used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Seconds of CPU per process between two snapshots (``_sys``: of it in the kernel;
    commits and ``_switches``, context switches of the threads alive at the end: counts)."""
    hz = os.sysconf("SC_CLK_TCK")
    return {
        name: round(after[name] - before[name], 2)
        if name == "commits" or name.endswith("_switches")
        else round((after[name] - before[name]) / hz, 2)
        for name in before
    }


def profile(pid: int, seconds: float, raw: Path) -> subprocess.Popen[bytes]:
    from bench.profile_writes import SPY, py_spy

    command = [str(py_spy()), "record", "-p", str(pid), "-r", "100", "-d", str(int(seconds))]
    return subprocess.Popen(
        [*command, "--gil", "-f", "raw", "-o", str(raw)],
        env={**os.environ, "PYTHONPATH": str(SPY)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def run(subscribed: bool) -> dict[str, Any]:
    common.fresh_schema(SCHEMA)
    url = common.database_url(SCHEMA)
    env = {"MLOB_DATABASE_URL": url, "MLOB_WEBHOOK_KEY": KEY}
    if LAYOUT == "worker":
        env["MLOB_PROJECTIONS"] = "workers"
    admin = common.issue_token(env, "LOCC", "admin")
    TMP.mkdir(parents=True, exist_ok=True)
    err = (TMP / "server.err").open("a")
    server = subprocess.Popen(
        [PY, "-m", "mlob.cli", "serve", "--port", str(MLOB_PORT), "--log-level", "warning"],
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=err,
        start_new_session=True,
    )
    worker = None
    if LAYOUT == "worker":
        worker = subprocess.Popen(
            [PY, "-m", "mlob.cli", "worker"],
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
    out = TMP / "received.jsonl"
    out.unlink(missing_ok=True)
    recv = subprocess.Popen(
        [PY, __file__, "receiver", str(RECEIVER_PORT), str(out)],
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        base = f"http://{common.HOST}:{MLOB_PORT}"
        common.wait_for(f"{base}/health")
        operators = tokens(base, admin, "operator")
        subs: dict[str, str] = {}  # path -> region
        if subscribed:
            admins = tokens(base, admin, "admin")
            for region in REGIONS:
                for i in range(PER_REGION):
                    path = f"/hook/{region}/{i}"
                    call(
                        f"{base}/v1/subscriptions",
                        admins[region],
                        {
                            "url": f"http://{common.HOST}:{RECEIVER_PORT}{path}",
                            "channels": [f"region:{region}"],
                        },
                    )
                    subs[path] = region
        time.sleep(2)  # the runner has read the subscriptions
        pids = {"server": server.pid, "receiver": recv.pid}
        if worker is not None:
            pids["worker"] = worker.pid
        spy = None
        raw = TMP / "profile.txt"
        if subscribed and PROFILE in pids:
            spy = profile(pids[PROFILE], SECONDS - 2, raw)
        before = cpu_snapshot(pids)
        latencies, acks, failures = asyncio.run(post_all(MLOB_PORT, operators))
        used = cpu_used(before, cpu_snapshot(pids))
        if spy is not None:
            spy.wait(60)
        expected = len(acks) * PER_REGION if subscribed else 0
        deadline = time.monotonic() + 60
        time.sleep(2)
        while subscribed and time.monotonic() < deadline:
            time.sleep(1)  # the receiver reports only at the end: wait for the queue to drain
            if _drained(url):
                break
    finally:
        common.stop(server)
        if worker is not None:
            common.stop(worker)
        os.kill(recv.pid, signal.SIGTERM)
        recv.wait(10)
    rows = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    delivery = [at - acks[pos] for at, _, _, pos in rows if pos in acks]
    per_sub: dict[str, list[int]] = {}
    ids: dict[str, int] = {}
    for _, path, hook, pos in rows:
        per_sub.setdefault(path, []).append(pos)
        ids[hook] = ids.get(hook, 0) + 1
    in_order = all(p == sorted(p) for p in per_sub.values())
    return {
        "subscribed": subscribed,
        "subscriptions": len(subs),
        "posted": len(acks),
        "post_failures": failures,
        "post_p50_ms": round(pct(latencies, 50) * 1000, 2),
        "post_p99_ms": round(pct(latencies, 99) * 1000, 2),
        "deliveries_expected": expected,
        "deliveries_received": len(rows),
        "duplicates": sum(n - 1 for n in ids.values() if n > 1),
        "in_order": in_order,
        "commit_to_receiver_p50_ms": round(pct(delivery, 50) * 1000, 1) if delivery else None,
        "commit_to_receiver_p99_ms": round(pct(delivery, 99) * 1000, 1) if delivery else None,
        "commit_to_receiver_max_ms": round(max(delivery) * 1000, 1) if delivery else None,
        "commit_to_receiver_mean_ms": (
            round(statistics.fmean(delivery) * 1000, 1) if delivery else None
        ),
        "cpu_seconds_while_posting": used,
        **({"profile": str(raw)} if subscribed and PROFILE else {}),
    }


def _drained(url: str) -> bool:
    import psycopg

    from mlob.config import parse_database_url

    store = parse_database_url(url)
    with psycopg.connect(store.connect_info()) as conn:
        row = conn.execute(
            "SELECT count(*) FROM mlob_webhook_deliveries WHERE state = 'pending'"
        ).fetchone()
        cursor = conn.execute("SELECT position FROM mlob_webhook_cursor").fetchone()
        head = conn.execute("SELECT max(position) FROM mlob_event_index").fetchone()
    return bool(row and row[0] == 0 and cursor and head and cursor[0] >= (head[0] or 0))


def main() -> None:
    print(json.dumps(common.circumstances(), indent=1))
    print(
        f"layout: {LAYOUT}; offered: {RATE:g} events/s for {SECONDS:g} s over "
        f"{len(REGIONS)} regions; "
        f"{PER_REGION} subscriptions per region"
    )
    print(f"load average before: {os.getloadavg()}")
    baseline = run(subscribed=False)
    print(json.dumps(baseline, indent=1))
    subscribed = run(subscribed=True)
    print(json.dumps(subscribed, indent=1))
    over = subscribed["post_p99_ms"] - baseline["post_p99_ms"]
    print(
        f"POST p99: {baseline['post_p99_ms']} ms without subscriptions, "
        f"{subscribed['post_p99_ms']} ms with ({over:+.2f} ms; target: at most +5 ms)"
    )
    print(
        f"commit to receiver: p50 {subscribed['commit_to_receiver_p50_ms']} ms, "
        f"p99 {subscribed['commit_to_receiver_p99_ms']} ms; "
        f"{subscribed['deliveries_received']} of {subscribed['deliveries_expected']} received, "
        f"{subscribed['duplicates']} duplicates, in order: {subscribed['in_order']}"
    )
    hz_over = {
        name: round(subscribed["cpu_seconds_while_posting"][name] - cpu, 2)
        for name, cpu in baseline["cpu_seconds_while_posting"].items()
    }
    print(f"CPU (s) and commits while posting, with minus without subscriptions: {hz_over}")
    if PROFILE:
        from bench.profile_writes import shares

        busy, found = shares(Path(subscribed["profile"]))
        match = os.environ.get("PROFILE_MATCH", "")
        print(f"py-spy of the {PROFILE}: busy samples {busy}; inclusive shares:")
        for frame, share in found[:300]:
            if match in frame and share >= 1.0:
                print(f"{share:5.1f} %  {frame}")
    print(f"load average after: {os.getloadavg()}")
    print("reproduce: /work/main/.venv/bin/python bench/webhooks.py  (HOOKS_RATE, HOOKS_SECONDS)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "receiver":
        receiver(int(sys.argv[2]), sys.argv[3])
    else:
        main()
