"""The event index: one row per event, written in the same transaction as the event.

History queries, filtered feeds, time travel by ``occurred_at`` and tamper evidence read this
table instead of decoding every event. A row reads back as the recorded event without the
event itself (:class:`domain.recorded.LoggedEvent`, ``event`` None): the one shape of a
recorded event; the chain's readers get its hash beside it (:class:`IndexRecord`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from domain.recorded import LoggedEvent


class DuplicateMessage(Exception):
    """A message id in this append was recorded before (checked under the write lock)."""

    def __init__(self, message_ids: list[str]) -> None:
        super().__init__(f"message ids recorded before: {', '.join(message_ids)}")
        self.message_ids = message_ids


def from_row(row: Mapping[str, Any]) -> LoggedEvent:
    """An index row as read back (times in UTC; SQLite keeps them as text, and the regions as
    space-separated text)."""
    occurred_at, recorded_at = row["occurred_at"], row["recorded_at"]
    if isinstance(occurred_at, datetime):
        occurred_at = occurred_at.astimezone(UTC)
    else:
        occurred_at = datetime.fromisoformat(str(occurred_at).replace("Z", "+00:00"))
    if isinstance(recorded_at, datetime):
        recorded_at = recorded_at.astimezone(UTC)
    else:
        recorded_at = datetime.fromisoformat(str(recorded_at).replace("Z", "+00:00"))
    regions = row["regions"]
    if isinstance(regions, str):
        regions = regions.split()
    stream_id = row["stream_id"]
    return LoggedEvent(
        position=int(row["position"]),
        stream_id=stream_id if isinstance(stream_id, UUID) else UUID(str(stream_id)),
        version=int(row["version"]),
        event_type=row["event_type"],
        occurred_at=occurred_at,
        recorded_at=recorded_at,
        actor_org=row["actor_org"],
        actor_role=row["actor_role"],
        actor_person=row["actor_person"],
        authority=row["authority"],
        regions=tuple(regions),
        classification=row["classification"],
        exercise=bool(row["exercise"]),
        message_id=row["message_id"],
        correlation_id=row["correlation_id"],
        causation_id=row["causation_id"],
    )


@dataclass(frozen=True)
class IndexRecord:
    """One row of the event index with its chain hash, as the chain's readers see it."""

    entry: LoggedEvent
    hash: bytes

    @property
    def position(self) -> int:
        return self.entry.position

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> IndexRecord:
        return cls(from_row(row), bytes(row["hash"]))
