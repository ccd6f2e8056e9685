"""A new code version rebuilds a projection beside the rows being served (both stores): while
it runs, reads answer the previous, complete rows with ``rebuilding: true``; the switch is one
transaction; a restart resumes the rebuild; the feeds are told of every row."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import REBUILDING_HEADER, create_app
from api.ports import Principal
from domain.envelope import Classification
from mlob.config import StoreConfig
from mlob.read.readstore import ReadStore
from mlob.runners.projector import Projections, Runner
from mlob.service import Service
from projections.specs import PROJECTIONS, Projection
from tests.integration.projections.conftest import NOW, demo_projected

ADMIN = Principal(org="LOCC", role="admin", clearance=Classification.STATE_SECRET_TOP_SECRET)
INCIDENTS = next(p for p in PROJECTIONS if p.name == "incidents")


def marked(incident: object, top: object) -> dict[str, Any]:
    """The row as a new version of the code computes it."""
    return {**INCIDENTS.row_of(incident, top), "marked": True}


#: The incidents projection as a changed code version has it.
NEWER = dataclasses.replace(INCIDENTS, version=INCIDENTS.version + "-next", row_of=marked)


@dataclass
class Upgrade:
    service: Service
    store: ReadStore
    before: dict[str, dict[str, Any]]  # the incidents rows of the previous code, by id
    top: int

    def projections(self) -> Projections:
        """A process of the new code: its runner is driven batch by batch by the test (no
        threads, no sleeping), three events a batch."""
        upgraded = Projections(self.service.app, self.store, projections=[NEWER], clock=lambda: NOW)
        upgraded.runners[0].batch = 3
        assert upgraded.runners[0].lease.acquire()
        self.service.attach_projections(upgraded)
        return upgraded

    def served(self) -> dict[str, dict[str, Any]]:
        return {r["id"]: r for r in self.store.rows("incidents")}


@pytest.fixture
def upgrade(store_config: StoreConfig) -> Iterator[Upgrade]:
    service, previous = demo_projected(store_config)
    previous.stop()  # the previous code's process goes away; its rows stay
    store = previous.store
    before = {r["id"]: r for r in store.rows("incidents")}
    assert before and not any("marked" in r for r in before.values())
    yield Upgrade(service, store, before, service.last_position())
    store.close()
    service.app.close()


def step(runner: Runner) -> None:
    assert runner.run_once(), "there was more to do"


def test_reads_answer_the_previous_rows_until_the_rebuilt_ones_are_complete(
    upgrade: Upgrade,
) -> None:
    projections = upgrade.projections()
    [runner] = projections.runners
    client = TestClient(create_app(upgrade.service))
    token = upgrade.service.issue_token(
        ADMIN, org="LOCC", role="coordinator", clearance=Classification.STATE_SECRET_SECRET
    ).token
    headers = {"Authorization": f"Bearer {token}"}
    # The issued token is an event too: the rebuild runs to the store's end as it is now.
    top = upgrade.service.last_position()

    def picture() -> dict[str, Any]:
        answer = client.get("/v1/picture", headers=headers)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    # The new code is here, its rows not yet: the previous ones are served, and said to be.
    assert projections.rebuilding(["incidents"])
    assert picture()["rebuilding"] is True

    step(runner)  # the first batch: a rebuild begins, beside the served rows
    rebuild = upgrade.store.rebuilds()["incidents"]
    assert runner.building and rebuild.version == NEWER.version and 0 < rebuild.position < top
    assert upgrade.served() == upgrade.before, "the previous rows, complete"
    assert projections.positions()["incidents"] == upgrade.top, "the served rows' position"
    listed = client.get("/v1/incidents", headers=headers)
    assert listed.headers.get(REBUILDING_HEADER) == "true"
    assert {r["id"] for r in listed.json()["items"]} <= set(upgrade.before)
    assert not any("marked" in r for r in listed.json()["items"])
    answer = picture()
    assert answer["rebuilding"] is True and answer["position"] == upgrade.top
    changes = upgrade.store.last_change()

    while runner.building:  # batch by batch; the reads never see a half-built table
        assert upgrade.served() == upgrade.before
        assert upgrade.store.last_change() == changes, "nothing told to the feeds yet"
        step(runner)

    rows = upgrade.served()
    assert set(rows) == set(upgrade.before) and all(r["marked"] for r in rows.values())
    assert not upgrade.store.rebuilds() and not projections.rebuilding()
    assert projections.positions()["incidents"] == top
    assert {t.name: t.version for t in upgrade.store.all_tracking()}["incidents"] == NEWER.version
    listed = client.get("/v1/incidents", headers=headers)
    assert REBUILDING_HEADER not in listed.headers
    assert listed.json()["items"] and all(r["marked"] for r in listed.json()["items"])
    assert picture()["rebuilding"] is False
    # Every row may differ from what a feed sent before: each is told as a change.
    told = [c for c in upgrade.store.changes(changes, 10_000) if c["source"] == "incidents"]
    assert {c["key"] for c in told} == set(rows)
    assert runner.run_once() == 0, "caught up, nothing more to switch"


def test_a_restart_resumes_the_rebuild_where_it_was(upgrade: Upgrade) -> None:
    first = upgrade.projections()
    step(first.runners[0])
    step(first.runners[0])
    reached = upgrade.store.rebuilds()["incidents"].position
    first.stop()  # the process stops mid-rebuild (its lease goes with it)

    second = upgrade.projections()
    [runner] = second.runners
    step(runner)
    assert runner.building
    assert upgrade.store.rebuilds()["incidents"].position > reached, "went on, not afresh"
    runner.catch_up()
    assert not runner.building and all(r["marked"] for r in upgrade.served().values())
    assert set(upgrade.served()) == set(upgrade.before)
    second.stop()


def test_a_rebuild_of_another_code_version_is_given_up(upgrade: Upgrade) -> None:
    """A rebuild begun by a process of other code (a newer version being rolled back) is not
    finished by this code, whose rows are the served ones."""
    upgrade.store.begin_rebuild("incidents", "some-other-version")
    current = Projections(
        upgrade.service.app, upgrade.store, projections=[INCIDENTS], clock=lambda: NOW
    )
    assert current.rebuilding()
    current.catch_up()
    assert not upgrade.store.rebuilds() and not current.rebuilding()
    assert upgrade.served() == upgrade.before
    current.stop()


def test_an_operator_rebuild_serves_the_rows_until_it_is_done(upgrade: Upgrade) -> None:
    """``mlob projections rebuild`` with the same code: the same path, readers never see an
    empty or half-filled table."""
    same: Projection = INCIDENTS
    projections = Projections(
        upgrade.service.app, upgrade.store, projections=[same], clock=lambda: NOW
    )
    projections.runners[0].batch = 3
    projections.rebuild()
    assert projections.rebuilding() and upgrade.store.rebuilds()["incidents"].position == 0
    assert projections.runners[0].lease.acquire()
    step(projections.runners[0])
    assert upgrade.served() == upgrade.before
    projections.catch_up()
    assert upgrade.served() == upgrade.before and not projections.rebuilding()
    projections.stop()
