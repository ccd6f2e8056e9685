"""The demo with its projections caught up (the `views` fixture) for the audit tests."""

from typing import Any

import pytest

from mlob import asof
from tests.projections.conftest import views

__all__ = ["views"]


@pytest.fixture(autouse=True)
def no_silent_fallback(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """A picture that falls back to a full replay is still right, so the oracle tests would not
    see a checkpoint bug: here a fallback fails the test (except where it is the subject)."""
    if "falls_back" in request.node.name:
        return

    def fail(message: str, *args: Any) -> None:
        raise AssertionError(message % args)

    monkeypatch.setattr(asof.log, "warning", fail)
