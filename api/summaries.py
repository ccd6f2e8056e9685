"""The picture's national summary, counted in the store (mlob/read/summaries.py) and shared:
one count per clearance level and exercise scope serves every national and regional reader at
that level, the picture's answers and the feed's frames alike, for :data:`EVERY` seconds.

Counting it reads every request and incident row the level sees (a GROUP BY, no JSON decoded);
at a hundred thousand requests that is far more than one answer may take, so it is not done per
answer. An answer carries the position the summary was counted at (``summary_position``); the
feed asks for a count newer than the changes it has read (api/feed.py ``_summaries``)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from api.ports import MlobService

#: A summary is counted again when it is older than this (seconds).
EVERY = 1.0


@dataclass(frozen=True)
class Counted:
    summary: dict[str, Any]
    #: The lowest position of the incidents and requests projections before it was counted:
    #: it holds at least every event up to there.
    position: int
    #: When it was counted (time.monotonic()).
    at: float


class Summaries:
    def __init__(self, service: MlobService, every: float = EVERY) -> None:
        self.service = service
        self.every = every
        self._lock = threading.Lock()
        self._counted: dict[tuple[int, bool | None], Counted] = {}
        self._counting: set[tuple[int, bool | None]] = set()

    def get(
        self,
        level: int,
        exercise: bool | None,
        newer_than: float | None = None,
        position: int | None = None,
    ) -> Counted:
        """The summary of the rows a reader at ``level`` sees (``exercise``: only exercises,
        only real subjects; None: both), counted after ``newer_than`` (monotonic; None: at most
        :attr:`every` seconds ago) and at ``position`` or later (a reader's ``min_position``).
        While another thread counts it, a reader asking for no newer one than it has gets the
        one before rather than waiting or counting twice."""
        key = (level, exercise)
        wanted = time.monotonic() - self.every if newer_than is None else newer_than

        def fits(found: Counted) -> bool:
            return found.at >= wanted and (position is None or found.position >= position)

        with self._lock:
            found = self._counted.get(key)
            if found is not None and fits(found):
                return found
            asks_newer = newer_than is not None or position is not None
            if found is not None and not asks_newer and key in self._counting:
                return found
            self._counting.add(key)
        try:
            at = time.monotonic()
            positions, _ = self.service.view_state(("incidents", "requests"))
            equals = {} if exercise is None else {"exercise": exercise}
            summary = self.service.view_summary(level=level, equals=equals, scope=None)
            counted = Counted(
                summary, min(positions.get(n, 0) for n in positions) if positions else 0, at
            )
        finally:
            with self._lock:
                self._counting.discard(key)
        with self._lock:
            current = self._counted.get(key)
            if current is None or current.at < counted.at:
                self._counted[key] = counted
        return counted
