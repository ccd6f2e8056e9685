"""Where a single post's CPU goes: one ``mlob serve`` on PostgreSQL with the projections off the
server (``MLOB_PROJECTIONS=workers``, no worker), ``wrk`` posting ``bench/run.sh``'s mix of single
events (or ``BATCH`` per post) to 500 seeded incidents, and py-spy sampling the server.

Prints the server's CPU per event and the busy samples' inclusive shares per function (idle
waits left out). Reproduce: ``.venv/bin/python bench/profile_writes.py`` (``BATCH``,
``PROFILE_SECONDS``, ``PROFILE_MATCH`` to list only functions whose name holds it). py-spy is
installed from PyPI into a temporary folder on first use.
"""

from __future__ import annotations

import collections
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench import PY, lua, start
from bench.common import (
    cpu_seconds,
    database_url,
    fresh_schema,
    issue_token,
    seed,
    stop,
    wait_for,
)

SCHEMA = "bench_profile_writes"
PORT = 8791
BATCH = int(os.environ.get("BATCH", "1"))
SECONDS = int(os.environ.get("PROFILE_SECONDS", "15"))
MATCH = os.environ.get("PROFILE_MATCH", "")
SPY = Path(tempfile.gettempdir()) / "mlob-py-spy"
#: A sample whose innermost frame is one of these is a thread waiting, not working.
IDLE = (
    "Condition.wait",
    "Queue.get",
    "Event.wait",
    "select (",
    "Lock.acquire",
    "sleep",
    "Connection.wait (psycopg",  # waiting for the server's answer
)


def py_spy() -> Path:
    beside = Path(PY).parent / "py-spy"  # installed into the interpreter's environment
    if beside.exists():
        return beside
    binary = SPY / "bin" / "py-spy"
    if not binary.exists():
        subprocess.run(
            [PY, "-m", "pip", "install", "-q", "--target", str(SPY), "py-spy"], check=True
        )
    return binary


def shares(raw: Path) -> tuple[int, list[tuple[str, float]]]:
    def name(frame: str) -> str:
        frame = re.sub(r" \(.*?/(site-packages/|lib/python3\.\d+/)", " (", frame)
        return re.sub(r":\d+\)$", ")", frame.replace(str(Path.cwd()) + "/", ""))

    inclusive: collections.Counter[str] = collections.Counter()
    busy = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [name(f) for f in stack.split(";")]
        if not frames or any(k in frames[-1] for k in IDLE):
            continue
        busy += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
    return busy, [(f, 100 * n / busy) for f, n in inclusive.most_common() if busy]


def main() -> None:
    spy = py_spy()
    fresh_schema(SCHEMA)
    env = {"MLOB_DATABASE_URL": database_url(SCHEMA), "MLOB_PROJECTIONS": "workers"}
    token = issue_token(env, "VR08", "operator")
    server = start(
        [PY, "-m", "mlob.cli", "serve", "--port", str(PORT), "--log-level", "warning"], env
    )
    raw = Path(tempfile.gettempdir()) / "mlob-profile-writes.txt"
    try:
        url = f"http://127.0.0.1:{PORT}"
        wait_for(f"{url}/health")
        script = lua(token, seed(url, token, 500), BATCH, 7)
        load = subprocess.Popen(
            ["wrk", "-t2", "-c16", f"-d{SECONDS + 6}s", "-s", str(script), url],
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(3)
        before, started = cpu_seconds({"server": server.pid})["server"], time.monotonic()
        subprocess.run(
            [
                str(spy),
                "record",
                "-p",
                str(server.pid),
                "-r",
                "100",
                "-d",
                str(SECONDS),
                "-f",
                "raw",
                "-o",
                str(raw),
            ],
            env={**os.environ, "PYTHONPATH": str(SPY)},
            capture_output=True,
            check=True,
        )
        cpu = cpu_seconds({"server": server.pid})["server"] - before
        elapsed = time.monotonic() - started
        summary = load.communicate()[0]
    finally:
        stop(server)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", summary).group(1))  # type: ignore[union-attr]
    events = rate * BATCH * elapsed
    print(f"posts/s {rate:.0f} (batch {BATCH}); server CPU {cpu:.2f} s in {elapsed:.1f} s")
    print(
        f"server CPU per event: {1e6 * cpu / events:.0f} µs; load average {os.getloadavg()[0]:.1f}"
    )
    busy, found = shares(raw)
    print(f"busy samples {busy}; inclusive shares:")
    for frame, share in found[:200]:
        if MATCH in frame and share >= 0.5:
            print(f"{share:5.1f} %  {frame}")
    print("reproduce: .venv/bin/python bench/profile_writes.py")


if __name__ == "__main__":
    main()
