"""JSON views of single aggregates, for readers; classified items only for cleared readers."""

from __future__ import annotations

from typing import Any, NamedTuple

from domain import capacity as capacities
from domain import incident as incidents
from domain.capacity import DEPLOYED_STATES, BookingState, Capacity
from domain.envelope import Actor
from domain.incident import Incident
from domain.lifecycle import STEP_STATUSES, LineStep
from domain.request import AssistanceRequest, LineShare, open_steps
from domain.rights import Step
from domain.vocabulary import api_type


def request_view(
    request: AssistanceRequest, org: str | None = None, role: str = ""
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": str(request.id),
        "version": request.version,
        "kind": request.kind.value,
        "legal_basis": request.rule.legal_basis,
        "task": request.task.value,
        "title": request.title,
        "requester": request.requester,
        "authority": None
        if request.authority is None
        else {
            "body": request.authority.body,
            "of": request.authority.of,
            "capacity": request.authority.capacity.value,
        },
        "regions": list(request.regions_concerned()),
        "incident_id": str(request.incident_id) if request.incident_id else None,
        "urgent": request.urgent,
        "phoned_in": request.phoned_in,
        "formalisation_outstanding": request.formalisation_outstanding,
        "status": request.status.value,
        "status_since": request.status_since.isoformat(),
        "submitted_at": request.submitted_at.isoformat() if request.submitted_at else None,
        "outcome": request.outcome.value if request.outcome else None,
        "next_decider": request.next_decider_kind(),
        "forwarded_to": list(request.forwarded_to),
        "copied_to": list(request.copied_to),
        "priority": request.priority,
        # whether its wants count against supply (the domain's rule)
        "demanding": request.demanding,
        "exercise": request.exercise,
        "classification": request.classification.value,
        "lines": [
            {
                "line_id": line.line_id,
                "capability": line.capability,
                "quantity": line.quantity,
                "effect": line.effect,
                "location": line.location,
                "municipality": line.municipality,
                "granted": request.granted.get(line.line_id),
                # what the request still wants of it (open demand: minus what is committed)
                "wanted": request.wanted(line.line_id),
                "committed": request.committed(line.line_id),
                "delivered": request.delivered(line.line_id),
                # dispatched is not arrived: on its way, and on scene (issue 18)
                "en_route": request.at_step(line.line_id, LineStep.DISPATCHED),
                "on_scene": request.at_step(line.line_id, LineStep.ARRIVED),
                "armed": line.armed,
                # who covers what: per provider asked of it, granted, committed, en route,
                # on scene and returned (issue 18)
                "providers": line_providers(request, line.line_id),
            }
            for line in request.lines.values()
        ],
        "shares": [share_view(request, share) for share in request.shares.values()],
        "bookings": [
            {
                "booking_id": str(b.booking_id),
                "line_id": b.line_id,
                "capacity_id": str(b.capacity_id),
                "provider": b.provider,
                "quantity": b.quantity,
                "step": b.step.value,
                "until": b.until.isoformat() if b.until else None,
                "split_from": str(b.split_from) if b.split_from else None,
            }
            for b in request.bookings.values()
        ],
        "decisions": [
            {"decider": d.decider, "outcome": d.outcome.value, "reasons": d.reasons}
            for d in request.decisions
        ],
        # Duties to inform (domain/duties.py): those due and not done (on the board), and
        # those done.
        "duties_outstanding": [
            {
                "duty": duty.code,
                "by": request.duty_owner(duty),
                "to": request.duty_addressee(duty),
                "since": request.duties_due[duty.code].isoformat(),
                "summary": duty.summary,
                "source": duty.source,
            }
            for duty in request.outstanding_duties()
        ],
        "informed": [
            {"duty": duty, "by": by, "to": to, "at": at.isoformat()}
            for duty, (by, to, at) in request.informed.items()
        ],
        "exhaustion_confirmed": request.exhaustion_confirmed,
    }
    if org is not None:
        view["open_steps"] = open_steps(request, org, role)
    return view


def _booked(request: AssistanceRequest, org: str, line_id: str, *steps: LineStep) -> int:
    return sum(
        b.quantity
        for b in request.bookings.values()
        if b.provider == org and b.line_id == line_id and b.step in steps
    )


def _figures(request: AssistanceRequest, org: str, line_id: str) -> dict[str, int]:
    """A provider's figures on a line, from its bookings: en route is dispatched and not yet
    arrived, on scene arrived and not yet released, released let go by the requester and not
    yet back. What it committed is en route + on scene + released + returned + what has not
    moved yet."""
    return {
        "committed": request.committed_by(org, line_id),
        "en_route": _booked(request, org, line_id, LineStep.DISPATCHED),
        "on_scene": _booked(request, org, line_id, LineStep.ARRIVED),
        "released": _booked(request, org, line_id, LineStep.RELEASED),
        "returned": _booked(request, org, line_id, LineStep.RETURNED),
    }


class ShareState(NamedTuple):
    """Where a share is, who acts next on it (None: nobody), and what its provider still has
    to commit."""

    status: str
    next_actor: str | None
    to_commit: int


def share_state(
    request: AssistanceRequest, share: LineShare, figures: dict[str, int]
) -> ShareState:
    """One place for a share's status and next actor, from its grant, what its provider
    committed and moved, and the request's status (domain.md settled questions: each provider
    commits only what it was asked for and granted; en route is dispatched, on scene arrived).

    forwarded: waiting for its decision (its provider, or the kind's advisers and deciders,
    while the request can still be decided); refused; decided: granted, with something still
    to commit (its provider, while the request is approved) or with nothing left to commit on
    the line (nobody); else in deployment, where nobody acts on the share: returned once all
    of it came back, else on_scene while any is, en_route while any is, committed while some
    has not moved, else released."""
    if share.outcome is None:
        if request.status not in STEP_STATUSES[Step.DECIDE]:
            return ShareState("forwarded", None, 0)  # closed, withdrawn, refused, appealed
        if request.providers_decide:
            return ShareState("forwarded", share.to, 0)
        pending = [a for a in request.required_advisers() if a not in request.advice]
        return ShareState("forwarded", ",".join(pending) or request.next_decider_kind(), 0)
    if share.granted <= 0:
        return ShareState("refused", None, 0)
    # granted minus committed (and not cancelled), within what the line still needs
    to_commit = (
        request.commit_room(share.to, share.line_id)
        if request.status in STEP_STATUSES[Step.COMMIT]
        else 0
    )
    if to_commit > 0:
        return ShareState("decided", share.to, to_commit)
    committed = figures["committed"]
    if committed <= 0:
        return ShareState("decided", None, 0)  # others committed what the line needed
    if figures["returned"] >= committed:
        status = "returned"
    elif figures["on_scene"]:
        status = "on_scene"
    elif figures["en_route"]:
        status = "en_route"
    elif committed > figures["released"] + figures["returned"]:
        status = "committed"
    else:
        status = "released"
    return ShareState(status, None, 0)


def share_view(request: AssistanceRequest, share: LineShare) -> dict[str, Any]:
    figures = _figures(request, share.to, share.line_id)
    state = share_state(request, share, figures)
    return {
        "to": share.to,
        "line_id": share.line_id,
        "asked": share.asked,
        "whole_request": share.whole,
        "outcome": share.outcome.value if share.outcome else None,
        "granted": share.granted if share.outcome else None,
        **figures,
        "to_commit": state.to_commit,
        "status": state.status,
        "next_actor": state.next_actor,
    }


def line_providers(request: AssistanceRequest, line_id: str) -> list[dict[str, Any]]:
    """Per provider of a line: how much was asked of it, granted, committed, en route, on
    scene, released, returned and still to commit (a provider booked without a share, before
    shares existed, too)."""
    orgs = [to for (to, of) in request.shares if of == line_id]
    orgs += [b.provider for b in request.bookings.values() if b.line_id == line_id]
    rows = []
    for org in dict.fromkeys(orgs):
        share = request.shares.get((org, line_id))
        figures = _figures(request, org, line_id)
        state = share_state(request, share, figures) if share else None
        rows.append(
            {
                "provider": org,
                "asked": share.asked if share else 0,
                "granted": share.granted if share and share.outcome else 0,
                **figures,
                "to_commit": state.to_commit if state else 0,
                "status": state.status if state else None,
            }
        )
    return rows


def _open_steps(steps: list[tuple[str, str]]) -> list[dict[str, str]]:
    """(command, topic) pairs as the API offers them: the step and the API type to post."""
    return [{"step": step, "type": api_type(topic)} for step, topic in steps]


def incident_view(incident: Incident, org: str | None = None, role: str = "") -> dict[str, Any]:
    """An incident's detail; with ``org``, the steps that organisation (in ``role``) could
    take on it now (``open_steps``, as a request's detail has)."""
    view: dict[str, Any] = {
        "id": str(incident.id),
        "version": incident.version,
        "title": incident.title,
        "regions": list(incident.regions),
        "municipalities": list(incident.municipalities),
        "grip": incident.grip.value,
        "phase": incident.phase.value,
        "latest_report": incident.latest_report,
        "closed": incident.closed,
        "exercise": incident.exercise,
        "classification": incident.classification.value,
    }
    if org is not None:
        view["open_steps"] = _open_steps(incidents.open_steps(incident, Actor(org=org, role=role)))
    return view


def capacity_view(
    capacity: Capacity, top: Capacity | None = None, *, org: str | None = None, role: str = ""
) -> dict[str, Any]:
    """A capacity as one level's steps show it. ``top``: the state of all its steps; what
    steps above this level hold is ``withheld`` (no request, organisation or text), so the
    states still add up to what exists. With ``org``, the steps that organisation (in
    ``role``) could take on it now (``open_steps``)."""
    # What this level's steps hold (never clamped: a hidden recount may have made room for
    # what they committed), what exists as far as they show, and of the rest what is really
    # available; what steps above this level hold is withheld. The states add up to exists.
    held = (
        capacity.unavailable
        + capacity.abroad
        + sum(b.quantity for b in capacity.bookings.values() if b.state is not BookingState.ENDED)
    )
    exists = max(capacity.quantity, held)
    true_available = capacity.available if top is None else top.available
    available = max(0, min(true_available, exists - held))
    withheld = exists - held - available
    view: dict[str, Any] = {
        "id": str(capacity.id),
        "version": capacity.version,
        "provider": capacity.provider,
        "capability": capacity.capability,
        "name": capacity.name,
        "home_region": capacity.home_region,
        "class": capacity.capacity_class.value,
        "notice_minutes": capacity.notice_minutes,
        "exists": exists,
        "available": available,
        "withheld": withheld,
        "made_ready": capacity.held(BookingState.MADE_READY),
        "committed": capacity.held(BookingState.COMMITTED),
        # Dispatched is not arrived (domain.md): on its way, and on scene under the civil
        # authority; ``deployed`` is their sum, kept for existing clients.
        "en_route": capacity.held(BookingState.EN_ROUTE),
        "on_scene": capacity.held(BookingState.ON_SCENE, BookingState.DEPLOYED),
        "deployed": capacity.held(*DEPLOYED_STATES),
        "returning": capacity.held(BookingState.RETURNING),
        "unavailable": capacity.unavailable,
        "abroad": capacity.abroad,
        "exercise": capacity.exercise,
        # Of what its bookings hold, how much an exercise holds: a real capacity used in an
        # exercise is occupied (counted above) and shown as committed to an exercise.
        "for_exercise": sum(
            b.quantity
            for b in capacity.bookings.values()
            if b.for_exercise and b.state is not BookingState.ENDED
        ),
        "classification": capacity.classification.value,
        "bookings": [
            {
                "booking_id": str(b.booking_id),
                "request_id": str(b.request_id),
                "line_id": b.line_id,
                "quantity": b.quantity,
                "state": b.state.value,
                "for_exercise": b.for_exercise,
            }
            for b in capacity.bookings.values()
            if b.state is not BookingState.ENDED
        ],
    }
    if org is not None:
        view["open_steps"] = _open_steps(capacities.open_steps(capacity, Actor(org=org, role=role)))
    return view
