"""Issue 16, defect 12: what feed replays by a narrow reader cost everyone else.

One command (PostgreSQL on 127.0.0.1:5432, schema ``bench_feed_replays``, dropped first):

    .venv/bin/python bench/feed_replays.py [--code DIR] [--events 20000] [--replays 10]

``--code DIR`` runs the server from another checkout (e.g. a ``git worktree`` of the commit
before a change) with this checkout's virtualenv, so before and after run the same harness.

``--compare DIR`` measures before and after in one run, on one store (the machine is shared
and noisy: only ratios measured side by side mean much): the store is seeded once, then a
server of DIR and one of this checkout take turns (``--rounds``, the order alternating), each
measuring the baseline and the ten replays (one token each); it prints each side's figures
and the ratios before / after, and the command that reproduces them:

    git worktree add --detach /tmp/replay-before 853f4e8   # the feed before issue 16's choice
    .venv/bin/python bench/feed_replays.py --compare /tmp/replay-before

1. Starts one ``mlob serve`` process (one node) on a fresh schema and records ``--events``
   events over HTTP across the 25 safety regions (per region incidents opened and situation
   reports on them, in batches of 500), then waits until the read models caught up.
2. Baseline: a national subscriber (LOCC coordinator, ``national``) while a poster opens one
   incident every 0.1 s (open loop, single posts) for 5 s. Per posted event (one monotonic
   clock): post to frame (the POST sent to the frame holding the event arrived: what a screen
   waits for a step), the POST's round trip, and 201 to frame (the feed's own delay; negative
   when the frame came first).
3. Idle narrow readers: the same while ``--replays`` VR08 operator clients subscribe
   ``national`` without ``after`` (no replay) and stay 5 s: what such readers cost the hub
   anyway (per batch, the national summary for a region: every incident and request row read).
4. Replays: the same subscriber and poster while ``--replays`` clients of VR08 operator tokens
   (VR08 sees about 1/25 of the history) each connect, subscribe ``national`` with
   ``after: 0`` and ping: the pong comes once their catch-up is done (subscribe is handled
   before the next message). Run twice: one token per replay, and one token for all (the
   per-token limits: 8 connections, 2 concurrent replays). Reported: the national
   subscriber's latency during the replays (p50, p90, max), each replay's duration, and what
   the replays were answered (pong, or error code and close code).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import DSN, circumstances, stop, wait_for  # noqa: E402

#: The schema (dropped first); another name lets runs of other checkouts go on beside.
SCHEMA = os.environ.get("BENCH_SCHEMA", "bench_feed_replays")
URL = f"postgresql://postgres@127.0.0.1:5432/test?schema={SCHEMA}"
REGIONS = [f"VR{n:02d}" for n in range(1, 26)]


def fresh_schema() -> None:
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{SCHEMA}"')


def issue(code: Path, org: str, role: str, count: int = 1) -> list[str]:
    script = (
        "import sys\n"
        "from mlob.bootstrap import open_application\n"
        "from mlob.cli import CLI_ADMIN\n"
        "from mlob.config import load_settings\n"
        "from mlob.service import Service\n"
        "from domain.envelope import Classification\n"
        "service = Service(open_application(load_settings()))\n"
        "for _ in range(int(sys.argv[3])):\n"
        "    print(service.issue_token(CLI_ADMIN, org=sys.argv[1], role=sys.argv[2],"
        " clearance=Classification.UNCLASSIFIED).token)\n"
        "service.app.close()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, org, role, str(count)],
        env={**os.environ, "MLOB_DATABASE_URL": URL},
        cwd=code,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.split()


def opened(subject: str, region: str) -> dict[str, Any]:
    return {
        "type": "incident.opened",
        "subject": subject,
        "message_id": str(uuid.uuid4()),
        "occurred_at": datetime.now(UTC).isoformat(),
        "data": {"title": f"incident in {region}", "regions": [region], "grip": "1"},
    }


def reported(subject: str) -> dict[str, Any]:
    return {
        "type": "incident.situation_reported",
        "subject": subject,
        "message_id": str(uuid.uuid4()),
        "occurred_at": datetime.now(UTC).isoformat(),
        "data": {"summary": "water rising at the dike near the pumping station " * 3},
    }


def caught_up(client: httpx.Client, token: str, last: int) -> None:
    """Wait until the read models reached ``last`` (they share the CPU with what is timed)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        response = client.get(
            "/v1/picture",
            params={"min_position": last, "wait": 10},
            headers={"Authorization": f"Bearer {token}"},
        )
        if response.json().get("reached", True):
            return


def seed(base: str, tokens: dict[str, str], events: int) -> int:
    per_region = events // len(REGIONS)
    last = 0
    with httpx.Client(base_url=base, timeout=120) as client:
        for region in REGIONS:
            incidents = [str(uuid.uuid4()) for _ in range(max(1, per_region // 5))]
            items = [opened(i, region) for i in incidents]
            while len(items) < per_region:
                items.append(reported(incidents[len(items) % len(incidents)]))
            for start in range(0, len(items), 500):
                response = client.post(
                    "/v1/events",
                    json={"items": items[start : start + 500]},
                    headers={"Authorization": f"Bearer {tokens[region]}"},
                )
                assert response.status_code == 201, response.text
                last = response.json()["events"][-1]["position"]
        caught_up(client, tokens["LOCC"], last)
    return last


async def national(
    ws_url: str, token: str, arrived: dict[int, float], ready: asyncio.Event
) -> None:
    async with websockets.connect(
        ws_url, additional_headers={"Authorization": f"Bearer {token}"}, max_size=None
    ) as ws:
        await ws.recv()
        await ws.send('{"subscribe": ["national"]}')
        await ws.recv()
        ready.set()
        async for raw in ws:
            now = time.monotonic()
            message = orjson.loads(raw)
            for event in message.get("events", ()):
                arrived.setdefault(event["position"], now)


async def poster(base: str, token: str, acked: dict[int, tuple[float, float]]) -> None:
    """Open loop: one incident opened every 0.1 s, whatever the answers take."""

    async def one(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
        at = time.monotonic()
        response = await client.post(
            "/v1/events", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        acked[response.json()["events"][0]["position"]] = (at, time.monotonic())

    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        start = time.monotonic()
        posts: set[asyncio.Task[None]] = set()
        try:
            for n in range(10**9):
                await asyncio.sleep(max(0.0, start + n * 0.1 - time.monotonic()))
                task = asyncio.create_task(one(client, opened(str(uuid.uuid4()), "VR01")))
                posts.add(task)
                task.add_done_callback(posts.discard)
        finally:
            if posts:
                await asyncio.wait(posts, timeout=120)


async def replay(
    ws_url: str, token: str, after: int | None = 0, channel: str = "national"
) -> dict[str, Any]:
    """Subscribe ``channel`` (with ``after``) and ping: the pong ends the catch-up. Without
    ``after`` (an idle narrow reader, no replay) the connection then stays for 5 s."""
    started = time.monotonic()
    outcome: dict[str, Any] = {"events": 0}
    try:
        async with websockets.connect(
            ws_url, additional_headers={"Authorization": f"Bearer {token}"}, max_size=None
        ) as ws:
            subscribe: dict[str, Any] = {"subscribe": [channel]}
            if after is not None:
                subscribe["after"] = after
            await ws.send(orjson.dumps(subscribe).decode())
            await ws.send('{"type": "ping"}')
            async for raw in ws:
                message = orjson.loads(raw)
                outcome["events"] += len(message.get("events", ()))
                if message["type"] == "error":
                    outcome.setdefault("errors", []).append(message["code"])
                if message["type"] == "pong":
                    outcome["seconds"] = round(time.monotonic() - started, 3)
                    if after is None:
                        with contextlib.suppress(TimeoutError):
                            async with asyncio.timeout(5.0):
                                async for _ in ws:
                                    pass
                    break
    except websockets.ConnectionClosed as closed:
        outcome["closed"] = closed.rcvd.code if closed.rcvd else None
    outcome.setdefault("seconds", round(time.monotonic() - started, 3))
    return outcome


def spread(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    values = sorted(values)
    return {
        "n": len(values),
        "p50_ms": round(values[len(values) // 2], 1),
        "p90_ms": round(values[min(len(values) - 1, int(len(values) * 0.9))], 1),
        "max_ms": round(values[-1], 1),
    }


def latencies(acked: dict[int, tuple[float, float]], arrived: dict[int, float]) -> dict[str, Any]:
    """Per posted event: post to frame (what a screen waits for a step), the post's round
    trip, and 201 to frame (the feed's own delay; negative when the frame came first)."""
    seen = [p for p in acked if p in arrived]
    return {
        "missing": len(acked) - len(seen),
        "post_to_frame": spread([(arrived[p] - acked[p][0]) * 1000 for p in seen]),
        "post_round_trip": spread([(acked[p][1] - acked[p][0]) * 1000 for p in acked]),
        "ack_to_frame": spread([(arrived[p] - acked[p][1]) * 1000 for p in seen]),
    }


async def phase(
    base: str,
    ws_url: str,
    tokens: dict[str, str],
    replay_tokens: list[str],
    after: int | None = 0,
    channel: str = "national",
) -> dict[str, Any]:
    arrived: dict[int, float] = {}
    acked: dict[int, tuple[float, float]] = {}
    ready = asyncio.Event()
    listener = asyncio.create_task(national(ws_url, tokens["LOCC"], arrived, ready))
    await ready.wait()
    await asyncio.sleep(0.5)
    post = asyncio.create_task(poster(base, tokens["VR01"], acked))
    await asyncio.sleep(1.0)
    started = time.monotonic()
    if replay_tokens:
        outcomes = await asyncio.gather(*(replay(ws_url, t, after, channel) for t in replay_tokens))
    else:
        await asyncio.sleep(5.0)
        outcomes = []
    during = time.monotonic() - started
    post.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await post
    await asyncio.sleep(2.0)
    listener.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await listener
    window = {p: t for p, t in acked.items() if started <= t[0] <= started + during}
    return {
        "seconds": round(during, 2),
        "national_latency": latencies(window, arrived),
        "replays": outcomes,
    }


def serve(code: Path, port: int) -> subprocess.Popen[Any]:
    return subprocess.Popen(
        [sys.executable, "-m", "mlob.cli", "serve", "--port", str(port)],
        env={**os.environ, "MLOB_DATABASE_URL": URL},
        cwd=code,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def commit_of(code: Path) -> str:
    found = subprocess.run(
        ["git", "-C", str(code), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    dirty = subprocess.run(
        ["git", "-C", str(code), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=False,
    )
    return found.stdout.strip() + (" (with changes)" if dirty.stdout.strip() else "")


def median(values: list[float]) -> float:
    values = sorted(values)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def fresh_store(code: Path, port: int, replays: int) -> tuple[dict[str, str], list[str], str, str]:
    """An empty schema and tokens issued with ``code``: an operator's for each region, the
    coordinator's (``LOCC``) and ``replays`` VR08 operators' (the narrow readers); then the
    server's HTTP and feed URLs on ``port``."""
    fresh_schema()
    tokens = {r: issue(code, r, "operator")[0] for r in REGIONS}
    tokens["LOCC"] = issue(code, "LOCC", "coordinator")[0]
    narrow = issue(code, "VR08", "operator", replays)
    return tokens, narrow, f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/v1/feed"


def compare(args: argparse.Namespace) -> None:
    """Before (``--compare``) and after (this checkout) in turns on one store: see the top."""
    sides = {"before": args.compare.resolve(), "after": ROOT}
    print("command: .venv/bin/python bench/feed_replays.py " + " ".join(sys.argv[1:]), flush=True)
    for name, code in sides.items():
        print(f"{name}: {code} at {commit_of(code)}", flush=True)
    tokens, narrow, base, ws_url = fresh_store(ROOT, args.port, args.replays)
    server = serve(ROOT, args.port)
    try:
        wait_for(f"{base}/health")
        head = seed(base, tokens, args.events)
    finally:
        stop(server)
    print(f"store: {head} events; {args.replays} VR08 readers replay national from 0", flush=True)
    runs: dict[str, list[dict[str, Any]]] = {f"{n} {c}": [] for n in sides for c in args.channel}
    for round_ in range(args.rounds):
        order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
        for name in order:
            server = serve(sides[name], args.port)
            try:
                wait_for(f"{base}/health")
                with httpx.Client(base_url=base, timeout=120) as client:
                    caught_up(client, tokens["LOCC"], head)
                load = os.getloadavg()[0]
                quiet = asyncio.run(phase(base, ws_url, tokens, []))
                during = {
                    channel: asyncio.run(phase(base, ws_url, tokens, narrow, 0, channel))
                    for channel in args.channel
                }
            finally:
                stop(server)
            for channel, replays in during.items():
                run = {
                    "load": load,
                    "channel": channel,
                    "baseline": quiet["national_latency"]["post_to_frame"],
                    "during": replays["national_latency"]["post_to_frame"],
                    "round_trip": replays["national_latency"]["post_round_trip"],
                    "missing": replays["national_latency"]["missing"],
                    "replays_s": sorted(r["seconds"] for r in replays["replays"]),
                    "events": sorted({r["events"] for r in replays["replays"]}),
                }
                runs[f"{name} {channel}"].append(run)
                print(f"round {round_ + 1} {name}: {orjson.dumps(run).decode()}", flush=True)

    def figure(name: str, part: str, key: str) -> float:
        return median([r[part][key] for r in runs[name] if r[part].get("n")])

    def replay_s(name: str) -> float:
        return median([median(r["replays_s"]) for r in runs[name]])

    rows = [
        ("national post to frame, no replay, p50 ms", "baseline", "p50_ms"),
        ("national post to frame, during the replays, p50 ms", "during", "p50_ms"),
        ("national post to frame, during the replays, p90 ms", "during", "p90_ms"),
        ("national post to frame, during the replays, max ms", "during", "max_ms"),
        ("POST round trip, during the replays, p50 ms", "round_trip", "p50_ms"),
    ]
    for channel in args.channel:
        print(f"\n{args.replays} VR08 replays of {channel} from 0, medians of {args.rounds} rounds")
        print("what | before | after | before / after")
        old, new = f"before {channel}", f"after {channel}"
        for label, part, key in rows:
            before, after = figure(old, part, key), figure(new, part, key)
            print(f"{label} | {before:.1f} | {after:.1f} | {before / max(after, 0.1):.1f} x")
        before, after = replay_s(old), replay_s(new)
        print(f"each replay's duration, s | {before:.2f} | {after:.2f} | {before / after:.1f} x")
    print(orjson.dumps({"events": head, "runs": runs}, option=orjson.OPT_INDENT_2).decode())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout to run the server from")
    parser.add_argument(
        "--compare", type=Path, default=None, help="checkout to compare with, in the same run"
    )
    parser.add_argument("--rounds", type=int, default=2, help="turns per side with --compare")
    parser.add_argument(
        "--channel",
        action="append",
        help="with --compare: the channel the narrow readers replay (repeatable; default "
        "national; region:VR08 leaves out the national summary that region readers on "
        "national cost the hub anyway)",
    )
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--replays", type=int, default=10)
    parser.add_argument("--port", type=int, default=8791)
    args = parser.parse_args()
    if args.compare is not None:
        args.channel = args.channel or ["national"]
        compare(args)
        return
    code = args.code.resolve()
    tokens, narrow, base, ws_url = fresh_store(code, args.port, args.replays)
    server = serve(code, args.port)
    try:
        wait_for(f"{base}/health")
        head = seed(base, tokens, args.events)
        report: dict[str, Any] = {
            "circumstances": {
                **circumstances(),
                "server_code": str(code),
                "server_commit": subprocess.run(
                    ["git", "-C", str(code), "rev-parse", "--short", "HEAD"],
                    capture_output=True,
                    text=True,
                    check=False,
                ).stdout.strip(),
                "load_before": os.getloadavg(),
            },
            "events": head,
        }
        report["baseline"] = asyncio.run(phase(base, ws_url, tokens, []))
        report["idle_narrow_readers"] = asyncio.run(phase(base, ws_url, tokens, narrow, after=None))
        report["replays_one_token_each"] = asyncio.run(phase(base, ws_url, tokens, narrow))
        report["replays_one_token"] = asyncio.run(
            phase(base, ws_url, tokens, [narrow[0]] * args.replays)
        )
        for name in (
            "baseline",
            "idle_narrow_readers",
            "replays_one_token_each",
            "replays_one_token",
        ):
            part = report[name]
            seconds = sorted(r["seconds"] for r in part["replays"])
            outcomes = sorted(
                {
                    orjson.dumps({k: v for k, v in r.items() if k != "seconds"}).decode()
                    for r in part["replays"]
                }
            )
            print(f"{name}: national {part['national_latency']}", flush=True)
            print(f"  replays {seconds} s; outcomes {outcomes}", flush=True)
        print(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
    finally:
        stop(server)


if __name__ == "__main__":
    main()
