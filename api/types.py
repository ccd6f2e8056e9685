"""Input types shared by the entry points: strict, so that what a client meant is never guessed."""

from typing import Annotated, Any

from fastapi import Depends, Query
from pydantic import AwareDatetime, BeforeValidator

from api.errors import ApiError
from domain.exercise import SOURCE, ExerciseScope


def _iso_text(value: Any) -> Any:
    """A moment is ISO 8601 text with a zone: a number (``as_of=0.5``) is not taken as seconds
    since 1970, which is never what a crisis-centre client means."""
    if isinstance(value, str):
        if ":" in value:  # a time of day: never a number (spares the try below its raise)
            return value
        try:
            float(value)
        except ValueError:
            return value
    elif not isinstance(value, int | float) or isinstance(value, bool):
        return value
    raise ValueError("a moment is ISO 8601 text with a zone, e.g. 2026-11-23T21:40:00+01:00")


#: A moment in time, ISO 8601 with a zone.
Moment = Annotated[AwareDatetime, BeforeValidator(_iso_text)]


def exercise_scope(
    exercise: Annotated[
        str | None,
        Query(
            description="false (the default): real subjects only; true: exercises only; all: both",
        ),
    ] = None,
) -> ExerciseScope:
    """``exercise=`` as every route reads it (domain/exercise.py); anything else is refused
    with its reason rather than guessed."""
    try:
        return ExerciseScope.parse(exercise)
    except ValueError:
        raise ApiError(422, "invalid_exercise", SOURCE, value=str(exercise)[:20]) from None


#: The ``exercise=`` query parameter of every list and read-model route.
Exercise = Annotated[ExerciseScope, Depends(exercise_scope)]


#: The highest event position a store can hold (a signed 64-bit integer in both stores): a
#: larger ``after`` or ``min_position`` is refused (422) rather than overflowing the query.
MAX_POSITION = 2**63 - 1

#: An event position the caller names (``after=``): every event after it.
After = Annotated[int, Query(ge=0, le=MAX_POSITION, description="events after this position")]

#: ``min_position=``: wait until the projections have processed this event position.
MinPosition = Annotated[
    int | None,
    Query(
        ge=0,
        le=MAX_POSITION,
        description="wait until the projections have processed this event position",
    ),
]
