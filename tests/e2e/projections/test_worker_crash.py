"""Property: random histories processed incrementally by a ``mlob worker`` process that is
SIGKILLed at random points give the same read models as a fresh rebuild (both stores)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.ports import Principal
from api.post_events import Item, post
from domain.errors import DomainError
from mlob import demo
from mlob.bootstrap import open_projections
from mlob.config import StoreConfig
from mlob.service import Service
from mlob.write.application import MlobApplication
from projections import readmodels as rm
from projections.specs import PROJECTIONS
from tests import ROOT
from tests.conftest import POSTGRES_URL, STORES, fresh_store
from tests.integration.projections.conftest import NOW

LOCC = Principal("LOCC", "coordinator")
IFV = Principal("IFV", "operator")


@contextmanager
def store_and_url(kind: str) -> Iterator[tuple[StoreConfig, str]]:
    """A new store of ``kind`` and the database URL a server process is started with."""
    with tempfile.TemporaryDirectory() as directory, fresh_store(kind, Path(directory)) as store:
        if store.kind == "sqlite":
            yield store, f"sqlite:///{store.sqlite_path}"
        else:
            yield store, f"{POSTGRES_URL}?schema={store.schema}"


class Worker:
    def __init__(self, url: str) -> None:
        self.env = {**os.environ, "MLOB_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mlob.cli", "worker"],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
            self.proc = None


def random_items(rng: random.Random, incidents: list[uuid.UUID], capacities: dict) -> list:
    """A few valid events: incidents opened and moved, capacities registered and changed."""
    items: list[tuple[Principal, Item]] = []
    for _ in range(rng.randint(1, 12)):
        choice = rng.random()
        subject = uuid.uuid4()
        at = NOW - timedelta(minutes=rng.randint(1, 600))
        if choice < 0.25 or not incidents:
            regions = rng.sample(["VR08", "VR21", "VR23"], rng.randint(1, 3))
            data = {"title": f"incident {subject.hex[:6]}", "regions": regions, "grip": "1"}
            items.append((LOCC, _item("incident.opened", subject, at, data)))
            incidents.append(subject)
        elif choice < 0.5:
            data = {"summary": f"report {rng.random():.4f}"}
            items.append(
                (LOCC, _item("incident.situation_reported", rng.choice(incidents), at, data))
            )
        elif choice < 0.6:
            data = {"grip": rng.choice(["1", "2", "3", "4"])}
            items.append((LOCC, _item("incident.grip_changed", rng.choice(incidents), at, data)))
        elif choice < 0.8 or not capacities:
            quantity = rng.randint(1, 50)
            data = {"capability": "IFV_BLANKETS", "quantity": quantity}
            items.append((IFV, _item("capacity.registered", subject, at, data)))
            capacities[subject] = quantity
        else:
            capacity = rng.choice(list(capacities))
            data = {"unavailable": rng.randint(0, capacities[capacity]), "reason": "maintenance"}
            items.append((IFV, _item("capacity.availability_changed", capacity, at, data)))
    return items


def _item(type_: str, subject: uuid.UUID, at: object, data: dict) -> Item:
    return Item(
        type=type_, subject=subject, message_id=str(uuid.uuid4()), occurred_at=at, data=data
    )


def rows_of(projections: object) -> dict:
    store = projections.store  # type: ignore[attr-defined]
    return {p.name: sorted(store.rows(p.name), key=lambda r: r["id"]) for p in PROJECTIONS}


@pytest.mark.parametrize("kind", STORES)
@settings(
    max_examples=2,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(seed=st.integers(0, 2**32 - 1), rounds=st.integers(3, 5))
def test_sigkilled_worker_converges_to_a_fresh_rebuild(kind: str, seed: int, rounds: int) -> None:
    rng = random.Random(seed)
    with store_and_url(kind) as (config, url):
        service = Service(MlobApplication(config), clock=lambda: NOW)
        open_projections(service).store.close()  # create the tables before the worker races
        worker = Worker(url)
        demo_steps = list(demo.demo_items(NOW))
        incidents: list[uuid.UUID] = []
        capacities: dict[uuid.UUID, int] = {}
        names = [p.name for p in PROJECTIONS]
        watcher = open_projections(service)  # reads positions only; runs nothing
        interrupted = 0
        try:
            # Something to catch up on first, so that each round's wait proves a live worker.
            opened = _item(
                "incident.opened",
                uuid.uuid4(),
                NOW,
                {"title": "first", "regions": ["VR08"], "grip": "1"},
            )
            post(service, LOCC, [opened])
            for _ in range(rounds):
                worker.start()
                # Wait until the worker is up and has caught up: the kill must hit it at work.
                assert watcher.wait_for(service.last_position(), names, timeout=60)
                for _ in range(rng.randint(1, 4)):
                    for principal, item in random_items(rng, incidents, capacities):
                        with suppress(DomainError):  # e.g. a GRIP change to the same level
                            post(service, principal, [item])
                    for _ in range(rng.randint(0, 6)):
                        if demo_steps:
                            org, item = demo_steps.pop(0)
                            post(service, demo.principal_for(org), [item])
                time.sleep(rng.uniform(0.0, 0.05))
                worker.kill()
                behind = min(watcher.positions().values()) < service.last_position()
                interrupted += behind
            assert interrupted, "no kill hit the worker while it had work to do"
            worker.start()
            projections = watcher
            top = service.last_position()
            assert projections.wait_for(top, names, timeout=60), projections.status()
            worker.kill()
            incremental = rows_of(projections)
            projections.rebuild()
            projections.catch_up()
            assert rows_of(projections) == incremental
            assert {str(i) for i in incidents} <= {r["id"] for r in incremental["incidents"]}
            approved = frozenset(
                r["id"] for r in incremental["requests"] if r["status"] == "approved"
            )
            for row in incremental["capacities"]:  # the states add up to what exists
                assert sum(rm.capacity_states(row, approved).values()) == row["exists"]
        finally:
            worker.kill()
            watcher.close()
            service.app.close()
