"""For auditors: each subject's timeline (in pages) with step durations and the refused attempts
alongside, the rejection and read-access logs in pages, and the statistics (the event log
itself: api/history.py); what they compute is projections/timelines.py
and projections/stats.py, this module reads, asks the policy and answers."""

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from api import paging
from api.access import Subjects
from api.errors import ApiError, error_responses
from api.ports import LoggedEvent, MlobService, Principal
from api.rendering import dumps, event_body
from api.types import MAX_POSITION, After, Exercise, Moment
from domain import policy, vocabulary
from domain.capacity import Capacity
from domain.exercise import ExerciseScope
from domain.incident import Incident
from domain.request import AssistanceRequest
from projections import stats as statistics
from projections import timelines

PAGE = 1000
#: A timeline page holds this many steps unless ``limit=`` says otherwise.
DEFAULT = paging.DEFAULT_LIMIT


def router(service: MlobService, caller_dependency: Any) -> APIRouter:
    routes = APIRouter(tags=["audit"])
    Caller = Annotated[Principal, Depends(caller_dependency)]

    def require_audit(caller: Principal) -> None:
        if not policy.may_read_audit(caller):
            raise ApiError(403, "read_only_for_auditors", roles=sorted(policy.AUDIT_ROLES))

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

    timeline_errors = error_responses(400, 401, 404)

    def timeline_route(cls: type[Any], id_name: str, doc: str | None = None) -> None:
        """``GET /v1/<subjects>/{<id_name>}/timeline``, the same for each kind of subject."""

        def subject_timeline(
            subject: Annotated[UUID, Path(alias=id_name)],
            caller: Caller,
            cursor: paging.Cursor = None,
            limit: paging.Limit = DEFAULT,
        ) -> Any:
            return json(timeline(service, cls, subject, caller, cursor, limit))

        subject_timeline.__doc__ = doc  # the endpoint's description in the OpenAPI document
        path = f"/v1/{_PLURAL[cls.__name__]}/{{{id_name}}}/timeline"
        name = f"{_KIND[cls]}_timeline"
        routes.get(path, responses=timeline_errors, name=name)(subject_timeline)

    timeline_route(
        AssistanceRequest,
        "request_id",
        """The steps of a request with actor, authority, occurred and recorded time and
        classification, in pages (``events``, ``next``); the duration of each step
        (received→assessed, forwarded→decided, decided→arrived, phoned-in→formalised, ...)
        over the whole timeline; the first refused attempts alongside (auditors).""",
    )
    timeline_route(Incident, "incident_id")
    timeline_route(Capacity, "capacity_id")

    @routes.get("/v1/access-log", responses=error_responses(400, 401, 403))
    def access_log(
        caller: Caller,
        after: After = 0,
        item: Annotated[str | None, Query(max_length=64)] = None,
        cursor: paging.Cursor = None,
        limit: paging.Limit = paging.DEFAULT_LIMIT,
    ) -> dict[str, Any]:
        """Who opened or received which item above ongerubriceerd, when, through which route
        or feed channel (auditors of national organisations; entries within their clearance),
        oldest first, in pages (``after``: those logged after this number)."""
        if not policy.may_read_access_log(caller):
            raise ApiError(403, "national_auditors_only")
        return log_page(
            "access-log",
            {"after": after, "item": item},
            lambda seen, n: service.access_log(after=seen, limit=n, item=item),
            lambda entry: policy.cleared(caller, entry["classification"]),
            cursor,
            limit,
            shown=_named,
        )

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


#: The kind of subject of each class, as the vocabulary names it.
_KIND: dict[type[Any], str] = {
    AssistanceRequest: "request",
    Incident: "incident",
    Capacity: "capacity",
}
#: A subject's steps read at most (its index rows: nothing decoded).
STREAM_MAX = 100_000
#: The rejection log is read in batches of this many, at most this many batches a page.
REJECTION_BATCH = 500
REJECTION_BATCHES = 10
#: A timeline carries at most this many refused attempts (``refused_next`` pages on through
#: ``GET /v1/rejections?subject=``).
REFUSED_MAX = paging.MAX_LIMIT


def _opened(service: MlobService, cls: type[Any], subject: UUID, caller: Principal) -> Subjects:
    """The reader's :class:`Subjects`, once the subject is known to be one the caller may
    see (404 as for an unknown id otherwise)."""
    subjects = Subjects(service, caller)
    projection = _PLURAL[cls.__name__]
    if subjects.plainly_hidden(subject, projection) or not isinstance(subjects.state(subject), cls):
        raise ApiError(404, "not_found", subject_kind=cls.__name__, subject=subject)
    return subjects


def visible_steps(
    service: MlobService, cls: type[Any], subject: UUID, caller: Principal, route: str
) -> tuple[Subjects, list[LoggedEvent]]:
    """A subject's steps the caller may see, in order (noted in the read-access log as read
    through ``GET /v1/<subjects>/{id}/<route>``); 404 if unknown or not visible to the caller:
    the question the EDXL export (api/edxl/routes.py) asks, and the timeline page by page."""
    subjects = _opened(service, cls, subject, caller)
    # Steps above the reader's clearance are left out (and their content).
    events = [e for e in service.stream_events(subject) if subjects.step_visible(e)]
    subjects.note(f"GET /v1/{_PLURAL[cls.__name__]}/{{id}}/{route}", events)
    return subjects, events


def timeline(
    service: MlobService,
    cls: type[Any],
    subject: UUID,
    caller: Principal,
    cursor: str | None = None,
    limit: int = paging.DEFAULT_LIMIT,
) -> dict[str, Any]:
    """A page of a subject's steps (``events``, ``next``), the durations of its steps over
    the whole timeline and (for auditors) the first refused attempts, as far as the policy
    lets the caller see them; 404 if unknown or not visible to the caller. The steps are read
    from the event index; only the page's steps and the milestones the durations need are
    decoded."""
    subjects = _opened(service, cls, subject, caller)
    kind = _KIND[cls]
    rows = [
        r
        for r in service.index_page(0, MAX_POSITION, STREAM_MAX, stream_id=subject)
        if subjects.visible_as(r, kind)
    ]
    filters = {"id": str(subject)}
    after = paging.decode_offset(cursor, "timeline", filters) or 0  # a version
    times = timelines.step_times(rows)  # from the index's times: the whole timeline
    chosen = [n for n, r in enumerate(rows) if r.version > after][: paging.clamp(limit)]
    events = service.logged_at([rows[n].position for n in chosen])
    bodies = [event_body(e) for e in events]
    subjects.threads(bodies)
    subjects.note(f"GET /v1/{_PLURAL[cls.__name__]}/{{id}}/timeline", events)
    entries = [{**body, **times[n]} for body, n in zip(bodies, chosen, strict=True)]
    last = rows[chosen[-1]] if chosen else None
    following = (str(last.version), "") if last is not None and last is not rows[-1] else None
    refused, refused_next = _refused(service, subjects, subject)
    return {
        "id": str(subject),
        "kind": cls.__name__,
        "events": entries,
        "next": paging.encode("timeline", filters, following) if following else None,
        "durations": _durations(service, rows, events) if cls is AssistanceRequest else [],
        "refused": refused,
        "refused_next": refused_next,
    }


def _durations(
    service: MlobService, rows: list[LoggedEvent], decoded: list[LoggedEvent]
) -> list[dict[str, Any]]:
    """The step durations over the whole (visible) timeline: only its milestones decoded,
    those of the page not again."""
    have = {e.position: e for e in decoded}
    wanted = [r.position for r in rows if r.event_type in timelines.MILESTONE_TOPICS]
    have.update((e.position, e) for e in service.logged_at([p for p in wanted if p not in have]))
    return timelines.spans([have[p] for p in wanted])


def _refused(
    service: MlobService, subjects: Subjects, subject: UUID
) -> tuple[list[dict[str, Any]], str | None]:
    """The first refused attempts on a subject the reader may see (auditors), and the cursor
    of ``GET /v1/rejections?subject=`` for the rest (None: none)."""
    if not policy.may_read_rejections(subjects.reader):
        return [], None
    page = rejection_page(
        service, subjects, after=0, cursor=None, limit=REFUSED_MAX, subject=subject
    )
    return [{**r, "refused": True} for r in page["items"]], page["next"]


def rejection_page(
    service: MlobService,
    subjects: Subjects,
    *,
    after: int,
    cursor: str | None,
    limit: int,
    subject: UUID | None = None,
) -> dict[str, Any]:
    """A page of the rejection log the reader may see, oldest first: those logged after
    ``after`` (and on ``subject``), from where ``cursor`` says."""
    filters: dict[str, Any] = {"after": after}
    if subject is not None:
        filters["subject"] = str(subject)
    named = str(subject) if subject is not None else None
    return log_page(
        "rejections",
        filters,
        lambda seen, n: service.rejections(after=seen, limit=n, subject=named),
        subjects.rejection_visible,
        cursor,
        limit,
    )


def log_page(
    name: str,
    filters: dict[str, Any],
    read: Callable[[int, int], list[dict[str, Any]]],
    visible: Callable[[dict[str, Any]], bool],
    cursor: str | None,
    limit: int,
    shown: Callable[[dict[str, Any]], dict[str, Any]] = lambda entry: entry,
) -> dict[str, Any]:
    """A page of a log (the rejection log, the read-access log) the reader may see, oldest
    first: ``read(after, n)`` gives the next ``n`` entries logged after number ``after`` (from
    ``filters["after"]``, or where ``cursor`` says), ``visible`` says which the reader sees.
    Read in batches until the page is full or the log ends; a reader who sees few of them
    gets a shorter page (a cursor still, until the end) rather than a long scan."""
    start = paging.decode_offset(cursor, name, filters)
    seen = start if start is not None else int(filters["after"])
    wanted, items = paging.clamp(limit), []
    for _ in range(REJECTION_BATCHES):
        batch = read(seen, REJECTION_BATCH)
        for entry in batch:
            seen = int(entry["id"])
            if visible(entry):
                items.append(shown(entry))
                if len(items) == wanted:
                    break
        if len(items) == wanted or len(batch) < REJECTION_BATCH:
            break
    more = bool(read(seen, 1))
    return paging.page(items, name, filters, (str(seen), "") if more else None)


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
