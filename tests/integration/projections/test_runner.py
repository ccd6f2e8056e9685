"""Running projections on both stores: incremental equals rebuild, exactly once across
restarts, a code version change rebuilds, one active runner per projection, the clock."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from api.ports import Principal
from api.post_events import post
from mlob import demo
from mlob.bootstrap import open_projections
from mlob.config import StoreConfig
from mlob.read.readstore import open_read_store
from mlob.runners.projector import Projections
from mlob.service import Service
from mlob.write.application import MlobApplication
from projections.specs import PROJECTIONS
from tests.integration.projections.conftest import NOW, Clock, pumps_phoned_in


@pytest.fixture
def service(store_config: StoreConfig) -> Iterator[Service]:
    svc = Service(MlobApplication(store_config), clock=Clock(NOW))
    yield svc
    svc.app.close()


def snapshot(projections: Projections) -> dict[str, dict[str, dict]]:
    return {p.name: {r["id"]: r for r in projections.store.rows(p.name)} for p in PROJECTIONS}


def changes_count(projections: Projections) -> int:
    return len(projections.store.changes(0, 1_000_000))


def post_demo(service: Service, projections: Projections | None = None, every: int = 1) -> None:
    for n, (org, item) in enumerate(demo.demo_items(NOW), start=1):
        post(service, demo.principal_for(org), [item])
        if projections is not None and n % every == 0:
            projections.catch_up()


def test_incremental_equals_rebuild(service: Service) -> None:
    projections = open_projections(service)
    for runner in projections.runners:
        runner.batch = 3  # many small batches, boundaries everywhere
    post_demo(service, projections, every=2)
    projections.catch_up()
    incremental = snapshot(projections)
    assert len(incremental["requests"]) == 9 and len(incremental["capacities"]) == 8
    projections.rebuild()
    # A rebuild starts empty beside the served rows: readers keep the complete previous ones.
    assert snapshot(projections) == incremental and projections.rebuilding()
    assert all(p.position == 0 for p in projections.store.rebuilds().values())
    projections.catch_up()
    assert snapshot(projections) == incremental and not projections.rebuilding()
    projections.stop()
    projections.store.close()


def test_exactly_once_across_restarts(service: Service) -> None:
    items = list(demo.demo_items(NOW))
    first = open_projections(service)
    for org, item in items[:30]:
        post(service, demo.principal_for(org), [item])
    first.catch_up()
    position = first.positions()["requests"]
    changes = changes_count(first)
    first.stop()
    first.store.close()

    second = open_projections(service)  # a restart: new runners, empty memory
    second.catch_up()
    assert second.positions()["requests"] == position
    assert changes_count(second) == changes, "nothing was applied twice"
    for org, item in items[30:]:
        post(service, demo.principal_for(org), [item])
    second.catch_up()
    resumed = snapshot(second)
    second.rebuild()
    second.catch_up()
    assert snapshot(second) == resumed
    second.stop()
    second.store.close()


def test_a_new_code_version_rebuilds_the_projection(service: Service) -> None:
    post_demo(service)
    projections = open_projections(service)
    projections.catch_up()
    store = projections.store
    projections.stop()

    original = next(p for p in PROJECTIONS if p.name == "incidents")

    def marked(incident: object, top: object) -> dict:
        return {**original.row_of(incident, top), "marked": True}

    newer = dataclasses.replace(original, version=original.version + "-marked", row_of=marked)
    upgraded = Projections(
        service.app,
        store,
        projections=[newer],
        clock=service.clock,
    )
    upgraded.catch_up()
    rows = store.rows("incidents")
    assert rows and all(r["marked"] for r in rows), "every row was recomputed"
    assert {t.name: t.version for t in store.all_tracking()}["incidents"] == newer.version
    upgraded.stop()
    store.close()


def test_one_active_runner_per_projection_and_takeover(store_config: StoreConfig) -> None:
    services = [Service(MlobApplication(store_config), clock=Clock(NOW)) for _ in range(2)]
    hosts = [open_projections(s) for s in services]
    for h in hosts:
        h.standby_interval = 0.1
    try:
        hosts[0].start()
        deadline = time.monotonic() + 10
        while not all(r.active for r in hosts[0].runners) and time.monotonic() < deadline:
            time.sleep(0.02)
        hosts[1].start()
        time.sleep(0.5)
        assert all(r.active for r in hosts[0].runners)
        assert not any(r.active for r in hosts[1].runners), "the second one stands by"

        hosts[0].stop()  # the active one goes away: the standby takes over
        post_demo(services[0])
        top = services[0].last_position()
        assert hosts[1].wait_for(top, [p.name for p in PROJECTIONS], timeout=15)
        assert all(r.active for r in hosts[1].runners)
        assert len(hosts[1].store.rows("requests")) == 9
    finally:
        for h in hosts:
            h.stop()
            h.store.close()
        for s in services:
            s.app.close()


def test_wait_for_a_position(service: Service) -> None:
    projections = open_projections(service)
    projections.start()
    try:
        post_demo(service)
        top = service.last_position()
        assert projections.wait_for(top, ["requests", "incidents"], timeout=10)
        assert projections.positions()["requests"] >= top
        assert not projections.wait_for(top + 1000, ["requests"], timeout=0.1), (
            "a position not yet recorded is not waited for"
        )
    finally:
        projections.stop()
        projections.store.close()


def test_the_clock_makes_a_request_overdue_without_any_event(service: Service) -> None:
    clock = service.clock
    assert isinstance(clock, Clock)
    projections = open_projections(service)
    subject = uuid4()
    post(service, Principal("LOCC", "coordinator"), [pumps_phoned_in(subject)])
    projections.catch_up()
    assert projections.tick() == []
    position = service.last_position()

    clock.now = NOW + timedelta(minutes=13)  # urgent receipt is due 15 minutes after the call
    assert projections.tick() == []
    clock.now = NOW + timedelta(minutes=15)
    [change] = projections.tick()
    assert (change.source, change.key, change.what) == ("board", str(subject), "overdue:submitted")
    assert service.last_position() == position, "no event was needed"
    recorded = projections.store.changes(0, 10_000)
    assert recorded[-1]["key"] == str(subject) and recorded[-1]["what"] == "overdue:submitted"
    assert projections.tick() == [], "published once"

    clock.now = NOW + timedelta(hours=25)  # and the signed form is overdue after a day
    assert "formalisation_overdue" in {c.what for c in projections.tick()}
    projections.stop()
    projections.store.close()


def test_rows_and_positions_survive_reopening_the_read_store(store_config: StoreConfig) -> None:
    service = Service(MlobApplication(store_config), clock=Clock(NOW))
    try:
        post_demo(service)
        projections = open_projections(service)
        projections.catch_up()
        before = snapshot(projections), projections.positions()
        projections.stop()
        projections.store.close()
        reopened = open_read_store(store_config, [p.name for p in PROJECTIONS])
        assert {t.name: t.position for t in reopened.all_tracking()} == before[1]
        assert {r["id"] for r in reopened.rows("requests")} == set(before[0]["requests"])
        reopened.close()
    finally:
        service.app.close()


def test_status_reports_lag(service: Service) -> None:
    projections = open_projections(service)
    post_demo(service)
    lagging = {s["name"]: s for s in projections.status()}
    assert all(s["lag"] > 0 for s in lagging.values())
    projections.catch_up()
    assert all(s["lag"] == 0 for s in projections.status())
    assert datetime.fromisoformat(projections.status()[0]["updated_at"]).tzinfo is not None
    assert NOW.tzinfo is UTC
    projections.stop()
    projections.store.close()
