"""Posting events: validate each item, build its envelope from the caller's credentials, and
hand the commands to the application service as one post (domain/commands.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Annotated, Any
from uuid import UUID

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.commands import REGISTRY
from api.errors import field_error
from api.ports import MlobService, Principal
from api.types import Moment
from domain import policy
from domain.commands import Command, Message, Post, message_key
from domain.envelope import Actor, Authority, Classification, Envelope, SigningCapacity
from domain.errors import DomainError, NotPermitted, TooLarge
from domain.recorded import Receipt

#: At least one character that is not white space.
MessageId = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]
MAX_BATCH = 500
API = "mlob API"


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


def digest(item: Item) -> str:
    """Content digest for idempotency: the same message id must carry the same content."""
    canonical = orjson.dumps(item.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def envelope_for(item: Item, principal: Principal, actor: Actor | None = None) -> Envelope:
    """The item's envelope; its threading is filled in when it runs (domain/posting.py).
    ``actor``: the principal's, when the caller made it already (one per post)."""
    authority = None
    if item.authority is not None:
        authority = Authority(**item.authority.model_dump())
    return Envelope(
        actor=actor or Actor(org=principal.org, role=principal.role, person=principal.person),
        occurred_at=item.occurred_at,
        message_id=item.message_id,
        authority=authority,
        exercise=item.exercise,
        classification=item.classification,
        correlation_id=item.correlation_id,
    )


def plan(principal: Principal, items: Sequence[Item]) -> Post:
    """Validate ``items`` into the commands of one post; raises DomainError (the refused
    item's ``index`` set) before anything runs."""
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
        commands.append(
            Command(
                index,
                item.type,
                item.subject,
                event_type.subject,
                event_type.creates,
                data,
                envelope_for(item, principal, actor),
                item.expected_version,
            )
        )
        messages.append(Message(message_key(principal.org, item.message_id), digest(item), level))
    return Post(principal, messages, commands)


def post(service: MlobService, principal: Principal, items: Sequence[Item]) -> Receipt:
    """Record ``items`` atomically for ``principal``; raises DomainError."""
    return service.post(plan(principal, items))
