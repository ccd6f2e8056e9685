"""Exercise or real (domain/exercise.py): fixed by the creating step, kept by every later one;
a step on a second subject keeps that subject's flag; what ``exercise=`` admits."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.capacity import BookingState, Capacity
from domain.errors import DomainError
from domain.exercise import ExerciseScope, check_step, subject_flag
from domain.kinds import RequestKind as K
from domain.services import commit, dispatch
from tests.unit.domain.catalogue import CAP
from tests.unit.domain.helpers import capacity, chair, env, granted, line, submitted, through_hub


def approved(exercise: bool):  # type: ignore[no-untyped-def]
    request = submitted("VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"]), exercise=exercise)
    granted(through_hub(request, "LOCC", to=("VR07",)), "VR07")
    request.collect_events()  # as saved: what a step adds is what follows
    return request


def mismatch(exc: pytest.ExceptionInfo[DomainError]) -> None:
    assert exc.value.code == "exercise_mismatch" and exc.value.status == 422
    assert exc.value.reason and exc.value.source


@pytest.mark.parametrize("created_as_exercise", [False, True])
def test_every_later_step_keeps_the_creating_step_s_flag(created_as_exercise: bool) -> None:
    request = submitted(
        "VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"]), exercise=created_as_exercise
    )
    assert request.exercise is created_as_exercise
    with pytest.raises(DomainError) as exc:
        request.receive(env("LOCC", exercise=not created_as_exercise))
    mismatch(exc)
    assert request.version == 2  # nothing happened
    request.receive(env("LOCC", exercise=created_as_exercise))
    pumps = capacity("VR07", CAP["fire"], 3)  # registered real
    with pytest.raises(DomainError) as exc:
        pumps.change_quantity(env("VR07", exercise=True), 5, "bought")
    mismatch(exc)


def test_an_exercise_books_real_capacity_as_a_real_booking_that_occupies_it() -> None:
    request = approved(exercise=True)
    pumps = capacity("VR07", CAP["fire"], 3)
    booking = uuid4()
    commit(env("VR07", exercise=True), request, pumps, line_id="L1", quantity=2, booking_id=booking)
    [booked] = pumps.collect_events()
    assert booked.envelope.exercise is False  # the capacity's own flag
    assert booked.booking.for_exercise is True  # what it is held for
    [line_booked] = request.collect_events()
    assert line_booked.envelope.exercise is True
    assert pumps.available == 1 and pumps.held(BookingState.COMMITTED) == 2
    dispatch(env("VR07", exercise=True), request, pumps, booking_id=booking)
    [moved] = pumps.collect_events()
    assert moved.envelope.exercise is False and moved.booking.for_exercise is True
    # A real request books what is left, as a real booking for a real operation.
    real = approved(exercise=False)
    commit(env("VR07"), real, pumps, line_id="L1", quantity=1, booking_id=uuid4())
    assert [e.booking.for_exercise for e in pumps.collect_events()] == [False]
    assert pumps.available == 0


def test_a_real_request_never_books_exercise_capacity() -> None:
    request = approved(exercise=False)
    exercise_pumps = Capacity.register(
        env("VR07", exercise=True), uuid4(), capability_code=CAP["fire"], quantity=3
    )
    exercise_pumps.collect_events()
    with pytest.raises(DomainError) as exc:
        commit(env("VR07"), request, exercise_pumps, line_id="L1", quantity=1, booking_id=uuid4())
    mismatch(exc)
    assert exercise_pumps.collect_events() == [] and request.collect_events() == []
    assert exercise_pumps.available == 3 and request.bookings == {}


def test_a_step_with_the_other_flag_changes_neither_subject() -> None:
    request = approved(exercise=True)
    pumps = capacity("VR07", CAP["fire"], 3)
    with pytest.raises(DomainError) as exc:
        commit(env("VR07"), request, pumps, line_id="L1", quantity=1, booking_id=uuid4())
    mismatch(exc)
    assert pumps.collect_events() == [] and request.collect_events() == []
    assert pumps.bookings == {} and request.bookings == {}


def test_check_step_and_subject_flag() -> None:
    check_step(True, env("LOCC", exercise=True))
    with pytest.raises(DomainError) as exc:
        check_step(False, env("LOCC", exercise=True), "request")
    mismatch(exc)
    assert "request is real" in exc.value.reason
    events = [type("E", (), {"envelope": env("VR08", exercise=flag)})() for flag in (True, False)]
    assert subject_flag(events) is True  # the creating step's, not the latest
    assert subject_flag([]) is False


@pytest.mark.parametrize(
    ("value", "scope", "real", "exercise"),
    [
        (None, ExerciseScope.REAL, True, False),
        (False, ExerciseScope.REAL, True, False),
        ("false", ExerciseScope.REAL, True, False),
        (True, ExerciseScope.EXERCISE, False, True),
        ("true", ExerciseScope.EXERCISE, False, True),
        ("all", ExerciseScope.ALL, True, True),
    ],
)
def test_what_exercise_admits(
    value: object, scope: ExerciseScope, real: bool, exercise: bool
) -> None:
    parsed = ExerciseScope.parse(value)
    assert parsed is scope
    assert (parsed.admits(False), parsed.admits(True)) == (real, exercise)


@pytest.mark.parametrize("value", ["", "yes", "1", "True", "ALL", 1, 0, [], "x" * 100])
def test_anything_else_is_refused_with_the_reason(value: object) -> None:
    with pytest.raises(ValueError) as exc:
        ExerciseScope.parse(value)
    assert "false" in str(exc.value) and "all (both)" in str(exc.value)
    assert len(str(exc.value)) < 150
