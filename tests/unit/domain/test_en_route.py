"""Dispatched is not arrived (issue 18, point 2), in the domain and the read models.

Source: ../shared/domain.md, §Settled questions, "Dispatched is not arrived. Capacity on its
way is *en route*; on arrival it is *on scene* and control passes to the civil authority. The
picture and the overviews keep them apart." And §Lifecycle of a request: "dispatched ->
arrived on scene (control handed to civil authority) -> released -> returned"; the requesting
side confirms the arrival and releases (domain/rights.py: STEP_PARTIES).
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from domain.capacity import BookingState, Capacity, CapacityBooking
from domain.errors import DomainError
from domain.kinds import RequestKind as K
from domain.lifecycle import LineStep
from domain.request import AssistanceRequest
from domain.rights import Step
from domain.services import commit, dispatch, move_line, release, return_home
from projections import readmodels as rm
from projections.specs import capacity_row, request_row
from projections.views import capacity_view
from tests.unit.domain.catalogue import CAP
from tests.unit.domain.helpers import capacity, chair, env, granted, line, submitted, through_hub

SETTLED = "domain.md §Settled questions: Dispatched is not arrived"


def deployed_request() -> tuple[AssistanceRequest, dict[UUID, Capacity], list[UUID]]:
    """VR08 asks 5 pumps; VR07 commits 3 of one capacity and 2 of another, dispatches both."""
    request = granted(
        through_hub(
            submitted("VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"], 5)),
            "LOCC",
            to=("VR07",),
        ),
        "VR07",
    )
    pumps, more = capacity("VR07", CAP["fire"], 4), capacity("VR07", CAP["fire"], 4)
    first, second = uuid4(), uuid4()
    commit(env("VR07"), request, pumps, line_id="L1", quantity=3, booking_id=first)
    commit(env("VR07"), request, more, line_id="L1", quantity=2, booking_id=second)
    dispatch(env("VR07"), request, pumps, booking_id=first)
    dispatch(env("VR07"), request, more, booking_id=second)
    return request, {pumps.id: pumps, more.id: more}, [first, second]


def test_dispatched_capacity_is_en_route_until_it_arrives() -> None:
    """Source: domain.md §Settled questions, 'Dispatched is not arrived'."""
    request, capacities, (first, _) = deployed_request()
    pumps = capacities[request.bookings[first].capacity_id]
    assert pumps.held(BookingState.EN_ROUTE) == 3 and pumps.held(BookingState.ON_SCENE) == 0
    view = capacity_view(pumps)
    assert (view["en_route"], view["on_scene"], view["deployed"]) == (3, 0, 3)
    assert {b["state"] for b in view["bookings"]} == {"en_route"}
    # The requester (VR08) records the arrival of 4 of the line, without booking ids.
    moved = move_line(
        env("VR08"), request, capacities.__getitem__, Step.ARRIVE, line_id="L1", quantity=4
    )
    assert len(moved) == 2
    row = request_row(request)
    [line_row] = row["lines"]
    assert (line_row["en_route"], line_row["on_scene"]) == (1, 4)
    figures = {
        c.id: (capacity_view(c)["en_route"], capacity_view(c)["on_scene"])
        for c in capacities.values()
    }
    assert sorted(figures.values()) == [(0, 3), (1, 1)]
    # What exists still adds up: nothing is counted twice by the split.
    for c in capacities.values():
        assert c.available == 4 - sum(b.quantity for b in c.bookings.values())


def test_per_line_takes_the_bookings_in_the_documented_order_and_splits_the_last() -> None:
    """Bookings furthest along first, then in the order they were booked; the last one taken
    is split, the moved part under an id derived from the booking and the request's version.
    Source: domain.md §Settled questions, 'Dispatched is not arrived'; the requesting side
    records per line (issue 18, point 2)."""
    request, capacities, (first, second) = deployed_request()
    before = copy.deepcopy((request, capacities))
    moved = move_line(
        env("VR08"), request, capacities.__getitem__, Step.ARRIVE, line_id="L1", quantity=4
    )
    # The first booked (3) whole, then 1 of the second, split off.
    assert moved[0] == first
    part = request.bookings[moved[1]]
    assert part.split_from == second and part.quantity == 1 and part.step is LineStep.ARRIVED
    assert request.bookings[second].quantity == 1
    assert request.bookings[second].step is LineStep.DISPATCHED
    on_capacity = capacities[part.capacity_id].bookings
    assert on_capacity[moved[1]].split_from == second
    assert on_capacity[moved[1]].state is BookingState.ON_SCENE
    assert on_capacity[second].quantity == 1
    # Deterministic: the same post on the same state splits the same way.
    again_request, again_capacities = before
    again = move_line(
        env("VR08"),
        again_request,
        again_capacities.__getitem__,
        Step.ARRIVE,
        line_id="L1",
        quantity=4,
    )
    assert again == moved
    # Release per line: on scene first (the split part is the newest), then en route.
    move_line(env("VR08"), request, capacities.__getitem__, Step.RELEASE, line_id="L1", quantity=4)
    steps = sorted((b.step.value, b.quantity) for b in request.bookings.values())
    assert steps == [("dispatched", 1), ("released", 1), ("released", 3)]


def test_a_part_of_a_booking_is_released_and_returned() -> None:
    """Source: domain.md §Settled questions, 'Dispatched is not arrived'; §Lifecycle:
    released -> returned, by quantity."""
    request, capacities, (first, _) = deployed_request()
    pumps = capacities[request.bookings[first].capacity_id]
    release(env("VR07"), request, pumps, booking_id=first, quantity=2)
    [part] = [b for b in request.bookings.values() if b.split_from == first]
    assert (part.step, part.quantity, request.bookings[first].quantity) == (
        LineStep.RELEASED,
        2,
        1,
    )
    return_home(env("VR07"), request, pumps, booking_id=part.booking_id, quantity=1)
    view = capacity_view(pumps)
    assert (view["en_route"], view["returning"], view["available"]) == (1, 1, 2)
    with pytest.raises(DomainError) as exc:
        release(env("VR07"), request, pumps, booking_id=first, quantity=2)
    assert exc.value.code == "exceeds_booked"


@pytest.mark.parametrize(
    ("org", "role", "quantity", "line_id", "code"),
    [
        ("OM-ON", "operator", 1, "L1", "step_not_permitted"),  # neither requester nor provider
        ("VR23", "operator", 1, "L1", "not_own_capacity"),  # a provider without bookings here
        ("IFV", "operator", 1, "L1", "not_own_capacity"),
        ("VR08", "viewer", 1, "L1", "read_only_role"),
        ("VR08", "operator", 6, "L1", "exceeds_movable"),  # more than is en route
        ("VR08", "operator", 1, "L9", "unknown_line"),
    ],
)
def test_per_line_steps_are_checked_by_the_one_check(
    org: str, role: str, quantity: int, line_id: str, code: str
) -> None:
    request, capacities, _ = deployed_request()
    before = copy.deepcopy(request.bookings)
    with pytest.raises(DomainError) as exc:
        move_line(
            env(org, role=role),
            request,
            capacities.__getitem__,
            Step.ARRIVE,
            line_id=line_id,
            quantity=quantity,
        )
    assert exc.value.code == code
    assert request.bookings == before
    # What check_step refuses, open_steps does not offer; the rest is refused for its data.
    offered = request.can(Step.ARRIVE, env(org, role=role).actor)
    assert offered is (code in ("exceeds_movable", "unknown_line"))


def test_a_booking_stored_as_deployed_reads_back_as_en_route_then_on_scene() -> None:
    """Capacity bookings stored before issue 18 said ``deployed`` for dispatched and arrived;
    the capacity's history reads back apart: after a commitment en route, after that on scene."""
    pumps = capacity("VR07", CAP["fire"], 4)
    booking = CapacityBooking(uuid4(), uuid4(), "L1", 2, BookingState.COMMITTED)
    pumps.book(env("VR07"), booking)
    dispatched = CapacityBooking(
        booking.booking_id, booking.request_id, "L1", 2, BookingState.DEPLOYED
    )
    pumps.emit(pumps.BookingChanged, env("VR07"), booking=dispatched)
    assert pumps.bookings[booking.booking_id].state is BookingState.EN_ROUTE
    pumps.emit(pumps.BookingChanged, env("VR07"), booking=dispatched)
    assert pumps.bookings[booking.booking_id].state is BookingState.ON_SCENE


# --- the read models ---------------------------------------------------------------------------


def test_the_picture_board_and_overview_show_en_route_and_on_scene_apart() -> None:
    """Source: domain.md §Settled questions, 'Dispatched is not arrived': "The picture and
    the overviews keep them apart"."""
    request, capacities, _ = deployed_request()
    incident = str(uuid4())
    move_line(env("VR08"), request, capacities.__getitem__, Step.ARRIVE, line_id="L1", quantity=2)
    row = {**request_row(request), "incident_id": incident}
    incidents = [
        {
            "id": incident,
            "title": "flood",
            "regions": ["VR08"],
            "grip": "4",
            "phase": "warm",
            "closed": False,
            "latest_report": None,
            "exercise": False,
            "classification": "ongerubriceerd",
        }
    ]
    [item] = rm.picture(incidents, [row], datetime.now(UTC))["incidents"]
    assert item["en_route"] == {CAP["fire"]: 3} and item["on_scene"] == {CAP["fire"]: 2}
    assert item["deployed"] == {CAP["fire"]: 5}  # kept for existing clients: their sum
    [board_item] = rm.board([row], datetime.now(UTC))
    assert (board_item["en_route"], board_item["on_scene"]) == (3, 2)
    rows = [capacity_row(c) for c in capacities.values()]
    [fire] = rm.capacity_overview(rows, [row])["capabilities"]
    assert (fire["en_route"], fire["on_scene"], fire["deployed"]) == (3, 2, 5)
    assert sum(fire[s] for s in rm.CAPACITY_STATES) == fire["exists"]
