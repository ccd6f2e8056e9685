"""The request board and the picture's summary are read in SQL (issue 21): on random rows, on
SQLite and PostgreSQL, the store's board (every page, in order, and its exact counts) and its
summary equal the Python references (``projections.readmodels.board``,
``national_summary``) over the rows a reader sees: each subject's row at the highest level
within its clearance, of the exercise scope asked, within the scope keys asked."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from api.ports import PageQuery
from domain import policy
from domain.incident import GripLevel
from mlob.config import StoreConfig
from mlob.read import listing
from mlob.read.readstore import ReadStore
from projections import readmodels as rm
from projections.levels import visible_rows
from tests.conftest import on_both_stores, pg_connect
from tests.integration.projections.conftest import SQL_EXAMPLES, clear_rows, write_rows

BASE = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
REGIONS = ("VR06", "VR07", "VR08")
ORGS = ("LOCC", "VR06", "VR08", "KMAR")
STATUSES = (*sorted(rm.OPEN_VALUES), "draft", "refused", "closed", "withdrawn")
STEPS = (*sorted(rm.OPEN_VALUES), rm.EXHAUSTION_CHECK, "draft", "closed")
INCIDENTS = [str(uuid.UUID(int=0xAA00 + n)) for n in range(4)]

moments = st.integers(min_value=-24 * 3600 * 10**6, max_value=24 * 3600 * 10**6).map(
    lambda us: BASE + timedelta(microseconds=us)
)
zones = st.sampled_from([UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5))])


def _iso(moment: datetime, zone: timezone) -> str:
    return moment.astimezone(zone).isoformat()


@st.composite
def request_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    """One request's rows at one level or more (each level's row may differ)."""
    subject = str(uuid.UUID(int=draw(st.integers(0, 2**64))))
    rows = []
    for level in sorted(draw(st.sets(st.integers(0, 3), min_size=1, max_size=2))):
        zone = draw(zones)
        duties = draw(st.lists(moments, max_size=2))
        submitted = draw(st.none() | moments)
        rows.append(
            {
                "id": subject,
                "level": level,
                "kind": draw(st.sampled_from(["region_art51", "police", "defence"])),
                "task": "t",
                "title": "r",
                "requester": draw(st.sampled_from(ORGS)),
                "status": draw(st.sampled_from(STATUSES)),
                "step": draw(st.sampled_from(STEPS)),
                "next_actor": None,
                "urgent": draw(st.booleans()),
                "status_since": _iso(draw(moments), zone),
                "submitted_at": None if submitted is None else _iso(submitted, zone),
                "formalisation_outstanding": draw(st.booleans()),
                "duties_outstanding": [
                    {"duty": f"d{n}", "by": "LOCC", "to": "VR08", "since": _iso(d, zone)}
                    for n, d in enumerate(duties)
                ],
                "incident_id": draw(st.none() | st.sampled_from(INCIDENTS)),
                "exercise": draw(st.booleans()),
                "classification": "ongerubriceerd",
                "regions": sorted(draw(st.sets(st.sampled_from(REGIONS), max_size=2))),
                "involved": sorted(draw(st.sets(st.sampled_from(ORGS), max_size=2))),
                "lines": [],
                "bookings": [],
            }
        )
    return rows


@st.composite
def incident_rows(draw: st.DrawFn, subject: str) -> list[dict[str, Any]]:
    rows = []
    for level in sorted(draw(st.sets(st.integers(0, 3), min_size=1, max_size=2))):
        rows.append(
            {
                "id": subject,
                "level": level,
                "title": draw(st.sampled_from(["Hoogwater", "Brand", "Storm"])),
                "closed": draw(st.booleans()),
                "grip": draw(st.sampled_from([g.value for g in GripLevel])),
                "phase": "warme",
                "latest_report": None,
                "exercise": draw(st.booleans()),
                "classification": "ongerubriceerd",
                "regions": sorted(draw(st.sets(st.sampled_from(REGIONS), max_size=3))),
                "involved": sorted(draw(st.sets(st.sampled_from(ORGS), max_size=2))),
            }
        )
    return rows


readers = st.tuples(
    st.integers(0, 3),  # level
    st.sampled_from([None, True, False]),  # exercise (None: all)
    st.none() | st.sets(st.sampled_from([f"org:{o}" for o in ORGS]), min_size=1, max_size=2),
)
targets = st.builds(
    rm.Targets,
    steps=st.dictionaries(
        st.sampled_from([*sorted(rm.OPEN_VALUES), rm.INFORM]),
        st.tuples(st.integers(1, 900), st.integers(1, 900)),
    ),
    formalisation=st.integers(1, 900),
)


def _seen(rows: list[dict[str, Any]], reader: tuple[Any, ...]) -> list[dict[str, Any]]:
    """The reference's selection: visible_rows (levels), the exercise scope, the scope keys."""
    level, exercise, scope = reader
    found = visible_rows(rows, level)
    if exercise is not None:
        found = [r for r in found if r["exercise"] is exercise]
    if scope is not None:
        found = [r for r in found if scope & set(policy.row_keys(r))]
    return found


def _query(reader: tuple[Any, ...], limit: int = 50) -> PageQuery:
    level, exercise, scope = reader
    equals = {} if exercise is None else {"exercise": exercise}
    return PageQuery(level, equals, None if scope is None else frozenset(scope), limit=limit)


@on_both_stores
@SQL_EXAMPLES
@given(
    subjects=st.lists(request_rows(), max_size=14, unique_by=lambda rows: rows[0]["id"]),
    reader=readers,
    board_targets=st.one_of(st.just(rm.DEFAULT_TARGETS), targets),
    now=moments,
    limit=st.integers(1, 5),
)
def test_the_board_in_sql_is_the_reference_board_page_by_page(
    read_store: tuple[ReadStore, StoreConfig],
    subjects: list[list[dict[str, Any]]],
    reader: tuple[Any, ...],
    board_targets: rm.Targets,
    now: datetime,
    limit: int,
) -> None:
    read, config = read_store
    clear_rows(config)
    rows = [r for rows in subjects for r in rows]
    write_rows(read, "requests", rows)
    expected = rm.board(_seen(rows, reader), now, board_targets)

    got: list[dict[str, Any]] = []
    place: tuple[int, int, str] | None = None
    while True:
        page, following = read.board_page(_query(reader, limit), board_targets, place)
        assert len(page) <= limit
        got += [rm.board_item(r, now, board_targets) for r in page]
        if following is None:
            break
        found = listing.parse_board_place(following[0])
        assert found is not None
        place = (*found, following[1])
    assert [i["id"] for i in got] == [i["id"] for i in expected]
    assert got == expected

    now_us = listing.epoch_us(now.isoformat())
    assert now_us is not None
    overdue = sum(
        1 for i in expected if i["overdue"] or i["formalisation_overdue"] or i["inform_overdue"]
    )
    assert read.board_counts(_query(reader), board_targets, now_us) == (len(expected), overdue)


@on_both_stores
@SQL_EXAMPLES
@given(
    subjects=st.lists(request_rows(), max_size=12, unique_by=lambda rows: rows[0]["id"]),
    incidents=st.tuples(*(incident_rows(i) for i in INCIDENTS)),
    present=st.sets(st.sampled_from(INCIDENTS)),
    reader=readers,
)
def test_the_summary_in_sql_is_the_reference_national_summary(
    read_store: tuple[ReadStore, StoreConfig],
    subjects: list[list[dict[str, Any]]],
    incidents: tuple[list[dict[str, Any]], ...],
    present: set[str],
    reader: tuple[Any, ...],
) -> None:
    read, config = read_store
    clear_rows(config)
    requests = [r for rows in subjects for r in rows]
    kept = [r for rows in incidents for r in rows if r["id"] in present]
    write_rows(read, "requests", requests)
    write_rows(read, "incidents", kept)
    expected = rm.national_summary(_seen(kept, reader), _seen(requests, reader))
    assert rm.summary_of_counts(*read.summary_counts(_query(reader))) == expected
    # the picture's other counts and reads: the incidents' total, the requests of some
    assert read.count("incidents", _query(reader)) == len(_seen(kept, reader))
    among = sorted(present)[:2]
    query = PageQuery(**{**_query(reader).__dict__, "among": ("incident_id", among)})
    assert sorted(r["id"] for r in read.matching("requests", query)) == sorted(
        r["id"] for r in _seen(requests, reader) if r["incident_id"] in among
    )


def _request(subject: int, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": str(uuid.UUID(int=subject)),
        "level": 0,
        "kind": "region_art51",
        "task": "t",
        "title": "r",
        "requester": "VR08",
        "status": "draft",
        "step": "draft",
        "next_actor": None,
        "urgent": False,
        "status_since": BASE.isoformat(),
        "submitted_at": None,
        "formalisation_outstanding": False,
        "duties_outstanding": [],
        "incident_id": None,
        "exercise": False,
        "classification": "ongerubriceerd",
        "regions": ["VR08"],
        "involved": ["VR08"],
        "lines": [],
        "bookings": [],
    }
    return {**row, **fields}


@on_both_stores
def test_each_kind_of_deadline_places_an_item_on_the_board(
    read_store: tuple[ReadStore, StoreConfig],
) -> None:
    """Earliest deadline first, whichever deadline it is; none last; overdue counted."""
    read, _ = read_store
    hour = timedelta(hours=1)
    rows = [
        _request(1, step=rm.EXHAUSTION_CHECK, status_since=(BASE - 5 * hour).isoformat()),
        _request(  # a duty to inform, due a day after it fell due: BASE + 22 h
            2, duties_outstanding=[{"duty": "d", "since": (BASE - 2 * hour).isoformat()}]
        ),
        _request(  # to be formalised a day after submission: BASE + 1 h
            3,
            status="closed",
            step="closed",
            formalisation_outstanding=True,
            submitted_at=(BASE - 23 * hour).isoformat(),
        ),
        _request(  # urgent, received within 15 minutes: BASE + 5 min
            4,
            status="submitted",
            step="submitted",
            urgent=True,
            status_since=(BASE - timedelta(minutes=10)).isoformat(),
        ),
        _request(  # normal, assessed within a day: BASE - 1 h, overdue
            5, status="received", step="received", status_since=(BASE - 25 * hour).isoformat()
        ),
        _request(6, status="refused", step="refused"),  # not on the board
    ]
    write_rows(read, "requests", rows)
    page, following = read.board_page(_query((0, False, None)), rm.DEFAULT_TARGETS, None)
    assert following is None
    assert [uuid.UUID(r["id"]).int for r in page] == [5, 4, 3, 2, 1]
    assert [r["id"] for r in page] == [i["id"] for i in rm.board(rows, BASE, rm.DEFAULT_TARGETS)]
    now = listing.epoch_us((BASE + timedelta(minutes=10)).isoformat())
    assert now is not None
    assert read.board_counts(_query((0, False, None)), rm.DEFAULT_TARGETS, now) == (5, 2)
    later = listing.epoch_us((BASE + 2 * hour).isoformat())
    assert later is not None
    assert read.board_counts(_query((0, False, None)), rm.DEFAULT_TARGETS, later) == (5, 3)


@on_both_stores
def test_the_board_is_read_from_its_index_alone(read_store: tuple[ReadStore, StoreConfig]) -> None:
    """The board's page and counts can be answered from the on-board rows' index without
    reading a row (a store's rows hold their JSON: at 44k open requests reading them took
    290 ms a query, the index 20 ms): the plan of each, with sequential scans ruled out, is
    the index's (PostgreSQL: an index-only scan; SQLite: a covering index)."""
    _, config = read_store
    query = PageQuery(level=3, equals={"exercise": False}, limit=50)
    table = "mlob_rows_requests"
    now_us = int(BASE.timestamp() * 10**6)
    counts = listing.board_counts_sql(table, query, rm.DEFAULT_TARGETS, now_us, config.kind)
    rows = listing._board_rows(table, query, rm.DEFAULT_TARGETS, config.kind)
    for sql, args in (counts, rows):
        if config.kind == "sqlite":
            assert config.sqlite_path is not None
            with sqlite3.connect(config.sqlite_path) as c:
                plan = " ".join(
                    str(r[-1]) for r in c.execute("EXPLAIN QUERY PLAN " + sql, args).fetchall()
                )
            assert "COVERING INDEX mlob_rows_requests_board" in plan, plan
        else:
            assert config.schema is not None
            with pg_connect(config.schema) as conn:
                conn.execute("SET enable_seqscan = off")
                conn.execute("SET enable_bitmapscan = off")
                plan = " ".join(str(r[0]) for r in conn.execute("EXPLAIN " + sql, args).fetchall())
            assert "Index Only Scan using mlob_rows_requests_board" in plan, plan
