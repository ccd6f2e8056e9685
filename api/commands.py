"""The postable event types: for each, the model that validates its data, the domain step it
asks for and a valid example of its data. ``GET /v1/event-types`` and the OpenAPI document are
generated from these models, their examples included.

The example is given once, to :func:`event_type`, and checked there: a type registered without
one, or with one its own model refuses, fails at import. The tests take their sample data from
these examples, so a new type is covered by them without editing them.

A posted item names a type, a subject and its data; the domain accepts (and records the
event) or refuses with a coded reason. The server, not the client, sets the actor.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from api.types import Moment
from domain.capacity import CapacityClass
from domain.handlers import HANDLERS
from domain.incident import GripLevel, Phase
from domain.kinds import Justification, RequestKind, Task
from domain.lifecycle import STEP_TYPES
from domain.request import Outcome
from domain.rights import Step

Text = Annotated[str, Field(max_length=4000)]
ShortText = Annotated[str, Field(max_length=200)]
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-'. ()]+$")]
#: Strict: ``true`` and ``"3"`` are not quantities.
Quantity = Annotated[int, Field(gt=0, le=1_000_000, strict=True)]


class Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class EventType:
    name: str
    subject: Literal["request", "incident", "capacity"]
    model: type[Data]
    creates: bool
    step: Step | None
    summary: str
    #: A valid ``data`` of this type, as JSON (published in its schema's ``examples``).
    example: Mapping[str, Any]


REGISTRY: dict[str, EventType] = {}

#: The ids the examples name: a capacity (as registered), a booking of it and its successor,
#: and the subject of each kind an example body is posted for (the OpenAPI document's).
EXAMPLE_CAPACITY = "7b0e6f0a-3c1d-4e8f-9a2b-5c6d7e8f9a01"
EXAMPLE_SUBJECTS = {
    "incident": "2f9d8c7b-6a5e-4d3c-8b2a-1f0e9d8c7b04",
    "request": "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c05",
    "capacity": EXAMPLE_CAPACITY,
}
EXAMPLE_BOOKING = "c4a1d2e3-5f60-4718-8a9b-0c1d2e3f4a02"
EXAMPLE_SUCCESSOR = "c4a1d2e3-5f60-4718-8a9b-0c1d2e3f4a03"
_BOOKING = {"capacity_id": EXAMPLE_CAPACITY, "booking_id": EXAMPLE_BOOKING}
_LINE = {
    "line_id": "L1",
    "capability": "FIRE_WATER_SUPPLY",
    "quantity": 2,
    "effect": "pump the flooded polder dry so that the evacuation route stays open",
    "location": "Waalkade, Nijmegen",
    "municipality": "Nijmegen",
}


def _checked(name: str, model: type[Data], example: Mapping[str, Any]) -> dict[str, Any]:
    """The example as JSON, refused unless it is valid data of ``model``."""
    try:
        as_json: dict[str, Any] = json.loads(json.dumps(example))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"the example of {name} is not JSON: {exc}") from exc
    try:
        model.model_validate(as_json)
    except ValidationError as exc:
        raise TypeError(f"the example of {name} is not valid data of it: {exc}") from exc
    return as_json


def event_type(
    name: str,
    subject: Literal["request", "incident", "capacity"],
    summary: str,
    *,
    example: Mapping[str, Any],
    creates: bool = False,
    step: Step | None = None,
) -> Callable[[type[Data]], type[Data]]:
    """Register ``model`` as the data of event type ``name`` (its step: domain/handlers.py),
    with ``example``: valid data of it, as JSON, which its JSON Schema publishes."""

    if step is not None and STEP_TYPES[step] != name:
        # The domain names the API type of each step (open_steps offers it); one name each.
        msg = (
            f"step {step.value} is posted as {STEP_TYPES[step]!r} (domain.lifecycle), not {name!r}"
        )
        raise TypeError(msg)

    def register(model: type[Data]) -> type[Data]:
        checked = _checked(name, model, example)
        if name not in HANDLERS:
            raise LookupError(f"no handler for {name} in domain/handlers.py")
        if name in REGISTRY or any(t.model is model for t in REGISTRY.values()):
            raise TypeError(f"{name}: one type, one model of its own (its schema has the example)")
        # Read when the schema is generated (pydantic's model_config of this class alone).
        model.model_config["json_schema_extra"] = {"examples": [checked]}
        REGISTRY[name] = EventType(name, subject, model, creates, step, summary, checked)
        return model

    return register


# --- incidents -----------------------------------------------------------------------------------


@event_type(
    "incident.opened",
    "incident",
    "Open an incident (*incident*)",
    creates=True,
    example={
        "title": "Flooding of the Waal at Nijmegen",
        "regions": ["VR08"],
        "grip": "2",
        "municipalities": ["Nijmegen"],
        "description": "Dike breach at the Waalkade; the lower town is being evacuated",
    },
)
class IncidentOpened(Data):
    title: ShortText
    regions: Annotated[list[Code], Field(min_length=1, max_length=25)]
    grip: GripLevel
    phase: Phase = Phase.WARM
    municipalities: Annotated[list[ShortText], Field(max_length=100)] = []
    description: Text = ""


@event_type("incident.grip_changed", "incident", "Change the GRIP level", example={"grip": "3"})
class IncidentGripChanged(Data):
    grip: GripLevel


@event_type(
    "incident.phase_changed",
    "incident",
    "Change the phase (koude, lauwe, warme, nafase)",
    example={"phase": "nafase"},
)
class IncidentPhaseChanged(Data):
    phase: Phase


@event_type(
    "incident.regions_changed",
    "incident",
    "Change the regions concerned",
    example={"regions": ["VR08", "VR23"]},
)
class IncidentRegionsChanged(Data):
    regions: Annotated[list[Code], Field(min_length=1, max_length=25)]


@event_type(
    "incident.situation_reported",
    "incident",
    "Report the situation (sitrep)",
    example={"summary": "Water still rising; 2,000 residents evacuated, the A73 closed at Wijchen"},
)
class IncidentSituationReported(Data):
    summary: Text


@event_type(
    "incident.closed",
    "incident",
    "Close the incident",
    example={"reason": "Dike repaired, water receded; aftercare handed to the municipality"},
)
class IncidentClosed(Data):
    reason: Text = ""


@event_type(
    "incident.voided",
    "incident",
    "Void the latest step, recorded in error",
    example={"target_version": 2, "reason": "GRIP change recorded for the wrong incident"},
)
class IncidentVoided(Data):
    target_version: Annotated[int, Field(gt=1)]
    reason: Text


# --- capacities ----------------------------------------------------------------------------------


@event_type(
    "capacity.registered",
    "capacity",
    "Register a capacity of your own",
    creates=True,
    example={
        "capability": "FIRE_WATER_SUPPLY",
        "quantity": 4,
        "name": "High-volume pumps VR07",
        "home_region": "VR07",
        "notice_minutes": 60,
        "capacity_class": "by_agreement",
    },
)
class CapacityRegistered(Data):
    capability: Code
    quantity: Quantity
    name: ShortText = ""
    home_region: Code | None = None
    notice_minutes: Annotated[int, Field(ge=0, le=60 * 24 * 30)] = 60
    capacity_class: CapacityClass = CapacityClass.BEST_EFFORT


@event_type(
    "capacity.availability_changed",
    "capacity",
    "Mark capacity unavailable or abroad",
    example={"unavailable": 1, "abroad": 0, "reason": "one pump in maintenance"},
)
class CapacityAvailabilityChanged(Data):
    unavailable: Annotated[int, Field(ge=0, le=1_000_000)]
    abroad: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    reason: Text = ""


@event_type(
    "capacity.quantity_changed",
    "capacity",
    "Change how much of a capacity exists",
    example={"quantity": 3, "reason": "one pump written off"},
)
class CapacityQuantityChanged(Data):
    quantity: Quantity
    reason: Text = ""


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


Justifications = Annotated[dict[Justification, Text], Field(max_length=10)]


class RequestContent(Data):
    kind: RequestKind
    lines: Annotated[list[Line], Field(min_length=1, max_length=50)]
    title: ShortText = ""
    incident_id: UUID | None = None
    justifications: Justifications = {}
    #: The task it serves: required for msob and jv_asset, else the kind's own (reference).
    task: Task | None = None


@event_type(
    "request.drafted",
    "request",
    "Draft a request for your organisation",
    creates=True,
    step=Step.DRAFT,
    example={
        "kind": "region_art51",
        "title": "Pumps for the Waal flood",
        "lines": [_LINE],
        "urgent": False,
    },
)
class RequestDrafted(RequestContent):
    urgent: bool = False


@event_type(
    "request.phoned_in",
    "request",
    "Hub: record an urgent request phoned in on the requester's behalf",
    creates=True,
    step=Step.PHONE_IN,
    example={
        "kind": "region_art51",
        "requester": "VR08",
        "title": "Pumps for the Waal flood",
        "lines": [_LINE],
    },
)
class RequestPhonedIn(RequestContent):
    requester: Code


@event_type(
    "request.submitted", "request", "Submit the signed request", step=Step.SUBMIT, example={}
)
class RequestSubmitted(Data):
    pass


@event_type(
    "request.formalised",
    "request",
    "Send the signed form of an urgent request",
    step=Step.FORMALISE,
    example={},
)
class RequestFormalised(Data):
    pass


@event_type(
    "request.amended",
    "request",
    "Amend lines or justifications before a decision",
    step=Step.AMEND,
    example={"lines": [{**_LINE, "quantity": 3}], "reason": "the water rose further: a third pump"},
)
class RequestAmended(Data):
    lines: Annotated[list[Line], Field(min_length=1, max_length=50)]
    justifications: Justifications = {}
    reason: Text


@event_type(
    "request.received", "request", "Hub: receive the request", step=Step.RECEIVE, example={}
)
class RequestReceived(Data):
    pass


@event_type(
    "request.exhaustion_confirmed",
    "request",
    "LE Preparatie: police exhausted or specialism missing (art. 58)",
    step=Step.CONFIRM_EXHAUSTION,
    example={"finding": "no police unit has divers for this search; specialism only at Defence"},
)
class RequestExhaustionConfirmed(Data):
    finding: Text


@event_type(
    "request.assessed",
    "request",
    "Hub: assess (forward, or refuse with reasons)",
    step=Step.ASSESS,
    example={
        "forward": True,
        "findings": "necessary and proportionate",
        "alternatives_checked": "no neighbouring region has pumps left",
    },
)
class RequestAssessed(Data):
    forward: bool
    findings: Text
    alternatives_checked: Text = ""


class ShareOf(Data):
    """Part of a line forwarded to one provider."""

    to: Code
    line_id: Annotated[str, Field(min_length=1, max_length=40)]
    quantity: Quantity


@event_type(
    "request.forwarded",
    "request",
    "Hub: forward to provider(s) or decider(s)",
    step=Step.FORWARD,
    example={"to": ["VR07"]},
)
class RequestForwarded(Data):
    #: The whole request to each (at least one recipient here or in ``shares``).
    to: Annotated[list[Code], Field(max_length=30)] = []
    copies: Annotated[list[Code], Field(max_length=30)] = []
    #: Parts of lines to providers: each decides and commits only its own share.
    shares: Annotated[list[ShareOf], Field(max_length=100)] = []


@event_type(
    "request.advised",
    "request",
    "Advise on the request (e.g. DJZ, DOPS; on an appeal, DGPOL advises the Minister)",
    step=Step.ADVISE,
    example={
        "favourable": True,
        "advice": "legal basis art. 51 Wvr applies; feasible within 4 hours",
    },
)
class RequestAdvised(Data):
    favourable: bool
    advice: Text


class Grant(Data):
    line_id: Annotated[str, Field(min_length=1, max_length=40)]
    quantity: Annotated[int, Field(ge=0, le=1_000_000)]


@event_type(
    "request.decided",
    "request",
    "Decide: granted, partly granted or refused",
    step=Step.DECIDE,
    example={"outcome": "granted"},
)
class RequestDecided(Data):
    outcome: Outcome
    reasons: Text = ""
    granted: Annotated[list[Grant], Field(max_length=50)] = []


@event_type(
    "request.priority_decided",
    "request",
    "The Minister of J&V decides priority under scarcity (LOCC records it signed minister_jv)",
    step=Step.DECIDE_PRIORITY,
    example={
        "capability": "FIRE_WATER_SUPPLY",
        "rank": 1,
        "reasons": "GRIP 4 in Gelderland-Zuid: lives at stake",
    },
)
class RequestPriorityDecided(Data):
    capability: Code
    rank: Annotated[int, Field(ge=1, le=1000)]
    reasons: Text


@event_type(
    "request.appealed",
    "request",
    "Appeal a korpschef's refusal (art. 56(4))",
    step=Step.APPEAL,
    example={"grounds": "the riot is spreading and the region has no mobile units left"},
)
class RequestAppealed(Data):
    grounds: Text


@event_type(
    "request.appeal_decided",
    "request",
    "The Minister of J&V decides the appeal (LOCC records it signed minister_jv)",
    step=Step.DECIDE_APPEAL,
    example={"upheld": True, "reasons": "DGPOL advised that the need outweighs the burden"},
)
class RequestAppealDecided(Data):
    upheld: bool
    reasons: Text


class Booking(Data):
    capacity_id: UUID
    booking_id: UUID


class NewBooking(Booking):
    line_id: Annotated[str, Field(min_length=1, max_length=40)]
    quantity: Quantity


@event_type(
    "request.made_ready",
    "request",
    "Provider: make own capacity ready, informally, before approval",
    step=Step.MAKE_READY,
    example={**_BOOKING, "line_id": "L1", "quantity": 1},
)
class RequestMadeReady(NewBooking):
    pass


@event_type(
    "request.committed",
    "request",
    "Provider: commit own capacity to an approved line",
    step=Step.COMMIT,
    example={**_BOOKING, "line_id": "L1", "quantity": 1},
)
class RequestCommitted(NewBooking):
    pass


@event_type(
    "request.dispatched",
    "request",
    "Provider: dispatch committed capacity",
    step=Step.DISPATCH,
    example=_BOOKING,
)
class RequestDispatched(Booking):
    pass


LineId = Annotated[str, Field(min_length=1, max_length=40)]


class BookingOrLine(Data):
    """A booking (``capacity_id``, ``booking_id``; ``quantity``: only that part of it, split
    off as a booking of its own) or, without booking ids, a line and a quantity: the request
    then takes the line's bookings in its documented order (README, *Deployment per line*)."""

    capacity_id: UUID | None = None
    booking_id: UUID | None = None
    line_id: LineId | None = None
    quantity: Quantity | None = None

    @model_validator(mode="after")
    def _booking_or_line(self) -> BookingOrLine:
        by_booking = self.capacity_id is not None or self.booking_id is not None
        if self.line_id is not None:
            if by_booking:
                raise ValueError("name a booking (capacity_id, booking_id) or a line, not both")
            if self.quantity is None:
                raise ValueError("a step per line names the quantity")
        elif self.capacity_id is None or self.booking_id is None:
            raise ValueError("name a booking (capacity_id and booking_id) or a line_id")
        return self


@event_type(
    "request.arrived",
    "request",
    "Arrived on scene; control handed over (a booking, a part of one, or per line)",
    step=Step.ARRIVE,
    example={**_BOOKING, "note": "handed over to the CoPI at the Waalkade"},
)
class RequestArrived(BookingOrLine):
    note: Text = ""


@event_type(
    "request.extended",
    "request",
    "Provider: extend a deployment",
    step=Step.EXTEND,
    example={**_BOOKING, "until": "2030-01-01T12:00:00+01:00", "reason": "water still rising"},
)
class RequestExtended(Booking):
    until: Moment
    reason: Text


@event_type(
    "request.relieved",
    "request",
    "Provider: relieve a deployment by a successor",
    step=Step.RELIEVE,
    example={**_BOOKING, "successor_booking_id": EXAMPLE_SUCCESSOR},
)
class RequestRelieved(Booking):
    successor_booking_id: UUID


@event_type(
    "request.released",
    "request",
    "Release capacity (cancel, or start its return): a booking, a part of one, or per line",
    step=Step.RELEASE,
    example={**_BOOKING, "note": "no longer needed: the polder is dry"},
)
class RequestReleased(BookingOrLine):
    note: Text = ""


@event_type(
    "request.returned",
    "request",
    "Provider: capacity returned home (a booking, a part of one, or per line)",
    step=Step.RETURN,
    example=_BOOKING,
)
class RequestReturned(BookingOrLine):
    pass


@event_type(
    "request.withdrawn",
    "request",
    "Withdraw your request",
    step=Step.WITHDRAW,
    example={"reason": "the fire is out"},
)
class RequestWithdrawn(Data):
    reason: Text


@event_type(
    "request.closed",
    "request",
    "Close the request",
    step=Step.CLOSE,
    example={"summary": "pumps returned; no damage to the equipment"},
)
class RequestClosed(Data):
    summary: Text = ""


@event_type(
    "request.evaluated",
    "request",
    "Evaluate: lessons and action points",
    step=Step.EVALUATE,
    example={
        "lessons": ["ask for pumps earlier"],
        "action_points": ["agree standing pump capacity with VR07"],
    },
)
class RequestEvaluated(Data):
    lessons: Annotated[list[Text], Field(min_length=1, max_length=50)]
    action_points: Annotated[list[Text], Field(max_length=50)] = []


@event_type(
    "request.informed",
    "request",
    "Record a duty to inform that fell due (duty: its code, GET /v1/reference; to: whom)",
    step=Step.INFORM,
    example={"duty": "locc_informs_korpschef", "to": "POL-LE"},
)
class RequestInformed(Data):
    duty: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]
    to: Code


@event_type(
    "request.voided",
    "request",
    "Void the latest step, recorded in error",
    step=Step.VOID,
    example={"target_version": 2, "reason": "submitted for the wrong request"},
)
class RequestVoided(Data):
    target_version: Annotated[int, Field(gt=1)]
    reason: Text
