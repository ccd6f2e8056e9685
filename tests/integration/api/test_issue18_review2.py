"""A second independent review of issue 18 ("The law, completed") through the API, on both
stores: each test pins a defect found by working the procedures as LOCC, regions, providers and
auditors would, fails on the code before its fix, and names its source in its docstring.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from tests.integration.api.conftest import Api, item
from tests.integration.api.test_exercise import approved, get, ok, registered
from tests.integration.api.test_shares import LOCC, detail, pumps, shares


def _pumps(api: Api, exercise: str) -> dict[str, Any]:
    overview = get(api, "/v1/capacity-overview", exercise=exercise)
    found: dict[str, Any] = next(
        c for c in overview["capabilities"] if c["capability"] == "FIRE_WATER_SUPPLY"
    )
    return found


def test_real_equipment_made_ready_for_an_approved_exercise_is_reserved_in_every_picture(
    api: Api,
) -> None:
    """domain.md §Settled questions: "An exercise may use real equipment: the real overview then
    shows it as committed to an exercise", and "The national capacity overview ... is the same
    for every reader of equal clearance"; README (capacity states): made ready for an approved
    request is *reserved*. Before the fix the real overview (``exercise=false``) showed a real
    pump made ready for an approved exercise as ``made_ready`` and the combined one
    (``exercise=all``) as ``reserved``: the same real capacity in two states."""
    drill = approved(api, exercise=True)
    capacity = registered(api, exercise=False, quantity=3)
    ready = {
        "capacity_id": str(capacity),
        "booking_id": str(uuid4()),
        "line_id": "L1",
        "quantity": 1,
    }
    ok(api, "VR07", item("request.made_ready", drill, ready, exercise=True))
    real, both = _pumps(api, "false"), _pumps(api, "all")
    assert (real["reserved"], real["made_ready"], real["available"]) == (1, 0, 2)
    assert (both["reserved"], both["made_ready"]) == (1, 0)


def test_only_the_provider_voids_its_own_refusal(api: Api) -> None:
    """domain.md §Who acts ("the actor is the organisation that records a step") and
    §Settled questions ("each provider decides only its own share"); README: a step recorded
    in error is voided by a new event with a reason. Before the fix VR08, the requester, voided
    VR07's refusal of its share (201) and VR07 itself could not (403)."""
    subject = pumps(api)
    api.accepted(LOCC, item("request.forwarded", subject, shares(("VR07", 3), ("VR09", 2))))
    decided = api.accepted(
        "VR07", item("request.decided", subject, {"outcome": "refused", "reasons": "none left"})
    )
    void = {"target_version": decided["events"][0]["version"], "reason": "recorded in error"}
    error = api.refused("VR08", item("request.voided", subject, void), 403, "not_own_step")
    assert "VR07" in error["reason"]
    assert "void" not in [s["step"] for s in detail(api, subject, "VR08")["open_steps"]]
    assert "void" in [s["step"] for s in detail(api, subject, "VR07")["open_steps"]]
    api.accepted("VR07", item("request.voided", subject, void))
    vr07 = next(s for s in detail(api, subject)["shares"] if s["to"] == "VR07")
    assert (vr07["outcome"], vr07["next_actor"]) == (None, "VR07")
