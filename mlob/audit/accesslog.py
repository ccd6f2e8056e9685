"""The read-access log (*inzagelog*): who opened or received which item above ongerubriceerd,
when, and through which route or feed channel. Auditors of the national organisations read it
(``GET /v1/access-log``); it is kept beside the event stream, never in it.

Reads are noted from the request threads and the feed's event loop, so noting never waits for
the database: entries queue in memory and one thread writes them in batches (at most
``FLUSH`` seconds late). An entry that cannot be written (the database away) is retried; the
queue is bounded, and what overflows is counted and logged, never silently dropped.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from psycopg_pool import ConnectionPool

from mlob.config import StoreConfig
from mlob.read.readstore import connection_pool

log = logging.getLogger("mlob.access")

#: Seconds between two writes of the queued entries.
FLUSH = 0.5
#: Entries held in memory at most (a long database outage).
QUEUE = 200_000
COLUMNS = ("at", "org", "role", "person", "token_id", "route", "item", "kind", "classification")


class AccessLog:
    def __init__(self, store: StoreConfig) -> None:
        self.store = store
        self._queue: deque[tuple[Any, ...]] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.overflowed = 0
        self._pool: ConnectionPool[Any] | None = None
        self._sqlite: sqlite3.Connection | None = None
        self._sqlite_lock = threading.Lock()  # one connection, used from several threads
        self._thread = threading.Thread(target=self._run, name="mlob-access-log", daemon=True)
        self._thread.start()

    # --- noting --------------------------------------------------------------------------

    def note(self, entries: Sequence[dict[str, Any]]) -> None:
        """Queue read accesses (dicts with the :data:`COLUMNS` but ``at``); never blocks."""
        if not entries:
            return
        at = datetime.now(UTC).isoformat()
        rows = [(at, *(e.get(c) for c in COLUMNS[1:])) for e in entries]
        with self._lock:
            room = QUEUE - len(self._queue)
            if room < len(rows):
                self.overflowed += len(rows) - max(room, 0)
                log.error("read-access log full: %d entries not kept", len(rows) - max(room, 0))
                rows = rows[: max(room, 0)]
            self._queue.extend(rows)

    def flush(self) -> None:
        """Write what is queued now (tests, shutdown)."""
        with self._lock:
            rows = list(self._queue)
            self._queue.clear()
        if not rows:
            return
        try:
            self._write(rows)
        except Exception:
            with self._lock:
                self._queue.extendleft(reversed(rows))
            raise

    # --- reading -------------------------------------------------------------------------

    def entries(
        self, *, after: int = 0, limit: int = 1000, item: str | None = None
    ) -> list[dict[str, Any]]:
        self.flush()
        where = "id > %s"
        params: list[int | str] = [after]
        if item:
            where += " AND item = %s"
            params.append(item)
        sql = (
            f"SELECT id, {', '.join(COLUMNS)} FROM mlob_access_log WHERE {where} "
            "ORDER BY id LIMIT %s"
        )
        params.append(limit)
        names = ("id", *COLUMNS)
        if self.store.kind == "sqlite":
            with self._sqlite_lock:
                found = self._sqlite_conn().execute(sql.replace("%s", "?"), params).fetchall()
            return [dict(zip(names, r, strict=True)) for r in found]
        with self._pg().connection() as conn:
            found = conn.execute(sql, params).fetchall()
        return [{**dict(zip(names, r, strict=True)), "at": r[1].isoformat()} for r in found]

    # --- writing -------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.wait(FLUSH):
            try:
                self.flush()
            except Exception as exc:  # the database away: kept, tried again
                log.warning("read-access log not written yet: %s", str(exc).splitlines()[0])

    def _write(self, rows: list[tuple[Any, ...]]) -> None:
        marks = ", ".join(["%s"] * len(COLUMNS))
        sql = f"INSERT INTO mlob_access_log ({', '.join(COLUMNS)}) VALUES ({marks})"
        if self.store.kind == "sqlite":
            with self._sqlite_lock:
                conn = self._sqlite_conn()
                with conn:
                    conn.executemany(sql.replace("%s", "?"), rows)
            return
        with self._pg().connection() as conn, conn.cursor() as cur:
            cur.executemany(sql, rows)

    def _sqlite_conn(self) -> sqlite3.Connection:
        if self._sqlite is None:
            assert self.store.sqlite_path is not None
            self._sqlite = sqlite3.connect(
                self.store.sqlite_path, timeout=30, check_same_thread=False
            )
            self._sqlite.execute("PRAGMA busy_timeout=30000")
        return self._sqlite

    def _pg(self) -> ConnectionPool[Any]:
        if self._pool is None:
            self._pool = connection_pool(self.store, min_size=0, max_size=2)
        return self._pool

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        try:
            self.flush()
        except Exception as exc:
            log.error("read-access log: %d entries lost at shutdown: %s", len(self._queue), exc)
        if self._pool is not None:
            self._pool.close()
        if self._sqlite is not None:
            self._sqlite.close()
