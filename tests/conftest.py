"""Shared fixtures: every storage test runs on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

import dataclasses
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest

from mlob.config import StoreConfig, parse_database_url

POSTGRES_URL = os.environ.get("MLOB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _postgres_reachable() -> str | None:
    try:
        with psycopg.connect(_dsn(), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]


def _dsn(schema: str = "") -> str:
    return parse_database_url(POSTGRES_URL).conninfo


_PG_PROBLEM: list[str | None] = []


def unavailable(problem: str) -> NoReturn:
    """What a test needs is missing: a skip on a developer machine, a failure in CI (where
    .ci/run provides it)."""
    if IN_CI:
        pytest.fail(f"required in CI: {problem}")
    pytest.skip(problem)


def require_program(name: str, package: str = "") -> str:
    """The path of the program ``name`` (on PATH, or in /usr/sbin: haproxy), or unavailable."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        unavailable(f"{name} not installed (apt-get install {package or name})")
    return found


def require_postgres() -> None:
    if not _PG_PROBLEM:
        _PG_PROBLEM.append(_postgres_reachable())
    if problem := _PG_PROBLEM[0]:
        unavailable(f"PostgreSQL unreachable: {problem}")


@contextmanager
def fresh_schema(prefix: str = "t") -> Iterator[str]:
    """A new schema in the test database, dropped afterwards."""
    require_postgres()
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema
    finally:
        with psycopg.connect(_dsn(), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def pg_schema() -> Iterator[str]:
    with fresh_schema() as schema:
        yield schema


def postgres_config(schema: str) -> StoreConfig:
    return dataclasses.replace(parse_database_url(POSTGRES_URL), schema=schema)


#: Both stores. The storage, projection, feed, audit and access tests run on each (the real
#: PostgreSQL server); so do the API tests whose answers come from the store (lists, paging,
#: history, tokens, health): they are marked ``on_both_stores``. The other API tests (input,
#: rights, vocabulary, law, EDXL mapping) judge the API layer and run on SQLite.
STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
on_both_stores = pytest.mark.parametrize("store_config", STORES, indirect=True)


@contextmanager
def fresh_store(kind: str, directory: Path, prefix: str = "t") -> Iterator[StoreConfig]:
    """A new store of ``kind`` (one of STORES): a SQLite file in ``directory``, or a fresh
    PostgreSQL schema named from ``prefix``, dropped afterwards."""
    if kind == "sqlite":
        yield StoreConfig(kind="sqlite", sqlite_path=directory / "mlob.sqlite3")
    else:
        with fresh_schema(prefix) as schema:
            yield postgres_config(schema)


def store_of(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> StoreConfig:
    if kind == "sqlite":
        return StoreConfig(kind="sqlite", sqlite_path=tmp_path / "mlob.sqlite3")
    schema = request.getfixturevalue("pg_schema")
    return postgres_config(schema)


@pytest.fixture(params=STORES)
def store_config(request: pytest.FixtureRequest, tmp_path: Path) -> StoreConfig:
    return store_of(request.param, request, tmp_path)


def pg_connect(schema: str) -> psycopg.Connection:
    conn = psycopg.connect(_dsn(), autocommit=True)
    conn.execute(f'SET search_path TO "{schema}"')
    return conn
