"""A subject's state at each clearance level at which it has steps (need to know).

A reader cleared up to level L sees, within a subject it may read, only the steps at or below
L and the state they produce (domain/policy.py). So a projection keeps, per subject, one state
per level at which the subject has steps: the state at level L is the fold of the steps whose
level (:func:`domain.policy.step_level`: the higher of the step's own marking and its subject's)
is at most L. Most subjects have one level, their own classification; the lowest level of every
subject is its own, so a reader below it finds no state at all.

A step at level S is applied to every kept state at or above S; a new level starts as a copy
of the state just below it. A step that cannot be applied to a lower state (it rests on a
hidden step, e.g. the dispatch of a classified booking) leaves that state as it was: it is not
visible there. A correction (``Voided``) is as classified as the step it voids.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, cast
from uuid import UUID

from domain.base import MlobAggregate
from domain.policy import level


class Leveled:
    """One subject's states by level (lowest: the subject's own classification)."""

    __slots__ = ("levels", "states", "subject_level")

    def __init__(
        self,
        states: dict[int, MlobAggregate] | None = None,
        levels: dict[int, int] | None = None,
        subject_level: int = 0,
    ) -> None:
        self.states: dict[int, MlobAggregate] = states or {}
        #: version -> level of the steps above the subject's own level (a correction of such a
        #: step is as classified as it); steps at the subject's level are not listed.
        self.levels: dict[int, int] = levels or {}
        self.subject_level = subject_level

    @property
    def top(self) -> MlobAggregate:
        """The state of all steps (what the write model holds)."""
        return self.states[max(self.states)]

    @property
    def version(self) -> int:
        return self.top.version

    def level_at(self, reader_level: int) -> int | None:
        """The level of the state a reader cleared up to ``reader_level`` sees."""
        seen = [lvl for lvl in self.states if lvl <= reader_level]
        return max(seen) if seen else None

    def at(self, reader_level: int) -> MlobAggregate | None:
        """The state a reader cleared up to ``reader_level`` sees (None: the subject is hidden)."""
        seen = [lvl for lvl in self.states if lvl <= reader_level]
        return self.states[max(seen)] if seen else None

    def level_of(self, event: MlobAggregate.Event) -> int:
        """The level at which this step of the subject is visible."""
        found = max(event.envelope.classification.rank, self.subject_level)
        if len(self.states) > 1 and type(self.top).SEQUENTIAL:  # it rests on every step before
            found = max(found, max(self.states))
        if isinstance(event, MlobAggregate.Voided):
            found = max(found, self.levels.get(event.target_version, self.subject_level))
        return found

    def apply(self, event: MlobAggregate.Event) -> int:
        """Apply a step (the next of this subject's stream); the level it is visible at."""
        if not self.states:
            lvl = level(event.envelope.classification)
            self.subject_level = lvl
            self.states[lvl] = cast(MlobAggregate, event.mutate(None))
            return lvl
        lvl = self.level_of(event)
        if lvl == self.subject_level and len(self.states) == 1:
            # Most subjects: one level, every step at it (the plain fold).
            self.states[lvl] = cast(MlobAggregate, event.mutate(self.states[lvl]))
            return lvl
        if lvl > self.subject_level:
            self.levels[event.originator_version] = lvl
        if lvl not in self.states:
            below = max(x for x in self.states if x < lvl)
            self.states[lvl] = copied(self.states[below])
        highest = max(self.states)
        for at in sorted(x for x in self.states if x >= lvl):
            state = self.states[at]
            if at == highest:  # every step is in the top state: it applies as recorded
                self.states[at] = cast(MlobAggregate, event.mutate(state))
                continue
            kept = copied(state)
            vars(state)["_version"] = event.originator_version - 1  # hidden steps are skipped
            try:
                self.states[at] = cast(MlobAggregate, event.mutate(state))
            except Exception:  # it rests on a step hidden at this level: not visible here
                self.states[at] = kept
        return lvl


#: Values that are never changed in place: shared by a copy, as ``copy.deepcopy`` would keep
#: them equal (it rebuilds UUIDs and datetimes one by one, which made it most of the cost of a
#: step on a subject with more than one level: a third of a picture's replay, profiled).
_ATOMS = frozenset(
    {str, int, float, bool, type(None), bytes, UUID, datetime, date, time, timedelta, Decimal}
)


def copied(value: Any) -> Any:
    """A deep copy of an aggregate state or a value in it: the containers (dict, list, set,
    the aggregate itself) are rebuilt, what cannot change (the leaves, and tuples, frozensets
    and frozen dataclasses of such) is shared. Anything else goes to ``copy.deepcopy``."""
    kind = type(value)
    if kind in _ATOMS or isinstance(value, Enum):
        return value
    if kind is dict:
        return {k: copied(v) for k, v in value.items()}  # keys are hashable: immutable
    if kind is list:
        return [copied(v) for v in value]
    if kind is set:
        return set(value)  # elements are hashable: immutable
    if kind is tuple:
        items = [copied(v) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else tuple(items)
    if kind is frozenset:
        return value
    if isinstance(value, MlobAggregate):
        made = object.__new__(kind)
        vars(made).update({k: copied(v) for k, v in vars(value).items()})
        return made
    if _frozen(kind) and all(
        copied(getattr(value, f.name)) is getattr(value, f.name) for f in dataclasses.fields(value)
    ):
        return value  # frozen, and nothing in it can change
    return copy.deepcopy(value)


def _frozen(kind: type) -> bool:
    params = getattr(kind, "__dataclass_params__", None)
    return params is not None and bool(params.frozen)


def state_at(
    aggregate: MlobAggregate | None,
    level: int,
    events_of: Callable[[Any], Iterable[Any]],
) -> MlobAggregate | None:
    """A subject as the steps at or below ``level`` left it: the aggregate itself when none of
    its steps lies above (most); else folded from its recorded steps (``events_of(id)``)."""
    if aggregate is None or aggregate.top_level <= level:
        return aggregate
    leveled = fold(cast(list[MlobAggregate.Event], list(events_of(aggregate.id))))
    return None if leveled is None else leveled.at(level)


def fold(events: Iterable[MlobAggregate.Event]) -> Leveled | None:
    """A subject's leveled state from its events in order (None: no events)."""
    leveled = Leveled()
    for event in events:
        leveled.apply(event)
    return leveled if leveled.states else None


def visible_rows(rows: Iterable[dict[str, Any]], reader_level: int) -> list[dict[str, Any]]:
    """Of rows kept per subject and level, each subject's row at the highest level a reader
    cleared up to ``reader_level`` may see (subjects above it are left out), by id."""
    best: dict[str, dict[str, Any]] = {}
    for row in rows:
        row_level = row.get("level", 0)
        if row_level > reader_level:
            continue
        kept = best.get(row["id"])
        if kept is None or kept.get("level", 0) < row_level:
            best[row["id"]] = row
    return [best[key] for key in sorted(best)]
