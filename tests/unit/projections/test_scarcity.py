"""Scarcity advice on hand-made rows: the documented ranking, and the Minister's decision."""

from __future__ import annotations

from typing import Any

from projections import readmodels as rm


def capacity(id_: str, available: int, klass: str, notice: int = 60) -> dict[str, Any]:
    return {
        "id": id_,
        "capability": "DEF_EVACUATION_TRANSPORT",
        "provider": "DEF-DOPS",
        "home_region": None,
        "class": klass,
        "notice_minutes": notice,
        "exists": available,
        "unavailable": 0,
        "abroad": 0,
        "bookings": [],
    }


def request(
    id_: str,
    wanted: int,
    *,
    urgent: bool = False,
    incident: str | None = None,
    submitted: str = "2026-11-25T08:00:00+00:00",
    minister: int | None = None,
) -> dict[str, Any]:
    return {
        "id": id_,
        "status": "forwarded",
        "requester": f"R-{id_}",
        "urgent": urgent,
        "incident_id": incident,
        "submitted_at": submitted,
        "priority": {} if minister is None else {"DEF_EVACUATION_TRANSPORT": minister},
        "lines": [
            {
                "line_id": "L1",
                "capability": "DEF_EVACUATION_TRANSPORT",
                "quantity": wanted,
                "wanted": wanted,
                "granted": None,
                "committed": 0,
            }
        ],
    }


INCIDENTS = [{"id": "grip4", "grip": "4"}, {"id": "grip2", "grip": "2"}]
SUPPLY = [capacity("best", 3, "best_effort"), capacity("guaranteed", 2, "guaranteed")]


def ranking(requests: list[dict[str, Any]]) -> list[tuple[str, int, list[str]]]:
    [advice] = rm.scarcity(SUPPLY, requests, INCIDENTS)["capabilities"]
    return [
        (p["request_id"], p["allocated"], [f["capacity_id"] for f in p["from"]])
        for p in advice["proposal"]
    ]


def test_no_advice_while_supply_suffices() -> None:
    assert rm.scarcity(SUPPLY, [request("a", 5)], INCIDENTS)["capabilities"] == []


def test_urgent_then_grip_then_time_and_guaranteed_capacity_first() -> None:
    requests = [
        request("late", 2, submitted="2026-11-25T09:00:00+00:00"),
        request("early", 2, submitted="2026-11-25T07:00:00+00:00"),
        request("grip4", 2, incident="grip4", submitted="2026-11-25T10:00:00+00:00"),
        request("urgent", 3, urgent=True, incident="grip2"),
    ]
    assert ranking(requests) == [
        ("urgent", 3, ["guaranteed", "best"]),  # urgent first, from guaranteed capacity first
        ("grip4", 2, ["best"]),  # then the higher GRIP level
        ("early", 0, []),  # then the earlier submission; nothing left
        ("late", 0, []),
    ]


def test_the_ministers_priority_decision_is_followed() -> None:
    requests = [
        request("urgent", 3, urgent=True, incident="grip4"),
        request("chosen", 4, minister=1),
        request("second", 1, minister=2),
    ]
    assert ranking(requests) == [
        ("chosen", 4, ["guaranteed", "best"]),
        ("second", 1, ["best"]),
        ("urgent", 0, []),
    ]
    [advice] = rm.scarcity(SUPPLY, requests, INCIDENTS)["capabilities"]
    assert advice["minister_decided"] and advice["shortage"] == 8 - 5
