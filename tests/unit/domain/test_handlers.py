"""The steps domain/handlers.py declares as data (``COMMANDS``, ``BOOKING_STEPS``): each
names a command its subject has (or a step of domain/services.py), and the fields it passes are
that command's parameters, by name."""

from __future__ import annotations

import inspect

import pytest

from domain.handlers import BOOKING_STEPS, COMMANDS, HANDLERS


@pytest.mark.parametrize("step", sorted(COMMANDS))
def test_a_declared_step_calls_a_command_of_its_subject_with_its_parameters(step: str) -> None:
    kind, method, names = COMMANDS[step]
    parameters = inspect.signature(getattr(kind, method)).parameters
    assert list(parameters)[:2] == ["self", "envelope"], step
    required = {n for n, p in list(parameters.items())[2:] if p.default is inspect.Parameter.empty}
    assert required <= set(names) <= set(parameters), (step, names, list(parameters))
    assert step in HANDLERS


@pytest.mark.parametrize("step", sorted(BOOKING_STEPS))
def test_a_booking_step_calls_its_service_with_its_parameters(step: str) -> None:
    service, _, names = BOOKING_STEPS[step]
    parameters = inspect.signature(service).parameters
    assert list(parameters)[:3] == ["envelope", "request", "capacity"], step
    required = {n for n, p in list(parameters.items())[3:] if p.default is inspect.Parameter.empty}
    assert required <= set(names) <= set(parameters), (step, names, list(parameters))
    assert step in HANDLERS
