"""``POST /v1/events``: the write path's way in, the hottest endpoint of all — the items a
client posts, their validation into one post of commands (domain/commands.py: each item's
envelope from the caller's credentials) and the answer.

During a national crisis most traffic is regions, police units and providers posting events,
so this endpoint is answered by a bare ASGI handler in front of the framework (:func:`serve`,
called by ``api.app.MlobAPI``): the framework's ten middleware layers, its router and dependency
resolution cost more CPU per post than the endpoint itself (docs/performance.md, issue 5). The
FastAPI route with the same path stays for the OpenAPI document and calls the same
:meth:`PostEvents.answer`, so both give the same answers. :func:`plan` turns items into a post
for every door (JSON here, EDXL in api/edxl/routes.py).
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Sequence
from typing import Annotated, Any
from uuid import UUID

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from starlette.types import Receive, Scope, Send

from api import logcontext
from api.commands import REGISTRY
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
from api.types import Moment
from domain import policy
from domain.commands import Command, Message, Post, message_key
from domain.envelope import Actor, Authority, Classification, Envelope, SigningCapacity
from domain.errors import DomainError, NotPermitted, TooLarge
from domain.recorded import Receipt
from domain.vocabulary import posted_type

log = logging.getLogger("mlob.api")

MAX_BODY_BYTES = 1024 * 1024
PATH = "/v1/events"
MAX_BATCH = 500
API = "mlob API"

#: At least one character that is not white space.
MessageId = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]


class AuthorityIn(BaseModel):
    """The competent body the step is taken for, signed *door* (by) or *namens* (on behalf of)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    body: Annotated[str, Field(min_length=1, max_length=64)]
    of: Annotated[str, Field(min_length=1, max_length=100)]
    capacity: SigningCapacity = SigningCapacity.BY
    person: Annotated[str, Field(max_length=200)] | None = None


class Item(BaseModel):
    """One event a client asks to record."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Annotated[str, Field(min_length=1, max_length=64)]
    subject: UUID
    message_id: MessageId
    expected_version: Annotated[int, Field(ge=0)] | None = None
    occurred_at: Moment
    exercise: bool = False
    classification: Classification = Classification.UNCLASSIFIED
    authority: AuthorityIn | None = None
    correlation_id: Annotated[str, Field(max_length=200)] | None = None
    data: dict[str, Any] = {}


class Batch(BaseModel):
    """An atomic batch: every item is recorded, or none."""

    model_config = ConfigDict(extra="forbid")
    # At least one item; how many at most is plan()'s rule (413 batch_too_large).
    items: Annotated[list[Item], Field(min_length=1)]


POSTED = TypeAdapter(Item | Batch)
ITEM = TypeAdapter(Item)
BATCH = TypeAdapter(Batch)


def plan(principal: Principal, items: Sequence[Item]) -> Post:
    """Validate ``items`` into the commands of one post; raises DomainError (the refused
    item's ``index`` set) before anything runs. Each command's envelope is the item's, its
    actor the caller (threading is filled in when it runs: domain/posting.py); each message's
    digest is the item's content (the same message id must carry the same content)."""
    if not items:
        raise DomainError("empty_batch", API, index=0)
    if len(items) > MAX_BATCH:
        raise TooLarge("batch_too_large", API, max_items=MAX_BATCH).at(MAX_BATCH)
    if principal.role not in policy.WRITER_ROLES:
        # Rights before anything else, a replay of a recorded message included.
        raise NotPermitted("read_only_role", "mlob rights table", role=principal.role).at(0)
    level = policy.reader_level(principal)
    actor = Actor(org=principal.org, role=principal.role, person=principal.person)  # immutable
    commands = []
    messages = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        event_type = REGISTRY.get(item.type)
        if event_type is None:
            raise DomainError(
                "unknown_event_type", API, index=index, type=item.type, pointer="/type"
            )
        if item.message_id in seen:
            raise DomainError(
                "duplicate_message_in_batch",
                API,
                index=index,
                message_id=item.message_id,
                pointer="/message_id",
            )
        seen.add(item.message_id)
        if not policy.cleared(principal, item.classification):  # no one writes above it
            raise NotPermitted(
                "classification_above_clearance",
                "mlob classification rules",
                classification=item.classification,
                pointer="/classification",
            ).at(index)
        try:
            data = event_type.model.model_validate(item.data)
        except ValidationError as exc:
            raise DomainError(
                "invalid_data",
                API,
                index=index,
                details=[field_error(e, "/data") for e in exc.errors(include_url=False)],
                type=item.type,
            ) from None
        authority = item.authority
        envelope = Envelope(
            actor=actor,
            occurred_at=item.occurred_at,
            message_id=item.message_id,
            authority=None if authority is None else Authority(**authority.model_dump()),
            exercise=item.exercise,
            classification=item.classification,
            correlation_id=item.correlation_id,
        )
        commands.append(
            Command(
                index,
                item.type,
                item.subject,
                event_type.subject,
                event_type.creates,
                data,
                envelope,
                item.expected_version,
            )
        )
        content = orjson.dumps(item.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
        digest = hashlib.sha256(content).hexdigest()
        messages.append(Message(message_key(principal.org, item.message_id), digest, level))
    return Post(principal, messages, commands)


def post(service: MlobService, principal: Principal, items: Sequence[Item]) -> Receipt:
    """Record ``items`` atomically for ``principal``; raises DomainError."""
    return service.post(plan(principal, items))


async def caller_of(service: MlobService, authorization: str) -> Principal:
    """The caller, from ``Authorization: Bearer <token>``; 401 without a valid token."""
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "unauthenticated")
    # A recently seen token is answered from memory; only a miss reads the store, in the
    # urgent lane (api/lanes.py).
    recent = service.recent_tokens.get(token)
    if recent is not None and time.monotonic() < recent[0]:
        found: Principal | None = recent[1]
    else:
        found = await urgent(service.authenticate, token)
    if found is None:
        raise ApiError(401, "invalid_token")
    # logcontext.bind's work, without its call (the traced walk of a post stays short).
    context = logcontext.CONTEXT
    context.set({**context.get(), "org": found.org})
    return found


class PostEvents:
    """Record one event or an atomic batch for the caller; answer 201 or a refusal."""

    def __init__(self, service: MlobService) -> None:
        self.service = service

    async def answer(
        self,
        authorization: str,
        content_length: str | None,
        receive: Receive,
        accept_language: str | None = None,
    ) -> tuple[int, bytes]:
        """The status and JSON body of the answer (refusals are logged, never raised), a
        refusal in the language of ``accept_language`` (the header); ``receive``: the ASGI
        request's (the body is read from it)."""
        try:
            caller = await caller_of(self.service, authorization)
        except DomainError as error:
            return _refused(error, accept_language)
        except StoreUnavailable as exc:
            return _refused(unavailable(exc), accept_language)
        items: list[Item] = []
        batch = False
        context = logcontext.CONTEXT  # (logcontext.bind's work, without its call)
        try:
            items, batch = await _items(content_length, receive)
            first = items[0]
            known = {**context.get(), "message_id": first.message_id}
            if first.correlation_id is not None:
                known["correlation"] = first.correlation_id
            context.set(known)
            receipt = await self.service.post_async(plan(caller, items))
            if receipt.events:
                context.set({**known, "position": receipt.events[-1].position})
        except DomainError as error:
            # A refusal without an item's index is the post's as a whole: its first item.
            item = items[error.index or 0] if (error.index or 0) < len(items) else None
            await log_refusal(self.service, caller, error, item)
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


async def _items(content_length: str | None, receive: Receive) -> tuple[list[Item], bool]:
    """The posted items, read from the request's ``receive`` and parsed (refusals as ApiError;
    :class:`ClientGone` if the client left first), and whether they came as a batch
    (``{"items": [...]}``: an object with ``items`` is read as a batch only, anything else as
    one item, so a field error names the field of the one reading that applies)."""
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
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        buffer += message.get("body", b"")
        if len(buffer) > MAX_BODY_BYTES:
            raise _too_large()
        if not message.get("more_body", False):
            break
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
            authorization or "", content_length, receive, accept_language
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
