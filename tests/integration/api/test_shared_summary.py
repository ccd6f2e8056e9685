"""The national summary is counted once per level and shared (api/summaries.py): a reader gets
the last count without waiting, a newer one is counted in the background once it is a second
old, and ``min_position`` or the feed's ``newer_than`` wait for a count that new."""

from __future__ import annotations

import threading
import time
from typing import Any

from api.ports import PageQuery
from api.summaries import Summaries


class Counting:
    """What Summaries asks of the service: the projections' positions and the count."""

    def __init__(self) -> None:
        self.position = 1
        self.counts = 0
        self.release = threading.Event()
        self.release.set()

    def view_state(self, names: Any) -> tuple[dict[str, int], bool]:
        return {"incidents": self.position, "requests": self.position}, False

    def view_summary(self, query: PageQuery) -> dict[str, Any]:
        self.release.wait(5)
        self.counts += 1
        return {"count": self.counts, "level": query.level}


def test_a_reader_gets_the_last_count_and_a_newer_one_comes_in_the_background() -> None:
    service = Counting()
    shared = Summaries(service, every=0.05)  # type: ignore[arg-type]
    first = shared.get(0, False)
    assert first.summary == {"count": 1, "level": 0} and first.position == 1
    assert shared.get(0, False) is first and service.counts == 1, "shared while fresh"
    assert shared.get(2, False).summary["level"] == 2, "one count per level"
    time.sleep(0.06)
    service.release.clear()  # the background count waits
    assert shared.get(0, False) is first, "the last one, without waiting"
    assert shared.get(0, False) is first, "no second count meanwhile"
    service.release.set()
    deadline = time.monotonic() + 5
    while shared.get(0, False) is first and time.monotonic() < deadline:
        time.sleep(0.01)
    assert shared.get(0, False).summary["count"] == 3  # level 0's second count


def test_min_position_and_newer_than_wait_for_a_count_that_new() -> None:
    service = Counting()
    shared = Summaries(service, every=60)  # type: ignore[arg-type]
    assert shared.get(0, None).position == 1
    service.position = 7
    assert shared.get(0, None).position == 1, "a minute is fresh enough for a plain reader"
    assert shared.get(0, None, position=7).position == 7
    asked = time.monotonic()
    assert shared.get(0, None, newer_than=asked).at >= asked
    assert service.counts == 3
