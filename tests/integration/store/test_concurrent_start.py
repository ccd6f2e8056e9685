"""Server and worker start together on a fresh database (compose.yaml does exactly that): the
store's schema must come up whoever creates it, never "tuple concurrently updated"."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest

from mlob.write.application import MlobApplication
from tests.conftest import _dsn, postgres_config, require_postgres


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
    require_postgres()
    for _ in range(5):  # a race: several rounds, each on a schema nobody created tables in
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(_dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            assert open_together(schema, 4) == []
        finally:
            with psycopg.connect(_dsn(), autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
