"""Rate limits per token (``MLOB_RATE_LIMIT``, off by default): a token bucket per bearer
token, counted per node (each server process keeps its own buckets, so N nodes let a token
through N times as often — documented). ``/health*`` and ``/metrics`` are never limited.
A request over the limit answers 429 ``rate_limited`` with ``Retry-After``."""

from __future__ import annotations

import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

#: Buckets kept at most (least recently used dropped: a dropped token starts full again).
MAX_BUCKETS = 10_000
_SPEC = re.compile(
    r"^\s*(\d+(?:\.\d+)?)\s*/\s*(s|sec|second|m|min|minute)\s*(?:,\s*burst\s*=\s*(\d+))?\s*$"
)
UNLIMITED_PATHS = ("/health", "/metrics")


@dataclass(frozen=True)
class RateLimit:
    per_second: float
    burst: int

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """``N/s`` or ``N/min``, optionally ``,burst=M`` (default: one second's worth, at
        least 1); ValueError for anything else."""
        found = _SPEC.match(text)
        if found is None or float(found.group(1)) <= 0:
            raise ValueError(text)
        count = float(found.group(1))
        per_second = count if found.group(2).startswith("s") else count / 60
        burst = int(found.group(3)) if found.group(3) else max(1, math.ceil(per_second))
        if burst < 1:
            raise ValueError(text)
        return cls(per_second, burst)

    def describe(self) -> str:
        return f"{self.per_second:g} requests per second (bursts of {self.burst})"


class Limiter:
    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def wait(self, key: str) -> float | None:
        """Take one request of ``key``'s bucket: None when allowed, else the seconds until
        one is."""
        now = self.clock()
        tokens, last = self._buckets.pop(key, (float(self.limit.burst), now))
        tokens = min(float(self.limit.burst), tokens + (now - last) * self.limit.per_second)
        allowed = tokens >= 1
        self._buckets[key] = (tokens - 1 if allowed else tokens, now)
        if len(self._buckets) > MAX_BUCKETS:
            self._buckets.popitem(last=False)
        return None if allowed else (1 - tokens) / self.limit.per_second


def token_key(authorization: str, path: str) -> str | None:
    """The bucket of a request: its bearer token's id part (``mlob_<id>_<secret>``: the id
    is no secret), or None when the request is not limited (no token; health; metrics)."""
    if path.startswith(UNLIMITED_PATHS):
        return None
    scheme, _, token = authorization.partition(" ")
    parts = token.strip().split("_")
    if scheme.lower() != "bearer" or len(parts) != 3 or parts[0] != "mlob":
        return None
    return parts[1]
