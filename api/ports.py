"""What the HTTP layer needs from the application service.

The composition root (``mlob``) hands ``create_app`` a concrete service; the API never imports it.
"""

from __future__ import annotations

from typing import Protocol


class StoreUnavailable(Exception):
    """The database cannot be reached right now; answered as 503, retry later."""


class HealthSource(Protocol):
    @property
    def store_kind(self) -> str: ...

    def last_position(self) -> int:
        """The position of the newest recorded event (0 when empty)."""
        ...


class MlobService(HealthSource, Protocol):
    """The whole interface the API uses; grows with the API issue."""
