"""Exercise or real is fixed when a subject is created (domain/exercise.py), on both stores:
a step with the other flag is refused, a step on a second subject keeps that subject's flag,
``exercise=`` means the same on every route, and a store written before the rule (holding
steps whose flag differs from their subject's) reads back without a 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import orjson
import pytest

from domain.capacity import Capacity
from domain.envelope import Classification
from domain.request import AssistanceRequest
from mlob.config import StoreConfig
from tests.cli import run_cli
from tests.conftest import on_both_stores
from tests.integration.api.conftest import Api, chair, fire_request, item
from tests.integration.audit.conftest import database_url

AUDITOR = {"role": "auditor", "clearance": Classification.STATE_SECRET_SECRET}
LOCC = {"role": "coordinator"}


def ok(api: Api, org: str, body: Any, **kw: Any) -> dict[str, Any]:
    response = api.post(org, body, **kw)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def steps_to_approval(subject: UUID, exercise: bool) -> list[tuple[str, dict[str, Any]]]:
    """A fire request of VR08 forwarded by LOCC to VR07, which grants it: (org, item)."""
    flag = {"exercise": exercise}
    return [
        ("VR08", fire_request(subject, **flag)),
        ("VR08", item("request.submitted", subject, authority=chair("VR08"), **flag)),
        ("LOCC", item("request.received", subject, **flag)),
        (
            "LOCC",
            item(
                "request.assessed",
                subject,
                {"forward": True, "findings": "necessary", "alternatives_checked": "none near"},
                **flag,
            ),
        ),
        ("LOCC", item("request.forwarded", subject, {"to": ["VR07"]}, **flag)),
        ("VR07", item("request.decided", subject, {"outcome": "granted"}, **flag)),
    ]


def approved(api: Api, exercise: bool) -> UUID:
    subject = uuid4()
    for org, body in steps_to_approval(subject, exercise):
        ok(api, org, body, **(LOCC if org == "LOCC" else {}))
    return subject


def registered(api: Api, exercise: bool, quantity: int = 3, **data: Any) -> UUID:
    """VR07 registers pumps (FIRE_WATER_SUPPLY); ``data``: more of the step's fields."""
    capacity = uuid4()
    ok(
        api,
        "VR07",
        item(
            "capacity.registered",
            capacity,
            {"capability": "FIRE_WATER_SUPPLY", "quantity": quantity, **data},
            exercise=exercise,
        ),
    )
    return capacity


def commit(
    request: UUID, capacity: UUID, exercise: bool, quantity: int = 2, **kw: Any
) -> dict[str, Any]:
    return item(
        "request.committed",
        request,
        {
            "capacity_id": str(capacity),
            "booking_id": str(kw.pop("booking_id", uuid4())),
            "line_id": "L1",
            "quantity": quantity,
        },
        exercise=exercise,
        **kw,
    )


def dispatch(request: UUID, capacity: UUID, booking: UUID, exercise: bool) -> dict[str, Any]:
    return item(
        "request.dispatched",
        request,
        {"capacity_id": str(capacity), "booking_id": str(booking)},
        exercise=exercise,
    )


def versions(api: Api, *subjects: UUID) -> list[int]:
    return [len(api.service.stream_events(s)) for s in subjects]


def get(api: Api, path: str, **params: Any) -> Any:
    response = api.client.get(
        path,
        params={"min_position": api.position(), "wait": 10, **params},
        headers=api.headers("INSP-JENV", **AUDITOR),
    )
    assert response.status_code == 200, (path, params, response.text)
    return response.json()


def listed(api: Api, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a paged list, as :func:`get` asks it."""
    asked = {"min_position": api.position(), "wait": 10, **params}
    return api.listed(path, api.headers("INSP-JENV", **AUDITOR), asked)


# --- the write side -------------------------------------------------------------------------


@pytest.mark.parametrize("subject_is_exercise", [False, True])
def test_a_step_with_the_other_flag_is_refused_and_records_nothing(
    api: Api, subject_is_exercise: bool
) -> None:
    request = uuid4()
    ok(api, "VR08", fire_request(request, exercise=subject_is_exercise))
    error = api.refused(
        "VR08",
        item(
            "request.submitted",
            request,
            authority=chair("VR08"),
            exercise=not subject_is_exercise,
        ),
        422,
        "exercise_mismatch",
    )
    flag = str(subject_is_exercise).lower()
    assert f"exercise={flag}" in error["reason"]
    # Incidents and capacities the same: the flag of the step that created them holds.
    incident = uuid4()
    opened = {"title": "flood", "regions": ["VR08"], "grip": "2"}
    ok(api, "VR08", item("incident.opened", incident, opened, exercise=subject_is_exercise))
    api.refused(
        "VR08",
        item("incident.grip_changed", incident, {"grip": "3"}, exercise=not subject_is_exercise),
        422,
        "exercise_mismatch",
    )
    capacity = registered(api, subject_is_exercise)
    api.refused(
        "VR07",
        item(
            "capacity.quantity_changed",
            capacity,
            {"quantity": 5, "reason": "bought"},
            exercise=not subject_is_exercise,
        ),
        422,
        "exercise_mismatch",
    )
    # With the subject's own flag the same steps are taken.
    ok(
        api,
        "VR08",
        item("request.submitted", request, authority=chair("VR08"), exercise=subject_is_exercise),
    )
    ok(
        api,
        "VR08",
        item("incident.grip_changed", incident, {"grip": "3"}, exercise=subject_is_exercise),
    )


def test_a_batch_that_creates_and_then_steps_with_the_other_flag_writes_nothing(api: Api) -> None:
    request = uuid4()
    body = {
        "items": [
            fire_request(request, exercise=True),
            item("request.submitted", request, authority=chair("VR08"), exercise=False),
        ]
    }
    error = api.refused("VR08", body, 422, "exercise_mismatch")
    assert error["index"] == 1
    assert api.service.stream_events(request) == []


def test_rights_and_input_are_checked_as_before(api: Api) -> None:
    """Unauthorised, malformed and duplicate input keep their own answers."""
    request = uuid4()
    created = fire_request(request, exercise=True)
    ok(api, "VR08", created)
    wrong_flag = item("request.received", request, exercise=False)
    # A read-only role records nothing, whatever the flag; a region may not receive.
    api.refused("LOCC", wrong_flag, 403, "read_only_role", role="viewer")
    assert api.post("VR23", item("request.received", request, exercise=True)).status_code in (
        403,
        404,
    )
    # The flag is true or false: not a guess.
    api.refused("VR08", {**created, "exercise": "maybe"}, 422, "invalid_item")
    # The same message again is a replay; the same message id with the other flag a conflict.
    again = api.post("VR08", created)
    assert again.status_code == 201 and again.json()["replayed"] is True
    api.refused("VR08", {**created, "exercise": False}, 409, "message_id_reused")


def test_an_exercise_commits_real_capacity_as_a_real_booking_for_an_exercise(api: Api) -> None:
    request = approved(api, exercise=True)
    capacity = registered(api, exercise=False, quantity=3)
    booking = uuid4()
    ok(api, "VR07", commit(request, capacity, True, booking_id=booking))
    events = api.service.stream_events(capacity)
    booked = events[-1]
    # On the capacity the step keeps the capacity's flag (real), the booking says what for.
    assert booked.exercise is False and booked.event.envelope.exercise is False
    assert booked.event.booking.for_exercise is True
    assert api.service.stream_events(request)[-1].exercise is True
    # It is occupied: the real overview counts it, and shows it as held for an exercise.
    row = next(c for c in listed(api, "/v1/capacities") if c["id"] == str(capacity))
    assert (row["available"], row["committed"], row["for_exercise"]) == (1, 2, 2)
    assert row["bookings"][0]["for_exercise"] is True
    overview = get(api, "/v1/capacity-overview")
    water = next(c for c in overview["capabilities"] if c["capability"] == "FIRE_WATER_SUPPLY")
    assert (water["available"], water["committed"], water["for_exercise"]) == (1, 2, 2)
    detail = get(api, f"/v1/capacities/{capacity}")
    assert detail["for_exercise"] == 2 and detail["exercise"] is False
    # A real request cannot have more than what is left (the exercise holds two).
    real = approved(api, exercise=False)
    api.refused("VR07", commit(real, capacity, False, quantity=2), 409, "double_booking")
    # Dispatching it moves the booking on the capacity, still real, still for the exercise.
    ok(
        api,
        "VR07",
        dispatch(request, capacity, booking, exercise=True),
    )
    moved = api.service.stream_events(capacity)[-1]
    assert moved.exercise is False and moved.event.booking.for_exercise is True


def test_a_refused_two_subject_step_leaves_both_subjects_as_they_were(api: Api) -> None:
    # A real request cannot book capacity registered for exercises only.
    real = approved(api, exercise=False)
    drill_capacity = registered(api, exercise=True)
    before = versions(api, real, drill_capacity)
    api.refused("VR07", commit(real, drill_capacity, False), 422, "exercise_mismatch")
    assert versions(api, real, drill_capacity) == before
    # A step whose flag is not its request's: refused, neither the request nor the (matching)
    # capacity changes.
    drill = approved(api, exercise=True)
    capacity = registered(api, exercise=False)
    before = versions(api, drill, capacity)
    api.refused("VR07", commit(drill, capacity, False), 422, "exercise_mismatch")
    assert versions(api, drill, capacity) == before
    state = api.service.app.load(Capacity, capacity)
    assert state.bookings == {} and state.available == 3
    request = api.service.app.load(AssistanceRequest, drill)
    assert request.bookings == {}


# --- the read side: exercise= on every route ------------------------------------------------


@pytest.fixture
def both(api: Api) -> Iterator[dict[str, set[str]]]:
    """A real and an exercise incident, request (submitted) and capacity."""
    ids: dict[str, set[str]] = {"real": set(), "exercise": set()}
    for exercise in (False, True):
        key = "exercise" if exercise else "real"
        incident, request = uuid4(), uuid4()
        ok(
            api,
            "VR08",
            item(
                "incident.opened",
                incident,
                {"title": key, "regions": ["VR08"], "grip": "2"},
                exercise=exercise,
            ),
        )
        body = fire_request(request, exercise=exercise)
        body["data"]["incident_id"] = str(incident)
        ok(api, "VR08", body)
        ok(
            api,
            "VR08",
            item("request.submitted", request, authority=chair("VR08"), exercise=exercise),
        )
        capacity = registered(api, exercise, quantity=1)
        ids[key] |= {str(incident), str(request), str(capacity)}
    yield ids


SCOPES = {None: ("real",), "false": ("real",), "true": ("exercise",), "all": ("real", "exercise")}


@on_both_stores  # the list routes filter exercise= in SQL
@pytest.mark.parametrize("value", list(SCOPES))
def test_exercise_means_the_same_on_every_route(
    api: Api, both: dict[str, set[str]], value: str | None
) -> None:
    wanted = set().union(*(both[k] for k in SCOPES[value]))
    params = {} if value is None else {"exercise": value}
    found: dict[str, set[str]] = {}
    for name in ("requests", "incidents", "capacities"):
        found[f"/v1/{name}"] = {r["id"] for r in listed(api, f"/v1/{name}", **params)}
    picture = get(api, "/v1/picture", **params)
    found["/v1/picture"] = {i["id"] for i in picture["incidents"]} | {
        r["id"] for i in picture["incidents"] for r in i["requests"]
    }
    assert picture["scope"]["exercise"] == (value or "false")
    board = get(api, "/v1/board", **params)
    found["/v1/board"] = {i["id"] for i in board["items"]}
    overview = get(api, "/v1/capacity-overview", **params)
    water = next(c for c in overview["capabilities"] if c["capability"] == "FIRE_WATER_SUPPLY")
    history = api.client.get(
        "/v1/history",
        params={**params, "format": "jsonl"},
        headers=api.headers("INSP-JENV", **AUDITOR),
    )
    assert history.status_code == 200
    found["/v1/history"] = {
        orjson.loads(line)["stream_id"] for line in history.text.splitlines()
    } & (both["real"] | both["exercise"])
    stats = get(api, "/v1/stats", **params)
    for route, ids in found.items():
        kinds = {"incidents", "requests", "capacities"}
        expected = wanted
        if route in ("/v1/requests", "/v1/board"):
            expected = {i for i in wanted if _kind(api, i) == "requests"}
        elif route in ("/v1/incidents",):
            expected = {i for i in wanted if _kind(api, i) == "incidents"}
        elif route == "/v1/capacities":
            expected = {i for i in wanted if _kind(api, i) == "capacities"}
        elif route == "/v1/picture":
            expected = {i for i in wanted if _kind(api, i) in kinds - {"capacities"}}
        assert ids == expected, route
    assert water["exists"] == len(SCOPES[value])  # one capacity of each
    assert stats["total"]["requests"] == len(SCOPES[value])


def _kind(api: Api, subject: str) -> str:
    first = api.service.stream_events(UUID(subject))[0].event_type
    return {
        "mlob:Incident.Opened": "incidents",
        "mlob:AssistanceRequest.Drafted": "requests",
        "mlob:Capacity.Registered": "capacities",
    }[first]


@pytest.mark.parametrize(
    "path",
    [
        "/v1/requests",
        "/v1/incidents",
        "/v1/capacities",
        "/v1/picture",
        "/v1/capacity-overview",
        "/v1/board",
        "/v1/scarcity",
        "/v1/history",
        "/v1/stats",
    ],
)
@pytest.mark.parametrize("value", ["yes", "1", "True", "", "exercise"])
def test_any_other_exercise_value_is_refused_with_its_reason(
    api: Api, path: str, value: str
) -> None:
    response = api.client.get(
        path, params={"exercise": value}, headers=api.headers("INSP-JENV", **AUDITOR)
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_exercise"
    assert "false" in error["reason"] and "all" in error["reason"]


# --- a store written before the rule --------------------------------------------------------


def _without_the_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the code before this rule recorded: a step's flag as posted, on both subjects."""
    import domain.base
    import domain.services

    monkeypatch.setattr(domain.base, "check_exercise", lambda *a, **k: None)
    monkeypatch.setattr(domain.services, "check_step", lambda *a, **k: None)
    monkeypatch.setattr(domain.services, "on_other_subject", lambda envelope, _: envelope)


@on_both_stores
def test_a_store_holding_mixed_steps_reads_back_without_a_500(
    api: Api, monkeypatch: pytest.MonkeyPatch, store_config: StoreConfig
) -> None:
    with monkeypatch.context() as old:
        _without_the_rule(old)
        # A real step on an exercise request (this made /v1/stats answer 500 for good) ...
        drill = uuid4()
        ok(api, "VR08", fire_request(drill, exercise=True))
        ok(api, "VR08", item("request.submitted", drill, authority=chair("VR08")))
        # ... an exercise step on a real request (accepted, and it moved the request) ...
        real = uuid4()
        ok(api, "VR08", fire_request(real))
        ok(
            api,
            "VR08",
            item("request.submitted", real, authority=chair("VR08"), exercise=True),
        )
        # ... and an exercise commitment on a real request, booking a real capacity with the
        # step's (exercise) flag on the capacity's event.
        granted = uuid4()
        for org, body in steps_to_approval(granted, exercise=False):
            ok(api, org, body, **(LOCC if org == "LOCC" else {}))
        capacity = registered(api, exercise=False)
        ok(api, "VR07", commit(granted, capacity, True))
        incident = uuid4()
        opened = {"title": "flood", "regions": ["VR08"], "grip": "2"}
        ok(api, "VR08", item("incident.opened", incident, opened, exercise=True))
        ok(api, "VR08", item("incident.grip_changed", incident, {"grip": "3"}))
    assert api.service.stream_events(drill)[1].exercise is False  # the mix is in the store
    assert api.service.stream_events(capacity)[-1].exercise is True

    # Every read answers, and a subject is what its creating step said.
    api.client.raise_server_exceptions = False
    for value in ("false", "true", "all"):
        stats = get(api, "/v1/stats", exercise=value)
        requests = {"false": 2, "true": 1, "all": 3}[value]
        assert stats["total"]["requests"] == requests, value
        csv = api.client.get(
            "/v1/stats",
            params={"exercise": value, "format": "csv"},
            headers=api.headers("INSP-JENV", **AUDITOR),
        )
        assert csv.status_code == 200
        for path in ("/v1/picture", "/v1/capacity-overview", "/v1/board", "/v1/scarcity"):
            assert get(api, path, exercise=value)["reached"] is True, path
        ids = {r["id"] for r in listed(api, "/v1/requests", exercise=value)}
        assert (str(drill) in ids) is (value != "false")
        assert (str(real) in ids) is (value != "true")
        assert get(api, "/v1/picture", exercise=value, as_of=_now())["reached"] is True
        history = api.client.get(
            "/v1/history",
            params={"exercise": value},
            headers=api.headers("INSP-JENV", **AUDITOR),
        )
        assert history.status_code == 200 and history.text, value
    for subject, kind in ((drill, "requests"), (real, "requests"), (capacity, "capacities")):
        assert get(api, f"/v1/{kind}/{subject}")["id"] == str(subject)
        assert get(api, f"/v1/{kind}/{subject}/timeline")["events"]
    assert get(api, f"/v1/requests/{drill}")["exercise"] is True
    assert get(api, f"/v1/requests/{real}")["exercise"] is False
    assert get(api, f"/v1/incidents/{incident}")["grip"] == "3"
    capacity_row = get(api, f"/v1/capacities/{capacity}")
    assert capacity_row["exercise"] is False and capacity_row["committed"] == 2
    # From then on the rule holds on those subjects too: a step must carry their own flag.
    api.refused(
        "LOCC", item("request.received", drill, exercise=False), 422, "exercise_mismatch", **LOCC
    )

    # The command line reads the same store (it answered 500's twin, a traceback, too).
    url = database_url(store_config)
    for value in ("false", "true", "all"):
        done = run_cli("audit", "stats", "--exercise", value, url=url)
        assert done.returncode == 0, done.stderr
        body = orjson.loads("\n".join(done.stdout.splitlines()[1:-1]))
        assert body["total"]["requests"] == {"false": 2, "true": 1, "all": 3}[value]
    refused = run_cli("audit", "stats", "--exercise", "maybe", url=url)
    assert refused.returncode == 2 and "all (both)" in refused.stderr


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat()
