"""What the HTTP layer needs from the application service.

The composition root (``mlob``) hands ``create_app`` a concrete service; the API never imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol
from uuid import UUID

from domain.envelope import Classification


class StoreUnavailable(Exception):
    """The database cannot be reached right now; answered as 503, retry later."""


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


@dataclass(frozen=True)
class MessageFact:
    """A recorded step that carries a message id: its stream, whose message it is, and the
    clearance level it is visible at."""

    stream_id: UUID
    org: str
    level: int


@dataclass(frozen=True)
class RecordedEvent:
    stream_id: UUID
    version: int
    position: int
    event_type: str
    message_id: str
    #: The organisation whose message it is (messages are named by both).
    org: str = ""


@dataclass(frozen=True)
class Receipt:
    """What an append recorded; ``replayed`` when it was recorded before under the same ids."""

    events: tuple[RecordedEvent, ...]
    replayed: bool = False

    @property
    def positions(self) -> tuple[int, ...]:
        return tuple(e.position for e in self.events)


class EventMark(NamedTuple):
    """An event as the index marks it, not decoded: where it stands in the order, its stream
    and step, its type, and what decides who may see it (regions, classification, exercise)."""

    position: int
    stream_id: UUID
    version: int
    event_type: str
    regions: tuple[str, ...]
    classification: str
    exercise: bool


@dataclass(frozen=True)
class LoggedEvent:
    """One recorded event as the history and the feeds show it: its index row and the event."""

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
    event: Any  # the domain event


@dataclass(frozen=True)
class Principal:
    """Who is calling: organisation, role and clearance, from the bearer token."""

    org: str
    role: str
    clearance: Classification = Classification.UNCLASSIFIED
    person: str | None = None
    token_id: UUID | None = None
    #: When the token stops being valid (None: never); the live feed closes its sockets then.
    expires_at: datetime | None = None


@dataclass(frozen=True)
class IssuedToken:
    token_id: UUID
    token: str  # shown once; only its hash is stored


class HealthSource(Protocol):
    @property
    def store_kind(self) -> str: ...

    def last_position(self) -> int:
        """The position of the newest recorded event (0 when empty)."""
        ...


class MlobService(HealthSource, Protocol):
    """The interface the API uses."""

    def record(
        self,
        messages: Sequence[Message],
        work: Callable[[Any], Any],
        subjects: Sequence[UUID] = (),
        creates: Sequence[UUID] = (),
    ) -> Receipt:
        """Run ``work`` on a unit of work and append what it triggered, atomically;
        ``subjects`` names the streams it will read (a hint for fetching them together),
        ``creates`` those of them it means to create (a hint: no read is needed to find
        them absent; the store refuses them if they exist after all)."""
        ...

    async def record_async(
        self,
        messages: Sequence[Message],
        work: Callable[[Any], Any],
        subjects: Sequence[UUID] = (),
        creates: Sequence[UUID] = (),
    ) -> Receipt:
        """As :meth:`record`, for the event loop: no thread waits while the writer works."""
        ...

    def thread_of(self, subject: UUID) -> tuple[str, str | None]:
        """Message ids of the subject's first and latest events (``("", None)`` if none)."""
        ...

    # --- tokens --------------------------------------------------------------------------------

    def authenticate(self, token: str) -> Principal | None: ...

    def recent_principal(self, token: str) -> Principal | None:
        """The principal of a token seen valid moments ago, from memory only (no I/O)."""
        ...

    def issue_token(
        self,
        by: Principal,
        *,
        org: str,
        role: str,
        clearance: Classification,
        expires_at: datetime | None = None,
        label: str = "",
    ) -> IssuedToken: ...

    def revoke_token(self, by: Principal, token_id: UUID, reason: str) -> None: ...

    def tokens(self) -> list[dict[str, Any]]: ...

    # --- refusals ------------------------------------------------------------------------------

    def log_rejection(self, rejection: dict[str, Any]) -> None: ...

    def rejections(
        self, *, after: int = 0, limit: int = 1000, subject: str | None = None
    ) -> list[dict[str, Any]]: ...

    # --- reads ---------------------------------------------------------------------------------

    # --- read models (projections) -------------------------------------------------------------

    def now(self) -> datetime:
        """The service's clock (the board's time in step and overdue flags)."""
        ...

    def board_targets(self) -> Any:
        """The per-step targets of the request board (:class:`projections.readmodels.Targets`)."""
        ...

    def view_rows(self, name: str, level: int | None = None) -> list[dict[str, Any]]:
        """The rows of one projection (``requests``, ``capacities``, ``incidents``): each
        subject's row at the highest clearance level at most ``level`` (None: its top row)."""
        ...

    def view_rows_every_level(self, name: str) -> list[dict[str, Any]]:
        """Every row of one projection, each subject's at every level it is kept at."""
        ...

    def view_positions(self) -> dict[str, int]:
        """Each projection's position: the last event position it has processed."""
        ...

    def wait_for_views(self, position: int, names: Sequence[str], timeout: float) -> bool:
        """Wait at most ``timeout`` s until the named projections reached ``position``."""
        ...

    def view_changes(self, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        """Changed read-model rows (and clock-driven board changes), in order."""
        ...

    def view_rows_by_id(
        self, name: str, ids: Sequence[str], level: int | None = None, every_level: bool = False
    ) -> list[dict[str, Any]]:
        """The current rows of one projection with these ids (absent ones left out), selected
        by level as :meth:`view_rows`, or every level's row of each."""
        ...

    def load_leveled(self, cls: type[Any], subject: UUID) -> Any:
        """A subject's states by clearance level (:class:`projections.levels.Leveled`),
        folded from its stream; None when there is no such subject of this class."""
        ...

    # --- feeds -------------------------------------------------------------------------------

    def logged_events(
        self, after: int, limit: int, stop: int | None = None, *, recent: bool = False
    ) -> list[LoggedEvent]:
        """Recorded events after position ``after`` (up to ``stop``), in order. ``recent``:
        this process's newest appends may be answered from memory, so the answer may end
        before another process's newest events: only for readers woken by every append."""
        ...

    def event_marks(self, after: int, limit: int, stop: int | None = None) -> list[EventMark]:
        """The index's markings of the events after position ``after`` (up to ``stop``), in
        order; nothing decoded (see :meth:`logged_at`)."""
        ...

    def logged_at(self, positions: Sequence[int]) -> list[LoggedEvent]:
        """The recorded events at these positions (ascending), decoded: a reader decodes only
        what it chose from their markings."""
        ...

    def rows_as_of(
        self, moment: datetime, axis: str, checkpoints: bool = True
    ) -> tuple[dict[str, list[dict[str, Any]]], int]:
        """Every projection's rows as they were at ``moment``, as ``recorded`` by then or as
        ``occurred`` by then (from the nearest picture checkpoint and the events after it, or
        with ``checkpoints=False`` from the whole history); and the last position used."""
        ...

    def subject_classification(self, stream_id: UUID) -> str | None:
        """The classification a subject was created with (None: no such subject)."""
        ...

    def note_reads(self, entries: Sequence[dict[str, Any]]) -> None:
        """Log that a reader opened or received items above ongerubriceerd (never blocks):
        dicts with org, role, person, token_id, route, item, kind, classification."""
        ...

    def access_log(
        self, *, after: int = 0, limit: int = 1000, item: str | None = None
    ) -> list[dict[str, Any]]:
        """The read-access log, oldest first."""
        ...

    def message_facts(self, message_ids: Sequence[str]) -> dict[str, list[MessageFact]]:
        """Per message id, each recorded step carrying it: stream, organisation, level."""
        ...

    def stream_markings(self, stream_id: UUID, upto: int) -> list[tuple[int, str, str]]:
        """A stream's steps up to version ``upto``: version, classification, event type."""
        ...

    def stream_events(self, stream_id: UUID) -> list[LoggedEvent]:
        """Every recorded event of one stream, in order."""
        ...

    def last_change(self) -> int:
        """The sequence number of the newest read-model change."""
        ...

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (from any thread) when events were appended here or elsewhere,
        or read models changed; it must be cheap and thread-safe."""
        ...
