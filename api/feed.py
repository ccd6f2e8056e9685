"""The live feed: ``/v1/feed`` over WebSocket — resumable, bounded, one frame per window.

One hub per server process reads what was appended (woken right after local appends, by
PostgreSQL LISTEN/NOTIFY for other processes, and by polling), and hands each connection the
events and changed read-model rows of its channels that its reader may see. Events that arrive
within one window (``WINDOW`` s) go out in one frame, so the number of frames per client does
not grow with the event rate. Positions on a connection only increase: a frame says up to which
event position (``position``) and read-model change (``change``) the client is complete, and a
client that reconnects with ``after`` = that position misses nothing and gets nothing twice.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from fastapi import WebSocket, WebSocketDisconnect

from api.ports import LoggedEvent, MlobService, Principal, StoreUnavailable
from api.rendering import dumps, event_body
from domain import policy
from domain.policy import ScopeKind
from projections import readmodels as rm
from projections.routing import Routes, StreamRoute, channels, may_see

log = logging.getLogger("mlob.feed")

#: At most one frame per this many seconds: events appended within it go out in one frame.
WINDOW = 0.05
#: Events (and read-model changes) read per store query.
BATCH = 1000
#: Frames, and bytes, a connection may have waiting (at least one frame, however large); a
#: client that falls further behind gets ``resync``.
QUEUE_FRAMES = 64
QUEUE_BYTES = 1 << 20
#: Batches held for a connection while it catches up from the store.
PENDING_BATCHES = 256
#: A frame holds events up to about this many bytes (clients limit message sizes, often 1 MiB).
FRAME_BYTES = 256 * 1024
#: Seconds without a frame after which a heartbeat is sent.
HEARTBEAT = 15.0
#: Seconds to poll when nothing woke the hub (a lost LISTEN connection must not stall it).
POLL = 1.0
#: Seconds a client that overflowed has to read on before its resync is given up.
RESYNC_WAIT = 30.0
#: Queue marker: send ``resync`` with what the client has surely received.
RESYNC: Any = object()
#: Seconds a browser has to send ``{"token": ...}`` as its first message.
AUTH_TIMEOUT = 10.0


@dataclass(frozen=True)
class FeedEvent:
    position: int
    channels: frozenset[str]
    route: StreamRoute | None
    level: int  # the step's level (domain.policy.step_level)
    regions: tuple[str, ...]
    classification: str
    exercise: bool
    actor_org: str
    body: str  # the event as JSON, serialised once for every connection


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
    events: list[FeedEvent]
    change_upto: int
    rows: list[FeedRow] = field(default_factory=list)
    summaries: dict[tuple[str, int], str] = field(default_factory=dict)
    #: Frames already built for one kind of reader at one position: most connections share
    #: them, so fan-out costs one build per kind of reader, not per connection.
    built: dict[tuple[Any, ...], tuple[list[tuple[str, int, int]], int, int]] = field(
        default_factory=dict
    )


class Overflow(Exception):
    """The connection's queue is full: the client stopped reading."""


class Connection:
    def __init__(self, hub: "FeedHub", websocket: WebSocket, principal: Principal) -> None:
        self.hub = hub
        self.websocket = websocket
        self.principal = principal
        self.scope = policy.scope_of(principal)
        #: Connections of one kind of reader get the same frames (built once per batch).
        self.reader_key = (self.scope, principal.clearance)
        self.channels: set[str] = set()
        self.exercise = False
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

    # --- filtering ---------------------------------------------------------------------------

    def wants(self, event: FeedEvent) -> bool:
        if event.exercise and not self.exercise:
            return False
        if not (event.channels & self.channels):
            return False
        return may_see(self.principal, event.route, event.regions, event.level)

    def row_body(self, row: FeedRow) -> str | None:
        if "views" not in self.channels:
            return None
        found = row.for_reader(self.principal)
        if found is None or (found[0]["exercise"] and not self.exercise):
            return None
        return found[1]

    def frames(self, batch: Batch) -> list[tuple[str, int, int]]:
        """The frames of ``batch`` for this connection (none: nothing for it), each at most
        about ``FRAME_BYTES`` long; moves the cursor."""
        key = (
            frozenset(self.channels),
            self.reader_key,
            self.exercise,
            self.cursor,
            self.change_cursor,
        )
        found = batch.built.get(key)
        if found is None:
            frames = self._build(batch)  # moves the cursors
            found = batch.built[key] = (frames, self.cursor, self.change_cursor)
        frames, self.cursor, self.change_cursor = found
        return frames

    def _build(self, batch: Batch) -> list[tuple[str, int, int]]:
        events = [e for e in batch.events if e.position > self.cursor and self.wants(e)]
        rows = [
            body
            for r in batch.rows
            if r.seq > self.change_cursor and (body := self.row_body(r)) is not None
        ]
        summary = None
        if "national" in self.channels and self.scope.kind is ScopeKind.REGION:
            summary = batch.summaries.get((self.scope.region or "", self.principal.clearance.rank))
        frames = []
        chunk: list[str] = []
        size = last = 0
        for event in events:
            if chunk and size + len(event.body) > FRAME_BYTES:
                self.cursor = max(self.cursor, last)
                frames.append((self._frame(chunk, [], None), self.cursor, self.change_cursor))
                chunk, size = [], 0
            chunk.append(event.body)
            size += len(event.body)
            last = event.position
        self.cursor = max(self.cursor, batch.upto)
        self.change_cursor = max(self.change_cursor, batch.change_upto)
        if chunk or rows or summary is not None:
            frames.append((self._frame(chunk, rows, summary), self.cursor, self.change_cursor))
        return frames

    def _frame(self, events: list[str], rows: list[str], summary: str | None) -> str:
        parts = [
            f'{{"type":"frame","position":{self.cursor},"change":{self.change_cursor},',
            f'"events":[{",".join(events)}],"rows":[{",".join(rows)}]',
        ]
        if summary is not None:
            parts.append(f',"summary":{summary}')
        parts.append("}")
        return "".join(parts)

    # --- sending -----------------------------------------------------------------------------

    def offer(self, batch: Batch) -> None:
        """Called by the hub for every batch, in order (never blocks)."""
        if self.closed:
            return
        if not self.live:
            self.pending.append(batch)
            if len(self.pending) > PENDING_BATCHES:
                self.overflow()
            return
        for frame in self.frames(batch):
            self.put_nowait(frame)

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

    def overflow(self) -> None:
        """The client does not keep up: drop what waits for it (memory stays bounded whatever
        the client does), then tell it where to resume, and close."""
        if self.closed:
            return
        self.closed = True
        self.hub.overflows += 1
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
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self.websocket.close(code=self.close_code), 1.0)
                return
            if item is RESYNC:
                # Computed now: the frame that was on its way when the queue overflowed counts.
                position, change = self.sent
                message = dumps({"type": "resync", "position": position, "change": change})
                with contextlib.suppress(Exception):  # the client has this long to read on
                    await asyncio.wait_for(self.websocket.send_text(message), RESYNC_WAIT)
                continue
            message, position, change = item  # type: ignore[misc]
            self.queued_bytes -= len(message)
            await self.websocket.send_text(message)
            self.last_sent = loop.time()
            self.messages += 1
            if message.startswith('{"type":"frame"'):
                self.sent = (position, change)

    # --- subscribing -------------------------------------------------------------------------

    async def subscribe(
        self,
        wanted: Sequence[str],
        after: int | None,
        after_change: int | None,
        exercise: bool | None,
    ) -> None:
        refused = [c for c in wanted if not policy.may_subscribe(self.principal, c)]
        if refused:
            self.control(
                type="error",
                code="channel_not_permitted",
                reason=f"not a channel you may subscribe to: {', '.join(refused)}",
            )
            return
        if exercise is not None:
            self.exercise = exercise
        self.channels |= set(wanted)
        if after is not None and after > self.cursor and not self.subscriptions:
            # The client already has more than this process has dispatched (it comes from
            # another node, or this one just restarted): nothing up to ``after`` again.
            self.cursor = after
            self.sent = (after, self.sent[1])
        if (
            after_change is not None
            and after_change > self.change_cursor
            and not self.subscriptions
        ):
            self.change_cursor = after_change
            self.sent = (self.sent[0], after_change)
        replay = after is not None and after < self.cursor
        replay_changes = after_change is not None and after_change < self.change_cursor
        if (replay or replay_changes) and self.subscriptions:
            self.control(
                type="error",
                code="after_only_first",
                reason="history is replayed only on a connection's first subscription; "
                "reconnect with after to resume",
            )
            replay = replay_changes = False
        self.subscriptions += 1
        self.control(
            type="subscribed",
            channels=sorted(self.channels),
            position=after if replay else self.cursor,
            change=after_change if replay_changes else self.change_cursor,
        )
        if replay or replay_changes:
            await self.catch_up(
                after if replay else self.cursor,
                after_change if replay_changes else self.change_cursor,
            )

    async def catch_up(self, after: int, after_change: int) -> None:
        """Send what was recorded after ``after`` from the store, then switch to live with no
        gap and no duplicate: batches the hub dispatches meanwhile are held, then filtered."""
        self.live = False
        self.pending = []
        head, change_head = self.hub.head, self.hub.change_head
        self.cursor, self.change_cursor = after, after_change
        self.sent = (after, after_change)
        while (self.cursor < head or self.change_cursor < change_head) and not self.closed:
            events: list[FeedEvent] = []
            upto, full = head, False
            if self.cursor < head:
                events, last, full = await self.hub.read_events(self.cursor, BATCH, stop=head)
                upto = last if full else head
            rows: list[FeedRow] = []
            change_upto = self.change_cursor
            if self.change_cursor < change_head and "views" in self.channels:
                rows, change_upto = await self.hub.read_rows(
                    self.change_cursor, BATCH, stop=change_head
                )
            elif self.change_cursor < change_head:
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
        if self.hub.before_live is not None:
            await self.hub.before_live(self)
        # From here to the end no await: nothing can be dispatched in between.
        pending, self.pending = self.pending, []
        self.live = True
        for batch in pending:
            for frame in self.frames(batch):
                self.put_nowait(frame)

    def unsubscribe(self, unwanted: Sequence[str]) -> None:
        self.channels -= set(unwanted)
        self.control(type="unsubscribed", channels=sorted(self.channels))


class FeedHub:
    """Reads what was appended and hands it to every connection of this process."""

    def __init__(self, service: MlobService) -> None:
        self.service = service
        self.connections: set[Connection] = set()
        self.routes = Routes()
        self.head = 0
        self.change_head = 0
        self.overflows = 0
        self.started = False
        self.closing = False
        self._wake: asyncio.Event | None = None
        self.last_dispatch = 0.0
        self._task: asyncio.Task[None] | None = None
        self._beat: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        #: Tests: awaited between a connection's catch-up and its switch to live.
        self.before_live: Callable[[Connection], Awaitable[None]] | None = None

    async def start(self) -> None:
        if self.started:
            return
        self.started = True
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self.head = await asyncio.to_thread(self.service.last_position)
        self.change_head = await asyncio.to_thread(self.service.last_change)
        requests = await asyncio.to_thread(self.service.view_rows_every_level, "requests")
        capacities = await asyncio.to_thread(self.service.view_rows_every_level, "capacities")
        incidents = await asyncio.to_thread(self.service.view_rows_every_level, "incidents")
        self.routes.seed(requests, capacities, incidents)
        self.service.on_change(self.wake)
        self._task = asyncio.create_task(self._pump())
        self._beat = asyncio.create_task(self._heartbeats())

    def wake(self) -> None:
        """Thread-safe: something was appended or changed."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._woken)

    def _woken(self) -> None:
        assert self._wake is not None
        self._wake.set()

    async def _heartbeats(self) -> None:
        """One timer for every connection's heartbeat (not one per message)."""
        assert self._loop is not None
        while not self.closing:
            await asyncio.sleep(HEARTBEAT / 3)
            now = self._loop.time()
            for conn in list(self.connections):
                conn.heartbeat(now)

    async def close(self) -> None:
        self.closing = True
        if self._beat is not None:
            self._beat.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        for conn in list(self.connections):
            conn.shut_down()
        deadline = asyncio.get_running_loop().time() + 2.0
        while self.connections and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)

    # --- reading -----------------------------------------------------------------------------

    def _prepare(self, logged: list[LoggedEvent]) -> list[FeedEvent]:
        prepared = []
        for e in logged:
            route, level = self.routes.learn(e.stream_id, e.event)
            if route is None:
                continue  # tokens and other internal streams are never published
            names = channels(e.stream_id, route, e.regions)
            body = {**event_body(e), "channels": names}
            prepared.append(
                FeedEvent(
                    e.position,
                    frozenset(names),
                    route,
                    level,
                    e.regions,
                    e.classification,
                    e.exercise,
                    e.actor_org,
                    dumps(body),
                )
            )
        return prepared

    async def read_events(
        self, after: int, limit: int, stop: int | None = None
    ) -> tuple[list[FeedEvent], int, bool]:
        """The published events of a page, how far the page reached (unpublished events such
        as tokens included) and whether it was full (more to read)."""
        logged = await asyncio.to_thread(
            self.service.logged_events, after, limit, stop, recent=True
        )
        last = logged[-1].position if logged else after
        return self._prepare(logged), last, len(logged) == limit

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
        for source, key, _, _ in latest:
            by_projection.setdefault("requests" if source == "board" else source, []).append(key)
        current: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for name, keys in by_projection.items():
            for r in self.service.view_rows_by_id(name, sorted(set(keys)), every_level=True):
                current.setdefault((name, r["id"]), []).append(r)
        rows = []
        for (source, key, what, _), change in sorted(latest.items(), key=lambda kv: kv[1]["seq"]):
            found = current.get(("requests" if source == "board" else source, key))
            if not found:
                continue
            levels = []
            for row in sorted(found, key=lambda r: r.get("level", 0)):
                body = {"seq": change["seq"], "projection": source, "id": key, "what": what}
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
        return await asyncio.to_thread(self._changed_rows, after, limit, stop)

    def _summaries(self, rows: list[FeedRow]) -> dict[tuple[str, int], str]:
        """For regions on ``national``: the national summary without other regions' details,
        per region and clearance level, when requests or incidents changed."""
        wanted: dict[tuple[str, int], Principal] = {
            (c.scope.region or "", c.principal.clearance.rank): c.principal
            for c in self.connections
            if c.scope.kind is ScopeKind.REGION and "national" in c.channels
        }
        if not wanted or not any(r.projection in ("requests", "incidents") for r in rows):
            return {}
        summaries = {}
        for key, reader in wanted.items():
            level = reader.clearance
            incidents = rm.visible(self.service.view_rows("incidents", level.rank), level)
            requests = rm.visible(self.service.view_rows("requests", level.rank), level)
            summaries[key] = dumps(rm.summary_for(reader, incidents, requests))
        return summaries

    def _read(
        self,
    ) -> tuple[list[FeedEvent], int, bool, list[FeedRow], int, dict[tuple[str, int], str]]:
        """One window's reading, in one worker thread: events (with how far the page reached,
        unpublished ones included, and whether it was full), and changed rows when anyone may
        want them."""
        logged = self.service.logged_events(self.head, BATCH, recent=True)
        events = self._prepare(logged)
        reached = logged[-1].position if logged else self.head
        full = len(logged) == BATCH
        extra = self._read_rows()
        return (events, reached, full, *extra)

    def _read_rows(self) -> tuple[list[FeedRow], int, dict[tuple[str, int], str]]:
        wanted = any(
            "views" in c.channels or (c.scope.kind is ScopeKind.REGION and "national" in c.channels)
            for c in self.connections
        )
        if not wanted:
            return [], self.change_head, {}
        rows, upto = self._changed_rows(self.change_head, BATCH)
        return rows, upto, self._summaries(rows) if rows else {}

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
                events, upto, full, rows, change_upto, summaries = await asyncio.to_thread(
                    self._read
                )
            except StoreUnavailable:
                continue  # the database is away; the next poll tries again
            except Exception:
                log.exception("feed: reading failed")
                continue
            if upto == self.head and change_upto == self.change_head:
                continue
            batch = Batch(upto, events, change_upto, rows, summaries)
            self.head, self.change_head = upto, change_upto
            self.last_dispatch = self._loop.time()
            for conn in list(self.connections):
                try:
                    conn.offer(batch)
                except Exception:  # one connection's trouble never stops the others
                    log.exception("feed: a connection failed; closing it")
                    conn.overflow()
            if full or len(rows) == BATCH:
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
            first = await asyncio.wait_for(websocket.receive_text(), AUTH_TIMEOUT)
            token = str(_parse(first).get("token", "")).strip()
        principal = await authenticate(token) if token else None
    except (TimeoutError, ValueError, WebSocketDisconnect):
        principal = None
    if principal is None:
        with contextlib.suppress(Exception):
            await websocket.send_text(
                dumps({"type": "error", "code": "invalid_token", "reason": "send a valid token"})
            )
            await websocket.close(code=1008)
        return
    await hub.start()
    conn = Connection(hub, websocket, principal)
    hub.connections.add(conn)
    sender = asyncio.create_task(conn.sender())
    conn.control(
        type="welcome",
        position=hub.head,
        change=hub.change_head,
        scope=conn.scope.as_dict(),
    )
    try:
        while not conn.closed:
            receiving = asyncio.ensure_future(websocket.receive_text())
            done, _ = await asyncio.wait({receiving, sender}, return_when=asyncio.FIRST_COMPLETED)
            if sender in done:
                receiving.cancel()
                break
            try:
                message = _parse(receiving.result())
            except ValueError as exc:
                conn.control(type="error", code="malformed", reason=str(exc))
                continue
            await _handle(conn, message)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        hub.connections.discard(conn)
        conn.closed = True
        sender.cancel()
        with contextlib.suppress(BaseException):
            await sender


def _parse(text: str) -> dict[str, Any]:
    try:
        message = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise ValueError("a message is a JSON object") from None
    if not isinstance(message, dict):
        raise ValueError("a message is a JSON object")
    return message


def _channel_list(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or not value:
        raise ValueError("channels are a non-empty list of strings")
    if len(value) > 100:
        raise ValueError("at most 100 channels per message")
    return value


def _position(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name} is a position: a whole number >= 0")
    return value


async def _handle(conn: Connection, message: dict[str, Any]) -> None:
    try:
        if "subscribe" in message:
            exercise = message.get("exercise")
            if exercise is not None and not isinstance(exercise, bool):
                raise ValueError("exercise is true or false")
            await conn.subscribe(
                _channel_list(message["subscribe"]),
                _position(message.get("after"), "after"),
                _position(message.get("after_change"), "after_change"),
                exercise,
            )
        elif "unsubscribe" in message:
            conn.unsubscribe(_channel_list(message["unsubscribe"]))
        elif message.get("type") == "ping":
            conn.control(type="pong", position=conn.cursor, change=conn.change_cursor)
        elif "token" in message:
            conn.control(type="error", code="already_authenticated", reason="send it only once")
        else:
            raise ValueError("send subscribe, unsubscribe or ping")
    except ValueError as exc:
        conn.control(type="error", code="malformed", reason=str(exc))
