"""Pages of a list: ``{"items": [...], "next": <cursor> | null}``, the next page asked for with
``?cursor=<next>`` and the same filters.

A cursor is opaque to clients: the place in the list's order after which the next page starts,
and a fingerprint of the list and filters it was given for. A cursor given with other filters
(or for another list) is refused, 400 ``invalid_cursor``: its place means nothing there. It is
no secret and no permission: every page is filtered by the reader's scope and clearance again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from typing import Annotated, Any

import orjson
from fastapi import Query

from api.errors import ApiError

#: A page holds this many items unless ``limit=`` says otherwise ...
DEFAULT_LIMIT = 50
#: ... and never more than this (a larger ``limit`` is clamped, not refused).
MAX_LIMIT = 500

#: ``limit=``: at least 1; above :data:`MAX_LIMIT` it is taken as :data:`MAX_LIMIT`.
Limit = Annotated[
    int,
    Query(ge=1, description=f"items per page (at most {MAX_LIMIT}: more is taken as {MAX_LIMIT})"),
]
#: ``cursor=``: the ``next`` of the page before, with the same filters.
Cursor = Annotated[
    str | None,
    Query(max_length=2048, description="the previous page's `next`, with the same filters"),
]


def clamp(limit: int) -> int:
    return min(limit, MAX_LIMIT)


def _fingerprint(listed: str, filters: Mapping[str, Any]) -> str:
    canonical = orjson.dumps({"list": listed, **filters}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()[:16]


def encode(listed: str, filters: Mapping[str, Any], after: tuple[str, str]) -> str:
    """The cursor of the page after ``after`` (a row's sort key and id) in this list."""
    body = orjson.dumps({"f": _fingerprint(listed, filters), "k": list(after)})
    return base64.urlsafe_b64encode(body).decode().rstrip("=")


def decode(cursor: str | None, listed: str, filters: Mapping[str, Any]) -> tuple[str, str] | None:
    """Where the page starts (None: at the beginning); 400 ``invalid_cursor`` for a cursor
    that is not one, or was given for another list or other filters."""
    if cursor is None:
        return None
    try:
        body = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        fingerprint, (key, subject) = body["f"], body["k"]
        if not (isinstance(key, str) and isinstance(subject, str)) or "\x00" in key + subject:
            raise TypeError(key)  # NUL: no text column holds it (PostgreSQL refuses it)
    except (ValueError, TypeError, KeyError, binascii.Error, orjson.JSONDecodeError):
        raise ApiError(400, "invalid_cursor", text="unknown") from None
    if fingerprint != _fingerprint(listed, filters):
        raise ApiError(400, "invalid_cursor", text="other_filters")
    return key, subject


def decode_offset(cursor: str | None, listed: str, filters: Mapping[str, Any]) -> int | None:
    """A cursor of a list paged by a number (a place in an order, a log's id); None: at the
    beginning; 400 ``invalid_cursor`` as :func:`decode`, or when its key is no number."""
    start = decode(cursor, listed, filters)
    if start is None:
        return None
    if not (start[0].isascii() and start[0].isdigit()):
        raise ApiError(400, "invalid_cursor", text="unknown")
    return int(start[0])


def page(
    items: list[dict[str, Any]],
    listed: str,
    filters: Mapping[str, Any],
    after: tuple[str, str] | None,
) -> dict[str, Any]:
    """A page's answer."""
    return {"items": items, "next": None if after is None else encode(listed, filters, after)}
