"""``mlob post``: record one item or a batch from a file or standard input, over the HTTP API.

It posts as the token's organisation, like any other client (the actor comes from the token;
the token from ``MLOB_TOKEN`` or a file, never from the command line, where other users of the
machine could read it). An item without ``message_id`` or ``occurred_at`` gets them here, once:
a retry after ``503`` or ``504 outcome_unknown`` (or a dropped connection) sends the same body
again, which the server answers with the original receipt if it was recorded. The standard
library's HTTP client is enough for one POST and keeps the server's install free of a client
library.
"""

from __future__ import annotations

import http.client
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO
from uuid import uuid4

import orjson

#: Exit statuses: recorded; refused (a 4xx, nothing recorded); unusable input or settings;
#: no answer that says whether it was recorded (retrying later with the same body is safe).
RECORDED, REFUSED, UNUSABLE, UNKNOWN = 0, 1, 2, 3
#: Answers worth the same body again: nothing recorded (503) or not known (504).
RETRIED_STATUSES = frozenset({502, 503, 504})


class UnusableInput(ValueError):
    """The file is not one item or a batch of items (JSON objects)."""


@dataclass(frozen=True)
class Answer:
    status: int  # 0: no answer at all
    body: dict[str, Any]
    retry_after: float | None = None


def completed(raw: bytes, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> bytes:
    """The body to send: each item with a ``message_id`` and an ``occurred_at`` (made here
    when missing, once, so every retry sends the same)."""
    try:
        posted = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise UnusableInput(f"not JSON: {exc}") from None
    items = posted.get("items") if isinstance(posted, dict) and "items" in posted else [posted]
    if not isinstance(items, list) or not items:
        raise UnusableInput('give one item (an object) or a batch: {"items": [...]}')
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise UnusableInput(f"item {index} is not a JSON object")
        item.setdefault("message_id", str(uuid4()))
        item.setdefault("occurred_at", now().isoformat())
    return orjson.dumps(posted)


def post_once(url: str, token: str, body: bytes, timeout: float) -> Answer:
    request = urllib.request.Request(
        f"{url.rstrip('/')}/v1/events",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read()
            try:
                return Answer(response.status, orjson.loads(text))
            except orjson.JSONDecodeError:  # not mlob answering (a proxy's page): unknown
                return Answer(
                    0,
                    {"error": {"code": "not_json", "reason": text[:200].decode(errors="replace")}},
                )
    except urllib.error.HTTPError as error:
        try:
            answer = orjson.loads(error.read())
        except orjson.JSONDecodeError:
            answer = {"error": {"status": error.code, "reason": error.reason}}
        after = error.headers.get("Retry-After")
        return Answer(error.code, answer, float(after) if after and after.isdigit() else None)
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        reason = getattr(error, "reason", error)
        return Answer(0, {"error": {"code": "unreachable", "reason": str(reason)}})


def post(
    url: str,
    token: str,
    body: bytes,
    *,
    attempts: int = 5,
    timeout: float = 30.0,
    pause: Callable[[float], None] = time.sleep,
) -> Answer:
    """Post ``body``; after no answer, 502, 503 or 504 post the same body again (at most
    ``attempts`` times, waiting as ``Retry-After`` says or 1, 2, 4 … s)."""
    answer = Answer(0, {})
    for attempt in range(attempts):
        answer = post_once(url, token, body, timeout)
        if answer.status not in RETRIED_STATUSES and answer.status != 0:
            return answer
        if attempt + 1 < attempts:
            pause(answer.retry_after if answer.retry_after is not None else float(2**attempt))
    return answer


def report(answer: Answer, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Print the receipt (standard output) or the refusal (standard error); the exit status."""
    text = orjson.dumps(answer.body, option=orjson.OPT_INDENT_2).decode()
    if answer.status == 201:
        print(text, file=out)
        return RECORDED
    print(text, file=err)
    if 400 <= answer.status < 500:
        return REFUSED
    return UNKNOWN
