"""mlob -> EDXL-RM -> mlob (issue 23, "Proof"): every message of a conversation, posted to
another mlob with a token of its sender's organisation, reproduces the same steps: types,
subjects, data, authority, occurred times, classification, exercise flags and message ids.
The demo as a whole, and random histories (hypothesis: at most 25 examples per store with
``CI=true``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import orjson
import pytest
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import event as tally
from hypothesis import strategies as st
from lxml import etree

from api.edxl.vocab import DE, ORGANISATION
from api.edxl.xmlsafe import serialise
from api.rendering import dumps, event_body
from domain.envelope import Classification
from mlob import demo
from mlob.config import StoreConfig
from mlob.service import Service
from mlob.write.application import MlobApplication
from tests.integration.api.conftest import Api, serving
from tests.integration.api.edxl_support import NOW, ZG, D, valid_distribution

LOCC_ZG = ("LOCC", "coordinator")


@contextmanager
def store(where: Path) -> Iterator[Api]:
    """An mlob on SQLite: the round trip judges the EDXL mapping, which is the same on both
    stores (what the API reads and records on each is tested in the reads' and store's tests)."""
    config = StoreConfig(kind="sqlite", sqlite_path=where / f"{uuid4().hex}.sqlite3")
    with serving(Service(MlobApplication(config))) as client:
        yield Api(client, client.app.state.service)


@dataclass
class Pair:
    source: Api
    target: Api


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    where = tmp_path_factory.mktemp("edxl-roundtrip")
    with store(where) as source, store(where) as target:
        yield Pair(source, target)


# --- sending what one mlob exported to another ---------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """One message of an export, with what its envelope said of it."""

    xml: bytes
    org: str
    classification: str
    exercise: bool


def exported(api: Api, path: str) -> dict[str, Outgoing]:
    """The messages of one export (as LOCC at the highest clearance), by MessageID."""
    response = api.client.get(path, headers=api.headers(*LOCC_ZG, clearance=ZG))
    assert response.status_code == 200, response.text
    sent = valid_distribution(response.content)
    exercise = sent.text("distributionStatus") == "Exercise"
    found = {}
    for item in sent.root.findall(f"{D}contentObject"):
        [message] = item.findall(f"{D}xmlContent/{D}embeddedXMLContent/*")
        [org] = [
            v.text
            for role in item.findall(f"{D}originatorRole")
            if role.findtext(f"{D}valueListUrn") == ORGANISATION
            for v in role.findall(f"{D}value")
        ]
        found[message.findtext("{urn:oasis:names:tc:emergency:EDXL:RM:1.0:msg}MessageID")] = (
            Outgoing(serialise(message), org, item.findtext(f"{D}confidentiality"), exercise)
        )
    return found


def envelope(messages: list[Outgoing]) -> bytes:
    """The messages in one EDXL-DE envelope from their sender (the first's organisation)."""
    root = etree.Element(f"{{{DE}}}EDXLDistribution", nsmap={None: DE})

    def add(parent: Any, tag: str, text: str) -> Any:
        element = etree.SubElement(parent, f"{{{DE}}}{tag}")
        element.text = text
        return element

    add(root, "distributionID", str(uuid4()))
    add(root, "senderID", messages[0].org)
    add(root, "dateTimeSent", datetime.now(UTC).isoformat())
    add(root, "distributionStatus", "Exercise" if messages[0].exercise else "Actual")
    add(root, "distributionType", "Report")
    top = max((Classification(m.classification) for m in messages), key=lambda c: c.rank)
    add(root, "combinedConfidentiality", top.value)
    for message in messages:
        item = etree.SubElement(root, f"{{{DE}}}contentObject")
        add(item, "confidentiality", message.classification)
        embedded = etree.SubElement(
            etree.SubElement(item, f"{{{DE}}}xmlContent"), f"{{{DE}}}embeddedXMLContent"
        )
        embedded.append(etree.fromstring(message.xml))
    return serialise(root)


def send(api: Api, messages: list[Outgoing]) -> Any:
    org = messages[0].org
    role = demo.DEMO_ORGANISATIONS.get(org, "operator")
    role = "coordinator" if role == "auditor" else role
    response = api.client.post(
        "/v1/edxl",
        content=envelope(messages),
        headers={"Content-Type": "application/xml", **api.headers(org, role, clearance=ZG)},
    )
    assert response.status_code == 201, response.text
    return response.json()


def steps(api: Api, subjects: set[UUID] | None = None) -> list[dict[str, Any]]:
    """Every step of requests, capacities and incidents, as compared: all but when it was
    recorded and its position (tokens are each store's own)."""
    found = []
    for event in api.service.logged_events(0, 1_000_000, api.position()):
        if event.api_type.startswith("token.") or (
            subjects is not None and event.stream_id not in subjects
        ):
            continue
        body = orjson.loads(dumps(event_body(event)))
        for field in ("position", "recorded_at"):
            body.pop(field)
        found.append(body)
    return found


# --- the demo -------------------------------------------------------------------------------------


def test_the_demo_travels_to_another_mlob_and_back_unchanged(pair: Pair) -> None:
    """Every request and capacity step of the demo, exported as EDXL and posted to an empty
    mlob in the demo's order (incidents, which EDXL-RM does not carry, as JSON), records the
    same history there."""
    source, target = pair.source, pair.target
    demo.load_demo(source.service, NOW)
    messages: dict[str, Outgoing] = {}
    done: set[str] = set()
    for event in source.service.logged_events(0, 100_000, source.position()):
        kind = event.api_type.partition(".")[0]
        if kind in ("request", "capacity"):
            path = f"/v1/{'requests' if kind == 'request' else 'capacities'}/{event.stream_id}"
            if path not in done:
                done.add(path)
                messages |= exported(source, f"{path}/edxl-rm")
    types_sent: set[str] = set()
    for org, items in demo.build(NOW).steps:
        if items[0].type.startswith("incident."):
            role = demo.DEMO_ORGANISATIONS.get(org, "operator")
            for item in items:
                assert target.post(org, item.model_dump(mode="json"), role).status_code == 201
            continue
        batch = [messages[f"{org}:{item.message_id}"] for item in items]
        send(target, batch)
        types_sent |= {etree.QName(etree.fromstring(m.xml)).localname for m in batch}
    assert steps(target) == steps(source)
    assert len(types_sent) >= 7, types_sent


# --- random histories -------------------------------------------------------------------------

LEVELS = [Classification.UNCLASSIFIED, Classification.DEPARTMENTAL_CONFIDENTIAL]


@dataclass(frozen=True)
class History:
    exercise: bool
    level: Classification
    capacity_of: str  # door or namens
    quantity: int
    granted: str  # granted, partly_granted, refused
    length: int  # how many steps of the life below
    amend: bool
    void_last: bool
    part: int  # how many arrive first (of the booking)
    text: str


HISTORIES = st.builds(
    History,
    exercise=st.booleans(),
    level=st.sampled_from(LEVELS),
    capacity_of=st.sampled_from(["door", "namens"]),
    quantity=st.integers(2, 4),
    granted=st.sampled_from(["granted", "partly_granted", "refused"]),
    length=st.integers(1, 12) | st.just(12),
    amend=st.booleans(),
    void_last=st.booleans(),
    part=st.integers(1, 2),
    text=st.text(
        st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=30
    ),
)


def life(h: History, request: UUID, capacity: UUID) -> list[tuple[str, dict[str, Any]]]:
    """A fire request's life as (org, JSON item): as far as ``h.length`` goes."""
    t = [datetime.now(UTC) - timedelta(hours=5) + timedelta(minutes=10 * i) for i in range(20)]
    flags = {"exercise": h.exercise, "classification": h.level.value}

    def step(n: int, org: str, type_: str, data: dict[str, Any], **kw: Any) -> Any:
        return org, {
            "type": type_,
            "subject": str(request),
            "message_id": f"{org.lower()}-{request.hex[:8]}-{n}",
            "occurred_at": t[n].isoformat(),
            "data": data,
            **flags,
            **kw,
        }

    authority = {"body": "chair_safety_region", "of": "VR08", "capacity": h.capacity_of}
    line = {
        "line_id": "L1",
        "capability": "FIRE_WATER_SUPPLY",
        "quantity": h.quantity,
        "effect": h.text,
        "location": "Nijmegen",
        "municipality": "Nijmegen",
    }
    booking = uuid4()
    granted = h.quantity if h.granted == "granted" else h.quantity - 1
    steps = [
        step(
            0,
            "VR08",
            "request.drafted",
            {"kind": "region_art51", "title": h.text, "lines": [line]},
            authority=authority,
        ),
    ]
    if h.amend:
        amended = {**line, "quantity": h.quantity + 1}
        steps.append(step(1, "VR08", "request.amended", {"lines": [amended], "reason": h.text}))
        granted += 1
    steps += [
        step(2, "VR08", "request.submitted", {}, authority=authority),
        step(3, "LOCC", "request.received", {}),
        step(4, "LOCC", "request.assessed", {"forward": True, "findings": h.text}),
        step(5, "LOCC", "request.forwarded", {"to": ["VR07"]}),
    ]
    if h.granted == "refused":
        steps.append(step(6, "VR07", "request.decided", {"outcome": "refused", "reasons": h.text}))
    else:
        steps += [
            step(
                6,
                "VR07",
                "request.decided",
                {
                    "outcome": h.granted,
                    "reasons": h.text,
                    "granted": [{"line_id": "L1", "quantity": granted}],
                },
            ),
            step(
                7,
                "VR07",
                "request.committed",
                {
                    "capacity_id": str(capacity),
                    "booking_id": str(booking),
                    "line_id": "L1",
                    "quantity": granted,
                },
            ),
            step(
                8,
                "VR07",
                "request.dispatched",
                {"capacity_id": str(capacity), "booking_id": str(booking)},
            ),
            step(
                9,
                "VR08",
                "request.arrived",
                {
                    "capacity_id": str(capacity),
                    "booking_id": str(booking),
                    "quantity": 1,
                    "note": h.text,
                },
            ),
            step(
                10,
                "VR07",
                "request.extended",
                {
                    "capacity_id": str(capacity),
                    "booking_id": str(booking),
                    "until": (t[10] + timedelta(days=2)).isoformat(),
                    "reason": h.text,
                },
            ),
            step(
                11,
                "VR08",
                "request.released",
                {"capacity_id": str(capacity), "booking_id": str(booking), "note": h.text},
            ),
            step(
                12,
                "VR07",
                "request.returned",
                {"capacity_id": str(capacity), "booking_id": str(booking)},
            ),
        ]
    steps = steps[: h.length]
    if h.void_last and len(steps) > 1:
        n = len(steps)  # the version of the last step
        steps.append(
            step(13, steps[-1][0], "request.voided", {"target_version": n, "reason": h.text})
        )
    return steps


def role(org: str) -> str:
    return "coordinator" if org == "LOCC" else "operator"


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
@given(h=HISTORIES)
# A text of white space only: the request's first step is refused (its effect is required),
# so there is no conversation to export (it answered 404 and failed the test, seen once).
@example(
    h=History(
        exercise=False,
        level=LEVELS[0],
        capacity_of="door",
        quantity=2,
        granted="granted",
        length=3,
        amend=False,
        void_last=False,
        part=1,
        text=" ",
    )
)
def test_random_histories_travel_unchanged(pair: Pair, h: History) -> None:
    source, target = pair.source, pair.target
    request, capacity = uuid4(), uuid4()
    registered = {
        "type": "capacity.registered",
        "subject": str(capacity),
        "message_id": f"cap-{capacity.hex[:8]}",
        "occurred_at": (datetime.now(UTC) - timedelta(hours=6)).isoformat(),
        "exercise": h.exercise,
        "data": {"capability": "FIRE_WATER_SUPPLY", "quantity": 9, "name": h.text},
    }
    assert source.post("VR07", registered).status_code == 201
    recorded = []
    for org, body in life(h, request, capacity):
        response = source.post(org, body, role(org), clearance=ZG)
        if response.status_code != 201:  # a step the law refuses here: the history ends
            note(f"{body['type']}: {response.text}")
            break
        recorded.append((org, body))
    tally(f"steps recorded: {len(recorded)} ({recorded[-1][1]['type'] if recorded else '-'})")
    offer = exported(source, f"/v1/capacities/{capacity}/edxl-rm")
    # No step recorded, no request: nothing of it to export (the capacity still travels).
    conversation = exported(source, f"/v1/requests/{request}/edxl-rm") if recorded else {}
    send(target, list(offer.values()))
    for org, body in recorded:
        send(target, [conversation[f"{org}:{body['message_id']}"]])
    subjects = {request, capacity}
    assert steps(target, subjects) == steps(source, subjects)
    assert len(steps(target, {request})) == len(recorded)
