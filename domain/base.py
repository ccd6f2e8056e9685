"""The base of mlob's aggregates: every event carries an :class:`Envelope`, and the latest
step can be voided (corrected) by a new event with a reason, never edited."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate

from domain.envelope import Envelope
from domain.errors import Conflict, DomainError, NotPermitted
from domain.exercise import check_step as check_exercise

_BASE_ATTRIBUTES = frozenset(
    {
        "_id",
        "_version",
        "_created_on",
        "_modified_on",
        "_pending_events",
        "_undo",
        "_thread",
        "_actors",
        "_top_level",
    }
)


#: Whether a step keeps the state before it, for a correction (``Voided``) of that step. A
#: replay for a read turns it off for the steps no correction follows in it (the copy was a
#: third of applying a step): :func:`remembering`. Per thread: a projection runner folding
#: meanwhile keeps remembering.
_REMEMBERING: ContextVar[bool] = ContextVar("remembering", default=True)


@contextmanager
def remembering(on: bool) -> Iterator[None]:
    """Steps applied within keep the state before them (for a correction) only if ``on``;
    if not, none can be corrected on top of the result (it has no undo state)."""
    token = _REMEMBERING.set(on)
    try:
        yield
    finally:
        _REMEMBERING.reset(token)


class MlobAggregate(Aggregate):
    """An event-sourced aggregate whose events all carry the envelope of their step.

    Subclasses set an explicit ``TOPIC`` on themselves and on every event class (including
    ``Created``), so that renaming a class never breaks stored history.
    """

    #: Whether every step rests on the state the steps before it left (a procedure): then a
    #: step is as classified as the most classified step before it (domain/policy.py), since
    #: it would otherwise show what a hidden step decided.
    SEQUENTIAL = False

    #: Exercise or real, fixed by the creating step (domain/exercise.py); the class default
    #: only serves state decoded from a picture checkpoint written before it was kept here.
    exercise: bool = False

    class Event(Aggregate.Event):
        envelope: Envelope
        #: Every concrete event class sets its own (mlob/store/transcoder.py refuses others).
        TOPIC: ClassVar[str]

        #: Whether a later ``Voided`` event may undo this one (see :meth:`MlobAggregate.void`).
        VOIDABLE = True
        #: Whether this event undoes the latest step (only ``Voided``).
        UNDOES = False

        def mutate(self, aggregate: Any) -> Any:
            if aggregate is not None:
                if type(self).VOIDABLE and _REMEMBERING.get():
                    # who recorded it: only the recorder corrects its own step
                    aggregate._remember(self.originator_version, self.envelope.actor.org)
                elif not type(self).UNDOES:  # nothing before this step can be voided any more
                    vars(aggregate).pop("_undo", None)
            mutated = super().mutate(aggregate)
            if aggregate is None:  # the creating step decides exercise or real, for good
                vars(mutated)["exercise"] = self.envelope.exercise
            # EDXL-RM threading: the first message of this subject and the latest one.
            first, _ = vars(mutated).get("_thread", (self.envelope.message_id, None))
            vars(mutated)["_thread"] = (first, self.envelope.message_id)
            # Who acted in this subject: an organisation that took a step is involved in it
            # (need to know, domain/policy.py), even if the step is voided later.
            actors: tuple[str, ...] = vars(mutated).get("_actors", ())
            if self.envelope.actor.org not in actors:
                vars(mutated)["_actors"] = (*actors, self.envelope.actor.org)
            # The highest marking among its steps: an actor cleared below it may be refused
            # because of a step it cannot see (domain/policy.py: acting needs seeing).
            rank = self.envelope.classification.rank
            if rank > vars(mutated).get("_top_level", 0):
                vars(mutated)["_top_level"] = rank
            return mutated

    class Created(Event, Aggregate.Created):
        VOIDABLE = False

    class Voided(Event):
        """The step at ``target_version`` was recorded in error (*correctie*); it stays in
        history, and its effect on the state is undone."""

        VOIDABLE = False
        UNDOES = True
        target_version: int
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate._restore(self.target_version)

    @property
    def thread(self) -> tuple[str, str]:
        """Message ids of this subject's first and latest recorded steps."""
        first, last = vars(self)["_thread"]
        return first, last

    @property
    def top_level(self) -> int:
        """The highest classification level of any of its steps."""
        return int(vars(self).get("_top_level", 0))

    def regions_concerned(self) -> tuple[str, ...]:
        """Safety-region codes this aggregate concerns (for the event index and feeds)."""
        return ()

    def emit(self, event_class: type[Aggregate.Event], envelope: Envelope, **kwargs: Any) -> None:
        """Record that ``event_class`` happened: the rules were checked by the caller, but for
        the one every step shares: its exercise flag is its subject's (domain/exercise.py)."""
        check_exercise(self.exercise, envelope)
        self.trigger_event(event_class, envelope=envelope, **kwargs)

    # --- corrections -----------------------------------------------------------------------

    def _remember(self, version: int, recorder: str) -> None:
        # Only the latest step can be voided, so one remembered state is enough. Aggregate
        # state holds immutable values in (at most) one level of containers, so copying each
        # container is a full copy.
        state = {k: copy.copy(v) for k, v in vars(self).items() if k not in _BASE_ATTRIBUTES}
        vars(self)["_undo"] = [(version, state, recorder)]

    def _restore(self, version: int) -> None:
        undo: list[tuple[Any, ...]] = vars(self).get("_undo", [])
        remembered, state, *_ = undo.pop()
        assert remembered == version
        for key in [k for k in vars(self) if k not in _BASE_ATTRIBUTES]:
            delattr(self, key)
        vars(self).update(state)

    def voidable_version(self) -> int | None:
        """The version of the latest event a correction may void, if any."""
        undo: list[tuple[Any, ...]] = vars(self).get("_undo", [])
        return int(undo[-1][0]) if undo else None

    def voidable_by(self) -> str | None:
        """The organisation that recorded the step a correction may void (None: no such step,
        or a state kept before the recorder was)."""
        undo: list[tuple[Any, ...]] = vars(self).get("_undo", [])
        return str(undo[-1][2]) if undo and len(undo[-1]) > 2 else None

    def check_recorder(self, org: str) -> None:
        """The recorder corrects its own step: a requester never undoes a provider's or the
        korpschef's decision (that is an appeal, art. 56(4)), nor the hub a decider's, nor
        one region another's situation report."""
        recorder = self.voidable_by()
        if recorder is not None and recorder != org:
            raise NotPermitted(
                "not_own_step",
                "domain.md §Who acts (the actor records a step); mlob corrections",
                recorder=recorder,
            )

    def void(self, envelope: Envelope, target_version: int, reason: str) -> None:
        """Void the latest correctable step; a correction then records the right step."""
        self.check_recorder(envelope.actor.org)
        self.check_void(target_version, reason)
        self.emit(self.Voided, envelope, target_version=target_version, reason=reason)

    def check_void(self, target_version: int, reason: str) -> None:
        if not reason.strip():
            raise DomainError("reason_required", "mlob corrections", pointer="/data/reason")
        latest = self.voidable_version()
        if latest != target_version:
            raise Conflict(
                "void_not_latest",
                "mlob corrections",
                text="not_latest",
                latest=latest,
                target_version=target_version,
                pointer="/data/target_version",
            )
