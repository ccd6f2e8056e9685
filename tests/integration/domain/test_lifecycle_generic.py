"""The lifecycle property (tests/unit/domain/test_lifecycle.py) with no data generator written
for any step: each step's data is its API type's example (api/commands.py), filled in from the
request by field name (tests/samples.py), validated by the type's own model and run by its
handler (domain/handlers.py), as a post runs it. So a step added to the lifecycle table and the
registry is covered here without editing a test (issue 18).

Property, as in the unit tier: at every state of random histories, a step ``open_steps`` offers
is never refused for a lifecycle or rights reason; a step it does not offer always is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

from hypothesis import HealthCheck, given, settings
from pydantic import ValidationError

from api.commands import REGISTRY
from domain.capacity import Capacity
from domain.envelope import Authority, Envelope
from domain.errors import NotFound
from domain.handlers import HANDLERS
from domain.kinds import MINISTER_JV
from domain.lifecycle import BOOKING_STEPS, STEP_STATUSES, STEP_TYPES
from domain.request import AssistanceRequest
from domain.rights import Step, signers
from tests.samples import sample
from tests.unit.domain.test_lifecycle import (
    HISTORIES,
    MINISTER,
    Ctx,
    Generators,
    History,
    Posting,
    World,
    _lines,
    _may_move,
    walk_and_check,
)


class WorldUnit:
    """The unit of work a handler runs on, over the property's request and world."""

    reader_level = 4

    def __init__(self, request: AssistanceRequest, world: World) -> None:
        self.request, self.world = request, world

    def get(self, cls: type[Any], subject: UUID, expected_version: int | None = None) -> Any:
        if cls is AssistanceRequest and subject == self.request.id:
            return self.request
        if cls is Capacity and subject in self.world.capacities:
            return self.world.capacities[subject]
        raise NotFound("not_found", f"no {cls.__name__} {subject}", "test world")

    def add(self, aggregate: Any) -> None:
        if isinstance(aggregate, Capacity):
            self.world.capacities[aggregate.id] = aggregate


def context(c: Ctx, step: Step) -> dict[str, Any]:
    """What a post of ``step`` by ``c.actor`` could name, by field name (never by step)."""
    request, rnd = c.request, c.rnd
    line = rnd.choice(_lines(c)).line_id  # one the actor provides, if any (as a client would)
    capability = request.lines[line].capability
    found: dict[str, Any] = {
        "line_id": line,
        "quantity": 1,
        "capability": capability,
        "capacity_id": str(c.world.capacity_for(c.actor.org, capability).id),
        "booking_id": str(uuid4()),
        "successor_booking_id": str(uuid4()),
        "target_version": request.voidable_version() or request.version,
    }
    # A booking the actor may move with this step, if it has one (else a new one, its own).
    movable = [
        b
        for b in request.bookings.values()
        if b.step in BOOKING_STEPS.get(step, ()) and _may_move(c, step, b)
    ]
    if movable:
        booking = rnd.choice(movable)
        found |= {
            "capacity_id": str(booking.capacity_id),
            "booking_id": str(booking.booking_id),
            "line_id": booking.line_id,
        }
        others = [str(b.booking_id) for b in request.bookings.values() if b is not booking]
        if others:
            found["successor_booking_id"] = rnd.choice(others)
    duties = request.outstanding_duties(c.actor.org)
    if duties:  # ``to`` of a duty is its one addressee
        found |= {"duty": duties[0].code, "to": request.duty_addressee(duties[0]) or "LOCC"}
    return found


def authority(c: Ctx, step: Step) -> Authority | None:
    bodies = signers(c.request.kind, step)
    if MINISTER_JV in bodies:
        return MINISTER
    return c.template.authority if bodies else None


def generic(step: Step) -> Callable[[Ctx], Posting]:
    name = STEP_TYPES[step]
    model, handler = REGISTRY[name].model, HANDLERS[name]

    def make(c: Ctx) -> Posting:
        named = context(c, step)
        try:
            data = model.model_validate(sample(name, **named))
        except ValidationError as invalid:  # what no client could post: the example's value
            for field in {str(e["loc"][0]) for e in invalid.errors() if e["loc"]}:
                named.pop(field, None)
            data = model.model_validate(sample(name, **named))

        def run(request: AssistanceRequest, world: World, env: Envelope) -> None:
            handler(WorldUnit(request, world), env, request.id, data, None)

        return Posting(authority(c, step), run)

    return make


GENERIC: Generators = {step: generic(step) for step in STEP_STATUSES}


def test_every_step_of_the_table_has_its_generic_data() -> None:
    assert set(GENERIC) == set(STEP_STATUSES)
    for step in STEP_STATUSES:
        assert STEP_TYPES[step] in REGISTRY and STEP_TYPES[step] in HANDLERS, step


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(HISTORIES)
def test_open_steps_are_exactly_the_steps_the_commands_accept_with_generic_data(
    history: History,
) -> None:
    walk_and_check(history, GENERIC)
