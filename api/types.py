"""Input types shared by the entry points: strict, so that what a client meant is never guessed."""

from datetime import datetime
from typing import Annotated, Any, cast

from fastapi import Depends, Query
from pydantic import AwareDatetime, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from api.errors import ApiError
from domain.exercise import SOURCE, ExerciseScope

#: Why a moment was refused before it was parsed.
MOMENT_TEXT = "a moment is ISO 8601 text with a zone, e.g. 2026-11-23T21:40:00+01:00"


class _IsoText:
    """A moment is ISO 8601 text with a zone (or a ``datetime`` from Python code): a number,
    or text without a time of day (``as_of=0.5``, ``"1700000000"``), is not taken as seconds
    since 1970, which is never what a crisis-centre client means. Checked by pydantic-core
    before the moment is parsed (no Python runs per value: a post validates one per item): text
    must hold a ``:`` (every time of day and zone does), else error ``moment_text``."""

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        moment = handler(source)
        form = core_schema.union_schema(
            [
                core_schema.is_instance_schema(datetime),
                core_schema.str_schema(pattern=":", strict=True),
            ],
            custom_error_type="moment_text",
            custom_error_message=f"Value error, {MOMENT_TEXT}",
            mode="left_to_right",
        )
        return core_schema.chain_schema([form, moment])

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return handler(cast(core_schema.ChainSchema, schema)["steps"][1])  # the moment's


#: A moment in time, ISO 8601 with a zone.
Moment = Annotated[AwareDatetime, _IsoText]


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
