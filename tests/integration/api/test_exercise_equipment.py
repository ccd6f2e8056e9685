"""Exercises use real equipment (issue 18, point 10), through the API on both stores.

Source: ../shared/domain.md, §Settled questions: "Exercise or real is decided when a subject is
created and holds for all its steps. An exercise may use real equipment: the real overview
then shows it as committed to an exercise." Exercise demand is never real demand: not in the
real open demand, no shortage, not ranked against real requests in the scarcity advice.
"""

from __future__ import annotations

from uuid import uuid4

from tests.integration.api.conftest import Api, chair, fire_request, item
from tests.integration.api.test_exercise import approved, commit, get, ok, registered


def test_an_exercise_on_real_equipment_is_committed_for_it_and_never_real_demand(api: Api) -> None:
    drill = approved(api, exercise=True)  # 2 pumps granted
    capacity = registered(api, exercise=False, quantity=3)
    ok(api, "VR07", commit(drill, capacity, True, quantity=1))  # 1 more still to commit
    real = uuid4()  # a real request for 2 pumps, submitted: its demand is open
    ok(api, "VR08", fire_request(real))
    ok(api, "VR08", item("request.submitted", real, authority=chair("VR08")))

    def pumps(exercise: str) -> dict[str, int]:
        overview = get(api, "/v1/capacity-overview", exercise=exercise)
        found = next(c for c in overview["capabilities"] if c["capability"] == "FIRE_WATER_SUPPLY")
        keys = ("available", "committed", "for_exercise", "open_demand", "shortage")
        return {k: found.get(k) for k in (*keys, "exercise_demand")}

    # Both: real demand (2) fits what is available (2); the exercise's (1) is shown apart
    # (before issue 18: open demand 3, a shortage of 1, and the exercise ranked for it).
    both = pumps("all")
    assert (both["open_demand"], both["shortage"], both["exercise_demand"]) == (2, 0, 1)
    assert get(api, "/v1/scarcity", exercise="all")["capabilities"] == []
    # The real overview: the pump held by the exercise is committed to it, not available.
    assert pumps("false") == {
        "available": 2,
        "committed": 1,
        "for_exercise": 1,
        "open_demand": 2,
        "shortage": 0,
        "exercise_demand": 0,
    }
    assert both == {**pumps("false"), "exercise_demand": 1}
    # Exercises alone: their own demand is that picture's demand.
    alone = pumps("true")
    assert (alone["open_demand"], alone["exercise_demand"]) == (1, 0)
