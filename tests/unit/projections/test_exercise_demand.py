"""Exercises use real equipment (issue 18, point 10).

Source: ../shared/domain.md, §Settled questions: "Exercise or real is decided when a subject is
created and holds for all its steps. An exercise may use real equipment: the real overview
then shows it as committed to an exercise." And §Kinds (J&V assets, factsheet-bijstand-politie
§2): a water cannon may be asked for an exercise, which needs no authority statement. Exercise
demand is not real demand: it is never a real shortage nor ranked against real requests.
"""

from __future__ import annotations

from uuid import uuid4

from domain.exercise import ExerciseScope
from domain.kinds import RequestKind as K
from domain.request import AssistanceRequest
from domain.services import commit
from projections import readmodels as rm
from projections.specs import capacity_row, request_row
from tests.unit.domain.catalogue import CAP
from tests.unit.domain.helpers import capacity, env, granted, line, mayor, submitted, through_hub

CANNON = CAP["water_cannon"]


def cannon_request(exercise: bool, quantity: int) -> AssistanceRequest:
    """POL-ON asks LOCC for water cannons (an exercise without an authority statement)."""
    authority = None if exercise else mayor("Nijmegen")
    request = submitted("POL-ON", K.JV_ASSET, authority, line(CANNON, quantity), exercise=exercise)
    return through_hub(request, "LOCC", to=("IFV",))


def test_an_exercise_holds_a_real_water_cannon_and_its_demand_is_not_real_demand() -> None:
    drill = granted(cannon_request(exercise=True, quantity=2), "LOCC")
    real = cannon_request(exercise=False, quantity=2)  # forwarded: its demand is open
    cannons = capacity("IFV", CANNON, 3)
    commit(env("IFV", exercise=True), drill, cannons, line_id="L1", quantity=1, booking_id=uuid4())
    capacities = [capacity_row(cannons)]
    drill_row, real_row = request_row(drill), request_row(real)

    # The real overview: the cannon held by the exercise is committed, for an exercise, and
    # not available for real requests.
    [shown] = rm.capacity_overview(capacities, [real_row])["capabilities"]
    assert (shown["available"], shown["committed"], shown["for_exercise"]) == (2, 1, 1)
    assert (shown["open_demand"], shown["shortage"]) == (2, 0)

    # Both together: the exercise's open demand (1 more) is shown apart, never a shortage.
    both = rm.capacity_overview(capacities, [real_row, drill_row], ExerciseScope.ALL)
    [shown] = both["capabilities"]
    assert (shown["open_demand"], shown["exercise_demand"], shown["shortage"]) == (2, 1, 0)
    assert both["shortages"] == []
    advice = rm.scarcity(capacities, [real_row, drill_row], [], ExerciseScope.ALL)
    assert advice["capabilities"] == []  # the exercise does not compete with the real request

    # Shown alone, the exercises' own demand is the demand of that picture.
    [alone] = rm.capacity_overview([], [drill_row], ExerciseScope.EXERCISE)["capabilities"]
    assert (alone["open_demand"], alone["exercise_demand"]) == (1, 0)
