"""Nothing acknowledged is lost: SIGKILL the server during a burst, and stop PostgreSQL with
``pg_ctl stop -m immediate`` during a burst. Real server processes, real PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import threading
import time

import httpx
import psycopg
import pytest

from domain.commands import message_key
from mlob.write.application import MlobApplication
from tests.conftest import IN_CI, POSTGRES_URL, _dsn, postgres_config
from tests.servers import Server, incident_opened, issue_token

pytestmark = pytest.mark.postgres


def server_for(schema: str) -> tuple[Server, str]:
    """A server on this schema (not started) and a VR08 operator token for it."""
    server = Server(f"{POSTGRES_URL.split('?')[0]}?schema={schema}")
    return server, issue_token(server.env["MLOB_DATABASE_URL"], "VR08", "operator")


def burst(
    server: Server,
    token: str,
    stop: threading.Event,
    acked: list[str],
    statuses: dict[int, int],
    threads: int = 8,
) -> list[threading.Thread]:
    def run() -> None:
        with httpx.Client(
            base_url=server.url, timeout=10, headers={"Authorization": f"Bearer {token}"}
        ) as client:
            while not stop.is_set():
                body = incident_opened("burst")
                message_id = body["message_id"]
                try:
                    response = client.post("/v1/events", json=body)
                except httpx.HTTPError:
                    statuses[0] = statuses.get(0, 0) + 1
                    time.sleep(0.05)
                    continue
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if response.status_code == 201:
                    acked.append(message_id)

    workers = [threading.Thread(target=run, daemon=True) for _ in range(threads)]
    for w in workers:
        w.start()
    return workers


def recorded(schema: str, message_ids: list[str], org: str = "VR08") -> set[str]:
    """Which of these messages of ``org`` (the burst's poster) the store holds."""
    app = MlobApplication(postgres_config(schema))
    try:
        keys = {message_key(org, m): m for m in message_ids}
        return {keys[k] for k in app.index.messages(list(keys))}
    finally:
        app.close()


def test_sigkill_during_a_burst_loses_nothing_acknowledged(pg_schema: str) -> None:
    server, token = server_for(pg_schema)
    server.start()
    stop, acked, statuses = threading.Event(), [], {}
    workers = burst(server, token, stop, acked, statuses)
    time.sleep(2.0)
    server.kill()
    time.sleep(0.5)
    stop.set()
    for w in workers:
        w.join(timeout=15)
    assert len(acked) > 50, statuses
    assert recorded(pg_schema, acked) == set(acked)
    server.start()  # and it comes back on the same store
    try:
        assert httpx.get(f"{server.url}/health").json()["last_position"] >= len(acked)
    finally:
        server.stop()


def pg_ctl(action: str, *extra: str) -> None:
    version = os.listdir("/etc/postgresql")[0]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action, *extra],
        check=True,
        timeout=120,
        capture_output=True,
    )


def pg_up() -> bool:
    try:
        with psycopg.connect(_dsn(), connect_timeout=2):
            return True
    except psycopg.Error:
        return False


@pytest.mark.serial  # stops the cluster every other test uses
@pytest.mark.skipif(
    not (IN_CI or os.environ.get("MLOB_TEST_PG_RESTART")),
    reason="stops the shared PostgreSQL cluster: runs in CI or with MLOB_TEST_PG_RESTART=1",
)
def test_postgres_stopped_immediately_during_a_burst(pg_schema: str) -> None:
    if not os.path.isdir("/etc/postgresql") or os.geteuid() != 0:
        pytest.fail("this test needs a local Debian PostgreSQL cluster and root")
    server, token = server_for(pg_schema)
    server.start()
    stop, acked, statuses = threading.Event(), [], {}
    workers = burst(server, token, stop, acked, statuses)
    try:
        time.sleep(1.5)
        before_outage = len(acked)
        pg_ctl("stop", "--", "-m", "immediate")
        # Longer than the writer's wait to learn a lost commit's outcome (OUTCOME_WAIT) and a
        # pooled connection's wait (5 s): the answers during the outage are 503 (nothing
        # recorded) or 504 (outcome unknown), each after those waits.
        time.sleep(12.0)
        during = dict(statuses)
        pg_ctl("start")
        deadline = time.time() + 30
        while not pg_up() and time.time() < deadline:
            time.sleep(0.5)
        recovered_from = len(acked)
        deadline = time.time() + 30
        while len(acked) < recovered_from + 20 and time.time() < deadline:
            time.sleep(0.2)  # the server recovers by itself: new posts succeed again
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=15)
        if not pg_up():
            pg_ctl("start")
        server.stop()
    assert before_outage > 10
    assert during.get(503, 0) + during.get(504, 0) > 0, during
    assert statuses.get(500, 0) == 0, statuses
    assert len(acked) >= recovered_from + 20, statuses
    assert recorded(pg_schema, acked) == set(acked)
