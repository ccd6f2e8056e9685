"""The board's clock looks only at the requests that changed or fell due (not every row each
second), and tells the feeds exactly what the full scan it replaced told them: the same
``board`` changes at the same ticks, for random rows, clearance levels, targets and clocks,
across a restart, on both stores."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest

from api.ports import Principal
from api.post_events import post
from domain.kinds import RequestKind as K
from mlob.bootstrap import open_projections
from mlob.config import StoreConfig
from mlob.read.readstore import Change
from mlob.runners import deadlines
from mlob.runners.projector import Projections
from mlob.service import Service
from mlob.write.application import MlobApplication
from projections.readmodels import DEFAULT_TARGETS, Targets, board
from projections.specs import request_row
from tests.integration.projections.conftest import NOW, Clock, pumps_phoned_in
from tests.unit.domain.catalogue import CAP
from tests.unit.domain.helpers import chair, line, submitted

#: Steps a random row is in: every step with a target, and two off the board.
STEPS = [*DEFAULT_TARGETS.steps.keys() - {"inform"}, "closed", "withdrawn"]


def full_scan(rows: list[dict[str, Any]], now: Any, targets: Targets) -> set[tuple[str, str, int]]:
    """What the clock's tick computed before, every row each tick (main at 1ca30e3): every
    overdue (request, what, level)."""
    by_level: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_level.setdefault(row["level"], []).append(row)
    current = set()
    for at, level_rows in by_level.items():
        for item in board(level_rows, now, targets):
            if item["overdue"]:
                current.add((item["id"], f"overdue:{item['step']}", at))
            if item["formalisation_overdue"]:
                current.add((item["id"], "formalisation_overdue", at))
            for duty in item["duties_outstanding"]:
                if duty["overdue"]:
                    current.add((item["id"], f"inform_overdue:{duty['duty']}", at))
    return current


class Board:
    """Random request rows written to the read store as the requests runner writes them (each
    write a change in the change log)."""

    def __init__(self, projections: Projections, clock: Clock, rng: random.Random) -> None:
        self.projections = projections
        self.clock = clock
        self.rng = rng
        self.base = request_row(
            submitted("VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"], 5))
        )
        self.ids = [str(uuid4()) for _ in range(25)]
        self.position = projections.store.tracking("requests").position

    def row(self, subject: str, level: int) -> dict[str, Any]:
        rng, now = self.rng, self.clock.now
        step = rng.choice(STEPS)
        since = now - timedelta(minutes=rng.randrange(0, 3000))
        duties = [
            {"duty": duty, "since": (now - timedelta(minutes=rng.randrange(0, 2000))).isoformat()}
            for duty in rng.sample(["inform_mayor", "inform_minister"], rng.randrange(0, 3))
        ]
        return {
            **self.base,
            "id": subject,
            "level": level,
            "status": step,
            "step": step,
            "urgent": rng.random() < 0.5,
            "status_since": since.isoformat(),
            "submitted_at": (since - timedelta(minutes=rng.randrange(0, 600))).isoformat(),
            "formalisation_outstanding": rng.random() < 0.3,
            "duties_outstanding": [{**d, "by": "LOCC"} for d in duties],
        }

    def write(self, subjects: list[str]) -> None:
        rows = []
        for subject in subjects:
            levels = [0, 3] if self.rng.random() < 0.3 else [0]
            rows += [self.row(subject, level) for level in levels]
        lowest = {s: 0 for s in subjects}
        self.projections.store.apply(
            "requests", rows, self.position + 1, "test", self.position, lowest
        )
        self.position += 1

    def targets(self) -> Targets:
        steps = {
            step: (self.rng.randrange(5, 200), self.rng.randrange(60, 3000))
            for step in DEFAULT_TARGETS.steps
        }
        return Targets(steps=steps, formalisation=self.rng.randrange(60, 3000))


@pytest.fixture
def views(store_config: StoreConfig) -> Iterator[tuple[Service, Projections, Clock]]:
    clock = Clock(NOW)
    service = Service(MlobApplication(store_config), clock=clock)
    projections = open_projections(service)
    yield service, projections, clock
    projections.close()
    service.app.close()


def published(changes: list[Change]) -> list[tuple[str, str, int]]:
    assert all(c.source == "board" for c in changes)
    return [(c.key, c.what, c.level) for c in changes]


@pytest.mark.parametrize("bounded", [False, True], ids=["unbounded", "few-per-tick"])
def test_the_same_changes_as_the_full_scan(
    views: tuple[Service, Projections, Clock], bounded: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Random rows, writes, targets and clock moves: each tick publishes what the full scan
    would have published then. With tiny bounds per tick, the ticks that follow at once
    (while some are left) publish it together."""
    _, projections, clock = views
    if bounded:
        monkeypatch.setattr(deadlines, "DUE", 2)
        monkeypatch.setattr(deadlines, "CHANGES", 3)
    rng = random.Random(24)
    world = Board(projections, clock, rng)
    world.write(world.ids)
    store = projections.store
    reads = []
    every = store.all_rows
    monkeypatch.setattr(store, "all_rows", lambda name: reads.append(name) or every(name))

    assert projections.tick() == [], "the first tick: the board shows them already"
    known = full_scan(every("requests"), clock.now, projections.targets)
    told = 0
    for step in range(60):
        clock.now += timedelta(minutes=rng.choice([0, 1, 7, 30, 90, 400]))
        if rng.random() < 0.5:
            world.write(rng.sample(world.ids, rng.randrange(1, 6)))
        targets_changed = rng.random() < 0.1
        if targets_changed:
            projections.set_targets(world.targets(), "test")
        reads.clear()
        got = published(projections.tick())
        while bounded and projections.board_clock.more:
            got += published(projections.tick())
        current = full_scan(every("requests"), clock.now, projections.targets)
        assert sorted(got) == sorted(current - known), f"tick {step}"
        assert reads == (["requests"] if targets_changed else []), "every row: only then"
        known = current
        told += len(got)
    assert told > 20, "the random walk made rows overdue by the clock"


def test_a_restart_reads_once_and_goes_on(
    views: tuple[Service, Projections, Clock], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new process (its clock's memory empty) reads every row once and publishes nothing
    then; afterwards it publishes what falls due, without reading every row again."""
    service, projections, clock = views
    subject = uuid4()
    post(service, Principal("LOCC", "coordinator"), [pumps_phoned_in(subject)])
    projections.catch_up()

    again = Projections(service.app, projections.store, clock=clock)
    reads = []
    every = again.store.all_rows
    monkeypatch.setattr(again.store, "all_rows", lambda name: reads.append(name) or every(name))
    clock.now = NOW + timedelta(minutes=20)  # overdue already before the restart's first tick
    assert again.tick() == [] and reads == ["requests"]
    clock.now = NOW + timedelta(hours=25)  # the signed form falls due after a day
    [change] = again.tick()
    assert (change.key, change.what) == (str(subject), "formalisation_overdue")
    assert reads == ["requests"], "read once"
    assert again.tick() == []
