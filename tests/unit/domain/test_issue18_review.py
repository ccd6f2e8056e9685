"""Review of the merged issue-18 result: interactions between shares, deciders, duties, en
route/on scene and the read models (probes; defects are xfail strict)."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.kinds import Justification as J
from domain.kinds import RequestKind as K
from domain.lifecycle import RequestStatus
from domain.request import AssistanceRequest, Outcome, Share, open_steps
from domain.rights import Step
from domain.services import commit, dispatch, move_line
from projections import readmodels as rm
from projections.specs import capacity_row, request_row
from tests.unit.domain.catalogue import CAP
from tests.unit.domain.helpers import capacity, chair, env, line, mayor, submitted

SOURCE = "domain.md §Settled questions (lines 127-130): several providers cover one request"
ART56 = {J.OWN_CAPACITY_INSUFFICIENT: "RCCB: all ME deployed", J.REGION_MAYOR_VIEW: "agrees"}


def steps(request: AssistanceRequest, org: str) -> list[str]:
    return [s["step"] for s in open_steps(request, org, "operator")]


def art56_shared() -> AssistanceRequest:
    """POL-ON asks 2 ME platoons (art. 56); LE Preparatie asks POL-MN and POL-NN one each."""
    request = submitted(
        "POL-ON",
        K.POLICE_ART56_PUBLIC_ORDER,
        mayor("Nijmegen"),
        line(CAP["police_me"], 2),
        justifications=ART56,
    )
    request.receive(env("POL-LE"))
    request.assess(env("POL-LE"), forward=True, findings="necessary")
    request.forward(env("POL-LE"), (), shares=(Share("POL-MN", "L1", 1), Share("POL-NN", "L1", 1)))
    return request


@pytest.mark.xfail(
    strict=True,
    reason="korpschef's partial grant with shares: every share is granted min(asked, line "
    "granted), so the shares' granted add up to more than the request granted",
)
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


def pumps_shared() -> tuple[AssistanceRequest, object, object]:
    request = submitted("VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"], 5))
    request.receive(env("LOCC"))
    request.assess(env("LOCC"), forward=True, findings="necessary")
    request.forward(env("LOCC"), (), shares=(Share("VR07", "L1", 3), Share("VR09", "L1", 2)))
    request.decide(env("VR07"), outcome=Outcome.GRANTED)
    request.decide(env("VR09"), outcome=Outcome.GRANTED)
    return request, capacity("VR07", CAP["fire"], 3), capacity("VR09", CAP["fire"], 2)


@pytest.mark.xfail(
    strict=True,
    reason="scarcity per provider counts to_commit only while a share's status is 'decided': "
    "a share partly committed and en route (or on scene) loses what it still has to commit",
)
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


@pytest.mark.xfail(
    strict=True,
    reason="share status 'returned' (next_actor none) once what was committed came back, "
    "though the provider still has granted capacity to commit (open_steps offers commit)",
)
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


def test_probe_per_line_arrival_release_across_two_providers() -> None:
    request, pumps07, pumps09 = pumps_shared()
    caps = {pumps07.id: pumps07, pumps09.id: pumps09}
    b7, b9 = uuid4(), uuid4()
    commit(env("VR07"), request, pumps07, line_id="L1", quantity=3, booking_id=b7)
    commit(env("VR09"), request, pumps09, line_id="L1", quantity=2, booking_id=b9)
    dispatch(env("VR07"), request, pumps07, booking_id=b7)
    dispatch(env("VR09"), request, pumps09, booking_id=b9)
    move_line(env("VR08"), request, caps.__getitem__, Step.ARRIVE, line_id="L1", quantity=4)
    move_line(env("VR08"), request, caps.__getitem__, Step.RELEASE, line_id="L1", quantity=2)
    row = request_row(request)
    [line_row] = row["lines"]
    per = {p["provider"]: p for p in line_row["providers"]}
    total = lambda k: sum(p[k] for p in per.values())  # noqa: E731
    assert total("en_route") == line_row["en_route"]
    assert total("on_scene") == line_row["on_scene"]
    assert total("committed") == 5
    print(per, line_row)
    # VR09 cannot return VR07's released part
    with pytest.raises(Exception):
        move_line(env("VR09"), request, caps.__getitem__, Step.RETURN, line_id="L1", quantity=2)
    overview = rm.capacity_overview([capacity_row(pumps07), capacity_row(pumps09)], [row])
    print(overview)


def test_probe_void_of_a_forward_with_shares_and_a_share_decision() -> None:
    request = submitted("VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"], 5))
    request.receive(env("LOCC"))
    request.assess(env("LOCC"), forward=True, findings="necessary")
    request.forward(env("LOCC"), (), shares=(Share("VR07", "L1", 3), Share("VR09", "L1", 2)))
    request.decide(env("VR07"), outcome=Outcome.GRANTED)
    print("void steps VR07", steps(request, "VR07"), "LOCC", steps(request, "LOCC"))
    request.correct(env("LOCC"), request.version, "VR07 decided on the phone, wrong")
    assert request.status is RequestStatus.FORWARDED
    assert all(s.outcome is None for s in request.shares.values())
    assert request.granted == {} or request.granted == {"L1": 0} or not request.granted
    # only one step back can be voided (by design)
    print(request.status, request.shares, request.forwarded_to)


def test_probe_art56_refusal_with_shares_appeal_upheld() -> None:
    request = art56_shared()
    request.decide(env("POL-LE"), outcome=Outcome.REFUSED, reasons="ME needed at home")
    print("shares after refusal", request.shares, request.duties_due)
    assert "inform" in steps(request, "POL-LE")
    request.inform(env("POL-LE"), duty="korpschef_refusal_to_dgpol", to="JV-DGPOL")
    request.appeal(env("POL-ON", mayor("Nijmegen")), grounds="riots")
    print("steps DGPOL", steps(request, "JV-DGPOL"), "MIN", steps(request, "JV-MIN"))
    request.advise(env("JV-DGPOL"), favourable=True, advice="uphold")
    print("after advice MIN steps", steps(request, "JV-MIN"), steps(request, "MIN-JV"))
    row = request_row(request)
    print(row["status"], row.get("next_actor"), row["shares"])


def test_probe_art56_partial_then_remainder() -> None:
    request = art56_shared()
    request.decide(
        env("POL-LE"), outcome=Outcome.PARTLY_GRANTED, reasons="one", granted=(("L1", 1),)
    )
    print("POL-LE steps", steps(request, "POL-LE"))
    print("POL-MN steps", steps(request, "POL-MN"), "POL-NN", steps(request, "POL-NN"))
    print([(s["to"], s["status"], s["next_actor"]) for s in request_row(request)["shares"]])
