"""The application: the one eventsourcing Application that records mlob's history.

Its methods are the use cases of the write side (:meth:`MlobApplication.post` a post of
commands; :meth:`MlobApplication.record` any work on a unit of work, e.g. a token's issue) and
the reads of what was recorded (:meth:`MlobApplication.history`). Every append goes through
the one commit path of :mod:`mlob.write.writer` (the event loop's posts straight to the
writer's ``post_async``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import InterfaceError, OperationalError, Transcoder
from eventsourcing.utils import register_topic

from api.ports import StoreUnavailable
from domain.base import MlobAggregate
from domain.commands import Message, Post, split_message_key
from domain.errors import Conflict, NotFound
from domain.policy import SOURCE as POLICY
from domain.policy import step_level
from domain.posting import execute
from domain.recorded import LoggedEvent, Receipt
from domain.stored import STORED_TYPES
from mlob import migrations
from mlob.config import StoreConfig
from mlob.store.recorders import IndexQueries
from mlob.store.transcoder import OrjsonTranscoder
from mlob.write.writer import GroupWriter, Job, first_line, message_reused, of_kind
from projections.recent import RecentEvents

log = logging.getLogger("mlob.application")

A = TypeVar("A", bound=MlobAggregate)

for _topic, _cls in STORED_TYPES.items():
    register_topic(_topic, _cls)


class MlobApplication(Application[UUID]):
    """Records every step as domain events, with their envelope, index row and chain link."""

    name = "mlob"

    def __init__(
        self, store: StoreConfig, env: dict[str, str] | None = None, *, group_commit: bool = True
    ) -> None:
        self.store = store
        self.group_commit = group_commit
        #: Called after every commit that recorded events (once per group, not per append),
        #: in the committing thread: the composition root wakes projections and feeds here.
        self.after_commit: list[Callable[[], object]] = []
        #: The newest events the writer committed, for this process's readers (the live feed).
        self.recent: RecentEvents[LoggedEvent] = RecentEvents()
        with migrations.one_opener(store):
            super().__init__({**store.eventsourcing_env(), **(env or {})})
            # The library created its tables and mlob's at their baseline shape: bring the
            # schema up to this code's (mlob/migrations; one process at a time).
            migrations.upgrade(store)
        #: The event index's queries (the recorder writes the index with the events).
        self.index = cast(IndexQueries, self.recorder)
        #: The one commit path of every append (its thread starts with the first append).
        self._writer = GroupWriter(self, threaded=group_commit)

    def construct_env(self, name: str, env: Any = None) -> Any:
        # Only the store configuration counts: stray eventsourcing variables in the
        # process environment must not redirect mlob's history.
        from eventsourcing.utils import Environment

        return Environment(name, dict(env or {}))

    def construct_transcoder(self) -> Transcoder:
        return OrjsonTranscoder()

    # --- writing -------------------------------------------------------------------------

    def post(self, post: Post) -> Receipt:
        """Record a post's commands atomically (domain.posting.execute); raises its refusal.
        (The event loop's way in is the writer's ``post_async``.)"""
        job = Job(post.messages, partial(execute, post), post.subjects, post.creates)
        return self._writer.submit(job).result()

    def record(
        self,
        messages: Sequence[Message],
        work: Callable[[GroupWriter], Any],
        subjects: Sequence[UUID] = (),
        creates: Sequence[UUID] = (),
    ) -> Receipt:
        """Run ``work`` on a unit of work and append what it triggered, atomically, grouped with
        concurrent appends into one transaction (see :mod:`mlob.write.writer`). The same
        message ids with the same digests return the original receipt and record nothing; a
        reused id with other content is a conflict; a refused command records nothing.
        ``subjects`` are the streams the work will write, if known, so the group can fetch
        them at once; ``creates`` those of them the work means to create (they need no read)."""
        return self._writer.submit(Job(messages, work, subjects, creates)).result()

    @property
    def writer(self) -> GroupWriter:
        """The group writer: every append goes through it."""
        return self._writer

    def writer_busy_for(self) -> float:
        """Seconds the group writer has been settling its current group (0 when idle or not
        started): a group that conflicts with another node's writes again and again holds every
        append that waits behind it."""
        since = self._writer.busy_since
        return 0.0 if since is None else max(0.0, time.monotonic() - since)

    def close(self) -> None:
        self._writer.close()
        super().close()

    def events_of(self, subject: UUID) -> Iterable[Any]:
        return self.events.get(subject)

    def replay(self, messages: Sequence[Message]) -> Receipt | None:
        """The original answer to messages recorded before (keys: domain.commands.message_key),
        None when none was; a reused id with other content is a conflict — answered as
        ``not_possible_now`` when what it recorded lies above the sender's clearance."""
        keys = [m.message_id for m in messages]
        known = self.index.messages(keys)
        if not known:
            return None
        ids = {split_message_key(key) for key in known}
        first = min(position for _, position in known.values())
        rows = [
            r
            for r in self.index.index_rows(
                after=first - 1, limit=10_000, message_ids=sorted({i for _, i in ids})
            )
            if (r.actor_org, r.message_id) in ids or (None, r.message_id) in ids
        ]
        differing = [m for m in messages if known.get(m.message_id, ("",))[0] != m.digest]
        if differing:
            if max(self._message_level(rows, m) for m in differing) > min(
                m.level for m in differing
            ):
                raise Conflict("not_possible_now", POLICY)
            raise message_reused([split_message_key(m.message_id)[1] for m in differing])
        return Receipt(tuple(rows), replayed=True)

    def _message_level(self, rows: Sequence[LoggedEvent], message: Message) -> int:
        """The clearance level of what a recorded message recorded (its steps' levels)."""
        org, message_id = split_message_key(message.message_id)
        mine = [r for r in rows if r.message_id == message_id and org in (None, r.actor_org)]
        return max(self.step_levels(mine), default=0)

    def step_levels(self, rows: Sequence[LoggedEvent]) -> list[int]:
        """Each recorded step's clearance level (domain.policy.step_level: the higher of its
        own marking and its subject's at creation), the subjects read in one query."""
        subjects = self.index.created_as(sorted({r.stream_id for r in rows}))
        return [
            step_level(r.classification, subjects.get(r.stream_id, r.classification)) for r in rows
        ]

    # --- reading -------------------------------------------------------------------------

    @property
    def store_kind(self) -> str:
        return self.store.kind

    def last_position(self) -> int:
        try:
            return self.index.last_position()
        except (OperationalError, InterfaceError) as exc:
            raise StoreUnavailable(first_line(exc)) from exc

    def history(
        self,
        *,
        after: int = 0,
        limit: int = 1000,
        stream_id: UUID | None = None,
        recent: bool = False,
        stop: int | None = None,
    ) -> list[LoggedEvent]:
        """Events with their index rows, in global order. ``recent``: from memory when this
        process wrote them last (:mod:`projections.recent`): for readers that are woken by every
        append of any process (the live feed), as another process's newer events may be
        missing from that answer until the wake-up. ``stop``: the reader needs every event up
        to that position (the answer may still hold later ones)."""
        if recent and stream_id is None:
            held = self.recent.after(after, limit, stop)
            if held is not None:
                return held
        rows = self.index.index_rows(after=after, limit=limit, stream_id=stream_id)
        if not rows:
            return []
        if stream_id is not None:
            # One stream: its own events by version (a position range would span everything
            # recorded between its first and last step).
            by_version = {s.originator_version: s for s in self.recorder.select_events(stream_id)}
            return [
                r.replaced(event=self.mapper.to_domain_event(by_version[r.version])) for r in rows
            ]
        notifications = {
            n.id: n
            for n in self.recorder.select_notifications(
                start=rows[0].position,
                stop=rows[-1].position,
                limit=rows[-1].position - rows[0].position + 1,
            )
        }
        return [
            r.replaced(event=self.mapper.to_domain_event(notifications[r.position])) for r in rows
        ]

    def history_at(self, positions: Sequence[int]) -> list[LoggedEvent]:
        """The events at these positions (ascending) with their index rows: two queries,
        and only these events decoded (a reader that chose them from their markings)."""
        if not positions:
            return []
        rows = self.index.index_rows(
            after=positions[0] - 1, limit=len(positions), positions=positions
        )
        notifications = {n.id: n for n in self.index.notifications_at(positions)}
        return [
            r.replaced(event=self.mapper.to_domain_event(notifications[r.position])) for r in rows
        ]

    def load(self, cls: type[A], subject: UUID) -> A:
        try:
            aggregate: Any = self.repository.get(subject)
        except AggregateNotFoundError:
            raise NotFound(
                "unknown_subject", "mlob store", subject_kind=cls.__name__, subject=subject
            ) from None
        return of_kind(aggregate, cls, subject)
