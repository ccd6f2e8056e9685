"""For auditors: the event log as JSON Lines, each subject's timeline with step durations and
the refused attempts alongside, and the statistics; what they compute is projections/timelines.py
and projections/stats.py, this module reads, asks the policy and answers."""

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response, StreamingResponse

from api.access import Subjects
from api.errors import ApiError, error_responses
from api.ports import LoggedEvent, MlobService, Principal
from api.rendering import dumps, event_body
from api.types import After, Exercise, Moment
from domain import policy, vocabulary
from domain.capacity import Capacity
from domain.exercise import ExerciseScope
from domain.incident import Incident
from domain.request import AssistanceRequest
from projections import stats as statistics
from projections import timelines

PAGE = 1000


def router(service: MlobService, caller_dependency: Any) -> APIRouter:
    routes = APIRouter(tags=["audit"])
    Caller = Annotated[Principal, Depends(caller_dependency)]

    def require_audit(caller: Principal) -> None:
        if not policy.may_read_audit(caller):
            raise ApiError(403, "read_only_for_auditors")

    @routes.get("/v1/history", responses=error_responses(401, 403))
    def history(
        caller: Caller,
        exercise: Exercise,
        after: After = 0,
        limit: Annotated[int, Query(ge=1, le=1_000_000)] = 10_000,
        stream: UUID | None = None,
        type: Annotated[
            str | None, Query(max_length=100, description="an API type (GET /v1/event-types)")
        ] = None,
        org: Annotated[str | None, Query(max_length=64)] = None,
        occurred_from: Moment | None = None,
        occurred_to: Moment | None = None,
    ) -> StreamingResponse:
        """The event log with full envelopes, by position, as JSON Lines (one event per
        line); filters by stream, event type, acting organisation, occurred period, exercise
        (each step by its own flag: the same as its subject's, but for a store written before
        that was enforced, where a step shows as it was recorded).
        Classified events appear only for readers cleared for them."""
        require_audit(caller)
        if type is not None and type not in vocabulary.TYPES:
            # A filter that can match nothing is a mistake, not an empty history; the reason
            # does not repeat what was sent (it may be a stored topic).
            raise ApiError(422, "unknown_type")
        stop = service.last_position()  # a consistent end for this answer
        subjects = Subjects(service, caller)

        def lines() -> Iterator[bytes]:
            cursor, sent = after, 0
            while cursor < stop and sent < limit:
                page = service.logged_events(cursor, PAGE, stop)
                if not page:
                    return
                cursor = page[-1].position
                shown = [
                    e
                    for e in page
                    if _matches(e, stream, type, org, occurred_from, occurred_to)
                    and subjects.step_visible(e)
                    and exercise.admits(e.exercise)
                ][: limit - sent]
                bodies = [event_body(e) for e in shown]
                subjects.threads(bodies)
                subjects.note("GET /v1/history", shown)
                for body in bodies:
                    yield (dumps(body) + "\n").encode()
                sent += len(bodies)
                if sent >= limit:
                    return

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    def json(body: dict[str, Any]) -> Response:
        return Response(dumps(body), media_type="application/json")

    @routes.get("/v1/stats", responses=error_responses(401, 403))
    def stats(
        caller: Caller,
        exercise: Exercise,
        start: Annotated[Moment | None, Query(alias="from")] = None,
        end: Annotated[Moment | None, Query(alias="to")] = None,
        format: Literal["json", "csv"] = "json",
    ) -> Response:
        """Per request kind, region and provider over a period (by submission): counts,
        outcomes (granted, partly granted, refused, withdrawn, open), lead times p50/p90 per
        step, urgent vs normal, formalisation delays, requested vs delivered, requests per year
        by kind. Real requests only unless ``exercise=`` asks otherwise. JSON or CSV."""
        require_audit(caller)
        body = request_stats(service, caller, start, end, exercise)
        if format == "csv":
            return Response(statistics.stats_csv(body), media_type="text/csv")
        return json(body)

    @routes.get("/v1/requests/{request_id}/timeline", responses=error_responses(401, 404))
    def request_timeline(request_id: UUID, caller: Caller) -> Any:
        """Every step of a request with actor, authority, occurred and recorded time and
        classification; the duration of each step (received→assessed, forwarded→decided,
        decided→arrived, phoned-in→formalised, ...); refused attempts alongside (auditors)."""
        return json(timeline(service, AssistanceRequest, request_id, caller))

    @routes.get("/v1/incidents/{incident_id}/timeline", responses=error_responses(401, 404))
    def incident_timeline(incident_id: UUID, caller: Caller) -> Any:
        return json(timeline(service, Incident, incident_id, caller))

    @routes.get("/v1/capacities/{capacity_id}/timeline", responses=error_responses(401, 404))
    def capacity_timeline(capacity_id: UUID, caller: Caller) -> Any:
        return json(timeline(service, Capacity, capacity_id, caller))

    @routes.get("/v1/access-log", responses=error_responses(401, 403))
    def access_log(
        caller: Caller,
        after: After = 0,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
        item: Annotated[str | None, Query(max_length=64)] = None,
    ) -> list[dict[str, Any]]:
        """Who opened or received which item above ongerubriceerd, when, through which route
        or feed channel (auditors of national organisations; entries within their clearance)."""
        if not policy.may_read_access_log(caller):
            raise ApiError(403, "national_auditors_only")
        return [
            _named(e)
            for e in service.access_log(after=after, limit=limit, item=item)
            if policy.cleared(caller, e["classification"])
        ]

    return routes


#: How entries logged before issue 17 name a step: by its stored topic.
_STEP_BY_TOPIC = "step mlob:"


def _named(entry: dict[str, Any]) -> dict[str, Any]:
    """An access-log entry that names a step by its API type. Entries logged before issue 17
    named the stored topic; they are named by the API types stored under it (a booking topic
    names several, joined by " or ": the entry did not keep which step it was)."""
    kind = str(entry.get("kind") or "")
    if not kind.startswith(_STEP_BY_TOPIC):
        return entry
    names = vocabulary.types_of_topic(kind.removeprefix("step "))
    return {**entry, "kind": "step " + (" or ".join(names) or "unknown")}


_PLURAL = {"AssistanceRequest": "requests", "Incident": "incidents", "Capacity": "capacities"}


def visible_steps(
    service: MlobService, cls: type[Any], subject: UUID, caller: Principal, route: str
) -> tuple[Subjects, list[LoggedEvent]]:
    """A subject's steps the caller may see, in order (noted in the read-access log as read
    through ``GET /v1/<subjects>/{id}/<route>``); 404 if unknown or not visible to the caller:
    the one question the timeline and the EDXL export (api/edxl/routes.py) ask."""
    subjects = Subjects(service, caller)
    projection = _PLURAL[cls.__name__]
    if subjects.plainly_hidden(subject, projection) or not isinstance(subjects.state(subject), cls):
        raise ApiError(404, "not_found", subject_kind=cls.__name__, subject=subject)
    # Steps above the reader's clearance are left out (and their content).
    events = [e for e in service.stream_events(subject) if subjects.step_visible(e)]
    subjects.note(f"GET /v1/{projection}/{{id}}/{route}", events)
    return subjects, events


def timeline(
    service: MlobService, cls: type[Any], subject: UUID, caller: Principal
) -> dict[str, Any]:
    """A subject's steps, durations and (for auditors) refused attempts, as far as the policy
    lets the caller see them; 404 if unknown or not visible to the caller."""
    subjects, events = visible_steps(service, cls, subject, caller, "timeline")
    bodies = [event_body(e) for e in events]
    subjects.threads(bodies)
    entries = [
        {**body, **times} for body, times in zip(bodies, timelines.step_times(events), strict=True)
    ]
    refused: list[dict[str, Any]] = []
    if policy.may_read_rejections(caller):
        refused = [
            {**r, "refused": True}
            for r in service.rejections(after=0, limit=10_000, subject=str(subject))
            if subjects.rejection_visible(r)
        ]
    return {
        "id": str(subject),
        "kind": cls.__name__,
        "events": entries,
        "durations": timelines.spans(events) if cls is AssistanceRequest else [],
        "refused": refused,
    }


def _matches(
    e: LoggedEvent,
    stream: UUID | None,
    event_type: str | None,
    org: str | None,
    occurred_from: datetime | None,
    occurred_to: datetime | None,
) -> bool:
    if stream is not None and e.stream_id != stream:
        return False
    if event_type is not None and e.api_type != event_type:
        return False
    if org is not None and e.actor_org != org:
        return False
    if occurred_from is not None and e.occurred_at < occurred_from:
        return False
    return occurred_to is None or e.occurred_at < occurred_to


# --- statistics ------------------------------------------------------------------------------


def request_stats(
    service: MlobService,
    caller: Principal,
    start: datetime | None,
    end: datetime | None,
    exercise: ExerciseScope = ExerciseScope.REAL,
) -> dict[str, Any]:
    """The statistics over the requests (projections/stats.py) from every recorded event."""
    return statistics.request_stats(_every_event(service), caller, start, end, exercise)


def _every_event(service: MlobService) -> Iterator[LoggedEvent]:
    cursor, stop = 0, service.last_position()
    while cursor < stop:
        page = service.logged_events(cursor, PAGE, stop)
        if not page:
            break
        cursor = page[-1].position
        yield from page
