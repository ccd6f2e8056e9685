"""An independent review of the merged issue-18 result through the API (shares with en route,
on scene, partial release and return). Each test pins a DEFECT and is marked
``xfail(strict=True)`` with the defect as its reason. Source: issue 18 point 1 ("The request
detail shows per line how much is asked of whom, granted, committed, en route, on scene and
returned"); domain.md §Settled questions, "Dispatched is not arrived".
"""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

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


@pytest.mark.xfail(
    strict=True,
    reason="a share whose capacity was released (on its way home, not yet returned) shows "
    "status 'committed' and no figure for it: per provider committed != en route + on scene "
    "+ returned, and the board/screen says the provider still has to dispatch",
)
def test_a_released_share_does_not_read_as_committed(api: Api) -> None:
    subject, _ = crisis(api)  # VR07's one pump arrived first and was released
    view = detail(api, subject)
    vr07 = next(s for s in view["shares"] if s["to"] == "VR07")
    assert [b["step"] for b in view["bookings"] if b["provider"] == "VR07"] == ["released"]
    assert vr07["status"] != "committed"
