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


@handles("incident.grip_changed")
def change_grip(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    unit.get(Incident, subject, version).change_grip(env, d.grip)


@handles("incident.phase_changed")
def change_phase(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    unit.get(Incident, subject, version).change_phase(env, d.phase)


@handles("incident.regions_changed")
def change_regions(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    unit.get(Incident, subject, version).change_regions(env, tuple(d.regions))


@handles("incident.situation_reported")
def report(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    unit.get(Incident, subject, version).report(env, d.summary)


@handles("incident.closed")
def close_incident(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    unit.get(Incident, subject, version).close(env, d.reason)


@handles("incident.voided")
def void_incident(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    unit.get(Incident, subject, version).correct(env, d.target_version, d.reason)


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


@handles("capacity.availability_changed")
def change_availability(
    unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None
) -> None:
    unit.get(Capacity, subject, version).change_availability(env, d.unavailable, d.abroad, d.reason)


@handles("capacity.quantity_changed")
def change_quantity(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    unit.get(Capacity, subject, version).change_quantity(env, d.quantity, d.reason)


# --- requests ------------------------------------------------------------------------------------


def stated(d: Any, created: AssistanceRequest) -> AssistanceRequest:
    """A posted request states its task where its kind requires it (MSOB, J&V assets); the
    domain's own checks, rights first, ran in creating it (nothing is added when refused)."""
    require_stated_task(created.rule, d.task)
    return created


@handles("request.drafted")
def draft(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    created = AssistanceRequest.draft(
        env,
        subject,
        kind=d.kind,
        lines=lines(d.lines),
        title=d.title,
        urgent=d.urgent,
        incident_id=d.incident_id,
        justifications=tuple(d.justifications.items()),
        task=d.task,
    )
    unit.add(stated(d, created))


@handles("request.phoned_in")
def phone_in(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    created = AssistanceRequest.phone_in(
        env,
        subject,
        kind=d.kind,
        requester=d.requester,
        lines=lines(d.lines),
        title=d.title,
        incident_id=d.incident_id,
        justifications=tuple(d.justifications.items()),
        task=d.task,
    )
    unit.add(stated(d, created))


@handles("request.submitted")
def submit(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    request(unit, subject, version).submit(env)


@handles("request.formalised")
def formalise(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    request(unit, subject, version).formalise(env)


@handles("request.amended")
def amend(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    request(unit, subject, version).amend(
        env,
        lines=lines(d.lines),
        justifications=tuple(d.justifications.items()),
        reason=d.reason,
    )


@handles("request.received")
def receive(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    request(unit, subject, version).receive(env)


@handles("request.exhaustion_confirmed")
def confirm_exhaustion(
    unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None
) -> None:
    request(unit, subject, version).confirm_exhaustion(env, d.finding)


@handles("request.assessed")
def assess(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    request(unit, subject, version).assess(
        env, forward=d.forward, findings=d.findings, alternatives_checked=d.alternatives_checked
    )


@handles("request.forwarded")
def forward(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    shares = tuple(Share(s.to, s.line_id, s.quantity) for s in getattr(d, "shares", ()))
    request(unit, subject, version).forward(env, tuple(d.to), tuple(d.copies), shares)


@handles("request.advised")
def advise(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    request(unit, subject, version).advise(env, favourable=d.favourable, advice=d.advice)


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


@handles("request.informed")
def inform(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    request(unit, subject, version).inform(env, duty=d.duty, to=d.to)


@handles("request.appealed")
def appeal(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    request(unit, subject, version).appeal(env, d.grounds)


@handles("request.appeal_decided")
def decide_appeal(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    request(unit, subject, version).decide_appeal(env, upheld=d.upheld, reasons=d.reasons)


@handles("request.made_ready")
def ready(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    req, capacity = pair(unit, subject, version, d.capacity_id)
    services.make_ready(
        env, req, capacity, line_id=d.line_id, quantity=d.quantity, booking_id=d.booking_id
    )


@handles("request.committed")
def committed(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    req, capacity = pair(unit, subject, version, d.capacity_id)
    services.commit(
        env, req, capacity, line_id=d.line_id, quantity=d.quantity, booking_id=d.booking_id
    )


@handles("request.dispatched")
def dispatched(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    req, capacity = pair(unit, subject, version, d.capacity_id)
    services.dispatch(env, req, capacity, booking_id=d.booking_id)


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


@handles("request.arrived")
def arrived(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    if per_line(unit, env, subject, d, version, Step.ARRIVE):
        return
    req, capacity = pair(unit, subject, version, d.capacity_id)
    services.arrive(env, req, capacity, booking_id=d.booking_id, note=d.note, quantity=d.quantity)


@handles("request.extended")
def extended(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    req, capacity = pair(unit, subject, version, d.capacity_id)
    services.extend(env, req, capacity, booking_id=d.booking_id, until=d.until, reason=d.reason)


@handles("request.relieved")
def relieved(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    req, capacity = pair(unit, subject, version, d.capacity_id)
    services.relieve(env, req, capacity, booking_id=d.booking_id, successor=d.successor_booking_id)


@handles("request.released")
def released(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    if per_line(unit, env, subject, d, version, Step.RELEASE):
        return
    req, capacity = pair(unit, subject, version, d.capacity_id)
    services.release(env, req, capacity, booking_id=d.booking_id, note=d.note, quantity=d.quantity)


@handles("request.returned")
def returned(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    if per_line(unit, env, subject, d, version, Step.RETURN):
        return
    req, capacity = pair(unit, subject, version, d.capacity_id)
    services.return_home(env, req, capacity, booking_id=d.booking_id, quantity=d.quantity)


@handles("request.withdrawn")
def withdraw(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    request(unit, subject, version).withdraw(env, d.reason)


@handles("request.closed")
def close_request(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    request(unit, subject, version).close(env, d.summary)


@handles("request.evaluated")
def evaluate(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    request(unit, subject, version).evaluate(
        env, lessons=tuple(d.lessons), action_points=tuple(d.action_points)
    )


@handles("request.voided")
def void_request(unit: Unit, env: Envelope, subject: UUID, d: Any, version: int | None) -> None:
    request(unit, subject, version).correct(env, d.target_version, d.reason)
