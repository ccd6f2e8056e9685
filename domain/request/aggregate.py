"""The assistance request (*bijstandsaanvraag*) as an event-sourced aggregate: its state, who
may take which step on it now (:meth:`AssistanceRequest.check_step`, :func:`open_steps`) and
its commands, one method a step.

Every command first asks :meth:`AssistanceRequest.check_step` whether the actor could take its
step now — the rights table, the party of the request the step belongs to (requester, hub,
the decider in turn, the provider of a booking), the lifecycle table in
:mod:`domain.lifecycle` and the state the step acts on — and then checks its data with the
rules in :mod:`domain.request.rules`: the right authority for the kind, the justification the
kind requires, reasons, quantities. Only then does it record one of the events of
:mod:`domain.request.events`. ``open_steps`` offers exactly the steps ``check_step`` passes.
"""

from __future__ import annotations

from collections.abc import Collection
from contextlib import suppress
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.base import MlobAggregate
from domain.duties import Duty, duties_of, party
from domain.envelope import Actor, Authority, Envelope
from domain.errors import Conflict, DomainError, NotPermitted
from domain.kinds import ARMED_CHECK_BY, KIND_RULES, Justification, KindRule, RequestKind, Task
from domain.lifecycle import (
    ACTIVE_LINE_STEPS,
    BOOKING_STEPS,
    CREATING_STEPS,
    DEPLOYMENT_STEPS,
    LIFECYCLE,
    NEXT_STEPS,
    PENDING_STATUSES,
    STEP_STATUSES,
    STEP_TYPES,
    LineStep,
    RequestStatus,
)
from domain.reference import organisation, region_of_municipality
from domain.request import events
from domain.request.events import Decision, LineBooking, LineShare, Outcome, RequestLine, Share
from domain.request.rules import (
    APPEAL,
    ARMED,
    DEPLOYMENT,
    HUB_OR_REQUESTER_STEPS,
    HUB_STEPS,
    PRIORITY,
    REQUESTER_STEPS,
    STEP_SOURCES,
    URGENCY,
    check_appeal_authority,
    check_authority,
    check_granted,
    check_justifications,
    check_lines,
    check_minister,
    check_task,
    hub_kinds_of,
    provides,
    refuse,
)
from domain.rights import STEP_PARTIES, Step, require

DUTIES_SOURCE = "domain/duties.py: the duties to inform per kind of request"

#: Booking steps at which a booking counts as committed (not cancelled).
_COMMITTED_STEPS = frozenset(
    {
        LineStep.COMMITTED,
        LineStep.DISPATCHED,
        LineStep.ARRIVED,
        LineStep.RELEASED,
        LineStep.RETURNED,
    }
)
#: The rule of shares (issue 18; domain.md settled questions).
SHARES = (
    "domain.md settled questions: a request may be covered partly by several providers; each "
    "decides only its own share and commits only what it was asked for and granted"
)


class AssistanceRequest(MlobAggregate):
    """A request for assistance (*bijstandsaanvraag*) of one of the kinds in :mod:`domain.kinds`."""

    TOPIC = "mlob:AssistanceRequest"
    # Each step of the procedure rests on the one before (received on submitted, committed on
    # granted, ...): a later step shows what an earlier hidden one decided.
    SEQUENTIAL = True

    # --- events (domain/request/events.py) ------------------------------------------------

    Created = events.Created
    PhonedIn = events.PhonedIn
    Submitted = events.Submitted
    Formalised = events.Formalised
    Amended = events.Amended
    Received = events.Received
    ExhaustionConfirmed = events.ExhaustionConfirmed
    Assessed = events.Assessed
    Forwarded = events.Forwarded
    Advised = events.Advised
    Decided = events.Decided
    PriorityDecided = events.PriorityDecided
    Appealed = events.Appealed
    AppealDecided = events.AppealDecided
    LineBooked = events.LineBooked
    LineMoved = events.LineMoved
    Withdrawn = events.Withdrawn
    Closed = events.Closed
    Evaluated = events.Evaluated
    Informed = events.Informed
    Voided = events.Voided

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
        task: Task | None = None,
    ) -> None:
        self.kind = kind
        # A request stored before the task was recorded serves its kind's default task.
        self.task = task or KIND_RULES[kind].tasks[0]
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
        self.copied_to: tuple[str, ...] = ()
        #: Each provider's share of each line: (provider, line id) -> its share.
        self.shares: dict[tuple[str, str], LineShare] = {}
        self.advice: dict[str, tuple[bool, str]] = {}
        #: Advice to the Minister on the pending appeal (art. 56(4): DGPOL's).
        self.appeal_advice: dict[str, tuple[bool, str]] = {}
        #: Duties to inform (domain/duties.py) that fell due, with when; and those done, with
        #: who informed whom when.
        self.duties_due: dict[str, datetime] = {}
        self.informed: dict[str, tuple[str, str, datetime]] = {}
        self.decisions: list[Decision] = []
        self.outcome: Outcome | None = None
        self.granted: dict[str, int] = {}
        self.priority: dict[str, int] = {}
        self.bookings: dict[UUID, LineBooking] = {}
        self.status_before_appeal = RequestStatus.REFUSED
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

    # --- duties to inform (domain/duties.py) ---------------------------------------------------

    def duties(self) -> tuple[Duty, ...]:
        """The duties to inform of this request (its kind, and the capabilities it asks)."""
        return duties_of(self.kind, frozenset(line.capability for line in self.lines.values()))

    def duty_owner(self, duty: Duty) -> str | None:
        return party(duty.by, self.requester)

    def duty_addressee(self, duty: Duty) -> str | None:
        return party(duty.to, self.requester)

    def _falls_due(self, step: Step, outcome: str, envelope: Envelope) -> None:
        """``step`` was recorded with ``outcome``: the duties it makes due fall due now (once;
        none that an organisation would owe to itself, e.g. LOCC requesting MSOB)."""
        for duty in self.duties():
            if (
                duty.after == step.value
                and (not duty.outcomes or outcome in duty.outcomes)
                and duty.code not in self.duties_due
                and self.duty_owner(duty) != self.duty_addressee(duty)
            ):
                self.duties_due[duty.code] = envelope.occurred_at

    def outstanding_duties(self, org: str | None = None) -> list[Duty]:
        """Duties due and not yet done (of ``org``, when given)."""
        return [
            duty
            for duty in self.duties()
            if duty.code in self.duties_due
            and duty.code not in self.informed
            and (org is None or self.duty_owner(duty) == org)
        ]

    @property
    def informed_orgs(self) -> frozenset[str]:
        """The organisations informed of this request (need to know: they see it)."""
        return frozenset(to for _, to, _ in self.informed.values())

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
    def armed(self) -> bool:
        """Whether a line asks for armed deployment (DJZ then always checks it)."""
        return any(line.armed for line in self.lines.values())

    @property
    def hub_kinds(self) -> tuple[str, ...]:
        return hub_kinds_of(self.rule, self.lines)

    def committed(self, line_id: str) -> int:
        """How much of a line is committed or further along, not yet cancelled."""
        return sum(
            b.quantity
            for b in self.bookings.values()
            if b.line_id == line_id and b.step in _COMMITTED_STEPS
        )

    def delivered(self, line_id: str) -> int:
        return sum(
            b.quantity
            for b in self.bookings.values()
            if b.line_id == line_id
            and b.step in (LineStep.ARRIVED, LineStep.RELEASED, LineStep.RETURNED)
        )

    def at_step(self, line_id: str, step: LineStep) -> int:
        """How much of a line its bookings hold at ``step`` (dispatched: en route; arrived:
        on scene)."""
        return sum(
            b.quantity for b in self.bookings.values() if b.line_id == line_id and b.step is step
        )

    @property
    def active_bookings(self) -> list[LineBooking]:
        return [b for b in self.bookings.values() if b.step in ACTIVE_LINE_STEPS]

    def next_decider_kind(self) -> str | None:
        if self.providers_decide:
            # Each provider decides its own share, also once another share made it approved.
            waiting = self.status in (
                RequestStatus.FORWARDED,
                RequestStatus.DECIDING,
                RequestStatus.APPROVED,
            ) and any(s.outcome is None for s in self.shares.values())
            return "provider" if waiting else None
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
        task: Task | None = None,
    ) -> AssistanceRequest:
        """A requesting organisation drafts a request for itself. Without ``task`` it serves
        its kind's default task (a posted request of some kinds must state it: handlers)."""
        require(envelope.actor, kind, Step.DRAFT)
        requester = requester or envelope.actor.org
        if requester != envelope.actor.org:
            raise NotPermitted(
                "not_own_organisation",
                KIND_RULES[kind].source,
                actor=envelope.actor.org,
                requester=requester,
            )
        check_lines(kind, lines)
        check_task(KIND_RULES[kind], task)
        if envelope.authority is not None:  # a draft may be unsigned, but never mis-signed
            check_authority(
                KIND_RULES[kind], envelope.authority, requester, envelope.exercise, task=task
            )
        return cls._create(
            cls.Created,
            **cls._content(envelope, subject, kind, requester, lines, title, incident_id, task),
            justifications=justifications,
            urgent=urgent,
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
        task: Task | None = None,
    ) -> AssistanceRequest:
        """The hub records an urgent request phoned in on the requester's behalf (24/7)."""
        rule = KIND_RULES[kind]
        require(envelope.actor, kind, Step.PHONE_IN)
        try:
            requester_kind = organisation(requester).kind.value
        except KeyError:
            raise refuse("unknown_organisation", rule.source, org=requester) from None
        if requester_kind not in rule.requesters:
            raise NotPermitted(
                "wrong_requester",
                f"{rule.legal_basis}; {rule.source}",
                requester=requester,
                requester_kind=requester_kind,
                kind=kind,
            )
        check_lines(kind, lines)
        check_task(rule, task)
        check_authority(rule, envelope.authority, requester, envelope.exercise, task=task)
        check_justifications(rule, dict(justifications), urgent=True, lines=lines)
        return cls._create(
            cls.PhonedIn,
            **cls._content(envelope, subject, kind, requester, lines, title, incident_id, task),
            justifications=justifications,
            urgent=True,
            phoned_in=True,
        )

    @staticmethod
    def _content(
        envelope: Envelope,
        subject: UUID,
        kind: RequestKind,
        requester: str,
        lines: tuple[RequestLine, ...],
        title: str,
        incident_id: UUID | None,
        task: Task | None,
    ) -> dict[str, Any]:
        """What drafting and phoning in record alike (the creating event's fields)."""
        return {
            "id": subject,
            "envelope": envelope,
            "kind": kind,
            "requester": requester,
            "authority": envelope.authority,
            "lines": lines,
            "title": title,
            "incident_id": incident_id,
            "task": task or KIND_RULES[kind].tasks[0],  # recorded explicitly, derived or not
        }

    # --- who may take which step now -------------------------------------------------------

    def check_step(self, step: Step, actor: Actor) -> str:
        """Refuse unless ``actor`` could take ``step`` on this request now, whatever it posts.

        In this order: the rights table (organisation kind x request kind x step), the party of
        this request the step belongs to, the lifecycle table (which step may follow which
        status) and the state the step acts on (a form outstanding, the decider in turn, a
        booking of the actor's, ...). Returns the actor's organisation kind.

        Every command calls this first and afterwards checks only its data; ``open_steps``
        offers exactly the steps this passes. For an actor of a known organisation it refuses
        only with the codes in :data:`domain.lifecycle.RIGHTS_CODES` and
        :data:`domain.lifecycle.LIFECYCLE_CODES`.
        """
        if step in CREATING_STEPS:
            msg = f"{step.value} creates a request; it is not a step on one"
            raise ValueError(msg)
        org_kind = self._check_party(step, actor)
        if self.status not in STEP_STATUSES[step]:
            raise self._not_now(step)
        self._check_state(step, actor, org_kind)
        return org_kind

    def can(self, step: Step, actor: Actor) -> bool:
        """Whether ``actor`` could take ``step`` now (see :meth:`check_step`)."""
        try:
            self.check_step(step, actor)
        except DomainError:
            return False
        return True

    def _check_party(self, step: Step, actor: Actor) -> str:
        # The rights table, on an armed request too (DJZ then always advises).
        org_kind = require(actor, self.kind, step, armed=self.armed)
        if step in REQUESTER_STEPS and actor.org != self.requester:
            raise NotPermitted(
                "not_own_request",
                self.rule.source,
                text="requester_only",
                requester=self.requester,
                step=step,
                actor=actor.org,
            )
        if step in HUB_STEPS and org_kind not in self.hub_kinds:
            raise NotPermitted(
                "wrong_hub", self.rule.source, hub_kinds=self.hub_kinds, org_kind=org_kind
            )
        if (
            step in HUB_OR_REQUESTER_STEPS
            and org_kind not in self.hub_kinds
            and actor.org != self.requester
        ):
            raise NotPermitted(
                "not_own_request",
                LIFECYCLE,
                text="hub_or_requester",
                hub_kinds=self.hub_kinds,
                requester=self.requester,
                step=step,
                actor=actor.org,
            )
        return org_kind

    def _not_now(self, step: Step) -> Conflict:
        follows = ", ".join(s.value for s in STEP_STATUSES[step])
        if step in DEPLOYMENT_STEPS:
            return Conflict(
                "not_approved",
                DEPLOYMENT,
                text="status",
                state=self.status,
                step=step,
                follows=follows,
            )
        return Conflict(
            "out_of_order",
            STEP_SOURCES.get(step, LIFECYCLE),
            text="status",
            state=self.status,
            step=step,
            follows=follows,
        )

    def _check_state(self, step: Step, actor: Actor, org_kind: str) -> None:
        """The state beyond the status that ``step`` acts on."""
        if step is Step.FORMALISE and not self.formalisation_outstanding:
            raise Conflict("nothing_to_formalise", URGENCY)
        if step is Step.AMEND and self.decisions:
            raise Conflict("out_of_order", LIFECYCLE, text="amend_after_decision")
        if step in (Step.WITHDRAW, Step.CLOSE) and self.active_bookings:
            raise Conflict(
                "active_bookings",
                LIFECYCLE,
                text="withdraw" if step is Step.WITHDRAW else "close",
            )
        if step is Step.CONFIRM_EXHAUSTION and self.exhaustion_confirmed:
            raise Conflict("duplicate_step", self.rule.source, text="exhaustion")
        if step is Step.ADVISE:
            self._check_adviser(org_kind)
        if step is Step.DECIDE_APPEAL:
            missing = [a for a in self.rule.route.appeal_advisers if a not in self.appeal_advice]
            if missing:
                raise refuse("advice_missing", APPEAL, text="appeal", missing=missing)
        if step is Step.INFORM and not self.outstanding_duties(actor.org):
            raise Conflict("no_duty_outstanding", DUTIES_SOURCE, actor=actor.org)
        if step is Step.DECIDE:
            self._check_decider(actor, org_kind)
        if step is Step.FORWARD:
            self._check_remainder()
        # The request's outcome, not the last decision's: an upheld appeal grants the request
        # (it left the korpschef's refusal as the last decision, so it was appealable again).
        if step is Step.APPEAL and not (
            self.decisions and self.outcome in (Outcome.REFUSED, Outcome.PARTLY_GRANTED)
        ):
            raise Conflict("out_of_order", APPEAL, text="appeal")
        if step is Step.MAKE_READY:
            if not self._provided_lines(actor):
                raise self._not_a_provider(actor)
            if self.status is RequestStatus.APPROVED and not self._asked_lines(actor.org):
                # Approved, only what was asked and granted is delivered (as commit): capacity
                # made ready by a provider never asked would be held for the request in vain.
                raise self._not_asked(actor.org)
        if step is Step.COMMIT:
            self._check_something_to_commit(actor)
        if step in BOOKING_STEPS and step is not Step.COMMIT:
            self._check_movable(step, actor)
        if step is Step.VOID and self.voidable_version() is None:
            raise Conflict("void_not_latest", "mlob corrections", text="nothing_voidable")
        if step is Step.VOID:
            self.check_recorder(actor.org)

    def _check_adviser(self, org_kind: str) -> None:
        """On an appeal only the route's appeal advisers advise (DGPOL, art. 56(4)), once per
        appeal; before the decisions only the others, once each."""
        appeal_only = set(self.rule.route.appeal_advisers) - set(self.required_advisers())
        if self.status is RequestStatus.APPEALED:
            if org_kind not in self.rule.route.appeal_advisers:
                raise NotPermitted(
                    "step_not_permitted",
                    APPEAL,
                    text="appeal_advisers",
                    advisers=self.rule.route.appeal_advisers,
                    org_kind=org_kind,
                )
            if org_kind in self.appeal_advice:
                raise Conflict("duplicate_step", APPEAL, text="appeal_advice", org_kind=org_kind)
            return
        if org_kind in appeal_only:
            raise NotPermitted("step_not_permitted", APPEAL, text="appeal_only", org_kind=org_kind)
        if org_kind in self.advice:
            raise Conflict("duplicate_step", self.rule.source, text="advice", org_kind=org_kind)

    def _check_decider(self, actor: Actor, org_kind: str) -> None:
        expected = self.next_decider_kind()
        if expected is None and self.providers_decide:
            raise Conflict("out_of_order", SHARES, text="no_share_waiting")
        if expected is None:
            raise Conflict("out_of_order", LIFECYCLE, text="all_decided", state=self.status)
        if expected == "provider":
            self._check_share_decider(actor)
        elif expected == "hub":
            if org_kind not in self.hub_kinds:
                raise NotPermitted(
                    "wrong_decider",
                    self.rule.source,
                    text="hub",
                    hub_kinds=self.hub_kinds,
                )
        elif org_kind != expected:
            raise NotPermitted(
                "wrong_decider",
                f"{self.rule.legal_basis}; {self.rule.source}",
                text="next",
                kind=self.kind,
                expected=expected,
                org_kind=org_kind,
            )
        missing = [a for a in self.required_advisers() if a not in self.advice]
        if missing:
            source = (
                ARMED
                if set(missing) & set(ARMED_CHECK_BY) - set(self.rule.route.advisers)
                else self.rule.source
            )
            raise refuse("advice_missing", source, text="decision", missing=missing)

    # --- the provider's side: which lines it provides, which bookings it may move ---------------

    def _provided_lines(self, actor: Actor) -> list[RequestLine]:
        """The lines asking for a capability the actor provides (per the catalogue)."""
        return [line for line in self.lines.values() if provides(actor.org, line.capability)]

    def _not_a_provider(self, actor: Actor, line: RequestLine | None = None) -> NotPermitted:
        asked = (line.capability,) if line else sorted({x.capability for x in self.lines.values()})
        return NotPermitted(
            "not_a_provider_of_capability",
            DEPLOYMENT,
            text="request",
            actor=actor.org,
            asked=asked,
        )

    def remaining(self, line_id: str) -> int:
        """How much of a line is granted and not yet committed."""
        return self.granted.get(line_id, 0) - self.committed(line_id)

    def _check_something_to_commit(self, actor: Actor) -> None:
        # A provider commits a booking it made ready earlier (in place), or new capacity for a
        # line it provides; either only within what was granted and is not yet committed.
        # And only what it was asked for (its shares) and granted (domain.md settled questions).
        ready = [
            b
            for b in self.bookings.values()
            if b.step is LineStep.MADE_READY and b.provider == actor.org
        ]
        provided = self._provided_lines(actor)
        if any(b.quantity <= self.commit_room(actor.org, b.line_id) for b in ready) or any(
            self.commit_room(actor.org, line.line_id) > 0 for line in provided
        ):
            return
        if not ready and not provided:
            raise self._not_a_provider(actor)
        on_request = any(b.quantity <= self.remaining(b.line_id) for b in ready) or any(
            self.remaining(line.line_id) > 0 for line in provided
        )
        if on_request and not self._asked_lines(actor.org):
            raise self._not_asked(actor.org)
        raise Conflict("nothing_to_commit", DEPLOYMENT)

    def _may_move(self, actor: Actor, step: Step, booking: LineBooking) -> bool:
        """A provider moves its own bookings; the requester also confirms arrival and
        releases (the parties of each step in :data:`domain.rights.STEP_PARTIES`)."""
        return actor.org == booking.provider or (
            "requester" in STEP_PARTIES[step] and actor.org == self.requester
        )

    def successors(self, booking: LineBooking) -> list[LineBooking]:
        """Bookings that can relieve ``booking``: on its way or on scene, on the same line."""
        return [
            b
            for b in self.bookings.values()
            if b.booking_id != booking.booking_id
            and b.line_id == booking.line_id
            and b.step in (LineStep.DISPATCHED, LineStep.ARRIVED)
        ]

    def _check_movable(self, step: Step, actor: Actor) -> None:
        at_step = [b for b in self.bookings.values() if b.step in BOOKING_STEPS[step]]
        if step is Step.RELIEVE:
            at_step = [b for b in at_step if self.successors(b)]
        if not at_step:
            raise Conflict(
                "out_of_order",
                DEPLOYMENT,
                text="no_booking_relieve" if step is Step.RELIEVE else "no_booking",
                step=step,
                needs=BOOKING_STEPS[step],
            )
        if not any(self._may_move(actor, step, b) for b in at_step):
            raise NotPermitted(
                "not_own_capacity",
                DEPLOYMENT,
                text="no_booking",
                actor=actor.org,
                step=step,
            )

    def check_booking_step(self, actor: Actor, step: Step, booking_id: UUID) -> LineBooking:
        """Refuse unless ``actor`` may take ``step`` on the booking ``booking_id`` now."""
        self.check_step(step, actor)
        booking = self.booking(booking_id)
        if not self._may_move(actor, step, booking):
            raise NotPermitted(
                "not_own_capacity",
                DEPLOYMENT,
                text="other_provider",
                actor=actor.org,
                step=step,
                provider=booking.provider,
            )
        allowed = BOOKING_STEPS[step]
        if booking.step not in allowed:
            if booking.step is LineStep.MADE_READY and step in DEPLOYMENT_STEPS:
                raise Conflict("not_approved", DEPLOYMENT, text="made_ready")
            raise Conflict(
                "out_of_order",
                DEPLOYMENT,
                text="booking_needs",
                booking_id=booking.booking_id,
                booking_step=booking.step,
                step=step,
                needs=[s.value for s in allowed],
            )
        return booking

    def line_bookings(
        self,
        actor: Actor,
        step: Step,
        line_id: str,
        quantity: int,
        *,
        visible: Collection[UUID] | None = None,
    ) -> list[tuple[LineBooking, int]]:
        """The bookings ``actor`` moves with ``step`` for ``quantity`` of line ``line_id``
        (recorded per line, without booking ids), each with how much of it: the same check as
        every booking step (:meth:`check_step`, then per booking the parties of the step and
        :data:`domain.lifecycle.BOOKING_STEPS`). The order is documented (README): the
        bookings furthest along first (on scene before en route before committed before made
        ready), then in the order they were booked; the last one taken may be taken in part.
        ``visible``: the bookings the actor sees (None: all)."""
        self.check_step(step, actor)
        self._line(line_id)
        order = list(LineStep)
        candidates = sorted(
            (
                b
                for b in self.bookings.values()
                if b.line_id == line_id
                and b.step in BOOKING_STEPS[step]
                and self._may_move(actor, step, b)
                and (visible is None or b.booking_id in visible)
            ),
            key=lambda b: -order.index(b.step),  # stable: booking order within a step
        )
        movable = sum(b.quantity for b in candidates)
        if quantity > movable:
            raise Conflict(
                "exceeds_movable",
                DEPLOYMENT,
                line_id=line_id,
                movable=movable,
                step=step,
                actor=actor.org,
                needs=[s.value for s in BOOKING_STEPS[step]],
                quantity=quantity,
                pointer="/data/quantity",
            )
        taken: list[tuple[LineBooking, int]] = []
        left = quantity
        for booking in candidates:
            if left == 0:
                break
            part = min(booking.quantity, left)
            taken.append((booking, part))
            left -= part
        return taken

    # --- shares: several providers cover one request (domain.md settled questions) ---------

    @property
    def providers_decide(self) -> bool:
        """Whether the providers asked decide (each its own share), or the kind's sequence of
        deciders decides the request and the providers deliver what it granted."""
        return self.rule.route.deciders == ("provider",)

    def _add_shares(self, to: tuple[str, ...], shares: tuple[Share, ...]) -> None:
        # The whole request to each of ``to``: a share of every line it provides, asked in
        # full (several may be asked the same line; what is granted is capped per line).
        for org in to:
            for line in self.lines.values():
                if (org, line.line_id) not in self.shares and provides(org, line.capability):
                    self.shares[(org, line.line_id)] = LineShare(
                        org, line.line_id, line.quantity, whole=True
                    )
        for share in shares:
            key = (share.to, share.line_id)
            existing = self.shares.get(key)
            if existing is not None:  # asked again where the deciders decide: its share grows
                self.shares[key] = replace(existing, asked=existing.asked + share.quantity)
            else:
                self.shares[key] = LineShare(share.to, share.line_id, share.quantity)
        self._settle_shares()

    def _settle_shares(self) -> None:
        """Where the kind's deciders decide: their decision settles every share. Refused, each
        share waiting is refused. Approved, what they granted for a line is shared among its
        shares in share order (the order LOCC asked them), first come first served: each share
        is granted what it asked from what is left of the line's grant, and a share nothing is
        left for is refused. So a partial grant is never granted twice (1 of 2 platoons granted,
        shares of 1 for POL-MN then 1 for POL-NN: POL-MN delivers it, POL-NN's share is
        refused), and a share LOCC asks later gets what the earlier ones left. A share of the
        whole request (``to``) may deliver all that was granted for the line, as each of ``to``
        was asked the whole: whoever commits first (commit is capped per line)."""
        if self.providers_decide:
            return
        approved = self.status in (RequestStatus.APPROVED, RequestStatus.APPEALED) and self.granted
        left = dict(self.granted)
        for key, share in self.shares.items():
            if approved:
                pool = self.granted if share.whole else left
                granted = min(share.asked, pool.get(share.line_id, 0))
                if not share.whole:
                    left[share.line_id] = left.get(share.line_id, 0) - granted
                self.shares[key] = replace(
                    share, outcome=self._share_outcome(share.asked, granted), granted=granted
                )
            elif self.status is RequestStatus.REFUSED and share.outcome is None:
                self.shares[key] = replace(share, outcome=Outcome.REFUSED, granted=0)

    @staticmethod
    def _share_outcome(asked: int, granted: int) -> Outcome:
        if granted <= 0:
            return Outcome.REFUSED
        return Outcome.GRANTED if granted >= asked else Outcome.PARTLY_GRANTED

    def _decide_shares(self, decision: Decision, envelope: Envelope) -> None:
        """A provider decided its shares: the request is approved once any share is granted,
        refused when every share is refused."""
        mine = [s for s in self.shares.values() if s.to == decision.decider and s.outcome is None]
        if not mine:  # stored before shares: the decision of the whole request (to each)
            mine = [
                LineShare(decision.decider, line.line_id, line.quantity, whole=True)
                for line in self.lines.values()
            ]
        partly = dict(decision.granted)
        for share in mine:
            if decision.outcome is Outcome.GRANTED:
                granted = share.asked
            elif decision.outcome is Outcome.REFUSED:
                granted = 0
            else:
                granted = min(share.asked, max(0, partly.get(share.line_id, share.asked)))
            self.shares[(share.to, share.line_id)] = replace(
                share, outcome=self._share_outcome(share.asked, granted), granted=granted
            )
        decided = [s for s in self.shares.values() if s.outcome is not None]
        self.granted = {
            line_id: min(line.quantity, sum(s.granted for s in decided if s.line_id == line_id))
            for line_id, line in self.lines.items()
            if any(s.line_id == line_id for s in decided)
        }
        waiting = any(s.outcome is None for s in self.shares.values())
        if any(s.granted > 0 for s in decided):
            full = all(s.outcome is Outcome.GRANTED for s in decided)
            self.outcome = Outcome.GRANTED if full else Outcome.PARTLY_GRANTED
            status = RequestStatus.APPROVED
        elif not waiting:
            self.outcome = Outcome.REFUSED
            status = RequestStatus.REFUSED
        else:
            status = self.status
        if status is self.status:
            self._touch(envelope)
        else:
            self._enter(status, envelope)

    def wanted(self, line_id: str) -> int:
        """What the request wants of a line, committed or not (its open demand is this minus
        what is committed): all of it until the kind's deciders decide it, then what they
        granted. Where the providers decide, a provider's refusal or partial grant leaves the
        remainder wanted, granted or not: LOCC may forward it elsewhere (domain.md settled
        questions), so it stays demand until the request ends."""
        line = self.lines[line_id]
        granted = self.granted.get(line_id)
        if self.providers_decide or self.status is not RequestStatus.APPROVED or granted is None:
            return line.quantity
        return min(line.quantity, granted)

    @property
    def demanding(self) -> bool:
        """Whether what it wants (:meth:`wanted`) counts as demand against supply: from its
        submission while it is in the procedure or approved, and, where the providers decide,
        after their refusal too (its remainder stays wanted: LOCC may forward it elsewhere).
        Not a draft, not while an appeal is pending, not once ended."""
        if self.status in PENDING_STATUSES:
            return True
        return self.status is RequestStatus.REFUSED and self.providers_decide and bool(self.shares)

    def open_quantity(self, line_id: str) -> int:
        """How much of a line is not yet asked of any provider or granted by one: what LOCC
        may still forward. Where the kind's deciders decided, only what they granted."""
        line = self.lines[line_id]
        base = line.quantity
        if not self.providers_decide and self.status in (
            RequestStatus.APPROVED,
            RequestStatus.APPEALED,
        ):
            base = self.granted.get(line_id, 0)
        taken = sum(
            s.asked if s.outcome is None else s.granted
            for s in self.shares.values()
            if s.line_id == line_id
        )
        return max(0, base - taken)

    def _check_remainder(self) -> None:
        """After a decision LOCC forwards only the remainder: after the providers' refusal or
        partial grant, or what the deciders granted and no provider was asked for yet."""
        if self.status not in (RequestStatus.APPROVED, RequestStatus.REFUSED):
            return
        if self.status is RequestStatus.REFUSED and not (self.providers_decide and self.shares):
            raise Conflict("out_of_order", SHARES, text="refused")
        if not any(self.open_quantity(line_id) > 0 for line_id in self.lines):
            raise Conflict("nothing_to_forward", SHARES)

    def _check_shares(self, to: tuple[str, ...], shares: tuple[Share, ...]) -> None:
        """The data of a forward's shares: known lines, providers of them, each provider's
        share of a line once, within what remains of the line.

        Where the providers decide, a provider decides its share once: more of a line is asked
        of another provider. Where the kind's deciders decide, the provider asked does not
        decide, it delivers: LOCC may ask it again for more of the line (what the deciders
        granted beyond what was asked, e.g. of a capability's only provider), and its share
        grows by that."""
        if self.status in (RequestStatus.APPROVED, RequestStatus.REFUSED) and to:
            raise refuse("remainder_as_shares", SHARES)
        seen: set[tuple[str, str]] = set()
        asked: dict[str, int] = {}
        for number, share in enumerate(shares):
            at = f"/data/shares/{number}"
            line = self.lines.get(share.line_id)
            if line is None:
                raise refuse(
                    "unknown_line",
                    SHARES,
                    text="line",
                    line_id=share.line_id,
                    pointer=f"{at}/line_id",
                )
            if share.quantity <= 0:
                raise refuse(
                    "quantity_not_positive",
                    SHARES,
                    text="share",
                    line_id=share.line_id,
                    to=share.to,
                    pointer=f"{at}/quantity",
                )
            if not provides(share.to, line.capability):
                raise refuse(
                    "share_provider_mismatch",
                    SHARES,
                    to=share.to,
                    capability=line.capability,
                    line_id=share.line_id,
                    pointer=f"{at}/to",
                )
            key = (share.to, share.line_id)
            existing = self.shares.get(key)
            grows = existing is not None and not existing.whole and not self.providers_decide
            if key in seen or (existing is not None and not grows) or share.to in to:
                raise refuse(
                    "duplicate_share",
                    SHARES,
                    to=share.to,
                    line_id=share.line_id,
                    pointer=f"{at}/to",
                )
            seen.add(key)
            asked[share.line_id] = asked.get(share.line_id, 0) + share.quantity
        for line_id, quantity in asked.items():
            remaining = self.open_quantity(line_id)
            if quantity > remaining:
                raise refuse(
                    "share_exceeds_remaining",
                    SHARES,
                    line_id=line_id,
                    quantity=quantity,
                    remaining=remaining,
                    pointer="/data/shares",
                )

    def _check_share_decider(self, actor: Actor) -> None:
        mine = [s for s in self.shares.values() if s.to == actor.org]
        if not mine:
            waiting = sorted({s.to for s in self.shares.values() if s.outcome is None})
            raise NotPermitted(
                "wrong_decider",
                f"{SHARES}; {self.rule.source}",
                text="no_share",
                actor=actor.org,
                waiting=waiting,
            )
        if all(s.outcome is not None for s in mine):
            raise Conflict("duplicate_step", SHARES, text="share", actor=actor.org)

    def _check_share_grant(self, org: str, granted: tuple[tuple[str, int], ...]) -> None:
        """A provider's partial grant names only lines of its own shares waiting for its
        decision, each at most what it was asked, and grants less than asked of at least one
        (a line not named is granted as asked)."""
        mine = {s.line_id: s for s in self.shares.values() if s.to == org and s.outcome is None}
        for number, (line_id, quantity) in enumerate(granted):
            share = mine.get(line_id)
            if share is None:
                raise self._not_asked(org, line_id)
            if quantity > share.asked:
                raise refuse(
                    "granted_out_of_range",
                    SHARES,
                    text="share",
                    line_id=line_id,
                    asked=share.asked,
                    org=org,
                    pointer=f"/data/granted/{number}/quantity",
                )
        if all(quantity >= mine[line_id].asked for line_id, quantity in granted):
            raise refuse("not_partial", SHARES, org=org, pointer="/data/granted")

    def _asked_lines(self, org: str) -> list[str]:
        return [line_id for (to, line_id) in self.shares if to == org]

    @property
    def in_deployment(self) -> bool:
        """Approved, with everything granted committed and no share waiting for its provider's
        decision: nobody is waited for (the board's *in_deployment*)."""
        return (
            self.status is RequestStatus.APPROVED
            and all(self.committed(line_id) >= q for line_id, q in self.granted.items())
            and not self.waiting_shares()
        )

    def waiting_shares(self) -> list[LineShare]:
        """Shares still waiting for their provider's decision."""
        return [s for s in self.shares.values() if s.outcome is None]

    def committed_by(self, org: str, line_id: str) -> int:
        """How much of a line ``org`` committed (or moved further), not cancelled."""
        return sum(
            b.quantity
            for b in self.bookings.values()
            if b.provider == org and b.line_id == line_id and b.step in _COMMITTED_STEPS
        )

    def commit_room(self, org: str, line_id: str) -> int:
        """How much ``org`` may still commit to a line: of what was granted to it, not yet
        committed, within what the request still needs."""
        share = self.shares.get((org, line_id))
        if share is None or line_id not in self.lines:
            return 0
        return max(0, min(share.granted - self.committed_by(org, line_id), self.remaining(line_id)))

    def _not_asked(self, org: str, line_id: str | None = None) -> NotPermitted:
        asked = self._asked_lines(org)
        return NotPermitted(
            "not_asked",
            SHARES,
            text=("line" if line_id else "request")
            if not asked
            else ("line_shares" if line_id else "request_shares"),
            org=org,
            line_id=line_id,
            asked=asked,
        )

    # --- the requester's steps ---------------------------------------------------------------

    def submit(self, envelope: Envelope) -> None:
        self.check_step(Step.SUBMIT, envelope.actor)
        check_authority(
            self.rule, envelope.authority, self.requester, envelope.exercise, task=self.task
        )
        check_justifications(
            self.rule, self.justifications, urgent=self.urgent, lines=tuple(self.lines.values())
        )
        if self.rule.route.exhaustion_check_by and not self.exhaustion_confirmed:
            raise refuse(
                "exhaustion_not_confirmed",
                f"{self.rule.legal_basis}; {self.rule.source}",
                text="before_submit",
            )
        self.emit(self.Submitted, envelope)

    def formalise(self, envelope: Envelope) -> None:
        self.check_step(Step.FORMALISE, envelope.actor)
        check_authority(
            self.rule,
            envelope.authority,
            self.requester,
            envelope.exercise,
            required=True,
            task=self.task,
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
        self.check_step(Step.AMEND, envelope.actor)
        check_lines(self.kind, lines)
        if self.status is not RequestStatus.DRAFT:
            check_justifications(self.rule, dict(justifications), urgent=self.urgent, lines=lines)
        self.emit(self.Amended, envelope, lines=lines, justifications=justifications, reason=reason)

    def _amend(
        self,
        lines: tuple[RequestLine, ...],
        justifications: tuple[tuple[Justification, str], ...],
    ) -> None:
        """The amended lines replace the old (before any decision: ``check_step``). What was
        given for the old lines does not carry over: a provider's share of a line no longer
        asked, or now asking what it does not provide, is dropped (LOCC forwards the new lines);
        LE Preparatie's art. 58 permission, where it can still be given, is asked anew
        (factsheet-bijstand-politie §4: it tests what is asked)."""
        changed = tuple(self.lines.values()) != lines
        self.lines = {line.line_id: line for line in lines}
        self.justifications = dict(justifications)
        self.shares = {
            key: share
            for key, share in self.shares.items()
            if share.line_id in self.lines
            and provides(share.to, self.lines[share.line_id].capability)
        }
        if changed and self.status in STEP_STATUSES[Step.CONFIRM_EXHAUSTION]:
            self.exhaustion_confirmed = False

    def withdraw(self, envelope: Envelope, reason: str) -> None:
        self.check_step(Step.WITHDRAW, envelope.actor)
        self.emit(self.Withdrawn, envelope, reason=reason)

    def appeal(self, envelope: Envelope, grounds: str) -> None:
        self.check_step(Step.APPEAL, envelope.actor)
        check_appeal_authority(self.rule, envelope.authority, self.requester, APPEAL)
        if not grounds.strip():
            raise refuse("reasons_required", APPEAL, text="appeal", pointer="/data/grounds")
        self.emit(self.Appealed, envelope, grounds=grounds)

    # --- the hub's steps ---------------------------------------------------------------------

    def receive(self, envelope: Envelope) -> None:
        self.check_step(Step.RECEIVE, envelope.actor)
        self.emit(self.Received, envelope)

    def confirm_exhaustion(self, envelope: Envelope, finding: str) -> None:
        self.check_step(Step.CONFIRM_EXHAUSTION, envelope.actor)
        if not finding.strip():
            raise refuse(
                "reasons_required", self.rule.source, text="findings", pointer="/data/finding"
            )
        self.emit(self.ExhaustionConfirmed, envelope, finding=finding)

    def assess(
        self, envelope: Envelope, *, forward: bool, findings: str, alternatives_checked: str = ""
    ) -> None:
        self.check_step(Step.ASSESS, envelope.actor)
        if not findings.strip():
            raise refuse(
                "reasons_required" if not forward else "findings_required",
                LIFECYCLE,
                text="assessment",
                pointer="/data/findings",
            )
        if forward and self.rule.alternatives_checked_first and not alternatives_checked.strip():
            raise refuse(
                "alternatives_not_checked",
                "factsheet-bijstand-bevolkingszorg §B.5-B.6",
                pointer="/data/alternatives_checked",
            )
        if forward and self.rule.route.exhaustion_check_by and not self.exhaustion_confirmed:
            raise refuse(
                "exhaustion_not_confirmed",
                f"{self.rule.legal_basis}; {self.rule.source}",
                text="before_forward",
            )
        self.emit(
            self.Assessed,
            envelope,
            forward=forward,
            findings=findings,
            alternatives_checked=alternatives_checked,
        )

    def forward(
        self,
        envelope: Envelope,
        to: tuple[str, ...],
        copies: tuple[str, ...] = (),
        shares: tuple[Share, ...] = (),
    ) -> None:
        """The whole request to each of ``to``; parts of lines to providers (``shares``)."""
        self.check_step(Step.FORWARD, envelope.actor)
        if not to and not shares:
            raise refuse("recipients_required", LIFECYCLE, pointer="/data/to")
        for code in (*to, *copies, *(share.to for share in shares)):
            try:
                organisation(code)
            except KeyError:
                raise refuse("unknown_organisation", LIFECYCLE, org=code) from None
        self._check_shares(to, shares)
        self.emit(self.Forwarded, envelope, to=to, copies=copies, shares=shares)

    # --- advice and decisions ----------------------------------------------------------------

    def required_advisers(self) -> tuple[str, ...]:
        advisers = list(self.rule.route.advisers)
        if self.armed:
            advisers += [a for a in ARMED_CHECK_BY if a not in advisers]
        return tuple(advisers)

    def advise(self, envelope: Envelope, *, favourable: bool, advice: str) -> None:
        org_kind = self.check_step(Step.ADVISE, envelope.actor)
        if not advice.strip():
            raise refuse(
                "reasons_required",
                self.rule.source,
                text="advice",
                pointer="/data/advice",
            )
        self.emit(
            self.Advised, envelope, adviser_kind=org_kind, favourable=favourable, advice=advice
        )

    def decide(
        self,
        envelope: Envelope,
        *,
        outcome: Outcome,
        reasons: str = "",
        granted: tuple[tuple[str, int], ...] = (),
    ) -> None:
        org_kind = self.check_step(Step.DECIDE, envelope.actor)
        if outcome is not Outcome.GRANTED and not reasons.strip():
            raise refuse(
                "reasons_required",
                APPEAL if self.rule.appealable else LIFECYCLE,
                text="refusal",
                pointer="/data/reasons",
            )
        if outcome is Outcome.PARTLY_GRANTED:
            check_granted(self.lines, granted)
            if self.providers_decide:
                self._check_share_grant(envelope.actor.org, granted)
        final = len(self.decisions) + 1 == len(self.rule.route.deciders)
        decision = Decision(
            decider=envelope.actor.org,
            decider_kind=org_kind,
            outcome=outcome,
            granted=granted if outcome is Outcome.PARTLY_GRANTED else (),
            reasons=reasons,
        )
        self.emit(self.Decided, envelope, decision=decision, final=final)

    def _refused_at_assessment(self, envelope: Envelope, findings: str) -> None:
        """Where a refusal may be appealed (art. 56), the request is filed with the korpschef
        and the hub assessing it is the korpschef's (LE Preparatie): refusing it there is the
        korpschef's refusal, so it is recorded as the korpschef's decision: copied to DGPOL and
        open to appeal (art. 56(4); factsheet-bijstand-politie §1, §9)."""
        if not self.rule.appealable:
            return
        decision = Decision(
            decider=envelope.actor.org,
            decider_kind=organisation(envelope.actor.org).kind.value,
            outcome=Outcome.REFUSED,
            granted=(),
            reasons=findings,
        )
        self.decisions.append(decision)
        self._falls_due(Step.DECIDE, Outcome.REFUSED.value, envelope)

    def decide_priority(
        self, envelope: Envelope, *, capability_code: str, rank: int, reasons: str
    ) -> None:
        org_kind = self.check_step(Step.DECIDE_PRIORITY, envelope.actor)
        check_minister(envelope, org_kind, self.kind, Step.DECIDE_PRIORITY, PRIORITY)
        if capability_code not in {line.capability for line in self.lines.values()}:
            raise refuse(
                "unknown_line",
                PRIORITY,
                text="capability",
                capability_code=capability_code,
                pointer="/data/capability",
            )
        if rank < 1:
            raise refuse("rank_not_positive", PRIORITY, pointer="/data/rank")
        if not reasons.strip():
            raise refuse(
                "reasons_required",
                PRIORITY,
                text="priority",
                pointer="/data/reasons",
            )
        self.emit(
            self.PriorityDecided, envelope, capability=capability_code, rank=rank, reasons=reasons
        )

    def decide_appeal(self, envelope: Envelope, *, upheld: bool, reasons: str) -> None:
        org_kind = self.check_step(Step.DECIDE_APPEAL, envelope.actor)
        check_minister(envelope, org_kind, self.kind, Step.DECIDE_APPEAL, APPEAL)
        if not reasons.strip():
            raise refuse(
                "reasons_required", APPEAL, text="appeal_decision", pointer="/data/reasons"
            )
        self.emit(self.AppealDecided, envelope, upheld=upheld, reasons=reasons)

    # --- delivery (called by domain.services, which books the Capacity in the same step) -----

    def check_can_make_ready(self, envelope: Envelope, line_id: str) -> None:
        self.check_step(Step.MAKE_READY, envelope.actor)
        line = self._line(line_id)
        if not provides(envelope.actor.org, line.capability):
            raise self._not_a_provider(envelope.actor, line)
        if (
            self.status is RequestStatus.APPROVED
            and (envelope.actor.org, line_id) not in self.shares
        ):
            raise self._not_asked(envelope.actor.org, line_id)

    def check_can_commit(self, envelope: Envelope, line_id: str, quantity: int) -> None:
        self.check_step(Step.COMMIT, envelope.actor)
        line = self._line(line_id)
        if not provides(envelope.actor.org, line.capability):
            raise self._not_a_provider(envelope.actor, line)
        share = self.shares.get((envelope.actor.org, line_id))
        if share is None:
            raise self._not_asked(envelope.actor.org, line_id)
        room = self.commit_room(envelope.actor.org, line_id)
        if quantity > room:
            raise Conflict(
                "exceeds_granted",
                SHARES,
                line_id=line_id,
                room=room,
                actor=envelope.actor.org,
                granted=share.granted,
                remaining=self.remaining(line_id),
                request_granted=self.granted.get(line_id, 0),
                pointer="/data/quantity",
            )

    def book_line(self, envelope: Envelope, booking: LineBooking) -> None:
        self.emit(self.LineBooked, envelope, booking=booking)

    def booking(self, booking_id: UUID) -> LineBooking:
        try:
            return self.bookings[booking_id]
        except KeyError:
            raise Conflict(
                "unknown_booking", LIFECYCLE, text="request", booking_id=booking_id
            ) from None

    def move_line(self, envelope: Envelope, booking: LineBooking, note: str = "") -> None:
        """Record a booking's move; :meth:`check_booking_step` checked it."""
        self.emit(self.LineMoved, envelope, booking=booking, note=note)

    def _line(self, line_id: str) -> RequestLine:
        try:
            return self.lines[line_id]
        except KeyError:
            raise refuse(
                "unknown_line", LIFECYCLE, text="line", line_id=line_id, pointer="/data/line_id"
            ) from None

    # --- duties to inform ----------------------------------------------------------------------

    def inform(self, envelope: Envelope, *, duty: str, to: str) -> None:
        """Record that the actor did a duty to inform (domain/duties.py) that fell due."""
        self.check_step(Step.INFORM, envelope.actor)
        found = next((d for d in self.duties() if d.code == duty), None)
        if found is None:
            known = ", ".join(d.code for d in self.duties()) or "none"
            raise refuse(
                "unknown_duty",
                DUTIES_SOURCE,
                kind=self.kind,
                duty=duty,
                known=known,
                pointer="/data/duty",
            )
        if found.code in self.informed:
            raise Conflict("duplicate_step", found.source, text="duty", duty=found.code)
        if found.code not in self.duties_due:
            raise Conflict(
                "duty_not_due",
                found.source,
                text="outcomes" if found.outcomes else None,
                duty=found.code,
                after=found.after,
                outcomes=found.outcomes,
            )
        owner = self.duty_owner(found)
        if owner != envelope.actor.org:
            raise NotPermitted(
                "not_own_duty", found.source, duty=found.code, owner=owner, actor=envelope.actor.org
            )
        addressee = self.duty_addressee(found)
        if to != addressee:
            raise refuse(
                "wrong_addressee",
                found.source,
                duty=found.code,
                addressee=addressee,
                to=to,
                pointer="/data/to",
            )
        self.emit(self.Informed, envelope, duty=found.code, to=to)

    # --- closing -----------------------------------------------------------------------------

    def close(self, envelope: Envelope, summary: str = "") -> None:
        self.check_step(Step.CLOSE, envelope.actor)
        self.emit(self.Closed, envelope, summary=summary)

    def evaluate(
        self, envelope: Envelope, *, lessons: tuple[str, ...], action_points: tuple[str, ...]
    ) -> None:
        self.check_step(Step.EVALUATE, envelope.actor)
        if not lessons:
            raise refuse("lessons_required", LIFECYCLE, pointer="/data/lessons")
        self.emit(self.Evaluated, envelope, lessons=lessons, action_points=action_points)

    def correct(self, envelope: Envelope, target_version: int, reason: str) -> None:
        """Void the latest step recorded in error; the hub or the requester may do so."""
        self.check_step(Step.VOID, envelope.actor)
        self.void(envelope, target_version, reason)


def open_steps(request: AssistanceRequest, org: str, role: str) -> list[dict[str, str]]:
    """The steps ``org`` (in ``role``) could take on ``request`` now, each with the API type to
    post: those the lifecycle table lets follow its status and :meth:`check_step` passes."""
    actor = Actor(org=org, role=role)
    return [
        {"step": step.value, "type": STEP_TYPES[step]}
        for step in NEXT_STEPS[request.status]
        if request.can(step, actor)
    ]
