"""The store's schema migrations: versioned SQL files per dialect (``sqlite/``,
``postgresql/``), applied with yoyo-migrations by ``mlob db upgrade`` and at every start, one
process at a time (yoyo's lock table).

The event store's tables are the library's; mlob's own tables are created at their baseline
shape (the schema of 72956bf) and every later change is a file here. A store from before the
migrations (no yoyo tables, but mlob's event index) is stamped at the baseline first: the
baseline's statements all read ``IF NOT EXISTS``, so applying it there changes nothing.
Add a change as the next numbered file in both folders (``-- depends:`` the one before), and
keep the schema before it as a test fixture (``tests/integration/store/schema_fixture.py``,
run with the code before the change): ``test_schema_fixtures.py`` then upgrades that schema on
SQLite and PostgreSQL and compares it with a new store's.
"""

from __future__ import annotations

import fcntl
import functools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, urlencode

from yoyo import get_backend, read_migrations
from yoyo.backends.base import DatabaseBackend
from yoyo.migrations import MigrationList

from mlob.config import StoreConfig

log = logging.getLogger("mlob.migrations")

FOLDER = Path(__file__).resolve().parent


def backend_url(store: StoreConfig) -> str:
    if store.kind == "sqlite":
        assert store.sqlite_path is not None
        return f"sqlite:///{store.sqlite_path.resolve()}"
    # yoyo passes the query's parameters to psycopg's connect: the whole connection string.
    params = {**store.connect_params, **({"schema": store.schema} if store.schema else {})}
    return f"postgresql+psycopg:///?{urlencode(params, quote_via=quote)}"


def _backend(store: StoreConfig) -> DatabaseBackend:
    return get_backend(backend_url(store), migration_table="mlob_migrations")


@functools.cache
def _migrations(kind: str) -> MigrationList:
    """The files of one dialect, read and parsed once per process (yoyo parses every SQL file
    with sqlparse when asked: a tenth of a second per store opened)."""
    migrations = read_migrations(str(FOLDER / kind))
    for migration in migrations:
        migration.load()
    return migrations


def pending(store: StoreConfig) -> list[str]:
    """The migrations not yet applied to this store (all of them for a store not yet made)."""
    if store.sqlite_path is not None and not store.sqlite_path.exists():
        return [m.id for m in _migrations(store.kind)]
    backend = _backend(store)
    try:
        migrations = _migrations(store.kind)
        return [m.id for m in backend.to_apply(migrations)]
    finally:
        backend.connection.close()


@contextmanager
def one_opener(store: StoreConfig) -> Iterator[None]:
    """Processes opening one SQLite file take turns creating and migrating it.

    yoyo's lock table serialises the migrations themselves, but on SQLite the openers' other
    writes (the library's tables, yoyo's own, the lock row's polls) meet a migration's
    transaction and, on a busy disk, outwait SQLite's busy timeout: "database is locked".
    An OS lock on a file next to the store makes the whole opening one process at a time;
    PostgreSQL needs none (its DDL waits on its own locks).
    """
    if store.kind != "sqlite" or store.sqlite_path is None:
        yield
        return
    lock = store.sqlite_path.with_name(store.sqlite_path.name + ".opening")
    with lock.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)


def upgrade(store: StoreConfig) -> list[str]:
    """Apply every pending migration (under yoyo's lock); the ids applied."""
    backend = _backend(store)
    try:
        migrations = _migrations(store.kind)
        with backend.lock():
            todo = backend.to_apply(migrations)
            if todo:
                backend.apply_migrations(todo)
                for migration in todo:
                    log.info("store migrated: %s", migration.id)
            return [m.id for m in todo]
    finally:
        backend.connection.close()
