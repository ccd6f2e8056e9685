"""Structured logs (issue 19): with ``MLOB_LOG_FORMAT=json`` every log line is one JSON object
(time, level, message and, where known, the request id and organisation), and no log line —
JSON or plain, standard output or error — ever holds a token's secret or the audit key, whatever
happens: posts, reads, feeds opened and closed, tokens issued and revoked, refusals, 401s and a
503 (the store's connection cut by a real TCP proxy at the commit). Against a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from psycopg.conninfo import make_conninfo
from websockets.sync.client import connect

from tests import ROOT
from tests.conftest import postgres_config
from tests.integration.api.conftest import item
from tests.integration.store.test_lost_commit import CuttingProxy
from tests.servers import free_port, issue_token

pytestmark = pytest.mark.postgres

AUDIT_KEY = "k" * 24 + uuid4().hex  # 56 characters


def url_of(config: object, proxy: CuttingProxy) -> str:
    conninfo = make_conninfo(config.conninfo, host="127.0.0.1", port=str(proxy.port))  # type: ignore[attr-defined]
    return f"{conninfo} schema={config.schema}"  # type: ignore[attr-defined]


@pytest.mark.parametrize("fmt", ["json", "plain"])
def test_no_log_line_holds_a_secret(fmt: str, pg_schema: str, tmp_path: Path) -> None:
    config = postgres_config(pg_schema)
    params = config.params
    proxy = CuttingProxy(params.get("host", "127.0.0.1"), int(params.get("port", "5432")))
    url = url_of(config, proxy)
    key = {"MLOB_AUDIT_KEY": AUDIT_KEY}
    admin = issue_token(url, "LOCC", "admin", "--clearance", "stg_geheim", env=key)
    port = free_port()
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    env = {
        **os.environ,
        "MLOB_DATABASE_URL": url,
        "MLOB_AUDIT_KEY": AUDIT_KEY,
        "MLOB_LOG_FORMAT": fmt,
    }
    with out.open("wb") as stdout, err.open("wb") as stderr:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mlob.cli",
                "serve",
                "--port",
                str(port),
                "--log-level",
                "debug",
            ],
            env=env,
            cwd=ROOT,
            stdout=stdout,
            stderr=stderr,
        )
    secrets = [admin, AUDIT_KEY]
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, err.read_text()
                time.sleep(0.2)
        http = httpx.Client(base_url=base, timeout=30)
        as_admin = {"Authorization": f"Bearer {admin}"}
        issued = http.post("/v1/tokens", headers=as_admin, json={"org": "VR08", "role": "operator"})
        assert issued.status_code == 201, issued.text
        operator, operator_id = issued.json()["token"], issued.json()["token_id"]
        secrets.append(operator)
        as_vr08 = {"Authorization": f"Bearer {operator}"}
        opened = item(
            "incident.opened", uuid4(), {"title": "dyke", "regions": ["VR08"], "grip": "1"}
        )
        assert http.post("/v1/events", headers=as_vr08, json=opened).status_code == 201
        assert (
            http.post(
                "/v1/events", headers=as_vr08, json=item("incident.bogus", uuid4())
            ).status_code
            == 422
        )
        assert http.get("/v1/requests", headers=as_vr08).status_code == 200
        forged = operator[: operator.rindex("_") + 1] + "forgedsecretforgedsecret"
        secrets.append(forged)
        assert (
            http.get("/v1/requests", headers={"Authorization": f"Bearer {forged}"}).status_code
            == 401
        )
        with connect(f"ws://127.0.0.1:{port}/v1/feed", additional_headers=as_vr08) as ws:
            assert json.loads(ws.recv(timeout=10))["type"] == "welcome"
        proxy.armed = "before_commit"
        cut = http.post(
            "/v1/events",
            headers=as_vr08,
            json=item("incident.opened", uuid4(), {"title": "x", "regions": ["VR08"], "grip": "1"}),
        )
        assert cut.status_code == 503, cut.text
        assert (
            http.request("DELETE", f"/v1/tokens/{operator_id}", headers=as_admin).status_code == 204
        )
        assert http.get("/v1/requests", headers=as_vr08).status_code == 401  # revoked
    finally:
        server.terminate()
        server.wait(timeout=30)
        proxy.close()
    text = out.read_text() + err.read_text()
    assert "store unavailable" in text  # the 503 was logged (its driver text, no secret)
    for secret in secrets:
        assert secret not in text, f"a secret is in the log: {secret[:12]}..."
        assert secret.rsplit("_", 1)[-1] not in text, "a token's secret part is in the log"
    if fmt == "json":
        lines = [line for line in err.read_text().splitlines() if line.strip()]
        assert lines
        records = [json.loads(line) for line in lines]  # every log line one JSON object
        assert all({"time", "level", "message"} <= r.keys() for r in records)
        assert any(r.get("org") == "VR08" and r.get("request_id") for r in records)
