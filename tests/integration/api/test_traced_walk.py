"""A traced walk: one ``POST /v1/events`` from the route handler to the commit's return, and the
feed hub's handling of that event up to the frame's send, traced with ``sys.setprofile`` (and
``threading.setprofile``: the commit runs in the writer thread, the hub reads in a worker
thread). The path stays short, and control never comes back up: nothing in ``mlob/`` or
``projections/`` calls into ``api/``.

What is counted: every function defined in the four project packages that runs, in any thread,
while its stack holds one of the walk's entry points (the route handler, the writer thread's
loop, the hub's pump and its read, a connection's sender). Functions in ``domain/`` (the rules)
are listed but not counted; comprehensions (list, set, dict and generator expressions) are
expressions, not functions (Python 3.12 inlines most of them), and are not counted either.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any
from uuid import uuid4

import orjson
import pytest
from fastapi.testclient import TestClient

import api.feed
import api.post_events
import mlob.write.writer
from api.app import create_app
from mlob.bootstrap import open_projections
from mlob.config import StoreConfig
from mlob.service import Service
from mlob.write.application import MlobApplication
from tests import ROOT
from tests.integration.api.conftest import Api, item

PACKAGES = ("domain", "projections", "api", "mlob")
ENTRY_POINTS = {
    api.post_events.serve.__code__,
    mlob.write.writer.GroupWriter._run.__code__,
    api.feed.FeedHub._pump.__code__,
    api.feed.FeedHub._read.__code__,
    api.feed.Connection.sender.__code__,
}
EXPRESSIONS = ("<listcomp>", "<setcomp>", "<dictcomp>", "<genexpr>")
#: The issue's bounds (issue 17, "A traced walk").
MAX_FUNCTIONS = 15
MAX_FILES = 6


class Walk:
    """Project functions called under the entry points, and who called whom across packages."""

    def __init__(self) -> None:
        self.on = False
        self.functions: set[tuple[str, str, int]] = set()
        self.crossings: set[tuple[str, str]] = set()  # (caller file, callee file)
        self._files: dict[str, str | None] = {}

    def file_of(self, filename: str) -> str | None:
        if filename not in self._files:
            try:
                relative = Path(filename).resolve().relative_to(ROOT)
            except ValueError:
                self._files[filename] = None
            else:
                inside = relative.parts[0] in PACKAGES
                self._files[filename] = str(relative) if inside else None
        return self._files[filename]

    def profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if event != "call" or not self.on:
            return
        code = frame.f_code
        callee = self.file_of(code.co_filename)
        if callee is None:
            return
        walking = code in ENTRY_POINTS
        caller = None  # the nearest project frame below (library frames in between or not)
        outer = frame.f_back
        while outer is not None:
            walking = walking or outer.f_code in ENTRY_POINTS
            if caller is None:
                caller = self.file_of(outer.f_code.co_filename)
            outer = outer.f_back
        if not walking:
            return
        self.functions.add((callee, code.co_qualname, code.co_firstlineno))
        if caller is not None:
            self.crossings.add((caller, callee))

    def counted(self) -> list[tuple[str, str, int]]:
        return sorted(
            f
            for f in self.functions
            if not f[0].startswith("domain/") and not f[1].endswith(EXPRESSIONS)
        )


#: Where the walk stands now (a ratchet: it may only shrink towards the issue's bounds).
NOW_FUNCTIONS = 29
NOW_FILES = 9


def post_and_see(api_: Api, ws: Any, headers: dict[str, str]) -> None:
    subject = uuid4()
    body = item("incident.opened", subject, {"title": "x", "regions": ["VR08"], "grip": "1"})
    response = api_.client.post("/v1/events", json=body, headers=headers)
    assert response.status_code == 201, response.text
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        message = orjson.loads(ws.receive_text())
        if message["type"] == "frame" and any(
            e["stream_id"] == str(subject) for e in message["events"]
        ):
            return
    raise AssertionError("no frame with the posted event")


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> Walk:
    """One post traced, after two that warm up connections, caches and lazy imports."""
    traced = Walk()
    path = tmp_path_factory.mktemp("walk") / "mlob.sqlite3"
    # Before any thread of the app starts: the writer, the server's loop, the worker threads.
    threading.setprofile(traced.profile)
    sys.setprofile(traced.profile)
    try:
        service = Service(MlobApplication(StoreConfig("sqlite", sqlite_path=path)))
        projections = open_projections(service)
        projections.start()
        with TestClient(create_app(service)) as client:
            api_ = Api(client, service)
            headers = api_.headers("VR08")
            coordinator = api_.headers("LOCC", "coordinator")
            with client.websocket_connect("/v1/feed", headers=coordinator) as ws:
                ws.send_text('{"subscribe": ["national"]}')
                # Subscribed before the first post (else it may fall before the subscription).
                while orjson.loads(ws.receive_text())["type"] != "subscribed":
                    pass
                post_and_see(api_, ws, headers)
                post_and_see(api_, ws, headers)
                time.sleep(0.2)  # the projections' own wake-ups settle
                traced.on = True
                post_and_see(api_, ws, headers)
                traced.on = False
        projections.close()
        service.close()
        service.app.close()
    finally:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]
    counted = traced.counted()
    report = "\n".join(f"  {f}:{line} {name}" for f, name, line in counted)
    files = len({f for f, _, _ in counted})
    print(f"\n{len(counted)} functions in {files} files outside domain/:\n{report}")
    return traced


def test_control_never_comes_back_up(walk: Walk) -> None:
    assert walk.functions, "nothing was traced"
    back = sorted(
        (caller, callee)
        for caller, callee in walk.crossings
        if caller.split("/")[0] in ("mlob", "projections") and callee.startswith("api/")
    )
    assert not back, f"control comes back up into api/: {back}"


def test_the_walk_does_not_grow(walk: Walk) -> None:
    counted = walk.counted()
    files = {f for f, _, _ in counted}
    assert len(counted) <= NOW_FUNCTIONS and len(files) <= NOW_FILES, (
        f"{len(counted)} functions in {len(files)} files"
    )


@pytest.mark.xfail(
    strict=True,
    reason="issue 17 asks for at most 15 functions in 6 files; the walk is at 29 in 9 "
    "(the post's half: 15 in 6, the handler, the group writer, the store with its chain link "
    "and codec, the recent events; the hub's half: 14 in 4, reading, routing, rendering, "
    "framing; docs/performance.md says what each of the rest is)",
)
def test_the_walk_is_as_short_as_the_issue_asks(walk: Walk) -> None:
    counted = walk.counted()
    files = {f for f, _, _ in counted}
    assert len(counted) <= MAX_FUNCTIONS and len(files) <= MAX_FILES
