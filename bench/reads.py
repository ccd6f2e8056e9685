"""Reads on a grown store (issue 21): lists in pages, details, the board's first page and the
picture, while posts arrive; and what the readers cost the posts. Prints figures and the command.

1. The store: a PostgreSQL schema named by the loader's version (``bench_reads_v<N>``) holding
   BENCH_READS_EVENTS (1,000,000) events with about BENCH_READS_EVENTS / 10 requests, loaded once
   through the posting path (bench/projections.py's ``History``: request lifecycles of two
   flows stopping at every step, their incidents and capacity movements) and reused while it
   holds that many events (BENCH_READS_FRESH=1 loads it again). The projections are caught up in
   this process before the server starts.
2. ``mlob serve`` and ``mlob worker`` on it (MLOB_PROJECTIONS=workers, as compose runs them).
3. Two phases of BENCH_READS_SECONDS (20) each, after a warm-up: posts alone at
   BENCH_READS_POST_RATE (600/s; the write benchmark's mix), then the same posts with readers at
   BENCH_READS_RATE (100/s in all, open loop): a first list page, a filtered list page (region,
   status), a next page by cursor, a request's detail, the board's first page, the picture.
   Latency counts from each request's scheduled time (no coordinated omission).

    .venv/bin/python bench/reads.py
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench import common  # noqa: E402
from bench import projections as bp  # noqa: E402
from bench.loadgen import body as post_body  # noqa: E402

PY = sys.executable
LOADER_VERSION = 1  # change when History's mix changes: a new schema is loaded
SCHEMA = f"bench_reads_v{LOADER_VERSION}"
EVENTS = int(os.environ.get("BENCH_READS_EVENTS", "1000000"))
SECONDS = float(os.environ.get("BENCH_READS_SECONDS", "20"))
WARMUP = float(os.environ.get("BENCH_READS_WARMUP", "5"))
POST_RATE = float(os.environ.get("BENCH_READS_POST_RATE", "600"))
READ_RATE = float(os.environ.get("BENCH_READS_RATE", "100"))
PORT = int(os.environ.get("BENCH_READS_PORT", "8797"))
#: Targets (issue 21), milliseconds at p99.
TARGETS = {"list": 20.0, "list_filtered": 20.0, "next_page": 20.0, "detail": 10.0}
TARGETS |= {"board": 50.0, "picture": 100.0}
POST_SLACK_MS = 10.0


def load() -> dict[str, Any]:
    from mlob.config import parse_database_url
    from mlob.service import Service
    from mlob.write.application import MlobApplication

    common.fresh_schema(SCHEMA)
    service = Service(MlobApplication(parse_database_url(common.database_url(SCHEMA))))
    bp.out(f"loading >= {EVENTS:,} events into schema {SCHEMA} (many minutes) ...")
    started = time.perf_counter()
    # About 10% incident events: the rest are ~9-step request lifecycles, so ~EVENTS/10 requests.
    history = bp.History(service, datetime.now(UTC), new_incidents=0.05, incident_ratio=0.11)
    history.build(EVENTS)
    took = time.perf_counter() - started
    service.app.close()
    with psycopg.connect(common.DSN, autocommit=True) as conn:
        for table in ("mlob_events", "mlob_event_index"):
            conn.execute(f'VACUUM ANALYZE "{SCHEMA}".{table}')
    bp.out(f"loaded {history.posted:,} events in {took:.0f} s ({history.posted / took:,.0f}/s)")
    return {"seconds": round(took), "events": history.posted}


def catch_up() -> dict[str, Any]:
    """The projections up to the head, in this process, before the server starts."""
    from mlob.bootstrap import open_projections
    from mlob.config import parse_database_url
    from mlob.service import Service
    from mlob.write.application import MlobApplication

    service = Service(MlobApplication(parse_database_url(common.database_url(SCHEMA))))
    projections = open_projections(service)
    started = time.perf_counter()
    projections.catch_up()
    took = time.perf_counter() - started
    projections.close()
    service.close()
    service.app.close()
    with psycopg.connect(common.DSN, autocommit=True) as conn:
        # What autovacuum does to a settled store: the catch-up rewrote each row many times
        # (three quarters of the rows tables' tuples were dead), which a store under steady
        # load never piles up before autovacuum comes by.
        for name in ("requests", "incidents", "capacities"):
            conn.execute(f'VACUUM ANALYZE "{SCHEMA}".mlob_rows_{name}')
    return {"seconds": round(took, 1)}


def counts() -> dict[str, int]:
    with psycopg.connect(common.DSN) as conn:
        found = {}
        for name in ("requests", "incidents", "capacities"):
            row = conn.execute(
                f'SELECT count(DISTINCT id) FROM "{SCHEMA}".mlob_rows_{name}'
            ).fetchone()
            found[name] = int(row[0]) if row else 0
    return found


def ids_of(table: str, limit: int) -> list[str]:
    """Ids of up to ``limit`` rows of a read model (``requests``, ``incidents``)."""
    with psycopg.connect(common.DSN) as conn:
        rows = conn.execute(
            f'SELECT DISTINCT id FROM "{SCHEMA}".mlob_rows_{table} LIMIT %s', (limit,)
        ).fetchall()
    return [str(r[0]) for r in rows]


async def get(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, token: str, path: str
) -> tuple[int, bytes]:
    """GET on a kept-alive raw connection (as bench.common.post_event, for the client's CPU)."""
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
    )
    return await common.read_response(reader)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 1) if ordered else 0


async def phase(
    url: str,
    writer_token: str,
    reader_token: str,
    incidents: list[str],
    requests: list[str],
    readers: bool,
    seconds: float,
) -> dict[str, Any]:
    host, port = "127.0.0.1", PORT
    rng = random.Random(21)
    occurred = datetime.now(UTC).isoformat()
    post_idle: asyncio.Queue[Any] = asyncio.Queue()
    read_idle: asyncio.Queue[Any] = asyncio.Queue()
    for _ in range(64):
        post_idle.put_nowait(await asyncio.open_connection(host, port))
    for _ in range(48):
        read_idle.put_nowait(await asyncio.open_connection(host, port))
    posts: list[float] = []
    post_statuses: dict[int, int] = {}
    reads: dict[str, list[float]] = {k: [] for k in TARGETS}
    read_statuses: dict[str, dict[int, int]] = {k: {} for k in TARGETS}
    cursors: list[str] = []

    async def one_post(scheduled: float) -> None:
        conn = await post_idle.get()
        try:
            status, _ = await common.post_event(
                *conn, writer_token, post_body(incidents, occurred, rng)
            )
        except (IndexError, OSError, asyncio.IncompleteReadError):  # closed by the server
            status, conn = 0, await asyncio.open_connection(host, port)
        posts.append(time.perf_counter() - scheduled)
        post_statuses[status] = post_statuses.get(status, 0) + 1
        post_idle.put_nowait(conn)

    kinds = itertools.cycle(TARGETS)

    async def one_read(scheduled: float) -> None:
        # In turn (it was chosen by the scheduled millisecond, which at 100/s steps by 10:
        # only every other kind of read was ever made)
        kind = next(kinds)
        status_filter = rng.choice(["closed", "submitted", "approved"])
        following = quote(cursors[-1]) if cursors else ""
        path = {
            "list": "/v1/requests?limit=50",
            "list_filtered": f"/v1/requests?region=VR08&status={status_filter}&limit=50",
            "next_page": f"/v1/requests?limit=50&cursor={following}"
            if following
            else "/v1/requests?limit=50",
            "detail": f"/v1/requests/{rng.choice(requests)}",
            "board": "/v1/board?limit=50",
            "picture": "/v1/picture",
        }[kind]
        conn = await read_idle.get()
        try:
            status, answer = await get(*conn, reader_token, path)
        except (IndexError, OSError, asyncio.IncompleteReadError):  # closed by the server
            status, answer, conn = 0, b"{}", await asyncio.open_connection(host, port)
        reads[kind].append(time.perf_counter() - scheduled)
        read_statuses[kind][status] = read_statuses[kind].get(status, 0) + 1
        if kind in ("list", "next_page") and status == 200:
            following = json.loads(answer).get("next")
            if following:
                cursors.append(following)
        read_idle.put_nowait(conn)

    start = time.perf_counter() + 0.1
    jobs = [common.open_loop(one_post, POST_RATE, int(POST_RATE * seconds), start)]
    if readers:
        jobs.append(common.open_loop(one_read, READ_RATE, int(READ_RATE * seconds), start))
    await asyncio.gather(*jobs)
    result: dict[str, Any] = {
        "posts": {"p50_ms": pct(posts, 0.5), "p99_ms": pct(posts, 0.99), "statuses": post_statuses}
    }
    if readers:
        result["reads"] = {
            k: {"p50_ms": pct(v, 0.5), "p99_ms": pct(v, 0.99), "statuses": read_statuses[k]}
            for k, v in reads.items()
        }
    return result


def main() -> None:
    results: dict[str, Any] = {"circumstances": common.circumstances(), "schema": SCHEMA}
    have = common.events_in(SCHEMA)
    if os.environ.get("BENCH_READS_FRESH") == "1" or have < EVENTS:
        results["load"] = load()
    else:
        bp.out(f"reusing schema {SCHEMA} ({have:,} events)")
    results["catch_up"] = catch_up()
    results["store"] = {"events": common.events_in(SCHEMA), **counts()}
    bp.out(f"store: {results['store']}")
    env = {
        **os.environ,
        "MLOB_DATABASE_URL": common.database_url(SCHEMA),
        "MLOB_PROJECTIONS": "workers",
    }
    server = subprocess.Popen(
        [PY, "-m", "mlob.cli", "serve", "--port", str(PORT), "--log-level", "warning"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # common.stop signals the process group
    )
    worker = subprocess.Popen(
        [PY, "-m", "mlob.cli", "worker"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # common.stop signals the process group
    )
    url = f"http://127.0.0.1:{PORT}"
    try:
        common.wait_for(url)
        writer_token = common.issue_token(env, "VR08", "operator")
        reader_token = common.issue_token(env, "LOCC", "coordinator", "stg_geheim")
        incidents, requests = ids_of("incidents", 2000), ids_of("requests", 5000)
        asyncio.run(phase(url, writer_token, reader_token, incidents, requests, True, WARMUP))
        alone = asyncio.run(
            phase(url, writer_token, reader_token, incidents, requests, False, SECONDS)
        )
        mixed = asyncio.run(
            phase(url, writer_token, reader_token, incidents, requests, True, SECONDS)
        )
    finally:
        common.stop(server)
        common.stop(worker)
    results["posts_alone"] = alone["posts"]
    results["posts_with_readers"] = mixed["posts"]
    results["reads"] = mixed["reads"]
    delta = mixed["posts"]["p99_ms"] - alone["posts"]["p99_ms"]
    results["verdict"] = {
        **{f"{k}_p99_ms<={t}": mixed["reads"][k]["p99_ms"] <= t for k, t in TARGETS.items()},
        f"post_p99_delta_ms<={POST_SLACK_MS}": delta <= POST_SLACK_MS,
        "post_p99_delta_ms": round(delta, 1),
    }
    results["command"] = ".venv/bin/python bench/reads.py"
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
