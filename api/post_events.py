"""``POST /v1/events``: the write path, the hottest endpoint of all.

During a national crisis most traffic is regions, police units and providers posting events,
so this endpoint is answered by a bare ASGI handler in front of the framework (:func:`serve`,
called by ``api.app.MlobAPI``): the framework's ten middleware layers, its router and dependency
resolution cost more CPU per post than the endpoint itself (docs/performance.md, issue 5). The
FastAPI route with the same path stays for the OpenAPI document and calls the same
:meth:`PostEvents.answer`, so both give the same answers.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from starlette.types import Receive, Scope, Send

from api import logcontext
from api.errors import (
    ApiError,
    answer,
    challenge,
    field_error,
    language,
    outcome_unknown,
    unavailable,
)
from api.lanes import urgent
from api.metrics import REQUEST_SECONDS, REQUESTS
from api.ports import MlobService, OutcomeUnknown, Principal, StoreUnavailable
from api.posting import Item, plan
from domain.envelope import Classification
from domain.errors import DomainError
from domain.vocabulary import posted_type

log = logging.getLogger("mlob.api")

MAX_BODY_BYTES = 1024 * 1024
PATH = "/v1/events"


class Batch(BaseModel):
    """An atomic batch: every item is recorded, or none."""

    model_config = ConfigDict(extra="forbid")
    # At least one item; how many at most is plan()'s rule (413 batch_too_large).
    items: Annotated[list[Item], Field(min_length=1)]


POSTED = TypeAdapter(Item | Batch)
ITEM = TypeAdapter(Item)
BATCH = TypeAdapter(Batch)


async def caller_of(service: MlobService, authorization: str) -> Principal:
    """The caller, from ``Authorization: Bearer <token>``; 401 without a valid token."""
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "unauthenticated")
    # A recently seen token is answered from memory; only a miss reads the store, in the
    # urgent lane (api/lanes.py).
    found = service.recent_principal(token)
    if found is None:
        found = await urgent(service.authenticate, token)
    if found is None:
        raise ApiError(401, "invalid_token")
    logcontext.bind(org=found.org)
    return found


class PostEvents:
    """Record one event or an atomic batch for the caller; answer 201 or a refusal."""

    def __init__(self, service: MlobService) -> None:
        self.service = service

    async def answer(
        self,
        authorization: str,
        content_length: str | None,
        body: AsyncIterator[bytes],
        accept_language: str | None = None,
    ) -> tuple[int, bytes]:
        """The status and JSON body of the answer (refusals are logged, never raised), a
        refusal in the language of ``accept_language`` (the header)."""
        try:
            caller = await caller_of(self.service, authorization)
        except DomainError as error:
            return _refused(error, accept_language)
        except StoreUnavailable as exc:
            return _refused(unavailable(exc), accept_language)
        items: list[Item] = []
        batch = False
        try:
            items, batch = await _items(content_length, body)
            logcontext.bind(message_id=items[0].message_id, correlation=items[0].correlation_id)
            receipt = await self.service.post_async(plan(caller, items))
            if receipt.events:
                logcontext.bind(position=receipt.events[-1].position)
        except DomainError as error:
            # A refusal without an item's index is the post's as a whole: its first item.
            item = items[error.index or 0] if (error.index or 0) < len(items) else None
            await self._log(caller, error, item)
            return _refused(error, accept_language, batch)
        except StoreUnavailable as exc:
            return _refused(unavailable(exc), accept_language)
        except OutcomeUnknown:
            return _refused(outcome_unknown(), accept_language)
        # Each event by its API type: an event on an item's own subject is the step that item
        # posted (the deployment steps share two stored topics), any other by the table alone.
        asked = {(item.message_id, item.subject): item.type for item in items}
        return 201, orjson.dumps(
            {
                "events": [
                    {
                        "position": e.position,
                        "stream_id": str(e.stream_id),
                        "version": e.version,
                        "type": posted_type(e.event_type, asked.get((e.message_id, e.stream_id))),
                        "message_id": e.message_id,
                        "org": e.actor_org,
                    }
                    for e in receipt.events
                ],
                "replayed": receipt.replayed,
            }
        )

    async def _log(self, caller: Principal, error: DomainError, item: Item | None) -> None:
        await log_refusal(self.service, caller, error, item)


async def log_refusal(
    service: MlobService, caller: Principal, error: DomainError, item: Item | None
) -> None:
    """Every refusal of a post is kept for the coordinators (``GET /v1/rejections``), whichever
    door it came in by (JSON here, EDXL in api/edxl/routes.py)."""
    rejection = {
        "org": caller.org,
        "role": caller.role,
        "person": caller.person,
        "event_type": item.type if item else None,
        "subject": str(item.subject) if item else None,
        "message_id": item.message_id if item else None,
        "item_index": error.index,
        "status": error.status,
        "code": error.code,
        "reason": error.reason,
        "source": error.source,
        # Only readers cleared for the refused item see the attempt (need to know).
        "classification": (
            item.classification.value if item else Classification.UNCLASSIFIED.value
        ),
    }
    try:
        await urgent(service.log_rejection, rejection)
    except StoreUnavailable:
        log.warning("rejection not logged, store unavailable: %s", rejection)


def _refused(
    error: DomainError, accept_language: str | None, batch: bool = False
) -> tuple[int, bytes]:
    status, body = answer(error, language(accept_language), batch)
    return status, orjson.dumps(body)


async def _items(
    content_length: str | None, chunks: AsyncIterator[bytes]
) -> tuple[list[Item], bool]:
    """The posted items, read and parsed (refusals as ApiError), and whether they came as a
    batch (``{"items": [...]}``: an object with ``items`` is read as a batch only, anything
    else as one item, so a field error names the field of the one reading that applies)."""
    # A declared Content-Length over the limit is refused at once (anything that is not ASCII
    # digits is left to the body's actual length).
    declared = content_length or ""
    if (
        declared.isascii()
        and declared.isdigit()
        and (len(declared) > len(str(MAX_BODY_BYTES)) or int(declared) > MAX_BODY_BYTES)
    ):
        raise _too_large()
    buffer = bytearray()
    async for chunk in chunks:
        buffer += chunk
        if len(buffer) > MAX_BODY_BYTES:
            raise _too_large()
    # PostgreSQL text cannot hold NUL: refuse its escape up front (not an escaped
    # backslash followed by "u0000", which is ordinary text).
    if b"\\u0000" in buffer and _NUL_ESCAPE.search(buffer):
        raise ApiError(422, "invalid_characters")
    try:
        raw = orjson.loads(buffer)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "malformed_json", error=exc) from None
    batch = isinstance(raw, dict) and "items" in raw
    try:
        if batch:
            return BATCH.validate_python(raw).items, True
        return [ITEM.validate_python(raw)], False
    except ValidationError as exc:
        details = [field_error(e) for e in exc.errors(include_url=False)][:50]
        raise ApiError(422, "invalid_item", details=details) from None


#: ``\u0000`` preceded by an even number of backslashes (so the escape itself, not text).
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _too_large() -> ApiError:
    return ApiError(413, "body_too_large", max_bytes=MAX_BODY_BYTES)


async def serve(post: PostEvents, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer an ASGI ``POST /v1/events`` without the framework (see the module docstring)."""
    authorization = content_length = accept_language = None
    for name, value in scope["headers"]:
        if name == b"authorization" and authorization is None:  # the first, as Starlette
            authorization = value.decode("latin-1")
        elif name == b"content-length" and content_length is None:
            content_length = value.decode("latin-1")
        elif name == b"accept-language" and accept_language is None:
            accept_language = value.decode("latin-1")
    started = time.perf_counter()
    try:
        status, body = await post.answer(
            authorization or "", content_length, _chunks(receive), accept_language
        )
    except ClientGone:
        return  # nobody to answer; nothing was recorded (the body never arrived whole)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status >= 400:  # a refusal's own headers (WWW-Authenticate, Retry-After)
        headers += [(k.lower().encode(), v.encode()) for k, v in challenge(status).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    # Counted here (the framework's counting wraps every other route: api.metrics.counted).
    # (No helper function for the look-ups: the traced walk of a post stays as short.)
    count = _CHILDREN.get(status) or _CHILDREN.setdefault(
        status, REQUESTS.labels(PATH, "POST", str(status))
    )
    count.inc()
    seconds = _CHILDREN.get(0) or _CHILDREN.setdefault(0, REQUEST_SECONDS.labels(PATH))
    seconds.observe(time.perf_counter() - started)


#: This route's counter per status, and (at 0) its time histogram: prometheus-client's
#: ``labels`` looks the child up anew on every call (a lock, a tuple, a dict), 1 % of a single
#: post's CPU; a child lives as long as its metric, so holding it counts the same. Made at
#: first use, as before (a series appears once something was counted).
_CHILDREN: dict[int, Any] = {}


class ClientGone(Exception):
    """The client went away before its whole body arrived."""


async def _chunks(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return
