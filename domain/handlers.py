"""What each postable step does: for every API type, the command methods it calls.

A handler takes the unit of work, the step's envelope, its subject, its validated data (read by
attribute, as the entry point's data model names them) and the version the caller expects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any
from uuid import UUID

from domain import services
from domain.base import MlobAggregate
from domain.capacity import Capacity
from domain.commands import Unit
from domain.envelope import Envelope
from domain.incident import Incident
from domain.request import AssistanceRequest, RequestLine, Share
from domain.request.rules import require_stated_task
from domain.rights import Step

Handler = Callable[[Unit, Envelope, UUID, Any, "int | None"], None]

HANDLERS: dict[str, Handler] = {}

_LINE_FIELDS = tuple(f.name for f in fields(RequestLine))


def handles(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[name] = handler
        return handler

    return register


def lines(posted: Any) -> tuple[RequestLine, ...]:
    return tuple(RequestLine(**{f: getattr(line, f) for f in _LINE_FIELDS}) for line in posted)


def request(unit: Unit, subject: UUID, version: int | None) -> AssistanceRequest:
    found: AssistanceRequest = unit.get(AssistanceRequest, subject, version)
    return found


def pair(unit: Unit, subject: UUID, version: int | None, capacity_id: UUID) -> tuple[Any, Any]:
    return request(unit, subject, version), unit.get(Capacity, capacity_id)


#: The steps that are one command of their subject, called with the envelope and these fields
#: of the step's data, by name: the data model names each field as the command's parameter.
#: The steps that build their arguments have handlers of their own, below.
COMMANDS: dict[str, tuple[type[MlobAggregate], str, tuple[str, ...]]] = {
    "incident.grip_changed": (Incident, "change_grip", ("grip",)),
    "incident.phase_changed": (Incident, "change_phase", ("phase",)),
    "incident.situation_reported": (Incident, "report", ("summary",)),
    "incident.closed": (Incident, "close", ("reason",)),
    "incident.voided": (Incident, "correct", ("target_version", "reason")),
    "capacity.availability_changed": (
        Capacity,
        "change_availability",
        ("unavailable", "abroad", "reason"),
    ),
    "capacity.quantity_changed": (Capacity, "change_quantity", ("quantity", "reason")),
    "request.submitted": (AssistanceRequest, "submit", ()),
    "request.formalised": (AssistanceRequest, "formalise", ()),
    "request.received": (AssistanceRequest, "receive", ()),
    "request.exhaustion_confirmed": (AssistanceRequest, "confirm_exhaustion", ("finding",)),
    "request.assessed": (
        AssistanceRequest,
        "assess",
        ("forward", "findings", "alternatives_checked"),
    ),
    "request.advised": (AssistanceRequest, "advise", ("favourable", "advice")),
    "request.informed": (AssistanceRequest, "inform", ("duty", "to")),
    "request.appealed": (AssistanceRequest, "appeal", ("grounds",)),
    "request.appeal_decided": (AssistanceRequest, "decide_appeal", ("upheld", "reasons")),
    "request.withdrawn": (AssistanceRequest, "withdraw", ("reason",)),
    "request.closed": (AssistanceRequest, "close", ("summary",)),
    "request.voided": (AssistanceRequest, "correct", ("target_version", "reason")),
}


def command(kind: type[MlobAggregate], method: str, names: tuple[str, ...]) -> Handler:
    """The handler of a step in :data:`COMMANDS`."""

    def handle(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        given = {}
        for name in names:  # a loop, not a comprehension: one function less on a post's walk
            given[name] = getattr(d, name)
        getattr(unit.get(kind, subject, version), method)(env, **given)

    return handle


HANDLERS.update({step: command(*called) for step, called in COMMANDS.items()})


# --- incidents -----------------------------------------------------------------------------------


@handles("incident.opened")
def open_incident(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    unit.add(
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


@handles("incident.regions_changed")
def change_regions(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    unit.get(Incident, subject, version).change_regions(env, tuple(d.regions))


# --- capacities ----------------------------------------------------------------------------------


@handles("capacity.registered")
def register(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    unit.add(
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


# --- requests ------------------------------------------------------------------------------------


def stated(d: Any, created: AssistanceRequest) -> AssistanceRequest:
    """A posted request states its task where its kind requires it (MSOB, J&V assets); the
    domain's own checks, rights first, ran in creating it (nothing is added when refused)."""
    require_stated_task(created.rule, d.task)
    return created


def request_fields(d: Any) -> dict[str, Any]:
    """What drafting and phoning in take alike, from the step's data."""
    return {
        "kind": d.kind,
        "lines": lines(d.lines),
        "title": d.title,
        "incident_id": d.incident_id,
        "justifications": tuple(d.justifications.items()),
        "task": d.task,
    }


@handles("request.drafted")
def draft(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    created = AssistanceRequest.draft(env, subject, urgent=d.urgent, **request_fields(d))
    unit.add(stated(d, created))


@handles("request.phoned_in")
def phone_in(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    created = AssistanceRequest.phone_in(env, subject, requester=d.requester, **request_fields(d))
    unit.add(stated(d, created))


@handles("request.amended")
def amend(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    request(unit, subject, version).amend(
        env,
        lines=lines(d.lines),
        justifications=tuple(d.justifications.items()),
        reason=d.reason,
    )


@handles("request.forwarded")
def forward(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    shares = tuple(Share(s.to, s.line_id, s.quantity) for s in getattr(d, "shares", ()))
    request(unit, subject, version).forward(env, tuple(d.to), tuple(d.copies), shares)


@handles("request.decided")
def decide(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    request(unit, subject, version).decide(
        env,
        outcome=d.outcome,
        reasons=d.reasons,
        granted=tuple((g.line_id, g.quantity) for g in d.granted),
    )


@handles("request.priority_decided")
def decide_priority(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    request(unit, subject, version).decide_priority(
        env, capability_code=d.capability, rank=d.rank, reasons=d.reasons
    )


def per_line(
    unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None, step: Step
) -> bool:
    """A step posted per line (``{line_id, quantity}``, no booking ids): the request chooses
    the bookings among those the poster sees (domain.services.move_line). False when the
    step names its booking."""
    if getattr(d, "line_id", None) is None:
        return False
    req = request(unit, subject, version)
    seen = unit.peek_at(subject, unit.reader_level)
    services.move_line(
        env,
        req,
        lambda capacity_id: unit.get(Capacity, capacity_id),
        step,
        line_id=d.line_id,
        quantity=d.quantity,
        note=getattr(d, "note", ""),
        visible=set(seen.bookings) if seen is not None else set(),
    )
    return True


#: The steps on a booking that move a request and a capacity together (domain/services.py),
#: with the fields of the step's data they take, by name; a step with a line step here may be
#: posted per line instead, without booking ids (:func:`per_line`).
BOOKING_STEPS: dict[str, tuple[Callable[..., None], Step | None, tuple[str, ...]]] = {
    "request.made_ready": (services.make_ready, None, ("line_id", "quantity", "booking_id")),
    "request.committed": (services.commit, None, ("line_id", "quantity", "booking_id")),
    "request.dispatched": (services.dispatch, None, ("booking_id",)),
    "request.arrived": (services.arrive, Step.ARRIVE, ("booking_id", "note", "quantity")),
    "request.extended": (services.extend, None, ("booking_id", "until", "reason")),
    "request.released": (services.release, Step.RELEASE, ("booking_id", "note", "quantity")),
    "request.returned": (services.return_home, Step.RETURN, ("booking_id", "quantity")),
}


def booking_step(
    service: Callable[..., None], line_step: Step | None, names: tuple[str, ...]
) -> Handler:
    """The handler of a step in :data:`BOOKING_STEPS`."""

    def handle(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
        if line_step is not None and per_line(unit, env, subject, d, version, line_step):
            return
        req, capacity = pair(unit, subject, version, d.capacity_id)
        given = {}
        for name in names:
            given[name] = getattr(d, name)
        service(env, req, capacity, **given)

    return handle


HANDLERS.update({step: booking_step(*taken) for step, taken in BOOKING_STEPS.items()})


@handles("request.relieved")
def relieved(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    req, capacity = pair(unit, subject, version, d.capacity_id)
    services.relieve(env, req, capacity, booking_id=d.booking_id, successor=d.successor_booking_id)


@handles("request.evaluated")
def evaluate(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    request(unit, subject, version).evaluate(
        env, lessons=tuple(d.lessons), action_points=tuple(d.action_points)
    )
