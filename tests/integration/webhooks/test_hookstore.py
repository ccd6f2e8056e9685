"""The webhook and alert tables (mlob/runners/hookstore.py): what their reads lock, how a
secret is rotated, and what retention prunes."""

from __future__ import annotations

import sqlite3
import threading
import time
from uuid import uuid4

import pytest

from mlob.runners.hookstore import STAGED_FOR, SecretUnavailable
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


def test_a_staged_secret_is_used_only_for_its_rotation(hooked: Hooked) -> None:
    """Rotation n's secret is kept apart until rotation n is recorded: rotation n-1 still
    signs with its own; a second rotation to n meanwhile is refused; a failed one's leftover
    is replaced once older than STAGED_FOR, and removed only by the rotation that made it."""
    hooks = hooked.service.webhooks.hooks
    sid = str(uuid4())
    hooks.put_secret(sid, "whsec_first")
    first = hooks.stage_secret(sid, 1, "whsec_second")
    assert first is not None
    assert hooks.secret(sid, 0) == "whsec_first"
    assert hooks.secret(sid, 1) == "whsec_second"
    assert hooks.stage_secret(sid, 1, "whsec_other") is None, "a rotation to 1 is under way"
    hooks.unstage_secret(sid, 1, "not its sealed text")
    assert hooks.secret(sid, 1) == "whsec_second", "only the rotation that staged it removes it"
    with hooks._tx() as tx:
        tx.execute(
            "UPDATE mlob_webhook_secrets SET rotated_at = %s WHERE subscription_id = %s",
            (time.time() - STAGED_FOR - 1, f"{sid}@1"),
        )
    again = hooks.stage_secret(sid, 1, "whsec_third")
    assert again is not None and hooks.secret(sid, 1) == "whsec_third"
    hooks.retire_secrets(sid, 1)
    assert hooks.secret(sid, 1) == "whsec_third"
    with pytest.raises(SecretUnavailable):
        hooks.secret(sid, 0)  # retired: rotation 1 is recorded
    hooks.forget_secret(sid)
    with pytest.raises(SecretUnavailable):
        hooks.secret(sid, 1)
