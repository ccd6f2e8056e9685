"""What an assistance request's history is made of: the value types its events carry and the
events themselves, each with its stored topic and how it changes the request's state.

The topics (``TOPIC``, :func:`~domain.stored.stored_as`) never change: stored history must
read back. :class:`~domain.request.aggregate.AssistanceRequest` holds these events as its own
nested classes (eventsourcing records an aggregate's events that way); nothing else creates
them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

from domain.base import MlobAggregate
from domain.envelope import Authority
from domain.kinds import Justification, RequestKind, Task
from domain.lifecycle import LineStep, RequestStatus
from domain.rights import Step
from domain.stored import stored_as


@stored_as("mlob:Outcome")
class Outcome(str, Enum):
    GRANTED = "granted"
    PARTLY_GRANTED = "partly_granted"
    REFUSED = "refused"


@stored_as("mlob:RequestLine")
@dataclass(frozen=True)
class RequestLine:
    """One requested capability: how many, where, when, and the effect wanted (*effect*)."""

    line_id: str
    capability: str
    quantity: int
    effect: str
    location: str = ""
    municipality: str | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    armed: bool = False
    automatic_weapons: bool = False


@stored_as("mlob:LineBooking")
@dataclass(frozen=True)
class LineBooking:
    booking_id: UUID
    line_id: str
    capacity_id: UUID
    provider: str
    quantity: int
    step: LineStep
    until: datetime | None = None
    successor: UUID | None = None
    #: A part moved on alone: the booking it was split from keeps the rest (issue 18; None
    #: for bookings stored before it and for every whole booking).
    split_from: UUID | None = None


@stored_as("mlob:Decision")
@dataclass(frozen=True)
class Decision:
    decider: str  # organisation code
    decider_kind: str
    outcome: Outcome
    granted: tuple[tuple[str, int], ...]  # (line id, quantity granted)
    reasons: str


@stored_as("mlob:Share")
@dataclass(frozen=True)
class Share:
    """Part of a line forwarded to one provider (``request.forwarded``'s ``shares``)."""

    to: str
    line_id: str
    quantity: int


@stored_as("mlob:LineShare")
@dataclass(frozen=True)
class LineShare:
    """One provider's share of a line as it stands: asked, then decided (what is granted).

    ``whole``: asked by a forward of the whole request (``to``), for a line it provides.
    ``outcome`` is None while the share waits for its decision."""

    to: str
    line_id: str
    asked: int
    whole: bool = False
    outcome: Outcome | None = None
    granted: int = 0


def with_step(booking: LineBooking, step: LineStep, **changes: Any) -> LineBooking:
    return replace(booking, step=step, **changes)


# --- events ------------------------------------------------------------------------------------


class Created(MlobAggregate.Created):
    """Request drafted (*concept*) by or for the requesting organisation."""

    TOPIC = "mlob:AssistanceRequest.Drafted"
    kind: RequestKind
    requester: str
    authority: Authority | None
    urgent: bool
    incident_id: UUID | None
    lines: tuple[RequestLine, ...]
    justifications: tuple[tuple[Justification, str], ...]
    title: str
    phoned_in: bool
    #: The task it serves; stored requests from before it was recorded have none (their
    #: kind's default: AssistanceRequest.__init__).
    task: Task | None = None


class PhonedIn(Created):
    """Urgent request phoned in and recorded by the hub on the requester's behalf; the
    written form follows (*spoed: telefonisch, later geformaliseerd*)."""

    TOPIC = "mlob:AssistanceRequest.PhonedIn"


class Submitted(MlobAggregate.Event):
    TOPIC = "mlob:AssistanceRequest.Submitted"

    def apply(self, aggregate: Any) -> None:
        aggregate._enter(RequestStatus.SUBMITTED, self.envelope)
        aggregate.submitted_at = self.envelope.occurred_at


class Formalised(MlobAggregate.Event):
    """The signed form of an urgent request arrived."""

    TOPIC = "mlob:AssistanceRequest.Formalised"
    authority: Authority

    def apply(self, aggregate: Any) -> None:
        aggregate.formalisation_outstanding = False
        aggregate.authority = self.authority
        aggregate.formalised_at = self.envelope.occurred_at


class Amended(MlobAggregate.Event):
    TOPIC = "mlob:AssistanceRequest.Amended"
    lines: tuple[RequestLine, ...]
    justifications: tuple[tuple[Justification, str], ...]
    reason: str

    def apply(self, aggregate: Any) -> None:
        aggregate._amend(self.lines, self.justifications)


class Received(MlobAggregate.Event):
    TOPIC = "mlob:AssistanceRequest.Received"

    def apply(self, aggregate: Any) -> None:
        aggregate._enter(RequestStatus.RECEIVED, self.envelope)


class ExhaustionConfirmed(MlobAggregate.Event):
    """Art. 58: LE Preparatie confirms the police are exhausted or lack the specialism."""

    TOPIC = "mlob:AssistanceRequest.ExhaustionConfirmed"
    finding: str

    def apply(self, aggregate: Any) -> None:
        aggregate.exhaustion_confirmed = True


class Assessed(MlobAggregate.Event):
    """The hub's test (*toetsing*): forward, or refuse with reasons."""

    TOPIC = "mlob:AssistanceRequest.Assessed"
    forward: bool
    findings: str
    alternatives_checked: str

    def apply(self, aggregate: Any) -> None:
        aggregate.assessment = self.findings
        aggregate._enter(
            RequestStatus.ASSESSED if self.forward else RequestStatus.REFUSED, self.envelope
        )
        if not self.forward:
            aggregate.outcome = Outcome.REFUSED
            aggregate._refused_at_assessment(self.envelope, self.findings)
        aggregate._falls_due(Step.ASSESS, "forwarded" if self.forward else "refused", self.envelope)


class Forwarded(MlobAggregate.Event):
    """The whole request to each of ``to`` (stored before shares existed: only that), and
    parts of lines to providers (``shares``)."""

    TOPIC = "mlob:AssistanceRequest.Forwarded"
    to: tuple[str, ...]
    copies: tuple[str, ...]
    shares: tuple[Share, ...] = ()

    def apply(self, aggregate: Any) -> None:
        recipients = self.to + tuple(share.to for share in self.shares)
        aggregate.forwarded_to = tuple(dict.fromkeys(aggregate.forwarded_to + recipients))
        # Copied on it (e.g. DOC and DJZ on a military request): they see it (need to know).
        aggregate.copied_to = tuple(dict.fromkeys(aggregate.copied_to + self.copies))
        # In deployment nobody was waited for: the remainder's provider is, from now on.
        waits_anew = aggregate.in_deployment
        aggregate._add_shares(self.to, self.shares)
        if waits_anew:
            aggregate._enter(RequestStatus.APPROVED, self.envelope)
        elif aggregate.status in (RequestStatus.APPROVED, RequestStatus.DECIDING):
            # the remainder forwarded while a grant stands, or while the deciders decide
            aggregate._touch(self.envelope)
        else:
            if aggregate.status is RequestStatus.REFUSED:  # the remainder, after a refusal
                aggregate.outcome = None
            aggregate._enter(RequestStatus.FORWARDED, self.envelope)


class Advised(MlobAggregate.Event):
    TOPIC = "mlob:AssistanceRequest.Advised"
    adviser_kind: str
    favourable: bool
    advice: str

    def apply(self, aggregate: Any) -> None:
        if aggregate.status is RequestStatus.APPEALED:  # DGPOL to the Minister, art. 56(4)
            aggregate.appeal_advice[self.adviser_kind] = (self.favourable, self.advice)
            return
        aggregate.advice[self.adviser_kind] = (self.favourable, self.advice)


class Decided(MlobAggregate.Event):
    TOPIC = "mlob:AssistanceRequest.Decided"
    decision: Decision
    final: bool

    def apply(self, aggregate: Any) -> None:
        aggregate.decisions.append(self.decision)
        if aggregate.providers_decide:  # each provider decides its own share
            aggregate._decide_shares(self.decision, self.envelope)
            return
        if self.decision.outcome is Outcome.REFUSED:
            aggregate.outcome = Outcome.REFUSED
            aggregate._enter(RequestStatus.REFUSED, self.envelope)
        elif self.final:
            aggregate._approve(self.envelope)
        else:
            aggregate._enter(RequestStatus.DECIDING, self.envelope)
        aggregate._settle_shares()
        aggregate._falls_due(Step.DECIDE, self.decision.outcome.value, self.envelope)


class PriorityDecided(MlobAggregate.Event):
    """Under scarcity the Minister of J&V decides priority, on LOCC's advice."""

    TOPIC = "mlob:AssistanceRequest.PriorityDecided"
    capability: str
    rank: int
    reasons: str

    def apply(self, aggregate: Any) -> None:
        aggregate.priority[self.capability] = self.rank


class Appealed(MlobAggregate.Event):
    TOPIC = "mlob:AssistanceRequest.Appealed"
    grounds: str

    def apply(self, aggregate: Any) -> None:
        aggregate.status_before_appeal = aggregate.status
        aggregate.appeal_advice = {}  # each appeal is advised on anew
        aggregate._enter(RequestStatus.APPEALED, self.envelope)


class AppealDecided(MlobAggregate.Event):
    """The Minister instructs the korpschef (upheld) or not (dismissed), advised by DGPOL."""

    TOPIC = "mlob:AssistanceRequest.AppealDecided"
    upheld: bool
    reasons: str

    def apply(self, aggregate: Any) -> None:
        if self.upheld:
            aggregate.granted = {i: line.quantity for i, line in aggregate.lines.items()}
            aggregate.outcome = Outcome.GRANTED
            aggregate._enter(RequestStatus.APPROVED, self.envelope)
            aggregate._settle_shares()
            # Upheld, the Minister instructs the korpschef to deliver: for the duties to inform
            # this is the grant the korpschef's decision was not (domain/duties.py), so LE
            # Preparatie now owes LOCC how the assistance is delivered.
            aggregate._falls_due(Step.DECIDE, Outcome.GRANTED.value, self.envelope)
        else:
            aggregate._enter(aggregate.status_before_appeal, self.envelope)


class LineBooked(MlobAggregate.Event):
    """A provider made ready or committed capacity for a line (the Capacity books it too)."""

    TOPIC = "mlob:AssistanceRequest.LineBooked"
    VOIDABLE = False
    booking: LineBooking

    def apply(self, aggregate: Any) -> None:
        aggregate.bookings[self.booking.booking_id] = self.booking
        aggregate._touch(self.envelope)


class LineMoved(MlobAggregate.Event):
    """A booking moved on: committed, dispatched, arrived, extended, relieved, released,
    returned or cancelled; or a part of it, as a new booking split from it."""

    TOPIC = "mlob:AssistanceRequest.LineMoved"
    VOIDABLE = False
    booking: LineBooking
    note: str

    def apply(self, aggregate: Any) -> None:
        booking = self.booking
        if booking.split_from is not None and booking.booking_id not in aggregate.bookings:
            # A part moved on alone: the booking it came from keeps the rest.
            rest = aggregate.bookings[booking.split_from]
            aggregate.bookings[rest.booking_id] = replace(
                rest, quantity=rest.quantity - booking.quantity
            )
        aggregate.bookings[booking.booking_id] = booking
        aggregate._touch(self.envelope)


class Withdrawn(MlobAggregate.Event):
    TOPIC = "mlob:AssistanceRequest.Withdrawn"
    reason: str

    def apply(self, aggregate: Any) -> None:
        aggregate._enter(RequestStatus.WITHDRAWN, self.envelope)


class Closed(MlobAggregate.Event):
    TOPIC = "mlob:AssistanceRequest.Closed"
    summary: str

    def apply(self, aggregate: Any) -> None:
        aggregate._enter(RequestStatus.CLOSED, self.envelope)
        outcome = aggregate.outcome.value if aggregate.outcome else "none"
        aggregate._falls_due(Step.CLOSE, outcome, self.envelope)


class Evaluated(MlobAggregate.Event):
    """Evaluation (FIR/FER): lessons and action points."""

    TOPIC = "mlob:AssistanceRequest.Evaluated"
    lessons: tuple[str, ...]
    action_points: tuple[str, ...]

    def apply(self, aggregate: Any) -> None:
        aggregate.evaluation = (self.lessons, self.action_points)
        aggregate._enter(RequestStatus.EVALUATED, self.envelope)


class Informed(MlobAggregate.Event):
    """A duty to inform (domain/duties.py) was done: its owner informed ``to``."""

    TOPIC = "mlob:AssistanceRequest.Informed"
    duty: str
    to: str

    def apply(self, aggregate: Any) -> None:
        aggregate.informed[self.duty] = (
            self.envelope.actor.org,
            self.to,
            self.envelope.occurred_at,
        )
        aggregate._touch(self.envelope)


class Voided(MlobAggregate.Voided):
    TOPIC = "mlob:AssistanceRequest.Voided"
