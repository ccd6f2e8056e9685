"""Posting events: validate each item, build its envelope from the caller's credentials, and
hand the domain steps to the application service as one atomic append."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any
from uuid import UUID

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.commands import REGISTRY, EventType, Work
from api.ports import Message, MlobService, Principal, Receipt, message_key
from api.types import Moment
from domain import policy
from domain.envelope import Actor, Authority, Classification, Envelope, SigningCapacity
from domain.errors import DomainError

#: At least one character that is not white space.
MessageId = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]
MAX_BATCH = 500


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


@dataclass
class ItemRefused(Exception):
    """An item that cannot be recorded: the whole batch is refused, nothing is written."""

    index: int
    status: int
    code: str
    reason: str
    source: str = "mlob API"
    details: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "index": self.index,
            "code": self.code,
            "reason": self.reason,
            "source": self.source,
        }
        if self.details:
            body["details"] = self.details
        return body


def digest(item: Item) -> str:
    """Content digest for idempotency: the same message id must carry the same content."""
    canonical = orjson.dumps(item.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


@dataclass(frozen=True)
class Prepared:
    index: int
    item: Item
    event_type: EventType
    data: Any


def prepare(items: Sequence[Item], principal: Principal) -> list[Prepared]:
    """Validate types and data of every item before anything runs."""
    prepared = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        event_type = REGISTRY.get(item.type)
        if event_type is None:
            raise ItemRefused(
                index,
                422,
                "unknown_event_type",
                f"no event type {item.type!r}; see GET /v1/event-types",
            )
        if item.message_id in seen:
            raise ItemRefused(
                index,
                422,
                "duplicate_message_in_batch",
                f"message id {item.message_id} appears twice in this batch",
            )
        seen.add(item.message_id)
        if not item.classification.readable_by(principal.clearance):
            raise ItemRefused(
                index,
                403,
                "classification_above_clearance",
                f"your clearance does not cover {item.classification.value}",
                "mlob classification rules",
            )
        try:
            data = event_type.model.model_validate(item.data)
        except ValidationError as exc:
            raise ItemRefused(
                index,
                422,
                "invalid_data",
                f"data does not fit {item.type}",
                details=[
                    {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
                    for e in exc.errors(include_url=False, include_context=False)
                ],
            ) from None
        prepared.append(Prepared(index, item, event_type, data))
    return prepared


def envelope_for(
    item: Item, principal: Principal, causation: str | None, correlation: str
) -> Envelope:
    authority = None
    if item.authority is not None:
        authority = Authority(**item.authority.model_dump())
    return Envelope(
        actor=Actor(org=principal.org, role=principal.role, person=principal.person),
        occurred_at=item.occurred_at,
        message_id=item.message_id,
        authority=authority,
        exercise=item.exercise,
        classification=item.classification,
        correlation_id=item.correlation_id or correlation,
        causation_id=causation,
    )


@dataclass(frozen=True)
class Append:
    """A validated post, ready for the application service."""

    messages: list[Message]
    work: Callable[[Work], None]
    subjects: list[UUID]
    creates: list[UUID]


def hidden(unit: Work, p: Prepared, principal: Principal) -> None:
    """A subject the caller may not see does not exist for the caller (acting needs seeing,
    domain/policy.py): the answer is the same 404 as for an unknown subject (no refusal code
    may reveal it). Decided on the subject as the caller's clearance shows it: a classified
    step that adds a region or an organisation does not let them act."""
    if unit.peek(p.item.subject) is None:
        return
    seen = unit.peek_at(p.item.subject, policy.reader_level(principal))
    if seen is None or not policy.may_see_subject(principal, seen):
        raise ItemRefused(
            p.index, 404, "unknown_subject", f"no {p.event_type.subject} {p.item.subject}"
        )


def hidden_capacity(unit: Work, p: Prepared, principal: Principal) -> None:
    """A capacity classified above the actor's clearance cannot be booked: 404 as unknown.
    (Capacities are not scoped: the national overview shows every provider's.)"""
    capacity_id = getattr(p.data, "capacity_id", None)
    if not isinstance(capacity_id, UUID):
        return
    capacity = unit.peek(capacity_id)
    if capacity is not None and not policy.cleared(principal, policy.classification_of(capacity)):
        # Word for word what an unknown capacity answers (mlob/application.py Work.get).
        raise ItemRefused(
            p.index, 404, "unknown_subject", f"no Capacity {capacity_id}", "mlob store"
        )


def not_possible_now(unit: Work, p: Prepared, principal: Principal, exc: DomainError) -> None:
    """A refusal on a subject (or the capacity it books) that has steps above the actor's
    clearance may rest on what the actor cannot see: it is answered without its reason."""
    involved = [p.item.subject]
    capacity_id = getattr(p.data, "capacity_id", None)
    if isinstance(capacity_id, UUID):
        involved.append(capacity_id)
    for subject in involved:
        existing = unit.peek(subject)
        if existing is not None and not policy.cleared(principal, existing.top_level):
            raise ItemRefused(
                p.index,
                409,
                "not_possible_now",
                "this step is not possible now",
                policy.SOURCE,
            ) from None


def plan(principal: Principal, items: Sequence[Item]) -> Append:
    """Validate ``items`` and build the work that records them; raises ItemRefused."""
    if not items:
        raise ItemRefused(0, 422, "empty_batch", "post at least one item")
    if len(items) > MAX_BATCH:
        raise ItemRefused(MAX_BATCH, 413, "batch_too_large", f"at most {MAX_BATCH} items per post")
    if principal.role not in policy.WRITER_ROLES:
        # Rights before anything else, a replay of a recorded message included.
        raise ItemRefused(
            0, 403, "read_only_role", f"role {principal.role} records no steps", "mlob rights table"
        )
    prepared = prepare(items, principal)
    messages = [
        Message(
            message_key(principal.org, p.item.message_id),
            digest(p.item),
            policy.reader_level(principal),
        )
        for p in prepared
    ]

    def work(unit: Work) -> None:
        # Threads start afresh on every run: the writer may run the work again on fresh state.
        threads: dict[UUID, tuple[str, str | None]] = {}
        for p in prepared:
            try:
                subject = p.item.subject
                if subject not in threads:
                    threads[subject] = unit.thread_of(subject)
                    hidden(unit, p, principal)
                hidden_capacity(unit, p, principal)
                first, last = threads[subject]
                if not first and not p.event_type.creates:
                    raise ItemRefused(
                        p.index, 404, "unknown_subject", f"no {p.event_type.subject} {subject}"
                    )
                first = first or p.item.message_id
                # EDXL-RM threading: correlation = the first message, causation = the answered.
                envelope = envelope_for(p.item, principal, last, first)
                p.event_type.handler(unit, envelope, subject, p.data, p.item.expected_version)
                threads[subject] = (first, p.item.message_id)
            except DomainError as exc:
                not_possible_now(unit, p, principal, exc)
                raise ItemRefused(p.index, exc.status, exc.code, exc.reason, exc.source) from None

    # Streams the work writes when accepted (the writer may take them from its cache; see
    # mlob/writer.py): the items' subjects and the capacities a booking pairs with.
    subjects = [p.item.subject for p in prepared] + [
        p.data.capacity_id
        for p in prepared
        if isinstance(getattr(p.data, "capacity_id", None), UUID)
    ]
    creates = [p.item.subject for p in prepared if p.event_type.creates]
    return Append(messages, work, subjects, creates)


def post(service: MlobService, principal: Principal, items: Sequence[Item]) -> Receipt:
    """Record ``items`` atomically for ``principal``; raises ItemRefused or DomainError."""
    append = plan(principal, items)
    return service.record(append.messages, append.work, append.subjects, append.creates)
