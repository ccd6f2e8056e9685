"""orjson serialisation of event state that keeps Python types across the round trip.

UUID, datetime, date, Decimal, tuples, enums and dataclass value objects are written as
``{"_type_": name, "_data_": ...}`` so they come back as the same types. Enums and dataclasses
are named by their explicit ``TOPIC``, never by module path, so a rename keeps history readable.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Transcoder
from eventsourcing.utils import get_topic

from domain.stored import STORED_TYPES

_TAG = "_type_"
_DATA = "_data_"


def _topic(cls: type) -> str:
    if "TOPIC" not in cls.__dict__:
        msg = f"{cls.__qualname__} needs an explicit TOPIC to be stored"
        raise TypeError(msg)
    topic = _topics[cls] = get_topic(cls)
    return topic


#: Each stored value type's topic, once checked (encoding is hot: a post encodes a few).
_topics: dict[type, str] = {}


#: Types written as they are (exactly these: a subclass, an enum say, takes the long way).
_PLAIN = frozenset({str, bool, int, float, type(None)})
#: Each stored dataclass type's field names, once looked up (``dataclasses.fields`` filters
#: the class's fields anew on every call).
_field_names: dict[type, tuple[str, ...]] = {}


def _encode(obj: Any) -> Any:
    # The exact types first, by one look-up each: every posted event's state is encoded on the
    # write path, its values mostly text, numbers, the envelope and its actor (5-9 % of the
    # server's CPU per event, bench/write_cpu.py; the bytes are the same as the isinstance
    # chain below writes).
    kind = type(obj)
    if kind in _PLAIN:
        return obj
    if kind is dict:
        return {str(k): _encode(v) for k, v in obj.items()}
    names = _field_names.get(kind)
    if names is not None:
        fields = {name: _encode(getattr(obj, name)) for name in names}
        return {_TAG: "object", _DATA: [_topics[kind], fields]}
    if obj is None or (isinstance(obj, (str, bool, int, float)) and not isinstance(obj, Enum)):
        return obj
    if isinstance(obj, dict):
        return {str(k): _encode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_encode(v) for v in obj]
    if isinstance(obj, tuple):
        return {_TAG: "tuple", _DATA: [_encode(v) for v in obj]}
    if isinstance(obj, UUID):
        return {_TAG: "uuid", _DATA: obj.hex}
    if isinstance(obj, datetime):
        return {_TAG: "datetime", _DATA: obj.isoformat()}
    if isinstance(obj, date):
        return {_TAG: "date", _DATA: obj.isoformat()}
    if isinstance(obj, Decimal):
        return {_TAG: "decimal", _DATA: str(obj)}
    if isinstance(obj, Enum):
        return {_TAG: "enum", _DATA: [_topics.get(kind) or _topic(kind), obj.value]}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        topic = _topics.get(kind) or _topic(kind)
        _field_names[kind] = tuple(f.name for f in dataclasses.fields(obj))
        fields = {name: _encode(getattr(obj, name)) for name in _field_names[kind]}
        return {_TAG: "object", _DATA: [topic, fields]}
    msg = f"Object of type {type(obj).__qualname__} cannot be stored"
    raise TypeError(msg)


def stored_type(topic: Any, kind: str) -> type:
    """The stored value type ``topic`` names (an enum or a dataclass, by ``kind``): only the
    registered ones (domain.stored), so stored data can never name a callable to be run."""
    cls = _checked.get((topic, kind)) if isinstance(topic, str) else None
    if cls is None:
        cls = STORED_TYPES.get(topic) if isinstance(topic, str) else None
        if cls is None or not (
            issubclass(cls, Enum) if kind == "enum" else dataclasses.is_dataclass(cls)
        ):
            msg = f"not a stored {kind} type: {topic!r}"
            raise ValueError(msg)
        _checked[(topic, kind)] = cls  # decoding is hot: check each type once
    return cls


#: (topic, kind) -> the type, once checked.
_checked: dict[tuple[str, str], type] = {}


def _decode(obj: Any) -> Any:
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if len(obj) == 2 and _TAG in obj and _DATA in obj:
        kind, data = obj[_TAG], obj[_DATA]
        if kind == "tuple":
            return tuple(_decode(v) for v in data)
        if kind == "uuid":
            return UUID(data)
        if kind == "datetime":
            return datetime.fromisoformat(data)
        if kind == "date":
            return date.fromisoformat(data)
        if kind == "decimal":
            return Decimal(data)
        if kind == "enum":
            topic, value = data
            return stored_type(topic, "enum")(value)
        if kind == "object":
            topic, fields = data
            return stored_type(topic, "object")(**{k: _decode(v) for k, v in fields.items()})
    return {k: _decode(v) for k, v in obj.items()}


class OrjsonTranscoder(Transcoder):
    """Event state to bytes and back, with types preserved."""

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(_encode(obj))

    def decode(self, data: bytes) -> Any:
        return _decode(orjson.loads(data))
