"""The read models' rows as they were at a moment: the pure folding (the picture checkpoints
that hold a starting point and the replay that reads the events are mlob/read/pictures.py).

Two time axes: *as recorded* by then (the events recorded up to the moment) and *as occurred*
by then (in each stream the events up to the first that occurred later). On both axes a
stream's events count as a prefix: an event is applied when its time is at or before the
moment and every earlier event of its stream was applied.

Pure: folds decoded events onto the aggregates' states by level and keys their rows; chooses,
from the checkpoints' listed times, the base to start from and the intervals to look into.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, cast
from uuid import UUID

from domain.base import MlobAggregate
from projections.levels import Leveled
from projections.specs import PROJECTIONS, Projection

Axis = Literal["recorded", "occurred"]

#: Every topic a projection follows (the only events a picture is folded from).
FOLLOWED = tuple(sorted({topic for p in PROJECTIONS for topic in p.topics}))
FOLLOWED_SET = frozenset(FOLLOWED)
#: The corrections: only they read an aggregate's undo state.
VOIDS = frozenset(cast(Any, p.aggregate.Voided).TOPIC for p in PROJECTIONS)
BY_CLASS: dict[type[MlobAggregate], Projection] = {p.aggregate: p for p in PROJECTIONS}
BY_NAME = {p.name: p for p in PROJECTIONS}


def keyed_rows(projection: Projection, subject: UUID, leveled: Leveled) -> dict[str, Any]:
    """A subject's rows in a picture, one per level, keyed ``<id>/<level>``."""
    return {f"{subject}/{row['level']}": row for row in projection.rows(leveled)}


def continuing(
    entries: Sequence[tuple[int, UUID, int]], version_of: Callable[[UUID], int]
) -> list[int]:
    """Of these index entries (position, stream, version), the positions of those that
    continue their stream (each stream's version so far: ``version_of``)."""
    versions: dict[UUID, int] = {}
    counting = []
    for position, subject, version in entries:
        known = versions.get(subject)
        if (known if known is not None else version_of(subject)) == version - 1:
            versions[subject] = version
            counting.append(position)
    return counting


def continues(leveled: Leveled | None, version: int) -> bool:
    """An event at ``version`` counts on top of ``leveled`` (None: the stream so far is
    empty): every earlier event of its stream was applied. If not, nothing later of that
    stream counts either. Asked before the event is decoded."""
    return (leveled.version if leveled is not None else 0) == version - 1


def applied(leveled: Leveled | None, event: MlobAggregate.Event) -> Leveled:
    """``leveled`` (or a new subject's) with ``event``, which continues it, applied."""
    leveled = leveled or Leveled()
    leveled.apply(event)
    return leveled


def rows_with(
    base: Mapping[str, Mapping[str, dict[str, Any]]], touched: Mapping[UUID, Leveled]
) -> dict[str, list[dict[str, Any]]]:
    """Every row of every level of ``base`` (projection -> key -> row) with the touched
    aggregates' rows replaced (a reader selects its own: levels.visible_rows)."""
    rows = {name: dict(by_id) for name, by_id in base.items()}
    place_rows(rows, touched)
    return {name: list(by_id.values()) for name, by_id in rows.items()}


def place_rows(rows: dict[str, dict[str, dict[str, Any]]], touched: Mapping[UUID, Leveled]) -> None:
    """Put the touched aggregates' rows into ``rows`` (projection -> key -> row), in place."""
    for subject, leveled in touched.items():
        projection = BY_CLASS[type(leveled.top)]
        rows[projection.name].update(keyed_rows(projection, subject, leveled))


def base_and_later(
    checkpoints: Sequence[dict[str, Any]], axis: Axis, moment: str
) -> tuple[dict[str, Any] | None, Sequence[dict[str, Any]]]:
    """Of the listed checkpoints (in order, each with its interval's lowest and the cumulative
    highest times as sortable text), the base for ``moment`` (the last one all of whose events
    fall at or before it; None: none) and the checkpoints after it."""
    base: dict[str, Any] | None = None
    for i, checkpoint in enumerate(checkpoints):
        if checkpoint[f"{axis}_max"] > moment:  # cumulative: no later one qualifies either
            return base, checkpoints[i:]
        base = checkpoint
    return base, []


def spans(
    start: int, later: Sequence[dict[str, Any]], axis: Axis, moment: str, top: int
) -> list[tuple[int, int]]:
    """The position intervals (after, until] that may hold events at or before ``moment``:
    of the checkpoints after the base (at ``start``) those whose lowest time is at or before
    it, then the events since the last checkpoint up to ``top``."""
    found: list[tuple[int, int]] = []
    previous = start
    for checkpoint in later:
        if checkpoint[f"{axis}_min"] <= moment:
            found.append((previous, checkpoint["position"]))
        previous = checkpoint["position"]
    if top > previous:
        found.append((previous, top))
    return found
