"""What the HTTP layer needs from the application service: the protocol ``mlob`` implements.

The composition root (``mlob``) hands ``create_app`` a concrete service; the API never imports it.
The write model's own types (posts, commands, receipts, the recorded event) are the domain's
(domain/commands.py, domain/recorded.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, NotRequired, Protocol, TypedDict, Unpack
from uuid import UUID

from domain.commands import Post
from domain.envelope import Classification
from domain.recorded import EventMark, LoggedEvent, MessageFact, Receipt, RowFilter
from projections.recent import RecentEvents

__all__ = ["EventMark", "LoggedEvent", "MessageFact", "Receipt", "RowFilter"]


class StoreUnavailable(Exception):
    """The database cannot be reached right now and nothing was recorded; answered as 503,
    retry later."""


class OutcomeUnknown(Exception):
    """A commit was sent, its answer was lost, and the store could not tell within seconds
    whether it was recorded; answered as 504. Retrying with the same message ids is safe: a
    recorded message answers its original receipt."""


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


class TokenGrant(TypedDict):
    """What a token lets its bearer act as, as an administrator asks for it (the body of
    ``POST /v1/tokens``): the keyword arguments of :meth:`MlobService.issue_token`, handed on
    to ``domain.access.AccessToken.issue``."""

    org: str
    role: str
    clearance: Classification
    #: When the token stops being valid (None, the default: never).
    expires_at: NotRequired[datetime | None]
    label: NotRequired[str]


@dataclass(frozen=True)
class IssuedToken:
    token_id: UUID
    token: str  # shown once; only its hash is stored


@dataclass(frozen=True)
class PageQuery:
    """What one reader asks of a projection's list: built once by a list route, handed through
    the service to the read store, which writes it as SQL (mlob/read/listing.py). A page reads
    ``after`` and ``limit``; a count, a summary or the board's counts the same selection
    without them."""

    #: The reader's clearance level: each subject's row at the highest level at most this.
    level: int
    #: Filter columns that must equal a value (``exercise`` takes a bool).
    equals: Mapping[str, Any] = field(default_factory=dict)
    #: The reader's scope keys (None: every row): a row shares at least one.
    scope: frozenset[str] | None = None
    #: Keys a row must all have (``region=``).
    keys: Sequence[str] = ()
    #: A text the ``search`` column contains (lower case), or ...
    text: str | None = None
    #: ... one of these ids (with ``text``: either matches).
    ids: Sequence[str] = ()
    #: The (sort key, id) of the last row of the page before (the board's: its place, id).
    after: tuple[str, str] | None = None
    limit: int = 50
    #: A filter column and the values one of which it must hold (``incident_id IN (...)``).
    among: tuple[str, Sequence[str]] | None = None

    def where_in(self, column: str, values: Sequence[str]) -> PageQuery:
        """The same selection, narrowed to the rows whose ``column`` holds one of ``values``."""
        return replace(self, among=(column, tuple(values)))


class HealthSource(Protocol):
    @property
    def store_kind(self) -> str: ...

    def last_position(self) -> int:
        """The position of the newest recorded event (0 when empty)."""
        ...

    def readiness(self) -> dict[str, dict[str, Any]]:
        """The parts of this node's readiness the service knows, each with ``ok``."""
        ...


class MlobService(HealthSource, Protocol):
    """The interface the API uses."""

    def post(self, post: Post) -> Receipt:
        """Record ``post``'s commands atomically (raises the refusal that stopped it)."""
        ...

    async def post_async(self, post: Post) -> Receipt:
        """As :meth:`post`, for the event loop: no thread waits while the writer works."""
        ...

    # --- tokens --------------------------------------------------------------------------------

    def authenticate(self, token: str) -> Principal | None: ...

    @property
    def recent_tokens(self) -> Mapping[str, tuple[float, Principal]]:
        """Tokens seen valid moments ago: token -> (the ``time.monotonic()`` until which the
        entry answers, its principal). Memory only: no I/O, and no call on the hot post."""
        ...

    def issue_token(self, by: Principal, **grant: Unpack[TokenGrant]) -> IssuedToken:
        """Issue a token as ``grant`` asks, ``by`` an administrator (raises the refusal)."""
        ...

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

    def view_page(
        self, name: str, query: PageQuery
    ) -> tuple[list[dict[str, Any]], tuple[str, str] | None]:
        """One page of a projection's list, in its order, as ``query`` selects it in the store
        (:class:`PageQuery`: each subject's row at the highest level at most
        the reader's, filtered, after the (sort key, id) ``after``, at most ``limit``); and
        the key after which the next page starts (None: none follows)."""
        ...

    def view_count(self, name: str, query: PageQuery) -> int:
        """How many rows :meth:`view_page` would list in all (``after`` and ``limit`` aside)."""
        ...

    def view_among(
        self, name: str, query: PageQuery, column: str, values: Sequence[str]
    ) -> list[dict[str, Any]]:
        """The rows ``query`` selects whose ``column`` holds one of ``values``
        (``incident_id``: the requests of a page of incidents), unordered."""
        ...

    def board_page(self, query: PageQuery) -> tuple[list[dict[str, Any]], tuple[str, str] | None]:
        """One page of the request board's rows (those ``query`` selects on the board), most
        urgent first: the earliest deadline under the board targets first; ``query.after`` is
        a place in that order (ValueError: no place), and the place after which the next page
        starts is answered beside the rows."""
        ...

    def board_counts(self, query: PageQuery, now: datetime) -> tuple[int, int]:
        """The board's items ``query`` selects and those overdue at ``now``, exactly."""
        ...

    def view_summary(self, query: PageQuery) -> dict[str, Any]:
        """The picture's national summary (``projections.readmodels.national_summary``'s
        shape) counted in the store over the incidents and requests ``query`` selects."""
        ...

    def view_rows_every_level(self, name: str) -> list[dict[str, Any]]:
        """Every row of one projection, each subject's at every level it is kept at."""
        ...

    def view_positions(self) -> dict[str, int]:
        """Each projection's position: the last event position it has processed."""
        ...

    def view_state(self, names: Sequence[str]) -> tuple[dict[str, int], bool]:
        """Each projection's position, and whether any of these rebuild, read at once."""
        ...

    def views_rebuilding(self, names: Sequence[str]) -> bool:
        """Whether any of these projections serves rows of another code version while its
        rows are rebuilt (the previous rows are complete, only not of this code)."""
        ...

    def view_overview_rows(
        self, *, level: int, equals: Mapping[str, Any]
    ) -> dict[str, list[dict[str, Any]]]:
        """The rows the capacity overview is computed from (``capacities``, ``requests``),
        selected in the store: each subject's row at the highest level at most ``level``; the
        capacities and the requests whose wants count as demand whose columns equal
        ``equals``, and the requests (of any exercise scope) capacities are made ready for."""
        ...

    def view_scarcity_rows(
        self, *, level: int, equals: Mapping[str, Any]
    ) -> dict[str, list[dict[str, Any]]]:
        """The rows the scarcity advice is computed from (``capacities``, ``requests``,
        ``incidents``), selected in the store as :meth:`view_overview_rows` does: the
        capacities and demanding requests whose columns equal ``equals``, and their incidents."""
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

    #: The events this process committed last, as the writer handed them over (not named:
    #: ``api_type`` ""), held for the live feed (:class:`projections.recent.RecentEvents`).
    recent: RecentEvents[LoggedEvent]

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

    def index_page(
        self,
        after: int,
        until: int,
        limit: int,
        *,
        stream_id: UUID | None = None,
        where: RowFilter | None = None,
    ) -> list[LoggedEvent]:
        """The index rows after position ``after`` up to ``until``, of one stream (None: of
        every stream) and as ``where`` narrows them, in order, at most ``limit``: nothing
        decoded (``event`` None, ``api_type`` ""; :meth:`logged_at` decodes the chosen)."""
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

    def on_change(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` (from any thread) when events were appended here or elsewhere,
        or read models changed; it must be cheap and thread-safe."""
        ...

    def off_change(self, callback: Callable[[], object]) -> None:
        """No longer call ``callback`` (a feed hub that closed)."""
        ...
