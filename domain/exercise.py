"""Exercise or real (*oefening of echt*): the one place that decides it.

A subject (request, incident, capacity, token) is an exercise or real from the step that
creates it, for all its steps (domain.md, settled questions). Everything else asks this module:

- the write side: :func:`check_step` refuses a later step whose flag differs from its
  subject's (``422 exercise_mismatch``); :func:`on_other_subject` gives the envelope a step
  carries onto a second subject (a request's commitment booking a capacity): that subject's
  flag, never the step's; :func:`may_book` says which capacity a request may book (an exercise
  may use real equipment, a real operation never relies on exercise equipment);
- the read side: :class:`ExerciseScope` is what ``exercise=`` means on every route, command
  and feed subscription (absent or ``false``: real only; ``true``: exercises only; ``all``:
  both); :func:`subject_flag` is a stored subject's flag, read from its creating event, so a
  store written before this rule (a step whose own flag differs) reads back consistently.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from enum import Enum
from typing import Protocol

from domain.envelope import Envelope
from domain.errors import DomainError

SOURCE = "domain.md §Settled questions: exercise or real is decided when a subject is created"

#: The error code of a step whose flag differs from its subject's.
MISMATCH = "exercise_mismatch"


def check_step(subject_exercise: bool, envelope: Envelope, subject: str = "subject") -> None:
    """Refuse a step on a subject whose exercise flag differs from the step's envelope."""
    if envelope.exercise != subject_exercise:
        flag = str(subject_exercise).lower()
        raise DomainError(
            MISMATCH,
            SOURCE,
            text="exercise" if subject_exercise else "real",
            subject=subject,
            flag=flag,
            pointer="/exercise",
        )


def on_other_subject(envelope: Envelope, other_exercise: bool) -> Envelope:
    """The envelope a step records on a second subject it changes: that subject's own flag
    (an exercise request booking a real capacity is a real booking on the capacity, marked
    ``for_exercise`` there)."""
    if envelope.exercise == other_exercise:
        return envelope
    return replace(envelope, exercise=other_exercise)


def may_book(request_exercise: bool, capacity_exercise: bool) -> None:
    """An exercise may use real equipment (domain.md: the real overview then shows it as
    committed to an exercise); a real request never books exercise-only capacity, which does
    not exist for real operations."""
    if capacity_exercise and not request_exercise:
        raise DomainError(
            MISMATCH,
            SOURCE,
            text="exercise_capacity",
        )


class HasEnvelope(Protocol):
    @property
    def envelope(self) -> Envelope: ...


def subject_flag(events: Iterable[HasEnvelope]) -> bool:
    """A stored subject's flag: its first (creating) event's. Later steps recorded before
    this rule may carry another flag; they belong to their subject all the same."""
    for event in events:
        return event.envelope.exercise
    return False


class ExerciseScope(str, Enum):
    """Which subjects a read includes: ``exercise=`` on every route, command and feed."""

    REAL = "false"
    EXERCISE = "true"
    ALL = "all"

    @classmethod
    def parse(cls, value: object) -> ExerciseScope:
        """Absent or ``false``: real only; ``true``: exercises only; ``all``: both.
        Anything else raises ValueError with the reason (a guessed scope would mix exercise
        and real figures without the reader knowing)."""
        if value is None or value is False:
            return cls.REAL
        if value is True:
            return cls.EXERCISE
        if isinstance(value, str):
            for scope in cls:
                if value == scope.value:
                    return scope
        raise ValueError(
            f"exercise is false (real only, the default), true (exercises only) or all "
            f"(both), not {str(value)[:20]!r}"
        )

    def admits(self, exercise: bool) -> bool:
        """Whether a subject (or a step of one) with this flag is included."""
        if self is ExerciseScope.ALL:
            return True
        return exercise is (self is ExerciseScope.EXERCISE)
