"""Running the projections: in the server process or as ``mlob worker``, one active runner per
projection across all processes, a second one standing by.

A runner reads the events after its projection's position (only the topics it follows), applies
them to the aggregates it keeps in memory, and writes the changed rows together with the new
position in one transaction. It is woken right after each append in its own process and polls
otherwise, so separate workers and other processes' appends are picked up too.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

import psycopg

from domain.base import MlobAggregate
from mlob.read.readstore import (
    Change,
    ReadStore,
    Tracking,
    TrackingConflict,
    rebuilds_of,
    served,
)
from mlob.runners.boardclock import BoardClock, StoreRows
from mlob.write.application import MlobApplication
from projections.levels import Leveled
from projections.readmodels import DEFAULT_TARGETS, Targets
from projections.specs import PROJECTIONS, Projection

log = logging.getLogger("mlob.projections")

#: Events per batch: one transaction per batch (rows, change records and position).
BATCH = 2000
#: Aggregates a runner keeps in memory between batches.
CACHE_SIZE = 100_000
#: Seconds between two checks that a held advisory lock's connection is still alive.
LEASE_CHECK = 1.0
#: A runner that found none of its events writes its new position at most this often (s).
POSITION_EVERY = 0.1
#: Seconds after which a runner reads its stored position again (a reset from elsewhere).
RECHECK = 1.0
#: Seconds between two automatic signed checkpoints of the hash chain (with an audit key).
CHECKPOINT_EVERY = 600.0
#: Seconds after a failure during which a runner counts as failing (it retries every second).
FAILING_FOR = 5.0
#: Seconds between two looks whether a picture checkpoint is due (mlob/read/pictures.py).
PICTURE_CHECK = 5.0
#: Seconds between two looks of the board's clock (overdue is published within this).
TICK = 1.0


class Lease:
    """Who may run a projection: exactly one holder across all processes."""

    def acquire(self) -> bool:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError


class FileLease(Lease):
    """SQLite: an exclusive lock on a file next to the store (released when the process dies)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self) -> bool:
        if self.fd is not None:
            return True
        fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class AdvisorySession:
    """PostgreSQL: one connection per process holds the session advisory locks of its
    runners; the server releases them when that connection or the process dies."""

    def __init__(self, info: str) -> None:
        self.info = info
        self.conn: psycopg.Connection[Any] | None = None
        self.generation = 0  # bumped on every new connection: older locks are gone
        self.lock = threading.Lock()

    def alive(self) -> bool:
        if self.conn is None:
            return False
        try:
            self.conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            self.close()
            return False

    def try_lock(self, key: str) -> int | None:
        """The generation the lock was taken in, or None if someone else holds it."""
        with self.lock:
            if not self.alive():
                try:
                    self.conn = psycopg.connect(self.info, autocommit=True)
                except psycopg.Error:
                    return None
                self.generation += 1
            assert self.conn is not None
            try:
                got = self.conn.execute(
                    "SELECT pg_try_advisory_lock(hashtext(%s))", (key,)
                ).fetchone()
            except psycopg.Error:
                self.close()
                return None
            return self.generation if got and got[0] else None

    def still_held(self, generation: int) -> bool:
        with self.lock:
            return self.generation == generation and self.alive()

    def unlock(self, key: str, generation: int) -> None:
        with self.lock:
            if self.conn is not None and self.generation == generation:
                with contextlib.suppress(psycopg.Error):
                    self.conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(psycopg.Error):
                self.conn.close()
            self.conn = None


class AdvisoryLease(Lease):
    """PostgreSQL: a session advisory lock on the process's lease connection."""

    def __init__(self, session: AdvisorySession, key: str) -> None:
        self.session = session
        self.key = key
        self.generation: int | None = None
        self.checked = 0.0

    def acquire(self) -> bool:
        if self.generation is not None:
            # Not a round trip per batch: a lost connection shows within a second (and a
            # batch written meanwhile is still guarded by its expected position).
            if time.monotonic() - self.checked < LEASE_CHECK:
                return True
            if self.session.still_held(self.generation):
                self.checked = time.monotonic()
                return True
            self.generation = None
        self.generation = self.session.try_lock(self.key)
        self.checked = time.monotonic()
        return self.generation is not None

    def release(self) -> None:
        if self.generation is not None:
            self.session.unlock(self.key, self.generation)
            self.generation = None


class Runner:
    """Keeps one projection up to date."""

    def __init__(
        self,
        app: MlobApplication,
        projection: Projection,
        store: ReadStore,
        lease: Lease,
        *,
        batch: int = BATCH,
    ) -> None:
        self.app = app
        self.projection = projection
        self.store = store
        self.lease = lease
        self.batch = batch
        #: Each subject's states by clearance level (projections/levels.py).
        self.cache: OrderedDict[UUID, Leveled] = OrderedDict()
        self.cached_at = -1  # the position the cache reflects
        self.checked_at = 0.0  # when the stored position was last read
        self.unwritten = 0  # looked at up to here, nothing of ours, not yet written
        self.written_at = 0.0
        self.active = False
        self.failed_at = -FAILING_FOR  # when its last attempt here failed (monotonic)
        #: Whether it writes the next rows of a rebuild (readers are served the previous).
        self.building = False
        self.progress: Callable[[], None] = lambda: None

    def run_once(self) -> int:
        """Apply the next batch; the number of notifications read (0: caught up)."""
        p = self.projection
        if self.cached_at < 0 or time.monotonic() - self.checked_at > RECHECK:
            self.checked_at = time.monotonic()
            position, building = self._where()
            if position != self.cached_at or building != self.building:
                self.cache.clear()  # another runner moved it, or a rebuild began or ended
                self.unwritten = 0
            self.building = building
        else:
            # Holding the lease, this runner is the only writer: its own position is current.
            # Should anyone have moved it (a reset), the guarded write fails and we re-read.
            position = self.cached_at
        scanned = max(position, self.unwritten)
        top = self.app.recorder.max_notification_id() or 0
        if top <= scanned:
            self.cached_at = position
            if self.building:  # the next rows are complete: serve them
                self._switch(position)
                return 1
            if self.unwritten > position and time.monotonic() - self.written_at >= POSITION_EVERY:
                self._write_position(position)
            return 0
        notifications = self.app.recorder.select_notifications(
            start=scanned + 1, limit=self.batch, stop=top, topics=p.topics
        )
        # Gaps and other topics are skipped: a short page means everything up to ``top``.
        reached = notifications[-1].id if len(notifications) == self.batch else top
        if (
            not notifications
            and not self.building  # a rebuild goes on to its switch
            and time.monotonic() - self.written_at < POSITION_EVERY
        ):
            # None of this projection's events: note how far it has looked, and write that a
            # little later (readers here see it at once) instead of a commit per wake-up.
            self.cached_at = position
            self.unwritten = reached
            return 0
        touched: dict[UUID, Leveled] = {}
        lowest: dict[str, int] = {}  # per subject, the lowest level a step of this batch is at
        try:
            self._load_missing(notifications)
            for notification in notifications:
                event = cast(MlobAggregate.Event, self.app.mapper.to_domain_event(notification))
                subject = event.originator_id
                leveled = touched.get(subject) or self.cache.get(subject)
                if leveled is None:
                    if event.originator_version > 1:
                        raise RuntimeError(f"stream {subject} has no events before this batch's")
                    leveled = Leveled()
                at = leveled.apply(event)
                touched[subject] = leveled
                key = str(subject)
                lowest[key] = min(lowest.get(key, at), at)
            rows = []
            for subject, leveled in touched.items():
                key = str(subject)
                if p.top_shared:  # lower rows show what the top holds (withheld)
                    lowest[key] = min(leveled.states)
                rows += [r for r in p.rows(leveled) if r["level"] >= lowest[key]]
            self.store.apply(
                p.name, rows, reached, p.version, position, lowest, rebuild=self.building
            )
        except BaseException:
            self.cache.clear()  # aggregates were mutated in place: start afresh
            self.cached_at = -1
            self.unwritten = 0
            raise
        self.unwritten = 0
        self.written_at = time.monotonic()
        for subject, aggregate in touched.items():
            self.cache[subject] = aggregate
            self.cache.move_to_end(subject)
        while len(self.cache) > CACHE_SIZE:
            self.cache.popitem(last=False)
        self.cached_at = reached
        return max(1, len(notifications))

    def _where(self) -> tuple[int, bool]:
        """Where this projection's rows are written from here: the position, and whether
        they are the next rows of a rebuild (not served yet) rather than the served ones. A
        code version other than the served rows' begins a rebuild; the previous rows are
        served meanwhile."""
        p = self.projection
        served = self.store.tracking(p.name)
        rebuild = self.store.rebuilds().get(p.name)
        if rebuild is not None and rebuild.version == p.version:
            return rebuild.position, True
        if served.version == p.version:
            if rebuild is not None:  # begun by code of another version: not ours to finish
                self.store.end_rebuild(p.name)
            return served.position, False
        log.info(
            "projection %s: code version %s -> %s, rebuilding (the previous rows are served "
            "until then)",
            p.name,
            served.version or "(none)",
            p.version,
        )
        self.store.begin_rebuild(p.name, p.version)
        return 0, True

    def _switch(self, position: int) -> None:
        """Serve the rebuilt rows: what was looked at but not written goes in first."""
        try:
            if self.unwritten > position:
                self._write_position(position)
            self.store.switch(self.projection.name, self.cached_at)
        except BaseException:
            self.cached_at = -1
            self.unwritten = 0
            raise
        self.building = False
        log.info("projection %s: rebuilt at position %d", self.projection.name, self.cached_at)

    def _write_position(self, position: int) -> None:
        try:
            self.store.apply(
                self.projection.name,
                [],
                self.unwritten,
                self.projection.version,
                position,
                rebuild=self.building,
            )
        except BaseException:
            self.cached_at = -1
            self.unwritten = 0
            raise
        self.cached_at, self.unwritten = self.unwritten, 0
        self.written_at = time.monotonic()

    @property
    def seen(self) -> int:
        """How far this runner has processed (written or, briefly, only in memory)."""
        return max(self.cached_at, self.unwritten)

    def _load_missing(self, notifications: Sequence[Any]) -> None:
        """Aggregates this batch continues but memory does not hold (after a restart): all
        fetched in one query, up to the version before the batch's first event of each."""
        first: dict[UUID, int] = {}
        for n in notifications:
            if n.originator_id not in self.cache and n.originator_id not in first:
                first[n.originator_id] = n.originator_version
        wanted = {s: v for s, v in first.items() if v > 1}
        if not wanted:
            return
        found: dict[UUID, Leveled] = {}
        for stored in self.app.recorder.select_after([(s, 0) for s in wanted]):  # type: ignore[attr-defined]
            if stored.originator_version < wanted[stored.originator_id]:
                event = cast(MlobAggregate.Event, self.app.mapper.to_domain_event(stored))
                found.setdefault(stored.originator_id, Leveled()).apply(event)
        for subject, leveled in found.items():
            self.cache[subject] = leveled

    def catch_up(self) -> None:
        """Run batches until caught up (the caller holds the lease), position written."""
        while self.run_once():
            self.progress()
        if self.unwritten > self.cached_at >= 0:
            self._write_position(self.cached_at)
        self.progress()


def checkpoint_age(store: ReadStore) -> float | None:
    """Seconds since the newest signed chain checkpoint was written (None: none yet)."""
    at = store.newest_signed_checkpoint_at()
    if at is None:
        return None
    written = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
    return (datetime.now(UTC) - written).total_seconds()


class Projections:
    """The projection runners of one process, and what readers ask of them."""

    def __init__(
        self,
        app: MlobApplication,
        store: ReadStore,
        *,
        projections: Sequence[Projection] = PROJECTIONS,
        clock: Callable[[], datetime],
        poll_interval: float | None = None,
        standby_interval: float = 1.0,
    ) -> None:
        self.app = app
        self.store = store
        self.clock = clock
        self.poll_interval = poll_interval or (0.5 if store.kind == "sqlite" else 0.05)
        self.standby_interval = standby_interval
        self.session = (
            AdvisorySession(app.store.connect_info()) if app.store.kind != "sqlite" else None
        )
        self.runners = [Runner(app, p, store, self._lease(p.name)) for p in projections]
        self._wakes = {r.projection.name: threading.Event() for r in self.runners}
        #: Called right after an append in this process (the writer's after-commit hooks:
        #: each runner's ``Event.set`` itself, no function of ours in between).
        self.wakes = [wake.set for wake in self._wakes.values()]
        self._progress = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        #: What is overdue on the board, looked at per tick (mlob/runners/boardclock.py).
        self.board_clock = BoardClock(StoreRows(store, clock, lambda: self.targets))
        self._next_tick = 0.0
        self._next_checkpoint = 0.0  # checked at start: the schedule is in the store
        #: The key that signs chain checkpoints (None: no automatic checkpoints).
        self.audit_key: bytes | None = None
        #: Positions between two picture checkpoints (0: none written by this process).
        self.picture_every = 0
        self.picture_lease: Lease | None = None
        #: Called after each written batch and clock change (the feeds listen).
        self.on_progress: Callable[[], None] = lambda: None
        for runner in self.runners:
            runner.progress = self._notify_progress

    def _lease(self, name: str) -> Lease:
        cfg = self.app.store
        if cfg.kind == "sqlite":
            return FileLease(f"{cfg.sqlite_path}.projection-{name}.lock")
        assert self.session is not None
        return AdvisoryLease(self.session, f"mlob projection {cfg.schema or 'public'} {name}")

    # --- running ---------------------------------------------------------------------------

    def start(self) -> None:
        for runner in self.runners:
            thread = threading.Thread(
                target=self._loop,
                args=(runner,),
                name=f"mlob-projection-{runner.projection.name}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        if self.picture_every:
            self.picture_lease = self._lease("picture-checkpoints")
            thread = threading.Thread(
                target=self._picture_loop, name="mlob-picture-checkpoints", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def _picture_loop(self) -> None:
        """Picture checkpoints for ``as_of``, one a while: the holder of this lease writes them
        (its own lease: a slow checkpoint never holds up a projection)."""
        from mlob.read.pictures import PictureCheckpoints

        checkpoints = PictureCheckpoints(
            self.app, self.store, self.picture_every, key=self.audit_key
        )
        lease = self.picture_lease
        assert lease is not None
        while not self._stop.is_set():
            try:
                if lease.acquire() and checkpoints.pending():
                    checkpoints.advance(limit=1)
                    continue
            except Exception:
                log.exception("picture checkpoint failed; retrying")
                lease.release()
            self._stop.wait(PICTURE_CHECK)

    def stop(self) -> None:
        self._stop.set()
        for wake in self._wakes.values():
            wake.set()
        for thread in self._threads:
            thread.join(timeout=10)
        for runner in self.runners:
            runner.lease.release()
        if self.picture_lease is not None:
            self.picture_lease.release()
        if self.session is not None:
            self.session.close()

    def close(self) -> None:
        """Stop the runners and close the read store."""
        self.stop()
        self.store.close()

    def _notify_progress(self, changed: bool = True) -> None:
        with self._progress:
            self._progress.notify_all()
        if changed:
            self.on_progress()

    def _loop(self, runner: Runner) -> None:
        while not self._stop.is_set():
            try:
                if not runner.lease.acquire():
                    runner.active = False
                    self._stop.wait(self.standby_interval)
                    continue
                runner.active = True
                done = runner.run_once()
                if done:
                    self._notify_progress()
                    continue
                self._notify_progress(changed=False)
                if runner.projection.name == "requests" and time.monotonic() >= self._next_tick:
                    self.tick()
                    # Bounded per tick: while requests are left to look at, the next comes now.
                    self._next_tick = time.monotonic() + (0 if self.board_clock.more else TICK)
                    self._maybe_checkpoint()
                # Each runner its own event: one runner clearing it never swallows another's.
                wake = self._wakes[runner.projection.name]
                wake.wait(self.poll_interval)
                wake.clear()
            except TrackingConflict:
                continue
            except Exception:
                log.exception("projection %s failed; retrying", runner.projection.name)
                runner.failed_at = time.monotonic()
                runner.lease.release()
                runner.active = False
                self._stop.wait(1.0)

    def catch_up(self) -> None:
        """Bring every projection up to date now (tests, CLI); takes the leases."""
        for runner in self.runners:
            if not runner.lease.acquire():
                raise RuntimeError(f"projection {runner.projection.name} is run elsewhere")
            runner.catch_up()
        self.tick()

    def rebuild(self, names: Sequence[str] = ()) -> None:
        """Rebuild these projections (all: none named) beside the rows served meanwhile."""
        for runner in self.runners:
            if not names or runner.projection.name in names:
                self.store.begin_rebuild(runner.projection.name, runner.projection.version)
                runner.cached_at = -1

    def rebuilding(self, names: Sequence[str] = (), rows: Sequence[Tracking] | None = None) -> bool:
        """Whether any of these projections (all: none named) serves rows that are not its
        code's: a rebuild is under way (here or in another process) or due. ``rows``: the
        tracking rows, if read already."""
        rows = self.store.tracking_rows() if rows is None else rows
        versions = {r.projection.name: r.projection.version for r in self.runners}
        under_way = rebuilds_of(rows)
        return any(
            t.name in under_way or t.version != versions[t.name]
            for t in served(rows, self.store.names)
            if t.name in versions and (not names or t.name in names)
        )

    def read_state(self, names: Sequence[str]) -> tuple[dict[str, int], bool]:
        """For a reader: each projection's position and whether these rebuild, from one read
        of the tracking rows."""
        rows = self.store.tracking_rows()
        return self.positions(rows), self.rebuilding(names, rows)

    def _maybe_checkpoint(self) -> None:
        """With an audit key, sign the chain's head when the last signed checkpoint is
        ``CHECKPOINT_EVERY`` seconds old (or there is none). The schedule is read from the
        store, not kept in the process: a process restarted more often than that still signs,
        and several processes sign once per interval between them."""
        if self.audit_key is None or time.monotonic() < self._next_checkpoint:
            return
        age = checkpoint_age(self.store)
        if age is not None and age < CHECKPOINT_EVERY:
            self._next_checkpoint = time.monotonic() + CHECKPOINT_EVERY - age
            return
        self._next_checkpoint = time.monotonic() + CHECKPOINT_EVERY
        from mlob.audit.tamper import checkpoint

        try:
            checkpoint(self.app.index, self.store, self.audit_key)
        except ValueError:
            log.error("the hash chain does not verify: no checkpoint signed (mlob audit verify)")

    # --- the board's targets ---------------------------------------------------------------

    @property
    def targets(self) -> Targets:
        """The board's targets as stored: read from the store each time, so every process
        (server, worker, the one whose clock publishes overdue to the feeds) uses the same
        ones, a change included (no per-process copy to go stale)."""
        stored = self.store.board_targets()
        return Targets.from_dict(stored[0]["targets"]) if stored else DEFAULT_TARGETS

    def seed_targets(self, targets: Targets | None) -> None:
        """At start: store ``targets`` (``MLOB_BOARD_TARGETS``; None: the defaults) unless
        targets were ever stored. Storing the defaults too keeps every process on the same
        ones even when a later version of the code changes its defaults."""
        seed = targets or DEFAULT_TARGETS
        by = "MLOB_BOARD_TARGETS at start" if targets else "the defaults at start"
        if self.store.set_board_targets(seed.as_dict(), by, only_if_none=True):
            return
        if targets is not None and targets != self.targets:
            log.warning(
                "MLOB_BOARD_TARGETS differs from the stored board targets and is not used: "
                "they are stored (mlob board targets, mlob board targets set)"
            )

    def set_targets(self, targets: Targets, by: str) -> None:
        self.store.set_board_targets(targets.as_dict(), by)

    # --- the clock ---------------------------------------------------------------------------

    def tick(self) -> list[Change]:
        """Publish board items that became overdue since the last tick, though no event came:
        the clock drives them. Run by the holder of the requests projection only. Looks only
        at the requests changed since the last tick or whose deadline passed
        (mlob/runners/boardclock.py)."""
        changes = self.board_clock.tick()
        if changes:
            self.store.record_changes(changes)
            self.on_progress()
        return changes

    # --- for readers -------------------------------------------------------------------------

    def positions(self, rows: Sequence[Tracking] | None = None) -> dict[str, int]:
        rows = self.store.tracking_rows() if rows is None else rows
        stored = {t.name: t.position for t in served(rows, self.store.names)}
        for runner in self.runners:  # what the active runners here have seen, written or not
            name = runner.projection.name
            # Only while the stored position is the runner's own: one that went back (a reset
            # from elsewhere) is the truth until the runner has caught up again.
            # A rebuilding runner's position is that of rows nobody reads yet.
            if (
                runner.active
                and not runner.building
                and name in stored
                and stored[name] >= runner.cached_at >= 0
            ):
                stored[name] = max(stored[name], runner.seen)
        return stored

    def wait_for(self, position: int, names: Sequence[str], timeout: float) -> bool:
        """Wait (bounded) until the named projections have reached ``position``."""
        deadline = time.monotonic() + timeout
        while True:
            positions = self.positions()
            if all(positions.get(n, 0) >= position for n in names):
                return True
            if position > (self.app.recorder.max_notification_id() or 0):
                return False  # no such event yet: nothing to wait for
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            for wake in self._wakes.values():
                wake.set()
            with self._progress:
                self._progress.wait(min(left, 0.02))

    def status(self) -> list[dict[str, Any]]:
        top = self.app.recorder.max_notification_id() or 0
        runners = {r.projection.name: r for r in self.runners}
        rebuilds = self.store.rebuilds()
        return [
            {
                "name": t.name,
                "position": t.position,
                "version": t.version,
                "code_version": runners[t.name].projection.version,
                # How far the next rows have come (None: no rebuild under way).
                "rebuild_position": rebuilds[t.name].position if t.name in rebuilds else None,
                "lag": max(0, top - t.position),
                "updated_at": t.updated_at,
                "active_here": runners[t.name].active,
                # Failed here lately (a failing runner gives its lease up between attempts).
                "failing_here": time.monotonic() - runners[t.name].failed_at < FAILING_FOR,
            }
            for t in self.store.all_tracking()
        ]
