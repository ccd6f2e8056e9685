"""The rights matrix over HTTP: every organisation kind and role x every event type.

Where the domain's rights table (organisation kind x request kind x step) forbids a step, the
answer is 403; where it allows it, the answer is never a rights refusal (it may still be a 409
or 422 because the request is not in the right state for that step). A subject the
organisation may not see at all (need to know, domain/policy.py) answers 404 as unknown.
"""

from __future__ import annotations

from uuid import uuid4

import pytest

from api.commands import REGISTRY
from api.ports import Principal
from domain import policy
from domain.incident import INCIDENT_KEEPERS
from domain.kinds import RequestKind
from domain.reference import OrgKind, organisations
from domain.rights import PROVIDER_KINDS, allowed_kinds
from tests.integration.api.conftest import Api, chair, item

RIGHTS_CODES = {"step_not_permitted", "read_only_role", "not_a_provider", "wrong_hub"}
CAPACITY = uuid4()
BOOKING = {"capacity_id": str(CAPACITY), "booking_id": str(uuid4())}
LINE = {"line_id": "L1", "capability": "FIRE_WATER_SUPPLY", "quantity": 1, "effect": "pump"}
SAMPLE_DATA = {
    "incident.opened": {"title": "t", "regions": ["VR08"], "grip": "1"},
    "incident.grip_changed": {"grip": "2"},
    "incident.phase_changed": {"phase": "nafase"},
    "incident.regions_changed": {"regions": ["VR08"]},
    "incident.situation_reported": {"summary": "s"},
    "incident.closed": {"reason": "r"},
    "incident.voided": {"target_version": 2, "reason": "r"},
    "capacity.registered": {"capability": "FIRE_WATER_SUPPLY", "quantity": 1},
    "capacity.availability_changed": {"unavailable": 0},
    "capacity.quantity_changed": {"quantity": 3},
    "request.drafted": {"kind": "region_art51", "lines": [LINE]},
    "request.phoned_in": {"kind": "region_art51", "requester": "VR08", "lines": [LINE]},
    "request.submitted": {},
    "request.formalised": {},
    "request.amended": {"lines": [LINE], "reason": "r"},
    "request.received": {},
    "request.exhaustion_confirmed": {"finding": "f"},
    "request.assessed": {"forward": True, "findings": "f", "alternatives_checked": "a"},
    "request.forwarded": {"to": ["VR07"]},
    "request.advised": {"favourable": True, "advice": "a"},
    "request.decided": {"outcome": "granted"},
    "request.priority_decided": {"capability": "FIRE_WATER_SUPPLY", "rank": 1, "reasons": "r"},
    "request.appealed": {"grounds": "g"},
    "request.appeal_decided": {"upheld": True, "reasons": "r"},
    "request.made_ready": {**BOOKING, "line_id": "L1", "quantity": 1},
    "request.committed": {**BOOKING, "line_id": "L1", "quantity": 1},
    "request.dispatched": BOOKING,
    "request.arrived": BOOKING,
    "request.extended": {**BOOKING, "until": "2030-01-01T00:00:00Z", "reason": "r"},
    "request.relieved": {**BOOKING, "successor_booking_id": str(uuid4())},
    "request.released": BOOKING,
    "request.returned": BOOKING,
    "request.withdrawn": {"reason": "r"},
    "request.closed": {},
    "request.evaluated": {"lessons": ["l"]},
    "request.voided": {"target_version": 2, "reason": "r"},
    "request.informed": {"duty": "locc_informs_korpschef", "to": "POL-LE"},
}
PREFERRED = {"safety_region": "VR08", "police_unit": "POL-ON"}


def representatives() -> dict[str, str]:
    chosen: dict[str, str] = {}
    for org in organisations():
        chosen.setdefault(org.kind.value, PREFERRED.get(org.kind.value, org.code))
    assert set(chosen) == {k.value for k in OrgKind}
    return chosen


def test_every_event_type_has_sample_data() -> None:
    assert set(SAMPLE_DATA) == set(REGISTRY)


def test_rights_matrix(api: Api) -> None:
    request, incident, capacity = uuid4(), uuid4(), CAPACITY
    setup = [
        (
            "VR08",
            item(
                "request.drafted", request, SAMPLE_DATA["request.drafted"], authority=chair("VR08")
            ),
        ),
        ("VR08", item("request.submitted", request, authority=chair("VR08"))),
        ("VR08", item("incident.opened", incident, SAMPLE_DATA["incident.opened"])),
        ("VR07", item("capacity.registered", capacity, SAMPLE_DATA["capacity.registered"])),
    ]
    for org, body in setup:
        assert api.post(org, body).status_code == 201
    subjects = {"request": request, "incident": incident, "capacity": capacity}
    checked = hidden = 0
    for org_kind, org in representatives().items():
        for name, event_type in REGISTRY.items():
            if event_type.subject == "incident":
                allowed = org_kind in INCIDENT_KEEPERS
            elif event_type.subject == "capacity":
                allowed = org_kind in PROVIDER_KINDS
            else:
                assert event_type.step is not None
                allowed = org_kind in allowed_kinds(RequestKind.REGION_ART51, event_type.step)
            subject = uuid4() if event_type.creates else subjects[event_type.subject]
            existing = None if event_type.creates else api.service.app.load(object, subject)
            if existing is not None and not policy.may_see_subject(
                Principal(org, "operator"), existing
            ):
                response = api.post(org, item(name, subject, SAMPLE_DATA[name]))
                assert response.status_code == 404, (org, name, response.text)
                assert response.json()["error"]["code"] == "unknown_subject"
                hidden += 1
                checked += 1
                continue
            authority = chair("VR08") if org == "VR08" else None
            body = item(name, subject, SAMPLE_DATA[name], authority=authority)
            api.token(org)
            before = api.position()
            response = api.post(org, body)
            code = response.json().get("error", {}).get("code")
            if allowed:
                assert not (response.status_code == 403 and code in RIGHTS_CODES), (
                    org,
                    name,
                    response.text,
                )
            else:
                assert response.status_code == 403, (org, name, response.text)
                assert api.position() == before
            checked += 1
    assert checked == len(OrgKind) * len(REGISTRY)
    # Rights are checked wherever the subject is visible (national bodies, the requester, the
    # organisations its route involves) and for every creating step; the rest is need to know.
    assert hidden > 0 and checked - hidden > 8 * len(REGISTRY)


@pytest.mark.parametrize("role", ["auditor", "viewer", "admin"])
def test_read_only_roles_post_nothing(api: Api, role: str) -> None:
    request = uuid4()
    assert (
        api.post(
            "VR08", item("request.drafted", request, SAMPLE_DATA["request.drafted"])
        ).status_code
        == 201
    )
    registered = item("capacity.registered", CAPACITY, SAMPLE_DATA["capacity.registered"])
    assert api.post("VR07", registered).status_code == 201
    for name, event_type in REGISTRY.items():
        subject = uuid4() if event_type.creates else request
        if event_type.subject != "request" and not event_type.creates:
            continue
        error = api.refused(
            "LOCC", item(name, subject, SAMPLE_DATA[name]), 403, "read_only_role", role=role
        )
        assert error["status"] == 403
