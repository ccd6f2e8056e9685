"""The live feed: ``/v1/feed`` over WebSocket — resumable, bounded, one frame per window.

One hub per server process reads what was appended (woken right after local appends, which it
reads from memory, projections/recent.py; by PostgreSQL LISTEN/NOTIFY for other processes, and
by polling), and hands each connection the events and changed read-model rows of its channels
that its reader may see. Events that arrive within one window (``WINDOW`` s) go out in one
frame, so the number of frames per client does not grow with the event rate. Positions on a
connection only increase: a frame says up to which event position (``position``) and read-model
change (``change``) the client is complete, and a client that reconnects with ``after`` = that
position misses nothing and gets nothing twice.

A connection lives as long as its token: the revocation of its token (an event on the token's
stream, read by every node's hub in position order) closes it after the frames before the
revocation's position, and its expiry closes it by the clock (1008, ``token_revoked`` or
``token_expired``). Limits per token and per connection keep one client from costing the others
their feed (:data:`MAX_CONNECTIONS`, :data:`MAX_REPLAYS`, ``domain.policy.MAX_CHANNELS``); a
replay reads the store in the hub's own replay threads, never the pump's, and costs what its
reader may see: it chooses from the index's markings which events it might show, decodes only
those, and builds only those the whole filter lets through.
"""

import asyncio
import contextlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any
from uuid import UUID

import orjson
from fastapi import WebSocket, WebSocketDisconnect

from api.access import note_reads, row_items
from api.errors import language
from api.metrics import FEED_CLOSES, FEED_CONNECTIONS, FEED_FRAMES, FEED_RESYNCS
from api.ports import (
    EventMark,
    LoggedEvent,
    MessageFact,
    MlobService,
    Principal,
    StoreUnavailable,
)
from api.rendering import dumps, event_body, to_json
from api.summaries import Summaries
from domain import policy, vocabulary
from domain.errors import DomainError
from domain.exercise import ExerciseScope
from domain.policy import THREAD_FIELDS, ScopeKind, name_threads
from projections import readmodels as rm
from projections.alerts import alert_channels, alert_for, alert_frame
from projections.routing import Routes, StreamRoute, channels, published

log = logging.getLogger("mlob.feed")

#: At most one frame per this many seconds: events appended within it go out in one frame.
WINDOW = 0.05
#: Events (and read-model changes) read per store query.
BATCH = 1000
#: Frames, and bytes, a connection may have waiting (at least one frame, however large); a
#: client that falls further behind gets ``resync``.
QUEUE_FRAMES = 64
QUEUE_BYTES = 1 << 20
#: Batches held for a connection while it catches up from the store; when more arrive, they
#: are dropped and the catch-up reads them from the store too.
PENDING_BATCHES = 256
#: A frame holds events up to about this many bytes (clients limit message sizes, often 1 MiB).
FRAME_BYTES = 256 * 1024
#: Seconds without a frame after which a heartbeat is sent.
HEARTBEAT = 15.0
#: Seconds to poll when nothing woke the hub (a lost LISTEN connection must not stall it).
POLL = 1.0
#: A clearance level's national summary is counted at most this often (seconds).
SUMMARY_EVERY = 1.0
#: Seconds without a successful read after which a started hub is stuck (not ready).
STUCK_AFTER = 10 * POLL
#: Seconds a client that overflowed has to read on before its resync is given up.
RESYNC_WAIT = 30.0
#: Queue marker: send ``resync`` with what the client has surely received.
RESYNC: Any = object()
#: Seconds a browser has to send ``{"token": ...}`` as its first message.
AUTH_TIMEOUT = 10.0
#: Seconds between the hub's checks of heartbeats and token expiry: a connection is closed at
#: most this long after its token expired.
TICK = 0.5
#: Open feed connections per token (per server process); one more is refused with
#: ``too_many_connections`` and closed with 1013 (try again later).
MAX_CONNECTIONS = 8
#: Concurrent replays (catch-ups from ``after``) per token (per server process); one more is
#: refused with ``too_many_replays`` and closed with 1013: reconnect later and resume.
MAX_REPLAYS = 2
#: Threads that read replays from the store (shared by every connection of the process): the
#: pump's reads never queue behind them.
REPLAY_THREADS = 2
#: Position ranges of ``BATCH`` events (decoded) kept for replays that run at once.
REPLAY_PAGES = 4
#: Seconds a closing connection's queued frames have to reach a client that stopped reading.
CLOSE_WAIT = 5.0
#: Seconds between two looks for new alerts (issue 24; they are raised once a second).
ALERT_POLL = 0.25
#: The API type of the event that revokes a token, on the token's stream, and the stored
#: topics it is stored under (what the index's markings carry).
REVOKED = "token.revoked"
REVOKED_TOPICS = frozenset(vocabulary.TYPES[REVOKED].topics)


@dataclass
class ReplayPage:
    """One range of positions a replay reads: the index's markings of its events, and those
    events decoded so far (by position; shared by the replays that read the range at once)."""

    marks: list[EventMark]
    decoded: dict[int, LoggedEvent] = field(default_factory=dict)
    #: What each kind of reader (scope, clearance, channels, exercise) might see of the page:
    #: chosen once for every replay of that kind (:meth:`FeedHub._choose`).
    chosen: dict[tuple[Any, ...], list[EventMark]] = field(default_factory=dict)
    #: The first revocation of each token revoked in the page (a replay of it ends there).
    revocations: dict[UUID, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for m in self.marks:
            if m.event_type in REVOKED_TOPICS:  # a marking names the stored topic
                self.revocations.setdefault(m.stream_id, m.position)


@dataclass(frozen=True)
class Routed:
    """A recorded event as the hub routed it: the event, its channels, its stream's route and
    the step's level (domain.policy.step_level), and the event as JSON, serialised once for
    every connection: (lowest reader level, body), ascending; more than one when it names a
    message above its own level (a reader below that message's level gets the body that does
    not name it)."""

    event: LoggedEvent
    channels: frozenset[str]
    route: StreamRoute
    level: int
    bodies: tuple[tuple[int, str], ...]


def routed(
    e: LoggedEvent,
    names: list[str],
    route: StreamRoute,
    level: int,
    facts: dict[str, list[MessageFact]],
) -> Routed:
    """The event routed, with its bodies for readers from its own level up (rendering
    .event_body, domain.policy.name_threads)."""
    base = {**event_body(e), "channels": names}
    named = [base.get(field) for field, _ in THREAD_FIELDS]
    thresholds = sorted(
        {level}
        | {f.level for m in named if m is not None for f in facts.get(m, []) if f.level > level}
    )
    bodies = []
    for at in thresholds:
        body = dict(base)
        name_threads(body, facts, at)
        bodies.append((at, to_json(body).decode()))
    return Routed(e, frozenset(names), route, level, tuple(bodies))


def _take(counts: dict[UUID, int], token: UUID, limit: int) -> bool:
    """One of a token's ``limit`` slots (False: all are taken)."""
    if counts.get(token, 0) >= limit:
        return False
    counts[token] = counts.get(token, 0) + 1
    return True


def _give(counts: dict[UUID, int], token: UUID | None) -> None:
    if token is not None:
        left = counts.get(token, 1) - 1
        if left > 0:
            counts[token] = left
        else:
            counts.pop(token, None)


def _facts(service: MlobService, logged: Sequence[LoggedEvent]) -> dict[str, list[MessageFact]]:
    """What the messages a page's threading fields name are (one index query per page)."""
    named = {m for e in logged for m in (e.causation_id, e.correlation_id) if m is not None}
    return service.message_facts(sorted(named)) if named else {}


@dataclass(frozen=True)
class FeedRow:
    """A changed read-model row: each level's row of its subject (projections/levels.py)."""

    seq: int
    projection: str
    #: A row change: the lowest level whose row changed; a clock change: its row's level.
    level: int
    clock: bool
    #: (level, row, the change as JSON with that row) per level, lowest first.
    levels: tuple[tuple[int, dict[str, Any], str], ...]

    def for_reader(self, reader: Principal) -> tuple[dict[str, Any], str] | None:
        """The row and message a reader gets of this change (None: nothing it may see)."""
        at = policy.reader_level(reader)
        seen = [entry for entry in self.levels if entry[0] <= at]
        if not seen:
            return None
        level, row, body = seen[-1]
        if level < self.level or (self.clock and level != self.level):
            return None  # what changed lies above the reader's level
        return (row, body) if policy.may_see_row(reader, row) else None


@dataclass
class Batch:
    """What the hub read in one window: complete up to ``upto`` and ``change_upto``."""

    upto: int
    events: list[Routed]
    change_upto: int
    rows: list[FeedRow] = field(default_factory=list)
    summaries: dict[tuple[str, int], str] = field(default_factory=dict)
    #: Tokens revoked in this batch: the position of each one's (first) revocation.
    revoked: dict[UUID, int] = field(default_factory=dict)
    #: Frames already built for one kind of reader at one position: most connections share
    #: them, so fan-out costs one build per kind of reader, not per connection.
    built: dict[tuple[Any, ...], tuple[list[tuple[str, int, int]], int, int]] = field(
        default_factory=dict
    )
    #: The classified items each kind of reader received from this batch (read-access log).
    read: dict[tuple[Any, ...], list[tuple[str, str, int]]] = field(default_factory=dict)


#: The source of the feed's own refusals.
FEED = "mlob feed protocol"


class Refused(DomainError, ValueError):
    """A message or connection the feed refuses with an error frame: its text from the one
    catalogue (domain/refusals.py), in the connection's language (``Accept-Language`` of the
    handshake)."""

    def __init__(self, code: str, text: str | None = None, **params: Any) -> None:
        super().__init__(code, FEED, text=text, **params)


class BinaryMessage(Exception):
    """The client sent a binary WebSocket message: the feed speaks JSON text only."""


class Connection:
    def __init__(self, hub: "FeedHub", websocket: WebSocket, principal: Principal) -> None:
        self.hub = hub
        self.websocket = websocket
        self.principal = principal
        self.scope = policy.scope_of(principal)
        #: Connections of one kind of reader get the same frames (built once per batch).
        self.reader_key = (self.scope, principal.clearance)
        self.channels: set[str] = set()
        #: Which subjects' events it wants: real ones unless it subscribed otherwise.
        self.exercise = ExerciseScope.REAL
        self.cursor = hub.head
        self.change_cursor = hub.change_head
        self.sent = (self.cursor, self.change_cursor)  # what the client has surely received
        self.live = True
        self.pending: list[Batch] = []
        #: Messages to send, with the positions the client is complete up to once it has them.
        self.queue: asyncio.Queue[tuple[str, int, int] | None] = asyncio.Queue(maxsize=QUEUE_FRAMES)
        self.closed = False
        self.messages = 0  # messages sent
        self.last_sent = asyncio.get_running_loop().time()
        self.subscriptions = 0
        self.queued_bytes = 0
        self.close_code = 1013  # try again later: resume from the resync position
        self.close_reason = ""
        #: The language of error frames' reasons, from the handshake's Accept-Language.
        self.lang = language(websocket.headers.get("accept-language"))
        self.replaying = False  # holds one of its token's replay slots
        #: Catching up: batches were dropped from ``pending`` (read them from the store), and
        #: the national summaries they carried (the newest per region and level).
        self.behind = False
        self.held_summaries: dict[tuple[str, int], str] = {}
        self.sender_task: asyncio.Task[None] | None = None

    # --- filtering ---------------------------------------------------------------------------

    def row_body(self, row: FeedRow) -> str | None:
        if "views" not in self.channels:
            return None
        found = row.for_reader(self.principal)
        if found is None or not self.exercise.admits(found[0]["exercise"]):
            return None
        return found[1]

    def frames(self, batch: Batch) -> list[tuple[str, int, int]]:
        """The frames of ``batch`` for this connection (none: nothing for it), and moves its
        cursors: the events it wants and its reader may see (``policy.may_see_step``: the
        policy's rule), each in the body for the reader's level, in frames of about
        ``FRAME_BYTES``; the changed rows and the summary in the last. Built once per kind of
        reader and position (most connections share them); what it receives above
        ongerubriceerd is logged."""
        key = (
            frozenset(self.channels),
            self.reader_key,
            self.exercise,
            self.cursor,
            self.change_cursor,
        )
        found = batch.built.get(key)
        if found is None:
            at = policy.reader_level(self.principal)
            chunks: list[list[str]] = [[]]  # the events' bodies of each frame
            reach = [self.cursor]  # the position each frame completes
            read: list[tuple[str, str, int]] = []  # the steps above ongerubriceerd among them
            size = 0
            for r in batch.events:
                e = r.event
                if (
                    e.position <= self.cursor
                    or not self.exercise.admits(e.exercise)
                    or r.channels.isdisjoint(self.channels)
                    or not policy.may_see_step(
                        self.principal, r.level, r.route.kind, e.regions, r.route.orgs
                    )
                ):
                    continue
                if r.level > 0:
                    read.append((str(e.stream_id), "step", r.level))
                body = r.bodies[0][1]
                for level, text in r.bodies:
                    if level <= at:
                        body = text
                if chunks[-1] and size + len(body) > FRAME_BYTES:
                    chunks.append([])
                    reach.append(reach[-1])
                    size = 0
                chunks[-1].append(body)
                reach[-1] = max(reach[-1], e.position)
                size += len(body)
            rows = [
                row
                for r in batch.rows
                if r.seq > self.change_cursor and (row := self.row_body(r)) is not None
            ]
            summary = ""
            if "national" in self.channels and self.scope.kind is ScopeKind.REGION:
                rank = self.principal.clearance.rank
                found_summary = batch.summaries.get((self.scope.region or "", rank))
                summary = "" if found_summary is None else f',"summary":{found_summary}'
            change = self.change_cursor
            position, change_upto = max(self.cursor, batch.upto), max(change, batch.change_upto)
            # A full frame completes the events up to its last; the last frame the batch, with
            # the changed rows and the summary (sent when it holds anything).
            parts = [
                (events, "", "", p, change)
                for events, p in zip(chunks[:-1], reach[:-1], strict=True)
            ]
            if chunks[-1] or rows or summary:
                parts.append((chunks[-1], ",".join(rows), summary, position, change_upto))
            frames = [
                (
                    f'{{"type":"frame","position":{p},"change":{c},'
                    f'"events":[{",".join(events)}],"rows":[{rows_text}]{summary_text}}}',
                    p,
                    c,
                )
                for events, rows_text, summary_text, p, c in parts
            ]
            found = batch.built[key] = (frames, position, change_upto)
            if frames and batch.rows:
                read += self._classified_rows(batch, change)
            batch.read[key] = read if frames else []
        frames, self.cursor, self.change_cursor = found
        if frames and batch.read.get(key):
            # The read-access log: this reader received these items above ongerubriceerd.
            channel = "feed " + ",".join(sorted(self.channels))
            note_reads(self.hub.service, self.principal, channel, batch.read[key])
        return frames

    def _classified_rows(self, batch: Batch, change: int) -> list[tuple[str, str, int]]:
        """The rows above ongerubriceerd in what :meth:`frames` just sent from ``batch``."""
        items: list[tuple[str, str, int]] = []
        for r in batch.rows:
            if r.seq > change and (found := r.for_reader(self.principal)) is not None:
                items += [i for i in row_items(r.projection, [found[0]]) if i[2] > 0]
        return items

    # --- sending -----------------------------------------------------------------------------

    def offer(self, batch: Batch) -> None:
        """Called by the hub for every batch, in order (never blocks)."""
        if self.closed:
            return
        token = self.principal.token_id
        if batch.revoked and token is not None and token in batch.revoked:
            self.revoked(batch, batch.revoked[token])
            return
        if not self.live:
            self.pending.append(batch)
            if len(self.pending) > PENDING_BATCHES:
                # Memory stays bounded: the catch-up reads these from the store as well (a
                # long replay must not end in a resync that restarts it, over and over).
                for held in self.pending:
                    self.held_summaries.update(held.summaries)
                self.pending = []
                self.behind = True
            return
        for frame in self.frames(batch):
            self.put_nowait(frame)

    def revoked(self, batch: Batch, at: int) -> None:
        """The token was revoked at position ``at`` in ``batch``: the frames of its events
        before ``at`` (none of the batch's read-model rows, which may reflect later events),
        then close (1008 ``token_revoked``). A connection still catching up from the store
        has had nothing past the hub's previous batch: it is closed at once."""
        if self.live:
            before = Batch(at - 1, [e for e in batch.events if e.event.position < at], 0)
            frames = self.frames(before)
            room = QUEUE_FRAMES - 2 - self.queue.qsize()  # the error and the close fit too
            if len(frames) <= room and sum(len(f[0]) for f in frames) + self.queued_bytes <= (
                QUEUE_BYTES
            ):
                for frame in frames:
                    self.put_nowait(frame)
        self.end(1008, Refused("token_revoked"))

    def expired(self) -> None:
        self.end(1008, Refused("token_expired"))

    def end(self, code: int, refusal: Refused) -> None:
        """Close with ``code`` and the refusal's code as the reason after what is queued, an
        error frame ``{"type": "error", "code", "reason"}`` last; nothing is queued after it. A
        client that does not read what is queued within ``CLOSE_WAIT`` s is cut off."""
        reason = refusal.code
        if self.closed:
            return
        self.closed = True
        self.close_code, self.close_reason = code, reason
        if self.queue.qsize() > QUEUE_FRAMES - 2:
            while not self.queue.empty():  # no room for the close: what waits is dropped
                self.queue.get_nowait()
            self.queued_bytes = 0
        message = dumps({"type": "error", "code": reason, "reason": refusal.reason_in(self.lang)})
        self.queue.put_nowait((message, *self.sent))
        self.queued_bytes += len(message)
        self.queue.put_nowait(None)
        task = self.sender_task
        if task is not None and not task.done():
            asyncio.get_running_loop().call_later(CLOSE_WAIT, task.cancel)

    def put_nowait(self, item: tuple[str, int, int]) -> None:
        """Queue a message with the positions the client is complete up to once it has it."""
        if self.closed:
            return
        full = self.queue.qsize() >= QUEUE_FRAMES
        if full or (self.queued_bytes + len(item[0]) > QUEUE_BYTES and not self.queue.empty()):
            self.overflow()
            return
        self.queue.put_nowait(item)
        self.queued_bytes += len(item[0])

    def control(self, **message: Any) -> None:
        self.put_nowait((dumps(message), *self.sent))

    def refuse(self, refusal: Refused) -> None:
        """An error frame for a refused message; the connection stays open."""
        self.control(type="error", code=refusal.code, reason=refusal.reason_in(self.lang))

    def overflow(self) -> None:
        """The client does not keep up: drop what waits for it (memory stays bounded whatever
        the client does), then tell it where to resume, and close."""
        if self.closed:
            return
        self.closed = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queued_bytes = 0
        self.queue.put_nowait(RESYNC)
        self.queue.put_nowait(None)

    def shut_down(self) -> None:
        """The server stops: say so and close (1001), whatever was waiting."""
        if self.closed:
            return
        self.closed = True
        self.close_code = 1001
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queued_bytes = 0
        self.queue.put_nowait(('{"type":"bye","reason":"server shutting down"}', *self.sent))
        self.queue.put_nowait(None)

    def heartbeat(self, now: float) -> None:
        """Called by the hub: a connection idle for ``HEARTBEAT`` s gets a heartbeat."""
        if not self.closed and now - self.last_sent >= HEARTBEAT and self.queue.empty():
            position, change = self.sent
            self.put_nowait(
                (
                    dumps({"type": "heartbeat", "position": position, "change": change}),
                    position,
                    change,
                )
            )

    async def sender(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            item = await self.queue.get()
            if item is None:
                FEED_CLOSES.labels(str(self.close_code)).inc()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(
                        self.websocket.close(code=self.close_code, reason=self.close_reason), 1.0
                    )
                return
            if item is RESYNC:
                # Computed now: the frame that was on its way when the queue overflowed counts.
                position, change = self.sent
                message = dumps({"type": "resync", "position": position, "change": change})
                FEED_RESYNCS.inc()
                with contextlib.suppress(Exception):  # the client has this long to read on
                    await asyncio.wait_for(self.websocket.send_text(message), RESYNC_WAIT)
                continue
            message, position, change = item
            self.queued_bytes -= len(message)
            await self.websocket.send_text(message)
            self.last_sent = loop.time()
            self.messages += 1
            if message.startswith('{"type":"frame"'):
                self.sent = (position, change)
                FEED_FRAMES.inc()

    # --- subscribing -------------------------------------------------------------------------

    async def subscribe(
        self,
        wanted: Sequence[str],
        after: int | None,
        after_change: int | None,
        exercise: ExerciseScope | None,
    ) -> None:
        too_long = [c for c in wanted if len(c) > policy.MAX_CHANNEL_LENGTH]
        if too_long:
            raise Refused(
                "channel_too_long", max_length=policy.MAX_CHANNEL_LENGTH, longer=len(too_long)
            )
        refused = [c for c in wanted if not policy.may_subscribe(self.principal, c)]
        if refused:
            raise Refused("channel_not_permitted", channels=refused)
        if len(self.channels | set(wanted)) > policy.MAX_CHANNELS:
            raise Refused("too_many_channels", max_channels=policy.MAX_CHANNELS)
        first = not self.subscriptions
        replay = after is not None and after < self.cursor
        replay_changes = after_change is not None and after_change < self.change_cursor
        if (replay or replay_changes) and not first:
            self.refuse(Refused("after_only_first"))
            replay = replay_changes = False
        if (replay or replay_changes) and not self.hub.take_replay(self):
            self.end(1013, Refused("too_many_replays", max_replays=MAX_REPLAYS))
            return
        if exercise is not None:
            self.exercise = exercise
        self.channels |= set(wanted)
        if after is not None and after > self.cursor and first:
            # The client already has more than this process has dispatched (it comes from
            # another node, or this one just restarted): nothing up to ``after`` again.
            self.cursor = after
            self.sent = (after, self.sent[1])
        if after_change is not None and after_change > self.change_cursor and first:
            self.change_cursor = after_change
            self.sent = (self.sent[0], after_change)
        self.subscriptions += 1
        self.control(
            type="subscribed",
            channels=sorted(self.channels),
            exercise=self.exercise.value,
            position=after if replay else self.cursor,
            change=after_change if replay_changes else self.change_cursor,
        )
        if replay or replay_changes:
            try:
                await self.catch_up(
                    after if replay else self.cursor,  # type: ignore[arg-type]
                    after_change if replay_changes else self.change_cursor,  # type: ignore[arg-type]
                )
            except StoreUnavailable:
                self.end(1013, Refused("store_unavailable", text="feed"))
            finally:
                self.hub.give_replay(self)

    async def catch_up(self, after: int, after_change: int) -> None:
        """Send what was recorded after ``after`` from the store, then switch to live with no
        gap and no duplicate: batches the hub dispatches meanwhile are held, then filtered
        (more than ``PENDING_BATCHES`` of them: dropped, and read from the store as well).
        The store is read in the hub's replay threads, and of each page only the events this
        reader may see and wants are built (see :meth:`FeedHub.replay_page`)."""
        self.live = False
        self.pending = []
        self.behind = False
        self.held_summaries = {}
        head, change_head = self.hub.head, self.hub.change_head
        self.cursor, self.change_cursor = after, after_change
        self.sent = (after, after_change)
        # Streams the hub does not know (yet), learnt from this replay.
        learnt = Routes(self.hub._markings)
        while not self.closed:
            if self.behind:  # no await from here to the read: nothing is dispatched between
                self.behind = False
                self.pending = []
                head, change_head = self.hub.head, self.hub.change_head
            if self.cursor >= head and self.change_cursor >= change_head:
                if self.hub.before_live is not None:
                    await self.hub.before_live(self)
                if self.behind:
                    continue
                break
            events: list[Routed] = []
            upto, revoked = head, None
            if self.cursor < head:
                events, upto, revoked = await self.hub.replay_page(self, learnt, self.cursor, head)
                if revoked is not None:  # the token was revoked meanwhile (another node's
                    upto = revoked - 1  # hub may not have told this one yet)
                    events = [e for e in events if e.event.position < revoked]
            rows: list[FeedRow] = []
            change_upto = self.change_cursor
            if self.change_cursor < change_head and "views" in self.channels and revoked is None:
                rows, change_upto = await self.hub.read_rows(
                    self.change_cursor, BATCH, stop=change_head
                )
            elif self.change_cursor < change_head and revoked is None:
                change_upto = change_head
            for frame in self.frames(Batch(upto, events, change_upto, rows)):
                # Here the reader may wait for the client, within bounds.
                deadline = asyncio.get_running_loop().time() + HEARTBEAT
                while not self.queue.empty() and (
                    self.queue.qsize() >= QUEUE_FRAMES
                    or self.queued_bytes + len(frame[0]) > QUEUE_BYTES
                ):
                    if asyncio.get_running_loop().time() > deadline or self.closed:
                        self.overflow()
                        return
                    await asyncio.sleep(0.01)
                if self.closed:
                    return
                self.queue.put_nowait(frame)
                self.queued_bytes += len(frame[0])
            if revoked is not None:
                self.end(1008, Refused("token_revoked"))
                return
        if self.closed:
            return
        # From here to the end no await: nothing can be dispatched in between.
        pending, self.pending = self.pending, []
        if self.held_summaries:  # dropped with held batches: the newest, before what follows
            pending.insert(0, Batch(self.cursor, [], self.change_cursor, [], self.held_summaries))
            self.held_summaries = {}
        self.live = True
        for batch in pending:
            self.offer(batch)

    def unsubscribe(self, unwanted: Sequence[str]) -> None:
        self.channels -= set(unwanted)
        self.control(type="unsubscribed", channels=sorted(self.channels))


class FeedHub:
    """Reads what was appended and hands it to every connection of this process."""

    def __init__(self, service: MlobService, summaries: Summaries | None = None) -> None:
        self.service = service
        self.summaries = summaries or Summaries(service, SUMMARY_EVERY)
        self.connections: set[Connection] = set()
        self.routes = Routes(self._markings)
        self.head = 0
        self.change_head = 0
        #: The national summary per clearance level: when this hub last sent one (monotonic),
        #: and the levels whose rows changed since, from when (owed a summary; :meth:`_summaries`).
        self.summary_at: dict[int, float] = {}
        self.summary_owed: dict[int, float] = {}
        self.closing = False
        self._wake: asyncio.Event | None = None
        self.last_dispatch = 0.0
        self._task: asyncio.Task[None] | None = None
        self._beat: asyncio.Task[None] | None = None
        self._known: asyncio.Task[None] | None = None
        self._alerting: asyncio.Task[None] | None = None
        #: The wake-up handed to the service (taken back at close).
        self._woken_by: Callable[[], object] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        #: Tests: awaited between a connection's catch-up and its switch to live.
        self.before_live: Callable[[Connection], Awaitable[None]] | None = None
        self._starting: asyncio.Future[None] | None = None
        #: Guards ``routes``: the pump's thread learns, replay threads and the loop read.
        self.routes_lock = threading.Lock()
        #: Open connections and running replays per token.
        self.per_token: dict[UUID, int] = {}
        self.replays: dict[UUID, int] = {}
        self.replaying = 0  # replays running
        #: Tokens whose revocation this hub has read (a connection of one is refused).
        self.revoked: set[UUID] = set()
        self._replayer: ThreadPoolExecutor | None = None
        #: The newest position ranges replays read, shared (see ``_marked_page``).
        self._pages: OrderedDict[int, asyncio.Future[ReplayPage]] = OrderedDict()
        #: Replays choose what to decode from the index's markings (False: they decode every
        #: event of their pages, as before; the tests compare both, the benchmark times both).
        self.prefilter = True
        #: Events decoded for replays (each once per range while replays run at once).
        self.decoded = 0
        self._decoding = threading.Lock()
        #: When the pump last read the store (loop time; readiness: a hub that stopped
        #: reading is stuck) and how long that may last.
        self.last_read = 0.0
        self.stuck_after = STUCK_AFTER

    @property
    def started(self) -> bool:
        """Whether it started reading (a start that failed does not count: the next client
        starts it again)."""
        starting = self._starting
        return (
            starting is not None
            and starting.done()
            and not starting.cancelled()
            and starting.exception() is None
        )

    def status(self) -> dict[str, Any]:
        """This hub's part of the node's readiness: idle until the first client starts it,
        then following while its pump reads (it reads at least every ``POLL`` s)."""
        if not self.started:
            return {"ok": True, "state": "idle", "connections": len(self.connections)}
        assert self._loop is not None
        alive = self._task is not None and not self._task.done()
        age = self._loop.time() - self.last_read
        ok = alive and age <= self.stuck_after
        return {
            "ok": ok,
            "state": "following" if ok else "stuck",
            "position": self.head,
            "last_read_s": round(age, 1),
            "connections": len(self.connections),
        }

    async def start(self) -> None:
        """Start reading (once; every caller waits until the hub knows where it stands)."""
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._start())
        starting = self._starting
        try:
            await asyncio.shield(starting)
        except Exception:
            if self._starting is starting and starting.done():
                self._starting = None  # the store was away: the next connection tries again
            raise

    async def _start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self.head = await asyncio.to_thread(self.service.last_position)
        self.change_head = await asyncio.to_thread(self.service.last_change)
        requests = await asyncio.to_thread(self.service.view_rows_every_level, "requests")
        capacities = await asyncio.to_thread(self.service.view_rows_every_level, "capacities")
        incidents = await asyncio.to_thread(self.service.view_rows_every_level, "incidents")
        self.routes.seed(requests, capacities, incidents)
        # Woken from any thread by a plain asyncio call: the service never calls into the API.
        wake = partial(asyncio.get_running_loop().call_soon_threadsafe, self._wake.set)
        self.service.on_change(wake)
        self._woken_by = wake
        self.last_read = self._loop.time()
        self._task = asyncio.create_task(self._pump())
        self._beat = asyncio.create_task(self._heartbeats())
        self._known = asyncio.create_task(self._revoked_before())
        self._alerting = asyncio.create_task(self._alerts())

    async def _revoked_before(self) -> None:
        """The tokens revoked up to where this hub started reading (the pump reads those
        revoked later): a token another process revoked moments before, still remembered valid
        here, opens no connection, and one it opened meanwhile is closed."""
        try:
            tokens = await asyncio.to_thread(self.service.tokens)
        except Exception:
            log.exception("feed: the revoked tokens could not be read")
            return
        self.revoked.update(UUID(t["token_id"]) for t in tokens if t["revoked"])
        for conn in list(self.connections):
            if conn.principal.token_id in self.revoked:
                conn.end(1008, Refused("token_revoked"))

    async def _heartbeats(self) -> None:
        """One timer for every connection's heartbeat (not one per message) and for the
        expiry of its token (by the service's clock): every ``TICK`` s."""
        assert self._loop is not None
        while not self.closing:
            await asyncio.sleep(TICK)
            now = self._loop.time()
            expiring = [c for c in self.connections if c.principal.expires_at is not None]
            if expiring:
                self._expire(expiring, self.service.now())
            for conn in list(self.connections):
                conn.heartbeat(now)

    async def _alerts(self) -> None:
        """Alerts (issue 24) as ``{"type": "alert", ...}`` messages: to the connections of the
        organisations each is for, subscribed to one of its channels, within what their reader
        may see (``projections.alerts.alert_for``: the policy's row rule). Read every
        ``ALERT_POLL`` s apart from the pump (the path of an event to its frame stays as it
        is); live only: a subscription and ``GET /v1/alerts`` keep them."""
        hooks = getattr(self.service, "webhooks", None)
        if hooks is None:
            return
        head: int | None = None
        while not self.closing:
            try:
                if head is None:  # where to start: tried again while the store is away
                    head = int(await asyncio.to_thread(hooks.last_alert))
                await asyncio.sleep(ALERT_POLL)
                found = await asyncio.to_thread(hooks.new_alerts, head)
            except Exception:  # the store away: the next poll tries again
                await asyncio.sleep(ALERT_POLL)
                continue
            for alert in found:
                head = max(head, alert["id"])
                names = alert_channels(alert)
                frame = dumps(alert_frame(alert))
                exercise = bool(alert["body"]["exercise"])
                for conn in list(self.connections):
                    if (
                        conn.live
                        and not conn.channels.isdisjoint(names)
                        and conn.exercise.admits(exercise)
                        and alert_for(conn.principal, alert)
                    ):
                        conn.put_nowait((frame, *conn.sent))

    @staticmethod
    def _expire(connections: Sequence[Connection], now: datetime) -> None:
        for conn in connections:
            expires_at = conn.principal.expires_at
            if expires_at is not None and now >= expires_at:
                conn.expired()

    # --- limits per token ----------------------------------------------------------------------

    def admit(self, conn: Connection) -> str | None:
        """Register a connection; why not (an error code) when its token may not open one."""
        token = conn.principal.token_id
        if token is not None and token in self.revoked:
            return "token_revoked"
        if token is not None and not _take(self.per_token, token, MAX_CONNECTIONS):
            return "too_many_connections"
        self.connections.add(conn)
        FEED_CONNECTIONS.inc()
        return None

    def leave(self, conn: Connection) -> None:
        if conn not in self.connections:
            return
        self.connections.discard(conn)
        FEED_CONNECTIONS.dec()
        _give(self.per_token, conn.principal.token_id)

    def take_replay(self, conn: Connection) -> bool:
        """One of the connection's token's replay slots (False: all are taken)."""
        token = conn.principal.token_id
        if token is not None and not _take(self.replays, token, MAX_REPLAYS):
            return False
        conn.replaying = True
        self.replaying += 1
        return True

    def give_replay(self, conn: Connection) -> None:
        if not conn.replaying:
            return
        conn.replaying = False
        self.replaying -= 1
        if not self.replaying:
            self._pages.clear()  # no replay runs: no decoded events are kept
        _give(self.replays, conn.principal.token_id)

    async def close(self) -> None:
        self.closing = True
        if self._woken_by is not None:  # a closed loop must not be woken by later commits
            self.service.off_change(self._woken_by)
            self._woken_by = None
        if self._beat is not None:
            self._beat.cancel()
        if self._known is not None:
            self._known.cancel()
        if self._alerting is not None:
            self._alerting.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        for conn in list(self.connections):
            conn.shut_down()
        deadline = asyncio.get_running_loop().time() + 2.0
        while self.connections and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
        if self._replayer is not None:
            self._replayer.shutdown(wait=False, cancel_futures=True)

    # --- reading -----------------------------------------------------------------------------

    def _markings(self, stream_id: UUID, upto: int) -> list[tuple[int, str, str]]:
        """A stream's earlier steps' markings, for routes that have not seen them."""
        return self.service.stream_markings(stream_id, upto)

    def _route(self, logged: list[LoggedEvent]) -> tuple[list[Routed], dict[UUID, int]]:
        """The hub's one pass over what was appended: each event routed and rendered (the
        routes learn from it), and the tokens revoked among them, each at its (first)
        revocation's position (token streams are never published: looked at first). What the
        messages an event names are (its bodies name them, domain.policy.name_threads) its
        stream's route knows; the store is asked only for the rest (a stream this process met
        in the middle, a correlation a client chose)."""
        learnt: list[tuple[LoggedEvent, list[str], StreamRoute, int]] = []
        revoked: dict[UUID, int] = {}
        facts: dict[str, list[MessageFact]] = {}
        unknown: set[str] = set()
        for e in logged:
            if e.api_type == REVOKED:
                revoked.setdefault(e.stream_id, e.position)
            with self.routes_lock:
                route, level, names = self.routes.learn(e.stream_id, e.event, e.regions)
                if route is None:
                    continue  # tokens and other internal streams are never published
                known = [t for t in (route.first, route.previous) if t is not None]
            named = {m for m in (e.correlation_id, e.causation_id) if m is not None}
            for message_id, org, at in known:
                if message_id in named:
                    named.discard(message_id)
                    facts.setdefault(message_id, []).append(MessageFact(e.stream_id, org, at))
            unknown |= named
            learnt.append((e, names, route, level))
        if unknown:  # every step that carries them, as the store's index has them
            found = self.service.message_facts(sorted(unknown))
            facts.update(found)
            with self.routes_lock:  # a stream's correlation, remembered for its next steps
                for e, _, route, _ in learnt:
                    mine = [
                        f
                        for f in found.get(e.correlation_id or "", ())
                        if f.stream_id == e.stream_id
                    ]
                    if route.first is None and mine:
                        route.first = (e.correlation_id or "", mine[0].org, mine[0].level)
        return [routed(e, names, route, level, facts) for e, names, route, level in learnt], revoked

    async def _in_replay_thread(self, work: Callable[..., Any], *args: Any) -> Any:
        """Run a replay's store read in the replay threads: ``REPLAY_THREADS`` of them for
        every replay of the process, apart from the threads the pump reads in."""
        if self._replayer is None:
            self._replayer = ThreadPoolExecutor(REPLAY_THREADS, "mlob-feed-replay")
        return await asyncio.get_running_loop().run_in_executor(self._replayer, work, *args)

    async def replay_page(
        self, conn: Connection, learnt: Routes, after: int, stop: int
    ) -> tuple[list[Routed], int, int | None]:
        """A page of a connection's replay: the events after ``after`` (up to ``stop``) that
        its reader may see and wants, the position up to which the page is complete (events
        it may not see included), and the position of its token's revocation if the page
        holds it (the page ends there). Chosen, decoded and filtered in the replay threads."""
        page, upto = await self._marked_page(after, stop)
        found: tuple[list[Routed], int | None] = await self._in_replay_thread(
            self._replay_events,
            conn.principal,
            frozenset(conn.channels),
            conn.exercise,
            learnt,
            page,
            after,
            stop,
        )
        events, revoked = found
        return events, upto, revoked

    async def _marked_page(self, after: int, stop: int) -> tuple[ReplayPage, int]:
        """The index's markings of the events after ``after`` up to at most ``stop`` (the
        page may begin earlier: the replay skips what it has), and how far that is complete.
        Read by position ranges of ``BATCH`` (k*BATCH, (k+1)*BATCH]: replays that run at once
        read each range's markings once, and decode each of its events at most once, whatever
        their ``after`` (the last few ranges are kept, and a range being read is waited for,
        not read again)."""
        start = after - after % BATCH
        end = start + BATCH
        if end > stop:  # the newest, partial range: this replay's alone
            marks: list[EventMark] = await self._in_replay_thread(
                self.service.event_marks, after, BATCH, stop
            )
            return ReplayPage(marks), stop
        found = self._pages.get(start)
        if found is None or (found.done() and (found.cancelled() or found.exception())):
            found = asyncio.ensure_future(self._in_replay_thread(self._read_page, start, end))
            self._pages[start] = found
            while len(self._pages) > REPLAY_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(start)
        page: ReplayPage = await asyncio.shield(found)
        return page, end

    def _read_page(self, start: int, end: int) -> ReplayPage:
        return ReplayPage(self.service.event_marks(start, BATCH, end))

    def _replay_events(
        self,
        reader: Principal,
        wanted: frozenset[str],
        exercise: ExerciseScope,
        learnt: Routes,
        page: ReplayPage,
        after: int,
        stop: int,
    ) -> tuple[list[Routed], int | None]:
        """Of a replay page, the events after ``after`` the reader may see and wants, built,
        and the position of the reader's token's revocation (the page ends there). What may
        be shown is chosen from the index's markings first (:meth:`_choose`); only those
        events are decoded, and each still goes through the whole filter
        (:meth:`_replay_filter`): the choice saves decoding, it never decides what is shown."""
        if not self.prefilter:
            marks = [m for m in page.marks if m.position > after]
            return self._replay_filter(
                reader, wanted, exercise, learnt, self._decode(page, marks), stop
            )
        revoked = page.revocations.get(reader.token_id) if reader.token_id else None
        if revoked is not None and revoked <= after:
            revoked = None
        kind = (policy.scope_of(reader), reader.clearance, wanted, exercise)
        chosen = page.chosen.get(kind)
        if chosen is None:  # two replays of one kind at once may both choose: no harm
            chosen = page.chosen[kind] = self._choose(reader, wanted, exercise, page.marks, stop)
        marks = [
            m for m in chosen if m.position > after and (revoked is None or m.position < revoked)
        ]
        events, _ = self._replay_filter(
            reader, wanted, exercise, learnt, self._decode(page, marks), stop
        )
        return events, revoked

    def _decode(self, page: ReplayPage, marks: Sequence[EventMark]) -> list[LoggedEvent]:
        """The events at these markings, decoded (those another replay of the same range
        decoded already are taken from the page)."""
        missing = [m.position for m in marks if m.position not in page.decoded]
        if missing:
            for e in self.service.logged_at(missing):
                page.decoded[e.position] = e
            with self._decoding:
                self.decoded += len(missing)
        return [page.decoded[m.position] for m in marks if m.position in page.decoded]

    def _hub_route(
        self, stream_id: UUID, version: int, event_type: str, stop: int
    ) -> StreamRoute | None:
        """The hub's route of a stream (None: one it does not know), with the levels of the
        steps before ``version`` known when this step's level rests on them. The hub seeds
        its routes from the projections' rows, which hold no single step's level: a replay
        that meets a stream the hub has not seen a step of since then reads the stream's
        markings from the index (once per stream: up to ``stop``, which no version of a step
        recorded by then exceeds) — else a procedure's step after a classified one would be
        judged by its own marking alone."""
        with self.routes_lock:
            route = self.routes.streams.get(str(stream_id))
            if route is None or not route.rests_on_unknown(version, event_type):
                return route
        markings = self.service.stream_markings(stream_id, stop)  # not under the lock
        with self.routes_lock:
            Routes.fill(route, markings)
        return route

    def _choose(
        self,
        reader: Principal,
        wanted: frozenset[str],
        exercise: ExerciseScope,
        marks: list[EventMark],
        stop: int,
    ) -> list[EventMark]:
        """Of a page's markings, those of events the reader might see and want (decode
        these). Conservative: an event left out is one :meth:`_replay_filter` would leave
        out too. It judges by the same rule on the same routes, with the step's level from
        its marking (:meth:`StreamRoute.marked_level`, never above the exact level), so it
        depends on the reader's scope, clearance, channels and exercise flag alone. Events
        of streams the hub does not know are all kept: the replay learns such a stream from
        its events, each of them."""
        at = policy.reader_level(reader)
        chosen: list[EventMark] = []
        levels: dict[str, int] = {}  # classification -> level
        decided: dict[tuple[UUID, tuple[str, ...], int], bool] = {}
        #: (stream, regions) outside the reader's scope: no step of it shows, whatever its
        #: level (most of a narrow reader's page; decided once per page, as ``decided``).
        outside: set[tuple[UUID, tuple[str, ...]]] = set()
        for m in marks:
            mark = levels.get(m.classification)
            if mark is None:
                mark = levels[m.classification] = policy.level(m.classification)
            if not exercise.admits(m.exercise) or mark > at or (m.stream_id, m.regions) in outside:
                continue
            route = self._hub_route(m.stream_id, m.version, m.event_type, stop)
            if route is None:
                if published(m.event_type):  # learnt from its events in _replay_filter
                    chosen.append(m)
                continue  # tokens and other internal streams are never published
            with self.routes_lock:
                level = route.marked_level(m.version, m.classification)
                memo = (m.stream_id, m.regions, level)
                keep = decided.get(memo)
                if keep is None:
                    keep = decided[memo] = policy.may_see_step(
                        reader, level, route.kind, m.regions, route.orgs
                    ) and not wanted.isdisjoint(channels(m.stream_id, route, m.regions))
                    if not keep and not policy.may_see_step(
                        reader, 0, route.kind, m.regions, route.orgs
                    ):
                        outside.add((m.stream_id, m.regions))  # not even at the lowest level
            if keep:
                chosen.append(m)
        return chosen

    def _replay_filter(
        self,
        reader: Principal,
        wanted: frozenset[str],
        exercise: ExerciseScope,
        learnt: Routes,
        logged: list[LoggedEvent],
        stop: int,
    ) -> tuple[list[Routed], int | None]:
        """Of a replay page's events, those the reader may see and wants, built (the rest
        only looked at), and the position of the reader's token's revocation (the page ends
        there)."""
        at = policy.reader_level(reader)
        events: list[Routed] = []
        marks: dict[str, int] = {}  # classification -> level
        #: (stream, regions, step level) -> the channels when the reader may see such a step of
        #: a stream the hub knows, else None: decided once per page (streams have many steps).
        decided: dict[tuple[UUID, tuple[str, ...], int], list[str] | None] = {}
        facts: dict[str, list[MessageFact]] | None = None  # read once, when first needed
        for e in logged:
            if e.api_type == REVOKED and e.stream_id == reader.token_id:
                return events, e.position
            # What the index row tells (exercise flag, the step's own marking) first: a step
            # is at least as classified as its marking.
            mark = marks.get(e.classification)
            if mark is None:
                mark = marks[e.classification] = policy.level(e.classification)
            if not exercise.admits(e.exercise) or mark > at:
                continue
            route = self._hub_route(e.stream_id, e.version, e.event_type, stop)
            with self.routes_lock:
                # The hub has learnt every stream up to the position this replay ends at; the
                # rest (streams the projections it was seeded from had not reached) are learnt
                # here, apart from the hub's routes. A replay never changes what the hub knows
                # of a stream from its events (it may fill in earlier steps' levels: above).
                if route is not None:
                    level = route.step_level(e.event)
                    memo = (e.stream_id, e.regions, level)
                    if memo in decided:
                        names = decided[memo]
                    else:
                        visible = policy.may_see_step(
                            reader, level, route.kind, e.regions, route.orgs
                        )
                        names = channels(e.stream_id, route, e.regions) if visible else None
                        decided[memo] = names
                else:
                    route, level, learnt_names = learnt.learn(e.stream_id, e.event, e.regions)
                    visible = route is not None and policy.may_see_step(
                        reader, level, route.kind, e.regions, route.orgs
                    )
                    names = learnt_names if visible else None
            if route is None or names is None or wanted.isdisjoint(names):
                continue
            if facts is None:
                facts = _facts(self.service, logged)
            events.append(routed(e, names, route, level, facts))
        return events, None

    def _rows(self, changes: list[dict[str, Any]]) -> list[FeedRow]:
        latest: dict[tuple[str, str, str, int], dict[str, Any]] = {}
        for change in changes:  # one row per key and kind of change: the latest
            # A clock change concerns one level's row; a row change every level from its
            # own up, so the latest of several says the lowest of them (a reader below the
            # latest change's level still gets the row an earlier change changed).
            clock = change["source"] == "board"
            key = (change["source"], change["key"], change["what"], change["level"] if clock else 0)
            earlier = latest.get(key)
            if earlier is not None and not clock:
                change = {**change, "level": min(change["level"], earlier["level"])}
            latest[key] = change
        by_projection: dict[str, list[str]] = {}
        for source, subject, _, _ in latest:
            projection = "requests" if source == "board" else source
            by_projection.setdefault(projection, []).append(subject)
        current: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for name, keys in by_projection.items():
            for r in self.service.view_rows_by_id(name, sorted(set(keys)), every_level=True):
                current.setdefault((name, r["id"]), []).append(r)
        rows = []
        for (source, subject, what, _), change in sorted(
            latest.items(), key=lambda kv: kv[1]["seq"]
        ):
            found = current.get(("requests" if source == "board" else source, subject))
            if not found:
                continue
            levels = []
            for row in sorted(found, key=lambda r: r.get("level", 0)):
                body = {"seq": change["seq"], "projection": source, "id": subject, "what": what}
                if source != "board":
                    body["row"] = row
                levels.append((row.get("level", 0), row, dumps(body)))
            rows.append(
                FeedRow(
                    change["seq"], source, change.get("level", 0), source == "board", tuple(levels)
                )
            )
        return rows

    def _changed_rows(
        self, after: int, limit: int, stop: int | None = None
    ) -> tuple[list[FeedRow], int]:
        """Changed rows after change ``after`` (up to ``stop``), and how far that reached."""
        changes = self.service.view_changes(after, limit)
        if stop is not None:
            changes = [c for c in changes if c["seq"] <= stop]
        upto = changes[-1]["seq"] if changes else after
        if stop is not None and len(changes) < limit:
            upto = max(upto, stop)
        return self._rows(changes), upto

    async def read_rows(
        self, after: int, limit: int, stop: int | None = None
    ) -> tuple[list[FeedRow], int]:
        """A page of changed rows for a replay (in the replay threads)."""
        rows: tuple[list[FeedRow], int] = await self._in_replay_thread(
            self._changed_rows, after, limit, stop
        )
        return rows

    def _summaries(self, rows: list[FeedRow]) -> dict[tuple[str, int], str]:
        """For regions on ``national``: the national summary without other regions' details,
        per region and clearance level, after requests or incidents changed.

        Counted in the store (mlob/read/summaries.py), once per clearance level for every
        region, and at most every :data:`SUMMARY_EVERY` seconds per level however often rows
        change. It stays correct: a summary is counted after the changes up to this window's
        ``change_upto`` were read, from rows at least that new, so it holds them; a change read
        later makes its level owed a summary, and an owed level is counted again at the
        first window :data:`SUMMARY_EVERY` after the last count (the hub reads at least every
        :data:`POLL` seconds, with or without changes): the last change is in a summary sent
        at most about two seconds after it."""
        wanted: dict[tuple[str, int], Principal] = {
            (c.scope.region or "", c.principal.clearance.rank): c.principal
            for c in self.connections
            if c.scope.kind is ScopeKind.REGION and "national" in c.channels
        }
        if not wanted:
            self.summary_owed.clear()
            return {}
        levels = {level for _, level in wanted}
        now = time.monotonic()
        if any(r.projection in ("requests", "incidents") for r in rows):
            for level in levels:  # counted from now on, a summary holds these changes
                self.summary_owed.setdefault(level, now)
        counted: dict[int, dict[str, Any]] = {}
        for level in sorted(levels & set(self.summary_owed)):
            if now - self.summary_at.get(level, -SUMMARY_EVERY) < SUMMARY_EVERY:
                continue
            # What rm.summary_for gives a region's reader, counted once for every region
            # (shared with the picture's answers: api/summaries.py), after the changes read.
            owed = self.summary_owed.pop(level)
            counted[level] = self.summaries.get(level, False, newer_than=owed).summary
            self.summary_at[level] = now
        return {
            (region, level): dumps(rm.regional_summary(counted[level], region))
            for region, level in wanted
            if level in counted
        }

    def _read(self) -> tuple[Batch, bool]:
        """One window's reading, in one worker thread: events (with how far the page reached,
        unpublished ones included; this process's own from memory, projections/recent.py),
        the tokens revoked among them, changed rows when anyone may want them; and whether the
        page was full (more to read)."""
        # This process's newest commits, from memory (as the writer handed them over: named
        # here, domain/vocabulary.py); the store's reader when memory does not hold them, or
        # when naming a step needs its booking's earlier state (an extension or an arrival).
        held = self.service.recent.after(self.head, BATCH)
        logged = None
        if held is not None and not any(
            vocabulary.booking_before_needed(e.event_type, e.event) for e in held
        ):
            with contextlib.suppress(vocabulary.UnknownTopic):  # the store's reader names it
                logged = [
                    e.replaced(api_type=vocabulary.api_type(e.event_type, e.event)) for e in held
                ]
        if logged is None:
            logged = self.service.logged_events(self.head, BATCH)
        events, revoked = self._route(logged)
        reached = logged[-1].position if logged else self.head
        full = len(logged) == BATCH
        rows: list[FeedRow] = []
        change_upto, summaries = self.change_head, {}
        if any(
            "views" in c.channels or (c.scope.kind is ScopeKind.REGION and "national" in c.channels)
            for c in self.connections
        ):
            rows, change_upto = self._changed_rows(self.change_head, BATCH)
            summaries = self._summaries(rows)
        batch = Batch(reached, events, change_upto, rows, summaries, revoked)
        return batch, full or len(rows) == BATCH

    async def _pump(self) -> None:
        assert self._wake is not None
        while not self.closing:
            assert self._loop is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL)
            # At most one frame per window: what arrives within a window of the previous frame
            # waits for the window's end and goes out together; after a quiet spell an event
            # goes out at once. Frames per client stay <= 1/WINDOW whatever the event rate.
            await asyncio.sleep(max(0.0, self.last_dispatch + WINDOW - self._loop.time()))
            self._wake.clear()
            try:
                batch, more = await asyncio.to_thread(self._read)
            except StoreUnavailable:
                continue  # the database is away; the next poll tries again
            except Exception:
                log.exception("feed: reading failed")
                continue
            self.last_read = self._loop.time()
            if (
                batch.upto == self.head
                and batch.change_upto == self.change_head
                and not batch.summaries  # an owed summary goes out without new changes
            ):
                continue
            self.head, self.change_head = batch.upto, batch.change_upto
            self.revoked.update(batch.revoked)
            self.last_dispatch = self._loop.time()
            connections = list(self.connections)
            expiring = [c for c in connections if c.principal.expires_at is not None]
            if expiring:  # no frame for a token past its expiry, whatever the timer's phase
                self._expire(expiring, self.service.now())
            for conn in connections:
                try:
                    conn.offer(batch)
                except Exception:  # one connection's trouble never stops the others
                    log.exception("feed: a connection failed; closing it")
                    conn.overflow()
            if more:
                self._wake.set()  # more to read


async def serve(
    hub: FeedHub, websocket: WebSocket, authenticate: Callable[[str], Awaitable[Principal | None]]
) -> None:
    """One WebSocket connection: authenticate, then subscribe/unsubscribe until it closes."""
    await websocket.accept()
    token = ""
    header = websocket.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        token = value.strip()
    try:
        if not token:
            first = await asyncio.wait_for(_receive_text(websocket), AUTH_TIMEOUT)
            token = str(_parse(first).get("token", "")).strip()
        principal = await authenticate(token) if token else None
    except BinaryMessage:
        await _refuse(websocket, 1003, Refused("binary_not_accepted"))
        return
    except (TimeoutError, ValueError, WebSocketDisconnect):
        principal = None
    expires_at = principal.expires_at if principal is not None else None
    if expires_at is not None and hub.service.now() >= expires_at:
        principal = None  # seen valid moments ago, expired since
    if principal is None:
        await _refuse(websocket, 1008, Refused("invalid_token", text="feed"), reason="")
        return
    try:
        await hub.start()
    except Exception:  # the store is away: the hub starts with the next connection
        log.warning("feed: the hub could not start (store unreachable)", exc_info=True)
        await _refuse(websocket, 1013, Refused("store_unavailable", text="feed_start"))
        return
    conn = Connection(hub, websocket, principal)
    refusal = hub.admit(conn)
    if refusal == "token_revoked":
        await _refuse(websocket, 1008, Refused("token_revoked"))
        return
    if refusal is not None:
        await _refuse(
            websocket, 1013, Refused("too_many_connections", max_connections=MAX_CONNECTIONS)
        )
        return
    sender = conn.sender_task = asyncio.create_task(conn.sender())
    conn.control(
        type="welcome",
        position=hub.head,
        change=hub.change_head,
        scope=conn.scope.as_dict(),
    )
    try:
        while not conn.closed:
            receiving = asyncio.ensure_future(_receive_text(websocket))
            done, _ = await asyncio.wait({receiving, sender}, return_when=asyncio.FIRST_COMPLETED)
            if sender in done:
                receiving.cancel()
                break
            try:
                message = _parse(receiving.result())
            except BinaryMessage:
                conn.end(1003, Refused("binary_not_accepted"))
                continue
            except Refused as exc:
                conn.refuse(exc)
                continue
            await _handle(conn, message)
        if not sender.done():  # closing: what was queued goes out, then the close
            await asyncio.wait({sender}, timeout=CLOSE_WAIT + 1.0)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        hub.leave(conn)
        hub.give_replay(conn)
        conn.closed = True
        sender.cancel()
        with contextlib.suppress(BaseException):
            await sender


async def _receive_text(websocket: WebSocket) -> str:
    """The next message's text; :class:`BinaryMessage` for a binary one (Starlette's
    ``receive_text`` raises a bare KeyError on those)."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    text = message.get("text")
    if text is None:
        raise BinaryMessage
    return str(text)


async def _refuse(
    websocket: WebSocket, code: int, refusal: Refused, reason: str | None = None
) -> None:
    """Refuse a connection: an error frame (in the handshake's language), then close with
    ``code`` (reason: the error's code unless given)."""
    lang = language(websocket.headers.get("accept-language"))
    frame = {"type": "error", "code": refusal.code, "reason": refusal.reason_in(lang)}
    with contextlib.suppress(Exception):
        await websocket.send_text(dumps(frame))
        await websocket.close(code=code, reason=refusal.code if reason is None else reason)


def _parse(text: str) -> dict[str, Any]:
    try:
        message = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise Refused("malformed", text="object") from None
    if not isinstance(message, dict):
        raise Refused("malformed", text="object")
    return message


def _channel_list(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or not value:
        raise Refused("malformed", text="channels")
    if len(value) > policy.MAX_CHANNELS:
        raise Refused("too_many_channels", max_channels=policy.MAX_CHANNELS)
    return value


def _position(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise Refused("malformed", text="position", name=name)
    return value


async def _handle(conn: Connection, message: dict[str, Any]) -> None:
    try:
        if "subscribe" in message:
            exercise = message.get("exercise")
            await conn.subscribe(
                _channel_list(message["subscribe"]),
                _position(message.get("after"), "after"),
                _position(message.get("after_change"), "after_change"),
                None if exercise is None else _exercise(exercise),
            )
        elif "unsubscribe" in message:
            conn.unsubscribe(_channel_list(message["unsubscribe"]))
        elif message.get("type") == "ping":
            conn.control(type="pong", position=conn.cursor, change=conn.change_cursor)
        elif "token" in message:
            conn.refuse(Refused("already_authenticated"))
        else:
            raise Refused("malformed", text="unknown")
    except Refused as exc:
        conn.refuse(exc)


def _exercise(value: object) -> ExerciseScope:
    try:
        return ExerciseScope.parse(value)
    except ValueError:
        raise Refused("malformed", text="exercise", value=str(value)[:20]) from None
