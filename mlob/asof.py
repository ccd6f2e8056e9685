"""The read models' rows as they were at a moment, replayed from the history.

Two time axes: *as recorded* by then (what mlob knew at that moment: events recorded up to
it) and *as occurred* by then (what had happened by then, as known now: in each stream the
events up to the first that occurred later — an urgent request phoned in at 02:00 and
formalised at 09:00 was formalised *by 10:00* on both axes, but an event recorded at 11:00
about 09:30 shows on the occurred axis only).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, cast
from uuid import UUID

from domain.base import MlobAggregate
from mlob.application import MlobApplication
from projections.specs import PROJECTIONS

Axis = Literal["recorded", "occurred"]
PAGE = 5000


def rows_as_of(
    app: MlobApplication, moment: datetime, axis: Axis
) -> tuple[dict[str, list[dict[str, Any]]], int]:
    """Every projection's rows as of ``moment`` on ``axis``, and the last position used."""
    followed = {topic for p in PROJECTIONS for topic in p.topics}
    aggregates: dict[UUID, MlobAggregate] = {}
    stopped: set[UUID] = set()
    last = 0
    cursor = 0
    while page := app.history(after=cursor, limit=PAGE):
        cursor = page[-1].record.position
        for item in page:
            entry = item.record.entry
            if entry.event_type not in followed:
                continue
            if axis == "recorded":
                if entry.recorded_at > moment:
                    continue
            else:
                if entry.stream_id in stopped:
                    continue
                if entry.occurred_at > moment:
                    stopped.add(entry.stream_id)  # the rest of this stream came later
                    continue
            aggregates[entry.stream_id] = cast(
                MlobAggregate, item.event.mutate(aggregates.get(entry.stream_id))
            )
            last = item.record.position
    rows = {
        p.name: [p.row(a) for a in aggregates.values() if isinstance(a, p.aggregate)]
        for p in PROJECTIONS
    }
    return rows, last
