"""One error shape for every refusal: ``{"error": {"status", "code", "reason", "source", ...}}``."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse


def challenge(status: int) -> dict[str, str]:
    """The headers a refusal with ``status`` carries: a 401 says how to authenticate."""
    return {"WWW-Authenticate": "Bearer"} if status == 401 else {}


class ApiError(Exception):
    def __init__(self, status: int, code: str, reason: str, source: str = "mlob API", **extra: Any):
        super().__init__(reason)
        self.status = status
        self.code = code
        self.reason = reason
        self.source = source
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "status": self.status,
                "code": self.code,
                "reason": self.reason,
                "source": self.source,
                **self.extra,
            }
        }

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=challenge(self.status))


def unavailable(exc: Exception) -> ApiError:
    """The store is away (503): the client may retry; nothing was recorded."""
    return ApiError(503, "store_unavailable", str(exc), "mlob store")


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
            "content": {"application/json": {"schema": ERROR_SCHEMA}},
        }
        for status in statuses
    }
