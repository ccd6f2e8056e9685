"""A recorded event, as every reader of the history sees it: one shape.

Its index row (position, stream, version, type, times, actor, authority, regions, marking,
exercise flag, message and threading) and the domain event (None where only the index row was
read, as in a replayed receipt). The write side answers an append with the recorded events
(:class:`Receipt`); the history, the feeds and the audit read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID


@dataclass(frozen=True)
class LoggedEvent:
    """One recorded event: its index row and the event."""

    position: int
    stream_id: UUID
    version: int
    event_type: str
    occurred_at: datetime
    recorded_at: datetime
    actor_org: str
    actor_role: str
    actor_person: str | None
    authority: str | None
    regions: tuple[str, ...]
    classification: str
    exercise: bool
    message_id: str
    correlation_id: str | None
    causation_id: str | None
    #: The domain event (None: only the index row was read); the row says which event it is.
    event: Any = field(default=None, compare=False)
    #: The API type (domain/vocabulary.py): what every answer, frame and export names it. The
    #: reading service names it (a booking's step may need the step before); "" until then.
    api_type: str = field(default="", compare=False)

    @property
    def org(self) -> str:
        """The organisation whose message it is (messages are named by both)."""
        return self.actor_org

    def replaced(self, **changes: Any) -> LoggedEvent:
        """A copy with ``changes``, as ``dataclasses.replace`` makes it, at a fraction of its
        cost: that runs the generated ``__init__`` (one ``object.__setattr__`` per field of a
        frozen class) after a look at every field, 4-8 µs for these 18 fields — once per event
        on the write path (placing it) and again in the feed (naming it), 5-9 % of the
        server's CPU per event in batches (docs/performance.md, issue 25, branch write3). The
        class has no ``__post_init__`` and its fields take any value, so a copy of the
        instance's fields with the changes is the same object."""
        unknown = changes.keys() - _LOGGED_FIELDS
        if unknown:
            raise TypeError(f"LoggedEvent has no field {sorted(unknown)[0]!r}")
        copy = object.__new__(type(self))
        vars(copy).update(vars(self), **changes)
        return copy


_LOGGED_FIELDS = frozenset(f.name for f in fields(LoggedEvent))


@dataclass(frozen=True)
class MessageFact:
    """A recorded step that carries a message id: its stream, whose message it is, and the
    clearance level it is visible at (:func:`domain.policy.step_level`)."""

    stream_id: UUID
    org: str
    level: int


class EventMark(NamedTuple):
    """An event as the index marks it, not decoded: where it stands in the order, its stream
    and step, its type, and what decides who may see it (regions, classification, exercise).
    A replay chooses from these which events to decode (the fields of :class:`LoggedEvent`
    that visibility needs, read without the event)."""

    position: int
    stream_id: UUID
    version: int
    event_type: str
    regions: tuple[str, ...]
    classification: str
    exercise: bool


@dataclass(frozen=True)
class Receipt:
    """What an append recorded; ``replayed`` when it was recorded before under the same ids."""

    events: tuple[LoggedEvent, ...]
    replayed: bool = False

    @property
    def positions(self) -> tuple[int, ...]:
        return tuple(e.position for e in self.events)


@dataclass(frozen=True)
class RowFilter:
    """What the event index's columns can answer of a history's filters, asked in the store
    (so a selective filter does not read every row): stored topics (an API type's,
    :func:`domain.vocabulary.types_of_topic` the other way round), the acting organisation,
    the occurred period (``occurred_from`` inclusive, ``occurred_to`` exclusive) and the
    exercise flag (None: any)."""

    event_types: tuple[str, ...] = ()
    actor_org: str | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None
    exercise: bool | None = None
