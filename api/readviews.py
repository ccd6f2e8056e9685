"""Read-model endpoints: the operational picture, the capacity overview, the request board and
the scarcity advice. Each answer carries the positions of the projections it was computed from;
a client that wrote position N may pass ``min_position=N`` to wait (bounded) until they have
reached it. ``rebuilding`` says the rows are those of the previous code version, served
complete while the new code's rows are built (mlob/runners/projector.py)."""

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from api import paging
from api.access import note_reads, row_items
from api.errors import error_responses
from api.paging import Cursor, Limit
from api.ports import MlobService, Principal
from api.types import Exercise, MinPosition, Moment
from domain import policy
from domain.exercise import ExerciseScope
from projections import readmodels as rm

MAX_WAIT = 10.0


def _scope(caller: Principal, exercise: ExerciseScope) -> dict[str, Any]:
    """Computed from what the reader may see only; says so when that is not everything."""
    return {
        **policy.scope_of(caller).as_dict(),
        "clearance": caller.clearance.value,
        "classified_withheld": caller.clearance.rank < policy.level("stg_zeer_geheim"),
        # Which subjects the answer holds: "false" (real), "true" (exercises) or "all".
        "exercise": exercise.value,
    }


def router(service: MlobService, caller_dependency: Any) -> APIRouter:
    routes = APIRouter(tags=["read models"])
    Caller = Annotated[Principal, Depends(caller_dependency)]
    Wait = Annotated[float, Query(ge=0, le=MAX_WAIT, description="longest wait, seconds")]
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

    def read(
        route: str,
        names: Sequence[str],
        caller: Principal,
        min_position: int | None,
        wait: float,
        exercise: ExerciseScope,
        as_of: datetime | None = None,
        axis: str = "recorded",
    ) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
        if as_of is not None:
            answer = service.rows_as_of(as_of, axis)
            historical, position = answer
            rows = {n: rm.visible(historical[n], caller.clearance, exercise) for n in names}
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
        reached = True
        if min_position is not None:
            reached = service.wait_for_views(min_position, names, wait)
        # Asked before the rows are read: a switch in between then errs on the safe side
        # (new rows said to be rebuilding), never old rows said to be current.
        positions, rebuilding = service.view_state(names)
        level = policy.reader_level(caller)
        rows = {
            n: rm.visible(service.view_rows(n, level), caller.clearance, exercise) for n in names
        }
        _note(route, caller, rows)
        meta = {
            "position": min(positions.get(n, 0) for n in names),
            "positions": {n: positions.get(n, 0) for n in names},
            "reached": reached,
            "rebuilding": rebuilding,
            "at": service.now().isoformat(),
            "scope": _scope(caller, exercise),
        }
        return meta, rows

    @routes.get("/v1/picture", responses=error_responses(400, 401))
    def get_picture(
        caller: Caller,
        exercise: Exercise,
        min_position: MinPosition = None,
        wait: Wait = 2.0,
        as_of: AsOf = None,
        axis: TimeAxis = "recorded",
        cursor: Cursor = None,
        limit: Limit = paging.DEFAULT_LIMIT,
    ) -> dict[str, Any]:
        """The operational picture (MLOB): incidents with their requests and deployed capacity,
        one page of them (open first, then by title) with the exact count of all beside it
        (``total_incidents``), and a national summary by region, kind and status; ``as_of``
        the picture as it was."""
        filters = {
            "exercise": exercise.value,
            "as_of": None if as_of is None else as_of.isoformat(),
            "axis": axis,
        }
        # A place in the order of the moment it is read (it follows the clock and every step).
        offset = paging.decode_offset(cursor, "picture", filters) or 0
        meta, rows = read(
            "GET /v1/picture",
            ("incidents", "requests"),
            caller,
            min_position,
            wait,
            exercise,
            as_of,
            axis,
        )
        incidents, requests = rows["incidents"], rows["requests"]
        summary = rm.summary_for(caller, incidents, requests)
        body = rm.picture(
            rm.in_scope(caller, incidents), rm.in_scope(caller, requests), service.now()
        )
        every, end = body["incidents"], offset + paging.clamp(limit)
        following = (str(end), "") if end < len(every) else None
        return {
            **meta,
            "incidents": every[offset:end],
            "total_incidents": len(every),
            "next": paging.page([], "picture", filters, following)["next"],
            "summary": summary,
        }

    @routes.get("/v1/capacity-overview", responses=error_responses(401))
    def get_capacity_overview(
        caller: Caller,
        exercise: Exercise,
        min_position: MinPosition = None,
        wait: Wait = 2.0,
        as_of: AsOf = None,
        axis: TimeAxis = "recorded",
    ) -> dict[str, Any]:
        """Per capability, provider and region: how much exists and where it is (available,
        reserved, made ready, committed, deployed, returning, unavailable, abroad); open demand
        and shortages per capability."""
        # Every request, exercise or real: whether a booking's request is approved says whether
        # made-ready capacity is reserved (rm.capacity_overview counts only ``exercise``'s demand).
        meta, rows = read(
            "GET /v1/capacity-overview",
            ("capacities", "requests"),
            caller,
            min_position,
            wait,
            ExerciseScope.ALL,
            as_of,
            axis,
        )
        meta["scope"]["exercise"] = exercise.value
        capacities = [c for c in rows["capacities"] if exercise.admits(c["exercise"])]
        return {**meta, **rm.capacity_overview(capacities, rows["requests"], exercise)}

    @routes.get("/v1/board", responses=error_responses(400, 401))
    def get_board(
        caller: Caller,
        exercise: Exercise,
        min_position: MinPosition = None,
        wait: Wait = 2.0,
        cursor: Cursor = None,
        limit: Limit = paging.DEFAULT_LIMIT,
    ) -> dict[str, Any]:
        """Open requests: current step, who acts next, time in step and since submission,
        overdue against the per-step targets, and urgent requests still to be formalised; one
        page of them, most urgent first, with the exact counts of all (``total``,
        ``overdue``). The board's order follows the clock, so a page is a place in the order
        of the moment it is read."""
        filters = {"exercise": exercise.value}
        offset = paging.decode_offset(cursor, "board", filters) or 0
        meta, rows = read("GET /v1/board", ("requests",), caller, min_position, wait, exercise)
        requests = rm.in_scope(caller, rows["requests"])
        targets = service.board_targets()
        every = rm.board(requests, service.now(), targets)
        end = offset + paging.clamp(limit)
        items = every[offset:end]
        return {
            **meta,
            "targets_minutes": {
                status: {"urgent": urgent, "normal": normal}
                for status, (urgent, normal) in targets.steps.items()
            },
            "formalisation_target_minutes": targets.formalisation,
            "overdue": sum(
                1
                for i in every
                if i["overdue"] or i["formalisation_overdue"] or i["inform_overdue"]
            ),
            "total": len(every),
            **paging.page(items, "board", filters, (str(end), "") if end < len(every) else None),
        }

    @routes.get("/v1/scarcity", responses=error_responses(401))
    def get_scarcity(
        caller: Caller,
        exercise: Exercise,
        min_position: MinPosition = None,
        wait: Wait = 2.0,
    ) -> dict[str, Any]:
        """Where open demand for a capability exceeds what is available: the competing request
        lines ranked by the documented rules and a proposed allocation (advice to the Minister
        of J&V); a recorded priority decision of the Minister is followed."""
        meta, rows = read(
            "GET /v1/scarcity",
            ("capacities", "requests", "incidents"),
            caller,
            min_position,
            wait,
            exercise,
        )
        advice = rm.scarcity(rows["capacities"], rows["requests"], rows["incidents"], exercise)
        # A reader sees where its own requests stand, not others' requests in detail.
        own = {r["id"] for r in rm.in_scope(caller, rows["requests"])}
        return {**meta, **rm.withhold_others(caller, advice, own)}

    return routes
