"""The API's questions to the access policy (domain/policy.py) about recorded subjects: which
subjects, steps and refused attempts one reader may see. The policy decides; this module only
looks up what a subject concerns and at which level each of its steps lies."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from api.ports import LoggedEvent, MlobService, Principal
from domain import policy
from domain.base import MlobAggregate
from domain.policy import THREAD_FIELDS, name_threads
from domain.vocabulary import subject_of
from projections.routing import Routes, StreamRoute


def note_reads(
    service: MlobService,
    reader: Principal,
    route: str,
    items: Iterable[tuple[str, str, int]],
) -> None:
    """Log the items above ongerubriceerd (id, kind, level) a reader opened or received."""
    entries = [
        {
            "org": reader.org,
            "role": reader.role,
            "person": reader.person,
            "token_id": str(reader.token_id) if reader.token_id else None,
            "route": route,
            "item": item,
            "kind": kind,
            "classification": policy.classification_at(at).value,
        }
        for item, kind, at in items
        if at > 0
    ]
    service.note_reads(entries)


def row_items(kind: str, rows: Iterable[dict[str, Any]]) -> list[tuple[str, str, int]]:
    """A projection's rows as read items: a row shows its subject's steps up to its level."""
    return [
        (row["id"], kind, max(int(row.get("level", 0)), policy.level(row["classification"])))
        for row in rows
    ]


#: Which projection keeps a subject, by the kind of subject its steps' API types are of.
_PROJECTION_OF = {"request": "requests", "capacity": "capacities", "incident": "incidents"}


class Subjects:
    """For one reader: the subjects it may see, and which of their steps (cached per
    subject for the lifetime of one answer)."""

    def __init__(self, service: MlobService, reader: Principal) -> None:
        self.service = service
        self.reader = reader
        self.level = policy.reader_level(reader)
        #: Everything is visible to a national reader cleared for the highest level.
        self.everything = policy.is_national(reader) and self.level >= policy.level(
            "stg_zeer_geheim"
        )
        self._leveled: dict[UUID, Any] = {}
        self._streams: dict[UUID, tuple[bool, StreamRoute]] = {}

    def leveled(self, subject: UUID) -> Any:
        """The subject's states by level (projections.levels.Leveled), None if unknown."""
        if subject not in self._leveled:
            self._leveled[subject] = self.service.load_leveled(MlobAggregate, subject)
        return self._leveled[subject]

    def state(self, subject: UUID) -> Any:
        """The subject as the reader sees it, or None when it may not see it at all."""
        leveled = self.leveled(subject)
        item = None if leveled is None else leveled.at(self.level)
        if item is None:
            return None
        return item if policy.may_see_subject(self.reader, item) else None

    def threads(self, bodies: list[dict[str, Any]]) -> None:
        """Name the messages these events' threading fields point at, for this reader."""
        named = {body.get(f) for body in bodies for f, _ in THREAD_FIELDS} - {None}
        facts = self.service.message_facts(sorted(str(n) for n in named))
        for body in bodies:
            name_threads(body, facts, self.level)

    def visible(self, subject: UUID) -> bool:
        return self.everything or self.state(subject) is not None

    def plainly_hidden(self, subject: UUID, projection: str) -> bool:
        """Whether the reader may not see a subject, decided at a constant cost before its
        stream is read (a hidden subject must answer as fast as an unknown id): from the
        index's first step and the projection's row at the reader's level. False when that
        cannot tell (the projection has not reached the subject yet): then the fold decides."""
        first = self.service.subject_classification(subject)
        if first is None or policy.level(first) > self.level:
            return True
        if policy.is_national(self.reader):
            return False
        rows = self.service.view_rows_by_id(projection, [str(subject)], self.level)
        return bool(rows) and not policy.may_see_row(self.reader, rows[0])

    def _stream(self, stream_id: UUID, subject_kind: str | None) -> tuple[bool, StreamRoute]:
        """Whether the reader may see a stream's subject, and its steps' levels, from the
        index and the projection rows (a history must not replay every subject it passes).
        The levels come from the steps' markings by the rule the feed uses
        (``projections.routing.Routes.fill``: the index does not tell a correction's target,
        so it is taken as high as all before it: never too low)."""
        found = self._streams.get(stream_id)
        if found is not None:
            return found
        markings = self.service.stream_markings(stream_id, 1 << 40)
        subject = policy.level(markings[0][1]) if markings else 0
        route = StreamRoute(kind=subject_kind or "", level=subject)
        Routes.fill(route, markings)
        projection = _PROJECTION_OF.get(subject_kind or "")
        if policy.is_national(self.reader) or subject > self.level:
            visible = subject <= self.level
        elif projection is not None and (
            rows := self.service.view_rows_by_id(projection, [str(stream_id)], self.level)
        ):
            visible = policy.may_see_row(self.reader, rows[0])
        else:  # a token, or a subject the projections have not reached yet
            visible = self.state(stream_id) is not None
        found = self._streams[stream_id] = (visible, route)
        return found

    def step_visible(self, event: LoggedEvent) -> bool:
        """Whether the reader may see this step: its subject, and the step's level (a step
        whose marking was not read is not shown: its level is unknown)."""
        return self.visible_as(event, subject_of(event.api_type))

    def visible_as(self, event: LoggedEvent, kind: str | None) -> bool:
        """:meth:`step_visible` for a step whose kind of subject is known without naming it
        (an index row not decoded: its topic, or the subject it was read for, tells)."""
        if kind == "token":
            return self._token_visible(event.stream_id)
        if kind == "subscription":
            return self._subscription_visible(event.stream_id)
        if self.everything:
            return True
        visible, route = self._stream(event.stream_id, kind)
        return (
            visible
            and event.version <= route.known
            and route.levels.get(event.version, route.level) <= self.level
        )

    def _token_visible(self, stream_id: UUID) -> bool:
        """A token's events: for whoever may manage it and the national auditors cleared for
        it (domain.policy.may_see_token), never for anyone else."""
        leveled = self.leveled(stream_id)
        token = None if leveled is None else leveled.top
        return token is not None and policy.may_see_token(self.reader, token.org, token.clearance)

    def _subscription_visible(self, stream_id: UUID) -> bool:
        """A subscription's events: for whoever may manage it and the national auditors
        cleared for it (domain.policy.may_see_subscription), never for anyone else."""
        leveled = self.leveled(stream_id)
        sub = None if leveled is None else leveled.top
        return sub is not None and policy.may_see_subscription(self.reader, sub.org, sub.clearance)

    def step_level(self, event: LoggedEvent) -> int:
        """The level of a step (as :meth:`_stream` tells it)."""
        _, route = self._stream(event.stream_id, subject_of(event.api_type))
        return route.marked_level(event.version, event.classification)

    def note(self, route: str, events: list[LoggedEvent]) -> None:
        """Log the classified steps this reader receives."""
        items = [(str(e.stream_id), f"step {e.api_type}", self.step_level(e)) for e in events]
        note_reads(self.service, self.reader, route, items)

    def rejection_visible(self, rejection: dict[str, Any]) -> bool:
        """A refused attempt: cleared for what was posted, and its subject visible (an attempt
        on a subject that does not exist: the attempting organisation's own, or national)."""
        if not policy.cleared(self.reader, rejection.get("classification") or "stg_zeer_geheim"):
            return False
        if self.everything:
            return True
        subject = rejection.get("subject")
        try:  # the index's first step tells whether it exists (no replay of the subject)
            known = subject is not None and self.service.subject_classification(UUID(subject))
        except ValueError:
            known = False
        if known:
            return self.visible(UUID(str(subject)))
        return rejection.get("org") == self.reader.org or policy.is_national(self.reader)
