"""The webhook and alert tables (mlob/runners/hookstore.py): what their reads lock, how a
secret is rotated, and what retention prunes."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from tests.integration.webhooks.conftest import Hooked


@pytest.mark.parametrize("store_config", ["sqlite"], indirect=True)
def test_reads_take_no_write_lock_on_sqlite(hooked: Hooked) -> None:
    """A read neither waits for a writer nor holds one up: with another connection holding
    the write lock, the runner's reads answer at once (BEGIN IMMEDIATE waited for it)."""
    hooks = hooked.service.webhooks.hooks
    runner = hooked.runner
    assert runner is not None
    deadline = time.monotonic() + 10
    while not runner.active:  # its take-over writes; idle after it
        assert time.monotonic() < deadline, "the runner did not start"
        time.sleep(0.02)
    path = hooked.service.app.store.sqlite_path
    assert path is not None
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    answered: list[object] = []
    try:
        reader = threading.Thread(
            target=lambda: answered.extend([hooks.cursor(), hooks.states(), hooks.backlog()]),
            daemon=True,
        )
        reader.start()
        reader.join(timeout=2000 / 1000)
        assert len(answered) == 3, "a read waited for the writer's lock"
    finally:
        writer.execute("ROLLBACK")
        writer.close()
