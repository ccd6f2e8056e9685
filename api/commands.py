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
from pydantic.config import JsonDict

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


def nl(title: str, description: str, choices: str | None = None) -> Any:
    """A field's Dutch label and help text for the desk's generated forms, and ``choices``: the
    reference list its values are drawn from (``x-mlob-choices``; README, *The desk*)."""
    extra: JsonDict | None = {"x-mlob-choices": choices} if choices else None
    return Field(title=title, description=description, json_schema_extra=extra)


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
    title: Annotated[ShortText, nl("Titel", "Korte naam van het incident")]
    regions: Annotated[
        list[Code],
        Field(min_length=1, max_length=25),
        nl("Regio's", "De veiligheidsregio's die het incident raakt", "regions"),
    ]
    grip: Annotated[GripLevel, nl("GRIP-niveau", "Het opschalingsniveau van de regio")]
    phase: Annotated[Phase, nl("Fase", "Koude, lauwe of warme fase, of nafase")] = Phase.WARM
    municipalities: Annotated[
        list[ShortText],
        Field(max_length=100),
        nl("Gemeenten", "De getroffen gemeenten", "municipalities"),
    ] = []
    description: Annotated[Text, nl("Beschrijving", "Wat er aan de hand is")] = ""


@event_type("incident.grip_changed", "incident", "Change the GRIP level", example={"grip": "3"})
class IncidentGripChanged(Data):
    grip: Annotated[GripLevel, nl("GRIP-niveau", "Het nieuwe opschalingsniveau")]


@event_type(
    "incident.phase_changed",
    "incident",
    "Change the phase (koude, lauwe, warme, nafase)",
    example={"phase": "nafase"},
)
class IncidentPhaseChanged(Data):
    phase: Annotated[Phase, nl("Fase", "De nieuwe fase van het incident")]


@event_type(
    "incident.regions_changed",
    "incident",
    "Change the regions concerned",
    example={"regions": ["VR08", "VR23"]},
)
class IncidentRegionsChanged(Data):
    regions: Annotated[
        list[Code],
        Field(min_length=1, max_length=25),
        nl("Regio's", "Alle veiligheidsregio's die het incident nu raakt", "regions"),
    ]


@event_type(
    "incident.situation_reported",
    "incident",
    "Report the situation (sitrep)",
    example={"summary": "Water still rising; 2,000 residents evacuated, the A73 closed at Wijchen"},
)
class IncidentSituationReported(Data):
    summary: Annotated[Text, nl("Situatiebeeld", "Het actuele beeld (sitrap)")]


@event_type(
    "incident.closed",
    "incident",
    "Close the incident",
    example={"reason": "Dike repaired, water receded; aftercare handed to the municipality"},
)
class IncidentClosed(Data):
    reason: Annotated[Text, nl("Reden", "Waarom het incident wordt gesloten")] = ""


@event_type(
    "incident.voided",
    "incident",
    "Void the latest step, recorded in error",
    example={"target_version": 2, "reason": "GRIP change recorded for the wrong incident"},
)
class IncidentVoided(Data):
    target_version: Annotated[
        int,
        Field(gt=1),
        nl("Stap", "De laatste stap, die wordt vernietigd", "latest_version"),
    ]
    reason: Annotated[Text, nl("Reden", "Waarom de stap ten onrechte is vastgelegd")]


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
    capability: Annotated[
        Code, nl("Capaciteit", "Wat u levert, uit de catalogus", "own_capabilities")
    ]
    quantity: Annotated[Quantity, nl("Aantal", "Hoeveel eenheden er zijn")]
    name: Annotated[ShortText, nl("Naam", "Hoe u deze capaciteit noemt")] = ""
    home_region: Annotated[
        Code | None, nl("Thuisregio", "Waar de capaciteit gestationeerd is", "regions")
    ] = None
    notice_minutes: Annotated[
        int,
        Field(ge=0, le=60 * 24 * 30),
        nl("Opkomsttijd (minuten)", "Hoe snel de capaciteit kan vertrekken"),
    ] = 60
    capacity_class: Annotated[
        CapacityClass, nl("Soort afspraak", "Gegarandeerd, volgens afspraak of naar vermogen")
    ] = CapacityClass.BEST_EFFORT


@event_type(
    "capacity.availability_changed",
    "capacity",
    "Mark capacity unavailable or abroad",
    example={"unavailable": 1, "abroad": 0, "reason": "one pump in maintenance"},
)
class CapacityAvailabilityChanged(Data):
    unavailable: Annotated[
        int, Field(ge=0, le=1_000_000), nl("Niet beschikbaar", "Eenheden buiten gebruik")
    ]
    abroad: Annotated[
        int, Field(ge=0, le=1_000_000), nl("In het buitenland", "Eenheden buiten Nederland")
    ] = 0
    reason: Annotated[Text, nl("Reden", "Waarom (onderhoud, buitenland, ...)")] = ""


@event_type(
    "capacity.quantity_changed",
    "capacity",
    "Change how much of a capacity exists",
    example={"quantity": 3, "reason": "one pump written off"},
)
class CapacityQuantityChanged(Data):
    quantity: Annotated[Quantity, nl("Aantal", "Hoeveel eenheden er nu zijn")]
    reason: Annotated[Text, nl("Reden", "Waarom het aantal verandert")] = ""


# --- requests ------------------------------------------------------------------------------------


class Line(Data):
    line_id: Annotated[
        str,
        Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_\-.]+$"),
        nl("Regel", "Het nummer van de regel (L1, L2, ...)", "line_number"),
    ]
    capability: Annotated[
        Code, nl("Capaciteit", "Wat u vraagt, uit de catalogus voor deze soort", "capabilities")
    ]
    quantity: Annotated[Quantity, nl("Aantal", "Hoeveel eenheden")]
    effect: Annotated[Text, nl("Gewenst effect", "Wat de inzet moet bereiken")]
    location: Annotated[ShortText, nl("Plaats", "Waar de capaciteit nodig is")] = ""
    municipality: Annotated[
        ShortText | None, nl("Gemeente", "De gemeente van inzet", "municipalities")
    ] = None
    period_start: Annotated[Moment | None, nl("Vanaf", "Begin van de inzet")] = None
    period_end: Annotated[Moment | None, nl("Tot", "Einde van de inzet")] = None
    armed: Annotated[bool, nl("Bewapend", "Wordt de eenheid bewapend ingezet?")] = False
    automatic_weapons: Annotated[bool, nl("Automatische wapens", "Met automatische wapens?")] = (
        False
    )


Justifications = Annotated[
    dict[Justification, Text],
    Field(max_length=10),
    nl("Motiveringen", "De verklaringen die deze soort aanvraag vraagt"),
]
Lines = Annotated[
    list[Line],
    Field(min_length=1, max_length=50),
    nl("Regels", "Wat u vraagt: per regel een capaciteit uit de catalogus"),
]


class RequestContent(Data):
    kind: Annotated[RequestKind, nl("Soort aanvraag", "De wettelijke grondslag", "request_kinds")]
    lines: Lines
    title: Annotated[ShortText, nl("Titel", "Korte omschrijving van de aanvraag")] = ""
    incident_id: Annotated[
        UUID | None, nl("Incident", "Het incident waarvoor u vraagt", "incidents")
    ] = None
    justifications: Justifications = {}
    #: The task it serves: required for msob and jv_asset, else the kind's own (reference).
    task: Annotated[
        Task | None, nl("Taak", "De taak die de bijstand dient (MSOB, J&V-middel)", "tasks")
    ] = None


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
    urgent: Annotated[bool, nl("Spoed", "Spoedeisend: eerst handelen, later formaliseren")] = False


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
    requester: Annotated[
        Code, nl("Aanvrager", "Namens wie de aanvraag is doorgebeld", "requesters")
    ]


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
    lines: Lines
    justifications: Justifications = {}
    reason: Annotated[Text, nl("Reden", "Waarom de aanvraag wordt gewijzigd")]


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
    finding: Annotated[Text, nl("Bevinding", "Politie uitgeput of specialisme ontbreekt")]


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
    forward: Annotated[bool, nl("Doorzetten", "Aangevinkt: doorzetten; anders afwijzen")]
    findings: Annotated[Text, nl("Bevindingen", "Noodzaak en proportionaliteit, met redenen")]
    alternatives_checked: Annotated[
        Text, nl("Alternatieven", "Welke alternatieven zijn nagegaan")
    ] = ""


class ShareOf(Data):
    """Part of a line forwarded to one provider."""

    to: Annotated[Code, nl("Leverancier", "Wie dit deel levert", "providers")]
    line_id: Annotated[
        str, Field(min_length=1, max_length=40), nl("Regel", "De regel", "request_lines")
    ]
    quantity: Annotated[Quantity, nl("Aantal", "Hoeveel van de regel")]


@event_type(
    "request.forwarded",
    "request",
    "Hub: forward to provider(s) or decider(s)",
    step=Step.FORWARD,
    example={"to": ["VR07"]},
)
class RequestForwarded(Data):
    #: The whole request to each (at least one recipient here or in ``shares``).
    to: Annotated[
        list[Code],
        Field(max_length=30),
        nl("Geheel naar", "Wie de hele aanvraag krijgt", "providers"),
    ] = []
    copies: Annotated[
        list[Code], Field(max_length=30), nl("Afschrift aan", "Ter kennisname", "organisations")
    ] = []
    #: Parts of lines to providers: each decides and commits only its own share.
    shares: Annotated[
        list[ShareOf],
        Field(max_length=100),
        nl("Delen", "Delen van regels naar leveranciers: elk beslist over zijn eigen deel"),
    ] = []


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
    favourable: Annotated[bool, nl("Positief", "Aangevinkt: positief advies")]
    advice: Annotated[Text, nl("Advies", "Het advies met de redenen")]


class Grant(Data):
    line_id: Annotated[
        str, Field(min_length=1, max_length=40), nl("Regel", "De regel", "request_lines")
    ]
    quantity: Annotated[int, Field(ge=0, le=1_000_000), nl("Toegekend aantal", "Hoeveel u toekent")]


@event_type(
    "request.decided",
    "request",
    "Decide: granted, partly granted or refused",
    step=Step.DECIDE,
    example={"outcome": "granted"},
)
class RequestDecided(Data):
    outcome: Annotated[Outcome, nl("Besluit", "Toegekend, deels toegekend of afgewezen")]
    reasons: Annotated[Text, nl("Redenen", "Verplicht bij (deels) afwijzen")] = ""
    granted: Annotated[
        list[Grant],
        Field(max_length=50),
        nl("Toegekend per regel", "Alleen bij deels toekennen"),
    ] = []


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
    capability: Annotated[Code, nl("Capaciteit", "De schaarse capaciteit", "request_capabilities")]
    rank: Annotated[int, Field(ge=1, le=1000), nl("Rang", "1 is de hoogste prioriteit")]
    reasons: Annotated[Text, nl("Redenen", "Waarom deze prioriteit")]


@event_type(
    "request.appealed",
    "request",
    "Appeal a korpschef's refusal (art. 56(4))",
    step=Step.APPEAL,
    example={"grounds": "the riot is spreading and the region has no mobile units left"},
)
class RequestAppealed(Data):
    grounds: Annotated[Text, nl("Gronden", "Waarom u in beroep gaat")]


@event_type(
    "request.appeal_decided",
    "request",
    "The Minister of J&V decides the appeal (LOCC records it signed minister_jv)",
    step=Step.DECIDE_APPEAL,
    example={"upheld": True, "reasons": "DGPOL advised that the need outweighs the burden"},
)
class RequestAppealDecided(Data):
    upheld: Annotated[bool, nl("Gegrond", "Aangevinkt: het beroep is gegrond")]
    reasons: Annotated[Text, nl("Redenen", "De motivering van het besluit")]


BookingCapacity = nl("Capaciteit", "De capaciteit van de gekozen boeking", "booking_capacity")
ChosenBooking = nl("Boeking", "Welke inzet van dit verzoek", "bookings")


class Booking(Data):
    capacity_id: Annotated[UUID, BookingCapacity]
    booking_id: Annotated[UUID, ChosenBooking]


class NewBooking(Data):
    capacity_id: Annotated[
        UUID, nl("Capaciteit", "Uw eigen capaciteit, met wat beschikbaar is", "own_capacities")
    ]
    booking_id: Annotated[UUID, nl("Boeking", "Een nieuwe boeking", "new_id")]
    line_id: Annotated[
        str, Field(min_length=1, max_length=40), nl("Regel", "De regel", "request_lines")
    ]
    quantity: Annotated[Quantity, nl("Aantal", "Hoeveel eenheden")]


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

    capacity_id: Annotated[UUID | None, BookingCapacity] = None
    booking_id: Annotated[UUID | None, ChosenBooking] = None
    line_id: Annotated[LineId | None, nl("Regel", "Of: per regel", "request_lines")] = None
    quantity: Annotated[Quantity | None, nl("Aantal", "Alleen dit deel (verplicht per regel)")] = (
        None
    )

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
    note: Annotated[Text, nl("Toelichting", "Een korte notitie")] = ""


@event_type(
    "request.extended",
    "request",
    "Provider: extend a deployment",
    step=Step.EXTEND,
    example={**_BOOKING, "until": "2030-01-01T12:00:00+01:00", "reason": "water still rising"},
)
class RequestExtended(Booking):
    until: Annotated[Moment, nl("Tot", "De nieuwe einddatum en -tijd")]
    reason: Annotated[Text, nl("Reden", "Waarom de inzet langer duurt")]


@event_type(
    "request.relieved",
    "request",
    "Provider: relieve a deployment by a successor",
    step=Step.RELIEVE,
    example={**_BOOKING, "successor_booking_id": EXAMPLE_SUCCESSOR},
)
class RequestRelieved(Booking):
    successor_booking_id: Annotated[UUID, nl("Aflossing", "De boeking die deze aflost", "bookings")]


@event_type(
    "request.released",
    "request",
    "Release capacity (cancel, or start its return): a booking, a part of one, or per line",
    step=Step.RELEASE,
    example={**_BOOKING, "note": "no longer needed: the polder is dry"},
)
class RequestReleased(BookingOrLine):
    note: Annotated[Text, nl("Toelichting", "Een korte notitie")] = ""


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
    reason: Annotated[Text, nl("Reden", "Waarom u de aanvraag intrekt")]


@event_type(
    "request.closed",
    "request",
    "Close the request",
    step=Step.CLOSE,
    example={"summary": "pumps returned; no damage to the equipment"},
)
class RequestClosed(Data):
    summary: Annotated[Text, nl("Samenvatting", "Hoe de bijstand is afgelopen")] = ""


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
    lessons: Annotated[list[Text], Field(min_length=1, max_length=50), nl("Lessen", "Wat we leren")]
    action_points: Annotated[
        list[Text], Field(max_length=50), nl("Actiepunten", "Wat er moet gebeuren")
    ] = []


@event_type(
    "request.informed",
    "request",
    "Record a duty to inform that fell due (duty: its code, GET /v1/reference; to: whom)",
    step=Step.INFORM,
    example={"duty": "locc_informs_korpschef", "to": "POL-LE"},
)
class RequestInformed(Data):
    duty: Annotated[
        str,
        Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$"),
        nl("Informatieplicht", "De openstaande plicht", "duties"),
    ]
    to: Annotated[Code, nl("Aan", "Wie u informeert", "duty_addressees")]


@event_type(
    "request.voided",
    "request",
    "Void the latest step, recorded in error",
    step=Step.VOID,
    example={"target_version": 2, "reason": "submitted for the wrong request"},
)
class RequestVoided(Data):
    target_version: Annotated[
        int,
        Field(gt=1),
        nl("Stap", "De laatste stap, die wordt vernietigd", "latest_version"),
    ]
    reason: Annotated[Text, nl("Reden", "Waarom de stap ten onrechte is vastgelegd")]
