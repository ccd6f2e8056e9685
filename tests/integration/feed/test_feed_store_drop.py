"""The database drops a node's connections before the first feed client connects (issue 19's
dead-feed defect: the hub marked itself started before the reads that failed, and later
clients got a welcome with a stale position, then nothing). Against the real server."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.conninfo import make_conninfo
from starlette.websockets import WebSocketDisconnect

from api.app import create_app
from api.ports import StoreUnavailable
from mlob.bootstrap import open_projections
from mlob.service import Service
from mlob.write.application import MlobApplication
from tests.conftest import POSTGRES_URL, postgres_config
from tests.integration.api.conftest import Api
from tests.integration.feed.helpers import incident, receive


def drop_connections(names: tuple[str, ...]) -> int:
    """What a failover or an administrator's ``pg_terminate_backend`` does to this node."""
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        dropped = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = ANY(%s) AND pid <> pg_backend_pid()",
            (list(names),),
        ).fetchone()
    assert dropped is not None
    return int(dropped[0])


@pytest.fixture
def node(pg_schema: str) -> Iterator[tuple[Api, tuple[str, ...]]]:
    base = postgres_config(pg_schema)
    name = f"mlob-test-{pg_schema}"
    config = dataclasses.replace(base, conninfo=make_conninfo(base.conninfo, application_name=name))
    service = Service(MlobApplication(config))
    projections = open_projections(service)
    projections.start()
    try:
        with TestClient(create_app(service)) as client:
            # This process's connections: the store's pools, and LISTEN (``mlob <pid>``).
            yield Api(client, service), (name, f"mlob {os.getpid()}")
    finally:
        projections.close()
        service.close()
        service.app.close()


@pytest.mark.postgres
def test_a_feed_opened_after_the_database_dropped_the_nodes_connections_is_live(
    node: tuple[Api, tuple[str, ...]],
) -> None:
    api, names = node
    headers = api.headers("LOCC", "coordinator")
    incident(api)
    assert drop_connections(names) > 0
    for attempt in range(2):  # the first client may be refused while the pool reconnects
        try:
            with api.client.websocket_connect("/v1/feed", headers=headers) as ws:
                welcome = receive(ws, "welcome")
                ws.send_text('{"subscribe": ["national"]}')
                receive(ws, "subscribed")
                assert welcome["position"] == api.position(), "a stale welcome"
                subject = incident(api)
                frame = receive(ws, "frame")
                assert subject in {e["stream_id"] for e in frame["events"]}
                return
        except Exception:
            if attempt:
                raise


def test_a_hub_that_could_not_start_refuses_with_try_again_then_starts(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store away at the first connection: that client is told to retry (1013), and the
    next one gets a welcome at the current position and live frames — never a dead feed."""
    headers = api.headers("LOCC", "coordinator")
    incident(api)
    real = api.service.last_change

    def away() -> int:
        raise StoreUnavailable("the store is unreachable")

    monkeypatch.setattr(api.service, "last_change", away)
    with api.client.websocket_connect("/v1/feed", headers=headers) as ws:
        error = receive(ws, "error")
        assert error["code"] == "store_unavailable"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == 1013
    monkeypatch.setattr(api.service, "last_change", real)
    with api.client.websocket_connect("/v1/feed", headers=headers) as ws:
        assert receive(ws, "welcome")["position"] == api.position()
        ws.send_text('{"subscribe": ["national"]}')
        receive(ws, "subscribed")
        subject = incident(api)
        assert subject in {e["stream_id"] for e in receive(ws, "frame")["events"]}
