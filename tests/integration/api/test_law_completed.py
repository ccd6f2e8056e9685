"""Issue 18 (the law, completed) over HTTP: the task of a request, the authority bodies
published, and the published rights equal to the enforced ones. Each test names its source."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from domain.envelope import Actor
from domain.errors import DomainError
from domain.kinds import AUTHORITY_BODIES, KIND_RULES, RequestKind
from domain.lifecycle import STEP_TYPES
from domain.reference import capabilities, organisations
from domain.request import AssistanceRequest, RequestLine
from domain.rights import Step
from tests.integration.api.conftest import Api, item
from tests.unit.domain.helpers import env

NIJMEGEN = {"body": "mayor", "of": "Nijmegen"}
MSOB_LINE = {
    "line_id": "L1",
    "capability": "DEF_EVACUATION_TRANSPORT",
    "quantity": 2,
    "effect": "move the harvest out of the flood plain",
}


def msob(subject: Any, **data: Any) -> dict[str, Any]:
    return item(
        "request.drafted",
        subject,
        {
            "kind": "msob",
            "title": "harvest",
            "lines": [MSOB_LINE],
            "justifications": {"no_market_alternative": "no contractor in time"},
            **data,
        },
        authority=NIJMEGEN,
    )


def test_msob_states_its_task_and_never_a_police_task(api: Api) -> None:
    """factsheet-bijstand-politie §11 (lines 669-677) and factsheet-bijstand-bevolkingszorg
    note 8 (lines 433-435): MSOB is not for police tasks, which go via the Politiewet."""
    api.refused("VR08", msob(uuid4()), 422, "task_required")
    error = api.refused("VR08", msob(uuid4(), task="public_order"), 422, "msob_police_task")
    assert "Politiewet" in error["reason"] and "§11" in error["source"]
    api.refused("VR08", msob(uuid4(), task="criminal_justice"), 422, "msob_police_task")
    api.refused("VR08", msob(uuid4(), task="police"), 422, "invalid_data")  # malformed
    # Rights first: an organisation that may not request MSOB gets 403, task or not.
    api.refused("POL-ON", msob(uuid4()), 403, "step_not_permitted")
    subject = uuid4()
    body = msob(subject, task="public_interest")
    assert api.accepted("VR08", body)["replayed"] is False
    assert api.accepted("VR08", body)["replayed"] is True  # the same message: nothing new
    # The same message id with another task, and another message creating the same subject.
    api.refused(
        "VR08", {**body, "data": {**body["data"], "task": "public_order"}}, 409, "message_id_reused"
    )
    api.refused("VR08", msob(subject, task="public_interest"), 409, "subject_exists")
    detail = api.client.get(f"/v1/requests/{subject}", headers=api.headers("VR08")).json()
    assert detail["task"] == "public_interest"
    rows = api.listed("/v1/requests", api.headers("LOCC"), {"min_position": api.position()})
    assert [r["task"] for r in rows if r["id"] == str(subject)] == ["public_interest"]


def test_a_jv_asset_states_its_task_and_other_kinds_take_their_own(api: Api) -> None:
    """factsheet-bijstand-politie §2 (lines 228-231): J&V assets under the authority of the
    mayor (public order) or the prosecutor (criminal justice); domain.md §Settled questions."""
    cannon = {"line_id": "L1", "capability": "JV_WATER_CANNON", "quantity": 1, "effect": "ME"}
    asset = {"kind": "jv_asset", "lines": [cannon]}
    api.refused("POL-ON", item("request.drafted", uuid4(), asset), 422, "task_required")
    subject = uuid4()
    api.accepted("POL-ON", item("request.drafted", subject, {**asset, "task": "criminal_justice"}))
    police = {
        "kind": "police_art56_public_order",
        "lines": [{"line_id": "L1", "capability": "POLICE_ME", "quantity": 1, "effect": "ME"}],
    }
    derived = uuid4()
    api.accepted("POL-ON", item("request.drafted", derived, police))
    api.refused(
        "POL-ON",
        item("request.drafted", uuid4(), {**police, "task": "criminal_justice"}),
        422,
        "task_not_for_kind",
    )
    headers = api.headers("POL-ON")
    assert api.client.get(f"/v1/requests/{subject}", headers=headers).json()["task"] == (
        "criminal_justice"
    )
    assert api.client.get(f"/v1/requests/{derived}", headers=headers).json()["task"] == (
        "public_order"
    )


def test_reference_publishes_every_authority_body_and_who_signs_per_kind(api: Api) -> None:
    """locc-bijstandsloket line 63 and factsheet-bijstand-bevolkingszorg note 4 (lines 137-138):
    MSOB is signed by a mayor, chair, King's Commissioner, any minister or a dike-reeve."""
    reference = api.client.get("/v1/reference", headers=api.headers("VR08")).json()
    bodies = {b["code"]: b for b in reference["authority_bodies"]}
    assert set(bodies) == set(AUTHORITY_BODIES)
    assert (
        {b["of"] for b in bodies.values()}
        == set(reference["authority_of"])
        == {"region", "municipality", "prosecutor_office"} | {"ministry", "province", "water_board"}
    )
    assert bodies["minister"]["of"] == "ministry" and bodies["minister_jv"]["of"] == "ministry"
    assert all(b["dutch"] for b in bodies.values())
    kinds = {k["code"]: k for k in reference["request_kinds"]}
    assert kinds["msob"]["authorities"] == [
        "mayor",
        "chair_safety_region",
        "kings_commissioner",
        "minister",
        "dike_reeve",
    ]
    assert (kinds["msob"]["tasks"], kinds["msob"]["task_required"]) == (["public_interest"], True)
    assert kinds["jv_asset"]["task_required"] is True
    assert kinds["jv_asset"]["task_authorities"] == {
        "public_order": ["mayor"],
        "criminal_justice": ["public_prosecutor"],
    }
    assert kinds["region_art51"]["default_task"] == "crisis_management"
    assert kinds["police_art56_public_order"]["appeal_authorities"] == ["mayor"]
    assert kinds["police_art56_criminal"]["appeal_authorities"] == [
        "public_prosecutor",
        "chief_public_prosecutor",
    ]
    assert kinds["region_art51"]["appeal_authorities"] == []
    for kind in kinds.values():
        assert kind["decision_authorities"]["decide_priority"] == ["minister_jv"]
        for body in kind["authorities"] + kind["appeal_authorities"]:
            assert body in bodies


# --- point 8: what /v1/event-types publishes is what the commands accept ----------------------

#: Organisations to try, one of every kind, preferring those the tests' requests involve.
PREFERRED = {"safety_region": "VR08", "police_unit": "POL-ON", "om_prosecutor": "OM-ON"}


def _representatives() -> dict[str, str]:
    chosen: dict[str, str] = {}
    for org in organisations():
        chosen.setdefault(org.kind.value, PREFERRED.get(org.kind.value, org.code))
    return chosen


def _request(kind: RequestKind, armed: bool) -> AssistanceRequest:
    """A draft of ``kind`` by one of its requesters (the rights checks come before the status)."""
    rule = KIND_RULES[kind]
    requester = next(
        org for org in _representatives().values() if org and _kind_of(org) in rule.requesters
    )
    code = next(
        c.code
        for c in capabilities()
        if (not c.request_kinds or kind.value in c.request_kinds) and c.code != "BTC"
    )
    line = RequestLine("L1", code, 1, "effect", armed=armed)
    return AssistanceRequest.draft(env(requester), uuid4(), kind=kind, lines=(line,))


def _kind_of(org: str) -> str:
    return next(o.kind.value for o in organisations() if o.code == org)


#: The refusals that say an organisation kind may never take this step on this kind of request,
#: whatever its state: the rights table's (and ``not_appealable``, which said so for the appeal
#: of a kind that has none outside the table before issue 18).
TABLE_REFUSALS = {"step_not_permitted", "not_appealable"}


def _enforced(request: AssistanceRequest, step: Step, org: str) -> bool:
    """Whether the commands let ``org`` take ``step`` on ``request`` as far as the rights table
    goes: every refusal but the table's own (the state, the data) counts as allowed."""
    line = next(iter(request.lines.values()))
    try:
        if step is Step.DRAFT:
            AssistanceRequest.draft(env(org), uuid4(), kind=request.kind, lines=(line,))
        elif step is Step.PHONE_IN:
            AssistanceRequest.phone_in(
                env(org), uuid4(), kind=request.kind, requester=request.requester, lines=(line,)
            )
        else:
            request.check_step(step, Actor(org, "operator"))
    except DomainError as refused:
        return refused.code not in TABLE_REFUSALS
    return True


@pytest.mark.parametrize("armed", [False, True])
def test_published_rights_are_the_enforced_rights(api: Api, armed: bool) -> None:
    """eindmeting-icms-2013 (lines ~1032-1047): DJZ checks every armed deployment; the rights
    table (domain/rights.py) is what /v1/event-types publishes and the commands enforce, for
    every kind, step and organisation kind (generated from the tables, nothing listed here)."""
    published = {
        t["type"]: t["allowed"]
        for t in api.client.get("/v1/event-types", headers=api.headers("LOCC")).json()
        if t.get("postable") and t["subject"] == "request"
    }
    key = "org_kinds_by_request_kind_armed" if armed else "org_kinds_by_request_kind"
    compared = 0
    for kind in RequestKind:
        request = _request(kind, armed)
        for step, api_type in STEP_TYPES.items():
            allowed = set(published[api_type][key][kind.value])
            for org_kind, org in _representatives().items():
                enforced = _enforced(request, step, org)
                assert enforced == (org_kind in allowed), (
                    f"{api_type} on a{'n armed' if armed else ''} {kind.value} request by "
                    f"{org} ({org_kind}): published {org_kind in allowed}, enforced {enforced}"
                )
                compared += 1
    assert compared == len(RequestKind) * len(STEP_TYPES) * len(_representatives())


def test_the_published_signers_of_the_ministers_decisions(api: Api) -> None:
    """art. 56(4) Politiewet 2012 and domain.md: the Minister of J&V's decisions are signed
    minister_jv; an appeal by the body competent for the kind (factsheet-bijstand-politie §9)."""
    types = {
        t["type"]: t
        for t in api.client.get("/v1/event-types", headers=api.headers("LOCC")).json()
        if t.get("postable")
    }
    priority = types["request.priority_decided"]["allowed"]["authorities_by_request_kind"]
    assert set(map(tuple, priority.values())) == {("minister_jv",)}
    appeal = types["request.appealed"]["allowed"]["authorities_by_request_kind"]
    assert appeal["police_art56_public_order"] == ["mayor"]
    assert appeal["police_art56_criminal"] == ["public_prosecutor", "chief_public_prosecutor"]
    assert appeal["msob"] == []
    assert "mayor" in types["request.submitted"]["allowed"]["authorities_by_request_kind"]["msob"]
