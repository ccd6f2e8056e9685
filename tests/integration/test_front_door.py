"""The front door: configuration, CLI errors, /health, compose.yaml and the layering rules."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from api.app import create_app
from mlob.config import (
    DEFAULT_DATABASE_URL,
    ConfigError,
    StoreConfig,
    load_settings,
    parse_database_url,
)
from mlob.write.application import MlobApplication
from tests import ROOT
from tests.cli import run_cli
from tests.conftest import require_program


def test_default_store_is_a_sqlite_file_under_var() -> None:
    settings = load_settings({})
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.store.kind == "sqlite"
    assert settings.store.sqlite_path == Path("var/mlob.sqlite3")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:////tmp/x.db", {"kind": "sqlite", "sqlite_path": Path("/tmp/x.db")}),
        ("sqlite:///rel/x.db", {"kind": "sqlite", "sqlite_path": Path("rel/x.db")}),
        (
            "postgresql://mlob:s%40cret@db.example:6543/mlob",
            {
                "kind": "postgresql",
                "host": "db.example",
                "port": "6543",
                "user": "mlob",
                "password": "s@cret",
                "dbname": "mlob",
            },
        ),
        ("postgres://u@h/d?schema=s1", {"host": "h", "schema": "s1"}),
    ],
)
def test_database_urls(url: str, expected: dict[str, object]) -> None:
    store = parse_database_url(url)
    for key, value in expected.items():
        found = getattr(store, key) if key in ("kind", "sqlite_path", "schema") else None
        assert (store.params.get(key) if found is None else found) == value


@pytest.mark.parametrize(
    "url",
    [
        "mysql://x/y",
        "sqlite://",
        "sqlite:///",
        "postgresql://host-only",
        "postgresql://h:99999/d",
        "postgresql://h/d?sslmode=x",
        "nonsense",
    ],
)
def test_bad_database_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_database_url(url)
    assert "\n" not in str(refused.value)


def test_describe_hides_the_password() -> None:
    assert "s3cret" not in parse_database_url("postgresql://u:s3cret@h/d").describe()


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("mysql://nope/db", "neither sqlite"),
        ("postgresql://postgres@127.0.0.1:1/x", "Connection refused"),
    ],
)
def test_cli_reports_one_clear_line(url: str, fragment: str) -> None:
    result = run_cli("serve", "--port", "0", url=url)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mlob: ") and fragment in lines[0]
    assert "Traceback" not in result.stderr


def test_health_reports_store_kind_and_last_position(store_config: StoreConfig) -> None:
    from domain.commands import Message
    from tests.integration.store.fixtures import Ledger, envelope

    app = MlobApplication(store_config)
    try:
        client = TestClient(create_app(app))
        assert client.get("/health").json() == {
            "status": "ok",
            "store": store_config.kind,
            "last_position": 0,
        }
        env = envelope()
        app.record([Message(env.message_id, "d")], lambda u: u.add(Ledger.open(env, "VR08")))
        assert client.get("/health").json()["last_position"] == 1
    finally:
        app.close()


NODES = ("mlob1", "mlob2")


def test_compose_runs_mlob_against_its_postgres_after_the_health_check() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    postgres = next(name for name, s in services.items() if "postgres" in s.get("image", ""))
    assert services[postgres]["healthcheck"]["test"]
    for name in NODES:
        mlob = services[name]
        url = parse_database_url(mlob["environment"]["MLOB_DATABASE_URL"])
        assert url.kind == "postgresql" and url.params["host"] == postgres
        env = services[postgres]["environment"]
        assert (url.params["user"], url.params["password"], url.params["dbname"]) == (
            env["POSTGRES_USER"],
            env["POSTGRES_PASSWORD"],
            env["POSTGRES_DB"],
        )
        assert mlob["depends_on"][postgres]["condition"] == "service_healthy"
        assert any("/health/ready" in part for part in mlob["healthcheck"]["test"])


def test_compose_runs_the_projections_in_a_worker_beside_the_servers() -> None:
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    worker = services["worker"]
    assert worker["command"] == ["mlob", "worker"]
    for name in NODES:
        server = services[name]
        assert load_settings(server["environment"]).projections_in_process is False
        assert worker["environment"] == server["environment"]
        assert worker["depends_on"] == server["depends_on"]


def test_compose_puts_both_nodes_behind_haproxy_with_the_shared_config() -> None:
    """The balancer mounts mlob/deploy/haproxy.cfg (the file tests/e2e/balancer runs), names
    both nodes on the port their image serves, and is the only published port."""
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    balancer = services["balancer"]
    assert balancer["image"].startswith("haproxy:")
    source, target, *_ = balancer["volumes"][0].split(":")
    assert (ROOT / source).resolve() == ROOT / "mlob/deploy/haproxy.cfg"
    assert target == "/usr/local/etc/haproxy/haproxy.cfg"
    env = balancer["environment"]
    assert {env["MLOB_NODE1"], env["MLOB_NODE2"]} == {f"{n}:8000" for n in NODES}
    assert balancer["ports"] == ["8000:8000"] and env["MLOB_LB_BIND"] == ":8000"
    assert [name for name, s in services.items() if s.get("ports")] == ["balancer"]
    config = (ROOT / "mlob/deploy/haproxy.cfg").read_text()
    assert "uri /health/ready" in config and "timeout tunnel" in config


def test_the_haproxy_config_is_valid_for_haproxy() -> None:
    tool = require_program("haproxy")
    result = subprocess.run(
        [tool, "-c", "-f", str(ROOT / "mlob/deploy/haproxy.cfg")],
        env={"MLOB_NODE1": "127.0.0.1:8001", "MLOB_NODE2": "127.0.0.1:8002"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[WARNING]" not in result.stdout + result.stderr


def test_compose_file_is_valid_for_docker_compose() -> None:
    tool = require_program("docker-compose")
    result = subprocess.run(
        [tool, "-f", str(ROOT / "compose.yaml"), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_domain_imports_only_the_pure_part_of_eventsourcing() -> None:
    """import-linter cannot forbid subpackages of an external package, so check here."""
    offenders = []
    for path in (ROOT / "domain").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}"
                for n in names
                if n.startswith("eventsourcing") and n != "eventsourcing.domain"
            ]
    assert offenders == []


def test_picture_checkpoint_interval_is_checked() -> None:
    assert load_settings({}).picture_checkpoint_every == 10_000
    assert load_settings({"MLOB_PICTURE_CHECKPOINT_EVERY": "0"}).picture_checkpoint_every == 0
    every = {"MLOB_PICTURE_CHECKPOINT_EVERY": "50000"}
    assert load_settings(every).picture_checkpoint_every == 50_000
    for bad in ("10", "-5", "lots"):
        with pytest.raises(ConfigError, match="MLOB_PICTURE_CHECKPOINT_EVERY"):
            load_settings({"MLOB_PICTURE_CHECKPOINT_EVERY": bad})
