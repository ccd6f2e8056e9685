"""The store's schema migrations (mlob/migrations): a new store, a store of 72956bf (before the
migrations) and several processes opening one store at once."""

from __future__ import annotations

import gzip
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import orjson

from api.post_events import post
from mlob import demo, migrations
from mlob.audit.tamper import verify
from mlob.bootstrap import open_projections
from mlob.config import StoreConfig
from mlob.service import Service
from mlob.write.application import MlobApplication

DATA = Path(__file__).parent / "data"
#: The moment the demo in the 72956bf dump was built for.
DEMO_AT = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)
#: Every migration, in the order they are applied.
ALL = [
    "0000_baseline",
    "0001_need_to_know",
    "0002_chain_format_and_signed_pictures",
    "0003_access_log",
    "0004_message_ids_per_organisation",
    "0005_board_targets",
    "0006_list_columns",
    "0007_webhooks",
    "0008_board_columns",
    "0009_demanding",
]


def _applied(store: StoreConfig) -> list[str]:
    assert store.sqlite_path is not None
    with sqlite3.connect(store.sqlite_path) as c:
        return [r[0] for r in c.execute("SELECT migration_id FROM mlob_migrations ORDER BY 1")]


def test_a_new_store_gets_every_migration_once(store_config: StoreConfig) -> None:
    assert migrations.pending(store_config)  # nothing made yet (SQLite) or a fresh schema
    app = MlobApplication(store_config)
    try:
        assert migrations.pending(store_config) == []
        assert migrations.upgrade(store_config) == []  # again: nothing to do
        app.index.log_rejection(
            {"at": "2026-12-05T10:00:00+00:00", "status": 403, "code": "c", "reason": "r"}
            | {"classification": "stg_geheim"}
        )
        assert app.index.rejections()[0]["classification"] == "stg_geheim"
    finally:
        app.close()


def test_a_store_of_72956bf_is_stamped_and_upgraded(tmp_path: Path) -> None:
    """Made by the code of 72956bf (data/ beside this file: the demo, its read models and a refused
    attempt, as an SQL dump): no migrations table, one row per subject in mlob_view_*."""
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as c:
        c.executescript(gzip.decompress((DATA / "store-72956bf.sql.gz").read_bytes()).decode())
    store = StoreConfig(kind="sqlite", sqlite_path=path)
    assert migrations.pending(store) == ALL
    service = Service(MlobApplication(store))
    projections = open_projections(service)
    try:
        assert _applied(store) == ALL
        # What was refused before the classification was kept is taken as the highest level.
        [old] = service.app.index.rejections()
        assert old["classification"] == "stg_zeer_geheim"
        with sqlite3.connect(path) as c:
            tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master")}
        assert "mlob_view_requests" not in tables and "mlob_rows_requests" in tables
        # The history stands, the chain verifies (format 1 up to the switch the migration
        # recorded after its newest row), the projections rebuild per level.
        projections.catch_up()
        rows = projections.store.all_rows("requests")
        assert rows and all("level" in r and "involved" in r for r in rows)
        verdict = verify(service.app.index, projections.store, None)
        assert verdict.ok and verdict.switch and verdict.switch.position == verdict.last_position
        # Its idempotency records are now its organisations' own: the demo's first post
        # again is answered as the replay it is.
        org, items = demo.build(DEMO_AT).steps[0]
        receipt = post(service, demo.principal_for(org), items)
        assert receipt.replayed and receipt.events and {e.org for e in receipt.events} == {org}
    finally:
        projections.close()
        service.close()
        service.app.close()


def test_processes_opening_one_store_together_migrate_it_once(tmp_path: Path) -> None:
    """Four processes (as compose starts a server and workers) open a new store at once."""
    path = tmp_path / "together.sqlite3"
    code = (
        "import sys; from pathlib import Path; from mlob.write.application import MlobApplication; "
        "from mlob.config import StoreConfig; "
        "MlobApplication(StoreConfig(kind='sqlite', sqlite_path=Path(sys.argv[1]))).close()"
    )
    openers = [
        subprocess.Popen([sys.executable, "-c", code, str(path)], stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    for opener in openers:
        _, err = opener.communicate(timeout=60)
        assert opener.returncode == 0, err.decode()
    store = StoreConfig(kind="sqlite", sqlite_path=path)
    assert _applied(store) == ALL


def test_mlob_db_upgrade(tmp_path: Path) -> None:
    env = {"MLOB_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}", "PATH": ""}
    run = [sys.executable, "-m", "mlob.cli", "db", "upgrade"]

    def mlob(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*run, *extra], env=env, capture_output=True, text=True, check=False)

    dry = mlob("--dry-run")
    assert dry.returncode == 0 and dry.stdout.split() == ALL
    done = mlob()
    assert done.returncode == 0 and "up to date" in done.stdout, done.stderr
    assert "up to date" in mlob("--dry-run").stdout
    broken = subprocess.run(
        [*run, "--dry-run"],
        env={**env, "MLOB_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert broken.returncode == 2 and len(broken.stderr.strip().splitlines()) == 1
    assert "Traceback" not in broken.stderr
    assert orjson.dumps(broken.stderr)  # one plain line
