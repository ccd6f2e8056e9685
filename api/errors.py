"""One error shape for every refusal: ``{"error": {"status", "code", "reason", "source", ...}}``.

Every refusal is a :class:`domain.errors.DomainError` (the rules' own, or an :class:`ApiError`
for what only HTTP refuses); :func:`answer` is the one place that turns one into an answer."""

from __future__ import annotations

import logging
from typing import Any

from fastapi.responses import JSONResponse

from api.metrics import REFUSALS
from domain.errors import DomainError

log = logging.getLogger("mlob.api")


#: Seconds a client should wait before retrying a 503 or 504.
RETRY_AFTER = 5


def challenge(status: int) -> dict[str, str]:
    """The headers a refusal with ``status`` carries: a 401 says how to authenticate, a 503
    or 504 when to try again."""
    if status == 401:
        return {"WWW-Authenticate": "Bearer"}
    return {"Retry-After": str(RETRY_AFTER)} if status in (503, 504) else {}


def answer(exc: DomainError) -> tuple[int, dict[str, Any]]:
    """The HTTP status and body of a refusal (counted by code: ``mlob_refusals``)."""
    REFUSALS.labels(exc.code).inc()
    error: dict[str, Any] = {
        "status": exc.status,
        "code": exc.code,
        "reason": exc.reason,
        "source": exc.source,
    }
    if exc.index is not None:
        error["index"] = exc.index
    if exc.details:
        error["details"] = exc.details
    if isinstance(exc, ApiError):
        error.update(exc.extra)
    return exc.status, {"error": error}


class ApiError(DomainError):
    """A refusal of the HTTP layer itself (authentication, malformed bodies, reads): its
    status is its own, not its class's."""

    def __init__(
        self, status: int, code: str, reason: str, source: str = "mlob API", **extra: Any
    ) -> None:
        super().__init__(
            code, reason, source, index=extra.pop("index", None), details=extra.pop("details", None)
        )
        self.status = status
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return answer(self)[1]

    def response(self) -> JSONResponse:
        return refusal_response(self)


def refusal_response(exc: DomainError) -> JSONResponse:
    status, body = answer(exc)
    return JSONResponse(body, status_code=status, headers=challenge(status))


def unavailable(exc: Exception) -> ApiError:
    """The store is away (503): the client may retry; nothing was recorded. The driver's
    text stays in the log (it names hosts and internals), never in the answer."""
    log.warning("store unavailable: %s", exc)
    return ApiError(
        503, "store_unavailable", "the store cannot be reached; nothing was recorded", "mlob store"
    )


def outcome_unknown() -> ApiError:
    """A commit was sent and its answer lost, and the store could not tell in time (504)."""
    return ApiError(
        504,
        "outcome_unknown",
        "the store did not confirm whether this was recorded; retry with the same message ids",
        "mlob store",
    )


ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "status": {"type": "integer"},
                "code": {"type": "string"},
                "reason": {"type": "string"},
                "source": {"type": "string"},
                "index": {"type": "integer"},
                "details": {"type": "array", "items": {"type": "object"}},
            },
            "required": ["status", "code", "reason", "source"],
        }
    },
    "required": ["error"],
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {
            "description": "refused with a reason",
            # One named schema (added to the document's components by api/app.py).
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for status in statuses
    }
