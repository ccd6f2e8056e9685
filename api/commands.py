"""The postable event types: for each, the model that validates its data and the domain step
it asks for. ``GET /v1/event-types`` and the OpenAPI document are generated from these models.

A posted item names a type, a subject and its data; the domain accepts (and records the
event) or refuses with a coded reason. The server, not the client, sets the actor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from api.types import Moment
from domain.capacity import Capacity, CapacityClass
from domain.envelope import Envelope
from domain.incident import GripLevel, Incident, Phase
from domain.kinds import Justification, RequestKind
from domain.lifecycle import STEP_TYPES
from domain.request import AssistanceRequest, Outcome, RequestLine
from domain.rights import Step
from domain.services import (
    arrive,
    commit,
    dispatch,
    extend,
    make_ready,
    release,
    relieve,
    return_home,
)

Text = Annotated[str, Field(max_length=4000)]
ShortText = Annotated[str, Field(max_length=200)]
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-'. ()]+$")]
#: Strict: ``true`` and ``"3"`` are not quantities.
Quantity = Annotated[int, Field(gt=0, le=1_000_000, strict=True)]


class Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Work(Protocol):
    """What a handler may do: load aggregates for this append and add new ones."""

    def get(self, cls: type[Any], subject: UUID, expected_version: int | None = None) -> Any: ...

    def add(self, aggregate: Any) -> None: ...

    def thread_of(self, subject: UUID) -> tuple[str, str | None]:
        """Message ids of the subject's first and latest steps (``("", None)`` if new)."""
        ...

    def peek(self, subject: UUID) -> Any:
        """The subject's aggregate as it stands in this append, or None (no rules applied)."""
        ...

    def peek_at(self, subject: UUID, level: int) -> Any:
        """The subject as the steps at or below clearance ``level`` leave it (None: none)."""
        ...


Handler = Callable[[Work, Envelope, UUID, Any, int | None], None]


@dataclass(frozen=True)
class EventType:
    name: str
    subject: Literal["request", "incident", "capacity"]
    model: type[Data]
    handler: Handler
    creates: bool
    step: Step | None
    summary: str


REGISTRY: dict[str, EventType] = {}


def event_type(
    name: str,
    subject: Literal["request", "incident", "capacity"],
    summary: str,
    *,
    creates: bool = False,
    step: Step | None = None,
) -> Callable[[type[Data]], type[Data]]:
    """Register ``model`` as the data of event type ``name``; its ``handle`` does the step."""

    if step is not None and STEP_TYPES[step] != name:
        # The domain names the API type of each step (open_steps offers it); one name each.
        msg = (
            f"step {step.value} is posted as {STEP_TYPES[step]!r} (domain.lifecycle), not {name!r}"
        )
        raise TypeError(msg)

    def register(model: type[Data]) -> type[Data]:
        handler: Handler = model.handle  # type: ignore[attr-defined]
        REGISTRY[name] = EventType(name, subject, model, handler, creates, step, summary)
        return model

    return register


# --- incidents -----------------------------------------------------------------------------------


@event_type("incident.opened", "incident", "Open an incident (*incident*)", creates=True)
class IncidentOpened(Data):
    title: ShortText
    regions: Annotated[list[Code], Field(min_length=1, max_length=25)]
    grip: GripLevel
    phase: Phase = Phase.WARM
    municipalities: Annotated[list[ShortText], Field(max_length=100)] = []
    description: Text = ""

    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        work.add(
            Incident.open(
                env,
                subject,
                title=d.title,
                regions=tuple(d.regions),
                grip=d.grip,
                phase=d.phase,
                municipalities=tuple(d.municipalities),
                description=d.description,
            )
        )


@event_type("incident.grip_changed", "incident", "Change the GRIP level")
class IncidentGripChanged(Data):
    grip: GripLevel

    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        work.get(Incident, subject, version).change_grip(env, d.grip)


@event_type("incident.phase_changed", "incident", "Change the phase (koude, lauwe, warme, nafase)")
class IncidentPhaseChanged(Data):
    phase: Phase

    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        work.get(Incident, subject, version).change_phase(env, d.phase)


@event_type("incident.regions_changed", "incident", "Change the regions concerned")
class IncidentRegionsChanged(Data):
    regions: Annotated[list[Code], Field(min_length=1, max_length=25)]

    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        work.get(Incident, subject, version).change_regions(env, tuple(d.regions))


@event_type("incident.situation_reported", "incident", "Report the situation (sitrep)")
class IncidentSituationReported(Data):
    summary: Text

    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        work.get(Incident, subject, version).report(env, d.summary)


@event_type("incident.closed", "incident", "Close the incident")
class IncidentClosed(Data):
    reason: Text = ""

    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        work.get(Incident, subject, version).close(env, d.reason)


@event_type("incident.voided", "incident", "Void the latest step, recorded in error")
class IncidentVoided(Data):
    target_version: Annotated[int, Field(gt=1)]
    reason: Text

    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        work.get(Incident, subject, version).correct(env, d.target_version, d.reason)


# --- capacities ----------------------------------------------------------------------------------


@event_type("capacity.registered", "capacity", "Register a capacity of your own", creates=True)
class CapacityRegistered(Data):
    capability: Code
    quantity: Quantity
    name: ShortText = ""
    home_region: Code | None = None
    notice_minutes: Annotated[int, Field(ge=0, le=60 * 24 * 30)] = 60
    capacity_class: CapacityClass = CapacityClass.BEST_EFFORT

    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        work.add(
            Capacity.register(
                env,
                subject,
                capability_code=d.capability,
                quantity=d.quantity,
                name=d.name,
                home_region=d.home_region,
                notice_minutes=d.notice_minutes,
                capacity_class=d.capacity_class,
            )
        )


@event_type("capacity.availability_changed", "capacity", "Mark capacity unavailable or abroad")
class CapacityAvailabilityChanged(Data):
    unavailable: Annotated[int, Field(ge=0, le=1_000_000)]
    abroad: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    reason: Text = ""

    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        work.get(Capacity, subject, version).change_availability(
            env, d.unavailable, d.abroad, d.reason
        )


@event_type("capacity.quantity_changed", "capacity", "Change how much of a capacity exists")
class CapacityQuantityChanged(Data):
    quantity: Quantity
    reason: Text = ""

    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        work.get(Capacity, subject, version).change_quantity(env, d.quantity, d.reason)


# --- requests ------------------------------------------------------------------------------------


class Line(Data):
    line_id: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_\-.]+$")]
    capability: Code
    quantity: Quantity
    effect: Text
    location: ShortText = ""
    municipality: ShortText | None = None
    period_start: Moment | None = None
    period_end: Moment | None = None
    armed: bool = False
    automatic_weapons: bool = False

    def to_domain(self) -> RequestLine:
        return RequestLine(**self.model_dump())


Justifications = Annotated[dict[Justification, Text], Field(max_length=10)]


class RequestContent(Data):
    kind: RequestKind
    lines: Annotated[list[Line], Field(min_length=1, max_length=50)]
    title: ShortText = ""
    incident_id: UUID | None = None
    justifications: Justifications = {}


@event_type(
    "request.drafted",
    "request",
    "Draft a request for your organisation",
    creates=True,
    step=Step.DRAFT,
)
class RequestDrafted(RequestContent):
    urgent: bool = False

    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        work.add(
            AssistanceRequest.draft(
                env,
                subject,
                kind=d.kind,
                lines=tuple(line.to_domain() for line in d.lines),
                title=d.title,
                urgent=d.urgent,
                incident_id=d.incident_id,
                justifications=tuple(d.justifications.items()),
            )
        )


@event_type(
    "request.phoned_in",
    "request",
    "Hub: record an urgent request phoned in on the requester's behalf",
    creates=True,
    step=Step.PHONE_IN,
)
class RequestPhonedIn(RequestContent):
    requester: Code

    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        work.add(
            AssistanceRequest.phone_in(
                env,
                subject,
                kind=d.kind,
                requester=d.requester,
                lines=tuple(line.to_domain() for line in d.lines),
                title=d.title,
                incident_id=d.incident_id,
                justifications=tuple(d.justifications.items()),
            )
        )


def _request(work: Work, subject: UUID, version: int | None) -> AssistanceRequest:
    request: AssistanceRequest = work.get(AssistanceRequest, subject, version)
    return request


@event_type("request.submitted", "request", "Submit the signed request", step=Step.SUBMIT)
class RequestSubmitted(Data):
    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        _request(work, subject, version).submit(env)


@event_type(
    "request.formalised",
    "request",
    "Send the signed form of an urgent request",
    step=Step.FORMALISE,
)
class RequestFormalised(Data):
    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        _request(work, subject, version).formalise(env)


@event_type(
    "request.amended", "request", "Amend lines or justifications before a decision", step=Step.AMEND
)
class RequestAmended(Data):
    lines: Annotated[list[Line], Field(min_length=1, max_length=50)]
    justifications: Justifications = {}
    reason: Text

    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        _request(work, subject, version).amend(
            env,
            lines=tuple(line.to_domain() for line in d.lines),
            justifications=tuple(d.justifications.items()),
            reason=d.reason,
        )


@event_type("request.received", "request", "Hub: receive the request", step=Step.RECEIVE)
class RequestReceived(Data):
    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        _request(work, subject, version).receive(env)


@event_type(
    "request.exhaustion_confirmed",
    "request",
    "LE Preparatie: police exhausted or specialism missing (art. 58)",
    step=Step.CONFIRM_EXHAUSTION,
)
class RequestExhaustionConfirmed(Data):
    finding: Text

    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        _request(work, subject, version).confirm_exhaustion(env, d.finding)


@event_type(
    "request.assessed", "request", "Hub: assess (forward, or refuse with reasons)", step=Step.ASSESS
)
class RequestAssessed(Data):
    forward: bool
    findings: Text
    alternatives_checked: Text = ""

    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        _request(work, subject, version).assess(
            env, forward=d.forward, findings=d.findings, alternatives_checked=d.alternatives_checked
        )


@event_type(
    "request.forwarded", "request", "Hub: forward to provider(s) or decider(s)", step=Step.FORWARD
)
class RequestForwarded(Data):
    to: Annotated[list[Code], Field(min_length=1, max_length=30)]
    copies: Annotated[list[Code], Field(max_length=30)] = []

    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        _request(work, subject, version).forward(env, tuple(d.to), tuple(d.copies))


@event_type(
    "request.advised", "request", "Advise on the request (e.g. DJZ, DOPS)", step=Step.ADVISE
)
class RequestAdvised(Data):
    favourable: bool
    advice: Text

    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        _request(work, subject, version).advise(env, favourable=d.favourable, advice=d.advice)


class Grant(Data):
    line_id: Annotated[str, Field(min_length=1, max_length=40)]
    quantity: Annotated[int, Field(ge=0, le=1_000_000)]


@event_type(
    "request.decided", "request", "Decide: granted, partly granted or refused", step=Step.DECIDE
)
class RequestDecided(Data):
    outcome: Outcome
    reasons: Text = ""
    granted: Annotated[list[Grant], Field(max_length=50)] = []

    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        _request(work, subject, version).decide(
            env,
            outcome=d.outcome,
            reasons=d.reasons,
            granted=tuple((g.line_id, g.quantity) for g in d.granted),
        )


@event_type(
    "request.priority_decided",
    "request",
    "The Minister of J&V decides priority under scarcity",
    step=Step.DECIDE_PRIORITY,
)
class RequestPriorityDecided(Data):
    capability: Code
    rank: Annotated[int, Field(ge=1, le=1000)]
    reasons: Text

    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        _request(work, subject, version).decide_priority(
            env, capability_code=d.capability, rank=d.rank, reasons=d.reasons
        )


@event_type(
    "request.appealed", "request", "Appeal a korpschef's refusal (art. 56(4))", step=Step.APPEAL
)
class RequestAppealed(Data):
    grounds: Text

    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        _request(work, subject, version).appeal(env, d.grounds)


@event_type(
    "request.appeal_decided", "request", "The Minister decides the appeal", step=Step.DECIDE_APPEAL
)
class RequestAppealDecided(Data):
    upheld: bool
    reasons: Text

    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        _request(work, subject, version).decide_appeal(env, upheld=d.upheld, reasons=d.reasons)


class Booking(Data):
    capacity_id: UUID
    booking_id: UUID


class NewBooking(Booking):
    line_id: Annotated[str, Field(min_length=1, max_length=40)]
    quantity: Quantity


def _pair(work: Work, subject: UUID, version: int | None, capacity_id: UUID) -> tuple[Any, Any]:
    return _request(work, subject, version), work.get(Capacity, capacity_id)


@event_type(
    "request.made_ready",
    "request",
    "Provider: make own capacity ready, informally, before approval",
    step=Step.MAKE_READY,
)
class RequestMadeReady(NewBooking):
    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        request, capacity = _pair(work, subject, version, d.capacity_id)
        make_ready(
            env, request, capacity, line_id=d.line_id, quantity=d.quantity, booking_id=d.booking_id
        )


@event_type(
    "request.committed",
    "request",
    "Provider: commit own capacity to an approved line",
    step=Step.COMMIT,
)
class RequestCommitted(NewBooking):
    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        request, capacity = _pair(work, subject, version, d.capacity_id)
        commit(
            env, request, capacity, line_id=d.line_id, quantity=d.quantity, booking_id=d.booking_id
        )


@event_type(
    "request.dispatched", "request", "Provider: dispatch committed capacity", step=Step.DISPATCH
)
class RequestDispatched(Booking):
    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        request, capacity = _pair(work, subject, version, d.capacity_id)
        dispatch(env, request, capacity, booking_id=d.booking_id)


@event_type("request.arrived", "request", "Arrived on scene; control handed over", step=Step.ARRIVE)
class RequestArrived(Booking):
    note: Text = ""

    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        request, capacity = _pair(work, subject, version, d.capacity_id)
        arrive(env, request, capacity, booking_id=d.booking_id, note=d.note)


@event_type("request.extended", "request", "Provider: extend a deployment", step=Step.EXTEND)
class RequestExtended(Booking):
    until: Moment
    reason: Text

    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        request, capacity = _pair(work, subject, version, d.capacity_id)
        extend(env, request, capacity, booking_id=d.booking_id, until=d.until, reason=d.reason)


@event_type(
    "request.relieved",
    "request",
    "Provider: relieve a deployment by a successor",
    step=Step.RELIEVE,
)
class RequestRelieved(Booking):
    successor_booking_id: UUID

    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        request, capacity = _pair(work, subject, version, d.capacity_id)
        relieve(env, request, capacity, booking_id=d.booking_id, successor=d.successor_booking_id)


@event_type(
    "request.released",
    "request",
    "Release capacity (cancel, or start its return)",
    step=Step.RELEASE,
)
class RequestReleased(Booking):
    note: Text = ""

    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        request, capacity = _pair(work, subject, version, d.capacity_id)
        release(env, request, capacity, booking_id=d.booking_id, note=d.note)


@event_type("request.returned", "request", "Provider: capacity returned home", step=Step.RETURN)
class RequestReturned(Booking):
    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        request, capacity = _pair(work, subject, version, d.capacity_id)
        return_home(env, request, capacity, booking_id=d.booking_id)


@event_type("request.withdrawn", "request", "Withdraw your request", step=Step.WITHDRAW)
class RequestWithdrawn(Data):
    reason: Text

    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        _request(work, subject, version).withdraw(env, d.reason)


@event_type("request.closed", "request", "Close the request", step=Step.CLOSE)
class RequestClosed(Data):
    summary: Text = ""

    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        _request(work, subject, version).close(env, d.summary)


@event_type(
    "request.evaluated", "request", "Evaluate: lessons and action points", step=Step.EVALUATE
)
class RequestEvaluated(Data):
    lessons: Annotated[list[Text], Field(min_length=1, max_length=50)]
    action_points: Annotated[list[Text], Field(max_length=50)] = []

    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        _request(work, subject, version).evaluate(
            env, lessons=tuple(d.lessons), action_points=tuple(d.action_points)
        )


@event_type("request.voided", "request", "Void the latest step, recorded in error", step=Step.VOID)
class RequestVoided(Data):
    target_version: Annotated[int, Field(gt=1)]
    reason: Text

    @classmethod
    def handle(cls, work: Work, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        _request(work, subject, version).correct(env, d.target_version, d.reason)
