"""``GET /v1/history``: the event log with full envelopes, by position, for auditors; in pages
(``{"items", "next"}``, api/paging.py) or, with ``format=jsonl``, streamed as JSON Lines (the
auditor's export).

The store's event index answers the filters it has columns for (stream, stored topics of the
type, acting organisation, occurred period, exercise flag: :class:`domain.recorded.RowFilter`),
so only the rows those let through are read, and only the rows the reader may see are decoded.
The policy (api/access.py ``Subjects``) judges every row. A page is bounded in work: it looks
at most :data:`WINDOW` positions of the log (a stream's history: all of it, an index read) and
judges at most :data:`EXAMINED` rows; where it stopped is its ``next``, so a reader who sees
little of a long log gets short (even empty) pages with a ``next`` rather than a long scan.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response, StreamingResponse

from api import paging
from api.access import Subjects
from api.errors import ApiError, error_responses
from api.ports import LoggedEvent, MlobService, Principal, RowFilter
from api.rendering import dumps, event_body
from api.types import After, Exercise, Moment
from domain import policy, vocabulary
from domain.exercise import ExerciseScope

#: A page looks at most this many positions of the log after where it starts ...
WINDOW = 10_000
#: ... and judges at most this many of the index rows the store's filters let through.
EXAMINED = 2_000
#: Index rows read per query.
BATCH = 500
#: The export streams this many events unless ``limit=`` says otherwise, at most
#: :data:`EXPORT_MAX` (more is taken as that; continue with ``after=``).
EXPORT_LIMIT = 10_000
EXPORT_MAX = 1_000_000
#: The export decodes and sends its events in chunks of this many.
EXPORT_CHUNK = 1000

LISTED = "history"


@dataclass(frozen=True)
class HistoryQuery:
    """A history's filters: what the index answers (``stream``, ``where``) and the API type
    (a booking's topic holds several types: told apart once decoded)."""

    stream: UUID | None
    type: str | None
    where: RowFilter

    def matches(self, event: LoggedEvent) -> bool:
        return self.type is None or event.api_type == self.type


@dataclass(frozen=True)
class Found:
    """Events read from the history, and the position up to which every event was judged."""

    events: list[LoggedEvent]
    judged: int


def read(
    service: MlobService,
    subjects: Subjects,
    query: HistoryQuery,
    after: int,
    until: int,
    wanted: int,
    examined: int | None = None,
) -> Found:
    """At most ``wanted`` events after position ``after`` up to ``until`` that match ``query``
    and that the reader may see, decoded and named, in order; judging at most ``examined`` of
    the index rows the store's filters let through (None: no bound)."""
    found: list[LoggedEvent] = []
    seen, looked = after, 0
    while seen < until and (examined is None or looked < examined):
        size = BATCH if examined is None else min(BATCH, examined - looked)
        rows = service.index_page(seen, until, size, stream_id=query.stream, where=query.where)
        pending: list[int] = []
        for n, row in enumerate(rows):
            looked += 1
            if subjects.visible_as(row, vocabulary.subject_of_topic(row.event_type)):
                pending.append(row.position)
            if len(found) + len(pending) < wanted and n < len(rows) - 1:
                continue
            # Decode what is visible only now, and no more than the page still needs.
            for event in service.logged_at(pending):
                if query.matches(event):
                    found.append(event)
                    if len(found) == wanted:
                        return Found(found, event.position)
            pending = []
        if len(rows) < size:  # nothing more up to ``until``
            return Found(found, until)
        seen = rows[-1].position
    return Found(found, seen)


def router(service: MlobService, caller_dependency: Any) -> APIRouter:
    routes = APIRouter(tags=["audit"])
    Caller = Annotated[Principal, Depends(caller_dependency)]

    @routes.get(
        "/v1/history",
        responses={
            200: {"content": {"application/x-ndjson": {}}},
            **error_responses(400, 401, 403, 422),
        },
    )
    def history(
        caller: Caller,
        exercise: Exercise,
        after: After = 0,
        cursor: paging.Cursor = None,
        limit: Annotated[
            int | None,
            Query(
                ge=1,
                description=f"events per page (default {paging.DEFAULT_LIMIT}, at most "
                f"{paging.MAX_LIMIT}); with format=jsonl: events streamed (default "
                f"{EXPORT_LIMIT}, at most {EXPORT_MAX})",
            ),
        ] = None,
        format: Annotated[
            Literal["json", "jsonl"],
            Query(description="json: a page {items, next}; jsonl: the export, JSON Lines"),
        ] = "json",
        stream: UUID | None = None,
        type: Annotated[
            str | None, Query(max_length=100, description="an API type (GET /v1/event-types)")
        ] = None,
        org: Annotated[str | None, Query(max_length=64)] = None,
        occurred_from: Moment | None = None,
        occurred_to: Moment | None = None,
    ) -> Response:
        """The event log with full envelopes, by position: a page ``{"items", "next"}``
        (``next``: the following page's ``cursor=``, with the same filters; a page may hold
        fewer items than ``limit`` and still have a ``next``: it looks at a bounded stretch
        of the log), or with ``format=jsonl`` every event after ``after`` as JSON Lines (one
        event per line). Filters by stream, event type, acting organisation, occurred period,
        exercise (each step by its own flag: the same as its subject's, but for a store
        written before that was enforced, where a step shows as it was recorded).
        Classified events appear only for readers cleared for them."""
        if not policy.may_read_audit(caller):
            raise ApiError(403, "read_only_for_auditors", roles=sorted(policy.AUDIT_ROLES))
        if type is not None and type not in vocabulary.TYPES:
            # A filter that can match nothing is a mistake, not an empty history; the reason
            # does not repeat what was sent (it may be a stored topic).
            raise ApiError(422, "unknown_type")
        query = HistoryQuery(
            stream,
            type,
            RowFilter(
                event_types=vocabulary.topics_of(type) if type is not None else (),
                actor_org=org,
                occurred_from=occurred_from,
                occurred_to=occurred_to,
                exercise=None if exercise is ExerciseScope.ALL else exercise.admits(True),
            ),
        )
        subjects = Subjects(service, caller)
        stop = service.last_position()  # a consistent end for this answer
        if format == "jsonl":
            wanted = min(limit or EXPORT_LIMIT, EXPORT_MAX)
            return StreamingResponse(
                _lines(service, subjects, query, after, stop, wanted),
                media_type="application/x-ndjson",
            )
        filters = {
            "after": after,
            "stream": str(stream) if stream else None,
            "type": type,
            "org": org,
            "occurred_from": occurred_from.isoformat() if occurred_from else None,
            "occurred_to": occurred_to.isoformat() if occurred_to else None,
            "exercise": exercise.value,
        }
        start = paging.decode_offset(cursor, LISTED, filters)
        start = after if start is None else start
        until = stop if stream is not None else min(stop, start + WINDOW)
        wanted = paging.clamp(limit or paging.DEFAULT_LIMIT)
        found = read(service, subjects, query, start, until, wanted, EXAMINED)
        items = _bodies(subjects, found.events)
        following = (str(found.judged), "") if found.judged < stop else None
        return Response(
            dumps(paging.page(items, LISTED, filters, following)), media_type="application/json"
        )

    return routes


def _bodies(subjects: Subjects, events: list[LoggedEvent]) -> list[dict[str, Any]]:
    """The events as answered (their threads named for the reader), noted in the read-access
    log as received."""
    bodies = [event_body(e) for e in events]
    subjects.threads(bodies)
    subjects.note("GET /v1/history", events)
    return bodies


def _lines(
    service: MlobService,
    subjects: Subjects,
    query: HistoryQuery,
    after: int,
    stop: int,
    wanted: int,
) -> Iterator[bytes]:
    """The export: every matching event the reader may see after ``after`` up to ``stop``,
    at most ``wanted``, one JSON line each, read and sent in chunks."""
    seen, sent = after, 0
    while seen < stop and sent < wanted:
        found = read(service, subjects, query, seen, stop, min(EXPORT_CHUNK, wanted - sent))
        for body in _bodies(subjects, found.events):
            yield (dumps(body) + "\n").encode()
        sent += len(found.events)
        seen = found.judged
