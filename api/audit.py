"""For auditors: the event log as JSON Lines, and each subject's timeline with step durations
and the refused attempts alongside."""

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response, StreamingResponse
from pydantic import AwareDatetime

from api.errors import ApiError, error_responses
from api.ports import LoggedEvent, MlobService, Principal
from api.rendering import dumps, event_body
from domain.capacity import Capacity
from domain.envelope import Classification
from domain.errors import DomainError
from domain.incident import Incident
from domain.request import AssistanceRequest

AUDIT_ROLES = frozenset({"auditor", "admin", "coordinator"})
PAGE = 1000

#: Milestones of a request, from its event types (and for bookings, the booking's step).
_MILESTONES = {
    "mlob:AssistanceRequest.Drafted": "drafted",
    "mlob:AssistanceRequest.PhonedIn": "phoned_in",
    "mlob:AssistanceRequest.Submitted": "submitted",
    "mlob:AssistanceRequest.Received": "received",
    "mlob:AssistanceRequest.Assessed": "assessed",
    "mlob:AssistanceRequest.Forwarded": "forwarded",
    "mlob:AssistanceRequest.Decided": "decided",
    "mlob:AssistanceRequest.Formalised": "formalised",
    "mlob:AssistanceRequest.Withdrawn": "withdrawn",
    "mlob:AssistanceRequest.Closed": "closed",
    "mlob:AssistanceRequest.Evaluated": "evaluated",
}
#: The step durations a timeline reports (from, to): the procedure's own steps.
SPANS = (
    ("submitted", "received"),
    ("received", "assessed"),
    ("assessed", "forwarded"),
    ("forwarded", "decided"),
    ("decided", "committed"),
    ("committed", "dispatched"),
    ("dispatched", "arrived"),
    ("arrived", "released"),
    ("released", "returned"),
    ("phoned_in", "formalised"),
    ("submitted", "decided"),
    ("submitted", "arrived"),
    ("closed", "evaluated"),
)


def milestones(events: list[LoggedEvent]) -> dict[str, datetime]:
    """When each milestone first happened (occurred time); a phoned-in request is submitted
    by the call, and its decision is the last decider's."""
    found: dict[str, datetime] = {}
    for e in events:
        name = _MILESTONES.get(e.event_type)
        booking = getattr(e.event, "booking", None)
        if booking is not None:
            name = getattr(booking.step, "value", None)
        if name is None:
            continue
        if name == "decided":
            found[name] = e.occurred_at  # the final decision counts
            continue
        found.setdefault(name, e.occurred_at)
        if name == "phoned_in":
            found.setdefault("submitted", e.occurred_at)
    return found


def spans(events: list[LoggedEvent]) -> list[dict[str, Any]]:
    when = milestones(events)
    return [
        {
            "from": start,
            "to": end,
            "seconds": (when[end] - when[start]).total_seconds(),
        }
        for start, end in SPANS
        if start in when and end in when and when[end] >= when[start]
    ]


def router(service: MlobService, caller_dependency: Any) -> APIRouter:
    routes = APIRouter(tags=["audit"])
    Caller = Annotated[Principal, Depends(caller_dependency)]

    def require_audit(caller: Principal) -> None:
        if caller.role not in AUDIT_ROLES:
            raise ApiError(
                403, "read_only_for_auditors", "auditors, coordinators and administrators only"
            )

    @routes.get("/v1/history", responses=error_responses(401, 403))
    def history(
        caller: Caller,
        after: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=1_000_000)] = 10_000,
        stream: UUID | None = None,
        type: Annotated[str | None, Query(max_length=100)] = None,
        org: Annotated[str | None, Query(max_length=64)] = None,
        occurred_from: AwareDatetime | None = None,
        occurred_to: AwareDatetime | None = None,
        exercise: bool | None = None,
    ) -> StreamingResponse:
        """The event log with full envelopes, by position, as JSON Lines (one event per
        line); filters by stream, event type, acting organisation, occurred period, exercise.
        Classified events appear only for readers cleared for them."""
        require_audit(caller)
        stop = service.last_position()  # a consistent end for this answer

        def lines() -> Iterator[bytes]:
            cursor, sent = after, 0
            while cursor < stop and sent < limit:
                page = service.logged_events(cursor, PAGE, stop)
                if not page:
                    return
                cursor = page[-1].position
                for e in page:
                    if not _matches(e, caller, stream, type, org, occurred_from, occurred_to):
                        continue
                    if exercise is not None and e.exercise != exercise:
                        continue
                    yield (dumps(event_body(e)) + "\n").encode()
                    sent += 1
                    if sent >= limit:
                        return

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    def timeline(cls: type[Any], subject: UUID, caller: Principal) -> dict[str, Any]:
        try:
            item = service.load(cls, subject)
        except DomainError:
            raise ApiError(404, "not_found", f"no {cls.__name__} {subject}") from None
        if not item.classification.readable_by(caller.clearance):
            raise ApiError(404, "not_found", f"no {cls.__name__} {subject}")
        events = service.stream_events(subject)
        entries: list[dict[str, Any]] = []
        previous: datetime | None = None
        for e in events:
            body = event_body(e)
            body["seconds_since_previous_step"] = (
                (e.occurred_at - previous).total_seconds() if previous else None
            )
            body["recording_delay_seconds"] = (e.recorded_at - e.occurred_at).total_seconds()
            previous = e.occurred_at
            entries.append(body)
        refused: list[dict[str, Any]] = []
        if caller.role in AUDIT_ROLES:
            refused = [
                {**r, "refused": True}
                for r in service.rejections(after=0, limit=10_000, subject=str(subject))
            ]
        return {
            "id": str(subject),
            "kind": cls.__name__,
            "events": entries,
            "durations": spans(events) if cls is AssistanceRequest else [],
            "refused": refused,
        }

    def json(body: dict[str, Any]) -> Response:
        return Response(dumps(body), media_type="application/json")

    @routes.get("/v1/requests/{request_id}/timeline", responses=error_responses(401, 404))
    def request_timeline(request_id: UUID, caller: Caller) -> Any:
        """Every step of a request with actor, authority, occurred and recorded time and
        classification; the duration of each step (received→assessed, forwarded→decided,
        decided→arrived, phoned-in→formalised, ...); refused attempts alongside (auditors)."""
        return json(timeline(AssistanceRequest, request_id, caller))

    @routes.get("/v1/incidents/{incident_id}/timeline", responses=error_responses(401, 404))
    def incident_timeline(incident_id: UUID, caller: Caller) -> Any:
        return json(timeline(Incident, incident_id, caller))

    @routes.get("/v1/capacities/{capacity_id}/timeline", responses=error_responses(401, 404))
    def capacity_timeline(capacity_id: UUID, caller: Caller) -> Any:
        return json(timeline(Capacity, capacity_id, caller))

    return routes


def _matches(
    e: LoggedEvent,
    caller: Principal,
    stream: UUID | None,
    event_type: str | None,
    org: str | None,
    occurred_from: datetime | None,
    occurred_to: datetime | None,
) -> bool:
    if not Classification(e.classification).readable_by(caller.clearance):
        return False
    if stream is not None and e.stream_id != stream:
        return False
    if event_type is not None and e.event_type != event_type:
        return False
    if org is not None and e.actor_org != org:
        return False
    if occurred_from is not None and e.occurred_at < occurred_from:
        return False
    return occurred_to is None or e.occurred_at < occurred_to
