"""The event index: one row per event, written in the same transaction as the event.

History queries, filtered feeds, time travel by ``occurred_at`` and tamper evidence read this
table instead of decoding every event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from mlob.store.chain import utc_text


class DuplicateMessage(Exception):
    """A message id in this append was recorded before (checked under the write lock)."""

    def __init__(self, message_ids: list[str]) -> None:
        super().__init__(f"message ids recorded before: {', '.join(message_ids)}")
        self.message_ids = message_ids


@dataclass(frozen=True)
class IndexEntry:
    """What the application knows of an event before the store gives it a position."""

    stream_id: UUID
    version: int
    event_type: str
    occurred_at: datetime
    recorded_at: datetime
    actor_org: str
    actor_role: str
    actor_person: str | None
    authority: str | None  # JSON text of the Authority, or None
    regions: tuple[str, ...]
    classification: str
    exercise: bool
    message_id: str
    correlation_id: str | None
    causation_id: str | None

    def hash_fields(self, position: int) -> dict[str, Any]:
        """The row as the hash chain sees it (see :mod:`mlob.store.chain`)."""
        return {
            "position": position,
            "stream_id": self.stream_id.hex,
            "version": self.version,
            "event_type": self.event_type,
            "occurred_at": utc_text(self.occurred_at),
            "recorded_at": utc_text(self.recorded_at),
            "actor_org": self.actor_org,
            "actor_role": self.actor_role,
            "actor_person": self.actor_person,
            "authority": self.authority,
            "regions": sorted(self.regions),
            "classification": self.classification,
            "exercise": self.exercise,
            "message_id": self.message_id,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
        }


@dataclass(frozen=True)
class IndexRecord:
    """One row of the event index as read back: the entry, its position and its chain hash."""

    position: int
    entry: IndexEntry
    hash: bytes

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> IndexRecord:
        def moment(value: Any) -> datetime:
            if isinstance(value, datetime):
                return value.astimezone(UTC)
            return datetime.fromisoformat(str(value).replace("Z", "+00:00"))

        regions = row["regions"]
        if isinstance(regions, str):  # SQLite keeps them as space-separated text
            regions = regions.split()
        stream_id = row["stream_id"]
        entry = IndexEntry(
            stream_id=stream_id if isinstance(stream_id, UUID) else UUID(str(stream_id)),
            version=int(row["version"]),
            event_type=row["event_type"],
            occurred_at=moment(row["occurred_at"]),
            recorded_at=moment(row["recorded_at"]),
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
        return cls(position=int(row["position"]), entry=entry, hash=bytes(row["hash"]))
