"""Sample data of every postable type, from the one place that has it: the type's example
(``api/commands.py``, published by ``GET /v1/event-types`` and the OpenAPI document).

Tests take their data from here, so a new type is covered without editing them. What a test
needs beyond the example (the capacity it registered, a booking its request holds, a line) it
puts in by field name, never per type: :func:`sample` replaces the fields the example has.
"""

from __future__ import annotations

import copy
from typing import Any

from api.commands import REGISTRY


def sample(type_name: str, **context: Any) -> dict[str, Any]:
    """A copy of ``type_name``'s example, each field it has that ``context`` names replaced
    (``capacity_id=...``: only the types whose data names a capacity take it) where the value
    is of the example's JSON type (``to="LOCC"`` replaces the one addressee of
    ``request.informed``, not the list of ``request.forwarded``)."""
    data: dict[str, Any] = copy.deepcopy(dict(REGISTRY[type_name].example))
    for key, value in context.items():
        if key in data and type(value) is type(data[key]):
            data[key] = value
    return data
