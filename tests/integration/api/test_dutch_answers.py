"""Dutch answers (issue 22): ``Accept-Language: nl`` gives every refusal in Dutch, English
stays the default; each refusal carries its parameters and names the field at fault as a JSON
pointer (``details[].pointer``), under ``/items/<index>`` in a batch."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from api.errors import language
from tests.integration.api.conftest import Api, fire_request, item

DUTCH = {"Accept-Language": "nl"}


def post(api: Api, org: str, body: Any, role: str = "operator", **headers: str) -> Any:
    return api.client.post("/v1/events", json=body, headers={**api.headers(org, role), **headers})


def error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    found = response.json()["error"]
    assert found["code"] == code, found
    return found  # type: ignore[no-any-return]


def test_a_domain_refusal_in_dutch_and_in_english(api: Api) -> None:
    body = fire_request(uuid4(), region="VR08")  # VR07 signs with VR08's chair
    dutch = error(post(api, "VR07", body, **DUTCH), 422, "wrong_authority")
    english = error(post(api, "VR07", body), 422, "wrong_authority")
    assert english["reason"] == "VR07 acts only on its own region's authority, not VR08's"
    assert dutch["reason"] == (
        "VR07 handelt alleen namens het gezag van de eigen regio, niet namens dat van VR08."
    )
    # The code, the legal source and the parameters do not depend on the language.
    assert dutch["source"] == english["source"] and "art. 51" in dutch["source"].lower()
    assert dutch["params"] == english["params"] == {"requester": "VR07", "of": "VR08"}
    assert dutch["details"] == [{"pointer": "/authority/of", "msg": dutch["reason"]}]


def test_a_validation_error_in_dutch_with_pointers(api: Api) -> None:
    wrong = fire_request(uuid4())
    wrong["data"]["lines"][0]["quantity"] = "two"
    dutch = error(post(api, "VR08", wrong, **DUTCH), 422, "invalid_data")
    assert dutch["reason"] == "De gegevens voldoen niet aan het type request.drafted."
    assert dutch["details"][0]["pointer"] == "/data/lines/0/quantity"
    # The field's own message too, from the catalogue's texts per check (FIELD_TEXTS);
    # English keeps pydantic's, and no answer carries the other language's text.
    assert dutch["details"][0]["msg"] == "Moet een geheel getal zijn."
    english = error(post(api, "VR08", wrong), 422, "invalid_data")
    assert english["details"][0]["msg"].startswith("Input should be a valid integer")
    assert english["details"][0].keys() == dutch["details"][0].keys()
    assert english["details"][0].keys() == {"loc", "pointer", "msg", "type"}
    malformed = error(post(api, "VR08", {"type": "request.drafted"}, **DUTCH), 422, "invalid_item")
    assert malformed["reason"] == "De inhoud van het bericht is geen item en geen reeks items."
    assert {"/subject", "/message_id", "/occurred_at"} <= {
        d["pointer"] for d in malformed["details"]
    }
    assert {d["msg"] for d in malformed["details"]} == {"Dit veld is verplicht."}
    # A route FastAPI validates: the body's field by its pointer, in Dutch as well.
    admin = {**api.headers("LOCC", "admin"), **DUTCH}
    response = api.client.post("/v1/tokens", json={"org": "x" * 65, "role": "x"}, headers=admin)
    refused = error(response, 422, "invalid_request")
    assert refused["reason"] == "Het verzoek voldoet niet aan de vereiste vorm."
    assert {"pointer": "/org", "msg": "Mag hoogstens 64 tekens lang zijn."}.items() <= next(
        d for d in refused["details"] if d.get("pointer") == "/org"
    ).items()
    # A query parameter: named by its loc, in Dutch too.
    listed = api.client.get("/v1/requests", params={"limit": 0}, headers=admin)
    [limit] = error(listed, 422, "invalid_request")["details"]
    assert limit == {
        "loc": ["query", "limit"],
        "msg": "Moet minstens 1 zijn.",
        "type": "greater_than_equal",
    }


def test_authentication_and_rights_refusals_in_dutch(api: Api) -> None:
    body = fire_request(uuid4())
    anonymous = api.client.post("/v1/events", json=body, headers=DUTCH)
    assert error(anonymous, 401, "unauthenticated")["reason"] == (
        "U bent niet aangemeld; stuur de header Authorization: Bearer <token> mee."
    )
    assert anonymous.headers["WWW-Authenticate"] == "Bearer"
    unknown = api.client.post(
        "/v1/events", json=body, headers={"Authorization": "Bearer nope", **DUTCH}
    )
    assert error(unknown, 401, "invalid_token")["reason"] == (
        "Het token is onbekend, verlopen of ingetrokken."
    )
    viewer = error(post(api, "VR08", body, "viewer", **DUTCH), 403, "read_only_role")
    assert viewer["reason"] == "Met de rol viewer kunt u geen stappen vastleggen."
    assert viewer["params"] == {"role": "viewer"}
    # A read route (FastAPI's path): the same language from the same header.
    audit = api.client.get("/v1/rejections", headers={**api.headers("VR08", "viewer"), **DUTCH})
    assert error(audit, 403, "role_not_permitted")["reason"] == (
        "Hiervoor is de rol admin of auditor vereist."
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("nl", "nl"),
        ("nl-NL", "nl"),
        ("NL-be;q=0.8", "nl"),
        ("nl-NL,nl;q=0.9,en-US;q=0.8,en;q=0.7", "nl"),
        ("en", "en"),
        ("en-GB,en;q=0.9,nl;q=0.8", "en"),
        ("en;q=0.5, nl", "nl"),
        ("nl;q=0.4, en;q=0.6", "en"),
        ("nl;q=0", "en"),
        ("fr, nl;q=0.5", "nl"),
        ("*;q=0.3, nl;q=0.2", "en"),
        ("nl, en", "nl"),
        ("en, nl", "en"),
        ("nl;q=abc", "en"),
        ("nld", "en"),
    ],
)
def test_accept_language_with_q_values(header: str | None, expected: str) -> None:
    assert language(header) == expected


def test_q_values_on_the_wire(api: Api) -> None:
    body = fire_request(uuid4(), region="VR08")
    english = error(
        post(api, "VR07", body, **{"Accept-Language": "nl;q=0.4, en"}), 422, "wrong_authority"
    )
    assert english["reason"].startswith("VR07 acts only")
    dutch = error(
        post(api, "VR07", body, **{"Accept-Language": "en;q=0.5, nl-NL"}), 422, "wrong_authority"
    )
    assert dutch["reason"].startswith("VR07 handelt alleen")


def test_pointers_in_a_batch(api: Api) -> None:
    good = fire_request(uuid4())
    # A validation error of the second item names its field under /items/1.
    late = {**fire_request(uuid4()), "occurred_at": "2026-11-23T10:00:00"}
    invalid = error(post(api, "VR08", {"items": [good, late]}, **DUTCH), 422, "invalid_item")
    assert [d["pointer"] for d in invalid["details"]] == ["/items/1/occurred_at"]
    # The data of the second item: its line's quantity.
    wrong = fire_request(uuid4())
    wrong["data"]["lines"][0]["quantity"] = "two"
    data = error(post(api, "VR08", {"items": [good, wrong]}), 422, "invalid_data")
    assert data["index"] == 1
    assert data["details"][0]["pointer"] == "/items/1/data/lines/0/quantity"
    # An authority refusal of the second item.
    foreign = fire_request(uuid4(), region="VR07")
    authority = error(post(api, "VR08", {"items": [good, foreign]}), 422, "wrong_authority")
    assert authority["index"] == 1
    assert authority["details"] == [
        {"pointer": "/items/1/authority/of", "msg": authority["reason"]}
    ]


def test_a_line_refusal_names_its_line(api: Api) -> None:
    body = fire_request(uuid4())
    line = body["data"]["lines"][0]
    body["data"]["lines"] = [line, {**line, "quantity": 1}]  # L1 twice
    dutch = error(post(api, "VR08", body, **DUTCH), 422, "duplicate_line")
    assert dutch["reason"] == "Regel L1 komt tweemaal voor."
    assert dutch["details"] == [{"pointer": "/data/lines/1/line_id", "msg": dutch["reason"]}]
    no_effect = fire_request(uuid4())
    no_effect["data"]["lines"][0]["effect"] = "   "
    english = error(post(api, "VR08", no_effect), 422, "effect_required")
    assert english["details"][0]["pointer"] == "/data/lines/0/effect"
    assert english["source"] == "factsheet-bijstand-bevolkingszorg §B.5"


def test_an_unknown_subject_is_named_in_dutch(api: Api) -> None:
    """The kind of subject is a Dutch word in a Dutch answer, its code in an English one."""
    missing = uuid4()
    headers = {**api.headers("VR08"), **DUTCH}
    read = error(api.client.get(f"/v1/requests/{missing}", headers=headers), 404, "not_found")
    assert read["reason"] == f"Er bestaat geen aanvraag {missing}."
    posted = error(
        post(api, "VR08", item("request.submitted", missing), **DUTCH), 404, "unknown_subject"
    )
    assert posted["reason"] == f"Er bestaat geen aanvraag {missing}."
    english = error(post(api, "VR08", item("request.submitted", missing)), 404, "unknown_subject")
    assert english["reason"] == f"no request {missing}"
