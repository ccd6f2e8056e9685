"""The webhook and alert tables (mlob/runners/hookstore.py): what their reads lock, how a
secret is rotated, and what retention prunes."""

from __future__ import annotations

import sqlite3
import threading
import time
from uuid import UUID, uuid4

import pytest

from mlob.config import ConfigError, StoreConfig, load_settings
from mlob.runners import hookstore
from mlob.runners.hookstore import STAGED_FOR, HookStore, SecretUnavailable
from mlob.runners.webhooks import WebhookRunner
from mlob.write.application import MlobApplication
from tests.integration.api.conftest import item
from tests.integration.webhooks.conftest import KEY, Hooked, Receiver
from tests.integration.webhooks.test_alerts import alerts_of, overdue, submitted
from tests.integration.webhooks.test_delivery import delivered_log


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
            target=lambda: answered.extend([hooks.cursor(), hooks.states(), hooks.backlog(["s"])]),
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


def _age(hooked: Hooked, table: str, ids: list[int], days: float, *columns: str) -> None:
    with hooked.service.webhooks.hooks._tx() as tx:
        for column in columns:
            tx.execute(
                f"UPDATE {table} SET {column} = %s WHERE id IN ({', '.join(['%s'] * len(ids))})",
                (time.time() - days * 86400, *ids),
            )


def test_retention_prunes_old_deliveries_and_alerts_that_cannot_alert_again(
    hooked: Hooked, receiver: Receiver
) -> None:
    """Delivered deliveries older than the retention go with their attempts (dead letters
    and younger ones stay); alerts older than it go with their acknowledgements only when
    their crossing cannot come again: a request still waiting in its step keeps its alert
    (forgotten, the next tick would alert it again), one that moved on does not."""
    runner = hooked.runner
    assert runner is not None and hooked.clock is not None
    made = hooked.subscribe("VR08", url=receiver.url, channels=["region:VR08"])
    waiting, _ = submitted(hooked)
    moved, _ = submitted(hooked)
    log = delivered_log(hooked, made, 4)
    old, dead, young = log[0]["id"], log[1]["id"], log[2]["id"]
    _age(hooked, "mlob_webhook_deliveries", [old, dead], 31, "created_at", "delivered_at")
    with hooked.service.webhooks.hooks._tx() as tx:
        tx.execute("UPDATE mlob_webhook_deliveries SET state = 'dead' WHERE id = %s", (dead,))
    # both overdue in 'submitted': two alerts
    alerts = {a["subject"]: a["id"] for a in overdue(hooked, 2)}
    ack = hooked.client.post(
        f"/v1/alerts/{alerts[moved]}/ack", headers=hooked.headers("VR08", "operator")
    )
    assert ack.status_code == 200
    received = hooked.accepted("LOCC", item("request.received", UUID(moved)))  # leaves its step
    assert hooked.service.wait_for_views(received["events"][0]["position"], ("requests",), 10)
    _age(hooked, "mlob_alerts", list(alerts.values()), 31, "at")
    while runner.prune():  # rounds until none is full
        pass
    hooks = hooked.service.webhooks.hooks
    kept = {d["id"] for d in delivered_log(hooked, made, 0)}
    assert old not in kept and hooks.attempts([old]) == {}, "delivered and old: gone"
    assert {dead, young} <= kept, "a dead letter and a young delivery stay"
    assert [a["subject"] for a in alerts_of(hooked, "VR08")] == [waiting]
    assert hooks.acks(alerts[moved]) == []
    # Judged again from scratch: no alert comes back (the waiting one's key holds it).
    other = WebhookRunner(hooked.service, HookStore(hooked.service.app.store, KEY))
    try:
        assert other.raise_alerts() == 0
    finally:
        other.hooks.close()
    assert [a["subject"] for a in alerts_of(hooked, "VR08")] == [waiting]


def test_the_retention_setting() -> None:
    base = {"MLOB_DATABASE_URL": "sqlite:///tmp/x.sqlite3"}
    assert load_settings(base).webhook_retention_days == 30
    assert load_settings({**base, "MLOB_WEBHOOK_RETENTION_DAYS": "7"}).webhook_retention_days == 7
    for bad in ("0", "-1", "x", "1.5"):
        with pytest.raises(ConfigError, match="MLOB_WEBHOOK_RETENTION_DAYS"):
            load_settings({**base, "MLOB_WEBHOOK_RETENTION_DAYS": bad})


def test_the_webhook_nice_setting() -> None:
    base = {"MLOB_DATABASE_URL": "sqlite:///tmp/x.sqlite3"}
    assert load_settings(base).webhook_nice == 10
    assert load_settings({**base, "MLOB_WEBHOOK_NICE": "0"}).webhook_nice == 0
    for bad in ("-1", "20", "x", "1.5"):
        with pytest.raises(ConfigError, match="MLOB_WEBHOOK_NICE"):
            load_settings({**base, "MLOB_WEBHOOK_NICE": bad})


def test_deliveries_of_several_subscriptions_are_written_down_in_one_go(
    store_config: StoreConfig,
) -> None:
    """What ``enqueue`` answers is what the store holds (the lanes are handed it instead of
    reading it back); ``delivered`` writes down deliveries of several subscriptions, in any
    order, with each subscription's delivered position and alert its own highest."""
    app = MlobApplication(store_config)  # the store, migrated
    hooks = HookStore(store_config, KEY)
    try:
        hooks.start_cursor(0, 0)
        a, b = str(uuid4()), str(uuid4())
        made = hooks.enqueue(
            [
                (a, "msg_1", 1, None, "incident.opened", '{"n": 1}'),
                (b, "msg_2", 2, None, "incident.opened", '{"n": 2}'),
                (a, "msg_3", 3, None, "incident.opened", '{"n": 3}'),
                (b, "msg_4", None, 7, "alert", '{"n": 4}'),
            ],
            (0, 0),
            (3, 0),
        )
        stored = hooks.pending(a, 10) + hooks.pending(b, 10)
        assert sorted(made, key=lambda d: d.id) == sorted(stored, key=lambda d: d.id)
        assert [d.webhook_id for d in made] == ["msg_1", "msg_2", "msg_3", "msg_4"]
        assert hooks.pending(a, 10, after=made[0].id) == [made[2]]
        hooks.delivered([(made[2], 200, 1.0), (made[3], 202, 2.0), (made[0], 204, 3.0)])
        states = hooks.states()
        assert (states[a]["delivered_position"], states[a]["delivered_alert"]) == (3, 0)
        assert (states[b]["delivered_position"], states[b]["delivered_alert"]) == (0, 7)
        assert hooks.pending(a, 10) == [] and hooks.pending(b, 10) == [made[1]]
        attempts = hooks.attempts([d.id for d in made])
        assert [row["status"] for row in attempts[made[3].id]] == [202]
        assert made[1].id not in attempts
    finally:
        hooks.close()
        app.close()


def test_the_backlog_is_looked_up_per_subscription(
    store_config: StoreConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Of the subscriptions asked about, those with deliveries waiting (not those delivered
    to, nor unknown ones), in chunks of any size: one probe of the queue's index each, not a
    DISTINCT over every waiting delivery."""
    app = MlobApplication(store_config)  # the store, migrated
    hooks = HookStore(store_config, KEY)
    try:
        hooks.start_cursor(0, 0)
        a, b, c = (str(uuid4()) for _ in range(3))
        queued = [
            (s, f"msg_{n}", n, None, "request.submitted", "{}")
            for n, s in enumerate([a, a, b, c], start=1)
        ]
        hooks.enqueue(queued, (0, 0), (4, 0))
        [to_c] = hooks.pending(c, 10)
        hooks.delivered([(to_c, 200, 1.0)])
        asked = [a, b, c, str(uuid4()), a]
        assert sorted(hooks.backlog(asked)) == sorted([a, b])
        monkeypatch.setattr(hookstore, "BACKLOG_CHUNK", 2)
        assert sorted(hooks.backlog(asked)) == sorted([a, b])
        assert hooks.backlog([]) == [] and hooks.backlog([c]) == []
    finally:
        hooks.close()
        app.close()


def test_a_write_of_the_delivered_log_keeps_the_highest_position_and_every_attempt(
    store_config: StoreConfig,
) -> None:
    """A delivery written down twice in one go (sent again after a resync, before the log
    was written) has two attempts, the last one's status; an earlier position written after
    a later one never moves the delivered position back (PostgreSQL writes each kind of row
    in one statement, SQLite a row at a time: the same answer)."""
    app = MlobApplication(store_config)  # the store, migrated
    hooks = HookStore(store_config, KEY)
    try:
        hooks.start_cursor(0, 0)
        a = str(uuid4())
        made = hooks.enqueue(
            [(a, f"msg_{n}", n, None, "incident.opened", "{}") for n in (1, 2, 3)], (0, 0), (3, 0)
        )
        hooks.delivered([(made[1], 200, 1.0), (made[1], 204, 2.5)])
        hooks.delivered([(made[0], 201, 3.0)])
        assert hooks.states()[a]["delivered_position"] == 2
        attempts = hooks.attempts([made[1].id])[made[1].id]
        assert [(row["status"], row["latency_ms"]) for row in attempts] == [(200, 1.0), (204, 2.5)]
        [shown] = [d for d in hooks.deliveries(a) if d.id == made[1].id]
        assert (shown.state, shown.attempts, shown.last_status) == ("delivered", 2, 204)
        assert hooks.pending(a, 10) == [made[2]]
    finally:
        hooks.close()
        app.close()
