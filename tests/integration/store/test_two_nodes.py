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
from api.post_events import Item, plan
from domain.envelope import Classification
from domain.errors import DomainError
from mlob.service import Service
from mlob.write.application import MlobApplication
from tests.conftest import pg_connect, postgres_config

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


def test_a_group_that_loses_on_fresh_state_runs_again_under_the_write_lock(
    pg_schema: str,
) -> None:
    """The stall of issue 19: a node whose run on fresh state was slower than the other node's
    commits lost every run to them (then each append alone, again and again) and answered
    nothing for as long as the other node kept committing. Here the other node commits a step
    on the same incident every time this node has read it, before this node commits. This
    node's optimistic run conflicts (its cached incident is stale), its run on fresh state
    loses too; the next holds the store's write lock from its read to its commit, the other
    node's commit waits for it, and both nodes' posts are recorded."""
    config = postgres_config(pg_schema)
    slow, quick = Service(MlobApplication(config)), Service(MlobApplication(config))
    incident = uuid4()
    opened = {"title": "dyke", "regions": ["VR08"], "grip": "1"}
    slow.post(plan(VR08, [step("incident.opened", incident, opened)]))
    quick.post(plan(VR08, [step("incident.situation_reported", incident, {"summary": "0"})]))
    recorder: Any = slow.app.recorder
    prefetch = recorder.prefetch
    reads: list[int] = []
    outcomes: list[object] = []

    def lock_waits() -> int:
        with pg_connect(pg_schema) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = %s::regclass",
                (f'"{pg_schema}".{recorder.events_table_name}',),
            ).fetchone()
            return int(row[0]) if row else 0

    def quick_post() -> None:
        item = step("incident.situation_reported", incident, {"summary": str(len(reads))})
        try:
            outcomes.append(quick.post(plan(VR08, [item])))
        except Exception as exc:  # the assertion below names it
            outcomes.append(exc)

    def read_then_lose(*args: Any, **kwargs: Any) -> Any:
        """The slow node's read; then the other node commits on the same incident (or, if
        this node holds the write lock, waits for it)."""
        found = prefetch(*args, **kwargs)
        reads.append(len(found[1]))
        other = threading.Thread(target=quick_post)
        other.start()
        for _ in range(3000):  # until it committed, or waits for this node's lock
            other.join(timeout=0.01)
            if not other.is_alive() or lock_waits():
                break
        waiting.append(other)
        return found

    waiting: list[threading.Thread] = []
    recorder.prefetch = read_then_lose
    try:
        item = step("incident.situation_reported", incident, {"summary": "slow"})
        receipt = slow.post(plan(VR08, [item]))
        assert len(receipt.events) == 1
        for thread in waiting:
            thread.join(timeout=30)
        assert all(not isinstance(o, Exception) for o in outcomes), outcomes
        assert len(reads) == 2  # one run on fresh state lost; the next, locked, committed
        assert recorder.locked_appends == 1
        steps = list(slow.app.events_of(incident))
        assert len(steps) == 2 + 1 + len(outcomes)  # every step of both nodes recorded once
    finally:
        for node in (slow, quick):
            node.close()
            node.app.close()
