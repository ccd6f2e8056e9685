"""A second independent review of issue 18 ("The law, completed"), in the domain: each test
pins a defect found by working the procedures as LOCC, regions, providers and auditors would,
fails on the code before its fix, and names its source in its docstring.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from domain.envelope import Authority, Envelope
from domain.errors import DomainError, NotPermitted
from domain.kinds import Justification as J
from domain.kinds import RequestKind as K
from domain.lifecycle import RequestStatus
from domain.request import AssistanceRequest, Outcome, Share, open_steps
from domain.services import commit
from projections import readmodels as rm
from projections.specs import request_row
from tests.unit.domain import helpers
from tests.unit.domain.catalogue import CAP
from tests.unit.domain.helpers import art56_received, chair, env, line, mayor, submitted


def steps(request: AssistanceRequest, org: str) -> list[str]:
    return [s["step"] for s in open_steps(request, org, "operator")]


def pumps_shared() -> AssistanceRequest:
    """VR08 asks 5 pumps (art. 51 Wvr); LOCC asks VR07 for 3 and VR09 for 2."""
    request = submitted("VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"], 5))
    request.receive(env("LOCC"))
    request.assess(env("LOCC"), forward=True, findings="necessary")
    request.forward(env("LOCC"), (), shares=(Share("VR07", "L1", 3), Share("VR09", "L1", 2)))
    return request


# --- (d) who may void a step ---------------------------------------------------------------


def test_the_requester_cannot_void_a_providers_refusal() -> None:
    """domain.md §Who acts: the actor is the organisation that records a step; §Settled
    questions: "each provider decides only its own share". A correction voids a step
    *recorded in error* (README, corrections): the recorder's error, so the recorder corrects
    it. Before the fix VR08 voided VR07's refusal and VR07's share waited again."""
    request = pumps_shared()
    request.decide(env("VR07"), outcome=Outcome.REFUSED, reasons="all pumps out")
    assert "void" not in steps(request, "VR08")
    with pytest.raises(NotPermitted) as exc:
        request.correct(env("VR08"), request.voidable_version() or 0, "we still need them")
    assert exc.value.code == "not_own_step"
    assert request.shares[("VR07", "L1")].outcome is Outcome.REFUSED


def test_the_requester_cannot_void_the_korpschefs_refusal() -> None:
    """Art. 56(4) Politiewet 2012; factsheet-bijstand-politie §9: against the korpschef's
    refusal the mayor appeals to the Minister of J&V; the requesting unit cannot undo it.
    Before the fix POL-ON voided LE Preparatie's refusal and the request was forwarded again."""
    request = art56_received()
    request.assess(env("POL-LE"), forward=True, findings="necessary")
    request.forward(env("POL-LE"), ("POL-MN",))
    request.decide(env("POL-LE"), outcome=Outcome.REFUSED, reasons="no ME to spare")
    with pytest.raises(NotPermitted):
        request.correct(env("POL-ON"), request.voidable_version() or 0, "unwelcome")
    assert request.status is RequestStatus.REFUSED and "appeal" in steps(request, "POL-ON")


def test_a_provider_voids_its_own_decision_recorded_in_error() -> None:
    """domain.md §Who acts (the actor records the step) and README (a step recorded in error
    is voided by a new event with a reason): VR07, which recorded "refused" by mistake,
    corrects its own step. Before the fix only the requester or the hub could void it."""
    request = pumps_shared()
    request.decide(env("VR07"), outcome=Outcome.REFUSED, reasons="typed in the wrong field")
    assert "void" in steps(request, "VR07")
    request.correct(env("VR07"), request.voidable_version() or 0, "recorded in error")
    assert request.shares[("VR07", "L1")].outcome is None
    request.decide(env("VR07"), outcome=Outcome.GRANTED)
    assert request.granted == {"L1": 3}


# --- (f) what an approved request still wants ------------------------------------------------


def test_a_remainder_not_yet_forwarded_is_still_open_demand() -> None:
    """domain.md §Capacities (the overview answers where demand exceeds supply) and §Settled
    questions ("after a refusal or a partial grant LOCC may forward the remainder
    elsewhere": the requester still needs it). VR07 refuses its 3 pumps, VR09 grants 2: the
    region still wants 5. Before the fix the demand fell from 5 to 2 the moment VR09's grant
    approved the request, though nothing about the need changed."""
    request = pumps_shared()
    request.decide(env("VR07"), outcome=Outcome.REFUSED, reasons="all pumps out")
    assert rm.open_demand([request_row(request)]) == {CAP["fire"]: 5}
    request.decide(env("VR09"), outcome=Outcome.GRANTED)
    assert request.status is RequestStatus.APPROVED
    assert rm.open_demand([request_row(request)]) == {CAP["fire"]: 5}


# --- amendments after a forward or a confirmation -------------------------------------------


def test_an_amendment_drops_the_shares_of_lines_no_longer_asked() -> None:
    """domain.md §Settled questions: "each provider decides only its own share and commits
    only what it was asked for"; §Lifecycle: *amended* is a side path before the decision.
    VR08 replaces its pump line by another after LOCC asked VR07 for 3 pumps. Before the fix
    VR07 still decided its share of the line that no longer exists, and the request read
    *approved* with nothing of what it asks granted (``granted == {}``)."""
    request = pumps_shared()
    request.amend(
        env("VR08", chair("VR08")),
        lines=(line(CAP["fire"], 2, line_id="L2"),),
        justifications=(),
        reason="the tunnel needs fewer, the dike more",
    )
    assert request.shares == {}
    assert "decide" not in steps(request, "VR07")
    with pytest.raises(DomainError):
        request.decide(env("VR07"), outcome=Outcome.GRANTED)
    assert request.status is RequestStatus.FORWARDED
    request.forward(env("LOCC"), (), shares=(Share("VR07", "L2", 2),))
    request.decide(env("VR07"), outcome=Outcome.GRANTED)
    assert (request.status, request.granted) == (RequestStatus.APPROVED, {"L2": 2})


def test_an_amended_art58_draft_needs_le_preparaties_confirmation_again() -> None:
    """Art. 58 Politiewet 2012; factsheet-bijstand-politie §4 (LE Preparatie tests whether the
    police are exhausted, or lack the specialism, for what is asked and permits the request)
    and issue 18 point 6. POL-ON amends its confirmed draft from 1 EOD team to 4 and another
    line: the permission covered the first. Before the fix the draft was submitted on the old
    confirmation."""
    request = helpers.art58_drafted(quantity=1)
    request.confirm_exhaustion(env("POL-LE"), finding="no police EOD")
    request.amend(
        env("POL-ON", mayor("Nijmegen")),
        lines=(
            line(CAP["defence_specialist"], 4),
            line("DEF_SEARCH_TEAM", 2, line_id="L2"),
        ),
        justifications=((J.POLICE_EXHAUSTED_OR_SPECIALISM, "no police EOD, no search team"),),
        reason="bigger find",
    )
    assert "confirm_exhaustion" in steps(request, "POL-LE")
    assert request_row(request)["step"] == "exhaustion_check"
    with pytest.raises(DomainError) as exc:
        request.submit(env("POL-ON", mayor("Nijmegen")))
    assert exc.value.code == "exhaustion_not_confirmed"
    request.confirm_exhaustion(env("POL-LE"), finding="no police EOD or search team")
    request.submit(env("POL-ON", mayor("Nijmegen")))
    assert request.status is RequestStatus.SUBMITTED


# --- art. 56(4): a refusal by the korpschef, whenever it comes ------------------------------


def test_le_preparaties_refusal_at_assessment_is_the_korpschefs_refusal() -> None:
    """Art. 56(4) Politiewet 2012; factsheet-bijstand-politie §1 (the mayor's request "wordt
    ingediend bij de korpschef"; LE Preparatie coordinates) and §9 (the korpschef's whole or
    partial refusal is written with reasons, copied to DGPOL, and the mayor may ask the
    Minister to instruct the korpschef); issue 18 points 4 and 5. Before the fix LE Preparatie
    refused an art. 56 request at its assessment: no copy to DGPOL fell due and the mayor
    could not appeal, the whole of art. 56(4) bypassed."""
    request = art56_received()
    request.assess(env("POL-LE"), forward=False, findings="no unit can spare ME this weekend")
    assert request.status is RequestStatus.REFUSED
    assert [d.code for d in request.outstanding_duties("POL-LE")] == ["korpschef_refusal_to_dgpol"]
    assert "appeal" in steps(request, "POL-ON")
    request.appeal(env("POL-ON", mayor("Nijmegen")), grounds="the riot is spreading")
    assert request.status.value == "appealed"
    request.advise(env("JV-DGPOL"), favourable=True, advice="capacity can be redistributed")
    request.decide_appeal(env("JV-MIN"), upheld=True, reasons="korpschef instructed")
    assert (request.status, request.granted) == (RequestStatus.APPROVED, {"L1": 2})
    # instructed, the korpschef delivers: LE Preparatie asks a unit, which commits
    request.forward(env("POL-LE"), (), shares=(Share("POL-MN", "L1", 2),))
    helpers.book(request, "POL-MN", CAP["police_me"], 2)
    assert request.committed("L1") == 2


# --- (e) the board's clock after a remainder is forwarded ------------------------------------


def test_a_remainder_forwarded_during_deployment_is_not_overdue_at_once() -> None:
    """domain.md §Findings (requesters lose sight of progress -> "alerts when a step waits too
    long") and §Settled questions (LOCC may forward the remainder elsewhere). VR07 refuses,
    VR09 grants and commits its 2 pumps: the request is in deployment, nobody waits. Two days
    later LOCC asks VR10 for the remainder. Before the fix the item was overdue the moment
    VR10 was asked (its clock ran from the approval two days before)."""
    start = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)

    def at(org: str, hours: float, authority: Authority | None = None) -> Envelope:
        return env(org, authority, occurred_at=start + timedelta(hours=hours))

    request = submitted("VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"], 5))
    request.receive(at("LOCC", 0.1))
    request.assess(at("LOCC", 0.2), forward=True, findings="necessary")
    request.forward(at("LOCC", 0.3), (), shares=(Share("VR07", "L1", 3), Share("VR09", "L1", 2)))
    request.decide(at("VR07", 0.5), outcome=Outcome.REFUSED, reasons="all pumps out")
    request.decide(at("VR09", 0.6), outcome=Outcome.GRANTED)
    pumps09 = helpers.capacity("VR09", CAP["fire"], 2)
    commit(at("VR09", 0.7), request, pumps09, line_id="L1", quantity=2, booking_id=uuid4())
    assert request_row(request)["step"] == "in_deployment"
    request.forward(at("LOCC", 48), (), shares=(Share("VR10", "L1", 3),))
    item = rm.board_item(request_row(request), start + timedelta(hours=48.5), rm.DEFAULT_TARGETS)
    assert (item["step"], item["next_actor"]) == ("approved", "VR10")
    assert item["in_step_since"] == (start + timedelta(hours=48)).isoformat()
    assert not item["overdue"]
