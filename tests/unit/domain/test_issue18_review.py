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


@pytest.mark.xfail(
    strict=True,
    reason="a share granted but with no room left on its line (another provider committed "
    "what the line was granted) stays 'decided' with the provider as next_actor in "
    "waiting_shares (board), while open_steps no longer offers it commit",
)
def test_a_share_with_nothing_left_to_commit_does_not_wait_for_its_provider() -> None:
    request = submitted("VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"], 5))
    request.receive(env("LOCC"))
    request.assess(env("LOCC"), forward=True, findings="necessary")
    request.forward(env("LOCC"), ("VR07", "VR09"))  # the whole request to each (as before)
    request.decide(env("VR07"), outcome=Outcome.GRANTED)
    request.decide(env("VR09"), outcome=Outcome.GRANTED)
    commit(
        env("VR07"), request, capacity("VR07", CAP["fire"], 5), line_id="L1", quantity=5,
        booking_id=uuid4(),
    )
    assert "commit" not in steps(request, "VR09")
    row = request_row(request)
    assert row["step"] == "in_deployment"
    assert [w for w in row["waiting_shares"] if w["next_actor"] == "VR09"] == []


@pytest.mark.xfail(
    strict=True,
    reason="korpschef's partial grant over shares: the second provider's share keeps waiting "
    "(board waiting_shares, next_actor) though the line's grant is committed and it may not "
    "commit",
)
def test_after_a_korpschefs_partial_grant_one_commit_leaves_no_share_waiting() -> None:
    request = art56_shared()
    request.decide(
        env("POL-LE"), outcome=Outcome.PARTLY_GRANTED, reasons="one platoon", granted=(("L1", 1),)
    )
    commit(
        env("POL-MN"), request, capacity("POL-MN", CAP["police_me"], 1), line_id="L1",
        quantity=1, booking_id=uuid4(),
    )
    assert "commit" not in steps(request, "POL-NN")
    assert request_row(request)["waiting_shares"] == []


def test_probe_art58_shares_decider_sequence() -> None:
    from tests.unit.domain.helpers import drafted

    request = drafted(
        "POL-ON",
        K.MILITARY_ART58_PUBLIC_ORDER,
        mayor("Nijmegen"),
        line(CAP["defence_specialist"], 2),
        justifications={J.POLICE_EXHAUSTED_OR_SPECIALISM: "EOD only in Defence"},
    )
    request.confirm_exhaustion(env("POL-LE"), finding="no police EOD")
    request.submit(env("POL-ON", mayor("Nijmegen")))
    request.receive(env("LOCC"))
    request.assess(env("LOCC"), forward=True, findings="specialism")
    request.forward(env("LOCC"), (), shares=(Share("DEF-DOPS", "L1", 1),))
    print("after fwd", request.status, request.next_decider_kind(), request_row(request)["next_actor"])
    print("DJZ", steps(request, "DEF-DJZ"), "LOCC", steps(request, "LOCC"))
    request.decide(env("DEF-DJZ"), outcome=Outcome.GRANTED)
    print("after DJZ", request.status, steps(request, "LOCC"), request_row(request)["waiting_shares"])
    request.decide(env("LOCC"), outcome=Outcome.GRANTED)
    print("after LOCC", request.status, request.granted, request.shares, request.open_quantity("L1"))
    print("LOCC steps", steps(request, "LOCC"), "DOPS", steps(request, "DEF-DOPS"))
    row = request_row(request)
    print(row["step"], row["next_actor"], row["waiting_shares"])
    try:
        request.forward(env("LOCC"), (), shares=(Share("DEF-DOPS", "L1", 1),))
    except Exception as e:
        print("remainder refused", e)
    print("duties", [d.code for d in request.outstanding_duties()])


@pytest.mark.xfail(
    strict=True,
    reason="art. 58 with a share asked before the deciders granted more: the granted rest can "
    "never be asked of the capability's only provider (duplicate_share), though open_steps "
    "offers LOCC 'forward'; the request stays approved, waiting for a commit nobody may make",
)
def test_the_granted_rest_of_an_art58_line_can_be_asked_of_its_only_provider() -> None:
    from tests.unit.domain.helpers import drafted

    request = drafted(
        "POL-ON",
        K.MILITARY_ART58_PUBLIC_ORDER,
        mayor("Nijmegen"),
        line(CAP["defence_specialist"], 2),
        justifications={J.POLICE_EXHAUSTED_OR_SPECIALISM: "EOD only in Defence"},
    )
    request.confirm_exhaustion(env("POL-LE"), finding="no police EOD")
    request.submit(env("POL-ON", mayor("Nijmegen")))
    request.receive(env("LOCC"))
    request.assess(env("LOCC"), forward=True, findings="specialism")
    request.forward(env("LOCC"), (), shares=(Share("DEF-DOPS", "L1", 1),))
    request.decide(env("DEF-DJZ"), outcome=Outcome.GRANTED)
    request.decide(env("LOCC"), outcome=Outcome.GRANTED)
    assert request.granted == {"L1": 2} and request.open_quantity("L1") == 1
    assert "forward" in steps(request, "LOCC")
    request.forward(env("LOCC"), (), shares=(Share("DEF-DOPS", "L1", 1),))


def test_probe_exercise_shares_on_real_capacity() -> None:
    from tests.unit.domain.helpers import drafted

    request = drafted(
        "VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"], 5), exercise=True
    )
    x = lambda org: env(org, exercise=True)  # noqa: E731
    request.submit(env("VR08", chair("VR08"), exercise=True))
    request.receive(x("LOCC"))
    request.assess(x("LOCC"), forward=True, findings="drill")
    request.forward(x("LOCC"), (), shares=(Share("VR07", "L1", 3), Share("VR09", "L1", 2)))
    request.decide(x("VR07"), outcome=Outcome.GRANTED)
    pumps = capacity("VR07", CAP["fire"], 4)
    b = uuid4()
    commit(x("VR07"), request, pumps, line_id="L1", quantity=3, booking_id=b)
    dispatch(x("VR07"), request, pumps, booking_id=b)
    real = submitted("VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"], 2))
    rows = [request_row(request), request_row(real)]
    for scope in (rm.ExerciseScope.REAL, rm.ExerciseScope.ALL):
        ov = rm.capacity_overview([capacity_row(pumps)], rows, scope)
        print(scope, ov["capabilities"])
        print(rm.scarcity([capacity_row(pumps)], rows, [], scope)["capabilities"])


def test_probe_who_voids_a_decision() -> None:
    request = art56_shared()
    request.decide(env("POL-LE"), outcome=Outcome.REFUSED, reasons="ME needed at home")
    print("POL-ON", steps(request, "POL-ON"), "POL-LE", steps(request, "POL-LE"), "LOCC", steps(request, "LOCC"))
    request2, _, _ = pumps_shared()
    print("VR08", steps(request2, "VR08"), "VR09", steps(request2, "VR09"))


def test_probe_who_sees_an_appeal() -> None:
    from dataclasses import dataclass

    from domain import policy
    from domain.envelope import Classification

    @dataclass(frozen=True)
    class Reader:
        org: str
        role: str = "operator"
        clearance: Classification = Classification.UNCLASSIFIED

    request = art56_shared()
    request.decide(env("POL-LE"), outcome=Outcome.REFUSED, reasons="ME needed at home")
    request.appeal(env("POL-ON", mayor("Nijmegen")), grounds="riots")
    for org in ("JV-DGPOL", "JV-MIN", "POL-MN", "LOCC"):
        print(org, policy.may_see_subject(Reader(org), request), steps(request, org))


def test_probe_military_cds_with_shares_and_duties() -> None:
    request = submitted(
        "VR08", K.MILITARY_ART51, chair("VR08"), line(CAP["defence_transport"], 4)
    )
    request.receive(env("LOCC"))
    request.assess(env("LOCC"), forward=True, findings="ok", alternatives_checked="none")
    request.forward(env("LOCC"), (), copies=("DEF-DJZ",), shares=(Share("DEF-DOPS", "L1", 4),))
    print("next", request_row(request)["next_actor"], steps(request, "DEF-DOPS"), steps(request, "DEF-CDS"))
    request.advise(env("DEF-DOPS"), favourable=True, advice="feasible")
    request.advise(env("DEF-DJZ"), favourable=True, advice="ok")
    request.decide(env("DEF-CDS"), outcome=Outcome.PARTLY_GRANTED, reasons="2 only", granted=(("L1", 2),))
    print(request.status, request.granted, request.shares)
    print("duties", [(d.code, request.duty_owner(d)) for d in request.outstanding_duties()])
    print("DOPS", steps(request, "DEF-DOPS"), "LOCC", steps(request, "LOCC"), "VR08", steps(request, "VR08"))
    row = request_row(request)
    print(row["step"], row["next_actor"], row["waiting_shares"], row["outcome"])


@pytest.mark.xfail(
    strict=True,
    reason="a provider never asked (no share) makes capacity ready for an approved request: "
    "accepted and shown 'reserved' for it in the capacity overview, though it may never "
    "commit it (not_asked)",
)
def test_a_provider_never_asked_does_not_reserve_capacity_for_an_approved_request() -> None:
    from domain.services import make_ready

    request, _, _ = pumps_shared()
    assert "commit" not in steps(request, "VR10")
    pumps = capacity("VR10", CAP["fire"], 2)
    try:
        make_ready(env("VR10"), request, pumps, line_id="L1", quantity=2, booking_id=uuid4())
    except Exception:  # noqa: BLE001 - refused is what the rule asks
        return
    overview = rm.capacity_overview([capacity_row(pumps)], [request_row(request)])
    [water] = overview["capabilities"]
    assert water["reserved"] == 0


@pytest.mark.xfail(
    strict=True,
    reason="a provider's partial grant naming only a line it was not asked for (or as much "
    "as it was asked) is accepted and grants its share in full: the partial refusal is lost",
)
def test_a_partial_grant_of_a_line_outside_the_share_is_refused() -> None:
    from domain.errors import DomainError

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


@pytest.mark.xfail(
    strict=True,
    reason="after the Minister upholds an appeal against the korpschef's refusal the assistance "
    "is delivered, but LE Preparatie's duty to inform LOCC how (police factsheet §1) never "
    "falls due: AppealDecided does not make duties due",
)
def test_an_upheld_appeal_makes_le_preparatie_inform_locc() -> None:
    from domain.envelope import Authority

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
