"""``mlob audit timeline | picture | stats | export`` on a store file with the demo."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from datetime import timedelta
from pathlib import Path

import orjson

from domain.envelope import Classification
from mlob import demo
from mlob.config import StoreConfig
from mlob.service import Service
from mlob.write.application import MlobApplication
from tests.cli import run_cli
from tests.integration.projections.conftest import NOW


def test_audit_commands(tmp_path: Path) -> None:
    path = tmp_path / "mlob.sqlite3"
    app = MlobApplication(StoreConfig(kind="sqlite", sqlite_path=path))
    demo.load_demo(Service(app), NOW)
    top = app.last_position()
    app.close()

    def audit(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli("audit", *args, url=f"sqlite:///{path}")

    def marked(done: subprocess.CompletedProcess[str]) -> str:
        """A command-line read opens and closes with the highest classification in it."""
        lines = done.stdout.splitlines()
        assert lines[0] == lines[-1] and lines[0].startswith("# rubricering: "), lines[0]
        return "\n".join(lines[1:-1])

    line = audit("timeline", str(demo.BLANKETS))
    assert line.returncode == 0, line.stderr
    body = orjson.loads(line.stdout)
    assert body["kind"] == "AssistanceRequest" and len(body["events"]) == 9
    assert {d["from"] + ">" + d["to"] for d in body["durations"]} >= {"submitted>received"}
    assert audit("timeline", "not-an-id").returncode == 2

    then = (NOW - timedelta(hours=6.5)).isoformat()
    picture = orjson.loads(marked(audit("picture", "--as-of", then, "--axis", "occurred")))
    [flood] = picture["incidents"]
    assert flood["grip"] == "4"
    trucks = next(
        c
        for c in picture["capacity_overview"]["capabilities"]
        if c["capability"] == "DEF_EVACUATION_TRANSPORT"
    )
    assert trucks["available"] == 6
    replayed = audit("picture", "--as-of", then, "--axis", "occurred", "--full-replay")
    assert orjson.loads(marked(replayed)) == picture
    assert audit("picture", "--as-of", "2026-11-25T10:00").returncode == 2, "no zone: refused"

    stats = orjson.loads(marked(audit("stats")))
    assert stats["total"]["requests"] == 8  # with VR08's pumps covered by several providers
    table = list(csv.DictReader(io.StringIO(marked(audit("stats", "--format", "csv")))))
    assert next(r for r in table if r["dimension"] == "total")["granted"] == "4"

    exported = audit("export")
    lines = [orjson.loads(x) for x in marked(exported).splitlines()]
    assert [e["position"] for e in lines] == list(range(1, top + 1))
    highest = max((Classification(e["classification"]) for e in lines), key=lambda c: c.rank)
    assert exported.stdout.splitlines()[0] == (
        f"# rubricering: {highest.value} (the highest classification in this output)"
    )
    assert "100.0%" in exported.stderr, "a progress bar on stderr"
    exported_csv = audit("export", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(marked(exported_csv))))
    assert len(rows) == top and rows[0]["type"] == "capacity.registered"
    # Events by API type only (issue 17), in both formats: no stored topic.
    assert {e["type"] for e in lines} >= {"request.committed", "capacity.booked"}
    assert not re.search(r"mlob:[A-Z]", exported.stdout + exported_csv.stdout)
