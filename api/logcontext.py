"""What a log line may say about the request it was written for: the request id, the
organisation, the message id, the correlation and the position, where known. Set here, per
request (one context per ASGI task: threads it hands work to copy it); mlob's logging adds them
to every record (mlob/logs.py). Never a token, a secret or a subject's content."""

from __future__ import annotations

import secrets
from contextvars import ContextVar

FIELDS = ("request_id", "org", "message_id", "correlation", "position")

_CONTEXT: ContextVar[dict[str, object]] = ContextVar("mlob_log_context", default={})  # noqa: B039 - replaced, never mutated


def start(request_id: str | None = None) -> str:
    """A new request: its id (the client's ``X-Request-ID`` if plain, else a new one)."""
    if not request_id or len(request_id) > 64 or not request_id.replace("-", "").isalnum():
        request_id = secrets.token_hex(8)
    _CONTEXT.set({"request_id": request_id})
    return request_id


def bind(**fields: object) -> None:
    """Add what became known (only the names in ``FIELDS``)."""
    current = dict(_CONTEXT.get())
    current.update({k: v for k, v in fields.items() if k in FIELDS and v is not None})
    _CONTEXT.set(current)


def current() -> dict[str, object]:
    return _CONTEXT.get()
