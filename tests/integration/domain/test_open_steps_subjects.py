"""An incident's and a capacity's ``open_steps`` (domain/incident.py, domain/capacity.py): the
property the lifecycle test proves for requests, over every postable type of the two subjects.

At each state of a small world and for each of a set of callers, a step ``open_steps`` offers,
posted with its type's example data (api/commands.py, through tests/samples.py) and run by its
handler as a post runs it, is never refused before its data is read (who may act, an open
incident, the recorder's own latest step); a step it does not offer always is. The types come
from the vocabulary, so a step added to either subject later is covered without editing this.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from copy import deepcopy
from typing import Any
from uuid import UUID

import pytest

from api.commands import REGISTRY
from domain import capacity as capacities
from domain import incident as incidents
from domain.base import MlobAggregate
from domain.envelope import Actor
from domain.errors import DomainError
from domain.handlers import HANDLERS
from domain.incident import GripLevel, Incident
from domain.vocabulary import TYPES, api_type
from tests.samples import sample
from tests.unit.domain.catalogue import CAP
from tests.unit.domain.helpers import capacity, env, new_id

#: The refusals made before a step's data is read: the caller may not act on this subject
#: (role, organisation kind, region, provider), the incident is closed, or a correction is not
#: of the caller's own latest step (or there is none).
BEFORE_DATA = frozenset(
    {
        "read_only_role",
        "step_not_permitted",
        "not_own_region",
        "not_a_provider",
        "not_own_capacity",
        "incident_closed",
        "not_own_step",
        "void_not_latest",
    }
)

#: (organisation, role) of the callers tried on every state.
CALLERS = (
    ("VR08", "operator"),
    ("VR23", "coordinator"),
    ("VR07", "operator"),
    ("VR08", "auditor"),
    ("LOCC", "coordinator"),
    ("NCC", "operator"),
    ("POL-ON", "operator"),
    ("DEF-DOPS", "operator"),
)


def postable(subject: str) -> list[str]:
    """The types a caller posts on an existing ``subject`` (not the one that creates it)."""
    return [
        t.name
        for t in TYPES.values()
        if t.subject == subject and t.postable and not REGISTRY[t.name].creates
    ]


class OneSubject:
    """The unit of work a handler runs on: the one subject of the test."""

    reader_level = 4

    def __init__(self, aggregate: MlobAggregate) -> None:
        self.aggregate = aggregate

    def get(self, cls: type[Any], subject: UUID, expected_version: int | None = None) -> Any:
        assert subject == self.aggregate.id
        return self.aggregate

    def add(self, aggregate: Any) -> None:
        raise AssertionError("no step on an existing subject creates one")


def refusal(aggregate: MlobAggregate, type_name: str, org: str, role: str) -> str | None:
    """The code of the refusal of ``type_name`` posted by ``org`` on (a copy of) ``aggregate``
    with its example data, or None when it is recorded."""
    target = deepcopy(aggregate)
    latest = target.voidable_version()  # else the example's: there is nothing to void
    named: dict[str, Any] = {} if latest is None else {"target_version": latest}
    model = REGISTRY[type_name].model
    data = model.model_validate(sample(type_name, **named))
    try:
        HANDLERS[type_name](OneSubject(target), env(org, role=role), target.id, data, None)
    except DomainError as refused:
        return refused.code
    return None


def incident_states() -> Iterator[tuple[str, Incident]]:
    incident = Incident.open(
        env("VR08"), new_id(), title="Hoogwater", regions=("VR08", "VR23"), grip=GripLevel.GRIP_3
    )
    incident.collect_events()
    yield "opened", deepcopy(incident)
    incident.report(env("VR23"), "Maas stijgt")
    yield "reported by VR23", deepcopy(incident)
    incident.change_grip(env("LOCC", role="coordinator"), GripLevel.GRIP_4)
    yield "grip changed by LOCC", deepcopy(incident)
    incident.close(env("VR08"), "water gezakt")
    yield "closed by VR08", deepcopy(incident)


def capacity_states() -> Iterator[tuple[str, MlobAggregate]]:
    pumps = capacity("VR07", CAP["fire"], quantity=3)
    yield "registered by VR07", deepcopy(pumps)
    pumps.change_availability(env("VR07"), 1, 0, "onderhoud")
    yield "one unavailable", deepcopy(pumps)


OPEN_STEPS: dict[str, Callable[[Any, Any], list[tuple[str, str]]]] = {
    "incident": incidents.open_steps,
    "capacity": capacities.open_steps,
}


@pytest.mark.parametrize(
    ("subject", "states"), [("incident", incident_states), ("capacity", capacity_states)]
)
def test_open_steps_are_exactly_the_steps_not_refused_before_their_data(
    subject: str, states: Callable[[], Iterator[tuple[str, MlobAggregate]]]
) -> None:
    types = postable(subject)
    assert types, subject
    offered_somewhere: set[str] = set()
    for state, aggregate in states():
        for org, role in CALLERS:
            steps = OPEN_STEPS[subject](aggregate, Actor(org=org, role=role))
            offered = {api_type(topic) for _, topic in steps}
            offered_somewhere |= offered
            for type_name in types:
                code = refusal(aggregate, type_name, org, role)
                where = f"{type_name} by {org}/{role} on a {subject} {state}"
                if type_name in offered:
                    assert code not in BEFORE_DATA, f"offered, then refused ({code}): {where}"
                else:
                    assert code in BEFORE_DATA, f"not offered, but {code or 'recorded'}: {where}"
    # The world reaches every step at least once (else the property would hold vacuously).
    assert offered_somewhere == set(types)
