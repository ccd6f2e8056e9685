"""The hash chain over the event index: tamper evidence for auditors.

Each index row's hash is ``SHA-256(previous_hash || canonical_bytes(row, event, format))``
(:func:`link`) where the previous hash of the first row is 32 zero bytes, and the canonical
bytes are the UTF-8 JSON (keys sorted, no spaces, as ``orjson`` writes it with
``OPT_SORT_KEYS``) of::

    {"actor_org", "actor_person", "actor_role", "authority", "causation_id", "classification",
     "correlation_id", "event_type", "exercise", "message_id", "occurred_at", "position",
     "recorded_at", "regions", "state_sha256", "stream_id", "version"}

with timestamps as ISO 8601 in UTC with microseconds and a ``Z`` (``2026-11-23T10:00:00.000000Z``),
``stream_id`` as the UUID's 32 lowercase hex digits, ``regions`` as a sorted list,
``authority`` as its JSON text (or null), and ``state_sha256`` the lowercase hex SHA-256 of the
stored event's state bytes. That is chain format 1 (72956bf). Format 2, in which every row is
written since, adds the stored event's own columns — ``"format": 2``, ``"originator_id"`` (32
lowercase hex digits, as stored), ``"originator_version"`` and ``"topic"`` — so that rewriting
the events table's topic or originator (a token's ``Revoked`` made something else) breaks the
link too. A store from before format 2 keeps its format-1 rows; the position after which the
chain is in format 2 is recorded once, in the *chain format switch* (``mlob_chain_formats``,
written by migration 0002, signed like a checkpoint: mlob/audit/tamper.py). docs/hash-chain.md shows
how to verify a store without mlob.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson

from domain.recorded import LoggedEvent

GENESIS = bytes(32)
#: The chain format of 72956bf: the index row and the digest of the event's state.
FORMAT_1 = 1
#: Every stored column that carries meaning: the index row and the stored event's originator
#: id, version, topic and state. Every row is written in it.
FORMAT_2 = 2
#: The format new rows are written in.
FORMAT = FORMAT_2


#: The one text form of a timestamp that goes into hashes and SQLite columns, in UTC (the
#: format of :func:`utc_text`, which the append's hot loops write out without its call).
UTC_TEXT = "%Y-%m-%dT%H:%M:%S.%fZ"


def utc_text(moment: datetime) -> str:
    """The one text form of a timestamp that goes into hashes and SQLite columns."""
    return moment.astimezone(UTC).strftime(UTC_TEXT)


def sortable_text(moment: datetime) -> str:
    """``utc_text`` with the year always four digits (strftime writes year 999 as ``999``,
    which sorts after ``2026``): the text that time comparisons use."""
    utc = moment.astimezone(UTC)
    return f"{utc.year:04d}-" + utc.strftime("%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class EventColumns:
    """The stored event's columns as the chain sees them (``originator_id`` None: the index
    row has no event)."""

    originator_id: str | None  # 32 lowercase hex digits (SQLite: the text as stored)
    originator_version: int | None
    topic: str | None
    state: bytes

    @classmethod
    def of(cls, originator_id: Any, version: Any, topic: Any, state: Any) -> EventColumns:
        """From the values a store gives (a UUID or its text, bytes or a memoryview)."""
        if isinstance(originator_id, UUID):
            originator_id = originator_id.hex
        return cls(originator_id, version, topic, bytes(state) if state is not None else b"")


def link(previous: bytes, row: LoggedEvent, event: EventColumns, format: int = FORMAT) -> bytes:
    """The hash of the index ``row`` (at its position) with its stored ``event``, chained to
    ``previous``, in chain ``format``: SHA-256 over ``previous`` and the row's canonical
    bytes (the module docstring)."""
    doc = {
        "position": row.position,
        "stream_id": row.stream_id.hex,
        "version": row.version,
        "event_type": row.event_type,
        "occurred_at": row.occurred_at.astimezone(UTC).strftime(UTC_TEXT),  # utc_text's
        "recorded_at": row.recorded_at.astimezone(UTC).strftime(UTC_TEXT),
        "actor_org": row.actor_org,
        "actor_role": row.actor_role,
        "actor_person": row.actor_person,
        "authority": row.authority,
        "regions": sorted(row.regions),
        "classification": row.classification,
        "exercise": row.exercise,
        "message_id": row.message_id,
        "correlation_id": row.correlation_id,
        "causation_id": row.causation_id,
        "state_sha256": hashlib.sha256(event.state).hexdigest(),
    }
    if format == FORMAT_2:
        doc["format"] = FORMAT_2
        doc["originator_id"] = event.originator_id
        doc["originator_version"] = event.originator_version
        doc["topic"] = event.topic
    elif format != FORMAT_1:
        raise ValueError(f"no chain format {format!r}")
    return hashlib.sha256(previous + orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)).digest()


def format_at(position: int, switch: int) -> int:
    """The chain format of the row at ``position`` when the chain switched to format 2 after
    position ``switch`` (0: a store that was always in format 2)."""
    return FORMAT_1 if position <= switch else FORMAT_2


def disagreement(row: LoggedEvent, event: EventColumns) -> str:
    """What of the stored event disagrees with its index row ("" if nothing). Format 1 does
    not hash the event's own columns but hashes the row's stream, version and event type,
    which the event must repeat: so a rewritten topic or originator shows in format 1 too."""
    if event.originator_id is None:
        return "its event is missing from the events table"
    for column, key, value in (
        ("originator_id", "stream_id", row.stream_id.hex),
        ("originator_version", "version", row.version),
        ("topic", "event_type", row.event_type),
    ):
        if getattr(event, column) != value:
            return f"its event's {column} is not the row's {key}"
    return ""
