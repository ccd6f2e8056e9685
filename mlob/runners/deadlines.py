"""Which requests the alert rules look at each tick, without reading every request each
second (issue 24's review): the requests whose rows changed since the last tick (the read
store's change log, ``mlob_view_changes``) and those whose next deadline has passed (a queue
of deadlines kept here, in memory, by the runner holding the webhooks lease).

Every request is read once: when a runner first asks (its take-over) and again whenever the
board's targets change (every deadline moves). After that a tick reads at most ``CHANGES``
row changes and ``DUE`` requests whose deadline passed; the rest waits for the next tick (the
runner ticks again at once while there is more). Deadlines are judged on the service's clock,
as the alerts are (:func:`projections.alerts.alerts_and_deadlines`).

Kept in memory, not in a table: a runner taking over reads every request once to fill it
(as the feed's clock and the projections' seeding do), which is what a table would have to be
checked against anyway after a targets change; a table of deadlines would also have to follow
the targets. The unique (subject, step, crossing) key of the alert table keeps a crossing one
alert whoever judges it, however often.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from projections.alerts import alerts_and_deadlines
from projections.readmodels import Targets

#: Row changes read per tick.
CHANGES = 1000
#: Requests whose deadline passed read per tick.
DUE = 500


class Rows(Protocol):
    """What the watch reads (mlob.service.Service)."""

    clock: Callable[[], datetime]

    def board_targets(self) -> Any: ...

    def last_change(self) -> int: ...

    def view_changes(self, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]: ...

    def view_rows_every_level(self, name: str) -> list[dict[str, Any]]: ...

    def view_rows_by_id(
        self, name: str, ids: Sequence[str], level: int | None = None, every_level: bool = False
    ) -> list[dict[str, Any]]: ...


class DeadlineWatch:
    def __init__(self, rows: Rows) -> None:
        self.rows = rows
        #: The read store's change log read up to here (None: every request is to be read).
        self.changes_at: int | None = None
        self.targets: Targets | None = None
        #: Each request's next deadline (epoch seconds on the service's clock), and a heap of
        #: them (an entry no longer in ``due`` is stale: skipped).
        self.due: dict[str, float] = {}
        self.heap: list[tuple[float, str]] = []
        #: Whether the last :meth:`alerts` left some to read (its bounds were reached).
        self.more = False

    def alerts(self) -> list[dict[str, Any]]:
        """The alerts due now among the requests this tick looks at."""
        now = self.rows.clock()
        targets = self.rows.board_targets()
        if self.changes_at is None or targets != self.targets:
            self.changes_at = self.rows.last_change()  # before the rows: no change is missed
            self.targets = targets
            self.due.clear()
            self.heap.clear()
            self.more = False
            return self._judge(self.rows.view_rows_every_level("requests"), now, targets)
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
        if not ids:
            return []
        for subject in ids:  # judged anew from their rows (a row gone: no deadline)
            self.due.pop(subject, None)
        rows = self.rows.view_rows_by_id("requests", sorted(ids), every_level=True)
        return self._judge(rows, now, targets)

    def _judge(self, rows: list[dict[str, Any]], now: datetime, targets: Targets) -> list[Any]:
        by_level: dict[int, list[dict[str, Any]]] = {}
        for row in rows:
            by_level.setdefault(row["level"], []).append(row)
        due, deadlines = alerts_and_deadlines(by_level, now, targets)
        for subject, when in deadlines.items():
            self.due[subject] = when.timestamp()
            heapq.heappush(self.heap, (self.due[subject], subject))
        if len(self.heap) > 2 * len(self.due) + 1000:  # stale entries: drop them
            self.heap = [(w, s) for s, w in self.due.items()]
            heapq.heapify(self.heap)
        return due
