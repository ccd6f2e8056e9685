"""The newest events a process wrote are read from memory by its live feed (projections/recent.py):
every such answer must be exactly what the store answers, and anything memory cannot vouch for
(another process's write, a read past what is held) must come from the store."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from api.ports import LoggedEvent
from api.rendering import dumps, event_body
from domain.commands import Message
from mlob import demo
from mlob.config import StoreConfig
from mlob.service import Service
from mlob.write.application import MlobApplication
from projections.recent import RecentEvents
from tests.conftest import pg_connect, postgres_config
from tests.integration.projections.conftest import NOW
from tests.integration.store.fixtures import Ledger, envelope


def rendered(events: list[LoggedEvent]) -> list[tuple[LoggedEvent, str]]:
    """Each event as compared (every field, the domain event included) and as the feed sends
    it (the bytes must be the same, time zones included)."""
    return [(e, dumps(event_body(e))) for e in events]


def same_from_memory_and_store(service: Service, after: int, limit: int, **kw: Any) -> bool:
    """True when memory answered (and answered what the store does); False when it declined."""
    recent = service.app.recent
    before = recent.served
    remembered = service.logged_events(after, limit, recent=True, **kw)
    stored = service.logged_events(after, limit, **kw)
    assert rendered(remembered) == rendered(stored), (after, limit, kw)
    return recent.served > before


@pytest.fixture
def service(store_config: StoreConfig) -> Iterator[Service]:
    svc = Service(MlobApplication(store_config))
    yield svc
    svc.close()
    svc.app.close()


def test_the_demo_read_from_memory_is_the_demo_read_from_the_store(service: Service) -> None:
    demo.load_demo(service, NOW)
    last = service.last_position()
    assert last > 50
    answered = 0
    for after in range(0, last):
        for limit in (1, 7, 1000):
            answered += same_from_memory_and_store(service, after, limit)
    assert answered == 3 * last  # every read below the newest came from memory
    # From the newest on, the store answers (it may hold another process's newer events).
    assert not same_from_memory_and_store(service, last, 10)


def ledger_steps(app: MlobApplication, ledger: Ledger, count: int) -> None:
    """``count`` steps in one append (over 64 of them take the COPY path)."""
    env = envelope(occurred_at=datetime.now(timezone(timedelta(hours=1))))

    def work(unit: Any) -> None:
        for _ in range(count):
            unit.get(Ledger, ledger.id).enter(env, Decimal(1))

    app.record([Message(env.message_id, f"steps {count}")], work, [ledger.id])


def open_ledger(app: MlobApplication) -> Ledger:
    env = envelope()
    ledger = Ledger.open(env, "VR08")
    app.record([Message(env.message_id, "open")], lambda u: u.add(ledger), [ledger.id], [ledger.id])
    return ledger


def test_another_process_writing_in_between_sends_reads_across_it_to_the_store(
    store_config: StoreConfig,
) -> None:
    here, there = Service(MlobApplication(store_config)), Service(MlobApplication(store_config))
    try:
        ledger = open_ledger(here.app)
        for count in (1, 3, 100):  # one flight, pipelined or COPY on PostgreSQL
            ledger_steps(here.app, ledger, count)
        mine = here.last_position()
        assert same_from_memory_and_store(here, 0, 1000)
        ledger_steps(there.app, ledger, 2)  # another process: memory here knows nothing of it
        foreign = there.last_position()
        # Memory answers up to what it holds (a reader woken by every append reads on)...
        assert [e.position for e in here.logged_events(mine - 1, 10, recent=True)] == [mine]
        # ...but not a reader that knows of a later position and needs everything up to it.
        assert not same_from_memory_and_store(here, mine - 1, 10, stop=foreign)
        ledger_steps(here.app, ledger, 1)  # follows the other process's events: a new run
        newest = here.last_position()
        assert not same_from_memory_and_store(here, mine - 1, 1000)  # spans the other's write
        assert not same_from_memory_and_store(here, 0, 1000)
        assert same_from_memory_and_store(here, foreign, 1000)  # the new run
        assert [e.position for e in here.logged_events(foreign, 10, recent=True)] == [newest]
    finally:
        for s in (here, there):
            s.close()
            s.app.close()


@pytest.mark.postgres
def test_another_process_s_append_empties_memory_and_this_one_s_wakes_once(
    pg_schema: str,
) -> None:
    # PostgreSQL only: SQLite has no notifications (its readers poll).
    store_config = postgres_config(pg_schema)
    here, there = Service(MlobApplication(store_config)), Service(MlobApplication(store_config))
    wakes: list[float] = []
    notified: list[Any] = []
    inspect = here._foreign_write

    def spy(notify: Any) -> bool:
        notified.append(notify)
        return inspect(notify)

    def wait(condition: Any) -> None:
        deadline = time.monotonic() + 10
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert condition()

    here._foreign_write = spy  # type: ignore[method-assign]
    try:
        ledger = open_ledger(here.app)
        here.on_change(lambda: wakes.append(time.monotonic()))  # starts the LISTEN connection
        wait(lambda: wakes)
        generation = here.app.recent.generation  # the (re)connect itself empties memory
        woken, seen = len(wakes), len(notified)
        ledger_steps(here.app, ledger, 2)  # this process's own append
        wait(lambda: len(notified) > seen)  # its NOTIFY came...
        assert len(wakes) == woken + 1  # ...but only the commit woke the readers
        assert here.app.recent.generation == generation  # and memory stands
        assert not same_from_memory_and_store(here, 0, 1000)  # it holds what followed the open
        assert same_from_memory_and_store(here, here.last_position() - 2, 1000)
        ledger_steps(there.app, ledger, 1)
        wait(lambda: here.app.recent.generation == generation + 1)
        wait(lambda: len(wakes) == woken + 2)
        assert not same_from_memory_and_store(here, here.last_position() - 3, 1000)
    finally:
        for s in (here, there):
            s.close()
            s.app.close()


def test_a_store_in_another_schema_of_the_database_wakes_no_one_here(pg_schema: str) -> None:
    """NOTIFY channels are per database: a store's channels carry its schema, so another
    store's appends and read-model changes in the same database neither wake this one's
    readers nor empty its memory (they did: both channels were named for the table alone)."""
    other_schema = f"{pg_schema}_other"
    with pg_connect(pg_schema) as conn:
        conn.execute(f'CREATE SCHEMA "{other_schema}"')
    here = Service(MlobApplication(postgres_config(pg_schema)))
    there = Service(MlobApplication(postgres_config(other_schema)))
    wakes: list[float] = []
    try:
        channels = [s.app.recorder.channel_name for s in (here, there)]  # type: ignore[attr-defined]
        assert channels[0] != channels[1]
        ledger = open_ledger(there.app)
        here.on_change(lambda: wakes.append(time.monotonic()))  # starts the LISTEN connection
        deadline = time.monotonic() + 10
        while not wakes and time.monotonic() < deadline:
            time.sleep(0.02)
        assert wakes, "the LISTEN connection wakes its readers once when it connects"
        generation = here.app.recent.generation
        woken = len(wakes)
        ledger_steps(there.app, ledger, 2)
        # The other store's commit is done before this store's own appends, whose wakes are
        # awaited: a NOTIFY of the other store's would have come by then.
        own = open_ledger(here.app)
        ledger_steps(here.app, own, 1)
        deadline = time.monotonic() + 10
        while len(wakes) < woken + 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)
        assert len(wakes) == woken + 2  # the two own commits, nothing of the other store's
        assert here.app.recent.generation == generation
    finally:
        for s in (here, there):
            s.close()
            s.app.close()
        with pg_connect(pg_schema) as conn:
            conn.execute(f'DROP SCHEMA "{other_schema}" CASCADE')


# --- the buffer itself --------------------------------------------------------------------------


def test_a_commit_that_does_not_follow_the_last_held_starts_afresh() -> None:
    recent: RecentEvents[str] = RecentEvents()
    recent.add(0, [1, 2], ["a", "b"], [1, 1], recent.generation)
    recent.add(2, [4], ["d"], [1], recent.generation)  # gaps in positions are fine
    assert recent.after(0, 10) == ["a", "b", "d"]
    assert recent.after(3, 10) == ["d"]  # between held positions: nothing else lies there
    recent.add(5, [6], ["f"], [1], recent.generation)  # someone wrote 5
    assert recent.after(0, 10) is None
    assert recent.after(5, 10) == ["f"]
    assert recent.after(6, 10) is None  # the newest held is not taken to be the store's


def test_what_is_held_is_bounded_in_items_and_bytes() -> None:
    recent: RecentEvents[int] = RecentEvents(capacity=3, max_bytes=100)
    recent.add(0, [1, 2, 3, 4], [1, 2, 3, 4], [10, 10, 10, 10], 0)
    assert recent.after(0, 10) is None and recent.after(1, 10) == [2, 3, 4]
    recent.add(4, [5], [5], [90], 0)  # one goes for the count, one more for the bytes
    assert recent.after(2, 10) is None and recent.after(3, 10) == [4, 5]
    recent.add(5, [6], [6], [500], 0)  # larger than the bound alone: nothing is held
    assert recent.after(5, 10) is None and recent.after(0, 10) is None
    recent.add(6, [7, 8], [7, 8], [1, 1], 0)
    assert recent.after(6, 10) == [7, 8]


def test_a_commit_made_across_a_clear_is_not_held() -> None:
    recent: RecentEvents[str] = RecentEvents()
    before = recent.generation
    recent.clear()  # another process wrote while this commit was under way
    recent.add(0, [1, 2], ["a", "b"], [1, 1], before)
    assert recent.after(0, 10) is None
    recent.add(2, [3, 4], ["c", "d"], [1, 1], recent.generation)
    assert recent.after(2, 10) == ["c", "d"]


def test_a_read_up_to_a_known_position_is_answered_only_when_memory_reaches_it() -> None:
    recent: RecentEvents[str] = RecentEvents()
    recent.add(0, [1, 2, 3], ["a", "b", "c"], [1, 1, 1], 0)
    assert recent.after(0, 10, stop=3) == ["a", "b", "c"]
    assert recent.after(0, 2, stop=9) == ["a", "b"]  # full: the reader asks again from 2
    assert recent.after(0, 10, stop=9) is None


def test_positions_out_of_order_are_not_held() -> None:
    recent: RecentEvents[str] = RecentEvents()
    recent.add(0, [1, 2], ["a", "b"], [1, 1], 0)
    recent.add(2, [4, 3], ["d", "c"], [1, 1], 0)  # cannot happen; if it did: the store answers
    assert recent.after(0, 10) is None and recent.after(2, 10) is None
    recent.add(5, [5], ["e"], [1], 0)  # not after its predecessor
    assert recent.after(4, 10) is None


def test_an_append_stands_and_wakes_its_readers_when_holding_it_fails(
    store_config: StoreConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = MlobApplication(store_config)
    woken: list[int] = []
    app.after_commit.append(lambda: woken.append(1))
    try:
        ledger = open_ledger(app)

        def broken(*args: Any) -> None:
            raise RuntimeError("memory trouble")

        monkeypatch.setattr(app.recent, "add", broken)
        generation = app.recent.generation
        ledger_steps(app, ledger, 2)  # answered, not failed
        assert app.repository.get(ledger.id).version == 3
        assert len(woken) == 2 and app.recent.generation == generation + 1
    finally:
        app.close()
