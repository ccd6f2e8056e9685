"""Explicit, stable names for the value types stored inside events.

Stored history names a type by its ``TOPIC``, never by module path, so renaming or moving a
class never breaks what was recorded. The store registers every type in :data:`STORED_TYPES`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T", bound=type)

STORED_TYPES: dict[str, type] = {}


def stored_as(topic: str) -> Callable[[T], T]:
    def register(cls: T) -> T:
        if topic in STORED_TYPES and STORED_TYPES[topic] is not cls:
            msg = f"topic {topic!r} already names {STORED_TYPES[topic].__qualname__}"
            raise TypeError(msg)
        # setattr works on enums too, where a class-body TOPIC would become a member
        setattr(cls, "TOPIC", topic)  # noqa: B010
        STORED_TYPES[topic] = cls
        return cls

    return register
