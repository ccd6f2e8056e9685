"""What a reader asks of a projection's list: one value, built once by a list route and handed
through the service (``api.ports.MlobService.view_page`` and its siblings) to the store, which
turns it into SQL (``mlob/read/listing.py``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class PageQuery:
    """One page of a projection's rows, as one reader may list them. A count, a summary or
    the board's counts read the same selection, ``after`` and ``limit`` aside."""

    #: The reader's clearance level: each subject's row at the highest level at most this.
    level: int
    #: Filter columns that must equal a value (``exercise`` takes a bool).
    equals: Mapping[str, Any] = field(default_factory=dict)
    #: The reader's scope keys (None: every row): a row shares at least one.
    scope: frozenset[str] | None = None
    #: Keys a row must all have (``region=``).
    keys: Sequence[str] = ()
    #: A text the ``search`` column contains (lower case), or ...
    text: str | None = None
    #: ... one of these ids (with ``text``: either matches).
    ids: Sequence[str] = ()
    #: The (sort key, id) of the last row of the page before (the board's: its place, id).
    after: tuple[str, str] | None = None
    limit: int = 50
    #: A filter column and the values one of which it must hold (``incident_id IN (...)``).
    among: tuple[str, Sequence[str]] | None = None

    def where_in(self, column: str, values: Sequence[str]) -> PageQuery:
        """The same selection, narrowed to the rows whose ``column`` holds one of ``values``."""
        return replace(self, among=(column, tuple(values)))
