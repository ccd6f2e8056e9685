"""The law of each request kind, written from the seeds (see ../shared/domain.md and seeds/).

For every kind: one accepted path, and each refusal with its error code and legal source.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID, uuid4

import pytest

from domain.capacity import Capacity
from domain.envelope import Authority
from domain.errors import Conflict, DomainError, NotPermitted
from domain.kinds import Justification as J
from domain.kinds import RequestKind as K
from domain.lifecycle import RequestStatus
from domain.request import AssistanceRequest, Outcome, open_steps
from domain.services import arrive, commit, dispatch, make_ready, release, return_home
from tests.unit.domain import helpers
from tests.unit.domain.catalogue import CAP
from tests.unit.domain.helpers import (
    art58_drafted,
    art58_phoned_in,
    capacity,
    chair,
    drafted,
    env,
    granted,
    line,
    mayor,
    prosecutor,
    submitted,
    through_hub,
)


def refused(exc: pytest.ExceptionInfo[DomainError], code: str, source_fragment: str) -> None:
    assert exc.value.code == code, exc.value
    assert source_fragment in exc.value.source, exc.value.source


def forwarding_refused(request: AssistanceRequest) -> pytest.ExceptionInfo[DomainError]:
    """LOCC receives ``request`` and assesses it to forward it: the refusal."""
    request.receive(env("LOCC"))
    with pytest.raises(DomainError) as exc:
        request.assess(env("LOCC"), forward=True, findings="necessary")
    return exc


def forwarded_fire_request() -> AssistanceRequest:
    """VR08's art. 51 request for pumps, through LOCC, forwarded to VR07."""
    request = submitted("VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"]))
    return through_hub(request, "LOCC", to=("VR07",))


def approved_fire_request() -> AssistanceRequest:
    """VR08's art. 51 request for pumps, through LOCC, granted by VR07."""
    return granted(forwarded_fire_request(), "VR07")


# --- art. 51 Wvr: bijstand to a region ---------------------------------------------------------


def test_region_art51_accepted_path_to_evaluation() -> None:
    request = submitted("VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"], 2))
    through_hub(request, "LOCC", to=("VR07",))
    granted(request, "VR07")
    assert request.status is RequestStatus.APPROVED and request.outcome is Outcome.GRANTED
    pumps = capacity("VR07", CAP["fire"], 3)
    booking = uuid4()
    commit(env("VR07"), request, pumps, line_id="L1", quantity=2, booking_id=booking)
    dispatch(env("VR07"), request, pumps, booking_id=booking)
    arrive(env("VR08"), request, pumps, booking_id=booking, note="handed over to CoPI")
    assert request.delivered("L1") == 2 and pumps.available == 1
    release(env("VR08"), request, pumps, booking_id=booking)
    return_home(env("VR07"), request, pumps, booking_id=booking)
    assert pumps.available == 3
    request.close(env("LOCC"), summary="delivered")
    request.evaluate(env("LOCC"), lessons=("pumps arrived in 2 h",), action_points=("pre-stage",))
    assert request.status is RequestStatus.EVALUATED


def test_region_art51_only_the_chair_may_request() -> None:
    request = drafted("VR08", K.REGION_ART51, None, line(CAP["fire"]))
    with pytest.raises(DomainError) as exc:
        request.submit(env("VR08", mayor("Nijmegen")))
    refused(exc, "wrong_authority", "art. 51 Wvr")


def test_region_art51_a_region_requests_only_on_its_own_chairs_authority() -> None:
    request = drafted("VR08", K.REGION_ART51, None, line(CAP["fire"]))
    with pytest.raises(DomainError) as exc:
        request.submit(env("VR08", chair("VR07")))
    refused(exc, "wrong_authority", "art. 51 Wvr")


def test_region_art51_without_signature_is_refused() -> None:
    request = drafted("VR08", K.REGION_ART51, None, line(CAP["fire"]))
    with pytest.raises(DomainError) as exc:
        request.submit(env("VR08"))
    refused(exc, "authority_required", "art. 51 Wvr")


def test_a_draft_may_be_unsigned_but_never_mis_signed() -> None:
    with pytest.raises(DomainError) as exc:
        drafted("VR08", K.REGION_ART51, chair("VR07"), line(CAP["fire"]))
    refused(exc, "wrong_authority", "art. 51 Wvr")


def test_region_art51_a_police_unit_cannot_request_it() -> None:
    with pytest.raises(NotPermitted) as exc:
        drafted("POL-ON", K.REGION_ART51, chair("VR08"), line(CAP["fire"]))
    refused(exc, "step_not_permitted", "art. 51 Wvr")


def test_a_region_drafts_only_for_itself() -> None:
    with pytest.raises(NotPermitted) as exc:
        AssistanceRequest.draft(
            env("VR08", chair("VR08")),
            uuid4(),
            kind=K.REGION_ART51,
            lines=(line(CAP["fire"]),),
            requester="VR07",
        )
    assert exc.value.code == "not_own_organisation"


def test_decision_before_forwarding_is_out_of_order() -> None:
    request = submitted("VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"]))
    request.receive(env("LOCC"))
    with pytest.raises(Conflict) as exc:
        request.decide(env("VR07"), outcome=Outcome.GRANTED)
    refused(exc, "out_of_order", "Lifecycle")


def test_only_a_provider_that_was_asked_decides() -> None:
    request = forwarded_fire_request()
    with pytest.raises(NotPermitted) as exc:
        request.decide(env("VR09"), outcome=Outcome.GRANTED)
    assert exc.value.code == "wrong_decider"


def test_refusal_needs_reasons() -> None:
    request = forwarded_fire_request()
    with pytest.raises(DomainError) as exc:
        request.decide(env("VR07"), outcome=Outcome.REFUSED)
    assert exc.value.code == "reasons_required"
    request.decide(env("VR07"), outcome=Outcome.REFUSED, reasons="all pumps committed elsewhere")
    assert request.status is RequestStatus.REFUSED


def test_assessment_refusal_needs_reasons_and_ends_the_request() -> None:
    request = submitted("VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"]))
    request.receive(env("LOCC"))
    with pytest.raises(DomainError) as exc:
        request.assess(env("LOCC"), forward=False, findings=" ")
    assert exc.value.code == "reasons_required"
    request.assess(env("LOCC"), forward=False, findings="the region's own means suffice")
    assert request.status is RequestStatus.REFUSED
    with pytest.raises(Conflict):
        request.forward(env("LOCC"), to=("VR07",))


def test_non_positive_quantities_are_refused() -> None:
    with pytest.raises(DomainError) as exc:
        drafted("VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"], 0))
    assert exc.value.code == "quantity_not_positive"


def one_booked(step: Callable[..., None], request: AssistanceRequest, pumps: Capacity) -> UUID:
    """VR07 books one of its ``pumps`` for line L1 with ``step`` (make_ready or commit)."""
    booking = uuid4()
    step(env("VR07"), request, pumps, line_id="L1", quantity=1, booking_id=booking)
    return booking


def test_deployment_before_approval_is_refused() -> None:
    request = forwarded_fire_request()
    pumps = capacity("VR07", CAP["fire"], 3)
    with pytest.raises(Conflict) as exc:
        commit(env("VR07"), request, pumps, line_id="L1", quantity=1, booking_id=uuid4())
    refused(exc, "not_approved", "factsheet-bijstand-politie")
    # informal readiness is allowed, but it is not a deployment
    ready = one_booked(make_ready, request, pumps)
    with pytest.raises(Conflict) as exc:
        dispatch(env("VR07"), request, pumps, booking_id=ready)
    assert exc.value.code == "not_approved"


def test_arrival_before_dispatch_is_refused() -> None:
    request = approved_fire_request()
    pumps = capacity("VR07", CAP["fire"], 3)
    booking = one_booked(commit, request, pumps)
    with pytest.raises(Conflict) as exc:
        arrive(env("VR07"), request, pumps, booking_id=booking)
    assert exc.value.code == "out_of_order"


def test_double_booking_is_refused_across_requests() -> None:
    pumps = capacity("VR07", CAP["fire"], 3)
    first, second = (
        granted(
            through_hub(
                submitted(r, K.REGION_ART51, chair(r), line(CAP["fire"], 2)), "LOCC", to=("VR07",)
            ),
            "VR07",
        )
        for r in ("VR08", "VR23")
    )
    commit(env("VR07"), first, pumps, line_id="L1", quantity=2, booking_id=uuid4())
    with pytest.raises(Conflict) as exc:
        commit(env("VR07"), second, pumps, line_id="L1", quantity=2, booking_id=uuid4())
    refused(exc, "double_booking", "Capacities")
    assert pumps.available == 1


def test_a_provider_commits_only_its_own_capacity() -> None:
    # VR07, asked and granted, with VR09's capacity (a provider never asked: not_asked,
    # tests/unit/domain/test_shares.py)
    request = approved_fire_request()
    pumps = capacity("VR09", CAP["fire"], 3)
    with pytest.raises(NotPermitted) as exc:
        commit(env("VR07"), request, pumps, line_id="L1", quantity=1, booking_id=uuid4())
    assert exc.value.code == "not_own_capacity"


# --- military bijstand, art. 51 Wvr -----------------------------------------------------------


def military51() -> AssistanceRequest:
    return submitted("VR08", K.MILITARY_ART51, chair("VR08"), line(CAP["defence_transport"], 4))


def test_military_art51_accepted_cds_decides_after_dops_and_djz() -> None:
    request = through_hub(
        military51(),
        "LOCC",
        to=("DEF-DOPS",),
        alternatives_checked="no other region has amphibious transport",
    )
    request.advise(env("DEF-DOPS"), favourable=True, advice="available and feasible")
    request.advise(env("DEF-DJZ"), favourable=True, advice="art. 51 Wvr applies")
    request.decide(env("DEF-CDS"), outcome=Outcome.GRANTED)
    assert request.status is RequestStatus.APPROVED


def test_military_art51_locc_must_check_other_regions_means_first() -> None:
    refused(forwarding_refused(military51()), "alternatives_not_checked", "§B.5")


def test_military_art51_cds_needs_the_advice_first() -> None:
    request = through_hub(military51(), "LOCC", to=("DEF-DOPS",), alternatives_checked="none")
    with pytest.raises(DomainError) as exc:
        request.decide(env("DEF-CDS"), outcome=Outcome.GRANTED)
    assert exc.value.code == "advice_missing"


def test_military_art51_is_decided_by_cds_not_djz() -> None:
    request = through_hub(military51(), "LOCC", to=("DEF-DOPS",), alternatives_checked="none")
    with pytest.raises(NotPermitted) as exc:
        request.decide(env("DEF-DJZ"), outcome=Outcome.GRANTED)
    refused(exc, "step_not_permitted", "art. 51 Wvr")


# --- MSOB ---------------------------------------------------------------------------------------


def msob_unsigned() -> AssistanceRequest:
    """VR08's MSOB request for Defence transport, justified, not yet signed."""
    justified = {J.NO_MARKET_ALTERNATIVE: "none"}
    return drafted("VR08", K.MSOB, None, line(CAP["defence_transport"]), justifications=justified)


def test_msob_accepted_with_market_justification() -> None:
    request = submitted(
        "VR08",
        K.MSOB,
        mayor("Nijmegen"),
        line(CAP["defence_transport"]),
        justifications={J.NO_MARKET_ALTERNATIVE: "no contractor can deliver road mats within 6 h"},
    )
    assert request.status is RequestStatus.SUBMITTED


def test_msob_without_market_justification_is_refused() -> None:
    request = drafted("VR08", K.MSOB, mayor("Nijmegen"), line(CAP["defence_transport"]))
    with pytest.raises(DomainError) as exc:
        request.submit(env("VR08", mayor("Nijmegen")))
    refused(exc, "missing_justification_no_market_alternative", "militaire steunverlening")


def test_msob_a_prosecutor_may_not_request_it() -> None:
    request = msob_unsigned()
    with pytest.raises(DomainError) as exc:
        request.submit(env("VR08", prosecutor("OM-ON")))
    refused(exc, "forbidden_authority", "militaire steunverlening")


def test_msob_is_not_for_police_tasks() -> None:
    with pytest.raises(DomainError) as exc:
        drafted("VR08", K.MSOB, mayor("Nijmegen"), line(CAP["police_me"]))
    assert exc.value.code == "capability_not_for_kind"


def test_mayor_of_another_regions_municipality_does_not_sign() -> None:
    request = msob_unsigned()
    with pytest.raises(DomainError) as exc:
        request.submit(env("VR08", mayor("Venlo")))
    assert exc.value.code == "wrong_authority"


# --- ondersteuning: SIS via LOCC, BTC via the NCC -----------------------------------------------


def officer(region: str) -> Authority:
    return Authority(body="population_care_officer", of=region)


def test_sis_runs_through_locc() -> None:
    request = submitted("VR08", K.SUPPORT, officer("VR08"), line(CAP["sis"], 1))
    through_hub(request, "LOCC", to=("IFV",))
    granted(request, "IFV")
    assert request.status is RequestStatus.APPROVED


def test_btc_runs_through_the_ncc_not_locc() -> None:
    request = submitted("VR08", K.SUPPORT, officer("VR08"), line(CAP["btc"], 1))
    with pytest.raises(NotPermitted) as exc:
        request.receive(env("LOCC"))
    assert exc.value.code == "wrong_hub"
    request.receive(env("NCC"))
    assert request.status is RequestStatus.RECEIVED


def test_support_is_requested_by_a_population_care_officer() -> None:
    request = drafted("VR08", K.SUPPORT, None, line(CAP["sis"], 1))
    with pytest.raises(DomainError) as exc:
        request.submit(env("VR08", chair("VR08")))
    assert exc.value.code == "wrong_authority"


# --- police bijstand, art. 56 ----------------------------------------------------------------


def art56_justifications(view: bool = True) -> dict[J, str]:
    given = {J.OWN_CAPACITY_INSUFFICIENT: "RCCB: all ME platoons deployed"}
    if view:
        given[J.REGION_MAYOR_VIEW] = "the region-mayor supports the request"
    return given


def test_police_art56_accepted_korpschef_decides_via_le() -> None:
    request = helpers.art56(justifications=art56_justifications())
    through_hub(request, "POL-LE", to=("POL-MN",))
    request.decide(env("POL-LE"), outcome=Outcome.GRANTED)
    assert request.status is RequestStatus.APPROVED


def test_police_art56_needs_own_capacity_insufficient() -> None:
    request = helpers.art56(drafted, justifications={J.REGION_MAYOR_VIEW: "supports"})
    with pytest.raises(DomainError) as exc:
        request.submit(env("POL-ON", mayor("Nijmegen")))
    refused(exc, "missing_justification_own_capacity_insufficient", "art. 56(1)")


def test_police_art56_needs_region_mayor_view_unless_urgent() -> None:
    request = helpers.art56(drafted, justifications=art56_justifications(view=False))
    with pytest.raises(DomainError) as exc:
        request.submit(env("POL-ON", mayor("Nijmegen")))
    assert exc.value.code == "missing_justification_region_mayor_view"
    urgent = helpers.art56(justifications=art56_justifications(view=False), urgent=True)
    assert urgent.status is RequestStatus.SUBMITTED


def test_police_art56_locc_is_only_informed() -> None:
    request = helpers.art56(justifications=art56_justifications())
    with pytest.raises(NotPermitted) as exc:
        request.receive(env("LOCC"))
    refused(exc, "step_not_permitted", "art. 56(1)")


def test_police_art56_refusal_appealed_to_the_minister() -> None:
    request = helpers.art56(justifications=art56_justifications())
    through_hub(request, "POL-LE", to=("POL-MN",))
    request.decide(
        env("POL-LE"), outcome=Outcome.REFUSED, reasons="national capacity needed elsewhere"
    )
    with pytest.raises(DomainError) as exc:
        request.appeal(env("POL-ON", chair("VR08")), grounds="riot spreading")
    assert exc.value.code == "wrong_authority"
    request.appeal(env("POL-ON", mayor("Nijmegen")), grounds="riot spreading")
    with pytest.raises(NotPermitted):
        request.decide_appeal(env("JV-DGPOL"), upheld=True, reasons="advice")
    # Issue 18: DGPOL advises the Minister before the Minister decides (§9).
    request.advise(env("JV-DGPOL"), favourable=True, advice="redistribution is acceptable")
    request.decide_appeal(env("JV-MIN"), upheld=True, reasons="korpschef instructed (art. 56(4))")
    assert request.status is RequestStatus.APPROVED and request.granted == {"L1": 2}
    # Upheld, the request is granted: nothing is left to appeal.
    assert "appeal" not in [s["step"] for s in open_steps(request, "POL-ON", "operator")]
    with pytest.raises(DomainError) as again:
        request.appeal(env("POL-ON", mayor("Nijmegen")), grounds="once more")
    assert again.value.code == "out_of_order"


def test_police_art56_criminal_is_requested_by_the_prosecutor_not_the_mayor() -> None:
    request = helpers.art56_criminal(justifications=art56_justifications())
    with pytest.raises(DomainError) as exc:
        request.submit(env("POL-ON", mayor("Nijmegen")))
    refused(exc, "wrong_authority", "art. 56(2)")
    justified = art56_justifications()
    accepted = helpers.art56_criminal(submitted, prosecutor("OM-ON"), justifications=justified)
    assert accepted.status is RequestStatus.SUBMITTED


# --- KMar, art. 57 ------------------------------------------------------------------------------


def test_kmar_public_order_needs_no_police_exhaustion_locc_decides_after_djz() -> None:
    request = submitted("POL-ON", K.KMAR_ART57_PUBLIC_ORDER, mayor("Nijmegen"), line(CAP["kmar"]))
    through_hub(request, "LOCC", to=("DEF-DJZ", "KMAR"))
    with pytest.raises(DomainError) as exc:
        request.decide(env("LOCC"), outcome=Outcome.GRANTED)
    assert exc.value.code == "advice_missing"
    request.advise(env("DEF-DJZ"), favourable=True, advice="SG agrees")
    request.decide(env("LOCC"), outcome=Outcome.GRANTED)
    assert request.status is RequestStatus.APPROVED


def test_kmar_public_order_djz_advises_but_does_not_decide() -> None:
    request = through_hub(
        submitted("POL-ON", K.KMAR_ART57_PUBLIC_ORDER, mayor("Nijmegen"), line(CAP["kmar"])),
        "LOCC",
        to=("DEF-DJZ",),
    )
    request.advise(env("DEF-DJZ"), favourable=True, advice="ok")
    with pytest.raises(NotPermitted) as exc:
        request.decide(env("DEF-DJZ"), outcome=Outcome.GRANTED)
    refused(exc, "step_not_permitted", "art. 57(1)")


def test_kmar_criminal_ozi_decides_after_djz() -> None:
    request = submitted(
        "OM-PG",
        K.KMAR_ART57_CRIMINAL,
        prosecutor("OM-ON", "chief_public_prosecutor"),
        line(CAP["kmar"]),
    )
    through_hub(request, "JV-OZI", to=("DEF-DJZ",))
    request.advise(env("DEF-DJZ"), favourable=True, advice="ok")
    with pytest.raises(NotPermitted):
        request.decide(env("LOCC"), outcome=Outcome.GRANTED)
    request.decide(env("JV-OZI"), outcome=Outcome.GRANTED)
    assert request.status is RequestStatus.APPROVED


# --- other military bijstand, art. 58 ------------------------------------------------------------


def art58() -> AssistanceRequest:
    """Drafted, confirmed by LE Preparatie on the draft (issue 18), submitted."""
    request = art58_drafted()
    request.confirm_exhaustion(env("POL-LE"), finding="no police EOD capacity")
    request.submit(env("POL-ON", mayor("Nijmegen")))
    return request


def test_art58_needs_exhaustion_or_missing_specialism() -> None:
    request = art58_drafted(justified=False)
    with pytest.raises(DomainError) as exc:
        request.submit(env("POL-ON", mayor("Nijmegen")))
    refused(exc, "missing_justification_police_exhausted_or_specialism", "art. 58(1)")


def test_art58_le_preparatie_confirms_before_locc_forwards() -> None:
    # Phoned in (urgent): there is no draft to confirm on, so LOCC's forwarding waits for it.
    request = art58_phoned_in()
    refused(forwarding_refused(request), "exhaustion_not_confirmed", "art. 58(1)")
    with pytest.raises(NotPermitted):
        request.confirm_exhaustion(env("LOCC"), finding="exhausted")
    request.confirm_exhaustion(env("POL-LE"), finding="no police EOD capacity")
    request.assess(env("LOCC"), forward=True, findings="necessary")


def test_art58_djz_decides_for_defence_then_locc_for_jv() -> None:
    request = art58()
    through_hub(request, "LOCC", to=("DEF-DJZ",))
    with pytest.raises(NotPermitted) as exc:
        request.decide(env("LOCC"), outcome=Outcome.GRANTED)
    assert exc.value.code == "wrong_decider"
    request.decide(env("DEF-DJZ"), outcome=Outcome.GRANTED)
    assert request.status is RequestStatus.DECIDING
    request.decide(
        env("LOCC"), outcome=Outcome.PARTLY_GRANTED, reasons="one team", granted=(("L1", 1),)
    )
    assert request.status is RequestStatus.APPROVED and request.outcome is Outcome.PARTLY_GRANTED


def test_art58_criminal_djz_then_ozi() -> None:
    request = drafted(
        "OM-PG",
        K.MILITARY_ART58_CRIMINAL,
        prosecutor("OM-ON", "chief_public_prosecutor"),
        line(CAP["defence_specialist"], 1),
        justifications={J.POLICE_EXHAUSTED_OR_SPECIALISM: "specialism only in Defence"},
    )
    request.confirm_exhaustion(env("POL-LE"), finding="confirmed")
    request.submit(env("OM-PG", prosecutor("OM-ON", "chief_public_prosecutor")))
    through_hub(request, "JV-OZI", to=("DEF-DJZ",))
    request.decide(env("DEF-DJZ"), outcome=Outcome.GRANTED)
    request.decide(env("JV-OZI"), outcome=Outcome.GRANTED)
    assert request.status is RequestStatus.APPROVED


def test_armed_deployment_always_needs_djz() -> None:
    request = submitted(
        "VR08", K.MILITARY_ART51, chair("VR08"), line(CAP["defence_transport"], 1, armed=True)
    )
    request = through_hub(request, "LOCC", to=("DEF-DOPS",), alternatives_checked="none")
    request.advise(env("DEF-DOPS"), favourable=True, advice="feasible")
    request.advise(env("DEF-DJZ"), favourable=True, advice="legal basis checked")
    request.decide(env("DEF-CDS"), outcome=Outcome.GRANTED)
    kmar = through_hub(
        submitted(
            "POL-ON",
            K.KMAR_ART57_PUBLIC_ORDER,
            mayor("Nijmegen"),
            line(CAP["kmar"], 1, armed=True, automatic_weapons=True),
            justifications={J.PROSECUTOR_PERMISSION: "OvJ Oost-Nederland permits"},
        ),
        "LOCC",
        to=("KMAR",),
    )
    with pytest.raises(DomainError) as exc:
        kmar.decide(env("LOCC"), outcome=Outcome.GRANTED)
    assert exc.value.code == "advice_missing"


def test_automatic_weapons_need_the_prosecutors_permission() -> None:
    request = drafted(
        "POL-ON",
        K.KMAR_ART57_PUBLIC_ORDER,
        mayor("Nijmegen"),
        line(CAP["kmar"], 1, armed=True, automatic_weapons=True),
    )
    with pytest.raises(DomainError) as exc:
        request.submit(env("POL-ON", mayor("Nijmegen")))
    refused(exc, "missing_justification_prosecutor_permission", "eindmeting-icms-2013")


# --- J&V assets ----------------------------------------------------------------------------------


def test_water_cannon_exercise_needs_no_authority_a_real_one_does() -> None:
    exercise = submitted("POL-ON", K.JV_ASSET, None, line(CAP["water_cannon"], 1), exercise=True)
    through_hub(exercise, "LOCC", to=("IFV",))
    exercise.decide(env("LOCC", exercise=True), outcome=Outcome.GRANTED)
    assert exercise.status is RequestStatus.APPROVED
    real = drafted("POL-ON", K.JV_ASSET, None, line(CAP["water_cannon"], 1))
    with pytest.raises(DomainError) as exc:
        real.submit(env("POL-ON"))
    refused(exc, "authority_required", "factsheet-bijstand-politie §2")


def test_surveillance_containers_go_through_db3() -> None:
    request = submitted("POL-ON", K.JV_ASSET, mayor("Nijmegen"), line(CAP["container"], 1))
    with pytest.raises(NotPermitted) as exc:
        request.receive(env("LOCC"))
    assert exc.value.code == "wrong_hub"
    through_hub(request, "NCTV-DB3", to=("IFV",))
    request.decide(env("NCTV-DB3"), outcome=Outcome.GRANTED)
    assert request.status is RequestStatus.APPROVED


# --- foreign police ---------------------------------------------------------------------------


def test_foreign_police_via_le_preparatie_formalised_by_locc() -> None:
    request = submitted(
        "POL-LE", K.FOREIGN_POLICE, mayor("Nijmegen"), line(CAP["foreign_police"], 1)
    )
    through_hub(request, "LOCC", to=("POL-LE",))
    request.decide(env("LOCC"), outcome=Outcome.GRANTED)
    assert request.status is RequestStatus.APPROVED
    with pytest.raises(NotPermitted):
        drafted("VR08", K.FOREIGN_POLICE, chair("VR08"), line(CAP["foreign_police"], 1))


# --- urgency, priority, corrections, withdrawal, auditors -----------------------------------------


def test_urgent_request_phoned_in_by_locc_and_formalised_later() -> None:
    request = helpers.phoned_in_by_locc()
    assert request.status is RequestStatus.SUBMITTED and request.formalisation_outstanding
    request.receive(env("LOCC"))
    with pytest.raises(NotPermitted):
        request.formalise(env("VR07", chair("VR07")))
    request.formalise(env("VR08", chair("VR08")))
    assert not request.formalisation_outstanding
    with pytest.raises(Conflict) as exc:
        request.formalise(env("VR08", chair("VR08")))
    assert exc.value.code == "nothing_to_formalise"


def test_only_the_hub_records_a_phoned_in_request() -> None:
    with pytest.raises(NotPermitted):
        AssistanceRequest.phone_in(
            env("VR07", chair("VR08")),
            uuid4(),
            kind=K.REGION_ART51,
            requester="VR08",
            lines=(line(CAP["fire"]),),
        )


def test_priority_is_the_ministers_decision() -> None:
    request = through_hub(military51(), "LOCC", to=("DEF-DOPS",), alternatives_checked="none")
    with pytest.raises(NotPermitted) as exc:
        request.decide_priority(
            env("LOCC"), capability_code=CAP["defence_transport"], rank=1, reasons="GRIP 4"
        )
    assert exc.value.code == "wrong_decider"
    request.decide_priority(
        env("LOCC", Authority(body="minister_jv", of="JV-MIN")),
        capability_code=CAP["defence_transport"],
        rank=1,
        reasons="GRIP 4, lives at risk",
    )
    request.decide_priority(
        env("JV-MIN"), capability_code=CAP["defence_transport"], rank=2, reasons="revised"
    )
    assert request.priority == {CAP["defence_transport"]: 2}


def test_a_mistaken_step_is_voided_not_edited() -> None:
    request = submitted("VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"]))
    request.receive(env("LOCC"))
    request.assess(env("LOCC"), forward=False, findings="wrong request refused by mistake")
    assert request.status is RequestStatus.REFUSED
    with pytest.raises(Conflict) as exc:
        request.correct(env("LOCC"), target_version=3, reason="older step")
    assert exc.value.code == "void_not_latest"
    request.correct(env("LOCC"), target_version=4, reason="assessment recorded in error")
    assert request.status is RequestStatus.RECEIVED and request.outcome is None
    request.assess(env("LOCC"), forward=True, findings="necessary")
    assert request.status is RequestStatus.ASSESSED
    kinds = [type(e).__name__ for e in request.collect_events()]
    assert kinds == ["Submitted", "Received", "Assessed", "Voided", "Assessed"]


def test_withdrawal_needs_released_capacity() -> None:
    request = approved_fire_request()
    pumps = capacity("VR07", CAP["fire"], 3)
    booking = uuid4()
    commit(env("VR07"), request, pumps, line_id="L1", quantity=1, booking_id=booking)
    with pytest.raises(Conflict) as exc:
        request.withdraw(env("VR08"), reason="water receding")
    assert exc.value.code == "active_bookings"
    release(env("VR08"), request, pumps, booking_id=booking)
    request.withdraw(env("VR08"), reason="water receding")
    assert request.status is RequestStatus.WITHDRAWN and pumps.available == 3


def test_auditors_never_write() -> None:
    request = submitted("VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"]))
    with pytest.raises(NotPermitted) as exc:
        request.receive(env("LOCC", role="auditor"))
    assert exc.value.code == "read_only_role"
    with pytest.raises(NotPermitted):
        request.receive(env("INSP-JENV"))


def test_a_step_before_a_capacity_movement_can_no_longer_be_voided() -> None:
    request = approved_fire_request()
    pumps = capacity("VR07", CAP["fire"], 3)
    commit(env("VR07"), request, pumps, line_id="L1", quantity=1, booking_id=uuid4())
    with pytest.raises(Conflict) as exc:
        request.correct(env("LOCC"), target_version=request.version - 1, reason="wrong decision")
    assert exc.value.code == "void_not_latest"
    assert request.committed("L1") == 1
