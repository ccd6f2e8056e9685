"""Recorded events as JSON, the same in the history, timelines and the live feed."""

from decimal import Decimal
from functools import partial
from typing import Any

import orjson

from api.ports import LoggedEvent

#: Not data of the step: the envelope's own fields, a token's secret hash (never shown), and a
#: creation's ``originator_topic`` (the aggregate's stored topic: answers name API types only).
_ENVELOPE_FIELDS = frozenset(
    {
        "originator_id",
        "originator_version",
        "timestamp",
        "envelope",
        "secret_hash",
        "originator_topic",
    }
)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(type(value).__name__)


#: A value as the JSON bytes every answer writes: a partial, not a function of its own, so the
#: live feed's rendering of every event (api/feed.py ``routed``) runs no Python frame for it.
to_json = partial(orjson.dumps, default=_default, option=orjson.OPT_NON_STR_KEYS)


def dumps(value: Any) -> str:
    """A value as JSON text (:data:`to_json`, decoded)."""
    return to_json(value).decode()


def event_body(e: LoggedEvent) -> dict[str, Any]:
    """An event with its full envelope: who, on whose authority, when (occurred, recorded)."""
    return {
        "position": e.position,
        "stream_id": e.stream_id,
        "version": e.version,
        "type": e.api_type,  # never the stored topic (domain/vocabulary.py)
        "occurred_at": e.occurred_at,
        "recorded_at": e.recorded_at,
        "actor": {"org": e.actor_org, "role": e.actor_role, "person": e.actor_person},
        "authority": orjson.loads(e.authority) if e.authority else None,
        "regions": e.regions,
        "classification": e.classification,
        "exercise": e.exercise,
        "message_id": e.message_id,
        "correlation_id": e.correlation_id,
        "causation_id": e.causation_id,
        "data": {k: v for k, v in vars(e.event).items() if k not in _ENVELOPE_FIELDS},
    }
