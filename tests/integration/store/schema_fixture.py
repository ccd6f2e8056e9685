"""Make the schema fixture a new migration is tested from (test_schema_fixtures.py).

Run it with the code of the commit BEFORE the new migration, from a worktree of that commit,
with this project's venv, and name the migration that will follow::

    git worktree add --detach /tmp/before <commit before the migration>
    cd /tmp/before && PYTHONPATH=/tmp/before /work/main/.venv/bin/python \\
        /work/main/tests/integration/store/schema_fixture.py 0006 \\
        /work/main/tests/integration/store/data

It opens a new SQLite store and a new PostgreSQL schema (127.0.0.1, database ``test``) as that
code does at start, and writes ``schema-before-<id>.sqlite.sql.gz`` (``iterdump``) and
``schema-before-<id>.postgresql.sql.gz`` (``pg_dump``, the schema's name as ``SCHEMA_NAME``),
gzipped (schemas_before.py says why, and loads them for the tests).
"""

from __future__ import annotations

import gzip
import importlib
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

# The checkout's own modules, not the editable install of this project.
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]

DSN = "host=127.0.0.1 user=postgres dbname=test"


def application_class() -> type:
    for name in ("mlob.write.application", "mlob.application"):  # where it lived over time
        try:
            return importlib.import_module(name).MlobApplication  # type: ignore[no-any-return]
        except ModuleNotFoundError:
            continue
    raise SystemExit("no MlobApplication in this checkout")


def write(fixture: Path, dump: str) -> None:
    # mtime 0: the same dump gives the same bytes, so a fixture made again is no change to git.
    fixture.write_bytes(gzip.compress(dump.encode(), mtime=0))


def main(migration: str, out: Path) -> None:
    import psycopg

    from mlob.config import StoreConfig, parse_database_url

    app = application_class()
    path = out / f".fixture-{uuid.uuid4().hex[:6]}.sqlite3"
    try:
        app(StoreConfig(kind="sqlite", sqlite_path=path)).close()
        with sqlite3.connect(path) as c:
            dump = "\n".join(c.iterdump()) + "\n"
        write(out / f"schema-before-{migration}.sqlite.sql.gz", dump)
    finally:
        # The store and what SQLite and mlob keep beside it (WAL, shared memory, the openers'
        # lock file): none of it belongs with the fixtures.
        for left in (path, *(path.with_name(path.name + x) for x in ("-wal", "-shm", ".opening"))):
            left.unlink(missing_ok=True)
    schema = f"fixture_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        app(
            parse_database_url(f"postgresql://postgres@127.0.0.1:5432/test?schema={schema}")
        ).close()
        where = ["-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-n", schema]
        dump = subprocess.run(
            ["pg_dump", *where, "--no-owner", "--no-privileges"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        text = dump.replace(f'"{schema}"', "SCHEMA_NAME").replace(schema, "SCHEMA_NAME")
        write(out / f"schema-before-{migration}.postgresql.sql.gz", text)
    finally:
        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
