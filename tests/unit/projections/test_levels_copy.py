"""The copy a subject's lower level starts from, and is kept as, when a step may not apply there
(projections/levels.py: ``copied``, which stands in for ``copy.deepcopy``): equal to it, and
sharing no container with the original, so a step applied to one never shows in the other."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from domain.base import MlobAggregate
from domain.request import Outcome
from projections.levels import copied
from tests.unit.domain.helpers import art58_one_of_two_asked, book, env


def containers(value: Any, found: set[int]) -> set[int]:
    """The ids of every dict, list and set reachable from ``value``."""
    if isinstance(value, (dict, list, set)):
        found.add(id(value))
    if isinstance(value, dict):
        for item in value.values():
            containers(item, found)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            containers(item, found)
    elif hasattr(value, "__dict__") and not isinstance(value, type):
        for item in vars(value).values():
            containers(item, found)
    return found


def with_undo() -> MlobAggregate:
    """A request with lines, shares and decisions (frozen dataclasses in dicts and lists) and
    an undo state (a dict of copied containers inside a list of tuples)."""
    request = art58_one_of_two_asked()
    assert vars(request)["_undo"], "the example must carry an undo state"
    return request


def booked() -> MlobAggregate:
    """The same request with a booking (a dict keyed by UUID)."""
    request = art58_one_of_two_asked()
    book(request, "DEF-DOPS", request.lines["L1"].capability, 1)
    assert request.bookings, "the example must carry a booking"
    return request


@pytest.mark.parametrize("example", [with_undo, booked])
def test_the_copy_equals_a_deep_copy(example: Callable[[], MlobAggregate]) -> None:
    request = example()
    made, deep = copied(request), copy.deepcopy(request)
    assert type(made) is type(deep)
    assert vars(made) == vars(deep)


@pytest.mark.parametrize("example", [with_undo, booked])
def test_the_copy_shares_no_container_with_the_original(
    example: Callable[[], MlobAggregate],
) -> None:
    request = example()
    made = copied(request)
    assert made is not request
    assert not containers(vars(request), set()) & containers(vars(made), set())


def test_a_step_on_the_copy_leaves_the_original_as_it_was() -> None:
    request = with_undo()
    before = copy.deepcopy(vars(request))
    made = copied(request)
    # A correction restores the remembered state: the undo state's containers become the
    # state's, so they must be the copy's own.
    made.void(env("LOCC"), target_version=made.version, reason="recorded in error")
    made.decide(env("LOCC"), outcome=Outcome.REFUSED, reasons="not needed")
    assert vars(made) != before
    assert vars(request) == before
