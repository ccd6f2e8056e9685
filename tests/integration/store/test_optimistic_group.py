"""A group's first run reads nothing when its streams are cached (mlob/write/writer.py):
whatever that assumes wrongly must be caught by the commit and answered exactly as a read-first
run would."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from domain import policy
from domain.commands import Message
from domain.envelope import Classification
from domain.errors import Conflict
from mlob.audit.tamper import verify
from mlob.config import StoreConfig
from mlob.store.chain import link
from mlob.store.recorders import iter_chain
from mlob.write.application import MlobApplication
from mlob.write.writer import GroupWriter, Job
from tests.conftest import pg_connect, postgres_config
from tests.integration.store.fixtures import Ledger, envelope


@pytest.fixture
def two(store_config: StoreConfig) -> Iterator[tuple[MlobApplication, MlobApplication]]:
    """Two application instances on one store, as two server processes would be."""
    here, there = MlobApplication(store_config), MlobApplication(store_config)
    yield here, there
    here.close()
    there.close()


def writer_of(app: MlobApplication) -> GroupWriter:
    assert app._writer is not None
    return app._writer


def opened(app: MlobApplication) -> Ledger:
    env = envelope()
    ledger = Ledger.open(env, "VR08")
    app.record([Message(env.message_id, "open")], lambda u: u.add(ledger), [ledger.id], [ledger.id])
    return ledger


def enter(app: MlobApplication, ledger: Ledger, amount: int, message_id: str | None = None) -> int:
    env = envelope(message_id)
    receipt = app.record(
        [Message(env.message_id, f"enter {amount}")],
        lambda u: u.get(Ledger, ledger.id).enter(env, Decimal(amount)),
        [ledger.id],
    )
    return receipt.events[0].version


def test_a_cached_stream_another_process_moved_on_still_takes_the_append(
    two: tuple[MlobApplication, MlobApplication],
) -> None:
    here, there = two
    ledger = opened(here)  # cached here at version 1
    assert enter(there, ledger, 5) == 2  # here does not know
    before = writer_of(here).optimistic
    assert enter(here, ledger, 7) == 3  # the stale guess fails at commit; read fresh, applied
    assert writer_of(here).optimistic == before + 1
    final = here.load(Ledger, ledger.id)
    assert final.version == 3 and final.total == Decimal(12)
    assert verify(here.index, None, None).ok


def test_creating_a_subject_that_exists_elsewhere_is_refused_and_writes_nothing(
    two: tuple[MlobApplication, MlobApplication],
) -> None:
    here, there = two
    existing = opened(there)  # unknown to here's cache
    opened(here)  # here has written before (a warm writer)
    position = here.last_position()
    env = envelope()
    again = Ledger.open(env, "VR09", subject=existing.id)
    with pytest.raises(Conflict) as refused:
        here.record(
            [Message(env.message_id, "open")],
            lambda u: u.add(again),
            [existing.id],
            [existing.id],
        )
    assert refused.value.code == "subject_exists"
    assert here.last_position() == position
    assert here.load(Ledger, existing.id).region == "VR08"


def test_a_retried_step_on_a_cached_stream_is_replayed_not_recorded_twice(
    two: tuple[MlobApplication, MlobApplication],
) -> None:
    here, _ = two
    ledger = opened(here)
    message_id = f"m-{uuid4()}"
    assert enter(here, ledger, 3, message_id) == 2
    position = here.last_position()
    before = writer_of(here).optimistic
    env = envelope(message_id)
    again = here.record(  # the client did not see the answer and sends the same step again
        [Message(message_id, "enter 3")],
        lambda u: u.get(Ledger, ledger.id).enter(env, Decimal(3)),
        [ledger.id],
    )
    assert writer_of(here).optimistic == before + 1  # it ran the step, the commit refused it
    assert again.replayed and [e.version for e in again.events] == [2]
    assert here.last_position() == position
    assert here.load(Ledger, ledger.id).total == Decimal(3)


def test_a_retried_creation_is_replayed(two: tuple[MlobApplication, MlobApplication]) -> None:
    here, _ = two
    env = envelope()
    ledger = Ledger.open(env, "VR08")
    first = here.record([Message(env.message_id, "open")], lambda u: u.add(ledger), [ledger.id])
    twin = Ledger.open(env, "VR08", subject=ledger.id)
    again = here.record(
        [Message(env.message_id, "open")], lambda u: u.add(twin), [ledger.id], [ledger.id]
    )
    assert again.replayed
    assert [(e.stream_id, e.version, e.position) for e in again.events] == [
        (e.stream_id, e.version, e.position) for e in first.events
    ]


@pytest.mark.postgres
def test_the_one_flight_commit_falls_back_when_another_process_wrote(pg_schema: str) -> None:
    """PostgreSQL only: SQLite has one writer per file and commits without the guess."""
    config = postgres_config(pg_schema)
    here, there = MlobApplication(config), MlobApplication(config)
    try:
        one_flight_falls_back(here, there)
    finally:
        here.close()
        there.close()


def one_flight_falls_back(here: MlobApplication, there: MlobApplication) -> None:
    ledger = opened(here)
    assert enter(here, ledger, 1) == 2  # here knows the head now: one flight
    recorder: Any = here.recorder
    assert recorder.one_flight >= 1 and recorder.head_moved == 0
    enter(there, ledger, 2)  # there writes: here's idea of the head is stale
    assert enter(here, ledger, 3) == 4
    assert recorder.head_moved == 1  # the guard caught it; nothing of that flight stayed
    rows = here.index.index_rows(after=0, limit=100)
    assert [r.version for r in rows] == [1, 2, 3, 4]  # none lost, none twice
    assert [r.position for r in rows] == sorted({r.position for r in rows})
    assert here.load(Ledger, ledger.id).total == Decimal(6)
    assert verify(here.index, None, None).ok
    flown = recorder.one_flight
    assert enter(here, ledger, 4) == 5 and recorder.one_flight == flown + 1  # and flies again


@pytest.fixture
def warm(pg_schema: str) -> Iterator[tuple[MlobApplication, Ledger]]:
    """A PostgreSQL application that wrote the head last (its next commit can go in one flight),
    and the ledger it wrote."""
    here = MlobApplication(postgres_config(pg_schema))
    ledger = opened(here)
    enter(here, ledger, 1)
    yield here, ledger
    here.close()


@pytest.mark.postgres
def test_a_one_flight_commit_wakes_listeners_of_other_processes(
    warm: tuple[MlobApplication, Ledger], pg_schema: str
) -> None:
    here, ledger = warm
    recorder: Any = here.recorder
    with pg_connect(pg_schema) as listener:
        listener.execute(f'LISTEN "{recorder.channel_name}"')
        flown = recorder.one_flight
        enter(here, ledger, 2)
        assert recorder.one_flight == flown + 1
        assert list(listener.notifies(timeout=2, stop_after=1)), "no notification"


def test_a_refusal_on_a_stale_cache_is_decided_on_fresh_state(
    two: tuple[MlobApplication, MlobApplication],
) -> None:
    here, there = two
    ledger = opened(here)  # cached here at version 1
    enter(there, ledger, 5)  # version 2, unknown here
    env = envelope()
    before = writer_of(here).optimistic
    receipt = here.record(  # the client saw version 2 and says so: here's cache says 1
        [Message(env.message_id, "enter 7")],
        lambda u: u.get(Ledger, ledger.id, expected_version=2).enter(env, Decimal(7)),
        [ledger.id],
    )
    assert writer_of(here).optimistic == before + 1
    assert [e.version for e in receipt.events] == [3]
    assert here.load(Ledger, ledger.id).total == Decimal(12)


@pytest.mark.parametrize("reuse", ["other_content", "in_a_batch"])
def test_a_retry_grouped_with_a_reuse_of_its_message_id_is_still_a_replay(
    two: tuple[MlobApplication, MlobApplication], reuse: str
) -> None:
    """B retries a recorded step; A, in the same group, reuses B's message id (with other
    content, or in a batch with a new one). Which of them is the replay is only known after a
    read: B gets its original answer, A the refusal."""
    here, _ = two
    ledger = opened(here)
    message_id = f"m-{uuid4()}"
    assert enter(here, ledger, 3, message_id) == 2
    writer = writer_of(here)
    gate = threading.Event()
    held = writer.submit(Job([], lambda unit: gate.wait(10)))  # holds the writer thread
    env = envelope(message_id)
    step = lambda u: u.get(Ledger, ledger.id).enter(env, Decimal(3))  # noqa: E731
    reused = (
        [Message(message_id, "other content")]
        if reuse == "other_content"
        else [Message(message_id, "enter 3"), Message(f"m-{uuid4()}", "new")]
    )
    a = writer.submit(Job(reused, step, [ledger.id]))
    b = writer.submit(Job([Message(message_id, "enter 3")], step, [ledger.id]))
    gate.set()  # a and b now go in one group
    held.result(timeout=10)
    assert b.result(timeout=10).replayed
    with pytest.raises(Conflict) as refused:
        a.result(timeout=10)
    assert refused.value.code == "message_id_reused"
    assert here.load(Ledger, ledger.id).version == 2


@pytest.mark.postgres
def test_the_one_flight_guard_checks_the_head_hash_not_only_its_position(
    warm: tuple[MlobApplication, Ledger], pg_schema: str
) -> None:
    """A head at the same position but with another hash (a store restored or failed over to a
    copy that another writer continued) must not be chained onto from memory."""
    here, ledger = warm
    recorder: Any = here.recorder
    with pg_connect(pg_schema) as conn:
        conn.execute(
            "UPDATE mlob_event_index SET hash = sha256(hash) "
            "WHERE position = (SELECT max(position) FROM mlob_event_index)"
        )
    enter(here, ledger, 2)
    assert recorder.head_moved == 1
    (before, _), (after, state) = list(iter_chain(here.index))[-2:]
    # the new link continues the stored head, not the one remembered
    assert after.hash == link(before.hash, after.entry, state)


def test_a_subject_created_earlier_in_the_group_is_seen_at_a_lower_level(
    two: tuple[MlobApplication, MlobApplication],
) -> None:
    """A creates a subject with a classified step; B, in the same group, looks at it at the
    unclassified level (acting needs seeing): it is there, without the classified step. The
    fold at B's level read only the store, where nothing of it was committed yet (None: a
    wrong 404 for a subject B may see)."""
    here, _ = two
    opened(here)  # starts the writer
    writer = writer_of(here)
    gate = threading.Event()
    held = writer.submit(Job([], lambda unit: gate.wait(10)))  # holds the writer thread
    opened_with = envelope()
    ledger = Ledger.open(opened_with, "VR08")
    secret = envelope(opened_with.message_id, classification=Classification.STATE_SECRET_SECRET)

    def create(unit: Any) -> None:
        unit.add(ledger)
        ledger.enter(secret, Decimal(5))

    seen: list[Any] = []
    a = writer.submit(
        Job([Message(opened_with.message_id, "open")], create, [ledger.id], [ledger.id])
    )
    peek = lambda u: seen.append(u.peek_at(ledger.id, policy.level(Classification.UNCLASSIFIED)))  # noqa: E731
    b = writer.submit(Job([Message(f"m-{uuid4()}", "peek")], peek, [ledger.id]))
    gate.set()  # a and b now go in one group
    held.result(timeout=10)
    a.result(timeout=10)
    b.result(timeout=10)
    assert seen and seen[-1] is not None and seen[-1].total == Decimal(0)
