"""The application service: the one eventsourcing Application that records mlob's history."""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC
from typing import Any, TypeVar, cast
from uuid import UUID

import orjson
from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    Transcoder,
)
from eventsourcing.utils import register_topic

from api.ports import Message, Receipt, RecordedEvent, StoreUnavailable, split_message_key
from domain.base import MlobAggregate
from domain.envelope import Authority, Envelope
from domain.errors import Conflict, NotFound, version_conflict
from domain.policy import SOURCE as POLICY
from domain.policy import step_level
from domain.stored import STORED_TYPES
from mlob import migrations
from mlob.config import StoreConfig
from mlob.recent import RecentEvents
from mlob.store.index import DuplicateMessage, IndexEntry, IndexRecord
from mlob.store.recorders import IndexQueries
from mlob.store.transcoder import OrjsonTranscoder
from projections.levels import state_at

log = logging.getLogger("mlob.application")

A = TypeVar("A", bound=MlobAggregate)

for _topic, _cls in STORED_TYPES.items():
    register_topic(_topic, _cls)


@dataclass(frozen=True)
class HistoryItem:
    record: IndexRecord
    event: MlobAggregate.Event


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def message_reused(ids: Sequence[str]) -> Conflict:
    return Conflict(
        "message_id_reused",
        f"message id(s) {', '.join(ids)} were recorded before with other content",
        "mlob idempotency",
    )


class UnitOfWork:
    """The aggregates one append reads and changes; saved together or not at all."""

    def __init__(self, app: MlobApplication) -> None:
        self._app = app
        self.touched: dict[UUID, MlobAggregate] = {}

    def get(self, cls: type[A], subject: UUID, expected_version: int | None = None) -> A:
        aggregate = self.touched.get(subject)
        if aggregate is None:
            try:
                loaded = self._app.repository.get(subject)
            except AggregateNotFoundError:
                raise NotFound(
                    "unknown_subject", f"no {cls.__name__} {subject}", "mlob store"
                ) from None
            if not isinstance(loaded, cls):
                raise NotFound(
                    "unknown_subject", f"{subject} is not a {cls.__name__}", "mlob store"
                )
            aggregate = loaded
            self.touched[subject] = aggregate
        if expected_version is not None and aggregate.version != expected_version:
            raise version_conflict(f"{cls.__name__} {subject}", expected_version, aggregate.version)
        return cast(A, aggregate)

    def exists(self, subject: UUID) -> bool:
        return subject in self.touched or subject in self._app.repository

    def thread_of(self, subject: UUID) -> tuple[str, str | None]:
        aggregate = self.peek(subject)
        return ("", None) if aggregate is None else aggregate.thread

    def peek_at(self, subject: UUID, level: int) -> Any:
        return state_at(self.peek(subject), level, self._app.events.get)

    def peek(self, subject: UUID) -> MlobAggregate | None:
        aggregate = self.touched.get(subject)
        if aggregate is None:
            try:
                aggregate = cast(MlobAggregate, self._app.repository.get(subject))
            except AggregateNotFoundError:
                return None
        return aggregate

    def add(self, aggregate: MlobAggregate) -> None:
        if aggregate.version == aggregate.INITIAL_VERSION and self.exists(aggregate.id):
            raise Conflict("subject_exists", f"{aggregate.id} exists already", "mlob store")
        self.touched[aggregate.id] = aggregate


def _in_utc(entry: IndexEntry) -> IndexEntry:
    """The entry with its times in UTC, as the store gives them back."""
    if not entry.occurred_at.utcoffset() and not entry.recorded_at.utcoffset():
        return entry  # the usual case (UTC, whichever tzinfo object says so): no copy
    return dataclasses.replace(
        entry,
        occurred_at=entry.occurred_at.astimezone(UTC),
        recorded_at=entry.recorded_at.astimezone(UTC),
    )


def _authority_text(authority: Authority | None) -> str | None:
    if authority is None:
        return None
    return orjson.dumps(dataclasses.asdict(authority), option=orjson.OPT_SORT_KEYS).decode()


class MlobApplication(Application[UUID]):
    """Records every step as domain events, with their envelope, index row and chain link."""

    name = "mlob"

    def __init__(
        self, store: StoreConfig, env: dict[str, str] | None = None, *, group_commit: bool = True
    ) -> None:
        self.store = store
        self.group_commit = group_commit
        self._writer: Any = None
        self._writer_lock = threading.Lock()
        #: Called after every commit that recorded events (once per group, not per append),
        #: in the committing thread: the composition root wakes projections and feeds here.
        self.after_commit: list[Callable[[], None]] = []
        #: The newest events the writer committed, for this process's readers (the live feed).
        self.recent: RecentEvents[HistoryItem] = RecentEvents()
        super().__init__({**store.eventsourcing_env(), **(env or {})})
        # The library created its tables and mlob's at their baseline shape: bring the
        # schema up to this code's (mlob/migrations; one process at a time).
        migrations.upgrade(store)

    def construct_env(self, name: str, env: Any = None) -> Any:
        # Only the store configuration counts: stray eventsourcing variables in the
        # process environment must not redirect mlob's history.
        from eventsourcing.utils import Environment

        return Environment(name, dict(env or {}))

    def construct_transcoder(self) -> Transcoder:
        return OrjsonTranscoder()

    @property
    def index(self) -> IndexQueries:
        return cast(IndexQueries, self.recorder)

    # --- writing -------------------------------------------------------------------------

    def record(
        self,
        messages: Sequence[Message],
        work: Callable[[Any], Any],
        subjects: Sequence[UUID] = (),
        creates: Sequence[UUID] = (),
    ) -> Receipt:
        """Run ``work`` and append what it triggered, atomically, grouped with concurrent
        appends into one transaction (see :mod:`mlob.writer`). ``subjects`` are the streams
        the work will read, if known, so the group can fetch them at once; ``creates``
        those of them the work means to create (they need no read)."""
        return self.record_later(messages, work, subjects, creates).result()

    def record_later(
        self,
        messages: Sequence[Message],
        work: Callable[[Any], Any],
        subjects: Sequence[UUID] = (),
        creates: Sequence[UUID] = (),
    ) -> Future[Receipt]:
        if not self.group_commit:
            answer: Future[Receipt] = Future()
            try:
                answer.set_result(self.record_direct(messages, work))
            except Exception as exc:
                answer.set_exception(exc)
            return answer
        with self._writer_lock:
            if self._writer is None:
                from mlob.writer import GroupWriter

                self._writer = GroupWriter(self)
        return self._writer.submit_later(messages, work, subjects, creates)

    def committed(self, events: Sequence[MlobAggregate.Event], generation: int) -> None:
        """After a commit in the calling thread: keep what it wrote (``events``, in the order
        given to the recorder) for this process's readers of the global order
        (:mod:`mlob.recent`; ``generation``: ``self.recent.generation`` as it was before the
        append), then wake them (``after_commit``)."""
        inserted = self.index.take_inserted()
        try:
            if inserted is None:
                raise LookupError("the recorder did not say where the events went")
            predecessor, linked, sizes = inserted
            self.recent.add(
                predecessor,
                [position for position, _, _ in linked],
                [
                    # Times in UTC, as the store gives them back: both read alike.
                    HistoryItem(IndexRecord(position, _in_utc(entry), digest), event)
                    for (position, entry, digest), event in zip(linked, events, strict=True)
                ],
                sizes,
                generation,
            )
        except Exception:  # the events are recorded: their readers will read the store
            log.exception("holding the committed events in memory failed")
            self.recent.clear()
        for hook in list(self.after_commit):
            try:
                hook()
            except Exception:  # the events are recorded: a reader's wake-up must not undo that
                log.exception("after-commit hook %r failed", hook)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        super().close()

    def record_direct(self, messages: Sequence[Message], work: Callable[[Any], Any]) -> Receipt:
        """Run ``work`` against fresh aggregates and append what it triggered, atomically.

        The same message ids with the same digests return the original receipt and record
        nothing; a reused id with other content is a conflict; a refused command records nothing.
        """
        replay = self.replay(messages)
        if replay is not None:
            return replay
        unit = UnitOfWork(self)
        work(unit)
        processing = ProcessingEvent[UUID]()
        processing.collect_events(*unit.touched.values())
        events = cast(list[MlobAggregate.Event], processing.events)
        if not events:
            return Receipt(events=())
        index = [self.index_entry(e, unit.touched[e.originator_id]) for e in events]
        processing.saved_kwargs.update(
            index=index, messages=[(m.message_id, m.digest) for m in messages]
        )
        generation = self.recent.generation
        try:
            recordings = self._record(processing)
        except (IntegrityError, DuplicateMessage):
            # Lost a race: either the same message won (replay it) or the stream moved on.
            replay = self.replay(messages)
            if replay is not None:
                return replay
            raise Conflict(
                "version_conflict",
                "another step was recorded on this subject at the same time; reload and retry",
                "mlob optimistic concurrency",
            ) from None
        self._notify(recordings)
        self.committed(events, generation)
        return Receipt(
            events=tuple(
                RecordedEvent(
                    stream_id=r.notification.originator_id,
                    version=r.notification.originator_version,
                    position=r.notification.id,
                    event_type=r.notification.topic,
                    message_id=cast(MlobAggregate.Event, r.domain_event).envelope.message_id,
                    org=cast(MlobAggregate.Event, r.domain_event).envelope.actor.org,
                )
                for r in recordings
            )
        )

    def index_entry(self, event: MlobAggregate.Event, aggregate: MlobAggregate) -> IndexEntry:
        envelope: Envelope = event.envelope
        envelope.check(now=event.timestamp)
        return IndexEntry(
            stream_id=event.originator_id,
            version=event.originator_version,
            event_type=type(event).TOPIC,  # type: ignore[attr-defined]
            occurred_at=envelope.occurred_at,
            recorded_at=event.timestamp,
            actor_org=envelope.actor.org,
            actor_role=envelope.actor.role,
            actor_person=envelope.actor.person,
            authority=_authority_text(envelope.authority),
            regions=tuple(sorted(set(aggregate.regions_concerned()))),
            classification=envelope.classification.value,
            exercise=envelope.exercise,
            message_id=envelope.message_id,
            correlation_id=envelope.correlation_id,
            causation_id=envelope.causation_id,
        )

    @staticmethod
    def message_reused_error(ids: Sequence[str]) -> Conflict:
        return message_reused(ids)

    def replay(self, messages: Sequence[Message]) -> Receipt | None:
        """The original answer to messages recorded before (keys: api.ports.message_key),
        None when none was; a reused id with other content is a conflict — answered as
        ``not_possible_now`` when what it recorded lies above the sender's clearance."""
        keys = [m.message_id for m in messages]
        known = self.index.messages(keys)
        if not known:
            return None
        ids = {split_message_key(key) for key in known}
        first = min(position for _, position in known.values())
        rows = [
            r
            for r in self.index.index_rows(
                after=first - 1, limit=10_000, message_ids=sorted({i for _, i in ids})
            )
            if (r.entry.actor_org, r.entry.message_id) in ids or (None, r.entry.message_id) in ids
        ]
        differing = [m for m in messages if known.get(m.message_id, ("",))[0] != m.digest]
        if differing:
            if max(self._message_level(rows, m) for m in differing) > min(
                m.level for m in differing
            ):
                raise Conflict("not_possible_now", "this step is not possible now", POLICY)
            raise message_reused([split_message_key(m.message_id)[1] for m in differing])
        return Receipt(
            events=tuple(
                RecordedEvent(
                    stream_id=r.entry.stream_id,
                    version=r.entry.version,
                    position=r.position,
                    event_type=r.entry.event_type,
                    message_id=r.entry.message_id,
                    org=r.entry.actor_org,
                )
                for r in rows
            ),
            replayed=True,
        )

    def _message_level(self, rows: Sequence[IndexRecord], message: Message) -> int:
        """The clearance level of what a recorded message recorded (its steps' levels)."""
        org, message_id = split_message_key(message.message_id)
        found = 0
        for r in rows:
            if r.entry.message_id != message_id or org not in (None, r.entry.actor_org):
                continue
            first, _ = self.index.stream_ends(r.entry.stream_id)
            subject = first.entry.classification if first is not None else r.entry.classification
            found = max(found, step_level(r.entry.classification, subject))
        return found

    # --- reading -------------------------------------------------------------------------

    @property
    def store_kind(self) -> str:
        return self.store.kind

    def last_position(self) -> int:
        try:
            return self.index.last_position()
        except (OperationalError, InterfaceError) as exc:
            raise StoreUnavailable(first_line(exc)) from exc

    def history(
        self,
        *,
        after: int = 0,
        limit: int = 1000,
        stream_id: UUID | None = None,
        recent: bool = False,
        stop: int | None = None,
    ) -> list[HistoryItem]:
        """Events with their index rows, in global order. ``recent``: from memory when this
        process wrote them last (:mod:`mlob.recent`): for readers that are woken by every
        append of any process (the live feed), as another process's newer events may be
        missing from that answer until the wake-up. ``stop``: the reader needs every event up
        to that position (the answer may still hold later ones)."""
        if recent and stream_id is None:
            held = self.recent.after(after, limit, stop)
            if held is not None:
                return held
        rows = self.index.index_rows(after=after, limit=limit, stream_id=stream_id)
        if not rows:
            return []
        if stream_id is not None:
            # One stream: its own events by version (a position range would span everything
            # recorded between its first and last step).
            by_version = {s.originator_version: s for s in self.recorder.select_events(stream_id)}
            return [
                HistoryItem(
                    record=r,
                    event=cast(
                        MlobAggregate.Event,
                        self.mapper.to_domain_event(by_version[r.entry.version]),
                    ),
                )
                for r in rows
            ]
        notifications = {
            n.id: n
            for n in self.recorder.select_notifications(
                start=rows[0].position,
                stop=rows[-1].position,
                limit=rows[-1].position - rows[0].position + 1,
            )
        }
        return [
            HistoryItem(
                record=r,
                event=cast(
                    MlobAggregate.Event, self.mapper.to_domain_event(notifications[r.position])
                ),
            )
            for r in rows
        ]

    def history_at(self, positions: Sequence[int]) -> list[HistoryItem]:
        """The events at these positions (ascending) with their index rows: two queries,
        and only these events decoded (a reader that chose them from their markings)."""
        if not positions:
            return []
        rows = self.index.index_rows(
            after=positions[0] - 1, limit=len(positions), positions=positions
        )
        notifications = {n.id: n for n in self.index.notifications_at(positions)}
        return [
            HistoryItem(
                record=r,
                event=cast(
                    MlobAggregate.Event, self.mapper.to_domain_event(notifications[r.position])
                ),
            )
            for r in rows
        ]

    def thread_of(self, subject: UUID) -> tuple[str, str | None]:
        first, last = self.index.stream_ends(subject)
        if first is None or last is None:
            return "", None
        return first.entry.message_id, last.entry.message_id

    def load(self, cls: type[A], subject: UUID) -> A:
        try:
            aggregate = self.repository.get(subject)
        except AggregateNotFoundError:
            raise NotFound(
                "unknown_subject", f"no {cls.__name__} {subject}", "mlob store"
            ) from None
        if not isinstance(aggregate, cls):
            raise NotFound("unknown_subject", f"{subject} is not a {cls.__name__}", "mlob store")
        return aggregate
