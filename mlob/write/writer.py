"""The one commit path: concurrent appends share one transaction, each gets its own answer;
and the unit of work each append runs on (``domain.commands.Unit``): the writer itself.

One writer thread per process takes every waiting append, runs each one's domain steps in
turn against the aggregates as the earlier appends of the group left them, and commits all
their events — with index rows, chain links and message ids — in one transaction under the
store's write lock. A refused append is answered alone and never sinks the others. An answer
is given only after the commit.

A group's first run is optimistic: this process is normally the only writer of its streams,
so its cached aggregates are current, subjects to be created are absent and message ids are
new; a group that needs no uncached stream reads nothing before its commit (one round trip of
three, measured: docs/performance.md). The commit checks all of it under the store's lock
(unique stream versions, recorded message ids). If it fails there (a retried message, a
subject that exists after all, another process's write), the group runs again on state read
fresh; if that conflicts too (another process committed to one of its streams between the
read and the commit), once more while holding the store's write lock from its read to its
commit, so it cannot lose again: without the lock, a slow group lost every run to another
process's quick commits on the same streams for as long as that process had posts (the stall
of issue 19). Only where no lock can be held (SQLite), a conflict is run again on fresh
state, and in the end each append on its own, so one conflict stays one conflict. An append
refused in an optimistic run is decided again on state read fresh (the refusal may rest on a
stale cache, or be a retried message to answer as a replay).

What the optimistic run takes from the cache are the streams an append names as its
``subjects``; the caller names only streams the append writes when it is accepted (a stale
one is then caught by the unique stream version). A stream the work only reads must not be
named: the unit of work reads it fresh from the store when asked for it.

A direct append (``threaded=False``, and every retry alone) is a group of one on the same path.
The recorder returns what it inserted (the recorded events at their positions, chain links,
stored sizes); the commit keeps those events for this process's readers and builds each receipt
from them.

The writer is the unit of work: while it runs a group it holds the group's streams as the
earlier appends and the append being run left them (``streams``: None for a stream known not to
exist), and while it runs one append the aggregates that append touched (``touched``). The
domain's steps ask it for aggregates (``get``, ``peek``, ``peek_at``) and hand it new ones
(``add``); ``peek`` is the ``streams`` dict's own lookup (the domain peeks several times per
command), which reads a stream the group has not read yet from the store
(``Streams.__missing__``). It works on the group's aggregates in place (copying every aggregate
for every append would cost more than the rest of the append); a refused append is undone by
rebuilding what it touched (``_discard``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import queue
import random
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC
from functools import partial
from typing import Any, Protocol, TypeVar, cast
from uuid import UUID

import orjson
import psycopg
from eventsourcing.persistence import IntegrityError, InterfaceError, Mapper, OperationalError

from api.ports import OutcomeUnknown, StoreUnavailable
from domain.base import MlobAggregate
from domain.commands import Message, Post
from domain.errors import Conflict, NotFound, version_conflict
from domain.posting import execute
from domain.recorded import LoggedEvent, Receipt
from mlob.metrics import COMMIT_SECONDS, COMMITS, WRITE_GROUP_EVENTS, WRITE_GROUP_SIZE
from mlob.store.index import DuplicateMessage
from mlob.store.recorders import CommitLost, MlobRecorder
from projections.levels import state_at
from projections.recent import RecentEvents

log = logging.getLogger("mlob.writer")

A = TypeVar("A", bound=MlobAggregate)

#: At most this many appends share one transaction.
MAX_GROUP = 256
#: Clean aggregates kept between groups (this process is usually their only writer; a stale
#: one is caught by the store's version check and retried fresh).
CACHE_SIZE = 20_000
#: Read-first runs of a group before each of its appends is run on its own. A group that
#: conflicted on fresh state is run again under the store's write lock (``write_lock``), where
#: it cannot conflict; should it all the same (no lock to hold), on fresh state after a short
#: random pause that grows with each run (so two nodes do not collide again in step): a client
#: that sent no ``expected_version`` gets 409 only if the subject moves under it this often.
LAST_TRY = 8
#: The longest pause (s) before running a conflicted group again.
MAX_BACKOFF = 0.05
#: Seconds to find out whether a commit whose answer was lost was recorded, and how often to
#: ask meanwhile.
OUTCOME_WAIT = 5.0
OUTCOME_POLL = 0.2
#: The installation's own appends (a token's issue) see everything; a post's reader level is
#: set by ``domain.posting.execute``.
ALL_LEVELS = 4

#: A store that is away (a 503 for the caller, who may retry), as either backend raises it.
STORE_ERRORS = (
    OperationalError,
    InterfaceError,
    psycopg.OperationalError,
    sqlite3.OperationalError,
)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Store(Protocol):
    """What the writer needs of the application (mlob.write.application.MlobApplication)."""

    @property
    def recorder(self) -> Any: ...

    @property
    def mapper(self) -> Mapper[UUID]: ...

    @property
    def recent(self) -> RecentEvents[LoggedEvent]: ...

    @property
    def after_commit(self) -> list[Callable[[], object]]: ...

    def replay(self, messages: Sequence[Message]) -> Receipt | None: ...

    def events_of(self, subject: UUID) -> Iterable[Any]: ...


def of_kind(aggregate: object, cls: type[A], subject: UUID) -> A:
    """``aggregate`` as a ``cls``; another kind of subject under this id answers as an unknown
    id of that kind (a client never learns what else the id is)."""
    if not isinstance(aggregate, cls):
        raise NotFound(
            "unknown_subject",
            "mlob store",
            text="wrong_kind",
            subject=subject,
            subject_kind=cls.__name__,
        )
    return aggregate


def message_reused(ids: Sequence[str]) -> Conflict:
    return Conflict("message_id_reused", "mlob idempotency", ids=ids)


@dataclass
class Job:
    messages: Sequence[Message]
    work: Callable[[GroupWriter], Any]
    subjects: Sequence[UUID] = ()  # streams the work will read, fetched for the group at once
    creates: Sequence[UUID] = ()  # of those, the ones it creates: absent unless cached
    future: Future[Receipt] = field(default_factory=Future)


@dataclass
class Accepted:
    job: Job
    #: The events it triggered, as they will be recorded (their positions still 0).
    recorded: list[LoggedEvent]


class Streams(dict[UUID, MlobAggregate | None]):
    """A group's streams, by id: each aggregate as the group's appends left it so far (None:
    the stream does not exist). A stream not read yet (one an append reads without naming it)
    is read from the store when first looked up (``streams[subject]``)."""

    def __init__(self, read: Callable[[Sequence[UUID]], dict[UUID, MlobAggregate]]) -> None:
        super().__init__()
        self.read = read

    def __missing__(self, subject: UUID) -> MlobAggregate | None:
        found = self[subject] = self.read([subject]).get(subject)
        return found


class GroupWriter:
    """Commits every append of the process: grouped in its own thread (``threaded``, started
    by the first append), or each alone in the caller's thread. Each append runs on the writer
    itself as its unit of work (the module docstring)."""

    def __init__(self, app: Store, *, threaded: bool = True) -> None:
        self.app = app
        self.recorder = cast(MlobRecorder, app.recorder)
        self.threaded = threaded
        self.jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self.cache: OrderedDict[UUID, MlobAggregate] = OrderedDict()
        self.groups = 0
        self.grouped = 0
        self.optimistic = 0  # groups that read nothing before their commit
        self.locked_runs = 0  # runs under the store's write lock (after losing on fresh state)
        #: When the writer thread began the group it is settling (None: waiting for work).
        self.busy_since: float | None = None
        self._direct = threading.Lock()
        self._starting = threading.Lock()
        self.thread: threading.Thread | None = None
        # The group being run (one at a time: the writer thread's, or a direct caller's under
        # ``_direct``): its streams as its appends left them so far (cleared for each run, the
        # same dict: ``peek`` is its lookup), and the events its accepted appends triggered
        # (not committed yet).
        self.streams = Streams(self.fresh)
        #: The subject as the append being run left it so far, or the group before it (None:
        #: none): the lookup of ``streams`` itself, no Python frame per peek.
        self.peek: Callable[[UUID], MlobAggregate | None] = self.streams.__getitem__
        self.accepted_events: dict[UUID, list[MlobAggregate.Event]] = {}
        # The append being run: the aggregates it touched, and its reader's clearance level.
        self.touched: dict[UUID, MlobAggregate] = {}
        self.reader_level = ALL_LEVELS
        # prometheus-client looks a labelled child up anew on every ``labels`` call.
        self._committed = COMMITS.labels("committed")

    # --- used by request threads --------------------------------------------------------------

    async def post_async(self, post: Post) -> Receipt:
        """Record a post's commands atomically (``domain.posting.execute``); raises its
        refusal. The writer thread hands the outcome straight to the event loop: one future
        per append on each side, no thread parked per request."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Receipt] = loop.create_future()
        job = Job(post.messages, partial(execute, post), post.subjects, post.creates)
        # (call_soon_threadsafe's stub takes one argument for the callback: it passes on all.)
        deliver = partial(loop.call_soon_threadsafe, _deliver, answer)  # type: ignore[arg-type]
        job.future.add_done_callback(deliver)
        if self.thread is not None:
            self.jobs.put(job)
        else:  # the first append starts the thread; a direct writer runs it here
            self.submit(job)
        return await answer

    def submit(self, job: Job) -> Future[Receipt]:
        if not self.threaded:
            with self._direct:  # a group of one, in the caller's thread
                self._settle([job])
            return job.future
        if self.thread is None:
            with self._starting:
                if self.thread is None:
                    thread = threading.Thread(
                        target=self._run, name="mlob-group-writer", daemon=True
                    )
                    thread.start()
                    self.thread = thread
        self.jobs.put(job)
        return job.future

    def close(self) -> None:
        thread = self.thread
        if thread is not None:
            self.jobs.put(None)
            thread.join(timeout=10)
            self.thread = None  # a later append starts it again

    # --- the unit of work (domain.commands.Unit), for the append being run ---------------------

    def get(self, cls: type[A], subject: UUID, expected_version: int | None = None) -> A:
        aggregate = self.peek(subject)
        if aggregate is None:
            raise NotFound(
                "unknown_subject", "mlob store", subject_kind=cls.__name__, subject=subject
            )
        self.touched[subject] = aggregate
        found = of_kind(aggregate, cls, subject)
        if expected_version is not None and found.version != expected_version:
            raise version_conflict(f"{cls.__name__} {subject}", expected_version, found.version)
        return found

    def peek_at(self, subject: UUID, level: int) -> MlobAggregate | None:
        return state_at(self.peek(subject), level, self._events_of)

    def add(self, aggregate: MlobAggregate) -> None:
        if (
            aggregate.version == aggregate.INITIAL_VERSION
            and self.streams[aggregate.id] is not None
        ):
            raise Conflict("subject_exists", "mlob store", subject=aggregate.id)
        self.touched[aggregate.id] = self.streams[aggregate.id] = aggregate

    # --- the group's aggregates ------------------------------------------------------------------

    def _fetch(self, subjects: Sequence[UUID], stored_after: list[Any] | None = None) -> None:
        """Bring these streams up to date from the store, in one query (or from the events
        ``stored_after`` their cached versions, when those were read already)."""
        wanted = [s for s in dict.fromkeys(subjects) if s not in self.streams]
        if not wanted:
            return
        fresh = self.fresh(wanted, stored_after)
        for subject in wanted:
            self.streams[subject] = fresh.get(subject)

    def _events_of(self, subject: UUID) -> list[Any]:
        """A stream's events as this group has it: the stored ones, then those earlier appends
        of the group were accepted with (not committed yet)."""
        return [*self.app.events_of(subject), *self.accepted_events.get(subject, [])]

    def _discard(self) -> None:
        """Undo a refused append: rebuild each aggregate it touched from the store plus the
        events earlier appends of this group were accepted with."""
        for subject, aggregate in self.touched.items():
            aggregate.collect_events()
            self.cache.pop(subject, None)
            rebuilt = self.fresh([subject]).get(subject)
            for event in self.accepted_events.get(subject, []):
                rebuilt = cast(MlobAggregate, event.mutate(rebuilt))
            self.streams[subject] = rebuilt

    def fresh(
        self, subjects: Sequence[UUID], stored_after: list[Any] | None = None
    ) -> dict[UUID, MlobAggregate]:
        """The current state of these streams: cached aggregates fast-forwarded by whatever
        other processes recorded since, unknown ones built from the store, in one query."""
        found: dict[UUID, MlobAggregate] = {s: self.cache[s] for s in subjects if s in self.cache}
        if stored_after is None:
            stored_after = self.recorder.select_after(self.known_versions(subjects))
        for stored in stored_after:
            event = cast(MlobAggregate.Event, self.app.mapper.to_domain_event(stored))
            subject = cast(UUID, stored.originator_id)
            found[subject] = cast(MlobAggregate, event.mutate(found.get(subject)))
        for aggregate in found.values():
            self._remember(aggregate)
        return found

    def known_versions(self, subjects: Sequence[UUID]) -> list[tuple[UUID, int]]:
        return [(s, self.cache[s].version if s in self.cache else 0) for s in subjects]

    def _remember(self, aggregate: MlobAggregate) -> None:
        self.cache[aggregate.id] = aggregate
        self.cache.move_to_end(aggregate.id)
        while len(self.cache) > CACHE_SIZE:
            self.cache.popitem(last=False)

    # --- the writer thread ------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            first = self.jobs.get()
            if first is None:
                return
            jobs = [first]
            while len(jobs) < MAX_GROUP:
                try:
                    more = self.jobs.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self.jobs.put(None)
                    break
                jobs.append(more)
            self.busy_since = time.monotonic()
            try:  # as _settle does (not called here: the traced walk of a post stays short)
                self._process(jobs)
            except BaseException as exc:
                self._failed(jobs, exc)
            self.busy_since = None

    def _settle(self, jobs: list[Job], attempt: int = 1, read_runs: int = 0) -> None:
        try:
            self._process(jobs, attempt, read_runs)
        except BaseException as exc:
            self._failed(jobs, exc)

    def _failed(self, jobs: list[Job], exc: BaseException) -> None:
        """Never leave a caller waiting: a group that failed answers every append it had not
        answered yet with the failure."""
        log.exception("group of %d appends failed", len(jobs), exc_info=exc)
        self.cache.clear()
        for job in jobs:
            if not job.future.done():
                job.future.set_exception(exc)

    def _process(
        self, jobs: list[Job], attempt: int = 1, read_runs: int = 0, locked: bool = False
    ) -> None:
        """Run a group: each append on the writer as its unit of work, in turn, on the
        aggregates as the earlier ones left them; then commit the accepted ones together and
        answer each (the module docstring: the optimistic run, and the runs again)."""
        if attempt == 1:
            self.groups += 1
            self.grouped += len(jobs)
        self.streams.clear()
        self.accepted_events = {}
        subjects = list(dict.fromkeys(s for job in jobs for s in job.subjects))
        created = {s for job in jobs for s in job.creates if s not in self.cache}
        known: dict[str, tuple[str, int]] = {}
        optimistic = attempt == 1 and all(s in self.cache or s in created for s in subjects)
        if optimistic:
            self.streams.update(dict.fromkeys(created))  # known not to exist
            for subject in subjects:
                if subject in self.cache:
                    self.streams[subject] = self.cache[subject]
            self.optimistic += 1
        else:
            # Both reads of the group at once: recorded message ids, the streams it will use.
            known, stored_after = self.recorder.prefetch(
                [m.message_id for j in jobs for m in j.messages], self.known_versions(subjects)
            )
            self._fetch(subjects, stored_after)
        pending: dict[str, tuple[str, Job]] = {}
        followers: list[tuple[Job, Job]] = []
        accepted: list[Accepted] = []
        second_look: list[Job] = []
        for job in jobs:
            ids = [m.message_id for m in job.messages]
            if any(i in known for i in ids):
                if not self._answer_replay(job):
                    second_look.append(job)
                continue
            earlier = [pending[i] for i in ids if i in pending]
            if earlier:
                same = all(
                    pending[m.message_id][0] == m.digest
                    for m in job.messages
                    if m.message_id in pending
                ) and len(earlier) == len(ids)
                leader = earlier[0][1]
                if same and all(e[1] is leader for e in earlier):
                    followers.append((job, leader))
                elif optimistic:  # which copy was recorded before is not known yet: read first
                    second_look.append(job)
                else:
                    job.future.set_exception(message_reused(ids))
                continue
            self.touched = {}
            self.reader_level = ALL_LEVELS
            try:
                job.work(self)
                # The events the append triggered, as they will be recorded (position 0
                # until the store places them), refusing an envelope that cannot be true.
                recorded = []
                for aggregate in self.touched.values():
                    triggered = cast(list[MlobAggregate.Event], aggregate.pending_events)
                    if not triggered:
                        continue
                    regions = tuple(sorted(set(aggregate.regions_concerned())))
                    for event in triggered:
                        envelope = event.envelope
                        envelope.check(now=event.timestamp)
                        authority = envelope.authority
                        recorded.append(
                            LoggedEvent(
                                0,
                                event.originator_id,
                                event.originator_version,
                                type(event).TOPIC,
                                envelope.occurred_at.astimezone(UTC),
                                event.timestamp.astimezone(UTC),
                                envelope.actor.org,
                                envelope.actor.role,
                                envelope.actor.person,
                                None
                                if authority is None
                                # A dict, sorted: orjson writes a dataclass's fields in
                                # declaration order whatever the option (the chain's format,
                                # docs/hash-chain.md, says keys sorted).
                                else orjson.dumps(
                                    dataclasses.asdict(authority), option=orjson.OPT_SORT_KEYS
                                ).decode(),
                                regions,
                                envelope.classification.value,
                                envelope.exercise,
                                envelope.message_id,
                                envelope.correlation_id,
                                envelope.causation_id,
                                event,
                            )
                        )
            except Exception as exc:
                self._discard()
                if optimistic:  # the refusal may rest on a wrong guess: decide on fresh state
                    second_look.append(job)
                else:
                    job.future.set_exception(exc)
                continue
            for aggregate in self.touched.values():
                aggregate.collect_events()  # now held as ``recorded``
            if not recorded:
                job.future.set_result(Receipt(events=()))
                continue
            for e in recorded:
                self.accepted_events.setdefault(e.stream_id, []).append(e.event)
            for m in job.messages:
                pending[m.message_id] = (m.digest, job)
            accepted.append(Accepted(job, recorded))
        # Read-first runs so far: a failed optimistic run does not count against the retries.
        runs = read_runs + (0 if optimistic else 1)
        rerun = second_look
        lock = False
        if accepted and not self._commit(accepted, last_try=runs >= LAST_TRY):
            # A guess was wrong, or another process wrote one of these streams meanwhile: run
            # the group once more on fresh state (the refused and replayed were answered).
            rerun = [a.job for a in accepted] + second_look + [job for job, _ in followers]
            followers = []
            if runs and not locked:
                # A conflict on fresh state: another process wrote these streams between this
                # run's read and its commit. Run again holding the store's write lock from
                # the read to the commit, so the run cannot lose again. Without it, a group
                # whose run on fresh state was slow (long streams, many appends) lost every
                # run to the other process's quick commits on the same streams, for as long
                # as that process had posts (the stall of issue 19, docs/performance.md).
                # Not after the optimistic run: most of those conflicts come from a stale
                # cache and pass on fresh state, and a locked run makes the others wait.
                lock = True
            elif runs:  # still conflicting (a store without a lock to hold): back off
                time.sleep(random.uniform(0, min(MAX_BACKOFF, 0.002 * 2**runs)))
        if lock:
            self._run_locked(rerun, attempt + 1, runs)
        elif rerun:
            self._process(rerun, attempt + 1, runs, locked)
        for job, leader in followers:
            self._follow(job, leader)

    def _run_locked(self, jobs: list[Job], attempt: int, read_runs: int) -> None:
        """Run the group once more, reading, deciding and committing while holding the store's
        write lock (no other process commits meanwhile). Its streams are read first without
        the lock (their cached state went with the conflict), so under it only what was
        written since is read: the other processes wait for the decisions and the commit,
        not for the long reads."""
        self.locked_runs += 1
        self.fresh(list(dict.fromkeys(s for job in jobs for s in job.subjects)))
        with self.recorder.write_lock():
            self._process(jobs, attempt, read_runs, locked=True)

    def _commit(self, accepted: list[Accepted], *, last_try: bool) -> bool:
        """Commit the group's accepted appends; keep what they wrote for this process's
        readers of the global order (:mod:`projections.recent`) and wake them
        (``after_commit``, once per group); then answer each. False if it conflicted and may
        be run again."""
        index = [e for a in accepted for e in a.recorded]
        stored = [self.app.mapper.to_stored_event(e.event) for e in index]
        recent = self.app.recent
        generation = recent.generation  # a clear during the commit: hold nothing of it
        started = time.perf_counter()
        try:
            inserted = self.recorder.append(
                stored,
                index=index,
                messages=[(m.message_id, m.digest) for a in accepted for m in a.job.messages],
            )
        except Exception as exc:
            return self._not_committed(accepted, exc, last_try)
        self._committed.inc()
        COMMIT_SECONDS.observe(time.perf_counter() - started)
        WRITE_GROUP_SIZE.observe(len(accepted))
        WRITE_GROUP_EVENTS.observe(len(index))
        cache = self.cache
        for subject, aggregate in self.streams.items():  # clean now: kept for the next groups
            if aggregate is not None:
                cache[subject] = aggregate
                cache.move_to_end(subject)
        while len(cache) > CACHE_SIZE:
            cache.popitem(last=False)
        recorded = inserted.recorded
        try:
            recent.add(
                inserted.predecessor,
                [e.position for e in recorded],
                recorded,
                inserted.sizes,
                generation,
            )
        except Exception:  # the events are recorded: their readers will read the store
            log.exception("holding the committed events in memory failed")
            recent.clear()
        for hook in list(self.app.after_commit):  # the readers' wake-ups (not a method of
            # its own, shared with _after_lost_commit: the traced walk of a post stays short)
            try:
                hook()
            except RuntimeError:  # a reader's event loop that has closed
                pass
            except Exception:  # the events are recorded: a reader's wake-up must not undo that
                log.exception("after-commit hook %r failed", hook)
        offset = 0
        for a in accepted:  # after the readers learnt of them: a client may read at once
            a.job.future.set_result(Receipt(tuple(recorded[offset : offset + len(a.recorded)])))
            offset += len(a.recorded)
        return True

    def _not_committed(self, accepted: list[Accepted], exc: Exception, last_try: bool) -> bool:
        """A commit that failed: a conflict (False: run the group again, unless ``last_try``),
        a lost answer (find out what was recorded) or a failure (answered to every append).
        The cached aggregates of the group go: they may be ahead of the store."""
        for subject in self.streams:
            self.cache.pop(subject, None)
        if isinstance(exc, IntegrityError | DuplicateMessage):
            COMMITS.labels("conflict").inc()
            if not last_try:
                return False
            if len(accepted) == 1:
                self._conflicted(accepted[0].job)
            else:  # still conflicting: each alone (with its own runs), so one conflict
                # stays one and a busy group does not use up the runs of its members
                for a in accepted:
                    self._settle([a.job], LAST_TRY + 1, 0)
            return True
        if isinstance(exc, CommitLost):
            COMMITS.labels("lost").inc()
            self._after_lost_commit(accepted, exc)
            return True
        COMMITS.labels("failed").inc()
        for a in accepted:
            a.job.future.set_exception(exc)
        return True

    def _after_lost_commit(self, accepted: list[Accepted], lost: CommitLost) -> None:
        """A commit whose answer was lost: answer what the store recorded, never a guess.
        The messages are looked up on a fresh connection for up to ``OUTCOME_WAIT`` s:
        recorded — the original receipt; not recorded once the backend that ran the commit is
        gone (its transaction is then final) — nothing was recorded (503, retry); still
        unknown — :class:`OutcomeUnknown` (504: a retry with the same message ids is safe)."""
        log.warning("%s; finding out whether it was recorded", lost)
        self.app.recent.clear()  # memory no longer follows the store's newest events
        deadline = time.monotonic() + OUTCOME_WAIT
        while True:
            try:
                receipts = [self.app.replay(a.job.messages) for a in accepted]
                if receipts[0] is not None or self.recorder.backend_gone(lost.pid):
                    break
            except Exception as exc:  # the store is still away: ask again until the deadline
                log.warning("the outcome of a lost commit is not known yet: %s", exc)
            if time.monotonic() >= deadline:
                for a in accepted:
                    a.job.future.set_exception(OutcomeUnknown())
                return
            time.sleep(OUTCOME_POLL)
        if receipts[0] is None:
            for a in accepted:
                a.job.future.set_exception(StoreUnavailable("the commit failed; nothing recorded"))
            return
        log.warning("the lost commit was recorded; answering its receipts")
        # Wake the readers: the store has events they lack (as _commit does).
        for hook in list(self.app.after_commit):
            try:
                hook()
            except RuntimeError:  # a reader's event loop that has closed
                pass
            except Exception:
                log.exception("after-commit hook %r failed", hook)
        for a, receipt in zip(accepted, receipts, strict=True):
            assert receipt is not None  # one transaction: all of it or none
            a.job.future.set_result(Receipt(receipt.events, replayed=False))

    def _conflicted(self, job: Job) -> None:
        """An append alone that still conflicts: the same message won (replay it), or the
        stream moved on."""
        try:
            replay = self.app.replay(job.messages)
        except Exception as exc:
            job.future.set_exception(exc)
            return
        if replay is not None:
            job.future.set_result(replay)
            return
        job.future.set_exception(
            Conflict("version_conflict", "mlob optimistic concurrency", text="concurrent")
        )

    def _answer_replay(self, job: Job) -> bool:
        """Answer an append whose messages were recorded before with the original receipt;
        False if they vanished between the two reads (cannot happen): the caller runs it
        again, not here in the middle of its group."""
        try:
            replay = self.app.replay(job.messages)
        except Exception as exc:
            job.future.set_exception(exc)
            return True
        if replay is None:
            return False
        job.future.set_result(replay)
        return True

    def _follow(self, job: Job, leader: Job) -> None:
        """The same message twice in one group: the second gets the first's answer."""
        try:
            leader.future.result(timeout=0)
        except Exception as exc:
            job.future.set_exception(exc)
            return
        if not self._answer_replay(job):
            self._settle([job], LAST_TRY + 1, LAST_TRY)


def _deliver(answer: asyncio.Future[Receipt], done: Future[Receipt]) -> None:
    """The writer's outcome of an append to the event loop that waits for it (run by the loop):
    a store that is away as :class:`StoreUnavailable` (503)."""
    if answer.cancelled():  # the client went away meanwhile; the append stands
        return
    exc = done.exception()
    if exc is None:
        answer.set_result(done.result())
    elif isinstance(exc, STORE_ERRORS):
        answer.set_exception(StoreUnavailable(first_line(exc)))
    else:
        answer.set_exception(exc)
