"""Server and worker start together on a fresh database (compose.yaml does exactly that): the
store's schema must come up whoever creates it, never "tuple concurrently updated"."""

from __future__ import annotations

import threading

import pytest

from mlob.write.application import MlobApplication
from tests.conftest import fresh_schema, postgres_config


def open_together(schema: str, processes: int) -> list[BaseException]:
    """``processes`` application instances opening one store at the same moment."""
    start = threading.Barrier(processes)
    failures: list[BaseException] = []
    opened: list[MlobApplication] = []

    def open_store() -> None:
        start.wait(timeout=10)
        try:
            opened.append(MlobApplication(postgres_config(schema)))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(processes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for app in opened:
        app.close()
    return failures


@pytest.mark.postgres
def test_processes_starting_together_all_open_the_store() -> None:
    for _ in range(5):  # a race: several rounds, each on a schema nobody created tables in
        with fresh_schema() as schema:
            assert open_together(schema, 4) == []
