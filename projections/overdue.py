"""The request board's overdue rule as a clock sees it: which of a request's waits are overdue
now (its *marks*), and when the next one falls due.

One rule for every clock that follows the board (:func:`projections.readmodels.board`): the
board's own clock, which tells the feeds that a row became overdue (mlob/runners/boardclock.py),
and the alerts (:mod:`projections.alerts`). Overdue only grows with time for a row that does not
change (``now >= due``), so a caller need look at a request again only when its row changes or
at its next deadline (mlob/runners/deadlines.py).

Pure: no web, persistence or database code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from projections.readmodels import Targets, board

Row = dict[str, Any]

#: A request's overdue marks: (what, level), ``what`` as the feeds' clock changes name it.
Marks = set[tuple[str, int]]


def next_deadline(item: Row) -> datetime | None:
    """The earliest of a board item's deadlines still to come (its step's, its written
    form's, its duties'), or None: nothing of it can become overdue until its row changes."""
    dues = []
    if not item["overdue"] and item["due_at"]:
        dues.append(item["due_at"])
    if not item["formalisation_overdue"] and item["formalisation_due_at"]:
        dues.append(item["formalisation_due_at"])
    dues += [d["due_at"] for d in item["duties_outstanding"] if not d["overdue"] and d["due_at"]]
    return min((datetime.fromisoformat(d) for d in dues), default=None)


def keep_earliest(deadlines: dict[str, datetime], item: Row) -> None:
    """Note a board item's next deadline in ``deadlines`` (per request: the earliest of its
    levels' rows)."""
    coming = next_deadline(item)
    if coming is not None and (item["id"] not in deadlines or coming < deadlines[item["id"]]):
        deadlines[item["id"]] = coming


def overdue_marks(item: Row) -> list[str]:
    """What of a board item is overdue: ``overdue:<step>``, ``formalisation_overdue``,
    ``inform_overdue:<duty>`` (the keys alerts are raised under too)."""
    found = []
    if item["overdue"]:
        found.append(f"overdue:{item['step']}")
    if item["formalisation_overdue"]:
        found.append("formalisation_overdue")
    found += [f"inform_overdue:{d['duty']}" for d in item["duties_outstanding"] if d["overdue"]]
    return found


def marks_and_deadlines(
    rows_by_level: Mapping[int, Iterable[Row]], now: datetime, targets: Targets
) -> tuple[dict[str, Marks], dict[str, datetime]]:
    """Per request, what of its rows (each level's: a reader is told of the row it sees) is
    overdue at ``now``; and when each request's next mark falls due (none: not until its row
    changes)."""
    marks: dict[str, Marks] = {}
    deadlines: dict[str, datetime] = {}
    for level, rows in rows_by_level.items():
        for item in board(list(rows), now, targets):
            keep_earliest(deadlines, item)
            for what in overdue_marks(item):
                marks.setdefault(item["id"], set()).add((what, level))
    return marks, deadlines
