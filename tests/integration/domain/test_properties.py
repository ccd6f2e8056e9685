"""Property: random command sequences never break the capacity invariant and never record a
refused command. Runs through the real posting path and store (SQLite file)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid5

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from api.commands import REGISTRY
from api.post_events import Item, Principal, post
from domain.capacity import BookingState, Capacity
from domain.errors import DomainError
from domain.lifecycle import ACTIVE_LINE_STEPS
from domain.request import AssistanceRequest
from mlob.config import StoreConfig
from mlob.write.application import MlobApplication
from tests.samples import sample

NS = UUID("00000000-0000-0000-0000-00000000abcd")
REQUESTERS = ("VR08", "VR23", "VR21")
PROVIDERS = ("VR07", "VR09")
ACTORS = ("LOCC", *REQUESTERS, *PROVIDERS, "POL-ON", "INSP-JENV")
REQUESTS = [uuid5(NS, f"req-{r}") for r in REQUESTERS]
CAPACITIES = [uuid5(NS, f"cap-{p}") for p in PROVIDERS]
BOOKINGS = [uuid5(NS, f"booking-{i}") for i in range(6)]

#: What a random step puts in its data, by field name (never per type): the subjects, bookings
#: and line of this world, and values that make histories branch. A field keeps its example's
#: value where the example has another JSON type (``to`` of ``request.informed`` is one
#: organisation); a field the example leaves out is put in at random.
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "capacity_id": st.sampled_from([str(c) for c in CAPACITIES]),
    "booking_id": st.sampled_from([str(b) for b in BOOKINGS]),
    "successor_booking_id": st.sampled_from([str(b) for b in BOOKINGS]),
    "line_id": st.just("L1"),
    "quantity": st.integers(1, 4),
    "to": st.lists(st.sampled_from(PROVIDERS), max_size=2, unique=True),
    "shares": st.lists(  # parts of the line to providers (issue 18: several providers)
        st.builds(
            lambda to, q: {"to": to, "line_id": "L1", "quantity": q},
            st.sampled_from(PROVIDERS),
            st.integers(1, 3),
        ),
        min_size=1,
        max_size=2,
        unique_by=lambda share: str(share["to"]),
    ),
    "forward": st.booleans(),
    "outcome": st.sampled_from(["granted", "refused"]),
    "reasons": st.just("busy"),
    "unavailable": st.integers(0, 4),
    "abroad": st.integers(0, 2),
}


def random_data(type_: str) -> st.SearchStrategy[dict[str, Any]]:
    """The type's example (api/commands.py) with the fields of :data:`FIELDS` drawn; a drawn
    field it leaves out is kept only where the data stays valid."""
    example = sample(type_)
    model_fields = REGISTRY[type_].model.model_fields

    @st.composite
    def draw(draw_one: st.DrawFn) -> dict[str, Any]:
        data, added = dict(example), {}
        for name, values in FIELDS.items():
            if name not in model_fields:
                continue
            if name in example:
                value = draw_one(values)
                if type(value) is type(example[name]):
                    data[name] = value
            elif draw_one(st.booleans()):
                added[name] = draw_one(values)
        try:  # what was added, where the model takes it (a booking's part, not a line too)
            REGISTRY[type_].model.model_validate({**data, **added})
        except ValidationError:
            return data
        return {**data, **added}

    return draw()


#: Every step on an existing request or capacity (the world has no incidents), from the
#: registry, so that a new type is tried here unedited; those that name a capacity (the
#: bookings) and the capacities' own steps more often.
CHAOS = sorted(
    name
    for name, t in REGISTRY.items()
    if not t.creates and t.subject in ("request", "capacity")
    for _ in range(3 if t.subject == "capacity" or "capacity_id" in t.example else 1)
)
ops = st.sampled_from(CHAOS).flatmap(
    lambda type_: st.tuples(st.just(type_), st.integers(0, 2), random_data(type_))
)


def test_the_random_steps_are_every_step_on_a_request_or_capacity() -> None:
    """No list of types here: a new one is tried by the property without an edit."""
    on_existing = {n for n, t in REGISTRY.items() if not t.creates and t.subject != "incident"}
    assert set(CHAOS) == on_existing
    assert {"request.committed", "request.forwarded", "capacity.availability_changed"} < set(CHAOS)


def setup(app: MlobApplication) -> None:
    def operator_posts(org: str, type_: str, subject: UUID, **fields: Any) -> None:
        item = Item(
            type=type_,
            subject=subject,
            message_id=f"setup-{subject}",
            occurred_at=datetime.now(UTC),
            **fields,
        )
        post(app, Principal(org, "operator"), [item])

    for provider, cap, qty in zip(PROVIDERS, CAPACITIES, (3, 2), strict=True):
        operator_posts(
            provider,
            "capacity.registered",
            cap,
            data={"capability": "FIRE_WATER_SUPPLY", "quantity": qty},
        )
    for requester, req in zip(REQUESTERS, REQUESTS, strict=True):
        operator_posts(
            requester,
            "request.drafted",
            req,
            authority={"body": "chair_safety_region", "of": requester},
            data={
                "kind": "region_art51",
                "lines": [
                    {
                        "line_id": "L1",
                        "capability": "FIRE_WATER_SUPPLY",
                        "quantity": 3,
                        "effect": "pump",
                    }
                ],
            },
        )


def right_actor(type_: str, target: int, data: dict[str, object]) -> str:
    """Who would normally take this step, so random histories get far (None picks this)."""
    if type_ in ("request.submitted", "request.withdrawn"):
        return REQUESTERS[target]
    if type_ in ("request.received", "request.assessed", "request.forwarded", "request.closed"):
        return "LOCC"
    if type_ == "request.decided":
        return PROVIDERS[target % 2]
    if type_.startswith("capacity."):
        return PROVIDERS[target % 2]
    return PROVIDERS[CAPACITIES.index(UUID(str(data["capacity_id"])))]


def check_invariants(app: MlobApplication) -> None:
    capacities = {c: app.load(Capacity, c) for c in CAPACITIES}
    requests = [app.load(AssistanceRequest, r) for r in REQUESTS]
    for capacity in capacities.values():
        held = sum(capacity.held(s) for s in BookingState if s is not BookingState.ENDED)
        assert held + capacity.unavailable + capacity.abroad <= capacity.quantity
        assert capacity.available >= 0
    # the two sides of every booking agree
    for request in requests:
        for booking in request.bookings.values():
            on_capacity = capacities[booking.capacity_id].bookings[booking.booking_id]
            assert on_capacity.quantity == booking.quantity
            assert (on_capacity.state is not BookingState.ENDED) == (
                booking.step in ACTIVE_LINE_STEPS
            )
        for line_id, line in request.lines.items():
            assert request.committed(line_id) <= request.granted.get(line_id, line.quantity)
        # each provider committed only within what was asked of it and granted (issue 18)
        for (provider, line_id), share in request.shares.items():
            assert request.committed_by(provider, line_id) <= share.granted
        for booking in request.bookings.values():
            if booking.step.value not in ("made_ready", "cancelled"):
                assert (booking.provider, booking.line_id) in request.shares


def natural_step(app: MlobApplication, target: int, draw) -> tuple[str, dict[str, object]]:  # type: ignore[no-untyped-def]
    """The step a diligent operator would take next, with random but plausible details."""
    request = app.load(AssistanceRequest, REQUESTS[target])
    status = request.status.value
    if status == "draft":
        return "request.submitted", {}
    if status == "submitted":
        return "request.received", {}
    if status == "received":
        return "request.assessed", {
            "forward": draw(st.sampled_from([True, True, True, False])),
            "findings": "checked",
        }
    if status == "assessed":
        if draw(st.booleans()):  # the line split between both providers
            first = draw(st.integers(1, 2))
            return "request.forwarded", {
                "shares": [
                    {"to": PROVIDERS[0], "line_id": "L1", "quantity": first},
                    {"to": PROVIDERS[1], "line_id": "L1", "quantity": 3 - first},
                ]
            }
        return "request.forwarded", {"to": [draw(st.sampled_from(PROVIDERS))]}
    if status == "forwarded":
        return "request.decided", draw(
            st.sampled_from(
                [
                    {"outcome": "granted"},
                    {"outcome": "granted"},
                    {"outcome": "refused", "reasons": "busy"},
                ]
            )
        )
    if status in ("refused", "withdrawn"):
        return "request.closed", {}
    active = [b for b in request.bookings.values() if b.step in ACTIVE_LINE_STEPS]
    if status == "approved" and (not active or draw(st.booleans())):
        if active and draw(st.booleans()):
            return "request.closed", {}
        return "request.committed", {
            "capacity_id": str(draw(st.sampled_from(CAPACITIES))),
            "booking_id": str(draw(st.sampled_from(BOOKINGS))),
            "line_id": "L1",
            "quantity": draw(st.integers(1, 3)),
        }
    if active:
        booking = draw(st.sampled_from(active))
        move = {
            "committed": "request.dispatched",
            "dispatched": "request.arrived",
            "arrived": "request.released",
            "released": "request.returned",
            "made_ready": "request.released",
        }[booking.step.value]
        return move, {
            "capacity_id": str(booking.capacity_id),
            "booking_id": str(booking.booking_id),
        }
    return "request.closed", {}


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_random_histories_keep_the_capacity_invariant(tmp_path_factory, data) -> None:  # type: ignore[no-untyped-def]
    path: Path = tmp_path_factory.mktemp("prop") / "mlob.sqlite3"
    app = MlobApplication(StoreConfig(kind="sqlite", sqlite_path=path))
    try:
        setup(app)
        for n in range(data.draw(st.integers(10, 60))):
            if data.draw(st.integers(0, 3)):  # mostly the natural next step, sometimes chaos
                target = data.draw(st.integers(0, 2))
                type_, payload = natural_step(app, target, data.draw)
                actor = data.draw(
                    st.sampled_from([right_actor(type_, target, payload)] * 5 + list(ACTORS))
                )
            else:
                type_, target, payload = data.draw(ops)
                actor = data.draw(st.sampled_from(ACTORS))
            subject = CAPACITIES[target % 2] if type_.startswith("capacity.") else REQUESTS[target]
            authority = (
                {"body": "chair_safety_region", "of": actor} if actor in REQUESTERS else None
            )
            before = app.last_position()
            try:
                post(
                    app,
                    Principal(actor, "auditor" if actor == "INSP-JENV" else "operator"),
                    [
                        Item(
                            type=type_,
                            subject=subject,
                            message_id=f"m{n}",
                            occurred_at=datetime.now(UTC),
                            data=payload,
                            authority=authority,
                        )
                    ],
                )
            except DomainError:
                assert app.last_position() == before, "a refused command recorded something"
            else:
                assert app.last_position() > before
                event(f"recorded {type_}")
            check_invariants(app)
    finally:
        app.close()
