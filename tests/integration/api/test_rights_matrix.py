"""The rights matrix over HTTP: every organisation kind and role x every event type.

Where the domain's rights table (organisation kind x request kind x step) forbids a step, the
answer is 403; where it allows it, the answer is never a rights refusal (it may still be a 409
or 422 because the request is not in the right state for that step). A subject the
organisation may not see at all (need to know, domain/policy.py) answers 404 as unknown.
"""

from __future__ import annotations

from typing import Any
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
from tests.samples import sample

RIGHTS_CODES = {"step_not_permitted", "read_only_role", "not_a_provider", "wrong_hub"}
CAPACITY = uuid4()


def data(name: str) -> dict[str, Any]:
    """The type's example (api/commands.py); a booking names the capacity registered here."""
    return sample(name, capacity_id=str(CAPACITY))


PREFERRED = {"safety_region": "VR08", "police_unit": "POL-ON"}


def representatives() -> dict[str, str]:
    chosen: dict[str, str] = {}
    for org in organisations():
        chosen.setdefault(org.kind.value, PREFERRED.get(org.kind.value, org.code))
    assert set(chosen) == {k.value for k in OrgKind}
    return chosen


def test_the_data_of_every_type_is_its_example_valid_with_the_capacity_registered_here() -> None:
    """No table here: each type's example (api/commands.py), so a new type needs no edit."""
    for name, event_type in REGISTRY.items():
        found = event_type.model.model_validate(data(name))
        if "capacity_id" in event_type.example:
            assert found.model_dump()["capacity_id"] == CAPACITY, name


def test_rights_matrix(api: Api) -> None:
    request, incident, capacity = uuid4(), uuid4(), CAPACITY
    setup = [
        (
            "VR08",
            item("request.drafted", request, data("request.drafted"), authority=chair("VR08")),
        ),
        ("VR08", item("request.submitted", request, authority=chair("VR08"))),
        ("VR08", item("incident.opened", incident, data("incident.opened"))),
        ("VR07", item("capacity.registered", capacity, data("capacity.registered"))),
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
                response = api.post(org, item(name, subject, data(name)))
                assert response.status_code == 404, (org, name, response.text)
                assert response.json()["error"]["code"] == "unknown_subject"
                hidden += 1
                checked += 1
                continue
            authority = chair("VR08") if org == "VR08" else None
            body = item(name, subject, data(name), authority=authority)
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
        api.post("VR08", item("request.drafted", request, data("request.drafted"))).status_code
        == 201
    )
    registered = item("capacity.registered", CAPACITY, data("capacity.registered"))
    assert api.post("VR07", registered).status_code == 201
    for name, event_type in REGISTRY.items():
        subject = uuid4() if event_type.creates else request
        if event_type.subject != "request" and not event_type.creates:
            continue
        error = api.refused(
            "LOCC", item(name, subject, data(name)), 403, "read_only_role", role=role
        )
        assert error["status"] == 403
