"""One error shape for every refusal: ``{"error": {"status", "code", "reason", "source", ...}}``.

Every refusal is a :class:`domain.errors.DomainError` (the rules' own, or an :class:`ApiError`
for what only HTTP refuses); :func:`answer` is the one place that turns one into an answer, in
the language :func:`language` reads from ``Accept-Language`` (Dutch or English, the texts of
domain/refusals.py), with its ``params`` and the ``details[].pointer`` of the field at fault."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from fastapi.responses import JSONResponse

from api.metrics import REFUSALS
from domain.errors import DomainError
from domain.refusals import field_text

log = logging.getLogger("mlob.api")


#: Seconds a client should wait before retrying a 503 or 504.
RETRY_AFTER = 5


def challenge(status: int) -> dict[str, str]:
    """The headers a refusal with ``status`` carries: a 401 says how to authenticate, a 503
    or 504 when to try again."""
    if status == 401:
        return {"WWW-Authenticate": "Bearer"}
    return {"Retry-After": str(RETRY_AFTER)} if status in (503, 504) else {}


def language(accept_language: str | None) -> str:
    """The language of refusal texts for an ``Accept-Language`` header (RFC 9110 §12.5.4):
    ``nl`` when Dutch (``nl``, ``nl-NL``, ``nl-BE``) has the highest q-value of the ranges we
    speak and is above 0, else ``en``, the default. ``*`` counts as English; a malformed part
    is ignored."""
    if not accept_language or "nl" not in accept_language.lower():
        return "en"
    best = {"en": 0.0, "nl": 0.0}
    first = {"en": 0, "nl": 0}  # where each reached its best: on a tie the first named wins
    for position, part in enumerate(accept_language.split(",")):
        tag, *options = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for option in options:
            name, _, value = option.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = -1.0
        if not 0.0 <= quality <= 1.0:
            continue
        primary = tag.lower().split("-")[0]
        spoken = "nl" if primary == "nl" else "en" if primary in ("en", "*") else None
        if spoken is not None and quality > best[spoken]:
            best[spoken], first[spoken] = quality, position
    if best["nl"] > best["en"] or (best["nl"] == best["en"] > 0 and first["nl"] < first["en"]):
        return "nl"
    return "en"


def pointer(loc: Iterable[object], prefix: str = "") -> str:
    """A validation error's ``loc`` as a JSON pointer (RFC 6901: ``~`` is ``~0``, ``/`` is
    ``~1``) under ``prefix``."""
    return prefix + "".join("/" + str(step).replace("~", "~0").replace("/", "~1") for step in loc)


#: A detail's Dutch text, kept beside its English ``msg`` until the answer's language is known.
DUTCH = "_nl"


def field_error(e: Any, prefix: str = "", body: bool = True) -> dict[str, Any]:
    """A pydantic error as a refusal's detail: its ``loc``, its JSON ``pointer`` under
    ``prefix`` (``body``: it names a field of the body), ``msg`` and ``type``, and the Dutch
    text of its type (domain/refusals.py ``FIELD_TEXTS``) for a Dutch answer."""
    detail: dict[str, Any] = {"loc": list(e["loc"])}
    if body:
        detail["pointer"] = pointer(e["loc"], prefix)
    detail.update(msg=e["msg"], type=e["type"])
    dutch = field_text(e["type"], e.get("ctx"))
    if dutch is not None:
        detail[DUTCH] = dutch
    return detail


def _in(detail: dict[str, Any], lang: str) -> dict[str, Any]:
    """A detail as answered in ``lang``: its Dutch text as ``msg`` where it has one."""
    if DUTCH not in detail:
        return detail
    out = {k: v for k, v in detail.items() if k != DUTCH}
    if lang == "nl":
        out["msg"] = detail[DUTCH]
    return out


def answer(exc: DomainError, lang: str = "en", batch: bool = False) -> tuple[int, dict[str, Any]]:
    """The HTTP status and body of a refusal in ``lang`` (counted by code: ``mlob_refusals``).
    A refusal naming a field answers it as ``details[].pointer``; in a batch (``batch``) the
    pointers of item ``index`` start with ``/items/<index>``."""
    REFUSALS.labels(exc.code).inc()
    reason = exc.reason_in(lang)
    error: dict[str, Any] = {
        "status": exc.status,
        "code": exc.code,
        "reason": reason,
        "source": exc.source,
    }
    if exc.params:
        error["params"] = exc.params
    if exc.index is not None:
        error["index"] = exc.index
    prefix = f"/items/{exc.index}" if batch and exc.index is not None else ""
    details = [
        {**d, "pointer": prefix + d["pointer"]} if "pointer" in d else d
        for d in (_in(d, lang) for d in exc.details)
    ]
    if exc.pointer is not None:
        details.insert(0, {"pointer": prefix + exc.pointer, "msg": reason})
    if details:
        error["details"] = details
    return exc.status, {"error": error}


class ApiError(DomainError):
    """A refusal of the HTTP layer itself (authentication, malformed bodies, reads): its
    status is its own, not its class's."""

    def __init__(
        self,
        status: int,
        code: str,
        source: str = "mlob API",
        *,
        text: str | None = None,
        pointer: str | None = None,
        index: int | None = None,
        details: list[dict[str, Any]] | None = None,
        **params: object,
    ) -> None:
        super().__init__(
            code, source, text=text, pointer=pointer, index=index, details=details, **params
        )
        self.status = status

    def body(self, lang: str = "en") -> dict[str, Any]:
        return answer(self, lang)[1]

    def response(self, lang: str = "en") -> JSONResponse:
        return refusal_response(self, lang)


def refusal_response(exc: DomainError, lang: str = "en") -> JSONResponse:
    status, body = answer(exc, lang)
    return JSONResponse(body, status_code=status, headers=challenge(status))


def unavailable(exc: Exception) -> ApiError:
    """The store is away (503): the client may retry; nothing was recorded. The driver's
    text stays in the log (it names hosts and internals), never in the answer."""
    log.warning("store unavailable: %s", exc)
    return ApiError(503, "store_unavailable", "mlob store")


def outcome_unknown() -> ApiError:
    """A commit was sent and its answer lost, and the store could not tell in time (504)."""
    return ApiError(504, "outcome_unknown", "mlob store")


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
                "params": {
                    "type": "object",
                    "description": "the named values in the reason's text (the same in every "
                    "language)",
                },
                "index": {"type": "integer"},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "pointer": {
                                "type": "string",
                                "description": "the field at fault, a JSON pointer (RFC 6901) "
                                "into the posted body",
                            },
                            "msg": {
                                "type": "string",
                                "description": "what is wrong with it, in the language asked "
                                "where the catalogue has a text for its check",
                            },
                            "type": {
                                "type": "string",
                                "description": "the schema check that failed (pydantic's "
                                "error type), where one did",
                            },
                            "loc": {
                                "type": "array",
                                "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                                "description": "where a schema check failed, as a path",
                            },
                        },
                    },
                },
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
