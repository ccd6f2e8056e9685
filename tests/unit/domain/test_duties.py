"""Issue 18, points 4-6: duties to inform as recorded steps, art. 56(4) in full (DGPOL copied
on the korpschef's refusal and advising the Minister on an appeal) and the art. 58 order (LE
Preparatie confirms on the draft, before the request goes to LOCC). Each test names its seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from domain import policy
from domain.envelope import Authority, Classification
from domain.errors import DomainError
from domain.kinds import Justification as J
from domain.kinds import RequestKind as K
from domain.lifecycle import RequestStatus
from domain.request import AssistanceRequest, Outcome, open_steps
from domain.rights import Step, allowed_kinds
from projections import readmodels as rm
from projections.specs import request_row
from tests.unit.domain.catalogue import CAP
from tests.unit.domain.helpers import (
    ART56,
    art58_drafted,
    art58_phoned_in,
    chair,
    env,
    line,
    mayor,
    submitted,
    through_hub,
)

POLICE = "factsheet-bijstand-politie"
POPULATION = "factsheet-bijstand-bevolkingszorg"
POPULATION_CARE = Authority("population_care_officer", "VR08")
ART58 = {J.POLICE_EXHAUSTED_OR_SPECIALISM: "EOD specialism only in Defence"}


@dataclass(frozen=True)
class Reader:
    org: str
    role: str = "operator"
    clearance: Classification = Classification.UNCLASSIFIED


def steps(request: AssistanceRequest, org: str) -> list[str]:
    return [s["step"] for s in open_steps(request, org, "operator")]


def refused(request: AssistanceRequest, org: str, code: str, **data: str) -> DomainError:
    with pytest.raises(DomainError) as exc:
        request.inform(env(org), duty=data["duty"], to=data["to"])
    assert exc.value.code == code, exc.value
    return exc.value


def outstanding(request: AssistanceRequest) -> list[tuple[str, str | None, str | None]]:
    return [
        (d.code, request.duty_owner(d), request.duty_addressee(d))
        for d in request.outstanding_duties()
    ]


def police_art56() -> AssistanceRequest:
    return through_hub(
        submitted(
            "POL-ON",
            K.POLICE_ART56_PUBLIC_ORDER,
            mayor("Nijmegen"),
            line(CAP["police_me"]),
            justifications=ART56,
        ),
        "POL-LE",
        to=("POL-MN",),
    )


# --- 5. duties to inform ------------------------------------------------------------------------


def test_the_korpschefs_refusal_is_copied_to_dgpol() -> None:
    """factsheet-bijstand-politie §9 (art. 56(4)): 'Een afschrift van deze afwijzing wordt
    gelijktijdig gezonden aan het Directoraat Generaal Politie (DGPOL)'."""
    request = police_art56()
    assert outstanding(request) == []
    request.decide(env("POL-LE"), outcome=Outcome.REFUSED, reasons="ME needed at home")
    assert outstanding(request) == [("korpschef_refusal_to_dgpol", "POL-LE", "JV-DGPOL")]
    assert "inform" in steps(request, "POL-LE") and "inform" not in steps(request, "LOCC")
    assert "art. 56(4)" in request.outstanding_duties()[0].source
    assert f"{POLICE} §9" in request.outstanding_duties()[0].source
    refused(request, "POL-LE", "wrong_addressee", duty="korpschef_refusal_to_dgpol", to="LOCC")
    refused(request, "POL-LE", "duty_not_due", duty="police_le_informs_locc", to="LOCC")
    refused(request, "POL-LE", "unknown_duty", duty="dops_informs_locc", to="LOCC")
    with pytest.raises(DomainError) as exc:
        request.inform(env("LOCC"), duty="korpschef_refusal_to_dgpol", to="JV-DGPOL")
    assert exc.value.code == "step_not_permitted"
    request.inform(env("POL-LE"), duty="korpschef_refusal_to_dgpol", to="JV-DGPOL")
    assert outstanding(request) == []
    assert "inform" not in steps(request, "POL-LE")
    with pytest.raises(DomainError) as again:
        request.inform(env("POL-LE"), duty="korpschef_refusal_to_dgpol", to="JV-DGPOL")
    assert again.value.code == "no_duty_outstanding"


def test_le_preparatie_informs_locc_how_the_assistance_is_delivered() -> None:
    """factsheet-bijstand-politie §1: 'De afdeling Preparatie en Operationeel Beheer informeert
    het LOCC over de wijze waarop de bijstand geleverd wordt' (LOCC is informed only)."""
    request = police_art56()
    request.decide(
        env("POL-LE"), outcome=Outcome.PARTLY_GRANTED, reasons="one platoon", granted=(("L1", 1),)
    )
    # A partial grant is also a partial refusal: DGPOL gets its copy too (§9).
    assert sorted(outstanding(request)) == [
        ("korpschef_refusal_to_dgpol", "POL-LE", "JV-DGPOL"),
        ("police_le_informs_locc", "POL-LE", "LOCC"),
    ]
    request.inform(env("POL-LE"), duty="police_le_informs_locc", to="LOCC")
    assert outstanding(request) == [("korpschef_refusal_to_dgpol", "POL-LE", "JV-DGPOL")]


def test_locc_informs_the_korpschef_of_a_kmar_request() -> None:
    """factsheet-bijstand-politie §3 (art. 57): 'Het LOCC informeert de korpschef van politie,
    door tussenkomst van de afdeling preparatie van de landelijke eenheid'; informed, LE
    Preparatie sees the request (need to know: what it was informed of)."""
    request = submitted("POL-ON", K.KMAR_ART57_PUBLIC_ORDER, mayor("Nijmegen"), line(CAP["kmar"]))
    le = Reader("POL-LE")
    assert not policy.may_see_subject(le, request)
    request.receive(env("LOCC"))
    request.assess(env("LOCC"), forward=True, findings="police need not be exhausted")
    assert outstanding(request) == [("locc_informs_korpschef", "LOCC", "POL-LE")]
    request.inform(env("LOCC"), duty="locc_informs_korpschef", to="POL-LE")
    assert policy.may_see_subject(le, request)
    assert "POL-LE" in policy.involved(request)


def test_dops_informs_locc_and_locc_the_region_of_the_cds_decision() -> None:
    """factsheet-bijstand-bevolkingszorg §B.5: 'DOPS NATOPS informeert het LOCC over het
    genomen besluit. Het LOCC informeert de algemeen commandant bevolkingszorg'."""
    request = through_hub(
        submitted("VR08", K.MILITARY_ART51, chair("VR08"), line(CAP["defence_transport"])),
        "LOCC",
        to=("DEF-DOPS",),
        alternatives_checked="no region has them",
    )
    request.advise(env("DEF-DOPS"), favourable=True, advice="feasible")
    request.advise(env("DEF-DJZ"), favourable=True, advice="art. 51 Wvr applies")
    request.decide(env("DEF-CDS"), outcome=Outcome.REFUSED, reasons="all trucks abroad")
    assert sorted(outstanding(request)) == [
        ("dops_informs_locc", "DEF-DOPS", "LOCC"),
        ("locc_informs_region", "LOCC", "VR08"),
    ]
    # DOPS owes its own duty, not LOCC's.
    refused(request, "DEF-DOPS", "not_own_duty", duty="locc_informs_region", to="VR08")
    request.inform(env("DEF-DOPS"), duty="dops_informs_locc", to="LOCC")
    request.inform(env("LOCC"), duty="locc_informs_region", to="VR08")
    assert outstanding(request) == []
    assert set(request.informed) == {"dops_informs_locc", "locc_informs_region"}


def test_locc_feeds_an_sis_deployment_back_to_ifv_and_a_correction_reopens_it() -> None:
    """factsheet-bijstand-bevolkingszorg, 'Tot slot': 'Voor slachtofferinformatiesystematiek en
    het bovenregionaal team crisiscommunicatie is afgesproken dat het IFV als de beheerder van
    deze capaciteiten een terugkoppeling krijgt over de inzet'."""
    request = through_hub(
        submitted("VR08", K.SUPPORT, POPULATION_CARE, line(CAP["sis"], 1)), "LOCC", to=("IFV",)
    )
    request.decide(env("IFV"), outcome=Outcome.GRANTED)
    assert outstanding(request) == []  # due once the deployment is over
    request.close(env("VR08"), summary="SIS ran for two days")
    assert outstanding(request) == [("locc_feeds_back_ifv", "LOCC", "IFV")]
    assert "inform" in steps(request, "LOCC")
    request.inform(env("LOCC"), duty="locc_feeds_back_ifv", to="IFV")
    assert outstanding(request) == []
    request.correct(env("LOCC"), request.version, "sent to the wrong desk")
    assert outstanding(request) == [("locc_feeds_back_ifv", "LOCC", "IFV")]
    # A fire request (art. 51 Wvr) has no duty to inform: nobody may record one.
    assert allowed_kinds(K.REGION_ART51, Step.INFORM) == frozenset()


def test_an_outstanding_duty_is_on_the_board_with_its_target() -> None:
    """Issue 18 point 5: an outstanding duty is on the board with a target (inform=60/1440),
    also on a closed request (factsheet-bijstand-bevolkingszorg, 'Tot slot')."""
    decided_at = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    request = through_hub(
        submitted("VR08", K.SUPPORT, POPULATION_CARE, line(CAP["sis"], 1)), "LOCC", to=("IFV",)
    )
    request.decide(env("IFV"), outcome=Outcome.GRANTED)
    request.close(env("VR08", occurred_at=decided_at))
    row = request_row(request)
    assert row["status"] == "closed"
    [item] = rm.board([row], decided_at + timedelta(minutes=1000))
    [duty] = item["duties_outstanding"]
    assert duty["duty"] == "locc_feeds_back_ifv" and duty["by"] == "LOCC" and duty["to"] == "IFV"
    assert duty["due_at"] == (decided_at + timedelta(minutes=1440)).isoformat()
    assert not duty["overdue"] and not item["inform_overdue"]
    [late] = rm.board([row], decided_at + timedelta(minutes=1441))
    assert late["inform_overdue"] and late["duties_outstanding"][0]["overdue"]
    assert rm.DEFAULT_TARGETS.steps["inform"] == (60, 1440)
    # Targets stored before issue 18 read with the default for inform.
    stored = rm.DEFAULT_TARGETS.as_dict()
    del stored["steps"]["inform"]
    assert rm.Targets.from_dict(stored).steps["inform"] == (60, 1440)
    request.inform(env("LOCC"), duty="locc_feeds_back_ifv", to="IFV")
    assert rm.board([request_row(request)], decided_at) == []


# --- 4. art. 56(4) in full ------------------------------------------------------------------------


def test_dgpol_advises_the_minister_before_the_appeal_is_decided() -> None:
    """factsheet-bijstand-politie §9: 'DGPOL adviseert de Minister van Veiligheid en Justitie
    over dit verzoek' before the Minister instructs the korpschef (art. 56(4))."""
    request = police_art56()
    with pytest.raises(DomainError) as early:
        request.advise(env("JV-DGPOL"), favourable=True, advice="not yet")
    assert early.value.code == "step_not_permitted"  # DGPOL advises on an appeal only
    request.decide(env("POL-LE"), outcome=Outcome.REFUSED, reasons="ME needed at home")
    request.appeal(env("POL-ON", mayor("Nijmegen")), grounds="the riot spreads")
    assert request_row(request)["next_actor"] == "jv_dgpol"
    assert "decide_appeal" not in steps(request, "JV-MIN")
    assert "advise" in steps(request, "JV-DGPOL")
    with pytest.raises(DomainError) as missing:
        request.decide_appeal(env("JV-MIN"), upheld=True, reasons="instructed")
    assert missing.value.code == "advice_missing" and missing.value.status == 422
    assert "§9" in missing.value.source
    with pytest.raises(DomainError) as wrong:
        request.advise(env("DEF-DJZ"), favourable=True, advice="not ours")
    assert wrong.value.code == "step_not_permitted"
    request.advise(env("JV-DGPOL"), favourable=True, advice="redistribution is acceptable")
    with pytest.raises(DomainError) as twice:
        request.advise(env("JV-DGPOL"), favourable=True, advice="again")
    assert twice.value.code == "duplicate_step"
    assert request_row(request)["next_actor"] == "minister_jv"
    assert "decide_appeal" in steps(request, "JV-MIN")
    request.decide_appeal(env("JV-MIN"), upheld=True, reasons="korpschef instructed")
    assert request.status is RequestStatus.APPROVED


# --- 6. the art. 58 order ------------------------------------------------------------------------


def test_le_preparatie_confirms_exhaustion_on_the_draft_before_it_goes_to_locc() -> None:
    """factsheet-bijstand-politie §4: 'De afdeling preparatie toetst of de Nationale politie
    daadwerkelijk is uitgeput ... geeft toestemming tot aanvragen van militaire bijstand en
    informeert RCCB en LOCC', before 'RCCB verzendt het aanvraagformulier ... naar het LOCC'."""
    request = art58_drafted()
    # LE Preparatie sees the draft and acts next on it, on its board.
    assert policy.may_see_subject(Reader("POL-LE"), request)
    assert not policy.may_see_subject(Reader("POL-MN"), request)
    row = request_row(request)
    assert (row["step"], row["next_actor"]) == ("exhaustion_check", "police_le")
    [item] = rm.board([row], datetime.now(UTC))
    assert item["next_actor"] == "police_le" and item["status"] == "draft"
    assert "confirm_exhaustion" in steps(request, "POL-LE")
    with pytest.raises(DomainError) as exc:
        request.submit(env("POL-ON", mayor("Nijmegen")))
    assert exc.value.code == "exhaustion_not_confirmed" and exc.value.status == 422
    assert "art. 58(1)" in exc.value.source and POLICE in exc.value.source
    assert request.status is RequestStatus.DRAFT
    request.confirm_exhaustion(env("POL-LE"), finding="no police EOD capacity")
    assert rm.board([request_row(request)], datetime.now(UTC)) == []  # the requester's again
    request.submit(env("POL-ON", mayor("Nijmegen")))
    assert request.status is RequestStatus.SUBMITTED
    request.receive(env("LOCC"))
    request.assess(env("LOCC"), forward=True, findings="Defence specialism needed")
    # ... and LOCC informs the korpschef (§4, as for art. 57).
    assert outstanding(request) == [("locc_informs_korpschef", "LOCC", "POL-LE")]


def test_an_urgent_art58_request_phoned_in_is_still_confirmed_before_forwarding() -> None:
    """factsheet-bijstand-politie §4 ('In spoedgevallen vindt het contact telefonisch plaats'):
    a phoned-in request has no draft; LE Preparatie confirms it after the call."""
    request = art58_phoned_in()
    assert "confirm_exhaustion" in steps(request, "POL-LE")
    request.confirm_exhaustion(env("POL-LE"), finding="confirmed by phone")
    assert request.exhaustion_confirmed
