"""The write path's cheap copies of frozen dataclasses (``LoggedEvent.replaced``,
``Envelope.threaded``) make exactly what ``dataclasses.replace`` makes."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from domain.envelope import Actor, Authority, Classification, Envelope
from domain.recorded import LoggedEvent

AT = datetime(2026, 12, 6, 11, 0, tzinfo=UTC)


def logged() -> LoggedEvent:
    return LoggedEvent(
        0, uuid4(), 3, "mlob:Incident.SituationReported", AT, AT, "VR08", "operator", None,
        None, ("VR08",), "ongerubriceerd", False, "m-1", "c-1", None, event=object(),
    )  # fmt: skip


def test_replaced_is_replace() -> None:
    entry = logged()
    for changes in ({"position": 42}, {"api_type": "incident.reported"}, {"event": None}):
        copy = entry.replaced(**changes)
        expected = dataclasses.replace(entry, **changes)
        assert copy == expected and type(copy) is LoggedEvent
        assert vars(copy) == vars(expected)  # the fields left out of == as well
        assert hash(copy) == hash(expected)
    assert entry.position == 0 and entry.api_type == ""  # the original is untouched
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.replaced(position=1).position = 2  # type: ignore[misc]


def test_replaced_refuses_a_field_it_does_not_have() -> None:
    with pytest.raises(TypeError, match="positon"):
        logged().replaced(positon=1)


def test_threaded_is_replace() -> None:
    envelope = Envelope(
        actor=Actor(org="VR08", role="operator", person="P"),
        occurred_at=AT,
        message_id="m-2",
        authority=Authority(body="burgemeester", of="Nijmegen"),
        exercise=True,
        classification=Classification.DEPARTMENTAL_CONFIDENTIAL,
        correlation_id="c-0",
    )
    copy = envelope.threaded("c-1", "m-1")
    assert copy == dataclasses.replace(envelope, correlation_id="c-1", causation_id="m-1")
    assert vars(copy) == vars(
        dataclasses.replace(envelope, correlation_id="c-1", causation_id="m-1")
    )
    assert envelope.correlation_id == "c-0" and envelope.causation_id is None
