"""Read-model endpoints: the operational picture, the capacity overview, the request board and
the scarcity advice. Each answer carries the positions of the projections it was computed from;
a client that wrote position N may pass ``min_position=N`` to wait (bounded) until they have
reached it. ``rebuilding`` says the rows are those of the previous code version, served
complete while the new code's rows are built (mlob/runners/projector.py)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from api import paging
from api.access import note_reads, row_items
from api.errors import ApiError, error_responses
from api.paging import Cursor, Limit
from api.ports import MlobService, PageQuery, Principal
from api.summaries import Summaries
from api.types import Exercise, MinPosition, Moment
from domain import policy
from domain.exercise import ExerciseScope
from projections import readmodels as rm

MAX_WAIT = 10.0


@dataclass(frozen=True)
class Fresh:
    """What every read of the projections' rows takes besides its own filters: which subjects
    (``exercise=``), and a position the caller wrote (``min_position=``) to wait for until the
    projections have reached it, at most ``wait=`` seconds."""

    exercise: Exercise
    min_position: MinPosition = None
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT, description="longest wait, seconds")] = 2.0


#: :class:`Fresh` as a route's parameter: its fields are the route's query parameters.
Current = Annotated[Fresh, Depends()]


def _scope(caller: Principal, exercise: ExerciseScope) -> dict[str, Any]:
    """Computed from what the reader may see only; says so when that is not everything."""
    return {
        **policy.scope_of(caller).as_dict(),
        "clearance": caller.clearance.value,
        "classified_withheld": caller.clearance.rank < policy.level("stg_zeer_geheim"),
        # Which subjects the answer holds: "false" (real), "true" (exercises) or "all".
        "exercise": exercise.value,
    }


def _equals(exercise: ExerciseScope) -> dict[str, Any]:
    """The exercise filter as a store's column filter (none: every subject)."""
    if exercise is ExerciseScope.ALL:
        return {}
    return {"exercise": exercise is ExerciseScope.EXERCISE}


def _reader_query(
    caller: Principal, exercise: ExerciseScope, after: tuple[str, str] | None, limit: int
) -> PageQuery:
    """What ``caller`` may list of the subjects ``exercise`` names: its level, its scope."""
    level, scope = policy.reader_level(caller), policy.scope_keys(caller)
    return PageQuery(level, _equals(exercise), scope, after=after, limit=limit)


def router(
    service: MlobService, caller_dependency: Any, summaries: Summaries | None = None
) -> APIRouter:
    routes = APIRouter(tags=["read models"])
    shared = summaries or Summaries(service)
    Caller = Annotated[Principal, Depends(caller_dependency)]
    AsOf = Annotated[
        Moment | None,
        Query(description="the read model as it was at this moment (replayed from history)"),
    ]
    TimeAxis = Annotated[
        Literal["recorded", "occurred"],
        Query(description="as_of on the recorded axis (what mlob knew then) or occurred axis"),
    ]

    def _note(route: str, caller: Principal, rows: dict[str, list[dict[str, Any]]]) -> None:
        """The classified rows within the reader's scope that an answer was computed from."""
        items = [i for n, found in rows.items() for i in row_items(n, rm.in_scope(caller, found))]
        note_reads(service, caller, route, items)

    def read_as_of(
        route: str,
        names: Sequence[str],
        caller: Principal,
        exercise: ExerciseScope,
        as_of: datetime,
        axis: str = "recorded",
        note: bool = True,
    ) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
        """An answer's rows as they were at ``as_of``, replayed from history (every row of
        that moment, in memory), and its positions and state."""
        answer = service.rows_as_of(as_of, axis)
        historical, position = answer
        rows = {n: rm.visible(historical[n], caller.clearance, exercise) for n in names}
        if note:  # else the caller notes what it answers (a page of them)
            _note(route, caller, rows)
        scope = _scope(caller, exercise)
        # Whether the picture checkpoints it came from were signed (None: none was used).
        signed = getattr(answer, "checkpoints_signed", None)
        if signed is not None:
            scope["checkpoints_signed"] = signed
        return {
            "position": position,
            "positions": dict.fromkeys(names, position),
            "reached": True,
            "at": as_of.isoformat(),
            "as_of": {"moment": as_of.isoformat(), "axis": axis},
            "rebuilding": False,  # replayed by this code, from the events
            "scope": scope,
        }, rows

    def bounded(
        route: str,
        names: Sequence[str],
        caller: Principal,
        fresh: Fresh,
        select: Callable[..., dict[str, list[dict[str, Any]]]],
    ) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
        """The capacity overview's or the scarcity advice's rows: only those it is computed
        from, selected in the store by ``select`` (not every row of the projections); noted
        as read."""
        meta = current(names, caller, fresh)
        rows = select(level=policy.reader_level(caller), equals=_equals(fresh.exercise))
        _note(route, caller, rows)
        return meta, rows

    def current(names: Sequence[str], caller: Principal, fresh: Fresh) -> dict[str, Any]:
        """An answer's positions and state, asked before its rows are read: a switch in
        between then errs on the safe side (new rows said to be rebuilding), never old rows
        said to be current."""
        reached = True
        if fresh.min_position is not None:
            reached = service.wait_for_views(fresh.min_position, names, fresh.wait)
        positions, rebuilding = service.view_state(names)
        return {
            "position": min(positions.get(n, 0) for n in names),
            "positions": {n: positions.get(n, 0) for n in names},
            "reached": reached,
            "rebuilding": rebuilding,
            "at": service.now().isoformat(),
            "scope": _scope(caller, fresh.exercise),
        }

    @routes.get("/v1/picture", responses=error_responses(400, 401))
    def get_picture(
        caller: Caller,
        fresh: Current,
        as_of: AsOf = None,
        axis: TimeAxis = "recorded",
        cursor: Cursor = None,
        limit: Limit = paging.DEFAULT_LIMIT,
    ) -> dict[str, Any]:
        """The operational picture (MLOB): incidents with their requests and deployed capacity,
        one page of them (open first, then by title) with the exact count of all beside it
        (``total_incidents``), and a national summary by region, kind and status; ``as_of``
        the picture as it was."""
        exercise = fresh.exercise
        filters = {
            "exercise": exercise.value,
            "as_of": None if as_of is None else as_of.isoformat(),
            "axis": axis,
        }
        if as_of is not None:
            return picture_as_of(caller, exercise, as_of, axis, cursor, limit, filters)
        route, names = "GET /v1/picture", ("incidents", "requests")
        after = paging.decode(cursor, "picture", filters)
        meta = current(names, caller, fresh)
        query = _reader_query(caller, exercise, after, paging.clamp(limit))
        # The page of incidents in the listing's order (open first, then title), the requests
        # of just those, and the counts beside them: nothing in proportion to the store.
        found, following = service.view_page("incidents", query)
        incidents = [i for i in found if policy.may_see_row(caller, i)]
        ids = [i["id"] for i in incidents]
        requests = [
            r
            for r in service.view_among("requests", query, "incident_id", ids)
            if policy.may_see_row(caller, r)
        ]
        note_reads(
            service,
            caller,
            route,
            row_items("incidents", incidents) + row_items("requests", requests),
        )
        reach = rm.summary_reach(caller)
        if reach.scope is None:  # the nation's: counted once for every reader at this level
            exercising = query.equals.get("exercise")
            counted = shared.get(query.level, exercising, position=fresh.min_position)
            summary, summary_position = counted.summary, counted.position
            if reach.region is not None:
                summary = rm.regional_summary(summary, reach.region)
        else:  # what an organisation sees itself: few rows, counted now
            summary = service.view_summary(PageQuery(query.level, query.equals, reach.scope))
            summary_position = meta["position"]
        total = service.view_count("incidents", query)
        return {
            **meta,
            "incidents": rm.picture_items(incidents, requests),
            "total_incidents": total,
            "next": paging.page([], "picture", filters, following)["next"],
            "summary": summary,
            # the position the summary was counted at (api/summaries.py: shared, at most a
            # second old); the page is read at ``position``
            "summary_position": summary_position,
        }

    def picture_as_of(
        caller: Principal,
        exercise: ExerciseScope,
        as_of: datetime,
        axis: str,
        cursor: str | None,
        limit: int,
        filters: dict[str, Any],
    ) -> dict[str, Any]:
        """The picture as it was: replayed from checkpoints (mlob/read/pictures.py), every
        row of that moment in memory; a page is a place in that moment's order."""
        offset = paging.decode_offset(cursor, "picture", filters) or 0
        names = ("incidents", "requests")
        route = "GET /v1/picture"
        meta, rows = read_as_of(route, names, caller, exercise, as_of, axis, note=False)
        end = offset + paging.clamp(limit)
        page = rm.picture_page(caller, rows["incidents"], rows["requests"], offset, end - offset)
        note_reads(
            service,
            caller,
            route,
            row_items("incidents", page.incidents) + row_items("requests", page.requests),
        )
        following = (str(end), "") if end < page.total else None
        return {
            **meta,
            "incidents": page.items(),
            "total_incidents": page.total,
            "next": paging.page([], "picture", filters, following)["next"],
            "summary": page.summary,
            "summary_position": meta["position"],
        }

    @routes.get("/v1/capacity-overview", responses=error_responses(401))
    def get_capacity_overview(
        caller: Caller,
        fresh: Current,
        as_of: AsOf = None,
        axis: TimeAxis = "recorded",
    ) -> dict[str, Any]:
        """Per capability, provider and region: how much exists and where it is (available,
        reserved, made ready, committed, deployed, returning, unavailable, abroad); open demand
        and shortages per capability."""
        route, names = "GET /v1/capacity-overview", ("capacities", "requests")
        exercise = fresh.exercise
        if as_of is not None:
            # Every request, exercise or real: whether a booking's request is approved says
            # whether made-ready capacity is reserved (only ``exercise``'s demand is counted).
            meta, rows = read_as_of(route, names, caller, ExerciseScope.ALL, as_of, axis)
            meta["scope"]["exercise"] = exercise.value
            capacities = [c for c in rows["capacities"] if exercise.admits(c["exercise"])]
        else:  # only the rows it needs, selected in the store (mlob/read/bounded.py)
            select = service.view_overview_rows
            meta, rows = bounded(route, names, caller, fresh, select)
            capacities = rows["capacities"]
        return {**meta, **rm.capacity_overview(capacities, rows["requests"], exercise)}

    @routes.get("/v1/board", responses=error_responses(400, 401))
    def get_board(
        caller: Caller,
        fresh: Current,
        cursor: Cursor = None,
        limit: Limit = paging.DEFAULT_LIMIT,
    ) -> dict[str, Any]:
        """Open requests: current step, who acts next, time in step and since submission,
        overdue against the per-step targets, and urgent requests still to be formalised; one
        page of them, most urgent first (the earliest deadline first: overdue items lead,
        longest overdue first; items without a target last), with the exact counts of all
        (``total``, ``overdue``). The order does not follow the clock: a cursor keeps its
        place while time passes."""
        filters = {"exercise": fresh.exercise.value}
        after = paging.decode(cursor, "board", filters)
        meta = current(("requests",), caller, fresh)
        query = _reader_query(caller, fresh.exercise, after, paging.clamp(limit))
        targets = service.board_targets()
        now = service.now()
        try:
            found, following = service.board_page(query)
        except ValueError:  # a cursor of the board's order before issue 21 (an offset)
            raise ApiError(400, "invalid_cursor", text="unknown") from None
        rows = [r for r in found if policy.may_see_row(caller, r)]
        note_reads(service, caller, "GET /v1/board", row_items("requests", rows))
        total, overdue = service.board_counts(query, now)
        return {
            **meta,
            "targets_minutes": {
                status: {"urgent": urgent, "normal": normal}
                for status, (urgent, normal) in targets.steps.items()
            },
            "formalisation_target_minutes": targets.formalisation,
            "overdue": overdue,
            "total": total,
            **paging.page(
                [rm.board_item(r, now, targets) for r in rows], "board", filters, following
            ),
        }

    @routes.get("/v1/scarcity", responses=error_responses(401))
    def get_scarcity(caller: Caller, fresh: Current) -> dict[str, Any]:
        """Where open demand for a capability exceeds what is available: the competing request
        lines ranked by the documented rules and a proposed allocation (advice to the Minister
        of J&V); a recorded priority decision of the Minister is followed."""
        meta, rows = bounded(
            "GET /v1/scarcity",
            ("capacities", "requests", "incidents"),
            caller,
            fresh,
            service.view_scarcity_rows,
        )
        exercise = fresh.exercise
        advice = rm.scarcity(rows["capacities"], rows["requests"], rows["incidents"], exercise)
        # A reader sees where its own requests stand, not others' requests in detail.
        own = {r["id"] for r in rm.in_scope(caller, rows["requests"])}
        return {**meta, **rm.withhold_others(caller, advice, own)}

    return routes
