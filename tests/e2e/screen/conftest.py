"""A demo server per store and one headless Chromium for the screen's browser tests."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import unavailable
from tests.servers import Server

#: Debian's Chromium; Playwright drives it (no browser is ever downloaded).
CHROMIUM = Path("/usr/bin/chromium")


def require_chromium() -> None:
    """Skip without Chromium (or Playwright) on a developer machine; in CI that is a failure."""
    problem = None
    if not CHROMIUM.exists():
        problem = f"{CHROMIUM} is missing (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "playwright is not installed (make install-test)"
    if problem:
        unavailable(f"the screen tests need a headless Chromium: {problem}")


@dataclass
class DemoServer:
    server: Server
    tokens: dict[str, str]
    started: float  # when the demo was loaded (its times lie in the hours before)

    @property
    def url(self) -> str:
        return self.server.url


def post(
    demo: DemoServer, org: str, type_: str, subject: uuid.UUID, data: Any = None, **envelope: Any
) -> int:
    """Record one event over HTTP, from outside the page; returns its position."""
    response = httpx.post(
        f"{demo.url}/v1/events",
        json={
            "type": type_,
            "subject": str(subject),
            "message_id": str(uuid.uuid4()),
            "occurred_at": datetime.now(UTC).isoformat(),
            "data": data or {},
            **envelope,
        },
        headers={"Authorization": f"Bearer {demo.tokens[org]}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["events"][0]["position"])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """``mlob serve --demo`` on SQLite. The screen and the desk judge what the browser shows;
    the API answers they show are the same on both stores (the integration tests of the
    reads, paging and feed run on each), so the browser runs once, on the embedded store."""
    require_chromium()
    tmp = tmp_path_factory.mktemp("screen")
    started = time.time()
    server = Server(f"sqlite:///{tmp / 'mlob.sqlite3'}", args=["--demo"], output=tmp / "serve.log")
    server.start()
    try:
        yield DemoServer(server, server.demo_tokens(), started)
    finally:
        try:
            server.terminate()
        finally:
            server.kill()  # only if it did not stop


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()
