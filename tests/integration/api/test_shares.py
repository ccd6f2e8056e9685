"""Several providers cover one request, through the API (issue 18, point 1).

Source: domain.md §Settled questions (lines 127-130): "LOCC may forward a request, or lines or
quantities of it, to several providers; each provider decides only its own share and commits
only what it was asked for and granted; after a refusal or a partial grant LOCC may forward
the remainder elsewhere." On the code before (72956bf) ``shares`` was refused as unknown data
(422 invalid_data), VR09's decision after VR07's partial grant was 409 and a provider never
asked committed (201).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.integration.api.conftest import Api, chair, item

LOCC = "LOCC"


def _get(api: Api, path: str, org: str, **params: object) -> Any:
    response = api.client.get(path, headers=api.headers(org, "coordinator"), params=params)
    assert response.status_code == 200, response.text
    return response.json()


def pumps(api: Api, quantity: int = 5, municipality: str = "Nijmegen") -> UUID:
    """VR08 asks for pumps; LOCC receives and assesses it."""
    subject = uuid4()
    lines = [
        {
            "line_id": "L1",
            "capability": "FIRE_WATER_SUPPLY",
            "quantity": quantity,
            "effect": "pump out the tunnel",
            "municipality": municipality,
        }
    ]
    draft = {"kind": "region_art51", "title": "pumps", "lines": lines}
    api.accepted("VR08", item("request.drafted", subject, draft, authority=chair("VR08")))
    api.accepted("VR08", item("request.submitted", subject, authority=chair("VR08")))
    api.accepted(LOCC, item("request.received", subject))
    api.accepted(LOCC, item("request.assessed", subject, {"forward": True, "findings": "ok"}))
    return subject


def shares(*parts: tuple[str, int], line_id: str = "L1") -> dict[str, Any]:
    return {
        "shares": [{"to": to, "line_id": line_id, "quantity": quantity} for to, quantity in parts]
    }


def capacity(api: Api, org: str, quantity: int = 10) -> UUID:
    subject = uuid4()
    data = {"capability": "FIRE_WATER_SUPPLY", "quantity": quantity}
    api.accepted(org, item("capacity.registered", subject, data))
    return subject


def committed(capacity_id: UUID, quantity: int, booking_id: UUID | None = None) -> dict[str, Any]:
    return {
        "capacity_id": str(capacity_id),
        "booking_id": str(booking_id or uuid4()),
        "line_id": "L1",
        "quantity": quantity,
    }


def detail(api: Api, subject: UUID, org: str = LOCC) -> Any:
    return _get(api, f"/v1/requests/{subject}", org)


def vr07_grants_one_of_three(api: Api) -> UUID:
    """Pumps asked of VR07 (3) and VR09 (2); VR07 grants 1 of its 3."""
    subject = pumps(api)
    api.accepted(LOCC, item("request.forwarded", subject, shares(("VR07", 3), ("VR09", 2))))
    partly = {"outcome": "partly_granted", "reasons": "two at home", "granted": []}
    partly["granted"] = [{"line_id": "L1", "quantity": 1}]
    api.accepted("VR07", item("request.decided", subject, partly))
    return subject


def test_two_providers_a_partial_grant_and_the_remainder_to_a_third(api: Api) -> None:
    subject = vr07_grants_one_of_three(api)
    assert detail(api, subject)["status"] == "approved"  # once any share is granted
    # VR09 decides its own share after VR07's partial grant approved the request
    api.accepted("VR09", item("request.decided", subject, {"outcome": "refused", "reasons": "no"}))
    view = detail(api, subject)
    assert view["status"] == "approved" and view["lines"][0]["granted"] == 1
    assert {"step": "forward", "type": "request.forwarded"} in view["open_steps"]
    api.accepted(LOCC, item("request.forwarded", subject, shares(("VR10", 4))))
    api.accepted("VR10", item("request.decided", subject, {"outcome": "granted"}))
    assert detail(api, subject)["lines"][0]["granted"] == 5


def test_a_provider_never_asked_cannot_commit(api: Api) -> None:
    # pumps for Arnhem: VR07 sees the request (its region), but LOCC asks VR09
    subject = pumps(api, municipality="Arnhem")
    api.accepted(LOCC, item("request.forwarded", subject, shares(("VR09", 3))))
    api.accepted("VR09", item("request.decided", subject, {"outcome": "granted"}))
    theirs = capacity(api, "VR07")
    error = api.refused(
        "VR07", item("request.committed", subject, committed(theirs, 1)), 403, "not_asked"
    )
    assert "was not asked" in error["reason"]
    assert "commit" not in [s["step"] for s in detail(api, subject, "VR07")["open_steps"]]
    assert "commit" in [s["step"] for s in detail(api, subject, "VR09")["open_steps"]]


def test_a_provider_cannot_commit_more_than_granted_to_it(api: Api) -> None:
    subject = vr07_grants_one_of_three(api)
    own = capacity(api, "VR07")
    api.refused(
        "VR07", item("request.committed", subject, committed(own, 2)), 409, "exceeds_granted"
    )
    api.accepted("VR07", item("request.committed", subject, committed(own, 1)))


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (shares(("VR07", 1), line_id="L9"), "unknown_line"),
        (shares(("VR07", 6)), "share_exceeds_remaining"),
        (shares(("IFV", 1)), "share_provider_mismatch"),
        (shares(("VR07", 1), ("VR07", 1)), "duplicate_share"),
        ({"to": []}, "recipients_required"),
    ],
)
def test_malformed_shares_answer_422_and_record_nothing(
    api: Api, data: dict[str, Any], code: str
) -> None:
    subject = pumps(api)
    api.refused(LOCC, item("request.forwarded", subject, data), 422, code)


def test_the_share_of_a_provider_asked_already_is_a_duplicate(api: Api) -> None:
    subject = pumps(api)
    api.accepted(LOCC, item("request.forwarded", subject, shares(("VR07", 2))))
    api.refused(
        LOCC, item("request.forwarded", subject, shares(("VR07", 1))), 422, "duplicate_share"
    )


def test_the_board_lists_waiting_shares_and_the_detail_who_covers_what(api: Api) -> None:
    subject = pumps(api)
    api.accepted(LOCC, item("request.forwarded", subject, shares(("VR07", 3), ("VR09", 2))))
    api.accepted("VR07", item("request.decided", subject, {"outcome": "granted"}))
    own = capacity(api, "VR07")
    first, second = uuid4(), uuid4()
    api.accepted("VR07", item("request.committed", subject, committed(own, 2, first)))
    api.accepted("VR07", item("request.committed", subject, committed(own, 1, second)))
    on_capacity = {"capacity_id": str(own)}
    api.accepted(
        "VR07", item("request.dispatched", subject, {**on_capacity, "booking_id": str(first)})
    )
    api.accepted(
        "VR07", item("request.dispatched", subject, {**on_capacity, "booking_id": str(second)})
    )
    api.accepted(
        "VR08", item("request.arrived", subject, {**on_capacity, "booking_id": str(second)})
    )
    position = api.position()
    board = _get(api, "/v1/board", LOCC, min_position=position, wait=10)
    [mine] = [i for i in board["items"] if i["id"] == str(subject)]
    assert mine["status"] == "approved"
    assert [
        (w["to"], w["asked"], w["status"], w["next_actor"]) for w in mine["waiting_shares"]
    ] == [("VR09", 2, "forwarded", "VR09")]
    assert mine["next_actor"] == "VR09"
    [line] = detail(api, subject)["lines"]
    figures = {p["provider"]: p for p in line["providers"]}
    assert {k: figures["VR07"][k] for k in ("asked", "granted", "committed")} == {
        "asked": 3,
        "granted": 3,
        "committed": 3,
    }
    assert (figures["VR07"]["en_route"], figures["VR07"]["on_scene"]) == (2, 1)
    assert (figures["VR07"]["returned"], figures["VR07"]["status"]) == (0, "on_scene")
    assert {k: figures["VR09"][k] for k in ("asked", "granted", "committed", "status")} == {
        "asked": 2,
        "granted": 0,
        "committed": 0,
        "status": "forwarded",
    }


def test_scarcity_counts_per_provider(api: Api) -> None:
    subject = pumps(api, 6)
    capacity(api, "VR07", 1)
    capacity(api, "VR09", 2)
    api.accepted(LOCC, item("request.forwarded", subject, shares(("VR07", 4), ("VR09", 2))))
    position = api.position()
    advice = _get(api, "/v1/scarcity", LOCC, min_position=position, wait=10)
    [pumps_advice] = [c for c in advice["capabilities"] if c["capability"] == "FIRE_WATER_SUPPLY"]
    per = {p["provider"]: p for p in pumps_advice["providers"]}
    assert (per["VR07"]["available"], per["VR07"]["asked"], per["VR07"]["short"]) == (1, 4, 3)
    assert (per["VR09"]["available"], per["VR09"]["asked"], per["VR09"]["short"]) == (2, 2, 0)
    [proposal] = pumps_advice["proposal"]
    assert proposal["asked_of"] == ["VR07", "VR09"]
