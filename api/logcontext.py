"""What a log line may say about the request it was written for: the request id, the
organisation, the message id, the correlation and the position, where known. Set here, per
request (one context per ASGI task: threads it hands work to copy it); mlob's logging adds them
to every record (mlob/logs.py). Never a token, a secret or a subject's content."""

from __future__ import annotations

import itertools
import os
import secrets
from contextvars import ContextVar

FIELDS = ("request_id", "org", "message_id", "correlation", "position")

#: New request ids: this process's random prefix and a counter — unique across processes and
#: nodes like a random id, without asking the OS for random bytes per request (2.7 % of a
#: single post's CPU, bench/profile_writes.py).
_PREFIX = secrets.token_hex(4)
_COUNTER = itertools.count(1)


def _new_prefix() -> None:
    global _PREFIX
    _PREFIX = secrets.token_hex(4)


os.register_at_fork(after_in_child=_new_prefix)  # a forked worker is another process

#: The request's log fields (the hot post sets them itself: api/post_events.py).
CONTEXT: ContextVar[dict[str, object]] = ContextVar("mlob_log_context", default={})  # noqa: B039 - replaced, never mutated


def start(request_id: str | None = None) -> str:
    """A new request: its id (the client's ``X-Request-ID`` if plain, else a new one)."""
    if not request_id or len(request_id) > 64 or not request_id.replace("-", "").isalnum():
        request_id = f"{_PREFIX}{next(_COUNTER) & 0xFFFFFFFF:08x}"
    CONTEXT.set({"request_id": request_id})
    return request_id


def bind(**fields: object) -> None:
    """Add what became known (only the names in ``FIELDS``)."""
    current = dict(CONTEXT.get())
    current.update({k: v for k, v in fields.items() if k in FIELDS and v is not None})
    CONTEXT.set(current)


def current() -> dict[str, object]:
    return CONTEXT.get()
