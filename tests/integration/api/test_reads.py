"""Reads: event types, requests with open steps, incidents, capacities, reference, tokens."""

from __future__ import annotations

import subprocess
from pathlib import Path
from uuid import UUID, uuid4

from api.commands import REGISTRY
from domain.envelope import Classification
from domain.lifecycle import STEP_TYPES
from tests.cli import run_cli
from tests.conftest import on_both_stores
from tests.integration.api.conftest import Api, chair, fire_request, item


@on_both_stores
def test_event_types_list_schema_and_who_may_post(api: Api) -> None:
    listed = api.client.get("/v1/event-types", headers=api.headers("VR08")).json()
    assert {t["type"] for t in listed if t["postable"]} == set(REGISTRY)
    drafted = next(t for t in listed if t["type"] == "request.drafted")
    assert drafted["creates_subject"] is True
    assert "lines" in drafted["schema"]["properties"]
    assert drafted["allowed"]["org_kinds_by_request_kind"]["region_art51"] == ["safety_region"]
    decided = next(t for t in listed if t["type"] == "request.decided")
    assert decided["allowed"]["org_kinds_by_request_kind"]["military_art51"] == ["defence_cds"]


def test_every_step_is_posted_as_the_type_the_domain_names() -> None:
    for step, name in STEP_TYPES.items():
        assert REGISTRY[name].step is step, (step, name)


@on_both_stores
def test_openapi_documents_the_event_body(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()
    body = schema["paths"]["/v1/events"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/Posted"}
    components = schema["components"]["schemas"]
    assert {"Batch", "Posted", "Error"} <= set(components)
    # One item schema per postable type, discriminated by its type, its data typed.
    one = components["Posted"]["anyOf"][0]
    assert one["discriminator"]["propertyName"] == "type"
    assert set(one["discriminator"]["mapping"]) == set(REGISTRY)
    drafted = components[one["discriminator"]["mapping"]["request.drafted"].split("/")[-1]]
    assert drafted["properties"]["type"]["const"] == "request.drafted"
    assert drafted["properties"]["data"] == {"$ref": "#/components/schemas/RequestDrafted"}
    responses = schema["paths"]["/v1/events"]["post"]["responses"]
    assert {"201", "400", "401", "403", "404", "409", "413", "422"} <= set(responses)


@on_both_stores
def test_request_reads_filters_and_open_steps(api: Api) -> None:
    mine, theirs = uuid4(), uuid4()
    api.post(
        "VR08",
        {"items": [fire_request(mine), item("request.submitted", mine, authority=chair("VR08"))]},
    )
    other = fire_request(theirs, region="VR23")
    other["data"]["lines"][0]["municipality"] = "Venlo"
    api.post("VR23", other)
    headers = api.headers("VR08")
    locc = api.headers("LOCC", "coordinator")
    now = {"min_position": api.position()}
    listed = api.listed("/v1/requests", locc, {"region": "VR08", **now})
    assert [r["id"] for r in listed] == [str(mine)]
    by_status = api.listed("/v1/requests", locc, {"status": "draft", **now})
    assert [r["id"] for r in by_status] == [str(theirs)]
    # Need to know: VR08 lists its own requests only, never VR23's, nor reads its details.
    own = api.listed("/v1/requests", headers, now)
    assert [r["id"] for r in own] == [str(mine)]
    assert api.client.get(f"/v1/requests/{theirs}", headers=headers).status_code == 404
    one = api.client.get(f"/v1/requests/{mine}", headers=headers).json()
    assert one["status"] == "submitted" and one["lines"][0]["capability"] == "FIRE_WATER_SUPPLY"
    # Each open step names the step and the API type to post for it (README "API changes").
    assert {"step": "withdraw", "type": "request.withdrawn"} in one["open_steps"]
    assert "receive" not in [s["step"] for s in one["open_steps"]]
    locc = api.client.get(f"/v1/requests/{mine}", headers=api.headers("LOCC", "coordinator")).json()
    assert {"step": "receive", "type": "request.received"} in locc["open_steps"]
    assert api.client.get(f"/v1/requests/{uuid4()}", headers=headers).status_code == 404
    bad = api.client.get("/v1/requests", params={"kind": "nonsense"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"


@on_both_stores
def test_classified_items_are_invisible_without_clearance(api: Api) -> None:
    secret = uuid4()
    body = {**fire_request(secret), "classification": "stg_confidentieel"}
    assert (
        api.post("VR08", body, clearance=Classification.STATE_SECRET_CONFIDENTIAL).status_code
        == 201
    )
    plain = api.headers("VR23")
    assert api.client.get(f"/v1/requests/{secret}", headers=plain).status_code == 404
    now = {"min_position": api.position()}
    listed = api.listed("/v1/requests", plain, now)
    assert all(r["id"] != str(secret) for r in listed)
    cleared = api.headers("LOCC", "coordinator", clearance=Classification.STATE_SECRET_SECRET)
    assert api.client.get(f"/v1/requests/{secret}", headers=cleared).status_code == 200
    listed = api.listed("/v1/requests", cleared, now)
    assert any(r["id"] == str(secret) for r in listed)


@on_both_stores
def test_incidents_capacities_and_reference(api: Api) -> None:
    incident, capacity = uuid4(), uuid4()
    api.post(
        "VR08",
        item("incident.opened", incident, {"title": "Hoogwater", "regions": ["VR08"], "grip": "4"}),
    )
    api.post(
        "VR07",
        item("capacity.registered", capacity, {"capability": "FIRE_WATER_SUPPLY", "quantity": 3}),
    )
    headers = api.headers("LOCC", "viewer")
    now = {"min_position": api.position()}
    incidents = api.listed("/v1/incidents", headers, now)
    assert [(i["title"], i["grip"]) for i in incidents] == [("Hoogwater", "4")]
    # Need to know: another region sees neither VR08's incident nor VR07's capacity.
    other = api.headers("VR23")
    assert api.client.get("/v1/incidents", params=now, headers=other).json() == {
        "items": [],
        "next": None,
    }
    assert api.client.get(f"/v1/capacities/{capacity}", headers=other).status_code == 404
    cap = api.client.get(f"/v1/capacities/{capacity}", headers=headers).json()
    assert (cap["exists"], cap["available"], cap["provider"]) == (3, 3, "VR07")
    # The steps open to the caller now (the domain's open_steps, as a request's): a viewer
    # none; the provider its recounts; the region its incident's steps, LOCC the same.
    assert cap["open_steps"] == []
    mine = api.client.get(f"/v1/capacities/{capacity}", headers=api.headers("VR07")).json()
    assert [s["type"] for s in mine["open_steps"]] == [
        "capacity.availability_changed",
        "capacity.quantity_changed",
    ]
    region = api.client.get(f"/v1/incidents/{incident}", headers=api.headers("VR08")).json()
    assert {"step": "report", "type": "incident.situation_reported"} in region["open_steps"]
    assert "void" not in [s["step"] for s in region["open_steps"]]  # nothing to void yet
    hub = api.client.get(f"/v1/incidents/{incident}", headers=api.headers("LOCC")).json()
    assert [s["step"] for s in hub["open_steps"]] == [s["step"] for s in region["open_steps"]]
    viewer = api.client.get(f"/v1/incidents/{incident}", headers=headers).json()
    assert viewer["open_steps"] == []
    assert api.listed("/v1/capacities", headers, {"provider": "VR09", **now}) == []
    assert [c["id"] for c in api.listed("/v1/capacities", headers, {"provider": "VR07"})] == [
        str(capacity)
    ]
    reference = api.client.get("/v1/reference", headers=headers).json()
    assert len(reference["regions"]) == 25
    assert any(
        k["code"] == "msob" and "dike_reeve" in k["authorities"] for k in reference["request_kinds"]
    )


@on_both_stores
def test_tokens_over_http_are_admin_only_and_work_at_once(api: Api) -> None:
    admin = api.headers("LOCC", "admin")
    assert (
        api.client.post(
            "/v1/tokens", json={"org": "VR08", "role": "operator"}, headers=api.headers("VR08")
        ).status_code
        == 403
    )
    issued = api.client.post("/v1/tokens", json={"org": "VR21", "role": "operator"}, headers=admin)
    assert issued.status_code == 201
    token = issued.json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/v1/incidents", headers=bearer).status_code == 200
    listed = api.client.get("/v1/tokens", headers=admin).json()
    assert token not in str(listed)
    assert any(t["org"] == "VR21" and t["valid"] for t in listed)
    bad = api.client.post("/v1/tokens", json={"org": "NOPE", "role": "operator"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "unknown_organisation"
    token_id = issued.json()["token_id"]
    assert api.client.delete(f"/v1/tokens/{token_id}", headers=admin).status_code == 204
    assert api.client.get("/v1/incidents", headers=bearer).status_code == 401
    assert api.client.delete(f"/v1/tokens/{token_id}", headers=admin).status_code == 409
    history = api.service.app.history(stream_id=UUID(token_id))
    assert [h.event_type for h in history] == [
        "mlob:AccessToken.Issued",
        "mlob:AccessToken.Revoked",
    ]


def test_token_cli_issue_list_revoke(tmp_path: Path) -> None:
    def mlob(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, url=f"sqlite:///{tmp_path}/cli.sqlite3")

    issued = mlob("tokens", "issue", "--org", "VR08", "--role", "operator", "--expires", "12h")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip().splitlines()[-1]
    assert token.startswith("mlob_")
    token_id = issued.stdout.split()[2]
    listed = mlob("tokens", "list")
    assert token_id in listed.stdout and "valid" in listed.stdout and token not in listed.stdout
    assert mlob("tokens", "revoke", token_id, "--reason", "test").returncode == 0
    assert "revoked" in mlob("tokens", "list").stdout
    wrong = mlob("tokens", "issue", "--org", "NOPE", "--role", "operator")
    assert wrong.returncode == 1 and "unknown_organisation" in wrong.stderr


@on_both_stores
def test_posting_on_a_classified_subject_without_clearance_is_a_plain_404(api: Api) -> None:
    secret = uuid4()
    body = {**fire_request(secret), "classification": "stg_geheim"}
    assert api.post("VR08", body, clearance=Classification.STATE_SECRET_SECRET).status_code == 201
    unknown = api.refused("LOCC", item("request.received", uuid4()), 404, "unknown_subject")
    hidden = api.refused("LOCC", item("request.received", secret), 404, "unknown_subject")
    assert hidden["reason"].replace(str(secret), "X") == unknown["reason"].replace(
        unknown["reason"].split()[-1], "X"
    )
    cleared = api.post(
        "LOCC",
        item("request.submitted", secret, authority=chair("VR08")),
        clearance=Classification.STATE_SECRET_SECRET,
    )
    assert cleared.status_code == 403  # cleared: now the rights decide (LOCC may not submit)
