"""Issue 18, points 4-6 over HTTP: ``request.informed`` (malformed, unauthorised, duplicate and
conflicting input), the board's outstanding duty and its target, the timeline, need to know for
the informed organisation; DGPOL's advice on an appeal; the art. 58 confirmation on the draft.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from tests.integration.api.conftest import Api, item

NIJMEGEN = {"body": "mayor", "of": "Nijmegen"}


def line(capability: str) -> dict[str, Any]:
    return {
        "line_id": "L1",
        "capability": capability,
        "quantity": 1,
        "effect": "keep the evacuation routes open",
        "municipality": "Nijmegen",
    }


def drafted(api: Api, subject: UUID, kind: str, capability: str, **data: Any) -> None:
    api.accepted(
        "POL-ON",
        item(
            "request.drafted",
            subject,
            {"kind": kind, "title": kind, "lines": [line(capability)], **data},
            authority=NIJMEGEN,
        ),
    )


def open_steps(api: Api, org: str, subject: UUID) -> list[str]:
    response = api.client.get(f"/v1/requests/{subject}", headers=api.headers(org))
    assert response.status_code == 200, response.text
    return [s["type"] for s in response.json()["open_steps"]]


def board_item(api: Api, org: str, subject: UUID, position: int) -> dict[str, Any] | None:
    response = api.client.get(f"/v1/board?min_position={position}&wait=5", headers=api.headers(org))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["targets_minutes"]["inform"] == {"urgent": 60, "normal": 1440}
    return next((i for i in body["items"] if i["id"] == str(subject)), None)


def test_locc_informs_the_korpschef_of_a_kmar_request(api: Api) -> None:
    """factsheet-bijstand-politie §3 (art. 57): LOCC informs the korpschef through LE
    Preparatie; until then the duty is on the board, then on the timeline."""
    subject = uuid4()
    drafted(api, subject, "kmar_art57_public_order", "KMAR_UNIT")
    api.accepted("POL-ON", item("request.submitted", subject, authority=NIJMEGEN))
    api.accepted("LOCC", item("request.received", subject))
    # Not yet due: refused, nothing recorded.
    inform = {"duty": "locc_informs_korpschef", "to": "POL-LE"}
    api.refused("LOCC", item("request.informed", subject, inform), 409, "no_duty_outstanding")
    api.accepted(
        "LOCC", item("request.assessed", subject, {"forward": True, "findings": "necessary"})
    )
    assert "request.informed" in open_steps(api, "LOCC", subject)
    item_ = board_item(api, "LOCC", subject, api.position())
    assert item_ is not None
    [duty] = item_["duties_outstanding"]
    assert (duty["duty"], duty["by"], duty["to"], duty["overdue"]) == (
        "locc_informs_korpschef",
        "LOCC",
        "POL-LE",
        False,
    )
    assert "§3" in duty["source"] and duty["due_at"]
    # LE Preparatie (not in the route of an art. 57 request) does not see it yet.
    hidden = api.client.get(f"/v1/requests/{subject}", headers=api.headers("POL-LE"))
    assert hidden.status_code == 404

    # Malformed, unauthorised, wrong data: 4xx, nothing recorded.
    for data in ({"duty": "locc_informs_korpschef"}, {"to": "POL-LE"}, {**inform, "x": 1}):
        api.refused("LOCC", item("request.informed", subject, data), 422, "invalid_data")
    api.refused("POL-ON", item("request.informed", subject, inform), 403, "step_not_permitted")
    api.refused("LOCC", item("request.informed", subject, inform), 403, "read_only_role",
                role="viewer")  # fmt: skip
    wrong = {"duty": "locc_informs_korpschef", "to": "JV-DGPOL"}
    api.refused("LOCC", item("request.informed", subject, wrong), 422, "wrong_addressee")
    other = {"duty": "dops_informs_locc", "to": "LOCC"}
    api.refused("LOCC", item("request.informed", subject, other), 422, "unknown_duty")
    # Conflicting: a stale expected version.
    api.refused(
        "LOCC", item("request.informed", subject, inform, expected_version=2), 409,
        "version_conflict",
    )  # fmt: skip

    done = item("request.informed", subject, inform)
    receipt = api.accepted("LOCC", done)
    assert receipt["events"][0]["type"] == "request.informed"
    # The same message again: replayed, nothing new; another message: nothing outstanding.
    again = api.post("LOCC", done)
    assert again.status_code == 201 and again.json()["replayed"] is True
    api.refused("LOCC", item("request.informed", subject, inform), 409, "no_duty_outstanding")
    assert "request.informed" not in open_steps(api, "LOCC", subject)

    assert board_item(api, "LOCC", subject, api.position())["duties_outstanding"] == []  # type: ignore[index]
    # Informed, LE Preparatie sees the request (need to know: what it was informed of).
    seen = api.client.get(f"/v1/requests/{subject}", headers=api.headers("POL-LE"))
    assert seen.status_code == 200
    assert seen.json()["informed"][0]["to"] == "POL-LE"
    timeline = api.client.get(
        f"/v1/requests/{subject}/timeline", headers=api.headers("INSP-JENV", "auditor")
    ).json()
    [step] = [e for e in timeline["events"] if e["type"] == "request.informed"]
    assert step["data"]["duty"] == "locc_informs_korpschef" and step["data"]["to"] == "POL-LE"


def test_dgpol_advises_the_minister_on_an_appeal(api: Api) -> None:
    """factsheet-bijstand-politie §9 (art. 56(4)): the korpschef's refusal is copied to DGPOL;
    on an appeal DGPOL advises the Minister of J&V, who decides after that advice."""
    subject = uuid4()
    drafted(
        api,
        subject,
        "police_art56_public_order",
        "POLICE_ME",
        justifications={"own_capacity_insufficient": "all ME out", "region_mayor_view": "agrees"},
    )
    api.accepted("POL-ON", item("request.submitted", subject, authority=NIJMEGEN))
    api.accepted("POL-LE", item("request.received", subject))
    api.accepted(
        "POL-LE", item("request.assessed", subject, {"forward": True, "findings": "needed"})
    )
    api.accepted("POL-LE", item("request.forwarded", subject, {"to": ["POL-MN"]}))
    api.accepted(
        "POL-LE", item("request.decided", subject, {"outcome": "refused", "reasons": "no ME"})
    )
    api.accepted(
        "POL-LE",
        item("request.informed", subject, {"duty": "korpschef_refusal_to_dgpol", "to": "JV-DGPOL"}),
    )
    api.accepted(
        "POL-ON", item("request.appealed", subject, {"grounds": "riot"}, authority=NIJMEGEN)
    )
    minister = {"body": "minister_jv", "of": "JV-MIN"}
    decide = item("request.appeal_decided", subject, {"upheld": True, "reasons": "instructed"})
    api.refused("JV-MIN", {**decide, "authority": minister}, 422, "advice_missing")
    assert "request.advised" in open_steps(api, "JV-DGPOL", subject)
    api.refused(
        "DEF-DJZ",
        item("request.advised", subject, {"favourable": True, "advice": "x"}),
        404,  # an art. 56 request is none of DJZ's business (need to know)
        "unknown_subject",
    )
    advice = item("request.advised", subject, {"favourable": True, "advice": "acceptable"})
    api.accepted("JV-DGPOL", advice)  # was 403 step_not_permitted
    api.refused(
        "JV-DGPOL",
        item("request.advised", subject, {"favourable": True, "advice": "again"}),
        409,
        "duplicate_step",
    )
    api.accepted("JV-MIN", {**decide, "message_id": str(uuid4()), "authority": minister})


def test_an_art58_request_is_confirmed_on_the_draft_before_it_reaches_locc(api: Api) -> None:
    """factsheet-bijstand-politie §4: LE Preparatie tests whether the police are exhausted and
    permits the request before the form goes to LOCC."""
    subject = uuid4()
    drafted(
        api,
        subject,
        "military_art58_public_order",
        "DEF_EOD",
        justifications={"police_exhausted_or_specialism": "EOD only in Defence"},
    )
    item_ = board_item(api, "POL-LE", subject, api.position())
    assert item_ is not None and item_["next_actor"] == "police_le"
    assert item_["step"] == "exhaustion_check" and item_["status"] == "draft"
    assert "request.exhaustion_confirmed" in open_steps(api, "POL-LE", subject)
    error = api.refused(
        "POL-ON", item("request.submitted", subject, authority=NIJMEGEN), 422,
        "exhaustion_not_confirmed",
    )  # fmt: skip
    assert "art. 58(1)" in error["source"]
    # Not on LOCC's board as a submitted request.
    locc = board_item(api, "LOCC", subject, api.position())
    assert locc is not None and locc["status"] == "draft"
    api.refused(
        "LOCC",
        item("request.exhaustion_confirmed", subject, {"finding": "x"}),
        403,
        "step_not_permitted",
    )
    api.accepted(
        "POL-LE", item("request.exhaustion_confirmed", subject, {"finding": "no police EOD"})
    )
    assert board_item(api, "POL-LE", subject, api.position()) is None
    api.accepted("POL-ON", item("request.submitted", subject, authority=NIJMEGEN))
