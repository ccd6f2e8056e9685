"""An aggregate's state as JSON and back, losslessly, for the picture checkpoints
(mlob/read/pictures.py).

The event transcoder writes dict keys as strings, which is right for event data but not for
aggregate state (``Capacity.bookings`` is keyed by UUID); and state holds sets and frozen
dataclasses with such dicts inside. This codec keeps every container type, delegating the leaf
values (UUID, datetime, enums, decimals) to the transcoder's tags. Plain JSON, never pickle: a
checkpoint read back from a tampered database must not be able to run code.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from domain.base import MlobAggregate
from mlob.store.transcoder import _DATA, _TAG, _decode, _encode, _topic, stored_type

A = TypeVar("A", bound=MlobAggregate)

#: Attributes that are not state: events triggered but not yet saved (always none here).
_TRANSIENT = frozenset({"_pending_events"})


def _enc(obj: Any) -> Any:
    if isinstance(obj, dict):
        if all(type(k) is str for k in obj):
            return {k: _enc(v) for k, v in obj.items()}
        return {_TAG: "map", _DATA: [[_enc(k), _enc(v)] for k, v in obj.items()]}
    if isinstance(obj, list):
        return [_enc(v) for v in obj]
    if isinstance(obj, tuple):
        return {_TAG: "tuple", _DATA: [_enc(v) for v in obj]}
    if isinstance(obj, (set, frozenset)):
        return {_TAG: type(obj).__name__, _DATA: [_enc(v) for v in obj]}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = {f.name: _enc(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        return {_TAG: "object", _DATA: [_topic(type(obj)), fields]}
    return _encode(obj)


def _dec(obj: Any) -> Any:
    if isinstance(obj, list):
        return [_dec(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if len(obj) == 2 and _TAG in obj and _DATA in obj:
        kind, data = obj[_TAG], obj[_DATA]
        if kind == "map":
            return {_dec(k): _dec(v) for k, v in data}
        if kind == "tuple":
            return tuple(_dec(v) for v in data)
        if kind == "set":
            return {_dec(v) for v in data}
        if kind == "frozenset":
            return frozenset(_dec(v) for v in data)
        if kind == "object":
            topic, fields = data
            return stored_type(topic, "object")(**{k: _dec(v) for k, v in fields.items()})
        return _decode(obj)
    return {k: _dec(v) for k, v in obj.items()}


def encode_state(aggregate: MlobAggregate) -> dict[str, Any]:
    """The aggregate's attributes as JSON-ready values."""
    return {k: _enc(v) for k, v in vars(aggregate).items() if k not in _TRANSIENT}


def decode_state(cls: type[A], state: dict[str, Any], undo: bool = True) -> A:
    """An aggregate of ``cls`` with exactly the encoded attributes (as the library's own
    snapshots do: no ``__init__``, the state is set directly). ``undo=False`` leaves out the
    state remembered for voiding the latest step: only a ``Voided`` event reads it, every
    other event replaces or drops it — and it is as big as the rest of the state."""
    aggregate = object.__new__(cls)
    vars(aggregate).update({k: _dec(v) for k, v in state.items() if undo or k != "_undo"})
    vars(aggregate)["_pending_events"] = []
    return aggregate
