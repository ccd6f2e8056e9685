"""The hash chain over the event index: tamper evidence for auditors.

Each index row's hash is ``SHA-256(previous_hash || canonical_bytes(row, state))`` where the
previous hash of the first row is 32 zero bytes, and the canonical bytes are the UTF-8 JSON
(keys sorted, no spaces, as ``orjson`` writes it with ``OPT_SORT_KEYS``) of::

    {"actor_org", "actor_person", "actor_role", "authority", "causation_id", "classification",
     "correlation_id", "event_type", "exercise", "message_id", "occurred_at", "position",
     "recorded_at", "regions", "state_sha256", "stream_id", "version"}

with timestamps as ISO 8601 in UTC with microseconds and a ``Z`` (``2026-11-23T10:00:00.000000Z``),
``stream_id`` as the UUID's 32 lowercase hex digits, ``regions`` as a sorted list,
``authority`` as its JSON text (or null), and ``state_sha256`` the lowercase hex SHA-256 of the
stored event's state bytes. docs/hash-chain.md shows how to verify an export without mlob.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

GENESIS = bytes(32)


def utc_text(moment: datetime) -> str:
    """The one text form of a timestamp that goes into hashes and SQLite columns."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sortable_text(moment: datetime) -> str:
    """``utc_text`` with the year always four digits (strftime writes year 999 as ``999``,
    which sorts after ``2026``): the text that time comparisons use."""
    utc = moment.astimezone(UTC)
    return f"{utc.year:04d}-" + utc.strftime("%m-%dT%H:%M:%S.%fZ")


def canonical_bytes(row: Mapping[str, Any], state: bytes) -> bytes:
    doc = {
        "position": row["position"],
        "stream_id": row["stream_id"],
        "version": row["version"],
        "event_type": row["event_type"],
        "occurred_at": row["occurred_at"],
        "recorded_at": row["recorded_at"],
        "actor_org": row["actor_org"],
        "actor_role": row["actor_role"],
        "actor_person": row["actor_person"],
        "authority": row["authority"],
        "regions": sorted(row["regions"]),
        "classification": row["classification"],
        "exercise": bool(row["exercise"]),
        "message_id": row["message_id"],
        "correlation_id": row["correlation_id"],
        "causation_id": row["causation_id"],
        "state_sha256": hashlib.sha256(state).hexdigest(),
    }
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)


def link(previous: bytes, row: Mapping[str, Any], state: bytes) -> bytes:
    """The hash of ``row`` chained to ``previous``."""
    return hashlib.sha256(previous + canonical_bytes(row, state)).digest()
