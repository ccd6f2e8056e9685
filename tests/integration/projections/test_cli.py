"""``mlob projections status`` and ``mlob projections rebuild`` on a real store file."""

from __future__ import annotations

import subprocess
from pathlib import Path

from mlob import demo
from mlob.config import StoreConfig
from mlob.service import Service
from mlob.write.application import MlobApplication
from tests.cli import run_cli
from tests.integration.projections.conftest import NOW


def mlob(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, url=url)


def test_status_and_rebuild(tmp_path: Path) -> None:
    path = tmp_path / "mlob.sqlite3"
    service = Service(MlobApplication(StoreConfig(kind="sqlite", sqlite_path=path)))
    demo.load_demo(service, NOW)
    top = service.last_position()
    service.app.close()
    url = f"sqlite:///{path}"

    before = mlob(url, "projections", "status")
    assert before.returncode == 0, before.stderr
    lines = {line.split()[0]: line.split() for line in before.stdout.splitlines()[1:]}
    assert set(lines) == {"requests", "capacities", "incidents"}
    assert all(int(cols[1]) == 0 and int(cols[2]) == top for cols in lines.values()), before.stdout

    rebuilt = mlob(url, "projections", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "rebuilt requests, capacities, incidents" in rebuilt.stdout
    after = mlob(url, "projections", "status")
    lines = {line.split()[0]: line.split() for line in after.stdout.splitlines()[1:]}
    assert all(int(cols[1]) == top and int(cols[2]) == 0 for cols in lines.values()), after.stdout

    one = mlob(url, "projections", "rebuild", "incidents")
    assert one.returncode == 0 and "rebuilt incidents" in one.stdout
    unknown = mlob(url, "projections", "rebuild", "nonsense")
    assert unknown.returncode == 2 and "no projection nonsense" in unknown.stderr
