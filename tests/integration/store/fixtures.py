"""A small test aggregate that exercises the store without depending on the domain's rules."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from domain.base import MlobAggregate
from domain.envelope import Actor, Authority, Classification, Envelope, SigningCapacity


class Ledger(MlobAggregate):
    TOPIC = "test:Ledger"

    class Created(MlobAggregate.Created):
        TOPIC = "test:Ledger.Created"
        region: str

    class Opened(Created):
        TOPIC = "test:Ledger.Opened"

    class Voided(MlobAggregate.Voided):
        TOPIC = "test:Ledger.Voided"

    class Entered(MlobAggregate.Event):
        TOPIC = "test:Ledger.Entered"
        amount: Decimal
        ref: UUID
        due: datetime
        tags: tuple[str, ...]

        def apply(self, aggregate: Any) -> None:
            aggregate.total += self.amount

    def __init__(self, region: str) -> None:
        self.region = region
        self.total = Decimal(0)

    def regions_concerned(self) -> tuple[str, ...]:
        return (self.region,)

    @classmethod
    def open(cls, envelope: Envelope, region: str, subject: UUID | None = None) -> Ledger:
        return cls._create(cls.Opened, id=subject or uuid4(), envelope=envelope, region=region)

    def enter(self, envelope: Envelope, amount: Decimal) -> None:
        self.emit(
            self.Entered,
            envelope,
            amount=amount,
            ref=uuid4(),
            due=datetime(2026, 11, 24, 8, 30, tzinfo=UTC),
            tags=("a", "b"),
        )


def envelope(message_id: str | None = None, **overrides: Any) -> Envelope:
    fields: dict[str, Any] = {
        "actor": Actor(org="VR08", role="operator", person="J. de Vries"),
        "occurred_at": datetime.now(UTC),
        "message_id": message_id or str(uuid4()),
        "authority": Authority(
            body="chair_safety_region", of="VR08", capacity=SigningCapacity.ON_BEHALF_OF
        ),
        "exercise": False,
        "classification": Classification.UNCLASSIFIED,
        "correlation_id": "corr-1",
        "causation_id": None,
    }
    fields.update(overrides)
    return Envelope(**fields)
