"""Which requests a clock of the board looks at each tick, without reading every request each
second (issue 24's review): the requests whose rows changed since the last tick (the read
store's change log, ``mlob_view_changes``) and those whose next deadline has passed (a queue
of deadlines kept here, in memory, by the runner holding the clock's lease). Two clocks use it,
each with its own judge of the rows it is given: the alerts
(:func:`projections.alerts.alerts_and_deadlines`, the webhooks runner) and the board's clock
that tells the feeds a row became overdue (:func:`projections.overdue.marks_and_deadlines`,
mlob/runners/boardclock.py). Both judges take their deadlines from the one rule of
:mod:`projections.overdue`.

Every request is read once: when a runner first asks (its take-over) and again whenever the
board's targets change (every deadline moves). After that a tick reads at most ``CHANGES``
row changes and ``DUE`` requests whose deadline passed; the rest waits for the next tick (the
runner ticks again at once while there is more). Deadlines are judged on the service's clock.

Kept in memory, not in a table: a runner taking over reads every request once to fill it
(as the projections' seeding does), which is what a table would have to be checked against
anyway after a targets change; a table of deadlines would also have to follow the targets.
The unique (subject, step, crossing) key of the alert table keeps a crossing one alert whoever
judges it, however often.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from projections.readmodels import Targets

#: Row changes read per tick.
CHANGES = 1000
#: Requests whose deadline passed read per tick.
DUE = 500


class Rows(Protocol):
    """What the watch reads (mlob.service.Service, or the projections' read store:
    mlob/runners/boardclock.py)."""

    clock: Callable[[], datetime]

    def board_targets(self) -> Any: ...

    def last_change(self) -> int: ...

    def view_changes(self, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]: ...

    def view_rows_every_level(self, name: str) -> list[dict[str, Any]]: ...

    def view_rows_by_id(
        self, name: str, ids: Sequence[str], level: int | None = None, every_level: bool = False
    ) -> list[dict[str, Any]]: ...


T = TypeVar("T")

#: Judges rows (by clearance level) at a moment under the targets: what it finds, and each
#: request's next deadline (none: nothing to come until its row changes).
Judge = Callable[
    [dict[int, list[dict[str, Any]]], datetime, Targets], tuple[T, Mapping[str, datetime]]
]


@dataclass(frozen=True)
class Look(Generic[T]):
    """What a tick found among the requests it looked at."""

    found: T
    #: The requests looked at (their rows read anew; a request without rows among them has
    #: none now); None: every request (the first look, or the targets changed).
    subjects: frozenset[str] | None


class DeadlineWatch(Generic[T]):
    def __init__(self, rows: Rows, judge: Judge[T]) -> None:
        self.rows = rows
        self.judge = judge
        #: The read store's change log read up to here (None: every request is to be read).
        self.changes_at: int | None = None
        self.targets: Targets | None = None
        #: Each request's next deadline (epoch seconds on the service's clock), and a heap of
        #: them (an entry no longer in ``due`` is stale: skipped).
        self.due: dict[str, float] = {}
        self.heap: list[tuple[float, str]] = []
        #: Whether the last :meth:`look` left some to read (its bounds were reached).
        self.more = False

    def look(self) -> Look[T]:
        """Judge the requests this tick looks at: changed since the last, or due."""
        now = self.rows.clock()
        targets = self.rows.board_targets()
        if self.changes_at is None or targets != self.targets:
            self.due.clear()
            self.heap.clear()
            self.more = False
            self.changes_at = self.rows.last_change()  # before the rows: no change is missed
            every = self.rows.view_rows_every_level("requests")
            self.targets = targets  # once read (a failed read is made again)
            return Look(self._judge(every, now, targets), None)
        changes = self.rows.view_changes(self.changes_at, CHANGES)
        if changes:
            self.changes_at = int(changes[-1]["seq"])
        ids = {str(c["key"]) for c in changes if c["source"] == "requests"}
        at = now.timestamp()
        taken = 0
        while self.heap and self.heap[0][0] <= at and taken < DUE:
            when, subject = heapq.heappop(self.heap)
            if self.due.get(subject) == when:
                del self.due[subject]
                ids.add(subject)
                taken += 1
        self.more = len(changes) == CHANGES or bool(self.heap and self.heap[0][0] <= at)
        for subject in ids:  # judged anew from their rows (a row gone: no deadline)
            self.due.pop(subject, None)
        # No request to look at: judged all the same (nothing read), for an empty finding.
        rows = self.rows.view_rows_by_id("requests", sorted(ids), every_level=True) if ids else []
        return Look(self._judge(rows, now, targets), frozenset(ids))

    def _judge(self, rows: list[dict[str, Any]], now: datetime, targets: Targets) -> T:
        by_level: dict[int, list[dict[str, Any]]] = {}
        for row in rows:
            by_level.setdefault(row["level"], []).append(row)
        found, deadlines = self.judge(by_level, now, targets)
        for subject, when in deadlines.items():
            self.due[subject] = when.timestamp()
            heapq.heappush(self.heap, (self.due[subject], subject))
        if len(self.heap) > 2 * len(self.due) + 1000:  # stale entries: drop them
            self.heap = [(w, s) for s, w in self.due.items()]
            heapq.heapify(self.heap)
        return found
