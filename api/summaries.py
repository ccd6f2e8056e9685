"""The picture's national summary, counted in the store (mlob/read/summaries.py) and shared:
one count per clearance level and exercise scope serves every national and regional reader at
that level, the picture's answers and the feed's frames alike, for :data:`EVERY` seconds.

Counting it reads every request and incident row the level sees (a GROUP BY, no JSON decoded);
at a hundred thousand requests that is far more than one answer may take, so it is not done per
answer: a reader gets the last count, and a count in the background replaces it once a second
while readers ask. An answer carries the position the summary was counted at
(``summary_position``); a reader's ``min_position`` and the feed (a count newer than the
changes it has read, api/feed.py ``_summaries``) wait for a count that new."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from api.ports import MlobService, PageQuery

log = logging.getLogger("mlob.summaries")

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

        A reader that asks for neither never waits for a count once there is one: it gets the
        last, and a count in the background replaces it when that is older than
        :attr:`every` (one at a time per level and scope)."""
        key = (level, exercise)
        wanted = time.monotonic() - self.every if newer_than is None else newer_than
        asks_newer = newer_than is not None or position is not None
        with self._lock:
            found = self._counted.get(key)
            fits = found is not None and found.at >= wanted
            if found is not None and fits and (position is None or found.position >= position):
                return found
            if found is not None and not asks_newer:
                if key not in self._counting:
                    self._counting.add(key)
                    threading.Thread(
                        target=self._count_quietly, args=(key,), name="mlob-summary", daemon=True
                    ).start()
                return found
            self._counting.add(key)
        return self._count(key)

    def _count_quietly(self, key: tuple[int, bool | None]) -> None:
        with contextlib.suppress(Exception):  # logged; the next reader tries again
            self._count(key)

    def _count(self, key: tuple[int, bool | None]) -> Counted:
        level, exercise = key
        try:
            at = time.monotonic()
            positions, _ = self.service.view_state(("incidents", "requests"))
            equals = {} if exercise is None else {"exercise": exercise}
            summary = self.service.view_summary(PageQuery(level, equals))
            lowest = min(positions.get(n, 0) for n in ("incidents", "requests"))
            counted = Counted(summary, lowest, at)
        except Exception:
            log.exception("summary: counting failed")
            raise
        finally:
            with self._lock:
                self._counting.discard(key)
        with self._lock:
            current = self._counted.get(key)
            if current is None or current.at < counted.at:
                self._counted[key] = counted
        return counted
