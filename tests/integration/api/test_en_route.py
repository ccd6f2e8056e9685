"""Dispatched is not arrived (issue 18, point 2), through the API on both stores: the
requesting region records arrival and release per line without booking ids; the picture, the
capacity overview, the board and ``as_of`` show en route and on scene apart.

Source: ../shared/domain.md, §Settled questions, "Dispatched is not arrived. Capacity on its
way is *en route*; on arrival it is *on scene* and control passes to the civil authority. The
picture and the overviews keep them apart."
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.integration.api.conftest import Api, item
from tests.integration.api.test_exercise import (
    approved,
    commit,
    dispatch,
    get,
    ok,
    registered,
    steps_to_approval,
)


def incident(api: Api) -> UUID:
    subject = uuid4()
    ok(
        api,
        "VR08",
        item("incident.opened", subject, {"title": "tunnel", "regions": ["VR08"], "grip": "2"}),
    )
    return subject


def dispatched(api: Api) -> tuple[UUID, UUID, UUID]:
    """VR08's approved request (2 pumps) on an incident; VR07 commits and dispatches both."""
    request = approved(api, exercise=False)
    capacity = registered(api, exercise=False, quantity=3)
    booking = uuid4()
    ok(api, "VR07", commit(request, capacity, False, quantity=2, booking_id=booking))
    ok(api, "VR07", dispatch(request, capacity, booking, exercise=False))
    return request, capacity, booking


def fire(body: dict[str, Any]) -> dict[str, int]:
    return {k: body[k] for k in ("en_route", "on_scene", "deployed")}


def water(overview: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in overview["capabilities"] if c["capability"] == "FIRE_WATER_SUPPLY")


def test_the_requester_records_arrival_per_line_and_the_picture_tells_en_route_from_on_scene(
    api: Api,
) -> None:
    request, capacity, booking = dispatched(api)
    between = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    overview = get(api, "/v1/capacity-overview")
    assert fire(water(overview)) == {"en_route": 2, "on_scene": 0, "deployed": 2}
    # VR08, the requesting region, knows no booking ids: it names the line and how many.
    arrived = ok(api, "VR08", item("request.arrived", request, {"line_id": "L1", "quantity": 1}))
    assert [e["type"] for e in arrived["events"]] == ["request.arrived", "capacity.booked"]
    overview = get(api, "/v1/capacity-overview")
    assert fire(water(overview)) == {"en_route": 1, "on_scene": 1, "deployed": 2}
    [row] = [r for r in overview["rows"] if r["capability"] == "FIRE_WATER_SUPPLY"]
    assert sum(row[s] for s in ("available", "en_route", "on_scene", "withheld")) == row["exists"]
    detail = get(api, f"/v1/requests/{request}")
    assert (detail["lines"][0]["en_route"], detail["lines"][0]["on_scene"]) == (1, 1)
    [part] = [b for b in detail["bookings"] if b["split_from"] == str(booking)]
    assert (part["step"], part["quantity"]) == ("arrived", 1)
    capacity_row = get(api, f"/v1/capacities/{capacity}")
    assert {b["state"] for b in capacity_row["bookings"]} == {"en_route", "on_scene"}
    board = get(api, "/v1/board")
    [entry] = [i for i in board["items"] if i["id"] == str(request)]
    assert (entry["en_route"], entry["on_scene"]) == (1, 1)
    # The picture as it was between dispatch and arrival: all of it en route.
    then = get(api, "/v1/capacity-overview", as_of=between)
    assert fire(water(then)) == {"en_route": 2, "on_scene": 0, "deployed": 2}
    # Release per line: what is on scene first.
    ok(api, "VR08", item("request.released", request, {"line_id": "L1", "quantity": 1}))
    overview = get(api, "/v1/capacity-overview")
    assert (water(overview)["en_route"], water(overview)["returning"]) == (1, 1)
    # The timeline names how long the first booking was en route and then on scene.
    timeline = get(api, f"/v1/requests/{request}/timeline")
    states = {d["state"]: (d["from"], d["to"]) for d in timeline["durations"] if "state" in d}
    assert states == {"en_route": ("dispatched", "arrived"), "on_scene": ("arrived", "released")}


def test_the_picture_per_incident_shows_en_route_and_on_scene_apart(api: Api) -> None:
    place = incident(api)
    request = uuid4()
    for org, body in steps_to_approval(request, False):
        if body["type"] == "request.drafted":
            body["data"]["incident_id"] = str(place)
        ok(api, org, body, **({"role": "coordinator"} if org == "LOCC" else {}))
    capacity = registered(api, exercise=False, quantity=3)
    booking = uuid4()
    ok(api, "VR07", commit(request, capacity, False, quantity=2, booking_id=booking))
    ids = {"capacity_id": str(capacity), "booking_id": str(booking)}
    ok(api, "VR07", item("request.dispatched", request, ids))
    [shown] = [i for i in get(api, "/v1/picture")["incidents"] if i["id"] == str(place)]
    assert (shown["en_route"], shown["on_scene"]) == ({"FIRE_WATER_SUPPLY": 2}, {})
    # The provider records a part of its booking on scene (quantity below the booking's).
    ok(api, "VR07", item("request.arrived", request, {**ids, "quantity": 1}))
    [shown] = [i for i in get(api, "/v1/picture")["incidents"] if i["id"] == str(place)]
    assert shown["en_route"] == {"FIRE_WATER_SUPPLY": 1}
    assert shown["on_scene"] == {"FIRE_WATER_SUPPLY": 1}
    assert shown["deployed"] == {"FIRE_WATER_SUPPLY": 2}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"line_id": "L1"}, "quantity"),
        ({"quantity": 1}, "line_id"),
        ({"line_id": "L1", "quantity": "1"}, None),
        ({"line_id": "L1", "quantity": 0}, None),
        ({"line_id": "L1", "quantity": 1, "booking_id": str(uuid4())}, "not both"),
    ],
)
def test_malformed_per_line_steps_are_refused(
    api: Api, data: dict[str, Any], reason: str | None
) -> None:
    request, _, _ = dispatched(api)
    error = api.refused("VR08", item("request.arrived", request, data), 422, "invalid_data")
    if reason:
        assert reason in str(error)


def test_unauthorised_duplicate_and_conflicting_per_line_steps(api: Api) -> None:
    request, _, _ = dispatched(api)
    per_line = {"line_id": "L1", "quantity": 1}
    # Unauthorised: a read-only role; another region (it may not see the request); a party
    # without a booking to move.
    api.refused(
        "VR08", item("request.arrived", request, per_line), 403, "read_only_role", role="viewer"
    )
    api.refused("VR23", item("request.arrived", request, per_line), 404, "unknown_subject")
    api.refused("IFV", item("request.arrived", request, per_line), 404, "unknown_subject")
    # Conflicting: more than is en route; a stale expected version; an unknown line.
    api.refused(
        "VR08",
        item("request.arrived", request, {"line_id": "L1", "quantity": 3}),
        409,
        "exceeds_movable",
    )
    api.refused(
        "VR08",
        item("request.arrived", request, per_line, expected_version=2),
        409,
        "version_conflict",
    )
    api.refused(
        "VR08",
        item("request.arrived", request, {"line_id": "L7", "quantity": 1}),
        422,
        "unknown_line",
    )
    # Duplicate: the same message again is a replay; its id with other content a conflict.
    body = item("request.arrived", request, per_line)
    first = ok(api, "VR08", body)
    again = api.post("VR08", body)
    assert again.status_code == 201 and again.json()["replayed"] is True
    assert again.json()["events"] == first["events"]
    api.refused(
        "VR08",
        {**body, "data": {"line_id": "L1", "quantity": 2}},
        409,
        "message_id_reused",
    )
    detail = get(api, f"/v1/requests/{request}")
    assert (detail["lines"][0]["en_route"], detail["lines"][0]["on_scene"]) == (1, 1)
