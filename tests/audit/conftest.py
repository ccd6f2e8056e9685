"""The demo with its projections caught up (the `views` fixture) for the audit tests."""

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlob import asof
from tests.projections.conftest import views

__all__ = ["audit_cli", "views"]

ROOT = Path(__file__).resolve().parents[2]


def audit_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``mlob audit ARGS`` in a subprocess with this environment."""
    return subprocess.run(
        [sys.executable, "-m", "mlob.cli", "audit", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(autouse=True)
def no_silent_fallback(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """A picture that falls back to a full replay is still right, so the oracle tests would not
    see a checkpoint bug: here a fallback fails the test (except where it is the subject)."""
    if "falls_back" in request.node.name:
        return

    def fail(message: str, *args: Any) -> None:
        raise AssertionError(message % args)

    monkeypatch.setattr(asof.log, "warning", fail)
