"""Tamper evidence on both stores: the database is altered directly, as an insider with write
access could, and verification names the first broken link; signed checkpoints catch what the
chain alone cannot (a deleted tail, a chain recomputed by someone without the key)."""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from domain.envelope import Classification
from mlob import demo
from mlob.audit.tamper import checkpoint, verify
from mlob.config import StoreConfig
from mlob.read.readstore import ReadStore, open_read_store
from mlob.service import Service
from mlob.store.chain import GENESIS, link
from mlob.write.application import MlobApplication
from projections.specs import PROJECTIONS
from tests.cli import run_cli
from tests.integration.api.conftest import ADMIN
from tests.integration.audit.conftest import raw_sql
from tests.integration.projections.conftest import NOW

KEY = b"k" * 32


@pytest.fixture
def history(store_config: StoreConfig) -> Iterator[tuple[MlobApplication, ReadStore, Any]]:
    app = MlobApplication(store_config)
    demo.load_demo(Service(app), NOW)
    store = open_read_store(store_config, [p.name for p in PROJECTIONS])

    def sql() -> Any:
        """Run SQL straight against the store's database, bypassing mlob."""
        return raw_sql(store_config)

    yield app, store, sql
    store.close()
    app.close()


def recompute_chain(app: MlobApplication, sql: Any) -> bytes:
    """What an insider who knows the documented format does after an edit: recompute every
    hash from the start, so the chain is consistent again. Returns the new head."""
    previous = GENESIS
    with sql() as run:
        for record, state in app.index.chain_rows(after=0, limit=100_000):
            digest = link(previous, record.entry, state)
            if digest != record.hash:
                run(
                    "UPDATE mlob_event_index SET hash = %s WHERE position = %s",
                    digest,
                    record.position,
                )
            previous = digest
    return previous


def test_an_intact_history_verifies_with_its_checkpoints(history: Any) -> None:
    app, store, _ = history
    signed = checkpoint(app.index, store, KEY)
    assert signed is not None and signed["position"] == app.last_position()
    assert checkpoint(app.index, store, KEY) is None, "nothing new to sign"
    verdict = verify(app.index, store, KEY)
    assert verdict.ok and verdict.checkpoints_checked == 1, verdict.problems
    assert verdict.checked == app.last_position()


def test_an_edited_row_is_named(history: Any) -> None:
    app, store, sql = history
    with sql() as run:
        run("UPDATE mlob_event_index SET actor_org = 'EVIL' WHERE position = %s", 10)
    verdict = verify(app.index, store, KEY)
    assert not verdict.ok and verdict.first_broken == 10


def test_an_edited_event_body_is_named(history: Any) -> None:
    app, store, sql = history
    with sql() as run:
        run("UPDATE EVENTS SET state = %s WHERE POSITION_COLUMN = %s", b"{}", 12)
    verdict = verify(app.index, store, KEY)
    assert not verdict.ok and verdict.first_broken == 12


def test_a_row_deleted_in_the_middle_is_named(history: Any) -> None:
    app, store, sql = history
    with sql() as run:
        run("DELETE FROM mlob_event_index WHERE position = %s", 20)
        run("DELETE FROM EVENTS WHERE POSITION_COLUMN = %s", 20)
    verdict = verify(app.index, store, KEY)
    assert not verdict.ok and verdict.first_broken == 21


def test_a_deleted_tail_is_caught_by_the_signed_checkpoint(history: Any) -> None:
    app, store, sql = history
    last = checkpoint(app.index, store, KEY)["position"]  # type: ignore[index]
    with sql() as run:
        run("DELETE FROM mlob_event_index WHERE position > %s", last - 3)
        run("DELETE FROM EVENTS WHERE POSITION_COLUMN > %s", last - 3)
    assert verify(app.index, store, None).problems[0].startswith("checkpoint at"), (
        "without the key the deletion still shows against the stored checkpoint"
    )
    verdict = verify(app.index, store, KEY)
    assert not verdict.ok and verdict.first_broken == last - 2
    assert "rows were deleted" in verdict.problems[0]


def test_a_chain_recomputed_without_the_key_is_caught(history: Any) -> None:
    app, store, sql = history
    checkpoint(app.index, store, KEY)
    # The insider edits row 30 and, knowing the documented format, recomputes every hash after.
    with sql() as run:
        run("UPDATE mlob_event_index SET actor_org = 'EVIL' WHERE position = %s", 30)
    previous = recompute_chain(app, sql)
    verdict = verify(app.index, store, KEY)
    assert not verdict.ok and verdict.first_broken == 1
    assert "no longer passes through the signed head" in verdict.problems[0]
    # ... and a checkpoint forged for the new head without the key is refused too.
    store.add_checkpoint(app.last_position() - 1, previous.hex(), "00" * 32)
    assert any("not made with the audit key" in p for p in verify(app.index, store, KEY).problems)


def test_checkpoints_narrow_down_where_history_was_altered(history: Any) -> None:
    app, store, sql = history
    store.add_checkpoint(  # an earlier signed checkpoint, as a periodic one would be
        25,
        app.index.chain_rows(after=24, limit=1)[0][0].hash.hex(),
        __import__("mlob.audit.tamper").audit.tamper.signature(
            KEY, 25, app.index.chain_rows(after=24, limit=1)[0][0].hash
        ),
    )
    checkpoint(app.index, store, KEY)
    with sql() as run:
        run("UPDATE mlob_event_index SET actor_org = 'EVIL' WHERE position = %s", 40)
    recompute_chain(app, sql)
    verdict = verify(app.index, store, KEY)
    assert verdict.first_broken == 26, verdict.problems
    assert "after position 25" in verdict.problems[0]


def test_mlob_audit_verify_on_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "mlob.sqlite3"
    app = MlobApplication(StoreConfig(kind="sqlite", sqlite_path=path))
    demo.load_demo(Service(app), NOW)
    app.close()

    def mlob(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(
            "audit", *args, url=f"sqlite:///{path}", env={"MLOB_AUDIT_KEY": KEY.decode()}
        )

    signed = mlob("checkpoint")
    assert signed.returncode == 0 and '"signature"' in signed.stdout, signed.stderr
    ok = mlob("verify")
    assert ok.returncode == 0 and "chain intact" in ok.stdout and "1 signed" in ok.stdout
    with sqlite3.connect(str(path)) as conn:
        conn.execute("UPDATE mlob_event_index SET actor_org = 'EVIL' WHERE position = 7")
    broken = mlob("verify")
    assert broken.returncode == 1 and "first broken link at position 7" in broken.stdout
    switch, exported = (orjson.loads(x) for x in mlob("checkpoints").stdout.splitlines())
    assert switch["format"] == 2 and switch["position"] == 0 and switch["signature"]
    made = orjson.loads(signed.stdout)
    assert {k: exported[k] for k in ("position", "head", "signature")} == {
        k: made[k] for k in ("position", "head", "signature")
    }


def started_projections(service: Service) -> Any:
    from mlob.bootstrap import open_projections

    projections = open_projections(service)
    projections.audit_key = KEY
    projections.standby_interval = 0.1
    projections.start()
    return projections


def signed_within(projections: Any, count: int, seconds: float = 15) -> list[dict[str, Any]]:
    import time as _time

    deadline = _time.monotonic() + seconds
    while len(projections.store.checkpoints()) < count and _time.monotonic() < deadline:
        _time.sleep(0.1)
    return list(projections.store.checkpoints())


def test_the_server_signs_checkpoints_by_itself_on_a_schedule_that_survives_restarts(
    store_config: StoreConfig,
) -> None:
    """Issue 19: due when the last signed checkpoint is CHECKPOINT_EVERY old, checked at start
    (before: only after one process had run 10 minutes without a restart, so a worker
    restarted more often never signed)."""
    import time as _time

    from mlob.runners import projector

    assert projector.CHECKPOINT_EVERY >= 60
    service = Service(MlobApplication(store_config))
    demo.load_demo(service, NOW)
    projections = started_projections(service)  # none yet: signs at start
    try:
        [signed] = signed_within(projections, 1)
        assert signed["position"] == service.last_position()
        assert verify(service.app.index, projections.store, KEY).ok
    finally:
        projections.close()
    projections = started_projections(service)  # a restart: the last one is fresh
    try:
        _time.sleep(1.5)
        assert len(projections.store.checkpoints()) == 1, "signed again after a restart"
    finally:
        projections.close()
    service.issue_token(ADMIN, org="VR08", role="operator", clearance=Classification.UNCLASSIFIED)
    stale = (datetime.now(UTC) - timedelta(seconds=projector.CHECKPOINT_EVERY + 5)).isoformat()
    with raw_sql(store_config) as run:  # as if written an interval ago
        run("UPDATE mlob_chain_checkpoints SET at = %s", stale)
    projections = started_projections(service)  # a restart: now due
    try:
        signed_again = signed_within(projections, 2)
        assert [c["position"] for c in signed_again] == [
            signed["position"],
            service.last_position(),
        ]
        assert verify(service.app.index, projections.store, KEY).ok
    finally:
        projections.close()
        service.app.close()


def test_exported_checkpoints_catch_a_cut_tail_whose_stored_checkpoints_were_deleted_too(
    history: Any,
) -> None:
    app, store, sql = history
    signed = checkpoint(app.index, store, KEY)
    exported = [dict(c) for c in store.checkpoints()]  # the auditor's copy, kept elsewhere
    last = signed["position"]  # type: ignore[index]
    with sql() as run:
        run("DELETE FROM mlob_event_index WHERE position > %s", last - 2)
        run("DELETE FROM EVENTS WHERE POSITION_COLUMN > %s", last - 2)
        run("DELETE FROM mlob_chain_checkpoints WHERE position > %s", 0)
    alone = verify(app.index, store, KEY)
    assert alone.ok and alone.notes, "the database alone cannot tell, and says so"
    verdict = verify(app.index, store, KEY, exported)
    assert not verdict.ok and "rows were deleted" in verdict.problems[0]
