"""Issue 18 (the law, completed), points 3, 7, 8 and 9 and the appeal's authority, from the seeds.

Each test names its source: the seed file (../shared/seeds) and its section and lines, or
domain.md's settled questions.
"""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.envelope import Actor, Authority
from domain.errors import DomainError
from domain.kinds import AUTHORITY_BODIES, AUTHORITY_OF, KIND_RULES, Task
from domain.kinds import Justification as J
from domain.kinds import RequestKind as K
from domain.lifecycle import RequestStatus
from domain.reference import organisation, region_of_municipality, regions
from domain.request import AssistanceRequest, Outcome, open_steps
from domain.rights import STEP_PARTIES, Step, allowed_kinds, signers
from tests.unit.domain.catalogue import CAP
from tests.unit.domain.helpers import (
    art56_criminal,
    chair,
    drafted,
    env,
    line,
    mayor,
    prosecutor,
    submitted,
    through_hub,
)

MSOB_JUSTIFIED = {J.NO_MARKET_ALTERNATIVE: "no contractor can deliver in time"}
ART56 = {J.OWN_CAPACITY_INSUFFICIENT: "RCCB: all deployed", J.REGION_MAYOR_VIEW: "agrees"}


def refused(call: object, code: str) -> DomainError:
    assert callable(call)
    with pytest.raises(DomainError) as exc:
        call()
    assert exc.value.code == code, exc.value
    return exc.value


def msob(task: Task | None, authority: Authority | None = None) -> AssistanceRequest:
    return AssistanceRequest.draft(
        env("VR08", authority),
        uuid4(),
        kind=K.MSOB,
        lines=(line(CAP["defence_transport"]),),
        justifications=tuple(MSOB_JUSTIFIED.items()),
        task=task,
    )


# --- point 3: the task of a request -----------------------------------------------------------


@pytest.mark.parametrize("task", [Task.PUBLIC_ORDER, Task.CRIMINAL_JUSTICE])
def test_msob_for_a_police_task_is_refused_and_points_to_the_politiewet(task: Task) -> None:
    """factsheet-bijstand-politie §11 (lines 669-677): a mayor may request MSOB, but not for
    police tasks (the Politiewet 2012 applies); factsheet-bijstand-bevolkingszorg note 8
    (lines 433-435): police purposes go as bijstand under the Politiewet."""
    error = refused(lambda: msob(task, mayor("Nijmegen")), "msob_police_task")
    assert "Politiewet" in error.reason and "police_art56_public_order" in error.reason
    assert "§11" in error.source and "note 8" in error.source


def test_msob_is_no_crisis_management_task() -> None:
    """factsheet-bijstand-bevolkingszorg lines 62-69: MSOB is "niet zijnde een
    crisisbeheersingstaak" (that is art. 51 Wvr)."""
    refused(lambda: msob(Task.CRISIS_MANAGEMENT), "task_not_for_kind")
    assert msob(Task.PUBLIC_INTEREST).task is Task.PUBLIC_INTEREST


def test_a_jv_asset_serves_public_order_or_criminal_justice() -> None:
    """factsheet-bijstand-politie §2 (lines 228-231): J&V assets are deployed under the
    authority of the mayor or the public prosecutor."""
    for task in (Task.PUBLIC_ORDER, Task.CRIMINAL_JUSTICE):
        request = AssistanceRequest.draft(
            env("POL-ON"), uuid4(), kind=K.JV_ASSET, lines=(line(CAP["water_cannon"]),), task=task
        )
        assert request.task is task
    refused(
        lambda: AssistanceRequest.draft(
            env("POL-ON"),
            uuid4(),
            kind=K.JV_ASSET,
            lines=(line(CAP["water_cannon"]),),
            task=Task.PUBLIC_INTEREST,
        ),
        "task_not_for_kind",
    )


def test_a_jv_assets_task_decides_who_signs_it() -> None:
    """factsheet-bijstand-politie §2 (lines 228-231): "onder gezag van de burgemeester of de
    officier van justitie": the mayor for public order (§1), the prosecutor for criminal
    justice (§6)."""

    def asset(task: Task) -> AssistanceRequest:
        return AssistanceRequest.draft(
            env("POL-ON"), uuid4(), kind=K.JV_ASSET, lines=(line(CAP["water_cannon"]),), task=task
        )

    order = asset(Task.PUBLIC_ORDER)
    error = refused(
        lambda: order.submit(env("POL-ON", prosecutor("OM-ON"))), "authority_not_for_task"
    )
    assert "mayor" in error.reason and "§2" in error.source
    order.submit(env("POL-ON", mayor("Nijmegen")))
    justice = asset(Task.CRIMINAL_JUSTICE)
    refused(lambda: justice.submit(env("POL-ON", mayor("Nijmegen"))), "authority_not_for_task")
    justice.submit(env("POL-ON", prosecutor("OM-ON")))
    assert (order.status, justice.status) == (RequestStatus.SUBMITTED, RequestStatus.SUBMITTED)


@pytest.mark.parametrize(
    ("kind", "org", "capability", "task"),
    [
        (K.REGION_ART51, "VR08", CAP["fire"], Task.CRISIS_MANAGEMENT),
        (K.MILITARY_ART51, "VR08", CAP["defence_transport"], Task.CRISIS_MANAGEMENT),
        (K.POLICE_ART56_PUBLIC_ORDER, "POL-ON", CAP["police_me"], Task.PUBLIC_ORDER),
        (K.POLICE_ART56_CRIMINAL, "POL-ON", CAP["police_specialist"], Task.CRIMINAL_JUSTICE),
        (K.KMAR_ART57_CRIMINAL, "OM-PG", CAP["kmar"], Task.CRIMINAL_JUSTICE),
    ],
)
def test_the_task_is_derived_from_the_kind_elsewhere(
    kind: K, org: str, capability: str, task: Task
) -> None:
    """domain.md, settled questions: "A request serves a task": Wvr for crisis management,
    Politiewet art. 56-58 for public order (lid 1) or criminal justice (lid 2)."""
    request = drafted(org, kind, None, line(capability))
    assert request.task is task
    assert KIND_RULES[kind].tasks[0] is task
    wrong = next(t for t in Task if t is not task)
    refused(
        lambda: AssistanceRequest.draft(
            env(org), uuid4(), kind=kind, lines=(line(capability),), task=wrong
        ),
        "task_not_for_kind",
    )


def test_a_stored_request_without_a_task_reads_back_as_its_kinds_default() -> None:
    """Stored history must read back (issue 18, point 3): a Created event recorded before the
    task was recorded holds no ``task``; the store's mapper rebuilds events from their stored
    state, so the field is simply absent."""
    for kind, org, capability, default in (
        (K.MSOB, "VR08", CAP["defence_transport"], Task.PUBLIC_INTEREST),
        (K.JV_ASSET, "POL-ON", CAP["water_cannon"], Task.PUBLIC_ORDER),
        (K.POLICE_ART56_CRIMINAL, "POL-ON", CAP["police_specialist"], Task.CRIMINAL_JUSTICE),
    ):
        request = AssistanceRequest.draft(env(org), uuid4(), kind=kind, lines=(line(capability),))
        (created,) = request.collect_events()
        state = dict(vars(created))
        del state["task"]  # as stored before issue 18
        old = object.__new__(type(created))
        vars(old).update(state)
        replayed = old.mutate(None)
        assert replayed.task is default


# --- point 7: authority bodies, checked -----------------------------------------------------


def test_every_authority_body_of_every_kind_is_published_with_what_its_of_names() -> None:
    """locc-bijstandsloket line 63 (MSOB: minister, commissaris van de Koningin, burgemeester,
    dijkgraaf); factsheet-bijstand-bevolkingszorg line 95 and note 4 (lines 137-138)."""
    named = {
        b for rule in KIND_RULES.values() for b in (*rule.authorities, *rule.appeal_authorities)
    }
    named |= {b for kind in K for step in Step for b in signers(kind, step)}
    assert named <= set(AUTHORITY_BODIES)
    assert {b.of for b in AUTHORITY_BODIES.values()} <= set(AUTHORITY_OF)
    assert AUTHORITY_BODIES["minister"].of == "ministry"  # any minister signs MSOB
    assert AUTHORITY_BODIES["minister_jv"].of == "ministry"
    assert AUTHORITY_BODIES["kings_commissioner"].of == "province"
    assert AUTHORITY_BODIES["dike_reeve"].of == "water_board"
    assert AUTHORITY_BODIES["mayor"].of == "municipality"
    assert AUTHORITY_BODIES["public_prosecutor"].of == "prosecutor_office"


def test_any_minister_signs_msob() -> None:
    """factsheet-bijstand-bevolkingszorg note 4 (lines 137-138): "Andere bevoegde
    bestuursorganen zijn de Commissaris van de Koning en de Minister"."""
    request = msob(Task.PUBLIC_INTEREST)
    request.submit(env("VR08", Authority(body="minister", of="BZK")))
    assert request.status is RequestStatus.SUBMITTED


def test_every_dutch_municipality_lies_in_one_safety_region() -> None:
    """The annex to art. 8 Wvr: every municipality belongs to one safety region; on 1 January
    2025 there were 342 (CBS), plus Maas en Waal (Druten and West Maas en Waal, 2026)."""
    assert sum(len(r.municipalities) for r in regions()) == 343
    assert region_of_municipality("Vaals") == "VR24"
    assert region_of_municipality("Texel") == "VR10"
    assert region_of_municipality("Schiermonnikoog") == "VR02"


def test_a_mayor_outside_the_police_units_area_does_not_sign() -> None:
    """factsheet-bijstand-politie §1 (lines 200-203): the mayor of the municipality concerned
    submits the request to the korpschef; Venlo (VR23) lies in Limburg's unit, not in
    Oost-Nederland's (reference data: police unit per safety region)."""
    request = drafted(
        "POL-ON", K.POLICE_ART56_PUBLIC_ORDER, None, line(CAP["police_me"]), justifications=ART56
    )
    error = refused(lambda: request.submit(env("POL-ON", mayor("Venlo"))), "wrong_authority")
    assert "Venlo" in error.reason and "VR23" in error.reason
    refused(lambda: request.submit(env("POL-ON", mayor("Atlantis"))), "unknown_municipality")
    request.submit(env("POL-ON", mayor("Zwolle")))  # VR04, Oost-Nederland
    assert request.status is RequestStatus.SUBMITTED


def test_a_prosecutor_signs_for_a_prosecutors_office() -> None:
    """factsheet-bijstand-politie §6 (lines 441-444): the officier van justitie requests."""
    request = art56_criminal(justifications=ART56)
    refused(lambda: request.submit(env("POL-ON", prosecutor("VR08"))), "unknown_prosecutor_office")


def test_the_ministers_decisions_are_signed_minister_jv() -> None:
    """domain.md (the Minister of J&V decides priority on LOCC's advice); art. 56(4)
    Politiewet 2012 (the Minister decides the appeal). LOCC records them signed minister_jv."""
    assert STEP_PARTIES[Step.DECIDE_PRIORITY] == ("minister_jv",)
    assert STEP_PARTIES[Step.DECIDE_APPEAL] == ("minister_jv",)
    assert all(signers(kind, Step.DECIDE_PRIORITY) == ("minister_jv",) for kind in K)
    request = submitted("VR08", K.MILITARY_ART51, chair("VR08"), line(CAP["defence_transport"]))
    error = refused(
        lambda: request.decide_priority(
            env("LOCC", Authority(body="minister", of="JenV")),
            capability_code=CAP["defence_transport"],
            rank=1,
            reasons="GRIP 4",
        ),
        "wrong_decider",
    )
    assert "minister_jv" in error.reason
    request.decide_priority(
        env("LOCC", Authority(body="minister_jv", of="JenV")),
        capability_code=CAP["defence_transport"],
        rank=1,
        reasons="GRIP 4",
    )


# --- the appeal's authority, per kind (art. 56(4)) ------------------------------------------


def refused_by_korpschef(kind: K, authority: Authority, capability: str) -> AssistanceRequest:
    request = submitted("POL-ON", kind, authority, line(capability), justifications=ART56)
    through_hub(request, "POL-LE", to=("POL-MN",))
    request.decide(env("POL-LE"), outcome=Outcome.REFUSED, reasons="needed elsewhere")
    return request


def test_a_public_order_refusal_is_appealed_by_the_mayor_not_the_prosecutor() -> None:
    """art. 56(1) and (4) Politiewet 2012; factsheet-bijstand-politie §9 (lines 611-616):
    "de burgemeester of hoofdofficier van justitie" appeals, each for the request it made."""
    request = refused_by_korpschef(K.POLICE_ART56_PUBLIC_ORDER, mayor("Nijmegen"), CAP["police_me"])
    error = refused(
        lambda: request.appeal(env("POL-ON", prosecutor("OM-ON")), grounds="riot"),
        "wrong_authority",
    )
    assert "mayor" in error.reason
    refused(
        lambda: request.appeal(env("POL-ON", mayor("Venlo")), grounds="riot"), "wrong_authority"
    )
    request.appeal(env("POL-ON", mayor("Nijmegen")), grounds="riot spreading")
    assert request.status is RequestStatus.APPEALED


def test_a_criminal_justice_refusal_is_appealed_by_the_prosecutor_not_the_mayor() -> None:
    """art. 56(2) and (4) Politiewet 2012; factsheet-bijstand-politie §9 (lines 611-630)."""
    request = refused_by_korpschef(
        K.POLICE_ART56_CRIMINAL, prosecutor("OM-ON"), CAP["police_specialist"]
    )
    error = refused(
        lambda: request.appeal(env("POL-ON", mayor("Nijmegen")), grounds="arrests"),
        "wrong_authority",
    )
    assert "public_prosecutor" in error.reason
    request.appeal(
        env("POL-ON", prosecutor("OM-ON", "chief_public_prosecutor")), grounds="arrests needed"
    )
    assert request.status is RequestStatus.APPEALED


# --- point 8: the rights table says what the commands enforce -------------------------------


def test_djzs_check_of_armed_deployment_is_in_the_rights_table() -> None:
    """eindmeting-icms-2013 (lines ~1032-1047): armed deployment always needs a DJZ check."""
    for kind in K:
        assert "defence_djz" in allowed_kinds(kind, Step.ADVISE, armed=True)
    assert "defence_djz" not in allowed_kinds(K.MILITARY_ART58_PUBLIC_ORDER, Step.ADVISE)
    unarmed = submitted(
        "POL-ON", K.JV_ASSET, mayor("Nijmegen"), line(CAP["water_cannon"], 1), exercise=False
    )
    refused(
        lambda: unarmed.check_step(Step.ADVISE, Actor("DEF-DJZ", "operator")), "step_not_permitted"
    )


def test_only_appealable_kinds_have_appeal_steps_in_the_rights_table() -> None:
    """art. 56(4) Politiewet 2012: only a korpschef's refusal (art. 56) is appealed."""
    for kind, rule in KIND_RULES.items():
        for step in (Step.APPEAL, Step.DECIDE_APPEAL):
            assert bool(allowed_kinds(kind, step)) == rule.appealable, (kind, step)
        assert rule.appealable == bool(rule.appeal_authorities), kind
    request = submitted("VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"]))
    refused(lambda: request.appeal(env("VR08", chair("VR08")), grounds="g"), "step_not_permitted")


# --- point 9: the Minister's priority from submission on -------------------------------------


#: A capability each kind may ask for (the catalogue's keys in tests/unit/domain/catalogue.py).
KINDS_BY_CAPABILITY = {
    "fire": (K.REGION_ART51,),
    "defence_transport": (K.MILITARY_ART51, K.MSOB),
    "sis": (K.SUPPORT,),
    "police_me": (K.POLICE_ART56_PUBLIC_ORDER,),
    "police_specialist": (K.POLICE_ART56_CRIMINAL,),
    "kmar": (K.KMAR_ART57_PUBLIC_ORDER, K.KMAR_ART57_CRIMINAL),
    "defence_specialist": (K.MILITARY_ART58_PUBLIC_ORDER, K.MILITARY_ART58_CRIMINAL),
    "water_cannon": (K.JV_ASSET,),
    "foreign_police": (K.FOREIGN_POLICE,),
}


@pytest.mark.parametrize("phoned_in", [False, True])
def test_the_minister_decides_priority_from_submission_on_for_every_kind(phoned_in: bool) -> None:
    """domain.md §Settled questions: "The Minister of J&V decides priority under scarcity as
    soon as requests compete (from submission on), on LOCC's advice"."""
    hubs = {"jv_locc": "LOCC", "police_le": "POL-LE", "jv_ozi": "JV-OZI"}
    for kind, rule in KIND_RULES.items():
        preferred = ("VR08", "POL-ON", "OM-PG", "POL-LE")
        requester = next(o for o in preferred if organisation(o).kind.value in rule.requesters)
        capability = CAP[next(c for c, kinds in KINDS_BY_CAPABILITY.items() if kind in kinds)]
        authority = {
            "chair_safety_region": chair(requester),
            "mayor": mayor("Nijmegen"),
            "public_prosecutor": prosecutor("OM-ON"),
            "population_care_officer": Authority("population_care_officer", requester),
        }[rule.authorities[0]]
        lines = (line(capability),)
        justifications = tuple((j, "stated") for j in rule.justifications)
        if phoned_in:
            request = AssistanceRequest.phone_in(
                env(hubs[rule.route.hub[0]], authority),
                uuid4(),
                kind=kind,
                requester=requester,
                lines=lines,
                justifications=justifications,
            )
        else:
            request = AssistanceRequest.draft(
                env(requester), uuid4(), kind=kind, lines=lines, justifications=justifications
            )
            if "confirm_exhaustion" in [
                s["step"] for s in open_steps(request, "POL-LE", "operator")
            ]:
                # Art. 58: LE Preparatie confirms on the draft before it is submitted.
                request.confirm_exhaustion(env("POL-LE"), finding="police capacity exhausted")
            request.submit(env(requester, authority))
        assert request.status is RequestStatus.SUBMITTED
        assert "decide_priority" in [s["step"] for s in open_steps(request, "JV-MIN", "operator")]
        request.decide_priority(env("JV-MIN"), capability_code=capability, rank=1, reasons="first")
        assert request.priority == {capability: 1}
