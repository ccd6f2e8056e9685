"""The write model's vocabulary: what a post asks the application to record.

A :class:`Post` is one atomic append by one caller: its client messages (for idempotency) and
its commands, in order. A :class:`Command` is one domain step on one subject, its data
validated by the entry point; :func:`domain.posting.execute` runs a post's commands on a
:class:`Unit` of work. Pure types: the entry points build them, the application runs them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal, Protocol
from uuid import UUID

from domain.envelope import Envelope
from domain.policy import Reader

SubjectKind = Literal["request", "incident", "capacity"]


@dataclass(frozen=True)
class Message:
    """A client message, for idempotency: ``message_id`` is the key the store keeps it under
    (:func:`message_key`: the acting organisation's, so organisations never share ids), the
    digest of its content, and the clearance level of whoever sends it (a reused id of a
    message above it is answered without saying so)."""

    message_id: str
    digest: str
    level: int = 4


#: Separates the organisation from its message id in the key (organisation codes have none).
MESSAGE_KEY_SEPARATOR = "/"


def message_key(org: str, message_id: str) -> str:
    """Idempotency is per (acting organisation, message id)."""
    return f"{org}{MESSAGE_KEY_SEPARATOR}{message_id}"


def split_message_key(key: str) -> tuple[str | None, str]:
    """The organisation and message id of a key (a key without an organisation — the store's
    own callers and tests — names the id for any organisation)."""
    org, separator, message_id = key.partition(MESSAGE_KEY_SEPARATOR)
    return (org, message_id) if separator else (None, key)


class Unit(Protocol):
    """A unit of work: the aggregates one append reads and changes, saved together or not at
    all. What a command's handler may do: load aggregates and add new ones."""

    #: The clearance level of whoever posts (set by :func:`domain.posting.execute`): a step
    #: that chooses what it acts on (a line's bookings) chooses among what that reader sees.
    reader_level: int

    def get(self, cls: type[Any], subject: UUID, expected_version: int | None = None) -> Any: ...

    def add(self, aggregate: Any) -> None: ...

    def peek(self, subject: UUID) -> Any:
        """The subject's aggregate as it stands in this append, or None (no rules applied)."""
        ...

    def peek_at(self, subject: UUID, level: int) -> Any:
        """The subject as the steps at or below clearance ``level`` leave it (None: none)."""
        ...


@dataclass(frozen=True)
class Command:
    """One step a caller asks for: item ``index`` of its post."""

    index: int
    #: The API type of the step (a key of :data:`domain.handlers.HANDLERS`).
    type: str
    subject: UUID
    subject_kind: SubjectKind
    #: Whether the step creates its subject.
    creates: bool
    #: The step's validated data (attributes as the type's data model names them).
    data: Any
    #: The step's envelope; threading (correlation, causation) is filled in when it runs.
    envelope: Envelope
    expected_version: int | None = None

    @cached_property
    def capacity_id(self) -> UUID | None:
        """The capacity the step books, if any. Looked up once, among the data's fields: asking
        a pydantic model for an attribute it lacks raises and catches an AttributeError inside
        pydantic, and a post asked it three times per command (4 % of a batch's CPU)."""
        fields = getattr(self.data, "__dict__", None)
        if fields is None:
            found = getattr(self.data, "capacity_id", None)
        else:
            found = fields.get("capacity_id")
        return found if isinstance(found, UUID) else None


@dataclass(frozen=True)
class Post:
    """An atomic append: every command is recorded, or none."""

    reader: Reader
    messages: Sequence[Message]
    commands: Sequence[Command]

    @property
    def subjects(self) -> list[UUID]:
        """The streams the post writes when accepted: its subjects and the capacities it
        books (the writer may take them from its cache; see mlob/write/writer.py)."""
        booked = [b for c in self.commands if (b := c.capacity_id) is not None]
        return [c.subject for c in self.commands] + booked

    @property
    def creates(self) -> list[UUID]:
        return [c.subject for c in self.commands if c.creates]
