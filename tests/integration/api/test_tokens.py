"""Tokens (issue 16, defects 7 and 9), over both stores.

Defect 7: a bearer token names its token id; an id that is no token (a request, capacity or
incident with a long history) was loaded, decoded and only then refused, about 100x the cost of
a random id and an existence oracle. Now it is refused after the same index lookup as a random
id, and nothing of that subject is read. Defect 9: any administrator issued tokens for any
organisation, role and clearance and revoked anyone's. Now an administrator manages only its
own organisation's tokens (LOCC's: every organisation's), never above its own clearance, never
with a role the organisation may not hold; another organisation's token answers 404 as an
unknown one. On 72956bf the tests of these rules fail (17 of the 26 cases); the others (a real
token's cost, revoking twice and at once, unauthorised callers, malformed input, the policy's
own functions) guard what must keep holding.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from httpx import Response

from api.ports import Principal
from domain.envelope import Classification
from domain.errors import NotFound, NotPermitted
from domain.policy import ROLES, issue_refusal, may_manage_token, roles_for
from tests.cli import run_cli
from tests.conftest import on_both_stores
from tests.integration.api.conftest import ADMIN, Api, item

OPEN = Classification.UNCLASSIFIED
CONFIDENTIAL = Classification.STATE_SECRET_CONFIDENTIAL
SECRET = Classification.STATE_SECRET_SECRET
TOP = Classification.STATE_SECRET_TOP_SECRET


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def admin_of(api: Api, org: str, clearance: Classification = SECRET) -> dict[str, str]:
    return api.headers(org, "admin", clearance=clearance)


def refusal(response: Response, status: int, code: str) -> dict[str, Any]:
    """The documented error shape, with this status and code."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["status"] == status and error["code"] == code, error
    assert isinstance(error["reason"], str) and error["reason"]
    assert isinstance(error["source"], str) and error["source"]
    return dict(error)


def issue(api: Api, headers: dict[str, str], **body: Any) -> Response:
    answer: Response = api.client.post("/v1/tokens", json=body, headers=headers)
    return answer


def revoke(api: Api, headers: dict[str, str], token_id: UUID | str) -> Response:
    answer: Response = api.client.delete(f"/v1/tokens/{token_id}", headers=headers)
    return answer


def without(text: str, *ids: UUID | str) -> str:
    for i in ids:
        text = text.replace(str(i), "<id>")
    return text


# --- defect 7: an id that is no token is never loaded ------------------------------------------


def long_incident(api: Api, reports: int = 150) -> UUID:
    """An incident with a long history (``reports`` situation reports after its opening)."""
    incident = uuid4()
    items = [item("incident.opened", incident, {"title": "t", "regions": ["VR08"], "grip": "1"})]
    items += [
        item("incident.situation_reported", incident, {"summary": f"report {n}"})
        for n in range(reports)
    ]
    answer = api.client.post("/v1/events", json={"items": items}, headers=api.headers("VR08"))
    assert answer.status_code == 201, answer.text
    return incident


@contextmanager
def reads(api: Api, *subjects: UUID) -> Iterator[dict[str, int]]:
    """Count the reads of these subjects' streams and their events decoded meanwhile (the
    projections, which decode every new event in their own thread, are caught up first)."""
    api.service.wait_for_views(api.position(), ("requests", "capacities", "incidents"), 10.0)
    app = api.service.app
    counts = {"streams": 0, "decoded": 0}
    select_events: Callable[..., Any] = app.recorder.select_events
    to_domain_event: Callable[..., Any] = app.mapper.to_domain_event

    def counting_select(originator_id: UUID, *args: Any, **kwargs: Any) -> Any:
        counts["streams"] += originator_id in subjects
        return select_events(originator_id, *args, **kwargs)

    def counting_decode(stored: Any, *args: Any, **kwargs: Any) -> Any:
        counts["decoded"] += stored.originator_id in subjects
        return to_domain_event(stored, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(app.recorder, "select_events", counting_select)
        patch.setattr(app.mapper, "to_domain_event", counting_decode)
        yield counts


@on_both_stores
def test_a_bearer_naming_a_subject_is_refused_without_loading_it(api: Api) -> None:
    incident = long_incident(api)
    random_id = uuid4()
    answers = {}
    for subject in (incident, random_id):
        with reads(api, subject) as counts:
            answer = api.client.get("/v1/whoami", headers=bearer(f"mlob_{subject.hex}_x"))
        answers[subject] = answer
        # 72956bf read the incident's stream and decoded its 151 events before refusing.
        assert counts == {"streams": 0, "decoded": 0}, (subject, counts)
    refusal(answers[incident], 401, "invalid_token")
    assert answers[incident].json() == answers[random_id].json()
    assert answers[incident].headers.get("www-authenticate") == "Bearer"
    # The service itself, as the feed's sign-in uses it: same answer, still nothing read.
    with reads(api, incident, random_id) as counts:
        assert api.service.authenticate(f"mlob_{incident.hex}_x") is None
        assert api.service.authenticate(f"mlob_{random_id.hex}_x") is None
    assert counts == {"streams": 0, "decoded": 0}


@on_both_stores
def test_a_real_token_still_reads_only_its_own_few_events(api: Api) -> None:
    long_incident(api, reports=20)
    issued = api.service.issue_token(ADMIN, org="VR08", role="viewer", clearance=OPEN)
    wrong_secret = f"mlob_{issued.token_id.hex}_not-the-secret"
    with reads(api, issued.token_id) as counts:
        assert api.service.authenticate(wrong_secret) is None
        principal = api.service.authenticate(issued.token)
    assert principal is not None and (principal.org, principal.role) == ("VR08", "viewer")
    assert counts == {"streams": 2, "decoded": 2}  # the token's own Issued event, twice


@on_both_stores
def test_revoking_a_subject_id_is_a_plain_404_without_loading_it(api: Api) -> None:
    incident = long_incident(api)
    admin = admin_of(api, "LOCC", TOP)
    random_id = uuid4()
    before = api.position()
    with reads(api, incident, random_id) as counts:
        on_subject = refusal(revoke(api, admin, incident), 404, "unknown_token")
        on_nothing = refusal(revoke(api, admin, random_id), 404, "unknown_token")
    assert counts == {"streams": 0, "decoded": 0}
    assert without(str(on_subject), incident) == without(str(on_nothing), random_id)
    assert api.position() == before


# --- defect 9: who issues, lists and revokes which tokens ---------------------------------------


def test_policy_roles_an_organisation_may_hold() -> None:
    everyone = {"operator", "coordinator", "viewer", "admin"}
    assert roles_for("VR08") == frozenset(ROLES)  # a safety region: auditors too
    assert roles_for("LOCC") == roles_for("INSP-JENV") == frozenset(ROLES)  # national
    assert roles_for("POL-LE") == roles_for("DEF-CDS") == roles_for("IFV") == everyone
    assert roles_for("NOPE") == frozenset()
    vr08 = Principal("VR08", "admin", SECRET)
    assert issue_refusal(vr08, "VR08", "auditor", SECRET) is None
    assert issue_refusal(vr08, "VR07", "operator", OPEN) == "not_own_organisation"
    assert issue_refusal(vr08, "VR08", "operator", TOP) == "clearance_above_own"
    assert issue_refusal(Principal("IFV", "admin", TOP), "IFV", "auditor", OPEN) == "role_not_held"
    assert issue_refusal(Principal("VR08", "coordinator", TOP), "VR08", "viewer", OPEN) == (
        "admin_only"
    )
    locc = Principal("LOCC", "admin", CONFIDENTIAL)
    assert issue_refusal(locc, "DEF-CDS", "operator", CONFIDENTIAL) is None
    assert issue_refusal(locc, "DEF-CDS", "operator", SECRET) == "clearance_above_own"
    assert may_manage_token(locc, "VR07", CONFIDENTIAL)
    assert not may_manage_token(locc, "VR07", SECRET)
    assert not may_manage_token(vr08, "VR07", OPEN)


@on_both_stores
def test_an_admin_issues_only_for_its_own_organisation(api: Api) -> None:
    vr08 = admin_of(api, "VR08")
    before = api.position()
    for org in ("VR07", "LOCC", "DEF-CDS", "NOPE"):
        refusal(issue(api, vr08, org=org, role="operator"), 403, "not_own_organisation")
    assert api.position() == before, "a refused issue recorded something"
    own = issue(api, vr08, org="VR08", role="operator", label="night shift")
    assert own.status_code == 201, own.text
    assert api.client.get("/v1/whoami", headers=bearer(own.json()["token"])).json()["org"] == "VR08"
    # LOCC's administrators run the installation: any organisation.
    locc = admin_of(api, "LOCC")
    for org in ("VR07", "DEF-CDS", "NCC"):
        assert issue(api, locc, org=org, role="operator").status_code == 201
    refusal(issue(api, locc, org="NOPE", role="operator"), 422, "unknown_organisation")


@on_both_stores
def test_a_token_issued_over_http_is_what_its_body_asks_for(api: Api) -> None:
    # The body is handed to the service as the grant (api/app.py): every field arrives.
    admin = admin_of(api, "LOCC", TOP)
    expires = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    body = {
        "org": "VR08",
        "role": "coordinator",
        "clearance": SECRET.value,
        "expires_at": expires.isoformat(),
        "label": "night shift",
    }
    issued = issue(api, admin, **body)
    assert issued.status_code == 201, issued.text
    listed = api.client.get("/v1/tokens", headers=admin).json()
    [token] = [t for t in listed if t["token_id"] == issued.json()["token_id"]]
    assert {key: token[key] for key in body} == body
    principal = api.service.authenticate(issued.json()["token"])
    assert principal is not None and principal.clearance is SECRET
    assert principal.expires_at == expires


@on_both_stores
def test_an_admin_never_issues_above_its_own_clearance(api: Api) -> None:
    vr08 = admin_of(api, "VR08", CONFIDENTIAL)
    low_locc = admin_of(api, "LOCC", OPEN)
    before = api.position()  # issuing the admins' tokens was recorded: count from here
    for level in (SECRET, TOP):
        answer = issue(api, vr08, org="VR08", role="coordinator", clearance=level.value)
        refusal(answer, 403, "clearance_above_own")
    answer = issue(api, low_locc, org="VR07", role="viewer", clearance=SECRET.value)
    refusal(answer, 403, "clearance_above_own")
    assert api.position() == before
    equal = issue(api, vr08, org="VR08", role="coordinator", clearance=CONFIDENTIAL.value)
    assert equal.status_code == 201, equal.text
    whoami = api.client.get("/v1/whoami", headers=bearer(equal.json()["token"])).json()
    assert whoami["clearance"] == CONFIDENTIAL.value


@on_both_stores
def test_an_admin_issues_only_roles_its_organisation_may_hold(api: Api) -> None:
    admins = {org: admin_of(api, org) for org in ("DEF-CDS", "POL-LE", "IFV", "LOCC", "VR08")}
    before = api.position()
    for org in ("DEF-CDS", "POL-LE", "IFV"):
        refusal(issue(api, admins[org], org=org, role="auditor"), 403, "role_not_held")
    refusal(issue(api, admins["LOCC"], org="KMAR", role="auditor"), 403, "role_not_held")
    refusal(issue(api, admins["LOCC"], org="VR08", role="root"), 422, "unknown_role")
    assert api.position() == before
    assert issue(api, admins["VR08"], org="VR08", role="auditor").status_code == 201
    assert issue(api, admins["LOCC"], org="INSP-JENV", role="auditor").status_code == 201
    assert issue(api, admins["DEF-CDS"], org="DEF-CDS", role="admin").status_code == 201


@on_both_stores
def test_the_domain_decides_for_every_caller(api: Api) -> None:
    """The rule is the domain's: the service (the CLI's path) refuses the same way."""
    vr08 = Principal("VR08", "admin", SECRET)
    with pytest.raises(NotPermitted) as refused:
        api.service.issue_token(vr08, org="VR07", role="operator", clearance=OPEN)
    assert refused.value.code == "not_own_organisation"
    with pytest.raises(NotPermitted) as refused:
        api.service.issue_token(vr08, org="VR08", role="operator", clearance=TOP)
    assert refused.value.code == "clearance_above_own"
    other = api.service.issue_token(ADMIN, org="VR07", role="operator", clearance=OPEN)
    with pytest.raises(NotFound) as hidden:
        api.service.revoke_token(vr08, other.token_id, "not mine")
    assert hidden.value.code == "unknown_token"
    assert api.service.authenticate(other.token) is not None


@on_both_stores
def test_listing_shows_only_the_tokens_the_admin_manages(api: Api) -> None:
    mine = api.service.issue_token(ADMIN, org="VR08", role="operator", clearance=OPEN)
    above = api.service.issue_token(ADMIN, org="VR08", role="coordinator", clearance=TOP)
    theirs = api.service.issue_token(ADMIN, org="VR07", role="operator", clearance=OPEN)
    listed = api.client.get("/v1/tokens", headers=admin_of(api, "VR08", SECRET))
    assert listed.status_code == 200
    ids = {t["token_id"] for t in listed.json()}
    assert str(mine.token_id) in ids
    assert str(above.token_id) not in ids and str(theirs.token_id) not in ids
    assert {t["org"] for t in listed.json()} == {"VR08"}
    assert all(t["clearance"] != TOP.value for t in listed.json())
    everything = api.client.get("/v1/tokens", headers=admin_of(api, "LOCC", TOP)).json()
    assert {str(mine.token_id), str(above.token_id), str(theirs.token_id)} <= {
        t["token_id"] for t in everything
    }
    assert not any(mine.token in str(t) for t in everything)  # never a secret


@on_both_stores
def test_revoking_another_organisations_token_is_a_404_like_an_unknown_one(api: Api) -> None:
    theirs = api.service.issue_token(ADMIN, org="VR07", role="operator", clearance=OPEN)
    above = api.service.issue_token(ADMIN, org="VR08", role="coordinator", clearance=TOP)
    vr08 = admin_of(api, "VR08")
    random_id = uuid4()
    before = api.position()
    unknown = refusal(revoke(api, vr08, random_id), 404, "unknown_token")
    for hidden in (theirs, above):
        answer = refusal(revoke(api, vr08, hidden.token_id), 404, "unknown_token")
        assert without(str(answer), hidden.token_id) == without(str(unknown), random_id)
        assert api.service.authenticate(hidden.token) is not None
    # Revoked already: still a 404 (a 409 would tell that it exists).
    api.service.revoke_token(ADMIN, theirs.token_id, "left")
    refusal(revoke(api, vr08, theirs.token_id), 404, "unknown_token")
    assert api.position() == before + 1  # only LOCC's revocation
    assert revoke(api, admin_of(api, "LOCC", TOP), above.token_id).status_code == 204


@on_both_stores
def test_revoking_twice_and_at_once(api: Api) -> None:
    vr08 = admin_of(api, "VR08")
    issued = issue(api, vr08, org="VR08", role="operator").json()
    assert revoke(api, vr08, issued["token_id"]).status_code == 204
    refusal(api.client.get("/v1/whoami", headers=bearer(issued["token"])), 401, "invalid_token")
    refusal(revoke(api, vr08, issued["token_id"]), 409, "already_revoked")
    # Several revocations of one token at the same moment: exactly one is recorded.
    racing = issue(api, vr08, org="VR08", role="viewer").json()
    statuses: list[int] = []

    def attempt() -> None:
        statuses.append(revoke(api, vr08, racing["token_id"]).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [204, 409, 409, 409], statuses
    history = api.service.app.history(stream_id=UUID(racing["token_id"]))
    assert [h.event_type for h in history] == [
        "mlob:AccessToken.Issued",
        "mlob:AccessToken.Revoked",
    ]


@on_both_stores
def test_unauthorised_callers(api: Api) -> None:
    token_id = api.service.issue_token(ADMIN, org="VR08", role="viewer", clearance=OPEN).token_id
    before = api.position()
    for headers in ({}, bearer("mlob_x_y"), {"Authorization": "Basic dXNlcjpwdw=="}):
        for response in (
            api.client.get("/v1/tokens", headers=headers),
            issue(api, headers, org="VR08", role="operator"),
            revoke(api, headers, token_id),
        ):
            assert response.status_code == 401, response.text
            assert response.json()["error"]["code"] in ("unauthenticated", "invalid_token")
            refusal(response, 401, response.json()["error"]["code"])
    for role in ("operator", "coordinator", "auditor", "viewer"):
        headers = api.headers("VR08", role, clearance=TOP)
        before = api.position()
        refusal(api.client.get("/v1/tokens", headers=headers), 403, "role_not_permitted")
        refusal(issue(api, headers, org="VR08", role="viewer"), 403, "role_not_permitted")
        refusal(revoke(api, headers, token_id), 403, "role_not_permitted")
        assert api.position() == before
    # A revoked or expired administrator manages nothing.
    gone = api.service.issue_token(ADMIN, org="VR08", role="admin", clearance=SECRET)
    api.service.revoke_token(ADMIN, gone.token_id, "left")
    refusal(issue(api, bearer(gone.token), org="VR08", role="viewer"), 401, "invalid_token")


@on_both_stores
def test_malformed_input(api: Api) -> None:
    admin = admin_of(api, "LOCC", TOP)
    before = api.position()
    post = api.client.post
    cases = [
        post(
            "/v1/tokens",
            content=b"{not json",
            headers={**admin, "content-type": "application/json"},
        ),
        post("/v1/tokens", json=[], headers=admin),
        post("/v1/tokens", json={"role": "operator"}, headers=admin),
        post("/v1/tokens", json={"org": "", "role": "operator"}, headers=admin),
        post("/v1/tokens", json={"org": "VR08", "role": "operator", "admin": True}, headers=admin),
        post(
            "/v1/tokens",
            json={"org": "VR08", "role": "operator", "clearance": "top"},
            headers=admin,
        ),
        post(
            "/v1/tokens",
            json={"org": "VR08", "role": "operator", "expires_at": "2030-01-01T00:00:00"},
            headers=admin,
        ),
        post("/v1/tokens", json={"org": "x" * 65, "role": "operator"}, headers=admin),
        api.client.delete("/v1/tokens/not-a-uuid", headers=admin),
        api.client.request("DELETE", f"/v1/tokens/{uuid4()}", json={"why": "x"}, headers=admin),
    ]
    for response in cases:
        refusal(response, 422, "invalid_request")
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    refusal(
        issue(api, admin, org="VR08", role="operator", expires_at=past), 422, "expired_on_issue"
    )
    assert api.position() == before


def test_the_command_line_is_locc_at_the_highest_clearance(tmp_path: Path) -> None:
    def mlob(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli("tokens", *args, url=f"sqlite:///{tmp_path}/cli.sqlite3")

    top = mlob("issue", "--org", "DEF-CDS", "--role", "coordinator", "--clearance", TOP.value)
    assert top.returncode == 0, top.stderr
    token_id = top.stdout.split()[2]
    held = mlob("issue", "--org", "DEF-CDS", "--role", "auditor")
    assert held.returncode == 1 and "role_not_held" in held.stderr
    assert mlob("revoke", token_id).returncode == 0
    again = mlob("revoke", token_id)
    assert again.returncode == 1 and "already_revoked" in again.stderr
    unknown = mlob("revoke", str(uuid4()))
    assert unknown.returncode == 1 and "unknown_token" in unknown.stderr
