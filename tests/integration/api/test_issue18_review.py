"""An independent review of the merged issue-18 result through the API (shares with en route,
on scene, partial release and return). Each test pins a DEFECT and was marked
``xfail(strict=True)`` until it was fixed. Source: issue 18 point 1 ("The request
detail shows per line how much is asked of whom, granted, committed, en route, on scene and
returned"); domain.md §Settled questions, "Dispatched is not arrived".
"""

from __future__ import annotations

from uuid import UUID, uuid4

from tests.integration.api.conftest import Api, item
from tests.integration.api.test_shares import LOCC, capacity, committed, detail, pumps, shares


def crisis(api: Api) -> tuple[UUID, dict[str, UUID]]:
    """5 pumps: VR07 3 (grants 1), VR09 2 (grants), the remainder 2 to VR10 (grants); all
    commit and dispatch; VR08 records 3 on scene (VR07's first) and releases 1."""
    subject = pumps(api)
    api.accepted(LOCC, item("request.forwarded", subject, shares(("VR07", 3), ("VR09", 2))))
    partly = {
        "outcome": "partly_granted",
        "reasons": "one",
        "granted": [{"line_id": "L1", "quantity": 1}],
    }
    api.accepted("VR07", item("request.decided", subject, partly))
    api.accepted("VR09", item("request.decided", subject, {"outcome": "granted"}))
    api.accepted(LOCC, item("request.forwarded", subject, shares(("VR10", 2))))
    api.accepted("VR10", item("request.decided", subject, {"outcome": "granted"}))
    caps: dict[str, UUID] = {}
    for org, quantity in (("VR07", 1), ("VR09", 2), ("VR10", 2)):
        caps[org] = capacity(api, org, 4)
        booking = uuid4()
        api.accepted(
            org, item("request.committed", subject, committed(caps[org], quantity, booking))
        )
        ids = {"capacity_id": str(caps[org]), "booking_id": str(booking)}
        api.accepted(org, item("request.dispatched", subject, ids))
    api.accepted("VR08", item("request.arrived", subject, {"line_id": "L1", "quantity": 3}))
    api.accepted("VR08", item("request.released", subject, {"line_id": "L1", "quantity": 1}))
    return subject, caps


def test_a_released_share_does_not_read_as_committed(api: Api) -> None:
    subject, _ = crisis(api)  # VR07's one pump arrived first and was released
    view = detail(api, subject)
    vr07 = next(s for s in view["shares"] if s["to"] == "VR07")
    assert [b["step"] for b in view["bookings"] if b["provider"] == "VR07"] == ["released"]
    assert vr07["status"] != "committed"


def test_released_capacity_has_its_own_figure_per_provider(api: Api) -> None:
    """Per provider, committed = en route + on scene + released + returned + not moved yet
    (issue 18 point 1: the detail shows per line who covers what; domain.md settled questions,
    "Dispatched is not arrived": released is neither on scene nor returned)."""
    subject, _ = crisis(api)
    view = detail(api, subject)
    vr07 = next(s for s in view["shares"] if s["to"] == "VR07")
    assert (vr07["released"], vr07["on_scene"], vr07["status"]) == (1, 0, "released")
    assert vr07["next_actor"] is None and vr07["to_commit"] == 0
    [line] = view["lines"]
    for figures in [*view["shares"], *line["providers"]]:
        moved = sum(figures[k] for k in ("en_route", "on_scene", "released", "returned"))
        assert figures["committed"] == moved, figures  # everything committed was dispatched
    assert {p["provider"]: p["released"] for p in line["providers"]} == {
        "VR07": 1,
        "VR09": 0,
        "VR10": 0,
    }
