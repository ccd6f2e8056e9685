"""The pure part of the picture as of a moment (projections/asof.py): which checkpoint is the
base, which intervals are looked into, which events continue their stream."""

from __future__ import annotations

from uuid import uuid4

from projections.asof import base_and_later, continuing, spans


def checkpoint(position: int, low: str, high: str) -> dict[str, object]:
    return {"position": position, "recorded_min": low, "recorded_max": high}


CHECKPOINTS = [checkpoint(10, "01", "03"), checkpoint(20, "02", "05"), checkpoint(30, "06", "07")]


def test_the_base_is_the_last_checkpoint_wholly_before_the_moment() -> None:
    base, later = base_and_later(CHECKPOINTS, "recorded", "04")
    assert base is CHECKPOINTS[0]
    assert list(later) == CHECKPOINTS[1:]
    assert base_and_later(CHECKPOINTS, "recorded", "00") == (None, CHECKPOINTS)
    assert base_and_later(CHECKPOINTS, "recorded", "09") == (CHECKPOINTS[2], [])


def test_only_intervals_with_an_event_at_or_before_the_moment_are_looked_into() -> None:
    _, later = base_and_later(CHECKPOINTS, "recorded", "04")
    # (10, 20] may hold one (its lowest time 02); (20, 30] may not (06); then what is newer.
    assert spans(10, later, "recorded", "04", top=35) == [(10, 20), (30, 35)]
    assert spans(30, [], "recorded", "04", top=30) == []


def test_an_event_counts_only_when_every_earlier_one_of_its_stream_did() -> None:
    a, b = uuid4(), uuid4()
    known = {a: 2, b: 0}
    entries = [(1, a, 3), (2, b, 2), (3, a, 4), (4, b, 1), (5, a, 6)]
    assert continuing(entries, known.__getitem__) == [1, 3, 4]
