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

import logging
from pathlib import Path
from urllib.parse import quote, urlencode

from yoyo import get_backend, read_migrations
from yoyo.backends.base import DatabaseBackend

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


def pending(store: StoreConfig) -> list[str]:
    """The migrations not yet applied to this store (all of them for a store not yet made)."""
    if store.sqlite_path is not None and not store.sqlite_path.exists():
        return [m.id for m in read_migrations(str(FOLDER / store.kind))]
    backend = _backend(store)
    try:
        migrations = read_migrations(str(FOLDER / store.kind))
        return [m.id for m in backend.to_apply(migrations)]
    finally:
        backend.connection.close()


def upgrade(store: StoreConfig) -> list[str]:
    """Apply every pending migration (under yoyo's lock); the ids applied."""
    backend = _backend(store)
    try:
        migrations = read_migrations(str(FOLDER / store.kind))
        with backend.lock():
            todo = backend.to_apply(migrations)
            if todo:
                backend.apply_migrations(todo)
                for migration in todo:
                    log.info("store migrated: %s", migration.id)
            return [m.id for m in todo]
    finally:
        backend.connection.close()
