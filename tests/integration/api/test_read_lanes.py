"""Reads run in a lane of their own: however many reads wait, a post (its token looked up in
the store) and the health checks are answered (api/lanes.py; issue 21)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.lanes import DEFAULT_READ_CONCURRENCY
from api.ports import PageQuery
from domain.envelope import Classification
from mlob.bootstrap import open_projections
from mlob.config import ConfigError, StoreConfig, load_settings
from mlob.service import Service
from mlob.write.application import MlobApplication
from tests.integration.api.conftest import ADMIN, fire_request

LANE = 2  # reads served at once in this test
WAIT = 20.0  # seconds: a generous bound, only reached when the lanes are shared


class SlowReads(Service):
    """A service whose list reads wait until released: a slow reader, made on purpose."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.release = threading.Event()
        self.inside = 0
        self.most_inside = 0
        self._count = threading.Lock()

    def view_page(self, name: str, query: PageQuery) -> Any:
        with self._count:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        try:
            self.release.wait(WAIT)
            return super().view_page(name, query)
        finally:
            with self._count:
                self.inside -= 1


@pytest.fixture
def slow(store_config: StoreConfig) -> Iterator[tuple[SlowReads, TestClient]]:
    service = SlowReads(MlobApplication(store_config))
    open_projections(service).start()
    try:
        with TestClient(create_app(service, read_concurrency=LANE)) as client:
            yield service, client
    finally:
        service.release.set()
        if service.projections is not None:
            service.projections.close()
        service.close()
        service.app.close()


def _in_thread(call: Any) -> tuple[threading.Thread, list[Any]]:
    answers: list[Any] = []
    thread = threading.Thread(target=lambda: answers.append(call()), daemon=True)
    thread.start()
    return thread, answers


def test_waiting_reads_hold_up_no_post_and_no_health_check(
    slow: tuple[SlowReads, TestClient],
) -> None:
    service, client = slow

    def token(org: str) -> str:
        clearance = Classification.UNCLASSIFIED
        return service.issue_token(ADMIN, org=org, role="operator", clearance=clearance).token

    reader = {"Authorization": f"Bearer {token('LOCC')}"}
    writer_token = token("VR08")
    service.recent_tokens.clear()  # the post's token must be looked up in the store, in a thread

    readers = [_in_thread(lambda: client.get("/v1/requests", headers=reader)) for _ in range(6)]
    deadline = time.monotonic() + WAIT
    while service.inside < LANE:  # the read lane fills (a list read pages: view_page)
        assert time.monotonic() < deadline, "no list read reached the store"
        threading.Event().wait(0.01)

    post, posted = _in_thread(
        lambda: client.post(
            "/v1/events",
            json=fire_request(uuid4()),
            headers={"Authorization": f"Bearer {writer_token}"},
        )
    )
    post.join(WAIT)
    health, healthy = _in_thread(lambda: client.get("/health"))
    ready, readied = _in_thread(lambda: client.get("/health/ready"))
    health.join(WAIT)
    ready.join(WAIT)
    still_waiting = sum(t.is_alive() for t, _ in readers)
    service.release.set()
    for thread, _ in readers:
        thread.join(WAIT)

    assert posted and posted[0].status_code == 201, posted and posted[0].text
    assert healthy and healthy[0].status_code == 200
    assert readied and readied[0].status_code in (200, 503)  # answered, whatever it says
    assert still_waiting == 6, "the reads were released before the post was answered"
    assert service.most_inside == LANE, "reads past the lane's bound ran at once"
    assert all(answers[0].status_code == 200 for _, answers in readers)


def test_mlob_read_concurrency() -> None:
    assert load_settings({}).read_concurrency == DEFAULT_READ_CONCURRENCY
    assert load_settings({"MLOB_READ_CONCURRENCY": "3"}).read_concurrency == 3


@pytest.mark.parametrize("text", ["0", "-1", "many", "1000"])
def test_an_unusable_read_concurrency_is_one_clear_line(text: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings({"MLOB_READ_CONCURRENCY": text})
    assert "MLOB_READ_CONCURRENCY" in str(refused.value) and "\n" not in str(refused.value)
