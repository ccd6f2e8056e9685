"""Assistance requests (*bijstandsaanvragen*): the lifecycle and the rules of each step.

Every command checks the rules first — the right authority for the kind, the justification the
kind requires, the right decider, the order of steps — and only then records an event. Each
refusal is a :class:`~domain.errors.DomainError` with a stable code and its legal source.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

from domain.base import MlobAggregate
from domain.envelope import Authority, Envelope
from domain.errors import Conflict, DomainError, NotPermitted
from domain.kinds import CAPABILITY_HUBS, KIND_RULES, Justification, KindRule, RequestKind
from domain.reference import capability, organisation, region_of_municipality
from domain.rights import READ_ONLY_ROLES, Step, allowed_kinds, require
from domain.stored import stored_as

LIFECYCLE = "domain.md §Lifecycle of a request"
URGENCY = "factsheet-bijstand-politie §1, §3 (spoed: telefonisch, later geformaliseerd)"
ARMED = "eindmeting-icms-2013 (lines ~1032-1047): armed deployment needs a DJZ check"
DEPLOYMENT = "factsheet-bijstand-politie §3-§4: vooroverleg commits nothing; inzet na besluit"
APPEAL = "art. 56(4) Politiewet 2012; factsheet-bijstand-politie §9"
PRIORITY = "domain.md: under scarcity the Minister of J&V decides priority on LOCC's advice"


@stored_as("mlob:RequestStatus")
class RequestStatus(str, Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RECEIVED = "received"
    ASSESSED = "assessed"
    FORWARDED = "forwarded"
    DECIDING = "deciding"  # some of the sequence of deciders have decided
    APPROVED = "approved"  # granted or partly granted by every decider
    REFUSED = "refused"
    APPEALED = "appealed"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"
    EVALUATED = "evaluated"


@stored_as("mlob:Outcome")
class Outcome(str, Enum):
    GRANTED = "granted"
    PARTLY_GRANTED = "partly_granted"
    REFUSED = "refused"


@stored_as("mlob:LineStep")
class LineStep(str, Enum):
    """Where one booking of a request line is (*inzet*)."""

    MADE_READY = "made_ready"
    COMMITTED = "committed"
    DISPATCHED = "dispatched"
    ARRIVED = "arrived"  # control handed over to the civil authority
    RELEASED = "released"
    RETURNED = "returned"
    CANCELLED = "cancelled"


ACTIVE_LINE_STEPS = frozenset(
    {
        LineStep.MADE_READY,
        LineStep.COMMITTED,
        LineStep.DISPATCHED,
        LineStep.ARRIVED,
        LineStep.RELEASED,
    }
)


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


@stored_as("mlob:Decision")
@dataclass(frozen=True)
class Decision:
    decider: str  # organisation code
    decider_kind: str
    outcome: Outcome
    granted: tuple[tuple[str, int], ...]  # (line id, quantity granted)
    reasons: str


def _refuse(code: str, reason: str, source: str) -> DomainError:
    return DomainError(code, reason, source)


def _hub_kinds(rule: KindRule, lines: dict[str, RequestLine]) -> tuple[str, ...]:
    """The hub for these lines: BTC goes through the NCC, containers and VRT through DB3."""
    special = {
        CAPABILITY_HUBS[line.capability]
        for line in lines.values()
        if line.capability in CAPABILITY_HUBS
    }
    if special:
        return tuple(k for k in rule.route.hub if k in special) or tuple(special)
    return rule.route.hub[:1]


class AssistanceRequest(MlobAggregate):
    """A request for assistance (*bijstandsaanvraag*) of one of the kinds in :mod:`domain.kinds`."""

    TOPIC = "mlob:AssistanceRequest"
    # Each step of the procedure rests on the one before (received on submitted, committed on
    # granted, ...): a later step shows what an earlier hidden one decided.
    SEQUENTIAL = True

    # --- events ----------------------------------------------------------------------------

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
            aggregate.lines = {line.line_id: line for line in self.lines}
            aggregate.justifications = dict(self.justifications)

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

    class Forwarded(MlobAggregate.Event):
        TOPIC = "mlob:AssistanceRequest.Forwarded"
        to: tuple[str, ...]
        copies: tuple[str, ...]

        def apply(self, aggregate: Any) -> None:
            aggregate.forwarded_to = tuple(dict.fromkeys(aggregate.forwarded_to + self.to))
            aggregate._enter(RequestStatus.FORWARDED, self.envelope)

    class Advised(MlobAggregate.Event):
        TOPIC = "mlob:AssistanceRequest.Advised"
        adviser_kind: str
        favourable: bool
        advice: str

        def apply(self, aggregate: Any) -> None:
            aggregate.advice[self.adviser_kind] = (self.favourable, self.advice)

    class Decided(MlobAggregate.Event):
        TOPIC = "mlob:AssistanceRequest.Decided"
        decision: Decision
        final: bool

        def apply(self, aggregate: Any) -> None:
            aggregate.decisions.append(self.decision)
            if self.decision.outcome is Outcome.REFUSED:
                aggregate.outcome = Outcome.REFUSED
                aggregate._enter(RequestStatus.REFUSED, self.envelope)
            elif self.final:
                aggregate._approve(self.envelope)
            else:
                aggregate._enter(RequestStatus.DECIDING, self.envelope)

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
        returned or cancelled."""

        TOPIC = "mlob:AssistanceRequest.LineMoved"
        VOIDABLE = False
        booking: LineBooking
        note: str

        def apply(self, aggregate: Any) -> None:
            aggregate.bookings[self.booking.booking_id] = self.booking
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
            aggregate.status_before_close = aggregate.status
            aggregate._enter(RequestStatus.CLOSED, self.envelope)

    class Evaluated(MlobAggregate.Event):
        """Evaluation (FIR/FER): lessons and action points."""

        TOPIC = "mlob:AssistanceRequest.Evaluated"
        lessons: tuple[str, ...]
        action_points: tuple[str, ...]

        def apply(self, aggregate: Any) -> None:
            aggregate.evaluation = (self.lessons, self.action_points)
            aggregate._enter(RequestStatus.EVALUATED, self.envelope)

    class Voided(MlobAggregate.Voided):
        TOPIC = "mlob:AssistanceRequest.Voided"

    # --- state -----------------------------------------------------------------------------

    def __init__(
        self,
        kind: RequestKind,
        requester: str,
        authority: Authority | None,
        urgent: bool,
        incident_id: UUID | None,
        lines: tuple[RequestLine, ...],
        justifications: tuple[tuple[Justification, str], ...],
        title: str,
        phoned_in: bool,
        envelope: Envelope,
    ) -> None:
        self.kind = kind
        self.requester = requester
        self.authority = authority
        self.urgent = urgent
        self.incident_id = incident_id
        self.lines = {line.line_id: line for line in lines}
        self.justifications = dict(justifications)
        self.title = title
        self.classification = envelope.classification
        self.phoned_in = phoned_in
        self.formalisation_outstanding = phoned_in
        self.status = RequestStatus.SUBMITTED if phoned_in else RequestStatus.DRAFT
        self.status_since = envelope.occurred_at
        self.submitted_at: datetime | None = envelope.occurred_at if phoned_in else None
        self.formalised_at: datetime | None = None
        self.last_activity = envelope.occurred_at
        self.exhaustion_confirmed = False
        self.assessment: str | None = None
        self.forwarded_to: tuple[str, ...] = ()
        self.advice: dict[str, tuple[bool, str]] = {}
        self.decisions: list[Decision] = []
        self.outcome: Outcome | None = None
        self.granted: dict[str, int] = {}
        self.priority: dict[str, int] = {}
        self.bookings: dict[UUID, LineBooking] = {}
        self.status_before_appeal = RequestStatus.REFUSED
        self.status_before_close = RequestStatus.DRAFT
        self.evaluation: tuple[tuple[str, ...], tuple[str, ...]] | None = None

    def _enter(self, status: RequestStatus, envelope: Envelope) -> None:
        self.status = status
        self.status_since = envelope.occurred_at
        self._touch(envelope)

    def _touch(self, envelope: Envelope) -> None:
        self.last_activity = max(self.last_activity, envelope.occurred_at)

    def _approve(self, envelope: Envelope) -> None:
        granted: dict[str, int] = {i: line.quantity for i, line in self.lines.items()}
        for decision in self.decisions:
            if decision.outcome is Outcome.PARTLY_GRANTED:
                for line_id, quantity in decision.granted:
                    granted[line_id] = min(granted.get(line_id, 0), quantity)
        self.granted = granted
        partly = any(d.outcome is Outcome.PARTLY_GRANTED for d in self.decisions)
        self.outcome = Outcome.PARTLY_GRANTED if partly else Outcome.GRANTED
        self._enter(RequestStatus.APPROVED, envelope)

    @property
    def rule(self) -> KindRule:
        return KIND_RULES[self.kind]

    def regions_concerned(self) -> tuple[str, ...]:
        regions = set()
        requester_region = organisation(self.requester).region
        if requester_region:
            regions.add(requester_region)
        for line in self.lines.values():
            if line.municipality:
                with suppress(KeyError):  # a place outside the reference data
                    regions.add(region_of_municipality(line.municipality))
        return tuple(sorted(regions))

    @property
    def hub_kinds(self) -> tuple[str, ...]:
        return _hub_kinds(self.rule, self.lines)

    def committed(self, line_id: str) -> int:
        """How much of a line is committed or further along, not yet cancelled."""
        return sum(
            b.quantity
            for b in self.bookings.values()
            if b.line_id == line_id
            and b.step
            in (
                LineStep.COMMITTED,
                LineStep.DISPATCHED,
                LineStep.ARRIVED,
                LineStep.RELEASED,
                LineStep.RETURNED,
            )
        )

    def delivered(self, line_id: str) -> int:
        return sum(
            b.quantity
            for b in self.bookings.values()
            if b.line_id == line_id
            and b.step in (LineStep.ARRIVED, LineStep.RELEASED, LineStep.RETURNED)
        )

    @property
    def active_bookings(self) -> list[LineBooking]:
        return [b for b in self.bookings.values() if b.step in ACTIVE_LINE_STEPS]

    def next_decider_kind(self) -> str | None:
        deciders = self.rule.route.deciders
        done = len(self.decisions)
        if self.status not in (RequestStatus.FORWARDED, RequestStatus.DECIDING) or done >= len(
            deciders
        ):
            return None
        return deciders[done]

    # --- creating ----------------------------------------------------------------------------

    @classmethod
    def draft(
        cls,
        envelope: Envelope,
        subject: UUID,
        *,
        kind: RequestKind,
        lines: tuple[RequestLine, ...],
        title: str = "",
        urgent: bool = False,
        incident_id: UUID | None = None,
        justifications: tuple[tuple[Justification, str], ...] = (),
        requester: str | None = None,
    ) -> AssistanceRequest:
        """A requesting organisation drafts a request for itself."""
        require(envelope.actor, kind, Step.DRAFT)
        requester = requester or envelope.actor.org
        if requester != envelope.actor.org:
            raise NotPermitted(
                "not_own_organisation",
                f"{envelope.actor.org} drafts requests only for itself, not for {requester}",
                KIND_RULES[kind].source,
            )
        _check_lines(kind, lines)
        if envelope.authority is not None:  # a draft may be unsigned, but never mis-signed
            _check_authority(KIND_RULES[kind], envelope.authority, requester, envelope.exercise)
        return cls._create(
            cls.Created,
            id=subject,
            envelope=envelope,
            kind=kind,
            requester=requester,
            authority=envelope.authority,
            urgent=urgent,
            incident_id=incident_id,
            lines=lines,
            justifications=justifications,
            title=title,
            phoned_in=False,
        )

    @classmethod
    def phone_in(
        cls,
        envelope: Envelope,
        subject: UUID,
        *,
        kind: RequestKind,
        requester: str,
        lines: tuple[RequestLine, ...],
        title: str = "",
        incident_id: UUID | None = None,
        justifications: tuple[tuple[Justification, str], ...] = (),
    ) -> AssistanceRequest:
        """The hub records an urgent request phoned in on the requester's behalf (24/7)."""
        rule = KIND_RULES[kind]
        require(envelope.actor, kind, Step.PHONE_IN)
        try:
            requester_kind = organisation(requester).kind.value
        except KeyError:
            raise _refuse(
                "unknown_organisation", f"{requester} is not known", rule.source
            ) from None
        if requester_kind not in rule.requesters:
            raise NotPermitted(
                "wrong_requester",
                f"{requester} ({requester_kind}) cannot request {kind.value}",
                f"{rule.legal_basis}; {rule.source}",
            )
        _check_lines(kind, lines)
        _check_authority(rule, envelope.authority, requester, envelope.exercise)
        _check_justifications(rule, dict(justifications), urgent=True, lines=lines)
        return cls._create(
            cls.PhonedIn,
            id=subject,
            envelope=envelope,
            kind=kind,
            requester=requester,
            authority=envelope.authority,
            urgent=True,
            incident_id=incident_id,
            lines=lines,
            justifications=justifications,
            title=title,
            phoned_in=True,
        )

    # --- the requester's steps ---------------------------------------------------------------

    def _require_requester(self, envelope: Envelope, step: Step) -> None:
        require(envelope.actor, self.kind, step)
        if envelope.actor.org != self.requester:
            raise NotPermitted(
                "not_own_request",
                f"only {self.requester} may {step.value} this request, not {envelope.actor.org}",
                self.rule.source,
            )

    def submit(self, envelope: Envelope) -> None:
        self._require_requester(envelope, Step.SUBMIT)
        if self.status is not RequestStatus.DRAFT:
            raise Conflict(
                "out_of_order", f"the request is {self.status.value}, not a draft", LIFECYCLE
            )
        _check_authority(self.rule, envelope.authority, self.requester, envelope.exercise)
        _check_justifications(
            self.rule, self.justifications, urgent=self.urgent, lines=tuple(self.lines.values())
        )
        self.emit(self.Submitted, envelope)

    def formalise(self, envelope: Envelope) -> None:
        self._require_requester(envelope, Step.FORMALISE)
        if not self.formalisation_outstanding:
            raise Conflict("nothing_to_formalise", "no written form is outstanding", URGENCY)
        _check_authority(
            self.rule, envelope.authority, self.requester, envelope.exercise, required=True
        )
        assert envelope.authority is not None
        self.emit(self.Formalised, envelope, authority=envelope.authority)

    def amend(
        self,
        envelope: Envelope,
        *,
        lines: tuple[RequestLine, ...],
        justifications: tuple[tuple[Justification, str], ...],
        reason: str,
    ) -> None:
        self._require_requester(envelope, Step.AMEND)
        if self.decisions or self.status not in (
            RequestStatus.DRAFT,
            RequestStatus.SUBMITTED,
            RequestStatus.RECEIVED,
            RequestStatus.ASSESSED,
            RequestStatus.FORWARDED,
        ):
            raise Conflict(
                "out_of_order", f"a {self.status.value} request can no longer be amended", LIFECYCLE
            )
        _check_lines(self.kind, lines)
        if self.status is not RequestStatus.DRAFT:
            _check_justifications(self.rule, dict(justifications), urgent=self.urgent, lines=lines)
        self.emit(self.Amended, envelope, lines=lines, justifications=justifications, reason=reason)

    def withdraw(self, envelope: Envelope, reason: str) -> None:
        self._require_requester(envelope, Step.WITHDRAW)
        if self.status in (RequestStatus.WITHDRAWN, RequestStatus.CLOSED, RequestStatus.EVALUATED):
            raise Conflict("out_of_order", f"the request is {self.status.value}", LIFECYCLE)
        if self.active_bookings:
            raise Conflict(
                "active_bookings",
                "release every booked capacity before withdrawing the request",
                LIFECYCLE,
            )
        self.emit(self.Withdrawn, envelope, reason=reason)

    def appeal(self, envelope: Envelope, grounds: str) -> None:
        self._require_requester(envelope, Step.APPEAL)
        if not self.rule.appealable:
            raise _refuse(
                "not_appealable", f"a {self.kind.value} decision cannot be appealed", APPEAL
            )
        refused_by_korpschef = self.decisions and self.decisions[-1].outcome in (
            Outcome.REFUSED,
            Outcome.PARTLY_GRANTED,
        )
        if (
            self.status not in (RequestStatus.REFUSED, RequestStatus.APPROVED)
            or not refused_by_korpschef
        ):
            raise Conflict(
                "out_of_order",
                "only a whole or partial refusal by the korpschef can be appealed",
                APPEAL,
            )
        authority = envelope.authority
        if authority is None or authority.body not in (
            "mayor",
            "public_prosecutor",
            "chief_public_prosecutor",
        ):
            raise _refuse(
                "wrong_authority",
                "the mayor or the (chief) public prosecutor appeals to the Minister",
                APPEAL,
            )
        if not grounds.strip():
            raise _refuse("reasons_required", "an appeal states its grounds", APPEAL)
        self.emit(self.Appealed, envelope, grounds=grounds)

    # --- the hub's steps ---------------------------------------------------------------------

    def _require_hub(self, envelope: Envelope, step: Step) -> None:
        org_kind = require(envelope.actor, self.kind, step)
        if org_kind not in self.hub_kinds:
            raise NotPermitted(
                "wrong_hub",
                f"this request runs through {' or '.join(self.hub_kinds)}, not {org_kind}",
                self.rule.source,
            )

    def receive(self, envelope: Envelope) -> None:
        self._require_hub(envelope, Step.RECEIVE)
        if self.status is not RequestStatus.SUBMITTED:
            raise Conflict(
                "out_of_order", f"a {self.status.value} request cannot be received", LIFECYCLE
            )
        self.emit(self.Received, envelope)

    def confirm_exhaustion(self, envelope: Envelope, finding: str) -> None:
        require(envelope.actor, self.kind, Step.CONFIRM_EXHAUSTION)
        if self.status not in (
            RequestStatus.SUBMITTED,
            RequestStatus.RECEIVED,
            RequestStatus.ASSESSED,
        ):
            raise Conflict("out_of_order", "exhaustion is confirmed before forwarding", LIFECYCLE)
        if self.exhaustion_confirmed:
            raise Conflict("duplicate_step", "exhaustion was confirmed already", self.rule.source)
        if not finding.strip():
            raise _refuse("reasons_required", "state what was found", self.rule.source)
        self.emit(self.ExhaustionConfirmed, envelope, finding=finding)

    def assess(
        self, envelope: Envelope, *, forward: bool, findings: str, alternatives_checked: str = ""
    ) -> None:
        self._require_hub(envelope, Step.ASSESS)
        if self.status is not RequestStatus.RECEIVED:
            raise Conflict(
                "out_of_order", f"a {self.status.value} request cannot be assessed", LIFECYCLE
            )
        if not findings.strip():
            raise _refuse(
                "reasons_required" if not forward else "findings_required",
                "an assessment records its findings (a refusal its reasons)",
                LIFECYCLE,
            )
        if (
            forward
            and self.kind in (RequestKind.MILITARY_ART51, RequestKind.MSOB)
            and not alternatives_checked.strip()
        ):
            raise _refuse(
                "alternatives_not_checked",
                "before military assistance is forwarded, LOCC records whether other regions' or "
                "civil means would achieve the effect",
                "factsheet-bijstand-bevolkingszorg §B.5-B.6",
            )
        if forward and self.rule.route.exhaustion_check_by and not self.exhaustion_confirmed:
            raise _refuse(
                "exhaustion_not_confirmed",
                "LE Preparatie must first confirm the police are exhausted or lack the specialism",
                f"{self.rule.legal_basis}; {self.rule.source}",
            )
        self.emit(
            self.Assessed,
            envelope,
            forward=forward,
            findings=findings,
            alternatives_checked=alternatives_checked,
        )

    def forward(
        self, envelope: Envelope, to: tuple[str, ...], copies: tuple[str, ...] = ()
    ) -> None:
        self._require_hub(envelope, Step.FORWARD)
        if self.status not in (RequestStatus.ASSESSED, RequestStatus.FORWARDED):
            raise Conflict(
                "out_of_order", "a request is forwarded only after a positive assessment", LIFECYCLE
            )
        if not to:
            raise _refuse("recipients_required", "forward to at least one organisation", LIFECYCLE)
        for code in (*to, *copies):
            try:
                organisation(code)
            except KeyError:
                raise _refuse("unknown_organisation", f"{code} is not known", LIFECYCLE) from None
        self.emit(self.Forwarded, envelope, to=to, copies=copies)

    # --- advice and decisions ----------------------------------------------------------------

    def required_advisers(self) -> tuple[str, ...]:
        advisers = list(self.rule.route.advisers)
        if any(line.armed for line in self.lines.values()) and "defence_djz" not in advisers:
            advisers.append("defence_djz")
        return tuple(advisers)

    def advise(self, envelope: Envelope, *, favourable: bool, advice: str) -> None:
        org_kind = (
            require(envelope.actor, self.kind, Step.ADVISE)
            if not self._armed_djz(envelope)
            else "defence_djz"
        )
        if self.status not in (RequestStatus.FORWARDED, RequestStatus.DECIDING):
            raise Conflict("out_of_order", "advice is given on a forwarded request", LIFECYCLE)
        if org_kind in self.advice:
            raise Conflict("duplicate_step", f"{org_kind} advised already", self.rule.source)
        if not advice.strip():
            raise _refuse("reasons_required", "advice states its content", self.rule.source)
        self.emit(
            self.Advised, envelope, adviser_kind=org_kind, favourable=favourable, advice=advice
        )

    def _armed_djz(self, envelope: Envelope) -> bool:
        """DJZ always checks armed deployment, whatever the kind's own route says."""
        if not any(line.armed for line in self.lines.values()):
            return False
        try:
            return organisation(envelope.actor.org).kind.value == "defence_djz"
        except KeyError:
            return False

    def decide(
        self,
        envelope: Envelope,
        *,
        outcome: Outcome,
        reasons: str = "",
        granted: tuple[tuple[str, int], ...] = (),
    ) -> None:
        org_kind = require(envelope.actor, self.kind, Step.DECIDE)
        expected = self.next_decider_kind()
        if expected is None:
            raise Conflict(
                "out_of_order",
                f"a {self.status.value} request awaits no decision; decisions follow forwarding",
                LIFECYCLE,
            )
        if expected == "provider":
            if envelope.actor.org not in self.forwarded_to:
                raise NotPermitted(
                    "wrong_decider",
                    f"{envelope.actor.org} was not asked; the request went to "
                    f"{', '.join(self.forwarded_to)}",
                    self.rule.source,
                )
        elif expected == "hub":
            if org_kind not in self.hub_kinds:
                raise NotPermitted(
                    "wrong_decider",
                    f"{' or '.join(self.hub_kinds)} decides this request",
                    self.rule.source,
                )
        elif org_kind != expected:
            raise NotPermitted(
                "wrong_decider",
                f"the next decision on a {self.kind.value} request is {expected}'s, "
                f"not {org_kind}'s",
                f"{self.rule.legal_basis}; {self.rule.source}",
            )
        missing = [a for a in self.required_advisers() if a not in self.advice]
        if missing:
            source = (
                ARMED
                if "defence_djz" in missing and "defence_djz" not in self.rule.route.advisers
                else self.rule.source
            )
            raise _refuse(
                "advice_missing", f"the decision needs advice of {', '.join(missing)} first", source
            )
        if outcome is not Outcome.GRANTED and not reasons.strip():
            raise _refuse(
                "reasons_required",
                "a (partial) refusal states its reasons",
                APPEAL if self.rule.appealable else LIFECYCLE,
            )
        if outcome is Outcome.PARTLY_GRANTED:
            _check_granted(self.lines, granted)
        final = len(self.decisions) + 1 == len(self.rule.route.deciders)
        decision = Decision(
            decider=envelope.actor.org,
            decider_kind=org_kind,
            outcome=outcome,
            granted=granted if outcome is Outcome.PARTLY_GRANTED else (),
            reasons=reasons,
        )
        self.emit(self.Decided, envelope, decision=decision, final=final)

    def decide_priority(
        self, envelope: Envelope, *, capability_code: str, rank: int, reasons: str
    ) -> None:
        org_kind = require(envelope.actor, self.kind, Step.DECIDE_PRIORITY)
        _check_minister(envelope, org_kind, PRIORITY)
        if self.status not in (
            RequestStatus.FORWARDED,
            RequestStatus.DECIDING,
            RequestStatus.APPROVED,
        ):
            raise Conflict(
                "out_of_order",
                f"priority is not decided on a {self.status.value} request",
                PRIORITY,
            )
        if capability_code not in {line.capability for line in self.lines.values()}:
            raise _refuse("unknown_line", f"the request asks for no {capability_code}", PRIORITY)
        if rank < 1:
            raise _refuse("rank_not_positive", "priority ranks start at 1", PRIORITY)
        if not reasons.strip():
            raise _refuse("reasons_required", "a priority decision states its reasons", PRIORITY)
        self.emit(
            self.PriorityDecided, envelope, capability=capability_code, rank=rank, reasons=reasons
        )

    def decide_appeal(self, envelope: Envelope, *, upheld: bool, reasons: str) -> None:
        org_kind = require(envelope.actor, self.kind, Step.DECIDE_APPEAL)
        _check_minister(envelope, org_kind, APPEAL)
        if self.status is not RequestStatus.APPEALED:
            raise Conflict("out_of_order", "no appeal is pending", APPEAL)
        if not reasons.strip():
            raise _refuse("reasons_required", "the Minister's decision states its reasons", APPEAL)
        self.emit(self.AppealDecided, envelope, upheld=upheld, reasons=reasons)

    # --- delivery (called by domain.services, which books the Capacity in the same step) -----

    def check_can_make_ready(self, envelope: Envelope, line_id: str) -> None:
        require(envelope.actor, self.kind, Step.MAKE_READY)
        self._line(line_id)
        if self.status in (
            RequestStatus.DRAFT,
            RequestStatus.REFUSED,
            RequestStatus.WITHDRAWN,
            RequestStatus.CLOSED,
            RequestStatus.EVALUATED,
        ):
            raise Conflict(
                "out_of_order",
                f"nothing is made ready for a {self.status.value} request",
                DEPLOYMENT,
            )

    def check_can_commit(self, envelope: Envelope, line_id: str, quantity: int) -> None:
        require(envelope.actor, self.kind, Step.COMMIT)
        line = self._line(line_id)
        if self.status is not RequestStatus.APPROVED:
            raise Conflict(
                "not_approved",
                "capacity is committed only after formal approval; "
                f"the request is {self.status.value}",
                DEPLOYMENT,
            )
        remaining = self.granted.get(line.line_id, 0) - self.committed(line_id)
        if quantity > remaining:
            raise Conflict(
                "exceeds_granted",
                f"line {line_id}: {remaining} remain to commit "
                f"of {self.granted.get(line_id, 0)} granted",
                LIFECYCLE,
            )

    def book_line(self, envelope: Envelope, booking: LineBooking) -> None:
        self.emit(self.LineBooked, envelope, booking=booking)

    def booking(self, booking_id: UUID) -> LineBooking:
        try:
            return self.bookings[booking_id]
        except KeyError:
            raise Conflict(
                "unknown_booking", f"no booking {booking_id} on this request", LIFECYCLE
            ) from None

    def move_line(
        self, envelope: Envelope, step: Step, booking: LineBooking, note: str = ""
    ) -> None:
        if envelope.actor.org != booking.provider and not (
            step in (Step.ARRIVE, Step.RELEASE) and envelope.actor.org == self.requester
        ):
            raise NotPermitted(
                "not_own_capacity",
                f"{envelope.actor.org} may not {step.value} {booking.provider}'s capacity",
                DEPLOYMENT,
            )
        require(envelope.actor, self.kind, step)
        self.emit(self.LineMoved, envelope, booking=booking, note=note)

    def _line(self, line_id: str) -> RequestLine:
        try:
            return self.lines[line_id]
        except KeyError:
            raise _refuse("unknown_line", f"the request has no line {line_id}", LIFECYCLE) from None

    # --- closing -----------------------------------------------------------------------------

    def close(self, envelope: Envelope, summary: str = "") -> None:
        org_kind = require(envelope.actor, self.kind, Step.CLOSE)
        if org_kind not in self.hub_kinds and envelope.actor.org != self.requester:
            raise NotPermitted(
                "not_own_request", "the hub or the requester closes a request", LIFECYCLE
            )
        if self.status not in (
            RequestStatus.APPROVED,
            RequestStatus.REFUSED,
            RequestStatus.WITHDRAWN,
        ):
            raise Conflict(
                "out_of_order", f"a {self.status.value} request cannot be closed", LIFECYCLE
            )
        if self.active_bookings:
            raise Conflict(
                "active_bookings", "every booked capacity must be returned first", LIFECYCLE
            )
        self.emit(self.Closed, envelope, summary=summary)

    def evaluate(
        self, envelope: Envelope, *, lessons: tuple[str, ...], action_points: tuple[str, ...]
    ) -> None:
        org_kind = require(envelope.actor, self.kind, Step.EVALUATE)
        if org_kind not in self.hub_kinds and envelope.actor.org != self.requester:
            raise NotPermitted("not_own_request", "the hub or the requester evaluates", LIFECYCLE)
        if self.status is not RequestStatus.CLOSED:
            raise Conflict("out_of_order", "a request is evaluated after it is closed", LIFECYCLE)
        if not lessons:
            raise _refuse(
                "lessons_required", "an evaluation records at least one lesson", LIFECYCLE
            )
        self.emit(self.Evaluated, envelope, lessons=lessons, action_points=action_points)

    def correct(self, envelope: Envelope, target_version: int, reason: str) -> None:
        """Void the latest step recorded in error; its author or the hub may do so."""
        org_kind = require(envelope.actor, self.kind, Step.VOID)
        if org_kind not in self.hub_kinds and envelope.actor.org != self.requester:
            raise NotPermitted("not_own_request", "the hub or the requester corrects", LIFECYCLE)
        self.void(envelope, target_version, reason)


#: The steps that can follow each status (the rules of each step still apply).
STATUS_STEPS: dict[RequestStatus, tuple[Step, ...]] = {
    RequestStatus.DRAFT: (Step.SUBMIT, Step.AMEND, Step.WITHDRAW),
    RequestStatus.SUBMITTED: (
        Step.RECEIVE,
        Step.CONFIRM_EXHAUSTION,
        Step.FORMALISE,
        Step.AMEND,
        Step.WITHDRAW,
        Step.MAKE_READY,
    ),
    RequestStatus.RECEIVED: (
        Step.ASSESS,
        Step.CONFIRM_EXHAUSTION,
        Step.FORMALISE,
        Step.AMEND,
        Step.WITHDRAW,
        Step.MAKE_READY,
    ),
    RequestStatus.ASSESSED: (
        Step.FORWARD,
        Step.CONFIRM_EXHAUSTION,
        Step.FORMALISE,
        Step.AMEND,
        Step.WITHDRAW,
        Step.MAKE_READY,
    ),
    RequestStatus.FORWARDED: (
        Step.ADVISE,
        Step.DECIDE,
        Step.DECIDE_PRIORITY,
        Step.FORWARD,
        Step.FORMALISE,
        Step.AMEND,
        Step.WITHDRAW,
        Step.MAKE_READY,
    ),
    RequestStatus.DECIDING: (
        Step.ADVISE,
        Step.DECIDE,
        Step.DECIDE_PRIORITY,
        Step.FORMALISE,
        Step.WITHDRAW,
        Step.MAKE_READY,
    ),
    RequestStatus.APPROVED: (
        Step.COMMIT,
        Step.DISPATCH,
        Step.ARRIVE,
        Step.EXTEND,
        Step.RELIEVE,
        Step.RELEASE,
        Step.RETURN,
        Step.DECIDE_PRIORITY,
        Step.FORMALISE,
        Step.APPEAL,
        Step.WITHDRAW,
        Step.CLOSE,
    ),
    RequestStatus.REFUSED: (Step.APPEAL, Step.FORMALISE, Step.CLOSE),
    RequestStatus.APPEALED: (Step.DECIDE_APPEAL,),
    RequestStatus.WITHDRAWN: (Step.CLOSE,),
    RequestStatus.CLOSED: (Step.EVALUATE,),
    RequestStatus.EVALUATED: (),
}

_REQUESTER_ONLY = {Step.SUBMIT, Step.AMEND, Step.WITHDRAW, Step.FORMALISE, Step.APPEAL}
_HUB_ONLY = {Step.RECEIVE, Step.ASSESS, Step.FORWARD}


def open_steps(request: AssistanceRequest, org: str, role: str) -> list[str]:
    """The steps ``org`` could take next on ``request`` (rights and status; details still apply)."""
    if role in READ_ONLY_ROLES:
        return []
    try:
        org_kind = organisation(org).kind.value
    except KeyError:
        return []
    steps = []
    for step in STATUS_STEPS[request.status]:
        if org_kind not in allowed_kinds(request.kind, step):
            continue
        if step in _REQUESTER_ONLY and org != request.requester:
            continue
        if step in _HUB_ONLY and org_kind not in request.hub_kinds:
            continue
        if step is Step.FORMALISE and not request.formalisation_outstanding:
            continue
        if step is Step.APPEAL and not request.rule.appealable:
            continue
        if step is Step.DECIDE and request.next_decider_kind() not in (org_kind, "provider", "hub"):
            continue
        steps.append(step.value)
    return steps


# --- rules shared by several steps -------------------------------------------------------------


def _check_lines(kind: RequestKind, lines: tuple[RequestLine, ...]) -> None:
    rule = KIND_RULES[kind]
    if not lines:
        raise _refuse("lines_required", "a request asks for at least one capability", LIFECYCLE)
    seen: set[str] = set()
    for line in lines:
        if line.line_id in seen:
            raise _refuse("duplicate_line", f"line {line.line_id} appears twice", LIFECYCLE)
        seen.add(line.line_id)
        if (
            not isinstance(line.quantity, int)
            or isinstance(line.quantity, bool)
            or line.quantity <= 0
        ):
            raise _refuse(
                "quantity_not_positive",
                f"line {line.line_id}: quantity must be positive",
                LIFECYCLE,
            )
        try:
            known = capability(line.capability)
        except KeyError:
            raise _refuse(
                "unknown_capability", f"{line.capability} is not in the catalogue", LIFECYCLE
            ) from None
        if known.request_kinds and kind.value not in known.request_kinds:
            raise _refuse(
                "capability_not_for_kind",
                f"{line.capability} is not requested as {kind.value}",
                f"{rule.legal_basis}; {known.source}",
            )
        if not line.effect.strip():
            raise _refuse(
                "effect_required",
                f"line {line.line_id}: state the effect wanted; regions ask for effects, not units",
                "factsheet-bijstand-bevolkingszorg §B.5",
            )
        if line.period_start and line.period_end and line.period_end <= line.period_start:
            raise _refuse(
                "period_invalid",
                f"line {line.line_id}: the period ends before it starts",
                LIFECYCLE,
            )
        if line.automatic_weapons and not line.armed:
            raise _refuse("inconsistent_line", "automatic weapons imply an armed deployment", ARMED)


def _check_authority(
    rule: KindRule,
    authority: Authority | None,
    requester: str,
    exercise: bool,
    *,
    required: bool = False,
) -> None:
    source = f"{rule.legal_basis}; {rule.source}"
    if authority is None:
        if rule.authority_optional_for_exercise and exercise and not required:
            return
        raise _refuse(
            "authority_required",
            f"a {rule.kind.value} request is signed by or on behalf of: "
            f"{', '.join(rule.authorities)}",
            source,
        )
    if authority.body in rule.forbidden_authorities:
        raise _refuse(
            "forbidden_authority",
            f"a {authority.body} may not request {rule.kind.value}",
            source,
        )
    if authority.body not in rule.authorities:
        raise _refuse(
            "wrong_authority",
            f"{authority.body} is not competent for {rule.kind.value}; "
            f"competent: {', '.join(rule.authorities)}",
            source,
        )
    requester_org = organisation(requester)
    if authority.body in ("chair_safety_region",) and authority.of != requester:
        raise _refuse(
            "wrong_authority",
            f"{requester} acts only on its own chair's authority, not {authority.of}'s",
            source,
        )
    if authority.body in ("mayor",) and requester_org.kind.value == "safety_region":
        try:
            municipality_region = region_of_municipality(authority.of)
        except KeyError:
            raise _refuse(
                "unknown_municipality", f"{authority.of} is not a known municipality", source
            ) from None
        if municipality_region != requester:
            raise _refuse(
                "wrong_authority",
                f"the mayor of {authority.of} ({municipality_region}) "
                f"does not sign for {requester}",
                source,
            )


JUSTIFICATION_HINTS = {
    Justification.NO_MARKET_ALTERNATIVE: "state why no market party (or civil means) can do it",
    Justification.OWN_CAPACITY_INSUFFICIENT: "state that the own unit's capacity is insufficient",
    Justification.POLICE_EXHAUSTED_OR_SPECIALISM: (
        "state that police capacity is exhausted or the specialism is missing at police and KMar"
    ),
    Justification.REGION_MAYOR_VIEW: "attach the region-mayor's view (not needed when urgent)",
    Justification.PROSECUTOR_PERMISSION: "attach the public prosecutor's permission",
}


def _check_justifications(
    rule: KindRule, given: dict[Justification, str], *, urgent: bool, lines: tuple[RequestLine, ...]
) -> None:
    source = f"{rule.legal_basis}; {rule.source}"
    for needed in rule.justifications:
        if urgent and needed in rule.urgent_skips:
            continue
        if not given.get(needed, "").strip():
            raise _refuse(
                f"missing_justification_{needed.value}",
                JUSTIFICATION_HINTS[needed],
                source,
            )
    politiewet = "Politiewet" in rule.legal_basis
    if (
        politiewet
        and any(line.automatic_weapons for line in lines)
        and not given.get(Justification.PROSECUTOR_PERMISSION, "").strip()
    ):
        raise _refuse(
            "missing_justification_prosecutor_permission",
            "automatic weapons under the Politiewet need the public prosecutor's permission",
            ARMED,
        )


def _check_granted(lines: dict[str, RequestLine], granted: tuple[tuple[str, int], ...]) -> None:
    if not granted:
        raise _refuse(
            "granted_required", "a partial grant states what is granted per line", LIFECYCLE
        )
    for line_id, quantity in granted:
        if line_id not in lines:
            raise _refuse("unknown_line", f"the request has no line {line_id}", LIFECYCLE)
        if quantity < 0 or quantity > lines[line_id].quantity:
            raise _refuse(
                "granted_out_of_range",
                f"line {line_id}: 0..{lines[line_id].quantity} can be granted",
                LIFECYCLE,
            )


def _check_minister(envelope: Envelope, org_kind: str, source: str) -> None:
    if org_kind == "jv_minister":
        return
    authority = envelope.authority
    if authority is None or authority.body != "minister_jv":
        raise NotPermitted(
            "wrong_decider",
            "this is the Minister of J&V's decision; "
            "LOCC records it only on the Minister's authority",
            source,
        )


def with_step(booking: LineBooking, step: LineStep, **changes: Any) -> LineBooking:
    return replace(booking, step=step, **changes)
