"""Commit grouping: concurrent appends share one transaction, each still gets its own answer.

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
fresh, and if that conflicts too, each append is retried on its own, so one conflict stays
one conflict. An append refused in an optimistic run is decided again on state read fresh
(the refusal may rest on a stale cache, or be a retried message to answer as a replay).

What the optimistic run takes from the cache are the streams an append names as its
``subjects``; the caller names only streams the append writes when it is accepted (a stale
one is then caught by the unique stream version). A stream the work only reads must not be
named: the unit of work reads it fresh from the store when asked for it.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from api.ports import Message, Receipt, RecordedEvent
from domain.base import MlobAggregate
from domain.errors import Conflict, NotFound, version_conflict
from mlob.store.index import DuplicateMessage, IndexEntry
from projections.levels import state_at

if TYPE_CHECKING:
    from mlob.application import MlobApplication

log = logging.getLogger("mlob.writer")

A = TypeVar("A", bound=MlobAggregate)

#: At most this many appends share one transaction.
MAX_GROUP = 256
#: Clean aggregates kept between groups (this process is usually their only writer; a stale
#: one is caught by the store's version check and retried fresh).
CACHE_SIZE = 20_000


@dataclass
class Job:
    messages: Sequence[Message]
    work: Callable[[Any], Any]
    subjects: Sequence[UUID] = ()  # streams the work will read, fetched for the group at once
    creates: Sequence[UUID] = ()  # of those, the ones it creates: absent unless cached
    future: Future[Receipt] = field(default_factory=Future)


class GroupUnit:
    """One append's view of the group. It works on the group's aggregates in place (copying
    every aggregate for every append would cost more than the rest of the append); if the
    append is refused, the writer rebuilds what it touched (see ``Group.discard``)."""

    def __init__(self, group: Group) -> None:
        self.group = group
        self.touched: dict[UUID, MlobAggregate] = {}

    def get(self, cls: type[A], subject: UUID, expected_version: int | None = None) -> A:
        aggregate = self.touched.get(subject)
        if aggregate is None:
            aggregate = self.group.clean(subject)
            if aggregate is None:
                raise NotFound("unknown_subject", f"no {cls.__name__} {subject}", "mlob store")
            self.touched[subject] = aggregate
        if not isinstance(aggregate, cls):
            raise NotFound("unknown_subject", f"{subject} is not a {cls.__name__}", "mlob store")
        if expected_version is not None and aggregate.version != expected_version:
            raise version_conflict(f"{cls.__name__} {subject}", expected_version, aggregate.version)
        return aggregate

    def exists(self, subject: UUID) -> bool:
        return subject in self.touched or self.group.clean(subject) is not None

    def thread_of(self, subject: UUID) -> tuple[str, str | None]:
        aggregate = self.peek(subject)
        return ("", None) if aggregate is None else aggregate.thread

    def peek(self, subject: UUID) -> MlobAggregate | None:
        return self.touched.get(subject) or self.group.clean(subject)

    def peek_at(self, subject: UUID, level: int) -> Any:
        return state_at(self.peek(subject), level, self.group.writer.app.events.get)

    def add(self, aggregate: MlobAggregate) -> None:
        if aggregate.version == aggregate.INITIAL_VERSION and self.exists(aggregate.id):
            raise Conflict("subject_exists", f"{aggregate.id} exists already", "mlob store")
        self.touched[aggregate.id] = aggregate


class Group:
    """The aggregates as the appends of one group have left them so far."""

    def __init__(self, writer: GroupWriter) -> None:
        self.writer = writer
        self.state: dict[UUID, MlobAggregate] = {}
        self.missing: set[UUID] = set()
        self.accepted_events: dict[UUID, list[MlobAggregate.Event]] = {}

    def fetch(self, subjects: Sequence[UUID], stored_after: list[Any] | None = None) -> None:
        """Bring these streams up to date from the store, in one query (or from the events
        ``stored_after`` their cached versions, when those were read already)."""
        wanted = [
            s for s in dict.fromkeys(subjects) if s not in self.state and s not in self.missing
        ]
        if not wanted:
            return
        fresh = self.writer.fresh(wanted, stored_after)
        for subject in wanted:
            if subject in fresh:
                self.state[subject] = fresh[subject]
            else:
                self.missing.add(subject)

    def clean(self, subject: UUID) -> MlobAggregate | None:
        if subject not in self.state and subject not in self.missing:
            self.fetch([subject])
        return self.state.get(subject)

    def accept(self, events: list[MlobAggregate.Event]) -> None:
        for event in events:
            self.accepted_events.setdefault(event.originator_id, []).append(event)
            self.missing.discard(event.originator_id)

    def discard(self, unit: GroupUnit) -> None:
        """Undo a refused append: rebuild each aggregate it touched from the store plus the
        events earlier appends of this group were accepted with."""
        for subject, aggregate in unit.touched.items():
            aggregate.collect_events()
            self.writer.forget(subject)
            self.state.pop(subject, None)
            self.missing.discard(subject)
            rebuilt = self.writer.fresh([subject]).get(subject)
            for event in self.accepted_events.get(subject, []):
                rebuilt = cast(MlobAggregate, event.mutate(rebuilt))
            if rebuilt is not None:
                self.state[subject] = rebuilt
            else:
                self.missing.add(subject)


@dataclass
class Accepted:
    job: Job
    events: list[MlobAggregate.Event]
    index: list[IndexEntry]


class GroupWriter:
    def __init__(self, app: MlobApplication) -> None:
        self.app = app
        self.jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self.cache: OrderedDict[UUID, MlobAggregate] = OrderedDict()
        self.thread = threading.Thread(target=self._run, name="mlob-group-writer", daemon=True)
        self.thread.start()
        self.groups = 0
        self.grouped = 0
        self.optimistic = 0  # groups that read nothing before their commit

    # --- used by request threads --------------------------------------------------------------

    def submit_later(
        self,
        messages: Sequence[Message],
        work: Callable[[Any], Any],
        subjects: Sequence[UUID] = (),
        creates: Sequence[UUID] = (),
    ) -> Future[Receipt]:
        job = Job(messages, work, subjects, creates)
        self.jobs.put(job)
        return job.future

    def close(self) -> None:
        self.jobs.put(None)
        self.thread.join(timeout=10)

    # --- the writer thread ------------------------------------------------------------------

    def fresh(
        self, subjects: Sequence[UUID], stored_after: list[Any] | None = None
    ) -> dict[UUID, MlobAggregate]:
        """The current state of these streams: cached aggregates fast-forwarded by whatever
        other processes recorded since, unknown ones built from the store, in one query."""
        known = self.known_versions(subjects)
        found: dict[UUID, MlobAggregate] = {s: self.cache[s] for s in subjects if s in self.cache}
        if stored_after is None:
            stored_after = self.app.recorder.select_after(known)
        for stored in stored_after:
            event = self.app.mapper.to_domain_event(stored)
            found[stored.originator_id] = cast(
                MlobAggregate, event.mutate(found.get(stored.originator_id))
            )
        for aggregate in found.values():
            self._remember(aggregate)
        return found

    def known_versions(self, subjects: Sequence[UUID]) -> list[tuple[UUID, int]]:
        return [(s, self.cache[s].version if s in self.cache else 0) for s in subjects]

    def forget(self, subject: UUID) -> None:
        self.cache.pop(subject, None)

    def _remember(self, aggregate: MlobAggregate) -> None:
        self.cache[aggregate.id] = aggregate
        self.cache.move_to_end(aggregate.id)
        while len(self.cache) > CACHE_SIZE:
            self.cache.popitem(last=False)

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
            try:
                self._process(jobs)
            except BaseException as exc:  # never leave a caller waiting
                log.exception("group of %d appends failed", len(jobs))
                self.cache.clear()
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(exc)

    def _process(self, jobs: list[Job], attempt: int = 1, read_runs: int = 0) -> None:
        if attempt == 1:
            self.groups += 1
            self.grouped += len(jobs)
        group = Group(self)
        subjects = list(dict.fromkeys(s for job in jobs for s in job.subjects))
        created = {s for job in jobs for s in job.creates if s not in self.cache}
        known: dict[str, tuple[str, int]] = {}
        optimistic = attempt == 1 and all(s in self.cache or s in created for s in subjects)
        if optimistic:
            group.missing.update(created)
            group.fetch([s for s in subjects if s in self.cache], stored_after=[])
            self.optimistic += 1
        else:
            # Both reads of the group at once: recorded message ids, the streams it will use.
            known, stored_after = self.app.index.prefetch(
                [m.message_id for j in jobs for m in j.messages], self.known_versions(subjects)
            )
            group.fetch(subjects, stored_after)
        pending: dict[str, tuple[str, Job]] = {}
        followers: list[tuple[Job, Job]] = []
        accepted: list[Accepted] = []
        second_look: list[Job] = []
        for job in jobs:
            ids = [m.message_id for m in job.messages]
            if any(i in known for i in ids):
                self._answer_replay(job)
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
                    job.future.set_exception(self.app.message_reused_error(ids))
                continue
            unit = GroupUnit(group)
            try:
                job.work(unit)
                events: list[MlobAggregate.Event] = []
                for aggregate in unit.touched.values():
                    events.extend(cast(list[MlobAggregate.Event], aggregate.pending_events))
                index = [self.app.index_entry(e, unit.touched[e.originator_id]) for e in events]
            except Exception as exc:
                group.discard(unit)
                if optimistic:  # the refusal may rest on a wrong guess: decide on fresh state
                    second_look.append(job)
                else:
                    job.future.set_exception(exc)
                continue
            for aggregate in unit.touched.values():
                aggregate.collect_events()
            if not events:
                job.future.set_result(Receipt(events=()))
                continue
            group.state.update(unit.touched)
            group.accept(events)
            for m in job.messages:
                pending[m.message_id] = (m.digest, job)
            accepted.append(Accepted(job, events, index))
        # Read-first runs so far: a failed optimistic run does not count against the retries.
        runs = read_runs + (0 if optimistic else 1)
        rerun = second_look
        if accepted and not self._commit(group, accepted, last_try=runs >= 2):
            # A guess was wrong, or another process wrote one of these streams meanwhile: run
            # the group once more on fresh state (the refused and replayed were answered).
            rerun = [a.job for a in accepted] + second_look + [job for job, _ in followers]
            followers = []
        if rerun:
            self._process(rerun, attempt + 1, runs)
        for job, leader in followers:
            self._follow(job, leader)

    def _commit(self, group: Group, accepted: list[Accepted], *, last_try: bool) -> bool:
        """Commit the group; False if it conflicted and may be run again."""
        events = [e for a in accepted for e in a.events]
        stored = [self.app.mapper.to_stored_event(e) for e in events]
        generation = self.app.recent.generation
        try:
            positions = self.app.recorder.insert_events(
                stored,
                index=[i for a in accepted for i in a.index],
                messages=[(m.message_id, m.digest) for a in accepted for m in a.job.messages],
            )
        except (IntegrityError, DuplicateMessage):
            for subject in group.state:
                self.cache.pop(subject, None)
            if not last_try:
                return False
            for a in accepted:  # still conflicting: each alone, so one conflict stays one
                self._retry_alone(a.job)
            return True
        except Exception as exc:
            for subject in group.state:
                self.cache.pop(subject, None)
            for a in accepted:
                a.job.future.set_exception(exc)
            return True
        for aggregate in group.state.values():
            self._remember(aggregate)
        self.app.committed(events, generation)  # before the answers: a client may read at once
        offset = 0
        assert positions is not None
        for a in accepted:
            mine = positions[offset : offset + len(a.events)]
            offset += len(a.events)
            a.job.future.set_result(
                Receipt(
                    events=tuple(
                        RecordedEvent(
                            stream_id=e.originator_id,
                            version=e.originator_version,
                            position=p,
                            event_type=type(e).TOPIC,  # type: ignore[attr-defined]
                            message_id=e.envelope.message_id,
                            org=e.envelope.actor.org,
                        )
                        for e, p in zip(a.events, mine, strict=True)
                    )
                )
            )
        return True

    def _retry_alone(self, job: Job) -> None:
        try:
            job.future.set_result(self.app.record_direct(job.messages, job.work))
        except Exception as exc:
            job.future.set_exception(exc)

    def _answer_replay(self, job: Job) -> None:
        try:
            replay = self.app.replay(job.messages)
            if replay is None:  # vanished between the two reads: cannot happen, but answer
                replay = self.app.record_direct(job.messages, job.work)
            job.future.set_result(replay)
        except Exception as exc:
            job.future.set_exception(exc)

    def _follow(self, job: Job, leader: Job) -> None:
        """The same message twice in one group: the second gets the first's answer."""
        try:
            leader.future.result(timeout=0)
        except Exception as exc:
            job.future.set_exception(exc)
            return
        self._answer_replay(job)
