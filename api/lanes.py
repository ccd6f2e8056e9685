"""Two lanes of threads, so that no reader can hold up a writer or a health check.

FastAPI runs every plain ``def`` route (the reads) in the thread pool of anyio's default
limiter. That limiter is the *read lane*: bounded by ``MLOB_READ_CONCURRENCY`` (the reads past
it wait their turn there). What a post, a feed's handshake and the health checks must do in a
thread (a token looked up in the store, a refusal logged, readiness asked) runs in the *urgent
lane*, a limiter of its own that reads never take: 45 slow list reads once made posts and
``/health`` wait 46 s for a slot in the one shared pool (issue 21).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from anyio.lowlevel import RunVar

T = TypeVar("T")

#: Reads served at once on a node by default (each holds a thread and, on PostgreSQL, often a
#: pooled connection: at most the pools' size keeps them from queueing on connections instead).
DEFAULT_READ_CONCURRENCY = 8
#: Threads for the urgent lane: token look-ups are usually answered from memory, so few wait.
URGENT_THREADS = 16

#: One per event loop, as anyio keeps its default limiter (a test client runs several loops).
_urgent: RunVar[CapacityLimiter] = RunVar("mlob_urgent_lane")


def urgent_limiter() -> CapacityLimiter:
    """The urgent lane's limiter (made in the running event loop on first use)."""
    try:
        return _urgent.get()
    except LookupError:
        limiter = CapacityLimiter(URGENT_THREADS)
        _urgent.set(limiter)
        return limiter


async def urgent(fn: Callable[..., T], *args: object) -> T:
    """Run ``fn(*args)`` in a thread of the urgent lane."""
    return await anyio.to_thread.run_sync(fn, *args, limiter=urgent_limiter())


async def reading(fn: Callable[..., T], *args: object) -> T:
    """Run ``fn(*args)`` in a thread of the read lane (what a read does: parse, look up,
    answer from the store), beside the reads the routes make."""
    return await anyio.to_thread.run_sync(fn, *args)


def bound_reads(concurrency: int) -> None:
    """Let at most ``concurrency`` reads run at once (call it in the running event loop)."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = concurrency
