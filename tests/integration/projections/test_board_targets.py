"""The request board's targets are stored: every process (server, worker, the one whose clock
tells the feeds what became overdue) reads the same ones, on both stores; the environment
seeds them once; a change is kept with when and by whom."""

from __future__ import annotations

import logging
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import orjson
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.ports import Principal
from api.post_events import post
from domain.envelope import Classification
from mlob.bootstrap import open_projections
from mlob.config import StoreConfig, load_settings, parse_targets
from mlob.service import Service
from mlob.write.application import MlobApplication
from projections.readmodels import DEFAULT_TARGETS
from tests.cli import run_cli
from tests.integration.projections.conftest import NOW, Clock, pumps_phoned_in

ADMIN = Principal(org="LOCC", role="admin", clearance=Classification.STATE_SECRET_TOP_SECRET)


def _board(service: Service) -> dict[str, Any]:
    client = TestClient(create_app(service))
    token = service.issue_token(
        ADMIN, org="LOCC", role="coordinator", clearance=Classification.UNCLASSIFIED
    ).token
    answer = client.get("/v1/board", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_two_processes_on_one_store_read_the_one_stored_targets(
    store_config: StoreConfig, caplog: pytest.LogCaptureFixture
) -> None:
    services = [Service(MlobApplication(store_config), clock=lambda: NOW) for _ in range(2)]
    # Each started with its own MLOB_BOARD_TARGETS: the first to start stores its own.
    first = open_projections(services[0], parse_targets("submitted=20/240"))
    with caplog.at_level(logging.WARNING, "mlob.projections"):
        second = open_projections(services[1], parse_targets("submitted=40/240"))
    try:
        assert "MLOB_BOARD_TARGETS differs from the stored board targets" in caplog.text
        assert first.targets == second.targets == parse_targets("submitted=20/240")
        assert _board(services[1])["targets_minutes"]["submitted"] == {"urgent": 20, "normal": 240}

        # One of them changes them: the other reads the change at once.
        first.set_targets(parse_targets("submitted=5/60", first.targets), "LOCC duty officer")
        assert second.targets.steps["submitted"] == (5, 60)
        for service in services:
            assert _board(service)["targets_minutes"]["submitted"] == {"urgent": 5, "normal": 60}
        history = second.store.board_targets(limit=None)
        assert [h["set_by"] for h in history] == [
            "LOCC duty officer",
            "MLOB_BOARD_TARGETS at start",
        ]
        assert history[1]["targets"] == parse_targets("submitted=20/240").as_dict()
    finally:
        for projections in (first, second):
            projections.close()
        for service in services:
            service.app.close()


def test_without_the_environment_the_defaults_are_stored_once(store_config: StoreConfig) -> None:
    service = Service(MlobApplication(store_config), clock=lambda: NOW)
    projections = open_projections(service)
    again = open_projections(service)
    try:
        assert projections.targets == DEFAULT_TARGETS
        [stored] = projections.store.board_targets(limit=None)
        assert stored["set_by"] == "the defaults at start"
        assert stored["targets"] == DEFAULT_TARGETS.as_dict()
        assert load_settings({}).board_targets is None, "nothing set: nothing to seed with"
    finally:
        again.close()
        projections.close()
        service.app.close()


def test_a_server_and_a_worker_agree_on_what_is_overdue(store_config: StoreConfig) -> None:
    """Before, each process took MLOB_BOARD_TARGETS from its own environment: a worker's clock
    told the feeds "overdue" while the server's board said it was not."""
    clock = Clock(NOW)
    worker_service = Service(MlobApplication(store_config), clock=clock)
    worker = open_projections(worker_service, parse_targets("submitted=60/240"))
    server_service = Service(MlobApplication(store_config), clock=clock)
    server = open_projections(server_service, parse_targets("submitted=10/240"))
    try:
        subject = uuid4()
        post(server_service, Principal("LOCC", "coordinator"), [pumps_phoned_in(subject)])
        worker.catch_up()  # the worker runs the projections and the board's clock

        def on_the_board() -> bool:
            [item] = [i for i in _board(server_service)["items"] if i["id"] == str(subject)]
            overdue: bool = item["overdue"]
            return overdue

        clock.now = NOW + timedelta(minutes=15)  # within 60 minutes, beyond 10
        assert worker.tick() == [] and not on_the_board()

        server.set_targets(parse_targets("submitted=10/240", server.targets), "LOCC duty officer")
        [told] = worker.tick()
        assert (told.key, told.what) == (str(subject), "overdue:submitted")
        assert on_the_board()
    finally:
        for projections in (worker, server):
            projections.close()
        for service in (worker_service, server_service):
            service.app.close()


def _mlob(url: str, *args: str, targets: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, url=url, env={"MLOB_BOARD_TARGETS": targets})


def test_mlob_board_targets(tmp_path: Path) -> None:
    """Separate processes with different environments: each reads what was stored."""
    url = f"sqlite:///{tmp_path / 'mlob.sqlite3'}"
    shown = _mlob(url, "board", "targets", targets="received=30/600")
    assert shown.returncode == 0, shown.stderr
    assert "received          30     600" in shown.stdout
    assert "by MLOB_BOARD_TARGETS at start" in shown.stdout

    changed = _mlob(
        url, "board", "targets", "set", "received=45/700", "--by", "duty", targets="received=1/1"
    )
    assert changed.returncode == 0, changed.stderr
    shown = _mlob(url, "board", "targets", targets="received=2/2")
    assert "received          45     700" in shown.stdout and "by duty" in shown.stdout
    assert "submitted         15     240" in shown.stdout, "what was not named is kept"

    history = _mlob(url, "board", "targets", "--history", targets="")
    changes = [orjson.loads(line) for line in history.stdout.splitlines()]
    assert [c["set_by"] for c in changes] == ["MLOB_BOARD_TARGETS at start", "duty"]

    wrong = _mlob(url, "board", "targets", "set", "received=0/5", targets="")
    assert wrong.returncode == 2 and "is not key=minutes" in wrong.stderr
