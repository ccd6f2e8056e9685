"""EDXL out (issue 23): a request's conversation and a capacity as EDXL-RM 1.0 messages in an
EDXL-DE 1.0 envelope, valid against the OASIS schemas, with only the steps the reader sees."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from api.edxl import out
from api.edxl.vocab import DATA, EVENT_TYPE, STEP_MESSAGE, SUBJECT, VOIDS
from domain.envelope import Classification
from mlob import demo
from tests.integration.api.conftest import Api, chair, item
from tests.integration.api.edxl_support import (
    ZG,
    Exported,
    M,
    R,
    demo_api,
    valid_distribution,
)
from tests.integration.api.test_exercise import (
    LOCC,
    commit,
    dispatch,
    ok,
    registered,
    steps_to_approval,
)

__all__ = ["demo_api"]

GEHEIM = Classification.STATE_SECRET_SECRET
#: Readers of the demo: the national picture at every level, a region, a provider, a police unit.
READERS = [
    ("LOCC", "coordinator", ZG),
    ("LOCC", "coordinator", Classification.UNCLASSIFIED),
    ("VR08", "operator", Classification.UNCLASSIFIED),
    ("VR23", "operator", GEHEIM),
    ("DEF-DOPS", "operator", GEHEIM),
    ("IFV", "operator", Classification.UNCLASSIFIED),
    ("POL-ON", "operator", Classification.UNCLASSIFIED),
]


def subjects(api: Api) -> dict[str, None]:
    """Every request and capacity recorded, as its path."""
    found: dict[str, None] = {}
    for event in api.service.logged_events(0, 100_000, api.position()):
        kind = event.api_type.partition(".")[0]
        if kind in ("request", "capacity"):
            plural = "requests" if kind == "request" else "capacities"
            found[f"/v1/{plural}/{event.stream_id}"] = None
    return found


def export(api: Api, path: str, org: str = "LOCC", role: str = "coordinator", **kw: Any) -> Any:
    return api.client.get(path, headers=api.headers(org, role, **kw))


def exported(api: Api, path: str, org: str = "LOCC", **kw: Any) -> Exported:
    response = export(api, path, org, kw.pop("role", "coordinator"), **kw)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    return valid_distribution(response.content)


def test_every_request_and_capacity_of_the_demo_is_valid_edxl_for_every_reader(
    demo_api: Api,
) -> None:
    """Every envelope and message mlob sends for the demo validates against the schemas, and
    holds exactly the reader's timeline steps that EDXL-RM carries, in order."""
    api = demo_api
    paths = list(subjects(api))
    assert len(paths) >= 17
    seen_types: set[str] = set()
    shown = 0
    for org, role, clearance in READERS:
        headers = api.headers(org, role, clearance=clearance)
        for path in paths:
            answer = api.client.get(f"{path}/edxl-rm", headers=headers)
            timeline = api.client.get(f"{path}/timeline", headers=headers)
            assert answer.status_code == timeline.status_code, (org, path, answer.text)
            if answer.status_code == 404:
                continue
            shown += 1
            sent = valid_distribution(answer.content)
            steps = [
                e
                for e in timeline.json()["events"]
                if e["type"] in STEP_MESSAGE or e["type"] in VOIDS
            ]
            assert sent.ids() == [f"{e['actor']['org']}:{e['message_id']}" for e in steps]
            assert [sent.keyword(m, EVENT_TYPE) for m in sent.messages] == [
                [e["type"]] for e in steps
            ]
            levels = [Classification(e["classification"]) for e in steps]
            top = max(levels, key=lambda c: c.rank)
            assert sent.text("combinedConfidentiality") == top.value
            exercise = any(e["exercise"] for e in steps)
            assert sent.text("distributionStatus") == ("Exercise" if exercise else "Actual")
            seen_types.update(sent.types())
    assert shown > len(paths)  # readers other than LOCC see some too
    assert {
        "RequestResource",
        "ResponseToRequestResource",
        "RequisitionResource",
        "CommitResource",
        "ReportResourceDeploymentStatus",
        "OfferUnsolicitedResource",
    } <= seen_types


def test_the_demo_art51_military_request_as_its_messages(demo_api: Api) -> None:
    """The worked example of docs/edxl.md: each step one message, threaded as EDXL-RM does."""
    sent = exported(demo_api, f"/v1/requests/{demo.TRANSPORT_VR08}/edxl-rm", clearance=ZG)
    steps = [sent.keyword(m, EVENT_TYPE)[0] for m in sent.messages]  # type: ignore[index]
    assert steps[:2] == ["request.drafted", "request.submitted"]
    assert sent.types()[:2] == ["RequestResource", "RequestResource"]
    assert [STEP_MESSAGE[s] for s in steps] == sent.types()
    first = sent.ids()[0]
    assert first.startswith("VR08:")
    for index, message in enumerate(sent.messages):
        assert message.findtext(f"{M}OriginatingMessageID") == first
        preceding = message.findtext(f"{M}PrecedingMessageID")
        if preceding is not None:
            assert preceding in sent.ids()[:index], (index, preceding)
        assert sent.keyword(message, SUBJECT) == [str(demo.TRANSPORT_VR08)]
        assert sent.keyword(message, DATA) is not None
    request = sent.messages[0]
    assert sent.keyword(request, "urn:mlob:request-kind") == ["military_art51"]
    assert sent.keyword(request, "urn:mlob:authority") == ["chair_safety_region", "VR08", "namens"]
    [line] = request.findall(f"{M}ResourceInformation")
    assert line.findtext(f"{M}Resource/{M}TypeStructure/{R}Value") == "DEF_EVACUATION_TRANSPORT"
    assert line.findtext(f"{M}AssignmentInformation/{M}Quantity/{R}MeasuredQuantity/{R}Amount")
    decided = sent.messages[steps.index("request.decided")]
    assert decided.findtext(f"{M}ResourceInformation/{M}ResponseInformation/{R}ResponseType") == (
        "Accept"
    )
    arrived = sent.messages[steps.index("request.arrived")]
    assert arrived.findtext(f"{M}ResourceInformation/{M}ScheduleInformation/{M}ScheduleType") == (
        "ActualArrival"
    )
    # The envelope names the parties: the requester's messages go to the others.
    addressed = sent.root.findall("{urn:oasis:names:tc:emergency:EDXL:DE:1.0}explicitAddress")
    assert addressed


def test_a_hidden_step_is_left_out_and_the_thread_names_the_nearest_visible_one(
    api: Api,
) -> None:
    subject = uuid4()
    steps = steps_to_approval(subject, exercise=False)
    for org, body in steps[:3]:  # drafted, submitted, received
        ok(api, org, body, **(LOCC if org == "LOCC" else {}))
    org, assessed = steps[3]
    ok(api, org, {**assessed, "classification": GEHEIM.value}, role="coordinator", clearance=ZG)
    org, forwarded = steps[4]
    ok(api, org, forwarded, **LOCC)
    path = f"/v1/requests/{subject}/edxl-rm"

    cleared = exported(api, path, clearance=ZG)
    assert cleared.types() == ["RequestResource"] * 2 + ["ResponseToRequestResource"] * 2 + [
        "RequisitionResource"
    ]
    assert cleared.text("combinedConfidentiality") == GEHEIM.value
    hidden_id = f"LOCC:{assessed['message_id']}"
    assert cleared.messages[4].findtext(f"{M}PrecedingMessageID") == hidden_id

    # A request's steps follow one another: what comes after a secret step is as secret.
    region = exported(api, path, "VR08", role="operator")
    assert region.ids() == cleared.ids()[:3]
    assert region.text("combinedConfidentiality") == "ongerubriceerd"
    assert assessed["data"]["findings"] not in export(api, path, "VR08", "operator").text

    # A step answering a message left out names the nearest one before it (out.messages is
    # given the steps a reader sees: here all but the secret one).
    events = api.service.stream_events(subject)
    shown = out.messages([e for e in events if e.version != 4])
    received = f"LOCC:{steps[2][1]['message_id']}"
    assert [s.message_id for s in shown][-2:] == [received, f"LOCC:{forwarded['message_id']}"]
    assert shown[-1].element.findtext(f"{M}PrecedingMessageID") == received


def test_an_amendment_updates_and_a_correction_cancels_the_message_it_replaces(
    api: Api,
) -> None:
    subject = uuid4()
    steps = steps_to_approval(subject, exercise=False)
    ok(api, "VR08", steps[0][1])
    amended = item(
        "request.amended",
        subject,
        {
            "lines": [
                {
                    "line_id": "L1",
                    "capability": "FIRE_WATER_SUPPLY",
                    "quantity": 3,
                    "effect": "more",
                }
            ],
            "reason": "the tunnel is longer",
        },
    )
    ok(api, "VR08", amended)
    ok(api, "VR08", item("request.submitted", subject, authority=chair("VR08")))
    ok(api, "VR08", item("request.voided", subject, {"target_version": 3, "reason": "too soon"}))
    sent = exported(api, f"/v1/requests/{subject}/edxl-rm", "VR08", role="operator")
    _, amendment, _, void = sent.messages
    assert amendment.findtext(f"{M}MessageRecall/{R}RecallType") == "Update"
    assert amendment.findtext(f"{M}MessageRecall/{R}RecallMessageID") == sent.ids()[0]
    amount = f"{M}ResourceInformation/{M}AssignmentInformation/{M}Quantity/{R}MeasuredQuantity"
    assert amendment.findtext(f"{amount}/{R}Amount") == "3"
    assert sent.types()[3] == "RequestResource"  # the voided step's type
    assert void.findtext(f"{M}MessageRecall/{R}RecallType") == "Cancel"
    assert void.findtext(f"{M}MessageRecall/{R}RecallMessageID") == sent.ids()[2]
    assert sent.keyword(void, EVENT_TYPE) == ["request.voided"]


def test_a_capacity_is_an_unsolicited_offer_and_each_change_updates_it(api: Api) -> None:
    capacity = registered(api, exercise=False, name="pumps")
    ok(api, "VR07", item("capacity.quantity_changed", capacity, {"quantity": 5}))
    sent = exported(api, f"/v1/capacities/{capacity}/edxl-rm", "VR07", role="operator")
    assert sent.types() == ["OfferUnsolicitedResource"] * 2
    offer, update = sent.messages
    assert offer.findtext(f"{M}ResourceInformation/{M}Resource/{M}ResourceID") == str(capacity)
    assert update.findtext(f"{M}MessageRecall/{R}RecallMessageID") == sent.ids()[0]
    amount = f"{M}ResourceInformation/{M}AssignmentInformation/{M}Quantity/{R}MeasuredQuantity"
    assert [m.findtext(f"{amount}/{R}Amount") for m in sent.messages] == ["3", "5"]


def test_deployment_steps_carry_actual_schedules_and_the_booking(api: Api) -> None:
    subject = uuid4()
    for org, body in steps_to_approval(subject, exercise=False):
        ok(api, org, body, **(LOCC if org == "LOCC" else {}))
    capacity = uuid4()
    ok(
        api,
        "VR07",
        item("capacity.registered", capacity, {"capability": "FIRE_WATER_SUPPLY", "quantity": 3}),
    )
    booking = uuid4()
    ok(api, "VR07", commit(subject, capacity, False, booking_id=booking))
    ok(api, "VR07", dispatch(subject, capacity, booking, exercise=False))
    sent = exported(api, f"/v1/requests/{subject}/edxl-rm", "VR07", role="operator")
    committed, dispatched = sent.messages[-2:]
    assert sent.types()[-2:] == ["CommitResource", "ReportResourceDeploymentStatus"]
    info = f"{M}ResourceInformation"
    assert committed.findtext(f"{info}/{M}ResourceInfoElementID") == str(booking)
    assert committed.findtext(f"{info}/{M}ResponseInformation/{R}ResponseType") == "Accept"
    assert dispatched.findtext(f"{info}/{M}Resource/{M}ResourceID") == str(capacity)
    status = f"{info}/{M}Resource/{M}ResourceStatus/{M}DeploymentStatus/{R}Value"
    assert dispatched.findtext(status) == "en_route"
    assert dispatched.findtext(f"{info}/{M}ScheduleInformation/{M}ScheduleType") == (
        "ActualDeparture"
    )


@pytest.mark.parametrize("kind", ["requests", "capacities"])
def test_an_unknown_subject_is_not_found(api: Api, kind: str) -> None:
    response = export(api, f"/v1/{kind}/{uuid4()}/edxl-rm")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_without_a_token_nothing_is_exported(api: Api) -> None:
    response = api.client.get(f"/v1/requests/{UUID(int=1)}/edxl-rm")
    assert response.status_code == 401
