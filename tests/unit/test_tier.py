"""The unit tier stays honest: no module under ``tests/unit`` imports anything that needs a
database, a server or another process, nor asks for a fixture that opens a store. Such a test
belongs in ``tests/integration`` (store, API in process) or ``tests/e2e`` (server processes)."""

from __future__ import annotations

import ast
from pathlib import Path

UNIT = Path(__file__).resolve().parent

#: Modules (and their submodules) a unit test may not import, with what they stand for.
FORBIDDEN = {
    "mlob": "the infrastructure: stores, service, runner",
    "api": "the HTTP application",
    "psycopg": "PostgreSQL",
    "sqlite3": "an SQLite file",
    "fastapi": "the HTTP application",
    "starlette": "the HTTP application",
    "httpx": "a server",
    "websockets": "a server",
    "playwright": "a browser",
    "schemathesis": "the HTTP application",
    "subprocess": "another process",
    "tests.conftest": "the PostgreSQL helpers",
    "tests.servers": "server processes",
    "tests.integration": "the integration tier",
    "tests.e2e": "the end-to-end tier",
}

#: Fixtures (``tests/conftest.py``, ``tests/integration``) that open a store or an API.
FORBIDDEN_FIXTURES = {"store_config", "pg_schema", "api", "views"}


def imports(tree: ast.AST) -> set[str]:
    """Every absolute module an import anywhere in ``tree`` names (in functions too)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def fixtures(tree: ast.AST) -> set[str]:
    """The parameter names of every function in ``tree`` (pytest's fixture requests)."""
    return {
        arg.arg
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for arg in node.args.args + node.args.kwonlyargs
    }


def problems(source: str) -> list[str]:
    tree = ast.parse(source)
    found = [
        f"imports {name} ({why})"
        for name in sorted(imports(tree))
        for banned, why in FORBIDDEN.items()
        if name == banned or name.startswith(banned + ".")
    ]
    asked = fixtures(tree) & FORBIDDEN_FIXTURES
    found += [f"asks for the fixture {name}" for name in sorted(asked)]
    return found


def test_the_check_sees_every_kind_of_import_and_fixture() -> None:
    source = """
import psycopg
from mlob.config import StoreConfig
from tests import servers

def test_x(store_config):
    from fastapi.testclient import TestClient
"""
    assert {problem.split(" (")[0] for problem in problems(source)} == {
        "imports psycopg",
        "imports mlob.config",
        "imports mlob.config.StoreConfig",
        "imports tests.servers",
        "imports fastapi.testclient",
        "imports fastapi.testclient.TestClient",
        "asks for the fixture store_config",
    }
    assert problems("from domain.request import AssistanceRequest\nfrom tests import ROOT\n") == []


def test_unit_tests_need_no_database_server_or_process() -> None:
    found = {
        str(path.relative_to(UNIT)): problem
        for path in sorted(UNIT.rglob("*.py"))
        for problem in [problems(path.read_text())]
        if problem
    }
    assert not found, f"move these to tests/integration or tests/e2e: {found}"
