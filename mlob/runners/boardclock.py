"""The board's clock: which requests' rows became overdue though no event came, so the feeds
tell their readers (a ``board`` change in the read store's change log; api/feed.py).

A tick publishes each overdue mark (what is overdue, at which level's row:
:func:`projections.overdue.marks_and_deadlines`) that was not overdue at the previous tick.
It does not read every request each tick: it looks only at the requests whose rows changed
since the last tick or whose next deadline passed (mlob/runners/deadlines.py, the watch the
alerts use too), and keeps each request's marks in memory. A request it does not look at
cannot have changed its marks: its row is the same, and nothing of it fell due.

The first tick (of a process, or after the runner holding it lost it and took it again: the
marks it knows stay) reads every request once and publishes nothing (the board shows what is
overdue already); a change of the board's targets reads every request again and publishes
what became overdue by it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from mlob.read.readstore import Change, ReadStore
from mlob.runners.deadlines import DeadlineWatch
from projections.overdue import Marks, marks_and_deadlines
from projections.readmodels import Targets


class StoreRows:
    """What the deadline watch reads, from the projections' read store (the service is not at
    hand where the projections run: a worker has none)."""

    def __init__(
        self, store: ReadStore, clock: Callable[[], datetime], targets: Callable[[], Targets]
    ) -> None:
        self.store = store
        self.clock = clock
        self._targets = targets

    def board_targets(self) -> Targets:
        return self._targets()

    def last_change(self) -> int:
        return self.store.last_change()

    def view_changes(self, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        return self.store.changes(after, limit)

    def view_rows_every_level(self, name: str) -> list[dict[str, Any]]:
        return self.store.all_rows(name)

    def view_rows_by_id(
        self, name: str, ids: Sequence[str], level: int | None = None, every_level: bool = False
    ) -> list[dict[str, Any]]:
        return self.store.rows_by_id(name, ids, level, every_level)


class BoardClock:
    def __init__(self, rows: StoreRows) -> None:
        self.watch = DeadlineWatch(rows, marks_and_deadlines)
        #: Each request's overdue marks at the last tick (None: before the first).
        self.marks: dict[str, Marks] | None = None

    @property
    def more(self) -> bool:
        """Whether the last tick left requests to look at (the next tick is due at once)."""
        return self.watch.more

    def tick(self) -> list[Change]:
        """The marks overdue now that were not at the last tick, as board changes."""
        look = self.watch.look()
        fresh: list[tuple[str, str, int]] = []
        if look.subjects is None:  # every request was read
            known, self.marks = self.marks, look.found
            if known is None:
                return []  # the first tick: the board shows them already
            for subject, marks in look.found.items():
                fresh += [(subject, *m) for m in marks - known.get(subject, set())]
        else:
            assert self.marks is not None
            for subject in look.subjects:
                marks = look.found.get(subject, set())
                fresh += [(subject, *m) for m in marks - self.marks.get(subject, set())]
                if marks:
                    self.marks[subject] = marks
                else:
                    self.marks.pop(subject, None)
        return [Change("board", key, 0, what, at) for key, what, at in sorted(fresh)]
