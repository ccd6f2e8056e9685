"""Several nodes on one store (issue 19): clients that send no ``expected_version`` get from two
server processes the answers one process gives — a version conflict with another process is
retried inside the server on fresh state, never answered as 409. Two applications (each with its
own group writer and cache, as two processes have) on one PostgreSQL schema, posting steps on
the same incidents from several threads."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from api.ports import Principal
from api.posting import Item, plan
from domain.envelope import Classification
from domain.errors import DomainError
from mlob.service import Service
from mlob.write.application import MlobApplication
from tests.conftest import postgres_config

pytestmark = pytest.mark.postgres

VR08 = Principal(org="VR08", role="operator", clearance=Classification.UNCLASSIFIED)


def step(type_: str, subject: UUID, data: dict[str, Any]) -> Item:
    return Item.model_validate(
        {
            "type": type_,
            "subject": str(subject),
            "message_id": str(uuid4()),
            "occurred_at": datetime.now(UTC).isoformat(),
            "data": data,
        }
    )


def test_two_nodes_answer_contended_posts_without_version_conflicts(pg_schema: str) -> None:
    config = postgres_config(pg_schema)  # (one SQLite file is one process's store)
    nodes = [Service(MlobApplication(config)) for _ in range(2)]
    incidents = [uuid4() for _ in range(2)]
    for subject in incidents:
        nodes[0].post(
            plan(
                VR08,
                [
                    step(
                        "incident.opened",
                        subject,
                        {"title": "dyke", "regions": ["VR08"], "grip": "1"},
                    )
                ],
            )
        )
    refusals: list[str] = []
    posted: list[int] = []
    per_thread = 30

    def client(node: Service, number: int) -> None:
        for i in range(per_thread):
            subject = incidents[(number + i) % len(incidents)]
            item = step("incident.situation_reported", subject, {"summary": f"report {number}/{i}"})
            try:
                receipt = node.post(plan(VR08, [item]))
            except DomainError as refusal:
                refusals.append(refusal.code)
            else:
                posted.append(len(receipt.events))

    threads = [threading.Thread(target=client, args=(nodes[n % 2], n)) for n in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert refusals == [], f"{len(refusals)} refused: {sorted(set(refusals))}"
        assert len(posted) == 8 * per_thread
        versions = [len(list(nodes[1].app.events_of(subject))) for subject in incidents]
        assert sum(versions) == 2 + 8 * per_thread  # every step recorded once
    finally:
        for node in nodes:
            node.close()
            node.app.close()
