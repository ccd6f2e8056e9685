"""One vocabulary (issue 17): every stored event has exactly one API type, and every answer,
feed frame and export names events by it, never by a stored topic.

The table is domain/vocabulary.py. These tests check that it covers every stored event class
(a new event without an API type fails here), that it agrees with the postable types, that a
deployment posted step by step reads back under the types that were posted (receipts, history,
its ``type`` filter, timelines), and that no read route or feed frame shows a stored topic.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

import orjson
import pytest

import domain
from api.audit import _named
from api.commands import REGISTRY
from domain import vocabulary
from domain.base import MlobAggregate
from domain.envelope import Classification
from domain.lifecycle import LineStep
from domain.request import AssistanceRequest, LineBooking
from tests.integration.api.conftest import Api, chair, item
from tests.integration.feed.helpers import receive

TOP = Classification.STATE_SECRET_TOP_SECRET
#: A stored topic as the store writes them (``mlob:AssistanceRequest.LineMoved``); other text
#: starting ``mlob:`` (a database URL's user, the CLI's ``mlob: `` prefix) is no topic.
STORED_TOPIC = re.compile(r"mlob:[A-Z]")
_BOOKED = AssistanceRequest.LineBooked.TOPIC
_MOVED = AssistanceRequest.LineMoved.TOPIC


# --- the table ---------------------------------------------------------------------------------


def stored_event_classes() -> Iterator[type[MlobAggregate.Event]]:
    """Every event class of every aggregate in ``domain/`` (each module imported, so that an
    aggregate in a new module is found too)."""
    for module in pkgutil.walk_packages(domain.__path__, "domain."):
        importlib.import_module(module.name)

    def aggregates(cls: type[MlobAggregate]) -> Iterator[type[MlobAggregate]]:
        for sub in cls.__subclasses__():
            yield sub
            yield from aggregates(sub)

    for aggregate in aggregates(MlobAggregate):
        if not aggregate.__module__.startswith("domain."):
            continue  # the tests' own aggregates (tests/integration/store/fixtures.py)
        for name, value in vars(aggregate).items():
            # Each aggregate class gets its own copy of the base ``Event`` (eventsourcing):
            # never stored itself, it has no topic.
            if (
                name != "Event"
                and isinstance(value, type)
                and issubclass(value, MlobAggregate.Event)
            ):
                yield value


def test_every_stored_event_class_has_an_api_type() -> None:
    classes = list(stored_event_classes())
    for cls in classes:  # its own, not its base's (eventsourcing wraps the class written in
        # domain/, its first base, in a subclass that sets no topic)
        written = cls.__bases__[0]
        inherited = getattr(written.__mro__[1], "TOPIC", None)
        assert vars(written).get("TOPIC") not in (None, inherited), cls.__qualname__
    topics = {cls.TOPIC for cls in classes}  # type: ignore[attr-defined]
    assert len(topics) >= 35 and all(t.startswith("mlob:") for t in topics)
    assert topics == vocabulary.TOPICS, "an event class without an API type, or a stale entry"
    for topic in topics - {_BOOKED, _MOVED}:
        [name] = vocabulary.types_of_topic(topic)
        assert vocabulary.api_type(topic) == name, "a topic of one step names one type"
    with pytest.raises(vocabulary.UnknownTopic):
        vocabulary.api_type("mlob:AssistanceRequest.Nothing")
    # What a reader is shown for such an event instead (mlob/service.py): no type, no topic.
    assert vocabulary.UNNAMED not in vocabulary.TYPES
    assert vocabulary.subject_of(vocabulary.UNNAMED) is None


def test_the_postable_types_are_the_posted_ones() -> None:
    postable = {name for name, t in vocabulary.TYPES.items() if t.postable}
    assert postable == set(REGISTRY)
    for name, t in vocabulary.TYPES.items():
        assert name.split(".")[0] == t.subject and t.topics
        if name in REGISTRY:
            assert REGISTRY[name].subject == t.subject
        else:
            assert t.summary, f"{name}: a type nobody posts says what it is"
    assert {"capacity.booked", "token.issued", "token.revoked"} <= set(vocabulary.TYPES)


def event(step: LineStep, until: datetime | None = None, successor: UUID | None = None) -> Any:
    booking = LineBooking(uuid4(), "L1", uuid4(), "IFV", 1, step, until, successor)
    return SimpleNamespace(booking=booking)


def test_each_deployment_step_is_its_own_type() -> None:
    end = datetime(2030, 1, 1, tzinfo=UTC)
    assert vocabulary.api_type(_BOOKED, event(LineStep.MADE_READY)) == "request.made_ready"
    assert vocabulary.api_type(_BOOKED, event(LineStep.COMMITTED)) == "request.committed"
    expected = {
        (LineStep.COMMITTED, None, None): "request.committed",
        (LineStep.DISPATCHED, None, None): "request.dispatched",
        (LineStep.DISPATCHED, end, None): "request.extended",
        (LineStep.ARRIVED, None, None): "request.arrived",
        (LineStep.RELEASED, None, uuid4()): "request.relieved",
        (LineStep.RELEASED, None, None): "request.released",
        (LineStep.CANCELLED, None, None): "request.released",
        (LineStep.RETURNED, None, None): "request.returned",
    }
    for (step, until, successor), name in expected.items():
        moved = event(step, until, successor)
        assert vocabulary.api_type(_MOVED, moved) == name, step
        assert vocabulary.booking_before_needed(_MOVED, moved) is None
    # Arrived with an end: the booking's previous step tells an extension from the arrival.
    moved = event(LineStep.ARRIVED, end)
    was = moved.booking
    assert vocabulary.booking_before_needed(_MOVED, moved) == was.booking_id
    on_its_way = LineBooking(**{**vars(was), "step": LineStep.DISPATCHED})
    on_scene = LineBooking(**{**vars(was), "until": None})
    assert vocabulary.api_type(_MOVED, moved, on_its_way) == "request.arrived"
    assert vocabulary.api_type(_MOVED, moved, on_scene) == "request.extended"
    assert vocabulary.api_type(_MOVED, moved) == "request.arrived", "unknown before: arrival"
    # Every type the table stores under a booking topic is one that a booking step gives.
    given = {"request.made_ready", "request.committed", "request.extended", *expected.values()}
    assert given == {n for n, t in vocabulary.TYPES.items() if {_BOOKED, _MOVED} & set(t.topics)}
    with pytest.raises(vocabulary.UnknownTopic):
        vocabulary.api_type(_BOOKED, event(LineStep.RETURNED))


def test_old_access_log_entries_name_api_types() -> None:
    old = {"item": "x", "kind": "step mlob:Incident.Opened"}
    assert _named(old)["kind"] == "step incident.opened"
    booked = _named({"kind": "step mlob:AssistanceRequest.LineBooked"})["kind"]
    assert booked == "step request.committed or request.made_ready"
    assert _named({"kind": "Incident"}) == {"kind": "Incident"}


# --- a deployment, posted step by step ---------------------------------------------------------


class Deployment:
    """A request granted by IFV and deployed on IFV's blankets through every deployment step,
    each item's receipt checked as it is posted; ``posted`` lists the request's steps."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.request, self.capacity, self.incident = uuid4(), uuid4(), uuid4()
        self.posted: list[str] = []
        self.positions: dict[str, list[int]] = {}
        self.clock = datetime.now(UTC) - timedelta(hours=2)

    def post(self, org: str, type_: str, subject: UUID, data: Any = None, **kw: Any) -> None:
        role = "coordinator" if org == "LOCC" else "operator"
        self.clock += timedelta(minutes=1)
        body = item(type_, subject, data, occurred_at=self.clock.isoformat(), **kw)
        answer = self.api.post(org, body, role=role, clearance=TOP)
        assert answer.status_code == 201, (type_, answer.text)
        events = answer.json()["events"]
        for e in events:
            own = e["stream_id"] == str(subject)
            assert e["type"] == (type_ if own else "capacity.booked"), (type_, e)
        if subject == self.request:
            self.posted.append(type_)
        self.positions.setdefault(type_, []).append(events[0]["position"])

    def booking(self, booking: UUID, **data: Any) -> dict[str, Any]:
        return {"capacity_id": str(self.capacity), "booking_id": str(booking), **data}

    def run(self) -> None:
        request, first, second, third = self.request, uuid4(), uuid4(), uuid4()
        self.post(
            "IFV",
            "capacity.registered",
            self.capacity,
            {"capability": "IFV_BLANKETS", "quantity": 5000},
        )
        self.post(
            "VR08",
            "incident.opened",
            self.incident,
            {"title": "flood", "regions": ["VR08"], "grip": "2"},
            classification="stg_confidentieel",
        )
        line = {"line_id": "L1", "capability": "IFV_BLANKETS", "quantity": 300, "effect": "warm"}
        self.post(
            "VR08",
            "request.drafted",
            request,
            {"kind": "region_art51", "lines": [{**line, "municipality": "Nijmegen"}]},
            authority=chair("VR08"),
        )
        self.post("VR08", "request.submitted", request, authority=chair("VR08"))
        self.post("LOCC", "request.received", request)
        self.post("LOCC", "request.assessed", request, {"forward": True, "findings": "ok"})
        self.post("LOCC", "request.forwarded", request, {"to": ["IFV"]})
        self.post(
            "IFV", "request.made_ready", request, self.booking(first, line_id="L1", quantity=100)
        )
        self.post("IFV", "request.decided", request, {"outcome": "granted"})
        self.post(
            "IFV", "request.committed", request, self.booking(first, line_id="L1", quantity=100)
        )  # in place
        for booking in (second, third):
            self.post(
                "IFV",
                "request.committed",
                request,
                self.booking(booking, line_id="L1", quantity=50),
            )
        end = datetime.now(UTC) + timedelta(days=2)
        self.post("IFV", "request.dispatched", request, self.booking(first))
        self.post(
            "IFV",
            "request.extended",
            request,
            self.booking(first, until=end.isoformat(), reason="longer on the road"),
        )
        # Arrived with a note, keeping the end of the extension on its way: the one step
        # the table tells from an extension only by the booking's previous step.
        self.post("VR08", "request.arrived", request, self.booking(first, note="on scene"))
        later = (end + timedelta(days=1)).isoformat()
        self.post(
            "IFV", "request.extended", request, self.booking(first, until=later, reason="longer")
        )
        self.post("IFV", "request.dispatched", request, self.booking(second))
        self.post(
            "IFV",
            "request.relieved",
            request,
            self.booking(first, successor_booking_id=str(second)),
        )
        self.post("IFV", "request.returned", request, self.booking(first))
        self.post("IFV", "request.released", request, self.booking(third))  # cancelled
        self.post("VR08", "request.arrived", request, self.booking(second))
        self.post("VR08", "request.released", request, self.booking(second))
        self.post("IFV", "request.returned", request, self.booking(second))


def lines(text: str) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in text.splitlines()]


def test_a_deployment_reads_back_under_the_types_posted(api: Api) -> None:
    deployment = Deployment(api)
    deployment.run()
    auditor = api.headers("INSP-JENV", "auditor", clearance=TOP)
    request = str(deployment.request)

    export = {"format": "jsonl"}
    history = api.client.get("/v1/history", params={"stream": request, **export}, headers=auditor)
    assert [e["type"] for e in lines(history.text)] == deployment.posted
    timeline = api.client.get(f"/v1/requests/{request}/timeline", headers=auditor).json()
    assert [e["type"] for e in timeline["events"]] == deployment.posted
    durations = {(d["from"], d["to"]) for d in timeline["durations"]}
    assert ("dispatched", "arrived") in durations and ("released", "returned") in durations

    # The filter takes each deployment step's own type.
    for name in ("request.extended", "request.arrived", "request.relieved", "request.released"):
        found = api.client.get("/v1/history", params={"type": name, **export}, headers=auditor)
        assert [e["position"] for e in lines(found.text)] == deployment.positions[name], name
        assert {e["type"] for e in lines(found.text)} == {name}
    booked = lines(
        api.client.get(
            "/v1/history", params={"type": "capacity.booked", **export}, headers=auditor
        ).text
    )
    assert len(booked) == 15 and {e["stream_id"] for e in booked} == {str(deployment.capacity)}

    # Read on its own, the ambiguous arrival and extension are still told apart (from the
    # stream, as the page does not hold the booking's earlier steps).
    for name, position in (
        ("request.arrived", deployment.positions["request.arrived"][0]),
        ("request.extended", deployment.positions["request.extended"][1]),
    ):
        [alone] = api.service.logged_events(position - 1, 1)
        assert alone.api_type == name and alone.event_type == _MOVED
    # Chosen with the booking's steps between left out (a reader decodes only what it chose):
    # its dispatch is not the step before the extension, the stream tells which it was.
    chosen = [
        deployment.positions["request.dispatched"][0],
        deployment.positions["request.extended"][1],
    ]
    named = [e.api_type for e in api.service.logged_at(chosen)]
    assert named == ["request.dispatched", "request.extended"]


def test_an_unknown_type_filter_is_refused(api: Api) -> None:
    auditor = api.headers("INSP-JENV", "auditor")
    for wrong in ("request.decide", "mlob:AssistanceRequest.Decided", "request"):
        answer = api.client.get("/v1/history", params={"type": wrong}, headers=auditor)
        assert answer.status_code == 422, wrong
        error = answer.json()["error"]
        assert error["code"] == "unknown_type" and "event-types" in error["reason"]
        assert wrong not in answer.text, "the reason does not repeat what was sent"
    known = api.client.get("/v1/history", params={"type": "request.decided"}, headers=auditor)
    assert known.status_code == 200 and known.json() == {"items": [], "next": None}


def test_event_types_list_every_type_with_postable(api: Api) -> None:
    listed = api.client.get("/v1/event-types", headers=api.headers("VR08")).json()
    assert [t["type"] for t in listed] == sorted(vocabulary.TYPES)
    by_name = {t["type"]: t for t in listed}
    for name, t in by_name.items():
        assert t["postable"] is (name in REGISTRY)
        assert t["subject"] == vocabulary.TYPES[name].subject and t["summary"]
    assert set(by_name["request.drafted"]) == {
        "type",
        "subject",
        "postable",
        "creates_subject",
        "summary",
        "schema",
        "example",
        "allowed",
    }
    assert by_name["token.revoked"] == {
        "type": "token.revoked",
        "subject": "token",
        "postable": False,
        "summary": vocabulary.TYPES["token.revoked"].summary,
    }
    assert not STORED_TOPIC.search(str(listed))


# --- no stored topic in any answer ----------------------------------------------------------


def get_routes(api: Api) -> list[str]:
    """Every GET route the API documents, the documents themselves, and the screen's."""
    paths = api.client.get("/openapi.json").json()["paths"]
    documented = [path for path, methods in paths.items() if "get" in methods]
    return sorted({*documented, "/openapi.json", "/docs", "/v1/whoami"})


def test_no_answer_or_frame_names_a_stored_topic(api: Api) -> None:
    deployment = Deployment(api)
    deployment.run()
    api.post("VR23", item("request.received", deployment.request), role="operator")  # refused
    issued = api.client.post(
        "/v1/tokens", json={"org": "VR21", "role": "operator"}, headers=api.headers("LOCC", "admin")
    ).json()
    assert (
        api.client.delete(
            f"/v1/tokens/{issued['token_id']}", headers=api.headers("LOCC", "admin")
        ).status_code
        == 204
    )
    ids = {
        "request_id": deployment.request,
        "incident_id": deployment.incident,
        "capacity_id": deployment.capacity,
        "subscription_id": uuid4(),  # none made here (no webhook key): answered 404
    }
    assert api.service.wait_for_views(api.position(), ["requests", "capacities", "incidents"], 10)
    now = datetime.now(UTC).isoformat()
    extra: dict[str, list[dict[str, Any]]] = {
        "/v1/history": [
            {"type": "token.revoked"},
            {"type": "mlob:Capacity.BookingChanged"},
            {"format": "jsonl"},  # every event, not a page
        ],
        "/v1/stats": [{"format": "csv"}],
        "/v1/picture": [{"as_of": now}, {"as_of": now, "axis": "occurred"}],
    }
    readers = [
        api.headers("INSP-JENV", "auditor", clearance=TOP),
        api.headers("LOCC", "admin", clearance=TOP),
        api.headers("VR08", "coordinator", clearance=TOP),
    ]
    paths = get_routes(api)
    assert {"/v1/history", "/v1/access-log", "/v1/requests/{request_id}/timeline"} <= set(paths)
    answered = 0
    for headers in readers:
        for path in paths:
            url = path.format(**ids)
            for params in [{}, *extra.get(path, [])]:
                answer = api.client.get(url, params=params, headers=headers)
                assert answer.status_code < 500, (url, answer.text)
                found = STORED_TOPIC.search(answer.text)
                assert not found, (url, params, answer.text[found.start() - 200 : found.end() + 80])
                answered += answer.status_code == 200
    assert answered > 2 * len(paths)
    # The access log now holds the classified incident's steps, by API type.
    log = api.listed("/v1/access-log", readers[0], {"limit": 500})
    assert "step incident.opened" in {e["kind"] for e in log}

    # The feed, replayed from the start, events and read-model rows: API types only.
    feed = api.headers("LOCC", "coordinator", clearance=TOP)
    wanted = len(deployment.posted) + 15 + 2  # the capacity's bookings, its registration, incident
    events: list[dict[str, Any]] = []
    rows = 0
    with api.client.websocket_connect("/v1/feed", headers=feed) as ws:
        receive(ws, "welcome")
        subscribe = {"subscribe": ["national", "views"], "after": 0, "after_change": 0}
        ws.send_text(orjson.dumps(subscribe).decode())
        deadline = time.monotonic() + 15
        while (len(events) < wanted or not rows) and time.monotonic() < deadline:
            text = ws.receive_text()
            found = STORED_TOPIC.search(text)
            assert not found, text[max(0, found.start() - 200) : found.end() + 80]
            message = orjson.loads(text)
            if message["type"] == "frame":
                events += message["events"]
                rows += len(message["rows"])
    assert len(events) == wanted and rows
    assert {e["type"] for e in events} >= {"request.relieved", "capacity.booked", "incident.opened"}


def test_the_screen_reads_api_types() -> None:
    """The screen labels feed events by API type: one label for each type the feed publishes
    (tokens' never are), none for a type that does not exist, no stored topic anywhere."""
    from api.screen import STATIC

    for script in STATIC.glob("*.js"):
        assert not STORED_TOPIC.search(script.read_text()), script.name
    terms = (STATIC / "terms.js").read_text()
    block = terms[terms.index("const EVENT = {") : terms.index("};", terms.index("const EVENT"))]
    labelled = set(re.findall(r'^\s*"([a-z_]+\.[a-z_]+)":', block, re.M))
    published = {
        n for n, t in vocabulary.TYPES.items() if t.subject not in ("token", "subscription")
    }
    assert labelled == published
