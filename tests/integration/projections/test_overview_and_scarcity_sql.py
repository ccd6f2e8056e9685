"""The capacity overview and the scarcity advice read only the rows they need, selected in SQL
(mlob/read/bounded.py, issue 21): on random rows, on SQLite and PostgreSQL, the answers computed
from those rows equal the answers the Python references (``rm.capacity_overview``,
``rm.scarcity``) give from every row a reader sees (each subject's row at the highest level
within its clearance, of the exercise scope asked); and the requests read are only those whose
wants count as demand or that capacities are made ready for."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from domain.exercise import ExerciseScope
from domain.incident import GripLevel
from mlob.config import StoreConfig
from mlob.read import bounded
from mlob.read.readstore import ReadStore
from projections import readmodels as rm
from projections.levels import visible_rows
from tests.conftest import on_both_stores
from tests.integration.projections.conftest import SQL_EXAMPLES, clear_rows, write_rows

BASE = "2026-12-06T08:00:00+00:00"
STATUSES = (*sorted(rm.OPEN_VALUES), "draft", "refused", "closed", "withdrawn")
CAPABILITIES = ("DEF_EVACUATION_TRANSPORT", "POL_ME")
PROVIDERS = ("DEF-DOPS", "VR08", "KMAR")
REQUESTS = [str(uuid.UUID(int=0xBB00 + n)) for n in range(8)]
INCIDENTS = [str(uuid.UUID(int=0xAA00 + n)) for n in range(3)]
CAPACITIES = [str(uuid.UUID(int=0xCC00 + n)) for n in range(4)]
#: Booking states (made ready is reserved once its request is approved).
BOOKED = ("made_ready", "committed", "en_route", "on_scene", "returning")

levels = st.sets(st.integers(0, 3), min_size=1, max_size=2).map(sorted)


@st.composite
def request_rows(draw: st.DrawFn, subject: str) -> list[dict[str, Any]]:
    """One request's rows at one level or more (each level's row may differ); some without
    ``demanding`` (rows of the code before it was kept: by status)."""
    rows = []
    for level in draw(levels):
        lines = []
        for n in range(draw(st.integers(1, 2))):
            line: dict[str, Any] = {
                "line_id": f"L{n}",
                "capability": draw(st.sampled_from(CAPABILITIES)),
                "quantity": draw(st.integers(1, 4)),
                "committed": draw(st.integers(0, 2)),
            }
            if draw(st.booleans()):
                line["wanted"] = draw(st.integers(0, 4))
            lines.append(line)
        shares = [
            {
                "line_id": draw(st.sampled_from([line["line_id"] for line in lines])),
                "to": draw(st.sampled_from(PROVIDERS)),
                "status": draw(st.sampled_from(["forwarded", "decided", "refused"])),
                "asked": draw(st.integers(0, 3)),
                "granted": draw(st.integers(0, 3)),
                "committed": draw(st.integers(0, 2)),
            }
            for _ in range(draw(st.integers(0, 2)))
        ]
        row: dict[str, Any] = {
            "id": subject,
            "level": level,
            "kind": "region_art51",
            "title": "r",
            "requester": draw(st.sampled_from(PROVIDERS)),
            # approved often: made ready for an approved request is reserved
            "status": draw(st.sampled_from(STATUSES) | st.just("approved")),
            "status_since": BASE,
            "urgent": draw(st.booleans()),
            "submitted_at": draw(st.none() | st.just(BASE) | st.just("2026-12-06T07:00:00+00:00")),
            "incident_id": draw(st.sampled_from([None, *INCIDENTS])),
            "priority": draw(st.dictionaries(st.sampled_from(CAPABILITIES), st.integers(1, 3))),
            "lines": lines,
            "shares": shares,
            "exercise": draw(st.booleans()),
            "classification": "ongerubriceerd",
            "regions": ["VR08"],
            "involved": ["VR08"],
        }
        flag = draw(st.sampled_from(["absent", True, False]))
        if flag != "absent":
            row["demanding"] = flag
        rows.append(row)
    return rows


@st.composite
def capacity_rows(draw: st.DrawFn, subject: str) -> list[dict[str, Any]]:
    rows = []
    for level in draw(levels):
        rows.append(
            {
                "id": subject,
                "level": level,
                "capability": draw(st.sampled_from(CAPABILITIES)),
                "provider": draw(st.sampled_from(PROVIDERS)),
                "name": "c",
                "home_region": draw(st.none() | st.just("VR08")),
                "class": draw(st.sampled_from(["guaranteed", "by_agreement", "best_effort"])),
                "notice_minutes": draw(st.integers(0, 120)),
                "exists": draw(st.integers(0, 4)),
                "unavailable": draw(st.integers(0, 1)),
                "abroad": draw(st.integers(0, 1)),
                "withheld": draw(st.integers(0, 1)),
                "for_exercise": draw(st.integers(0, 1)),
                "bookings": [
                    {
                        # of requests written or not (above every reader, or none)
                        "request_id": draw(st.sampled_from([*REQUESTS, str(uuid.uuid4())])),
                        "line_id": "L0",
                        "quantity": draw(st.integers(1, 2)),
                        "state": draw(st.just("made_ready") | st.sampled_from(BOOKED)),
                        "for_exercise": False,
                    }
                    for _ in range(draw(st.integers(0, 3)))
                ],
                "exercise": draw(st.booleans()),
                "classification": "ongerubriceerd",
                "regions": ["VR08"],
                "involved": [draw(st.sampled_from(PROVIDERS))],
            }
        )
    return rows


@st.composite
def incident_rows(draw: st.DrawFn, subject: str) -> list[dict[str, Any]]:
    return [
        {
            "id": subject,
            "level": level,
            "title": "Hoogwater",
            "closed": False,
            "grip": draw(st.sampled_from([g.value for g in GripLevel])),
            "exercise": draw(st.booleans()),
            "classification": "ongerubriceerd",
            "regions": ["VR08"],
            "involved": ["VR08"],
        }
        for level in draw(levels)
    ]


def _some(rows_of: Any, pool: list[str]) -> st.SearchStrategy[list[dict[str, Any]]]:
    """The rows of a random part of the pool's subjects (most of them: they meet)."""
    chosen = st.lists(st.sampled_from(pool), unique=True, min_size=len(pool) // 2)
    return chosen.flatmap(
        lambda ids: st.tuples(*(rows_of(i) for i in ids)).map(lambda t: [r for s in t for r in s])
    )


def _seen(rows: list[dict[str, Any]], level: int, exercise: ExerciseScope) -> list[dict[str, Any]]:
    """The reference's selection, by id as every row was read: levels, then the scope."""
    found = visible_rows(rows, level)
    return sorted((r for r in found if exercise.admits(r["exercise"])), key=lambda r: r["id"])


def _equals(exercise: ExerciseScope) -> dict[str, Any]:
    return {} if exercise is ExerciseScope.ALL else {"exercise": exercise is ExerciseScope.EXERCISE}


def _same(got: Any, expected: Any) -> None:
    # As JSON: the order of keys (by_class) as well.
    assert orjson.dumps(got) == orjson.dumps(expected)


@on_both_stores
@SQL_EXAMPLES
@given(
    requests=_some(request_rows, REQUESTS),
    capacities=_some(capacity_rows, CAPACITIES),
    incidents=_some(incident_rows, INCIDENTS),
    level=st.integers(0, 3),
    exercise=st.sampled_from(list(ExerciseScope)),
)
def test_the_overview_and_the_advice_from_the_rows_read_equal_them_from_every_row(
    read_store: tuple[ReadStore, StoreConfig],
    requests: list[dict[str, Any]],
    capacities: list[dict[str, Any]],
    incidents: list[dict[str, Any]],
    level: int,
    exercise: ExerciseScope,
) -> None:
    read, config = read_store
    clear_rows(config)
    write_rows(read, "requests", requests)
    write_rows(read, "capacities", capacities)
    write_rows(read, "incidents", incidents)

    overview = bounded.overview_rows(read, level, _equals(exercise))
    expected = rm.capacity_overview(
        _seen(capacities, level, exercise), _seen(requests, level, ExerciseScope.ALL), exercise
    )
    _same(rm.capacity_overview(**overview, exercise=exercise), expected)
    awaited = rm.awaiting_approval(overview["capacities"])
    assert all(rm.demanding(r) or r["id"] in awaited for r in overview["requests"])

    advice = bounded.scarcity_rows(read, level, _equals(exercise))
    expected = rm.scarcity(
        _seen(capacities, level, exercise),
        _seen(requests, level, exercise),
        _seen(incidents, level, exercise),
        exercise,
    )
    _same(rm.scarcity(**advice, exercise=exercise), expected)
    assert all(rm.demanding(r) for r in advice["requests"])
    assert {i["id"] for i in advice["incidents"]} <= {r["incident_id"] for r in advice["requests"]}
