"""The event store on both backends: envelope, index, order, chain, idempotency, conflicts."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.commands import Message
from domain.envelope import Actor, Authority, Classification, SigningCapacity
from domain.errors import Conflict, DomainError
from mlob.audit.tamper import verify
from mlob.config import StoreConfig
from mlob.store import chain
from mlob.write.application import MlobApplication
from mlob.write.writer import GroupWriter
from tests.integration.store.fixtures import Ledger, envelope


@pytest.fixture
def app(store_config: StoreConfig) -> MlobApplication:
    application = MlobApplication(store_config)
    yield application
    application.close()


def open_ledger(app: MlobApplication, region: str = "VR08", **env: object) -> Ledger:
    env_ = envelope(**env)
    ledger = Ledger.open(env_, region)
    app.record([Message(env_.message_id, "digest-open")], lambda u: u.add(ledger))
    return ledger


def test_envelope_and_index_row_round_trip(app: MlobApplication) -> None:
    occurred = datetime.now(UTC) - timedelta(hours=3)
    env = envelope(
        occurred_at=occurred,
        exercise=True,
        classification=Classification.STATE_SECRET_CONFIDENTIAL,
        actor=Actor(org="LOCC", role="coordinator", person="duty officer"),
        authority=Authority(body="chair_safety_region", of="VR23", person="voorzitter"),
        correlation_id="thread-7",
        causation_id="msg-6",
    )
    ledger = Ledger.open(env, "VR23")
    receipt = app.record([Message(env.message_id, "d")], lambda u: u.add(ledger))

    (item,) = app.history()
    assert item.event.envelope == env
    assert isinstance(item.event.envelope.classification, Classification)
    assert item.event.envelope.authority is not None
    assert item.event.envelope.authority.capacity is SigningCapacity.BY
    row = item
    assert item.position == receipt.positions[0] == app.last_position()
    assert (row.stream_id, row.version) == (ledger.id, 1)
    assert row.event_type == "test:Ledger.Opened"
    assert row.occurred_at == occurred
    assert row.recorded_at == item.event.timestamp
    assert row.occurred_at < row.recorded_at
    assert (row.actor_org, row.actor_role, row.actor_person) == (
        "LOCC",
        "coordinator",
        "duty officer",
    )
    assert row.authority is not None and '"of":"VR23"' in row.authority
    assert row.regions == ("VR23",)
    assert row.classification == "stg_confidentieel"
    assert row.exercise is True
    assert (row.message_id, row.correlation_id, row.causation_id) == (
        env.message_id,
        "thread-7",
        "msg-6",
    )


def test_event_data_types_survive(app: MlobApplication) -> None:
    ledger = open_ledger(app)
    env = envelope()

    def work(unit: GroupWriter) -> None:
        unit.get(Ledger, ledger.id).enter(env, Decimal("12.50"))

    app.record([Message(env.message_id, "d")], work)
    event = app.history(stream_id=ledger.id)[-1].event
    assert event.amount == Decimal("12.50") and isinstance(event.amount, Decimal)
    assert event.due == datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
    assert event.tags == ("a", "b")
    assert isinstance(event.ref, UUID)
    assert isinstance(event.envelope.classification, Classification)
    assert app.load(Ledger, ledger.id).total == Decimal("12.50")


def test_global_order_follows_appends_across_streams(app: MlobApplication) -> None:
    first, second = open_ledger(app, "VR08"), open_ledger(app, "VR23")
    order = []
    for i in range(6):
        target = first if i % 2 else second
        env = envelope()

        def work(unit: GroupWriter, target: Ledger = target, env=env, i=i) -> None:  # type: ignore[no-untyped-def]
            unit.get(Ledger, target.id).enter(env, Decimal(i))

        receipt = app.record([Message(env.message_id, "d")], work)
        order.append((target.id, receipt.positions[0]))
    positions = [p for _, p in order]
    assert positions == sorted(positions) and len(set(positions)) == 6
    history = app.history(after=2)
    assert [(h.stream_id, h.position) for h in history] == order
    assert [h.event.originator_id for h in history] == [s for s, _ in order]


def test_chain_is_continuous_and_verifiable(app: MlobApplication) -> None:
    ledger = open_ledger(app)
    for _ in range(5):
        env = envelope()
        app.record(
            [Message(env.message_id, "d")],
            lambda u, env=env: u.get(Ledger, ledger.id).enter(env, Decimal(1)),
        )
    rows = list(app.index.chain_rows())
    assert len(rows) == 6
    previous = chain.GENESIS
    for record, state in rows:
        assert record.hash == chain.link(previous, record.entry, state)
        previous = record.hash
    report = verify(app.index, None, None)
    assert report.ok and report.checked == 6 and report.head == previous.hex()


def test_same_message_same_body_records_once(app: MlobApplication) -> None:
    env = envelope()
    ledger = Ledger.open(env, "VR08")
    first = app.record([Message(env.message_id, "same")], lambda u: u.add(ledger))
    position = app.last_position()
    again = app.record(
        [Message(env.message_id, "same")], lambda u: u.add(Ledger.open(env, "VR08", ledger.id))
    )
    assert again.replayed and not first.replayed
    assert again.events == first.events
    assert app.last_position() == position


def test_same_message_other_body_is_refused(app: MlobApplication) -> None:
    env = envelope()
    app.record([Message(env.message_id, "one")], lambda u: u.add(Ledger.open(env, "VR08")))
    position = app.last_position()
    with pytest.raises(Conflict) as refused:
        app.record([Message(env.message_id, "two")], lambda u: u.add(Ledger.open(env, "VR09")))
    assert refused.value.code == "message_id_reused"
    assert app.last_position() == position


def test_refused_work_records_nothing(app: MlobApplication) -> None:
    ledger = open_ledger(app)
    position = app.last_position()
    env = envelope()

    def work(unit: GroupWriter) -> None:
        unit.get(Ledger, ledger.id).enter(env, Decimal(1))
        raise DomainError("refused", "test")

    with pytest.raises(DomainError):
        app.record([Message(env.message_id, "d")], work)
    assert app.last_position() == position
    assert app.index.messages([env.message_id]) == {}


def test_expected_version_conflict(app: MlobApplication) -> None:
    ledger = open_ledger(app)
    env = envelope()
    with pytest.raises(Conflict) as conflict:
        app.record(
            [Message(env.message_id, "d")],
            lambda u: u.get(Ledger, ledger.id, expected_version=7).enter(env, Decimal(1)),
        )
    assert conflict.value.code == "version_conflict"


@pytest.mark.parametrize("writers", ["two_services", "two_threads_ungrouped"])
def test_two_concurrent_writers_one_conflict_no_lost_update(
    store_config: StoreConfig, writers: str
) -> None:
    """Both writers read version 1 and append version 2 expecting it: one wins, one conflicts.

    ``two_services`` are two application instances (as two server processes would be), each
    with its own group writer; ``two_threads_ungrouped`` are two threads of one instance
    without commit grouping.
    """
    first = MlobApplication(store_config, group_commit=writers == "two_services")
    second = MlobApplication(store_config) if writers == "two_services" else first
    try:
        ledger = open_ledger(first)
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def writer(app: MlobApplication, amount: int) -> None:
            env = envelope()
            waited = []

            def work(unit: GroupWriter) -> None:
                loaded = unit.get(Ledger, ledger.id, expected_version=1)
                # Both have read version 1 before either writes. (One instance's direct
                # appends take turns under its lock: there the second reads version 2, and a
                # barrier would only wait out its timeout.)
                if not waited and writers == "two_services":
                    waited.append(True)
                    barrier.wait(timeout=10)
                loaded.enter(env, Decimal(amount))

            try:
                app.record([Message(env.message_id, f"d{amount}")], work)
                outcomes.append(f"ok{amount}")
            except Conflict as exc:
                outcomes.append(exc.code)

        threads = [
            threading.Thread(target=writer, args=(app, n)) for app, n in ((first, 1), (second, 2))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes)[-1] == "version_conflict", outcomes
        assert outcomes.count("version_conflict") == 1
        winner = int(next(o for o in outcomes if o.startswith("ok"))[2:])
        final = first.load(Ledger, ledger.id)
        assert final.version == 2 and final.total == Decimal(winner)
        assert verify(first.index, None, None).ok
    finally:
        first.close()
        if second is not first:
            second.close()


def test_grouped_appends_on_one_stream_all_apply(app: MlobApplication) -> None:
    """Within one process, concurrent appends are grouped and applied in turn: none is lost."""
    ledger = open_ledger(app)
    errors: list[Exception] = []

    def writer(amount: int) -> None:
        env = envelope()
        try:
            app.record(
                [Message(env.message_id, "d")],
                lambda u: u.get(Ledger, ledger.id).enter(env, Decimal(amount)),
            )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(1, 21)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    final = app.load(Ledger, ledger.id)
    assert final.version == 21 and final.total == Decimal(sum(range(1, 21)))
    assert verify(app.index, None, None).ok


def test_failure_after_events_insert_leaves_nothing(
    app: MlobApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events and index rows share one transaction: a failure in between writes neither."""
    ledger = open_ledger(app)
    position = app.last_position()
    events_before = app.recorder.max_notification_id()

    def broken_link(*_: object) -> bytes:
        raise RuntimeError("simulated crash between event and index row")

    monkeypatch.setattr("mlob.store.recorders.link", broken_link)
    env = envelope()
    with pytest.raises(RuntimeError):
        app.record(
            [Message(env.message_id, "d")],
            lambda u: u.get(Ledger, ledger.id).enter(env, Decimal(1)),
        )
    monkeypatch.undo()
    assert app.recorder.max_notification_id() == events_before
    assert app.last_position() == position
    assert app.load(Ledger, ledger.id).version == 1
    assert app.index.messages([env.message_id]) == {}


def test_occurred_at_in_the_future_is_refused(app: MlobApplication) -> None:
    env = envelope(occurred_at=datetime.now(UTC) + timedelta(hours=1))
    with pytest.raises(DomainError) as refused:
        app.record([Message(env.message_id, "d")], lambda u: u.add(Ledger.open(env, "VR08")))
    assert refused.value.code == "occurred_at_in_future"
    assert app.last_position() == 0


def test_reopened_store_keeps_history(store_config: StoreConfig) -> None:
    first = MlobApplication(store_config)
    ledger = open_ledger(first)
    head = verify(first.index, None, None).head
    first.close()
    second = MlobApplication(store_config)
    try:
        assert second.load(Ledger, ledger.id).region == "VR08"
        assert second.last_position() == 1
        assert verify(second.index, None, None).head == head
    finally:
        second.close()


def test_unknown_subject_is_not_found(app: MlobApplication) -> None:
    env = envelope()
    with pytest.raises(DomainError) as missing:
        app.record(
            [Message(env.message_id, "d")],
            lambda u: u.get(Ledger, uuid4()).enter(env, Decimal(1)),
        )
    assert missing.value.status == 404


def test_a_refusal_in_a_group_never_sinks_the_others(app: MlobApplication) -> None:
    ledger = open_ledger(app)
    start = threading.Barrier(30)
    results: dict[int, str] = {}

    def writer(n: int) -> None:
        env = envelope()

        def work(unit: GroupWriter) -> None:
            loaded = unit.get(Ledger, ledger.id)
            loaded.enter(env, Decimal(1))
            if n % 2:  # refused after it already changed its (private) copy of the ledger
                raise DomainError("refused", "test")

        start.wait(timeout=10)
        try:
            app.record([Message(env.message_id, "d")], work)
            results[n] = "ok"
        except DomainError as exc:
            results[n] = exc.code

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()).count("ok") == 15
    assert all(results[n] == ("refused" if n % 2 else "ok") for n in range(30))
    final = app.load(Ledger, ledger.id)
    assert final.version == 16 and final.total == Decimal(15)
    writer_stats = app._writer
    assert writer_stats.grouped > writer_stats.groups, "appends were not grouped"
    assert verify(app.index, None, None).ok


@pytest.mark.postgres
def test_stream_fetch_uses_the_index_under_a_generic_plan(pg_schema: str) -> None:
    """The writer's stream fetch is a prepared statement; after five runs PostgreSQL may switch
    it to a generic plan. That plan must still read each stream by its index range: a hash join
    over a sequential scan made every group cost time proportional to the whole store."""
    from tests.conftest import pg_connect, postgres_config

    application = MlobApplication(postgres_config(pg_schema))
    try:
        recorder = application.recorder
        statement: str = recorder.sql_select_after  # type: ignore[attr-defined]
        ledger = open_ledger(application)
        with pg_connect(pg_schema) as conn:
            # Long streams, as when incidents collect situation reports: a hash join over the
            # whole table then looks cheaper to the planner than an index range per stream.
            conn.execute(
                "INSERT INTO mlob_events (originator_id, originator_version, topic, state) "
                "SELECT s.id, v, 'x', '\\x00' FROM (SELECT gen_random_uuid() AS id "
                "FROM generate_series(1, 300)) s, generate_series(1, 100) v"
            )
            conn.execute("ANALYZE mlob_events")
            conn.execute("SET plan_cache_mode = force_generic_plan")
            generic = statement.replace("%s", "$1", 1).replace("%s", "$2", 1)
            conn.execute(f"PREPARE fetch_streams(uuid[], bigint[]) AS {generic}")
            plan = "\n".join(
                row[0]
                for row in conn.execute(
                    f"EXPLAIN EXECUTE fetch_streams(ARRAY['{ledger.id}']::uuid[], ARRAY[0])"
                ).fetchall()
            )
        assert "Seq Scan on mlob_events" not in plan, plan
        assert "mlob_events_pkey" in plan, plan
        assert [s.originator_id for s in recorder.select_after([(ledger.id, 0)])] == [ledger.id]
    finally:
        application.close()


def test_markings_and_events_at_chosen_positions(app: MlobApplication) -> None:
    """What a replay reads (issue 16, defect 12): the index's markings of a range without the
    rest of the row, then only the chosen events, decoded — the same rows and events as the
    whole history has at those positions, gaps and order kept, past SQLite's 500 parameters."""
    secret = Classification.STATE_SECRET_SECRET
    ledgers = [open_ledger(app, "VR08"), open_ledger(app, "VR23", exercise=True)]
    for batch in range(34):  # 20 steps per commit
        env = envelope()

        def work(unit: GroupWriter, batch: int = batch, env: Any = env) -> None:
            for i in range(batch * 20, batch * 20 + 20):
                # The VR23 ledger is an exercise: its steps say so (issue 17).
                marked = envelope(
                    env.message_id,
                    exercise=i % 2 == 1,
                    **({"classification": secret} if i % 7 == 0 else {}),
                )
                unit.get(Ledger, ledgers[i % 2].id).enter(marked, Decimal(i))

        app.record([Message(env.message_id, "d")], work)
    history = app.history(after=0, limit=10_000)
    assert len(history) == 682
    marks = app.index.index_marks(after=3, limit=100, until_position=60)
    assert [
        (m.position, m.stream_id, m.version, m.event_type, m.regions, m.classification, m.exercise)
        for m in marks
    ] == [
        (
            h.position,
            h.stream_id,
            h.version,
            h.event_type,
            h.regions,
            h.classification,
            h.exercise,
        )
        for h in history
        if 3 < h.position <= 60
    ]
    assert [m.position for m in app.index.index_marks(after=0, limit=5)] == [
        h.position for h in history[:5]
    ]
    chosen = [h.position for h in history if h.classification == "stg_geheim"]
    chosen += [h.position for h in history if h.position % 5]
    chosen = sorted(set(chosen))  # gaps: every fifth position left out unless secret
    assert len(chosen) > 500
    got = app.history_at(chosen)
    by_position = {h.position: h for h in history}
    assert got == [by_position[p] for p in chosen]
    assert [h.event for h in got] == [by_position[p].event for p in chosen]
    assert app.history_at([]) == []
