"""``mlob audit timeline | picture | stats | export`` on a store file with the demo."""

from __future__ import annotations

import csv
import io
import os
import subprocess
from datetime import timedelta
from pathlib import Path

import orjson

from mlob import demo
from mlob.application import MlobApplication
from mlob.config import StoreConfig
from mlob.service import Service
from tests.audit.conftest import audit_cli
from tests.projections.conftest import NOW

ROOT = Path(__file__).resolve().parents[2]


def test_audit_commands(tmp_path: Path) -> None:
    path = tmp_path / "mlob.sqlite3"
    app = MlobApplication(StoreConfig(kind="sqlite", sqlite_path=path))
    demo.load_demo(Service(app), NOW)
    top = app.last_position()
    app.close()
    env = {**os.environ, "MLOB_DATABASE_URL": f"sqlite:///{path}"}

    def audit(*args: str) -> subprocess.CompletedProcess[str]:
        return audit_cli(env, *args)

    line = audit("timeline", str(demo.BLANKETS))
    assert line.returncode == 0, line.stderr
    body = orjson.loads(line.stdout)
    assert body["kind"] == "AssistanceRequest" and len(body["events"]) == 9
    assert {d["from"] + ">" + d["to"] for d in body["durations"]} >= {"submitted>received"}
    assert audit("timeline", "not-an-id").returncode == 2

    then = (NOW - timedelta(hours=6.5)).isoformat()
    picture = orjson.loads(audit("picture", "--as-of", then, "--axis", "occurred").stdout)
    [flood] = picture["incidents"]
    assert flood["grip"] == "4"
    trucks = next(
        c
        for c in picture["capacity_overview"]["capabilities"]
        if c["capability"] == "DEF_EVACUATION_TRANSPORT"
    )
    assert trucks["available"] == 6
    replayed = audit("picture", "--as-of", then, "--axis", "occurred", "--full-replay")
    assert orjson.loads(replayed.stdout) == picture
    assert audit("picture", "--as-of", "2026-11-25T10:00").returncode == 2, "no zone: refused"

    stats = orjson.loads(audit("stats").stdout)
    assert stats["total"]["requests"] == 7
    table = list(csv.DictReader(io.StringIO(audit("stats", "--format", "csv").stdout)))
    assert next(r for r in table if r["dimension"] == "total")["granted"] == "4"

    exported = audit("export")
    lines = [orjson.loads(x) for x in exported.stdout.splitlines()]
    assert [e["position"] for e in lines] == list(range(1, top + 1))
    assert "100.0%" in exported.stderr, "a progress bar on stderr"
    rows = list(csv.DictReader(io.StringIO(audit("export", "--format", "csv").stdout)))
    assert len(rows) == top and rows[0]["type"] == "mlob:Capacity.Registered"
