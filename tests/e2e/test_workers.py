"""``mlob serve --workers N`` on a busy node (issue 19). uvicorn's supervisor kills a worker
process that has not answered its health ping in time and starts another; a worker answers only
once its interpreter has started and imported uvicorn. With uvicorn's 5 s, a node whose cores
were busy (a write burst, other processes) killed its workers while they started, again and
again, and served nothing meanwhile. Here every worker's start is slowed by 8 s (a
``sitecustomize`` on its path): the node comes up, and no worker is killed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests import ROOT
from tests.conftest import postgres_config
from tests.servers import free_port

pytestmark = pytest.mark.postgres

SERVE = [sys.executable, "-m", "mlob.cli", "serve"]
SLOW_START = """
import sys, time
if any("spawn_main" in a for a in getattr(sys, "orig_argv", [])):
    time.sleep(8)  # a worker process of the server starting on a busy machine
"""


def test_workers_that_start_slowly_are_not_killed(pg_schema: str, tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text(SLOW_START)
    config = postgres_config(pg_schema)
    port = free_port()
    env = {
        **os.environ,
        "MLOB_DATABASE_URL": f"{config.conninfo} schema={config.schema}",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [*SERVE, "--port", str(port), "--workers", "2", "--log-level", "info"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=1).is_success:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert "died" not in log.read_text(), log.read_text()[-3000:]
