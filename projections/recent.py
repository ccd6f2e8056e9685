"""The newest events this process wrote, kept in memory for the readers of the same process.

The live feed reads every append right after its commit. Reading it back from the store means a
query and decoding every event again (in a batch run about a third of the server's CPU), while
the writer still holds those very events. So the writer hands each commit here, with the
position of the event just before it in the store (read or verified under the write lock), and a
read of the global order that falls wholly within what is held is answered from memory.

Only a contiguous run of the store's order is held: a commit that does not follow the last one
held (another process, or another path of this one, wrote in between) starts the run afresh.
So an answer from here is exactly what the store would answer; anything else reads the store.

A read model of the recorded events (no store of its own): the writer (mlob/write) adds, the
live feed's hub (api/feed.py) reads it directly, the service's history for other readers.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Sequence
from itertools import pairwise
from typing import Generic, TypeVar

T = TypeVar("T")


class RecentEvents(Generic[T]):
    """A bounded, contiguous tail of the store's global order: ``(position, item)`` pairs
    following ``base`` (the position just before the first held; 0 = the very start)."""

    def __init__(self, capacity: int = 4_000, max_bytes: int = 2 << 20) -> None:
        #: Bounds: items, and the stored size of their events (memory stays bounded whatever
        #: the events' size; the live feed needs only the last few windows' worth).
        self.capacity = capacity
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._base = -1  # nothing held
        self._positions: list[int] = []
        self._items: list[T] = []
        self._sizes: list[int] = []
        self._bytes = 0
        self.served = self.missed = 0  # reads answered from memory; reads that were not
        #: Counts ``clear`` calls: a writer notes it before its commit and passes it to ``add``.
        self.generation = 0

    def add(
        self,
        predecessor: int,
        positions: Sequence[int],
        items: Sequence[T],
        sizes: Sequence[int],
        generation: int,
    ) -> None:
        """What one commit wrote: ``items`` at ``positions`` (ascending), right after the
        event at ``predecessor`` in the store; ``sizes``: their stored sizes in bytes.
        ``generation``: as it was before the commit; if something was cleared since (another
        process wrote, perhaps after this commit), nothing is held."""
        if not items:
            return
        ascending = positions[0] > predecessor and all(a < b for a, b in pairwise(positions))
        with self._lock:
            if generation != self.generation or not ascending:
                self._drop_all()  # not ascending cannot happen; if it did, read the store
                return
            last = self._positions[-1] if self._positions else self._base
            if self._base < 0 or predecessor != last:
                self._drop_all()
                self._base = predecessor
            self._positions.extend(positions)
            self._items.extend(items)
            self._sizes.extend(sizes)
            self._bytes += sum(sizes)
            drop = max(0, len(self._items) - self.capacity)
            dropped = sum(self._sizes[:drop])
            while drop < len(self._items) and self._bytes - dropped > self.max_bytes:
                dropped += self._sizes[drop]
                drop += 1
            if drop:
                self._bytes -= dropped
                self._base = self._positions[drop - 1]
                del self._positions[:drop], self._items[:drop], self._sizes[:drop]
            if not self._items:
                self._base = -1

    def after(self, after: int, limit: int, stop: int | None = None) -> list[T] | None:
        """Up to ``limit`` items after position ``after``, in order, if what is held covers
        them (None: read the store). The newest held is never taken to be the store's newest:
        a read from there goes to the store, which may hold others' events beyond it; and a
        read up to ``stop`` (a position the reader knows was recorded) is answered only if
        it gets there or fills ``limit``."""
        with self._lock:
            if not self._positions or not self._base <= after < self._positions[-1]:
                self.missed += 1
                return None
            start = bisect_right(self._positions, after)
            found = self._items[start : start + limit]
            if stop is not None and len(found) < limit and self._positions[-1] < stop:
                self.missed += 1
                return None
            self.served += 1
            return found

    def clear(self) -> None:
        """Hold nothing (another process wrote, or it is unknown what was written)."""
        with self._lock:
            self.generation += 1
            self._drop_all()

    def _drop_all(self) -> None:
        self._base, self._positions, self._items, self._sizes, self._bytes = -1, [], [], [], 0
