"""An independent review of the merged issue-18 result: the interactions between shares,
the kinds' deciders, appeals, duties to inform, en route/on scene and the read models.

Each test here pins a DEFECT found in the merged code and is marked ``xfail(strict=True)`` with
the defect as its reason: it fails on the merged code, and turns the suite red (XPASS) once the
defect is fixed, so the fix removes the marker. Sources: domain.md §Settled questions (lines
127-130: several providers, "each provider decides only its own share and commits only what it
was asked for and granted; after a refusal or a partial grant LOCC may forward the remainder
elsewhere"); issue 18 points 1, 4 and 5; factsheet-bijstand-politie §1, §9.
"""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.capacity import Capacity
from domain.envelope import Authority
from domain.errors import DomainError
from domain.kinds import RequestKind as K
from domain.lifecycle import RequestStatus
from domain.request import AssistanceRequest, Outcome, Share, open_steps
from domain.rights import Step
from domain.services import commit, dispatch, make_ready, move_line
from projections import readmodels as rm
from projections.specs import capacity_row, request_row
from tests.unit.domain import helpers
from tests.unit.domain.catalogue import CAP
from tests.unit.domain.helpers import art56_received, capacity, chair, env, line, mayor, submitted


def steps(request: AssistanceRequest, org: str) -> list[str]:
    return [s["step"] for s in open_steps(request, org, "operator")]


def art56_shared() -> AssistanceRequest:
    """POL-ON asks 2 ME platoons (art. 56); LE Preparatie asks POL-MN and POL-NN one each."""
    request = art56_received()
    request.assess(env("POL-LE"), forward=True, findings="necessary")
    request.forward(env("POL-LE"), (), shares=(Share("POL-MN", "L1", 1), Share("POL-NN", "L1", 1)))
    return request


def test_a_korpschefs_partial_grant_is_not_granted_twice_across_shares() -> None:
    request = art56_shared()
    request.decide(
        env("POL-LE"), outcome=Outcome.PARTLY_GRANTED, reasons="one platoon", granted=(("L1", 1),)
    )
    assert request.granted == {"L1": 1}
    assert sum(s.granted for s in request.shares.values()) <= 1
    row = request_row(request)
    [line_row] = row["lines"]
    assert sum(p["granted"] for p in line_row["providers"]) <= line_row["granted"]


def pumps_shared() -> tuple[AssistanceRequest, Capacity, Capacity]:
    """VR08 asks 5 pumps (art. 51 Wvr); LOCC asks VR07 for 3 and VR09 for 2; both grant."""
    request = submitted("VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"], 5))
    request.receive(env("LOCC"))
    request.assess(env("LOCC"), forward=True, findings="necessary")
    request.forward(env("LOCC"), (), shares=(Share("VR07", "L1", 3), Share("VR09", "L1", 2)))
    request.decide(env("VR07"), outcome=Outcome.GRANTED)
    request.decide(env("VR09"), outcome=Outcome.GRANTED)
    return request, capacity("VR07", CAP["fire"], 3), capacity("VR09", CAP["fire"], 2)


def test_scarcity_per_provider_counts_what_a_partly_committed_share_still_commits() -> None:
    request, pumps07, _ = pumps_shared()
    booking = uuid4()
    commit(env("VR07"), request, pumps07, line_id="L1", quantity=1, booking_id=booking)
    dispatch(env("VR07"), request, pumps07, booking_id=booking)
    row = request_row(request)
    vr07 = next(s for s in row["shares"] if s["to"] == "VR07")
    assert vr07["granted"] - vr07["committed"] == 2
    result = rm.scarcity([capacity_row(pumps07)], [row], [])
    providers = {p["provider"]: p for c in result["capabilities"] for p in c.get("providers", [])}
    assert providers["VR07"]["to_commit"] == 2


def test_a_share_partly_committed_and_returned_still_waits_for_its_provider() -> None:
    request, pumps07, _ = pumps_shared()
    booking = uuid4()
    commit(env("VR07"), request, pumps07, line_id="L1", quantity=1, booking_id=booking)
    dispatch(env("VR07"), request, pumps07, booking_id=booking)
    lookup = {pumps07.id: pumps07}.__getitem__
    move_line(env("VR08"), request, lookup, Step.ARRIVE, line_id="L1", quantity=1)
    move_line(env("VR08"), request, lookup, Step.RELEASE, line_id="L1", quantity=1)
    move_line(env("VR07"), request, lookup, Step.RETURN, line_id="L1", quantity=1)
    assert "commit" in steps(request, "VR07")
    vr07 = next(s for s in request_row(request)["shares"] if s["to"] == "VR07")
    assert vr07["status"] != "returned" and vr07["next_actor"] == "VR07"


def test_a_share_with_nothing_left_to_commit_does_not_wait_for_its_provider() -> None:
    request = submitted("VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"], 5))
    request.receive(env("LOCC"))
    request.assess(env("LOCC"), forward=True, findings="necessary")
    request.forward(env("LOCC"), ("VR07", "VR09"))  # the whole request to each (as before)
    request.decide(env("VR07"), outcome=Outcome.GRANTED)
    request.decide(env("VR09"), outcome=Outcome.GRANTED)
    helpers.book(request, "VR07", CAP["fire"], 5)
    assert "commit" not in steps(request, "VR09")
    row = request_row(request)
    assert row["step"] == "in_deployment"
    assert [w for w in row["waiting_shares"] if w["next_actor"] == "VR09"] == []


def test_after_a_korpschefs_partial_grant_one_commit_leaves_no_share_waiting() -> None:
    request = art56_shared()
    request.decide(
        env("POL-LE"), outcome=Outcome.PARTLY_GRANTED, reasons="one platoon", granted=(("L1", 1),)
    )
    helpers.book(request, "POL-MN", CAP["police_me"], 1)
    assert "commit" not in steps(request, "POL-NN")
    assert request_row(request)["waiting_shares"] == []


def test_the_granted_rest_of_an_art58_line_can_be_asked_of_its_only_provider() -> None:
    request = helpers.art58_one_of_two_asked()
    assert request.granted == {"L1": 2} and request.open_quantity("L1") == 1
    assert "forward" in steps(request, "LOCC")
    request.forward(env("LOCC"), (), shares=(Share("DEF-DOPS", "L1", 1),))


def test_a_provider_never_asked_does_not_reserve_capacity_for_an_approved_request() -> None:
    request, _, _ = pumps_shared()
    assert "commit" not in steps(request, "VR10")
    pumps = capacity("VR10", CAP["fire"], 2)
    try:
        make_ready(env("VR10"), request, pumps, line_id="L1", quantity=2, booking_id=uuid4())
    except DomainError:  # refused: what the rule asks
        return
    overview = rm.capacity_overview([capacity_row(pumps)], [request_row(request)])
    [water] = overview["capabilities"]
    assert water["reserved"] == 0


def test_a_partial_grant_of_a_line_outside_the_share_is_refused() -> None:
    request = submitted(
        "VR08",
        K.REGION_ART51,
        chair("VR08"),
        line(CAP["fire"], 5),
        line(CAP["fire"], 2, line_id="L2"),
    )
    request.receive(env("LOCC"))
    request.assess(env("LOCC"), forward=True, findings="necessary")
    request.forward(env("LOCC"), (), shares=(Share("VR07", "L1", 3),))
    with pytest.raises(DomainError):
        request.decide(
            env("VR07"),
            outcome=Outcome.PARTLY_GRANTED,
            reasons="one only",
            granted=(("L2", 1),),
        )


def test_an_upheld_appeal_makes_le_preparatie_inform_locc() -> None:
    request = art56_shared()
    request.decide(env("POL-LE"), outcome=Outcome.REFUSED, reasons="ME needed at home")
    request.inform(env("POL-LE"), duty="korpschef_refusal_to_dgpol", to="JV-DGPOL")
    request.appeal(env("POL-ON", mayor("Nijmegen")), grounds="riots")
    request.advise(env("JV-DGPOL"), favourable=True, advice="uphold")
    request.decide_appeal(
        env("JV-MIN", Authority("minister_jv", "JV-MIN")), upheld=True, reasons="instructed"
    )
    assert request.status is RequestStatus.APPROVED
    assert [d.code for d in request.outstanding_duties()] == ["police_le_informs_locc"]


def test_a_closed_request_has_no_share_waiting() -> None:
    request = submitted("VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"], 5))
    request.receive(env("LOCC"))
    request.assess(env("LOCC"), forward=True, findings="necessary")
    request.forward(env("LOCC"), (), shares=(Share("VR07", "L1", 3), Share("VR09", "L1", 2)))
    request.decide(env("VR07"), outcome=Outcome.GRANTED)
    request.close(env("VR08"), summary="the water went down")
    assert "decide" not in steps(request, "VR09")
    row = request_row(request)
    assert [s["next_actor"] for s in row["shares"] if s["to"] == "VR09"] == [None]
    assert row["waiting_shares"] == []
