"""For auditors: the event log as JSON Lines, and each subject's timeline with step durations
and the refused attempts alongside."""

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
from api.types import Exercise, Moment
from domain import policy, vocabulary
from domain.capacity import Capacity
from domain.exercise import ExerciseScope, subject_flag
from domain.incident import Incident
from domain.request import AssistanceRequest
from projections.levels import fold

PAGE = 1000

#: Milestones of a request, from its API types (and for bookings, the booking's step).
_MILESTONES = {
    "request.drafted": "drafted",
    "request.phoned_in": "phoned_in",
    "request.submitted": "submitted",
    "request.received": "received",
    "request.assessed": "assessed",
    "request.forwarded": "forwarded",
    "request.decided": "decided",
    "request.formalised": "formalised",
    "request.withdrawn": "withdrawn",
    "request.closed": "closed",
    "request.evaluated": "evaluated",
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
        name = _MILESTONES.get(e.api_type)
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
        if not policy.may_read_audit(caller):
            raise ApiError(
                403, "read_only_for_auditors", "auditors, coordinators and administrators only"
            )

    @routes.get("/v1/history", responses=error_responses(401, 403))
    def history(
        caller: Caller,
        exercise: Exercise,
        after: Annotated[int, Query(ge=0)] = 0,
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
            raise ApiError(
                422,
                "unknown_type",
                "the type filter names no event type; GET /v1/event-types lists them",
            )
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
            return Response(stats_csv(body), media_type="text/csv")
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
        after: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
        item: Annotated[str | None, Query(max_length=64)] = None,
    ) -> list[dict[str, Any]]:
        """Who opened or received which item above ongerubriceerd, when, through which route
        or feed channel (auditors of national organisations; entries within their clearance)."""
        if not policy.may_read_access_log(caller):
            raise ApiError(
                403, "national_auditors_only", "the read-access log is for national auditors"
            )
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


def timeline(
    service: MlobService, cls: type[Any], subject: UUID, caller: Principal
) -> dict[str, Any]:
    """A subject's steps, durations and (for auditors) refused attempts, as far as the policy
    lets the caller see them; 404 if unknown or not visible to the caller."""
    subjects = Subjects(service, caller)
    projection = _PLURAL[cls.__name__]
    if subjects.plainly_hidden(subject, projection) or not isinstance(subjects.state(subject), cls):
        raise ApiError(404, "not_found", f"no {cls.__name__} {subject}")
    # Steps above the reader's clearance are left out (and their content).
    events = [e for e in service.stream_events(subject) if subjects.step_visible(e)]
    entries: list[dict[str, Any]] = []
    previous: datetime | None = None
    bodies = [event_body(e) for e in events]
    subjects.threads(bodies)
    subjects.note(f"GET /v1/{_PLURAL[cls.__name__]}/{{id}}/timeline", events)
    for e, body in zip(events, bodies, strict=True):
        body["seconds_since_previous_step"] = (
            (e.occurred_at - previous).total_seconds() if previous else None
        )
        body["recording_delay_seconds"] = (e.recorded_at - e.occurred_at).total_seconds()
        previous = e.occurred_at
        entries.append(body)
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
        "durations": spans(events) if cls is AssistanceRequest else [],
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

STAT_SPANS = (
    ("submitted", "received"),
    ("received", "assessed"),
    ("assessed", "forwarded"),
    ("forwarded", "decided"),
    ("decided", "committed"),
    ("dispatched", "arrived"),
    ("submitted", "decided"),
    ("submitted", "arrived"),
)


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class _Bucket:
    def __init__(self) -> None:
        self.count = 0
        self.outcomes: dict[str, int] = {}
        self.urgent = 0
        self.spans: dict[str, list[float]] = {}
        self.formalisation: list[float] = []
        self.requested = 0
        self.delivered = 0

    def add(self, request: Any, when: dict[str, datetime]) -> None:
        self.count += 1
        outcome = _outcome(request)
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        self.urgent += bool(request.urgent)
        for start, end in STAT_SPANS:
            if start in when and end in when and when[end] >= when[start]:
                seconds = (when[end] - when[start]).total_seconds()
                self.spans.setdefault(f"{start}->{end}", []).append(seconds)
        if "phoned_in" in when and "formalised" in when:
            self.formalisation.append((when["formalised"] - when["phoned_in"]).total_seconds())
        for line in request.lines.values():
            self.requested += line.quantity
            self.delivered += request.delivered(line.line_id)

    def body(self) -> dict[str, Any]:
        return {
            "requests": self.count,
            "outcomes": dict(sorted(self.outcomes.items())),
            "urgent": self.urgent,
            "normal": self.count - self.urgent,
            "lead_times_seconds": {
                name: {"p50": _percentile(v, 0.5), "p90": _percentile(v, 0.9), "n": len(v)}
                for name, v in sorted(self.spans.items())
            },
            "formalisation_delay_seconds": {
                "p50": _percentile(self.formalisation, 0.5),
                "p90": _percentile(self.formalisation, 0.9),
                "n": len(self.formalisation),
            },
            "quantity_requested": self.requested,
            "quantity_delivered": self.delivered,
        }


def _outcome(request: Any) -> str:
    status = request.status.value
    if status == "withdrawn":
        return "withdrawn"
    if request.outcome is not None:
        return str(request.outcome.value)
    return "refused" if status == "refused" else "open"


def request_stats(
    service: MlobService,
    caller: Principal,
    start: datetime | None,
    end: datetime | None,
    exercise: ExerciseScope = ExerciseScope.REAL,
) -> dict[str, Any]:
    """Per request kind, region and provider: counts, outcomes, lead times p50/p90 per step,
    urgent vs normal, formalisation delays, requested vs delivered; requests per year by kind.
    A request counts in the period in which it was submitted (or phoned in). Whether it is an
    exercise is its own (its creating step's), never a single step's: a step recorded with
    another flag before that was refused still belongs to its request."""
    streams: dict[UUID, list[LoggedEvent]] = {}
    cursor, stop = 0, service.last_position()
    while cursor < stop:
        page = service.logged_events(cursor, PAGE, stop)
        if not page:
            break
        cursor = page[-1].position
        for e in page:
            if vocabulary.subject_of(e.api_type) == "request":
                streams.setdefault(e.stream_id, []).append(e)
    total = _Bucket()
    by_kind: dict[str, _Bucket] = {}
    by_region: dict[str, _Bucket] = {}
    by_provider: dict[str, _Bucket] = {}
    per_year: dict[str, dict[str, int]] = {}
    level = policy.reader_level(caller)
    for events in streams.values():
        if not exercise.admits(subject_flag(e.event for e in events)):
            continue
        leveled = fold([e.event for e in events])
        request = None if leveled is None else leveled.at(level)
        if leveled is None or not isinstance(request, AssistanceRequest):
            continue
        if not policy.may_see_subject(caller, request):
            continue  # the policy decides, as for every read
        seen = [e for e in events if leveled.levels.get(e.version, leveled.subject_level) <= level]
        when = milestones(seen)
        submitted = when.get("submitted")
        if submitted is None or (start and submitted < start) or (end and submitted >= end):
            continue
        total.add(request, when)
        by_kind.setdefault(request.kind.value, _Bucket()).add(request, when)
        for region in request.regions_concerned():
            by_region.setdefault(region, _Bucket()).add(request, when)
        for provider in request.forwarded_to:
            by_provider.setdefault(provider, _Bucket()).add(request, when)
        year = per_year.setdefault(str(submitted.year), {})
        year[request.kind.value] = year.get(request.kind.value, 0) + 1
    return {
        "period": {
            "from": start.isoformat() if start else None,
            "to": end.isoformat() if end else None,
        },
        "total": total.body(),
        "by_kind": {k: b.body() for k, b in sorted(by_kind.items())},
        "by_region": {k: b.body() for k, b in sorted(by_region.items())},
        "by_provider": {k: b.body() for k, b in sorted(by_provider.items())},
        "per_year_by_kind": dict(sorted(per_year.items())),
    }


def stats_csv(stats: dict[str, Any]) -> str:
    """One row per (dimension, key): counts, outcomes, urgency, lead times, quantities."""
    import csv
    import io

    spans = [f"{a}->{b}" for a, b in STAT_SPANS]
    header = [
        "dimension",
        "key",
        "requests",
        "granted",
        "partly_granted",
        "refused",
        "withdrawn",
        "open",
        "urgent",
        "normal",
        "quantity_requested",
        "quantity_delivered",
        "formalisation_p50_s",
        "formalisation_p90_s",
    ]
    header += [f"{s} {q}_s" for s in spans for q in ("p50", "p90")]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    rows = [("total", "all", stats["total"])]
    for dimension in ("by_kind", "by_region", "by_provider"):
        rows += [(dimension[3:], key, body) for key, body in stats[dimension].items()]
    for dimension, key, body in rows:
        outcomes = body["outcomes"]
        line = [dimension, key, body["requests"]]
        line += [
            outcomes.get(o, 0)
            for o in ("granted", "partly_granted", "refused", "withdrawn", "open")
        ]
        line += [
            body["urgent"],
            body["normal"],
            body["quantity_requested"],
            body["quantity_delivered"],
            body["formalisation_delay_seconds"]["p50"],
            body["formalisation_delay_seconds"]["p90"],
        ]
        for span in spans:
            times = body["lead_times_seconds"].get(span, {})
            line += [times.get("p50"), times.get("p90")]
        writer.writerow(["" if v is None else v for v in line])
    return out.getvalue()
