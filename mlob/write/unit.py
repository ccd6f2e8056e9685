"""The unit of work: the aggregates one append reads and changes, saved together or not at all.

Every append runs on one (domain.commands.Unit), inside a group of appends that share one
commit (mlob/write/writer.py); a direct append is a group of one. The unit works on the group's
aggregates in place (copying every aggregate for every append would cost more than the rest
of the append); if the append is refused, the group rebuilds what it touched
(:meth:`Group.discard`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import UTC
from typing import Any, Protocol, TypeVar, cast
from uuid import UUID

import orjson

from domain.base import MlobAggregate
from domain.envelope import Authority
from domain.errors import Conflict, NotFound, version_conflict
from domain.recorded import LoggedEvent
from projections.levels import state_at

A = TypeVar("A", bound=MlobAggregate)


class Streams(Protocol):
    """Where a group reads its aggregates (the group writer)."""

    def fresh(
        self, subjects: Sequence[UUID], stored_after: list[Any] | None = None
    ) -> dict[UUID, MlobAggregate]: ...

    def forget(self, subject: UUID) -> None: ...

    def events_of(self, subject: UUID) -> Iterable[Any]: ...


class Group:
    """The aggregates as the appends of one group have left them so far."""

    def __init__(self, streams: Streams) -> None:
        self.streams = streams
        self.state: dict[UUID, MlobAggregate] = {}
        self.missing: set[UUID] = set()
        self.accepted_events: dict[UUID, list[MlobAggregate.Event]] = {}

    def fetch(self, subjects: Sequence[UUID], stored_after: list[Any] | None = None) -> None:
        """Bring these streams up to date from the store, in one query (or from the events
        ``stored_after`` their cached versions, when those were read already)."""
        wanted = [
            s for s in dict.fromkeys(subjects) if s not in self.state and s not in self.missing
        ]
        if not wanted:
            return
        fresh = self.streams.fresh(wanted, stored_after)
        for subject in wanted:
            if subject in fresh:
                self.state[subject] = fresh[subject]
            else:
                self.missing.add(subject)

    def clean(self, subject: UUID) -> MlobAggregate | None:
        if subject not in self.state and subject not in self.missing:
            self.fetch([subject])
        return self.state.get(subject)

    def accept(self, unit: UnitOfWork, recorded: list[LoggedEvent]) -> None:
        self.state.update(unit.touched)
        for e in recorded:
            self.accepted_events.setdefault(e.stream_id, []).append(e.event)
            self.missing.discard(e.stream_id)

    def events_of(self, subject: UUID) -> list[Any]:
        """A stream's events as this group has it: the stored ones, then those earlier appends
        of the group were accepted with (not committed yet)."""
        return [*self.streams.events_of(subject), *self.accepted_events.get(subject, [])]

    def discard(self, unit: UnitOfWork) -> None:
        """Undo a refused append: rebuild each aggregate it touched from the store plus the
        events earlier appends of this group were accepted with."""
        for subject, aggregate in unit.touched.items():
            aggregate.collect_events()
            self.streams.forget(subject)
            self.state.pop(subject, None)
            self.missing.discard(subject)
            rebuilt = self.streams.fresh([subject]).get(subject)
            for event in self.accepted_events.get(subject, []):
                rebuilt = cast(MlobAggregate, event.mutate(rebuilt))
            if rebuilt is not None:
                self.state[subject] = rebuilt
            else:
                self.missing.add(subject)


class UnitOfWork:
    """One append's view of its group (domain.commands.Unit)."""

    def __init__(self, group: Group) -> None:
        self.group = group
        self.touched: dict[UUID, MlobAggregate] = {}
        #: The clearance level of the post's reader (domain.posting.execute sets it); the
        #: installation's own appends see everything.
        self.reader_level = 4

    def get(self, cls: type[A], subject: UUID, expected_version: int | None = None) -> A:
        aggregate = self.touched.get(subject)
        if aggregate is None:
            aggregate = self.group.clean(subject)
            if aggregate is None:
                raise NotFound(
                    "unknown_subject", "mlob store", subject_kind=cls.__name__, subject=subject
                )
            self.touched[subject] = aggregate
        if not isinstance(aggregate, cls):
            raise NotFound(
                "unknown_subject",
                "mlob store",
                text="wrong_kind",
                subject=subject,
                subject_kind=cls.__name__,
            )
        if expected_version is not None and aggregate.version != expected_version:
            raise version_conflict(f"{cls.__name__} {subject}", expected_version, aggregate.version)
        return aggregate

    def thread_of(self, subject: UUID) -> tuple[str, str | None]:
        aggregate = self.peek(subject)
        return ("", None) if aggregate is None else aggregate.thread

    def peek(self, subject: UUID) -> MlobAggregate | None:
        return self.touched.get(subject) or self.group.clean(subject)

    def peek_at(self, subject: UUID, level: int) -> MlobAggregate | None:
        return state_at(self.peek(subject), level, self.group.events_of)

    def add(self, aggregate: MlobAggregate) -> None:
        if aggregate.version == aggregate.INITIAL_VERSION and self.peek(aggregate.id) is not None:
            raise Conflict("subject_exists", "mlob store", subject=aggregate.id)
        self.touched[aggregate.id] = aggregate

    def collect(self) -> list[LoggedEvent]:
        """The events this append triggered, as they will be recorded (refusing an envelope
        that cannot be true); the aggregates keep them pending until :meth:`clear`."""
        return [
            recorded(event, aggregate)
            for aggregate in self.touched.values()
            for event in cast(list[MlobAggregate.Event], aggregate.pending_events)
        ]

    def clear(self) -> None:
        for aggregate in self.touched.values():
            aggregate.collect_events()


def recorded(event: MlobAggregate.Event, aggregate: MlobAggregate) -> LoggedEvent:
    """The event as it will be recorded, but for its position (0 until the store gives it
    one), its times in UTC as the store gives them back."""
    envelope = event.envelope
    envelope.check(now=event.timestamp)
    authority = envelope.authority
    return LoggedEvent(
        position=0,
        stream_id=event.originator_id,
        version=event.originator_version,
        event_type=type(event).TOPIC,
        occurred_at=envelope.occurred_at.astimezone(UTC),
        recorded_at=event.timestamp.astimezone(UTC),
        actor_org=envelope.actor.org,
        actor_role=envelope.actor.role,
        actor_person=envelope.actor.person,
        authority=None if authority is None else _authority_text(authority),
        regions=tuple(sorted(set(aggregate.regions_concerned()))),
        classification=envelope.classification.value,
        exercise=envelope.exercise,
        message_id=envelope.message_id,
        correlation_id=envelope.correlation_id,
        causation_id=envelope.causation_id,
        event=event,
    )


def _authority_text(authority: Authority) -> str:
    return orjson.dumps(dataclasses.asdict(authority), option=orjson.OPT_SORT_KEYS).decode()
