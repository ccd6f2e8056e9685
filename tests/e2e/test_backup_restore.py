"""Backup and restore (issue 19; docs/operations.md): a store dumped with ``pg_dump`` and
restored into a fresh database verifies (``mlob audit verify`` with the audit key: the chain and
the signed checkpoints hold) and its projections rebuild there to the same rows."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

from mlob import demo
from mlob.audit.tamper import checkpoint
from mlob.bootstrap import open_projections
from mlob.config import parse_database_url
from mlob.read.readstore import open_read_store
from mlob.service import Service
from mlob.write.application import MlobApplication
from projections.specs import PROJECTIONS
from tests import ROOT
from tests.conftest import POSTGRES_URL, postgres_config

pytestmark = pytest.mark.postgres
KEY = b"backup-and-restore-test-key-32-bytes!"


def run(*command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def rows(url: str) -> dict[str, list[dict[str, object]]]:
    store = open_read_store(parse_database_url(url), [p.name for p in PROJECTIONS])
    try:
        return {p.name: sorted(store.all_rows(p.name), key=repr) for p in PROJECTIONS}
    finally:
        store.close()


def test_a_dumped_store_restores_verifies_and_rebuilds(pg_schema: str, tmp_path: Path) -> None:
    config = postgres_config(pg_schema)
    service = Service(MlobApplication(config))
    projections = open_projections(service)
    try:
        demo.load_demo(service)
        projections.catch_up()
        assert checkpoint(service.app.index, projections.store, KEY) is not None
    finally:
        projections.close()
        service.app.close()
    server = parse_database_url(POSTGRES_URL).params
    where = [
        "-h",
        server.get("host", "127.0.0.1"),
        "-p",
        server.get("port", "5432"),
        "-U",
        server.get("user", "postgres"),
    ]
    dump = tmp_path / "mlob.dump"
    made = run("pg_dump", *where, "-d", server["dbname"], "-n", pg_schema, "-Fc", "-f", str(dump))
    assert made.returncode == 0, made.stderr
    restored = f"mlob_restore_{uuid.uuid4().hex[:8]}"
    assert run("createdb", *where, restored).returncode == 0
    try:
        back = run("pg_restore", *where, "-d", restored, "--no-owner", str(dump))
        assert back.returncode == 0, back.stderr
        original = f"{POSTGRES_URL}?schema={pg_schema}"
        user, host = server.get("user", "postgres"), server.get("host", "127.0.0.1")
        url = f"postgresql://{user}@{host}:{server.get('port', '5432')}/{restored}"
        url += f"?schema={pg_schema}"
        mlob = [sys.executable, "-m", "mlob.cli"]
        env = {"MLOB_DATABASE_URL": url, "MLOB_AUDIT_KEY": KEY.decode()}
        verified = run(*mlob, "audit", "verify", env=env)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert (
            "1 signed checkpoint(s) hold" in verified.stdout and "chain intact" in verified.stdout
        )
        with psycopg.connect(parse_database_url(url).connect_info(), autocommit=True) as conn:
            for p in PROJECTIONS:  # derived data: what a rebuild must make again from events
                conn.execute(f"DELETE FROM mlob_rows_{p.name}")
        assert all(not r for r in rows(url).values())
        rebuilt = run(*mlob, "projections", "rebuild", env=env)
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        assert rows(url) == rows(original)
    finally:
        with psycopg.connect(parse_database_url(POSTGRES_URL).conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')
