"""What the benchmarks share: the PostgreSQL they run on, the run's circumstances (commit,
machine, settings), starting and stopping servers, and seeding incidents over HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg

ROOT = Path(__file__).resolve().parent.parent
#: The checkout whose mlob is measured (BENCH_CODE: another checkout with its own .venv, e.g.
#: a worktree of the baseline commit, so both are measured by this bench); the bench's own
#: code always runs from here.
CODE = Path(os.environ.get("BENCH_CODE") or ROOT).resolve()


def python_of(tree: Path | str) -> str:
    """The interpreter of a checkout's mlob: its own .venv's, else this one."""
    own = Path(tree) / ".venv" / "bin" / "python"
    return str(own) if Path(tree).resolve() != ROOT and own.exists() else sys.executable


#: The Python that runs the measured mlob.
CODE_PY = python_of(CODE)
HOST, PORT, USER, DB = "127.0.0.1", 5432, "postgres", "test"
DSN = f"host={HOST} port={PORT} user={USER} dbname={DB}"
#: The PostgreSQL settings every benchmark prints (durability first).
SETTINGS = (
    "server_version",
    "synchronous_commit",
    "fsync",
    "full_page_writes",
    "wal_sync_method",
    "shared_buffers",
)


def database_url(schema: str) -> str:
    """mlob's ``MLOB_DATABASE_URL`` for a store in ``schema`` of the benchmarks' PostgreSQL."""
    return f"postgresql://{USER}@{HOST}:{PORT}/{DB}?schema={schema}"


def sh(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=False).stdout.strip()


def fresh_schema(name: str) -> None:
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{name}"')


def circumstances() -> dict[str, Any]:
    """Commit (and uncommitted files), date, machine, Python and PostgreSQL settings."""
    with psycopg.connect(DSN) as conn:
        settings = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
            for name in SETTINGS
        }
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "commit": sh("git", "-C", str(CODE), "rev-parse", "--short", "HEAD"),
        "dirty": sh("git", "-C", str(CODE), "status", "--porcelain").splitlines(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores, {cpu}, "
        f"{round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB, "
        f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgres": settings,
    }


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def stop(proc: subprocess.Popen[Any]) -> None:
    """SIGTERM to the process group, SIGKILL after 15 s."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def issue_token(
    env: dict[str, str],
    org: str,
    role: str,
    clearance: str = "ongerubriceerd",
    code: Path | str = CODE,
) -> str:
    """A token from ``mlob tokens issue`` of the checkout ``code`` on the store ``env`` names."""
    issued = subprocess.run(
        [
            python_of(code),
            "-m",
            "mlob.cli",
            "tokens",
            "issue",
            "--org",
            org,
            "--role",
            role,
            f"--clearance={clearance}",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=code,
        check=True,
    )
    return issued.stdout.strip().splitlines()[-1]


def issue_tokens(url: str, admin: str, org: str, role: str, clearance: str, count: int) -> str:
    """``count`` tokens over HTTP, comma-separated: a token opens at most 8 feed connections
    (issue 16), so a thousand subscribers need 125 of them."""
    tokens = []
    for _ in range(count):
        req = urllib.request.Request(
            f"{url}/v1/tokens",
            data=json.dumps({"org": org, "role": role, "clearance": clearance}).encode(),
            headers={"Authorization": f"Bearer {admin}", "Content-Type": "application/json"},
        )
        tokens.append(json.loads(urllib.request.urlopen(req, timeout=60).read())["token"])
    return ",".join(tokens)


def seed(url: str, token: str, count: int) -> list[str]:
    """``count`` incidents opened over HTTP in batches of 100 (VR08, GRIP 2); their ids."""
    ids = [str(uuid4()) for _ in range(count)]
    occurred = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    for start_at in range(0, count, 100):
        items = [
            {
                "type": "incident.opened",
                "subject": i,
                "message_id": f"seed-{i}",
                "occurred_at": occurred,
                "data": {"title": "seeded", "regions": ["VR08"], "grip": "2"},
            }
            for i in ids[start_at : start_at + 100]
        ]
        req = urllib.request.Request(
            f"{url}/v1/events",
            data=json.dumps({"items": items}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        urllib.request.urlopen(req, timeout=60).read()
    return ids


async def post_event(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, token: str, payload: bytes
) -> tuple[int, bytes]:
    """POST one body on a kept-alive raw connection: (status, answer body).

    Raw HTTP/1.1 on a pool of sockets, not an HTTP client library: the client's own CPU must not
    be what a load generator on a 2-core machine measures.
    """
    writer.write(
        b"POST /v1/events HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {token}\r\nContent-Length: {len(payload)}\r\n\r\n".encode()
        + payload
    )
    return await read_response(reader)


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """An HTTP/1.1 answer on a kept-alive raw connection: (status, body)."""
    status_line = await reader.readline()
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return int(status_line.split()[1]), await reader.readexactly(length)


async def open_loop(
    one: Callable[[float], Awaitable[None]],
    rate: float,
    total: int,
    start: float,
    clock: Callable[[], float] = time.perf_counter,
) -> None:
    """Start ``one(scheduled)`` ``total`` times at ``rate`` per second from ``start`` (on
    ``clock``), whether or not earlier ones have answered: an open loop, so a slow server
    shows as latency instead of as a lower offered rate; then wait for all of them."""
    tasks = []
    for n in range(total):
        scheduled = start + n / rate
        delay = scheduled - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*tasks)


def events_in(schema: str) -> int:
    """The last position of the store in ``schema`` (0 when it is not made yet)."""
    with psycopg.connect(DSN) as conn:
        found = conn.execute("SELECT to_regclass(%s)", (f'"{schema}".mlob_event_index',)).fetchone()
        if not found or found[0] is None:
            return 0
        row = conn.execute(f'SELECT max(position) FROM "{schema}".mlob_event_index').fetchone()
    return int(row[0] or 0) if row else 0


def _stats() -> list[tuple[int, int, str, float]]:
    """(pid, parent pid, command, CPU seconds: user + system) of every process (/proc)."""
    hz = os.sysconf("SC_CLK_TCK")
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        head, _, tail = text.rpartition(")")
        fields = tail.split()
        command = head.partition("(")[2]
        found.append(
            (
                int(stat.parent.name),
                int(fields[1]),
                command,
                (int(fields[11]) + int(fields[12])) / hz,
            )
        )
    return found


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far of each named process with its live descendants (a server's
    workers), and of every PostgreSQL process on the machine (``postgres``: the backends and
    the server's own; others' queries are in it, so measure on a machine left alone)."""
    stats = _stats()
    children: dict[int, list[int]] = {}
    own: dict[int, float] = {}
    postgres = 0.0
    for pid, parent, command, seconds in stats:
        children.setdefault(parent, []).append(pid)
        own[pid] = seconds
        if command == "postgres":
            postgres += seconds
    totals = {"postgres": postgres}
    for name, root in pids.items():
        total, todo = 0.0, [root]
        while todo:
            pid = todo.pop()
            total += own.get(pid, 0.0)
            todo += children.get(pid, [])
        totals[name] = total
    return totals
