"""What the HTTP layer needs from the application service.

The composition root (``mlob``) hands ``create_app`` a concrete service; the API never imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID


class StoreUnavailable(Exception):
    """The database cannot be reached right now; answered as 503, retry later."""


@dataclass(frozen=True)
class Message:
    """A client message: its id and the digest of its content (for idempotency)."""

    message_id: str
    digest: str


@dataclass(frozen=True)
class RecordedEvent:
    stream_id: UUID
    version: int
    position: int
    event_type: str
    message_id: str


@dataclass(frozen=True)
class Receipt:
    """What an append recorded; ``replayed`` when it was recorded before under the same ids."""

    events: tuple[RecordedEvent, ...]
    replayed: bool = False

    @property
    def positions(self) -> tuple[int, ...]:
        return tuple(e.position for e in self.events)


class HealthSource(Protocol):
    @property
    def store_kind(self) -> str: ...

    def last_position(self) -> int:
        """The position of the newest recorded event (0 when empty)."""
        ...


class MlobService(HealthSource, Protocol):
    """The interface the API uses."""

    def record(self, messages: Sequence[Message], work: Callable[[Any], Any]) -> Receipt:
        """Run ``work`` on a unit of work and append what it triggered, atomically."""
        ...

    def thread_of(self, subject: UUID) -> tuple[str, str | None]:
        """Message ids of the subject's first and latest events (``("", None)`` if none)."""
        ...
