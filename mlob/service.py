"""The application service handed to the API: recording, tokens, refusals and reads."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import UTC, datetime
from threading import Lock
from typing import Any, Literal, TypeVar, Unpack, cast
from uuid import UUID, uuid4

import psycopg
from eventsourcing.application import AggregateNotFoundError

from api.ports import (
    IssuedToken,
    MessageFact,
    PageQuery,
    Principal,
    StoreUnavailable,
    TokenGrant,
)
from domain import vocabulary
from domain.access import AccessToken, unknown_token
from domain.base import MlobAggregate
from domain.capacity import Capacity
from domain.commands import Message, Post, message_key
from domain.envelope import Actor, Envelope
from domain.incident import Incident
from domain.recorded import EventMark, LoggedEvent, Receipt, RowFilter
from domain.request import AssistanceRequest, LineBooking
from mlob.audit.accesslog import AccessLog
from mlob.read import bounded, listing
from mlob.read.pictures import rows_as_of
from mlob.read.readstore import view_channel
from mlob.runners.projector import Projections, checkpoint_age
from mlob.store.notify import Listener
from mlob.write.application import MlobApplication
from mlob.write.writer import STORE_ERRORS, first_line
from projections.levels import Leveled, fold
from projections.readmodels import Targets, summary_of_counts

A = TypeVar("A", bound=MlobAggregate)

log = logging.getLogger("mlob.service")

TOKEN_PREFIX = "mlob"
#: A valid token is remembered this long, so a burst of requests does not reload it each time;
#: a revocation therefore takes effect within this many seconds on other server processes.
TOKEN_CACHE_SECONDS = 2.0

CREATION_TYPES: dict[type[MlobAggregate], tuple[str, ...]] = {
    AssistanceRequest: (
        AssistanceRequest.Created.TOPIC,
        AssistanceRequest.PhonedIn.TOPIC,
    ),
    Incident: (Incident.Created.TOPIC,),
    Capacity: (Capacity.Created.TOPIC,),
    AccessToken: (AccessToken.Created.TOPIC,),
}


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_token(token: str) -> tuple[UUID, str] | None:
    parts = token.split("_")
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    try:
        return UUID(hex=parts[1]), parts[2]
    except ValueError:
        return None


F = TypeVar("F", bound=Callable[..., Any])


def store_errors_as_unavailable(method: F) -> F:
    """A database that is away answers 503 (retry), never 500."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except STORE_ERRORS as exc:
            raise StoreUnavailable(first_line(exc)) from exc

    return wrapper  # type: ignore[return-value]


#: Seconds a projection run here may keep a lag without moving before the node is not ready.
STUCK_AFTER = 30.0
#: Seconds the group writer may spend on one group before the node is not ready: its appends
#: wait behind it (two nodes writing the same streams can hold one in conflicts for minutes),
#: and a balancer should send them to another node meanwhile.
WRITER_STUCK_AFTER = 10.0


class Service:
    """What the API needs, over one :class:`MlobApplication`."""

    def __init__(self, app: MlobApplication, clock: Callable[[], datetime] | None = None) -> None:
        self.app = app
        #: The live feed reads this process's newest commits here (api.ports.MlobService).
        self.recent = app.recent
        self.clock = clock or (lambda: datetime.now(UTC))
        #: Tokens seen valid: token -> (the ``time.monotonic()`` until which the entry answers,
        #: the principal). Read without a lock (the API's post reads it directly), written
        #: under ``_lock``.
        self.recent_tokens: dict[str, tuple[float, Principal]] = {}
        self._lock = Lock()
        self.projections: Projections | None = None
        self._listeners: list[Callable[[], object]] = []
        self._listener: Listener | None = None
        self._access: AccessLog | None = None  # started on the first classified read
        #: Readiness: each projection's position and when it last moved (or had no lag).
        self._moved: dict[str, tuple[int, float]] = {}
        self.stuck_after = STUCK_AFTER
        #: Subscriptions and alerts (mlob/subscriptions.py), when the composition root set them.
        self.webhooks: Any = None
        self.writer_stuck_after = WRITER_STUCK_AFTER
        #: A post, for the event loop: the group writer takes it directly (no hop here).
        self.post_async: Callable[[Post], Coroutine[Any, Any, Receipt]] = app.writer.post_async

    def attach_projections(self, projections: Projections) -> None:
        """The composition root hands over the read models; appends then wake them (before
        the feeds): their runners' wake-ups are the writer's after-commit hooks themselves."""
        if self.projections is not None:
            for wake in self.projections.wakes:
                self.app.after_commit.remove(wake)
        self.projections = projections
        self.app.after_commit[:0] = projections.wakes

    def _changed(self) -> None:
        for callback in list(self._listeners):
            with contextlib.suppress(RuntimeError):  # a reader's event loop that has closed
                callback()

    def on_change(self, callback: Callable[[], object]) -> None:
        self._listeners.append(callback)
        # Woken by this process's appends straight from the writer (after the projections).
        self.app.after_commit.append(callback)
        if self.projections is not None:
            self.projections.on_progress = self._changed
        if self._listener is None and self.app.store.kind == "postgresql":
            # Appends and projection changes of other processes wake this one too.
            channels = [self.app.recorder.channel_name, view_channel(self.app.store)]  # type: ignore[attr-defined]
            self._listener = Listener(
                self.app.store.connect_info(), channels, self._changed, inspect=self._foreign_write
            )
            self._listener.start()

    def off_change(self, callback: Callable[[], object]) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(callback)
        with contextlib.suppress(ValueError):
            self.app.after_commit.remove(callback)

    def _foreign_write(self, notify: psycopg.Notify | None) -> bool:
        """Whether a notification should wake this process's readers. Its own appends woke
        them already (after the commit, with the events held in memory: waking them on
        the NOTIFY too would often have them read before that). Another process's append
        (or a LISTEN connection that was away) means what this process holds of the newest
        events may no longer reach the store's newest (projections.recent)."""
        recorder: Any = self.app.recorder
        if notify is not None and notify.channel != recorder.channel_name:
            return True  # a read model changed
        if notify is not None and notify.pid in recorder.writer_pids:
            return False
        self.app.recent.clear()
        return True

    def close(self) -> None:
        if self.webhooks is not None:
            self.webhooks.close()
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
        if self._access is not None:
            self._access.close()
            self._access = None

    # --- the read-access log -----------------------------------------------------------------

    def _access_log(self) -> AccessLog:
        with self._lock:
            if self._access is None:
                self._access = AccessLog(self.app.store)
            return self._access

    def note_reads(self, entries: Sequence[dict[str, Any]]) -> None:
        if entries:
            self._access_log().note(entries)

    @store_errors_as_unavailable
    def access_log(
        self, *, after: int = 0, limit: int = 1000, item: str | None = None
    ) -> list[dict[str, Any]]:
        return self._access_log().entries(after=after, limit=limit, item=item)

    # --- recording -------------------------------------------------------------------------

    @property
    def store_kind(self) -> str:
        return self.app.store_kind

    def last_position(self) -> int:
        return self.app.last_position()

    def readiness(self) -> dict[str, dict[str, Any]]:
        """What this node's readiness rests on, each part with ``ok``: the store answers; the
        projections this process runs move (one whose lag has not shrunk for ``STUCK_AFTER``
        seconds is stuck); LISTEN is connected or the readers poll; the newest signed chain
        checkpoint's age. The feed hub's part is the API's (``FeedHub.status``)."""
        checks: dict[str, dict[str, Any]] = {}
        try:
            top = self.last_position()
            checks["store"] = {"ok": True, "kind": self.store_kind, "last_position": top}
            status = self.projections.status() if self.projections is not None else []
            # What the runners here have seen counts, written or not (a runner writes its
            # position lazily while the events are none of its business).
            runners = self.projections.positions() if self.projections is not None else {}
            age = checkpoint_age(self.projections.store) if self.projections is not None else None
        except Exception as exc:  # any failure to read is a store that does not answer
            # The driver's text names hosts: in the log, not in an unauthenticated answer.
            log.warning("readiness: the store does not answer: %s", first_line(exc))
            checks["store"] = {"ok": False, "kind": self.store_kind, "reason": "unreachable"}
            return checks
        now = time.monotonic()
        lags, stuck = {}, []
        for row in status:
            name = row["name"]
            position = max(row["position"], runners.get(name, 0))
            lag = max(0, top - position)
            lags[name] = lag
            seen = self._moved.get(name)
            if seen is None or seen[0] != position or lag == 0:
                self._moved[name] = (position, now)
            elif (row["active_here"] or row["failing_here"]) and now - seen[1] > self.stuck_after:
                stuck.append(name)
        in_process = any(row["active_here"] for row in status)
        checks["projections"] = {
            "ok": not stuck,
            "run_here": in_process,
            "lag": lags,
            **({"stuck": stuck} if stuck else {}),
        }
        if self.app.store.kind == "postgresql":
            listening = self._listener is not None and self._listener.connected
            # Without LISTEN (not yet needed, or reconnecting) the hub and runners poll.
            checks["listen"] = {"ok": True, "state": "connected" if listening else "polling"}
        checks["chain_checkpoint"] = {"ok": True, "age_s": None if age is None else round(age)}
        busy = self.app.writer_busy_for()
        checks["writer"] = {"ok": busy <= self.writer_stuck_after, "busy_s": round(busy, 1)}
        return checks

    @store_errors_as_unavailable
    def post(self, post: Post) -> Receipt:
        return self.app.post(post)

    # --- tokens ----------------------------------------------------------------------------

    @store_errors_as_unavailable
    def authenticate(self, token: str) -> Principal | None:
        now = time.monotonic()
        recent = self.recent_tokens.get(token)
        if recent is not None and now < recent[0]:
            return recent[1]
        parsed = parse_token(token)
        if parsed is None:
            return None
        token_id, secret = parsed
        # Only a token stream is loaded: any other id (a request, capacity or incident with a
        # long history) is refused after the same one-row index lookup as a random id.
        if not self._is_token(token_id):
            return None
        try:
            access: Any = self.app.repository.get(token_id)
        except AggregateNotFoundError:
            return None
        if not isinstance(access, AccessToken):
            return None
        if not secrets.compare_digest(access.secret_hash, secret_hash(secret)):
            return None
        at = self.clock()
        if not access.valid_at(at):
            with self._lock:
                self.recent_tokens.pop(token, None)
            return None
        principal = Principal(
            access.org, access.role, access.clearance, None, token_id, access.expires_at
        )
        until = now + TOKEN_CACHE_SECONDS
        if access.expires_at is not None:  # never past its expiry
            until = min(until, now + (access.expires_at - at).total_seconds())
        with self._lock:
            if len(self.recent_tokens) > 10_000:
                self.recent_tokens.clear()
            self.recent_tokens[token] = (until, principal)
        return principal

    def _is_token(self, stream_id: UUID) -> bool:
        """Whether a stream is an access token, from its index rows alone (looked up by
        stream and version, at the same cost for every id): no event is read or decoded."""
        first, _ = self.app.index.stream_ends(stream_id)
        return first is not None and first.event_type == AccessToken.Created.TOPIC

    def _admin_envelope(self, by: Principal) -> Envelope:
        return Envelope(
            actor=Actor(org=by.org, role=by.role, person=by.person),
            occurred_at=self.clock(),
            message_id=f"token-{uuid4()}",
        )

    @store_errors_as_unavailable
    def issue_token(self, by: Principal, **grant: Unpack[TokenGrant]) -> IssuedToken:
        token_id = uuid4()
        secret = secrets.token_urlsafe(32).replace("_", "-")
        envelope = self._admin_envelope(by)
        hashed = secret_hash(secret)
        self.app.record(
            [Message(message_key(by.org, envelope.message_id), envelope.message_id)],
            lambda unit: unit.add(
                AccessToken.issue(
                    envelope, token_id, secret_hash=hashed, admin_clearance=by.clearance, **grant
                )
            ),
        )
        return IssuedToken(token_id, f"{TOKEN_PREFIX}_{token_id.hex}_{secret}")

    @store_errors_as_unavailable
    def revoke_token(self, by: Principal, token_id: UUID, reason: str) -> None:
        """Revoke a token ``by`` may manage; any other id, a token of another organisation
        (but for LOCC) or above ``by``'s clearance answers the same 404 (``unknown_token``)."""
        if not self._is_token(token_id):
            raise unknown_token(token_id)
        envelope = self._admin_envelope(by)
        self.app.record(
            [Message(message_key(by.org, envelope.message_id), envelope.message_id)],
            lambda unit: unit.get(AccessToken, token_id).revoke(
                envelope, reason, admin_clearance=by.clearance
            ),
        )
        with self._lock:
            self.recent_tokens = {
                t: c for t, c in self.recent_tokens.items() if c[1].token_id != token_id
            }

    @store_errors_as_unavailable
    def tokens(self) -> list[dict[str, Any]]:
        """Every token of the installation (the API shows each admin only those it may manage,
        :func:`domain.policy.may_manage_token`)."""
        now = self.clock()
        listed = []
        for token_id in self.streams_of(AccessToken):
            access = self.app.load(AccessToken, token_id)
            listed.append(
                {
                    "token_id": str(token_id),
                    "org": access.org,
                    "role": access.role,
                    "clearance": access.clearance.value,
                    "label": access.label,
                    "issued_at": access.created_on.isoformat(),
                    "expires_at": access.expires_at.isoformat() if access.expires_at else None,
                    "revoked": access.revoked,
                    "valid": access.valid_at(now),
                }
            )
        return listed

    # --- refusals --------------------------------------------------------------------------

    @store_errors_as_unavailable
    def log_rejection(self, rejection: dict[str, Any]) -> None:
        self.app.index.log_rejection({"at": self.clock(), **rejection})

    @store_errors_as_unavailable
    def rejections(
        self, *, after: int = 0, limit: int = 1000, subject: str | None = None
    ) -> list[dict[str, Any]]:
        return self.app.index.rejections(after=after, limit=limit, subject=subject)

    # --- reads -----------------------------------------------------------------------------

    @store_errors_as_unavailable
    def load_leveled(self, cls: type[MlobAggregate], subject: UUID) -> Leveled | None:
        """A subject's states by clearance level, folded from its stream (None: no such
        subject of this class)."""
        events = cast(list[MlobAggregate.Event], list(self.app.events.get(subject)))
        leveled = fold(events)
        if leveled is None or not isinstance(leveled.top, cls):
            return None
        return leveled

    @store_errors_as_unavailable
    def streams_of(self, cls: type[MlobAggregate]) -> list[UUID]:
        return self.app.index.streams_created_as(CREATION_TYPES[cls])

    # --- read models -------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock()

    def _views(self) -> Projections:
        if self.projections is None:
            raise StoreUnavailable("the read models are not running in this process")
        return self.projections

    def board_targets(self) -> Targets:
        return self._views().targets

    @store_errors_as_unavailable
    def view_rows(self, name: str, level: int | None = None) -> list[dict[str, Any]]:
        return self._views().store.rows(name, level)

    @store_errors_as_unavailable
    def view_page(
        self, name: str, query: PageQuery
    ) -> tuple[list[dict[str, Any]], tuple[str, str] | None]:
        return self._views().store.page(name, query)

    @store_errors_as_unavailable
    def view_count(self, name: str, query: PageQuery) -> int:
        return self._views().store.count(name, query)

    @store_errors_as_unavailable
    def view_among(
        self, name: str, query: PageQuery, column: str, values: Sequence[str]
    ) -> list[dict[str, Any]]:
        if not values:
            return []
        return self._views().store.matching(name, query.where_in(column, values))

    @store_errors_as_unavailable
    def view_overview_rows(self, *, level: int, equals: Mapping[str, Any]) -> dict[str, Any]:
        return bounded.overview_rows(self._views().store, level, equals)

    @store_errors_as_unavailable
    def view_scarcity_rows(self, *, level: int, equals: Mapping[str, Any]) -> dict[str, Any]:
        return bounded.scarcity_rows(self._views().store, level, equals)

    @store_errors_as_unavailable
    def board_page(self, query: PageQuery) -> tuple[list[dict[str, Any]], tuple[str, str] | None]:
        place = None
        if query.after is not None:
            found = listing.parse_board_place(query.after[0])
            if found is None:
                raise ValueError("not a place on the board")
            place = (*found, query.after[1])
        return self._views().store.board_page(query, self.board_targets(), place)

    @store_errors_as_unavailable
    def board_counts(self, query: PageQuery, now: datetime) -> tuple[int, int]:
        now_us = listing.epoch_us(now.isoformat())
        assert now_us is not None
        return self._views().store.board_counts(query, self.board_targets(), now_us)

    @store_errors_as_unavailable
    def view_summary(self, query: PageQuery) -> dict[str, Any]:
        return summary_of_counts(*self._views().store.summary_counts(query))

    @store_errors_as_unavailable
    def view_rows_every_level(self, name: str) -> list[dict[str, Any]]:
        return self._views().store.all_rows(name)

    @store_errors_as_unavailable
    def view_positions(self) -> dict[str, int]:
        return self._views().positions()

    @store_errors_as_unavailable
    def view_state(self, names: Sequence[str]) -> tuple[dict[str, int], bool]:
        return self._views().read_state(names)

    @store_errors_as_unavailable
    def views_rebuilding(self, names: Sequence[str]) -> bool:
        return self._views().rebuilding(names)

    @store_errors_as_unavailable
    def wait_for_views(self, position: int, names: Sequence[str], timeout: float) -> bool:
        return self._views().wait_for(position, names, timeout)

    @store_errors_as_unavailable
    def view_changes(self, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        return self._views().store.changes(after, limit)

    @store_errors_as_unavailable
    def view_rows_by_id(
        self, name: str, ids: Sequence[str], level: int | None = None, every_level: bool = False
    ) -> list[dict[str, Any]]:
        return self._views().store.rows_by_id(name, ids, level, every_level)

    @store_errors_as_unavailable
    def last_change(self) -> int:
        return self._views().store.last_change()

    # --- feeds -------------------------------------------------------------------------------

    @store_errors_as_unavailable
    def logged_events(
        self, after: int, limit: int, stop: int | None = None, *, recent: bool = False
    ) -> list[LoggedEvent]:
        if stop is not None:
            limit = min(limit, stop - after)  # positions are unique: no more than this fit
            if limit <= 0:
                return []
        return self._named(
            [
                e
                for e in self.app.history(after=after, limit=limit, recent=recent, stop=stop)
                if stop is None or e.position <= stop
            ]
        )

    @store_errors_as_unavailable
    def event_marks(self, after: int, limit: int, stop: int | None = None) -> list[EventMark]:
        return self.app.index.index_marks(after=after, limit=limit, until_position=stop)

    @store_errors_as_unavailable
    def logged_at(self, positions: Sequence[int]) -> list[LoggedEvent]:
        return self._named(self.app.history_at(positions))

    @store_errors_as_unavailable
    def index_page(
        self,
        after: int,
        until: int,
        limit: int,
        *,
        stream_id: UUID | None = None,
        where: RowFilter | None = None,
    ) -> list[LoggedEvent]:
        return self.app.index.index_rows(
            after=after, limit=limit, stream_id=stream_id, until_position=until, where=where
        )

    @store_errors_as_unavailable
    def rows_as_of(
        self, moment: datetime, axis: str, checkpoints: bool = True
    ) -> tuple[dict[str, list[dict[str, Any]]], int]:
        axis_: Literal["occurred", "recorded"] = "occurred" if axis == "occurred" else "recorded"
        views = self._views()
        return rows_as_of(self.app, views.store, moment, axis_, checkpoints, key=views.audit_key)

    @store_errors_as_unavailable
    def subject_classification(self, stream_id: UUID) -> str | None:
        first, _ = self.app.index.stream_ends(stream_id)
        return first.classification if first is not None else None

    @store_errors_as_unavailable
    def message_facts(self, message_ids: Sequence[str]) -> dict[str, list[MessageFact]]:
        """Per message id, each recorded step that carries it: its stream, the organisation
        whose message it is, and its clearance level (the higher of the step's own marking
        and its subject's, domain.policy.step_level). Unknown ids are left out."""
        wanted = sorted(set(message_ids))
        if not wanted:
            return {}
        records = self.app.index.index_rows(message_ids=wanted, limit=8 * len(wanted) + 8)
        found: dict[str, list[MessageFact]] = {}
        for entry, at in zip(records, self.app.step_levels(records), strict=True):
            found.setdefault(entry.message_id, []).append(
                MessageFact(entry.stream_id, entry.actor_org, at)
            )
        return found

    @store_errors_as_unavailable
    def stream_markings(self, stream_id: UUID, upto: int) -> list[tuple[int, str, str]]:
        """A stream's steps up to version ``upto`` as the index has them (no event decoded):
        version, classification and event type."""
        rows = self.app.index.index_rows(stream_id=stream_id, limit=max(upto, 1))
        return [(r.version, r.classification, r.event_type) for r in rows if r.version <= upto]

    @store_errors_as_unavailable
    def stream_events(self, stream_id: UUID) -> list[LoggedEvent]:
        return self._named(self.app.history(stream_id=stream_id, limit=100_000))

    def _named(self, items: Sequence[LoggedEvent]) -> list[LoggedEvent]:
        """Recorded events named by their API type (domain/vocabulary.py). The one event the
        table cannot name from itself (a booking that stays arrived with an end date) is named
        from the booking's previous state: from these items when their stream's steps before it
        are among them without a gap (``items`` are in order; a reader that chose some events,
        ``logged_at``, may leave steps out), else from the stream (rare: only such moves pay
        for it)."""
        latest: dict[tuple[UUID, UUID], LineBooking] = {}
        last_version: dict[UUID, int] = {}
        logged = []
        for entry in items:
            event = entry.event
            if last_version.get(entry.stream_id, entry.version - 1) != entry.version - 1:
                # A step of this stream left out: what these items say of its bookings may
                # be older than the step before this one.
                latest = {k: b for k, b in latest.items() if k[0] != entry.stream_id}
            last_version[entry.stream_id] = entry.version
            before = None
            booking_id = vocabulary.booking_before_needed(entry.event_type, event)
            if booking_id is not None:
                before = latest.get((entry.stream_id, booking_id)) or self._booking_before(
                    entry.stream_id, entry.version, booking_id
                )
            booking = getattr(event, "booking", None)
            if isinstance(booking, LineBooking):
                latest[(entry.stream_id, booking.booking_id)] = booking
            try:
                name = vocabulary.api_type(entry.event_type, event, before)
            except vocabulary.UnknownTopic:
                log.warning("no API type for %s at position %s", entry.event_type, entry.position)
                name = vocabulary.UNNAMED
            logged.append(entry.replaced(api_type=name))
        return logged

    def _booking_before(
        self, stream_id: UUID, version: int, booking_id: UUID
    ) -> LineBooking | None:
        """The booking as the latest of the stream's steps before ``version`` left it."""
        for event in self.app.events.get(stream_id, lte=version - 1, desc=True):
            booking = getattr(event, "booking", None)
            if isinstance(booking, LineBooking) and booking.booking_id == booking_id:
                return booking
        return None
