"""Where the projections keep their rows: tables in the store's own database.

Per projection one table of rows (one per aggregate, its JSON and what readers filter on) and
one tracking row (position and code version). A batch writes its rows, its change records and
its new position in one transaction, so a projection is exactly once and restart-safe.
``mlob_view_changes`` lists every changed row (and every clock-driven board change) in order,
for the live feeds.
"""

from __future__ import annotations

import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
import psycopg
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool

from api.ports import PageQuery
from mlob.config import StoreConfig
from mlob.read import listing
from mlob.read.summaries import summary_sql
from mlob.store.notify import schema_channel
from mlob.store.pool_check import install_check
from projections.readmodels import Targets


@dataclass(frozen=True)
class Tracking:
    name: str
    position: int
    version: str
    updated_at: str | None


@dataclass(frozen=True)
class Change:
    source: str  # a projection name, or "board" for clock-driven changes
    key: str
    position: int  # the event position that caused it (0 for the clock)
    what: str = "row"
    #: A row change: the lowest clearance level whose row of the subject changed (readers
    #: below it see no change). A clock change: the level of the row it concerns.
    level: int = 0


class Connection(Protocol):
    """What sqlite3's connection and psycopg's cursor both do: statements with parameters in
    the dialect's marks (``ReadStore.mark``)."""

    def execute(self, sql: str, args: Sequence[Any] = ..., /) -> Any: ...

    def executemany(self, sql: str, args: Iterable[Sequence[Any]], /) -> Any: ...


#: The tables (created by mlob/migrations): ``mlob_chain_checkpoints`` holds signed chain heads
#: (mlob/audit/tamper.py: the key that signs them is never in the database);
#: ``mlob_as_of_checkpoints`` every picture checkpoint (mlob/read/pictures.py: all read-model rows
#: at a position, where each aggregate's latest state is kept, the states its interval changed, and
#: the time bounds that tell which checkpoint serves a moment; times are ``utc_text``, which sort as
#: text).
PICTURE_META = (
    "position",
    "version",
    "recorded_min",
    "recorded_max",
    "occurred_min",
    "occurred_max",
    "at",
    "size",
)
#: A picture checkpoint's seal (migration 0002, mlob/read/pictures.py): the digest of its rows,
#: places and states, and the HMAC with the audit key over its meta, that digest and the
#: position of the signed checkpoint before it (None: unsigned).
PICTURE_SEAL = ("content_sha256", "signature")
_PICTURE_LISTED = PICTURE_META + PICTURE_SEAL
_PICTURE_COLUMNS = ", ".join(_PICTURE_LISTED)
#: A signed checkpoint replaces an unsigned one at its position (written without the key).
_REPLACE_UNSIGNED = (
    " ON CONFLICT (position) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in (*_PICTURE_LISTED, "rows_data", "places", "states"))
    + " WHERE mlob_as_of_checkpoints.signature IS NULL AND excluded.signature IS NOT NULL"
)

CHANGE_COLUMNS = ("seq", "at", "source", "key", "position", "what", "level")

#: Serialises the writers of mlob_view_changes until they commit (PostgreSQL).
CHANGES_LOCK = "SELECT pg_advisory_xact_lock(hashtext('mlob_view_changes'))"

#: PostgreSQL NOTIFY channel for read-model changes (the events table has its own), per store
#: (``view_channel``).
VIEW_CHANNEL = "mlob_view_changes"


def view_channel(store: StoreConfig) -> str:
    return schema_channel(VIEW_CHANNEL, store.schema or "")


class TrackingConflict(Exception):
    """Another runner moved the projection meanwhile: this batch is not written."""


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _table(name: str) -> str:
    """A projection's rows: one per subject and clearance level it has steps at (the
    ``mlob_view_<name>`` tables of earlier versions held one per subject and are not read)."""
    if not name.isidentifier():
        raise ValueError(f"projection name {name!r}")
    return f"mlob_rows_{name}"


#: A rebuild writes a projection's next rows beside the served ones (``mlob_rows_<name>`` plus
#: this) with its own tracking row (the name plus :data:`NEXT_TRACKING`); the switch renames
#: them over the served ones in one transaction, so readers see the previous rows or the new
#: ones, never half-built rows.
NEXT_TABLE = "__next"
NEXT_TRACKING = "~next"


def served(rows: Sequence[Tracking], names: Sequence[str]) -> list[Tracking]:
    """Of the tracking rows, the served rows of these projections (a fresh one's: at 0)."""
    found = {r.name: r for r in rows}
    return [found.get(n, Tracking(n, 0, "", None)) for n in names]


def rebuilds_of(rows: Sequence[Tracking]) -> dict[str, Tracking]:
    """Of the tracking rows, the rebuilds under way, by projection."""
    return {
        r.name.removesuffix(NEXT_TRACKING): replace(r, name=r.name.removesuffix(NEXT_TRACKING))
        for r in rows
        if r.name.endswith(NEXT_TRACKING)
    }


def _next_table(name: str) -> str:
    return _table(name) + NEXT_TABLE


def _where(name: str, rebuild: bool) -> tuple[str, str]:
    """The rows table and the tracking row a batch writes."""
    if rebuild:
        return _next_table(name), name + NEXT_TRACKING
    return _table(name), name


def _rows_table_sql(name: str, table: str, dialect: str) -> list[str]:
    """A rows table with its listing columns and indexes (mlob/read/listing.py)."""
    blob, integer = ("BLOB", "INTEGER") if dialect == "sqlite" else ("jsonb", "bigint")
    # The key's name is given, so a renamed table's key can be renamed with it (PostgreSQL
    # names constraints per schema: the next rebuild's table needs the name again).
    return [
        f"CREATE TABLE IF NOT EXISTS {table} (id TEXT NOT NULL, level integer NOT NULL, "
        f"position {integer} NOT NULL, data {blob} NOT NULL, "
        f"{listing.columns_sql(name, dialect)}, until_level integer NOT NULL DEFAULT {TOP}, "
        f"CONSTRAINT {table}_pkey PRIMARY KEY (id, level))",
        *listing.index_sql(name, table, dialect),
    ]


def _until_sql(table: str, dialect: str) -> str:
    """Sets ``until_level`` of the rows of some subjects (their ids as the one parameter): the
    level of each one's next higher row (TOP: none). Run after a batch wrote their rows."""
    among = "IN (SELECT value FROM json_each(?))" if dialect == "sqlite" else "= ANY(%s)"
    return (
        f"UPDATE {table} SET until_level = COALESCE((SELECT MIN(h.level) FROM {table} h "
        f"WHERE h.id = {table}.id AND h.level > {table}.level), {TOP}) WHERE id {among}"
    )


def _listed_update(name: str) -> str:
    """The ON CONFLICT assignments of a row's listing columns."""
    return "".join(f", {c} = excluded.{c}" for c in listing.column_names(name))


#: Higher than every clearance level: "the top row".
TOP = 1_000


def _change_levels(
    rows: Sequence[dict[str, Any]], levels: Mapping[str, int] | None
) -> list[tuple[str, int]]:
    """Per subject of a batch, the lowest level whose row changed."""
    lowest: dict[str, int] = {}
    for r in rows:
        lowest[r["id"]] = min(lowest.get(r["id"], TOP), r.get("level", 0))
    if levels:
        lowest.update({k: v for k, v in levels.items() if k in lowest})
    return sorted(lowest.items())


#: The newest signed chain checkpoint's time (readiness, metrics and the signing schedule).
NEWEST_SIGNED = (
    "SELECT at FROM mlob_chain_checkpoints WHERE signature <> '' ORDER BY position DESC LIMIT 1"
)


def connection_pool(
    store: StoreConfig, min_size: int, max_size: int
) -> ConnectionPool[psycopg.Connection[TupleRow]]:
    """A pool of autocommit connections to this store. Each connection is checked before it is
    lent: after the server dropped the pool's connections (a restart, a failover) the next use
    gets a fresh one instead of an error per stale connection. The check is the write store's
    (mlob/store/pool_check.py): a look at the socket, a round trip only for a connection idle
    for a while or with something to read, not a round trip per lending (9 % of the projection
    worker's CPU, bench/profile_worker.py)."""
    pool: ConnectionPool[psycopg.Connection[TupleRow]] = ConnectionPool(
        store.connect_info(),
        min_size=min_size,
        max_size=max_size,
        open=False,
        kwargs={"autocommit": True},
    )
    install_check(pool)
    pool.open()
    return pool


def _text(moment: Any) -> Any:
    """A time as the SQLite store keeps it (ISO text); PostgreSQL's driver gives a datetime."""
    return moment.isoformat() if isinstance(moment, datetime) else moment


def _upsert_rows_sql(name: str, table: str, source: str) -> str:
    """Write a batch's rows from ``source`` (id, level, position, data, then the listing
    columns of mlob/read/listing.py), replacing a subject's row at the same level."""
    return (
        f"INSERT INTO {table} (id, level, position, data, {', '.join(listing.column_names(name))}) "
        f"{source} ON CONFLICT (id, level) DO UPDATE SET position = excluded.position, "
        "data = excluded.data" + _listed_update(name)
    )


@dataclass(frozen=True)
class _Batch:
    """One :meth:`ReadStore.apply`, as the dialect writes it."""

    name: str
    table: str  # the served rows, or in a rebuild the next rows
    tracking: str  # the tracking row it moves
    rows: Sequence[dict[str, Any]]
    position: int
    version: str
    expected_position: int
    #: Per subject, the lowest level whose row changed (none in a rebuild: no change records).
    changes: list[tuple[str, int]]
    rebuild: bool


class ReadStore(ABC):
    """The projections' rows and mlob's read-side records, in the store's own database.

    What both dialects do alike is written here once, their SQL differing only in data: the
    parameter mark, how a row's JSON is read (``data``), how each subject's top row is picked
    (``top_rows``), and mlob/read/listing.py's SQL per dialect. A dialect gives its
    connections, and what only it does: how a batch is written, how a switch renames the next
    rows' keys, PostgreSQL's locks and NOTIFY."""

    kind: str
    names: tuple[str, ...]
    #: The driver's parameter mark.
    mark: str
    #: A row's JSON as the driver returns it fastest.
    data: str
    #: Each subject's highest row among those ``{where}`` selects of ``{table}``, by id.
    top_rows: str
    #: LIMIT's value for "all".
    no_limit: int | None
    #: What a read of a row the transaction goes on to change adds, so that no one changes
    #: it meanwhile (SQLite's write transaction holds the whole store already).
    row_lock: str

    # --- what each dialect gives --------------------------------------------------------------

    @abstractmethod
    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        """Every row one statement returns."""

    @abstractmethod
    def _tx(self) -> AbstractContextManager[Connection]:
        """A write transaction: committed when the block ends, rolled back when it raises."""

    @abstractmethod
    def _snapshot(self) -> AbstractContextManager[Connection]:
        """A read transaction: every statement in it sees the same rows."""

    @abstractmethod
    def _write(self, batch: _Batch) -> None: ...

    @abstractmethod
    def _rename_keys(self, c: Connection, name: str, old: str, new: str) -> None:
        """After a switch renamed table ``old`` to ``new``: its key and indexes likewise."""

    @abstractmethod
    def picture_states(self, slices: Sequence[tuple[int, int, int]]) -> list[bytes]:
        """Slices (position, offset, length) of picture checkpoints' states, in that order."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def _serialise(self, c: Connection, lock: str) -> None:
        """Hold other writers of ``lock`` off until this transaction ends."""

    @abstractmethod
    def _notify(self, c: Connection) -> None:
        """Wake other processes' feeds when this transaction commits."""

    def _marks(self, count: int) -> str:
        return ", ".join([self.mark] * count)

    @abstractmethod
    def _among(self, ids: Sequence[str]) -> tuple[str, list[Any]]:
        """``id`` among ``ids``: the condition's SQL after ``id`` and its parameters."""

    # --- tracking and rebuilds ----------------------------------------------------------------

    def tracking(self, name: str) -> Tracking:
        found = self._read(
            "SELECT position, version, updated_at FROM mlob_view_tracking "
            f"WHERE name = {self.mark}",
            (name,),
        )
        if not found:
            return Tracking(name, 0, "", None)
        return Tracking(name, found[0][0], found[0][1], _text(found[0][2]))

    def tracking_rows(self) -> list[Tracking]:
        """Every tracking row as stored, the rebuilds' (``<name>~next``) too: one query
        (readers waiting for a position ask this every 20 ms)."""
        found = self._read("SELECT name, position, version, updated_at FROM mlob_view_tracking")
        return [Tracking(r[0], r[1], r[2], _text(r[3])) for r in found]

    def all_tracking(self) -> list[Tracking]:
        return served(self.tracking_rows(), self.names)

    def rebuilds(self) -> dict[str, Tracking]:
        """The rebuilds under way: per projection, how far its next rows have come."""
        return rebuilds_of(self.tracking_rows())

    def _set_tracking(self, c: Connection, tracking: str, position: int, version: str) -> None:
        c.execute(
            f"INSERT INTO mlob_view_tracking VALUES ({self._marks(3)}, now()) ON CONFLICT (name) "
            "DO UPDATE SET position = excluded.position, version = excluded.version, "
            "updated_at = excluded.updated_at",
            (tracking, position, version),
        )

    def begin_rebuild(self, name: str, version: str) -> None:
        """Start building a projection's next rows afresh, beside the rows being served."""
        with self._tx() as c:
            c.execute(f"DROP TABLE IF EXISTS {_next_table(name)}")
            for statement in _rows_table_sql(name, _next_table(name), self.kind):
                c.execute(statement)
            self._set_tracking(c, name + NEXT_TRACKING, 0, version)

    def end_rebuild(self, name: str) -> None:
        """Give up a rebuild (its next rows are dropped; the served rows stay)."""
        with self._tx() as c:
            c.execute(f"DROP TABLE IF EXISTS {_next_table(name)}")
            c.execute(
                f"DELETE FROM mlob_view_tracking WHERE name = {self.mark}", (name + NEXT_TRACKING,)
            )

    def switch(self, name: str, expected_position: int) -> None:
        """Serve the next rows from now on, in one transaction; every row a change."""
        table, following = _table(name), _next_table(name)
        with self._tx() as c:
            self._serialise(c, "mlob_view_changes")  # the change records below, in order
            found = c.execute(
                "SELECT position, version FROM mlob_view_tracking "
                f"WHERE name = {self.mark}{self.row_lock}",
                (name + NEXT_TRACKING,),
            ).fetchone()
            if found is None or found[0] != expected_position:
                raise TrackingConflict(name)
            # A reader waiting for the old table meanwhile finds the new one by its name once
            # this commits (PostgreSQL looks a name up again after waiting for its lock).
            c.execute(f"DROP TABLE IF EXISTS {table}")
            c.execute(f"ALTER TABLE {following} RENAME TO {table}")
            self._rename_keys(c, name, following, table)
            self._set_tracking(c, name, found[0], found[1])
            c.execute(
                f"DELETE FROM mlob_view_tracking WHERE name = {self.mark}", (name + NEXT_TRACKING,)
            )
            # Every row may differ from what the feeds sent before: each is a change.
            c.execute(
                "INSERT INTO mlob_view_changes (at, source, key, position, what, level) "
                f"SELECT now(), {self.mark}, id, {self.mark}, 'row', MIN(level) FROM {table} "
                "GROUP BY id ORDER BY id",
                (name, found[0]),
            )
            self._notify(c)

    def apply(
        self,
        name: str,
        rows: Sequence[dict[str, Any]],
        position: int,
        version: str,
        expected_position: int,
        levels: Mapping[str, int] | None = None,
        *,
        rebuild: bool = False,
    ) -> None:
        """Write a batch: to the served rows, or with ``rebuild`` to the next rows (no change
        records: nobody reads those rows before the switch). The tracking row moves from
        ``expected_position`` to ``position`` in the same transaction, or nothing is written
        (:class:`TrackingConflict`)."""
        table, tracking = _where(name, rebuild)
        changes = [] if rebuild else _change_levels(rows, levels)
        self._write(
            _Batch(
                name, table, tracking, rows, position, version, expected_position, changes, rebuild
            )
        )

    # --- rows ---------------------------------------------------------------------------------

    def rows(self, name: str, level: int | None = None) -> list[dict[str, Any]]:
        """Each subject's row at the highest level at most ``level`` (None: its top row)."""
        found = self._read(
            self.top_rows.format(table=_table(name), where=f"level <= {self.mark}"),
            (TOP if level is None else level,),
        )
        return [orjson.loads(r[0]) for r in found]

    def rows_by_id(
        self, name: str, ids: Sequence[str], level: int | None = None, every_level: bool = False
    ) -> list[dict[str, Any]]:
        """These subjects' rows as :meth:`rows` selects them, or all their levels' rows."""
        if not ids:
            return []
        among, args = self._among(ids)
        if every_level:
            sql = f"SELECT {self.data} FROM {_table(name)} WHERE id {among} ORDER BY id, level"
        else:
            sql = self.top_rows.format(
                table=_table(name), where=f"id {among} AND level <= {self.mark}"
            )
            args.append(TOP if level is None else level)
        return [orjson.loads(r[0]) for r in self._read(sql, args)]

    def all_rows(self, name: str) -> list[dict[str, Any]]:
        """Every row of every level."""
        found = self._read(f"SELECT {self.data} FROM {_table(name)} ORDER BY id, level")
        return [orjson.loads(r[0]) for r in found]

    def page(
        self, name: str, query: PageQuery
    ) -> tuple[list[dict[str, Any]], tuple[str, str] | None]:
        """One page of a list (mlob/read/listing.py): its rows, and the key after which the
        next page starts (None: this is the last)."""
        sql, args = listing.page_sql(name, _table(name), query, self.kind)
        return listing.paged(self._read(sql, args), query.limit)

    def count(self, name: str, query: PageQuery) -> int:
        """How many rows a list's query selects (its ``after`` and ``limit`` aside)."""
        sql, args = listing.count_sql(name, _table(name), query, self.kind)
        return int(self._read(sql, args)[0][0])

    def matching(self, name: str, query: PageQuery) -> list[dict[str, Any]]:
        """Every row a query selects, unordered: for filters that bound it (``among``)."""
        sql, args = listing.matching_sql(name, _table(name), query, self.kind)
        return [orjson.loads(r[0]) for r in self._read(sql, args)]

    def board_page(
        self,
        query: PageQuery,
        targets: Targets,
        after: tuple[int, int, str] | None,
    ) -> tuple[list[dict[str, Any]], tuple[str, str] | None]:
        """One page of the request board's rows, most urgent first (listing.board_sql), and
        the place after which the next starts."""
        sql, args = listing.board_sql(_table("requests"), query, targets, self.kind, after)
        return listing.board_paged(self._read(sql, args), query.limit)

    def board_counts(self, query: PageQuery, targets: Targets, now_us: int) -> tuple[int, int]:
        """The board's items and those overdue at ``now_us``, exactly, in one query."""
        sql, args = listing.board_counts_sql(_table("requests"), query, targets, now_us, self.kind)
        items, overdue = self._read(sql, args)[0]
        return int(items), int(overdue)

    def summary_counts(self, query: PageQuery) -> tuple[list[Any], int, list[Any], list[Any]]:
        """The picture's summary counted (mlob/read/summaries.py) over the rows ``query``
        selects of the incidents and of the requests."""
        queries = summary_sql(_table("incidents"), _table("requests"), query, self.kind)
        with self._snapshot() as c:  # the four counts see the same rows
            found = [c.execute(sql, args).fetchall() for sql, args in queries]
        return found[0], int(found[1][0][0]), found[2], found[3]

    # --- change records -----------------------------------------------------------------------

    def last_change(self) -> int:
        return int(self._read("SELECT MAX(seq) FROM mlob_view_changes")[0][0] or 0)

    def record_changes(self, changes: Sequence[Change]) -> None:
        with self._tx() as c:
            self._serialise(c, "mlob_view_changes")
            c.executemany(
                "INSERT INTO mlob_view_changes (at, source, key, position, what, level) "
                f"VALUES (now(), {self._marks(5)})",
                [(ch.source, ch.key, ch.position, ch.what, ch.level) for ch in changes],
            )
            self._notify(c)

    def changes(self, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        found = self._read(
            f"SELECT {', '.join(CHANGE_COLUMNS)} FROM mlob_view_changes "
            f"WHERE seq > {self.mark} ORDER BY seq LIMIT {self.mark}",
            (after, limit),
        )
        return [{**dict(zip(CHANGE_COLUMNS, r, strict=True)), "at": _text(r[1])} for r in found]

    # --- checkpoints --------------------------------------------------------------------------

    def add_checkpoint(self, position: int, head: str, signature: str) -> None:
        with self._tx() as c:
            c.execute(
                f"INSERT INTO mlob_chain_checkpoints VALUES ({self._marks(4)}) "
                "ON CONFLICT DO NOTHING",
                (position, head, signature, _now()),
            )

    def checkpoints(self) -> list[dict[str, Any]]:
        found = self._read(
            "SELECT position, head, signature, at FROM mlob_chain_checkpoints ORDER BY position"
        )
        return [dict(zip(("position", "head", "signature", "at"), r, strict=True)) for r in found]

    def newest_signed_checkpoint_at(self) -> str | datetime | None:
        """When the newest signed chain checkpoint was written (None: none yet); one row."""
        found = self._read(NEWEST_SIGNED)
        return found[0][0] if found else None

    def picture_checkpoints(self, version: str) -> list[dict[str, Any]]:
        found = self._read(
            f"SELECT {_PICTURE_COLUMNS} FROM mlob_as_of_checkpoints "
            f"WHERE version = {self.mark} ORDER BY position",
            (version,),
        )
        return [dict(zip(_PICTURE_LISTED, r, strict=True)) for r in found]

    def _picture_parts(self, position: int, columns: str) -> list[bytes]:
        found = self._read(
            f"SELECT {columns} FROM mlob_as_of_checkpoints WHERE position = {self.mark}",
            (position,),
        )
        if not found:
            raise KeyError(position)
        return [bytes(part) for part in found[0]]

    def picture_checkpoint_base(self, position: int) -> tuple[bytes, bytes]:
        rows, places = self._picture_parts(position, "rows_data, places")
        return rows, places

    def picture_checkpoint_content(self, position: int) -> tuple[bytes, bytes, bytes]:
        """A picture checkpoint's rows, places and states, as signed (mlob/read/pictures.py)."""
        rows, places, states = self._picture_parts(position, "rows_data, places, states")
        return rows, places, states

    def add_picture_checkpoint(
        self, meta: dict[str, Any], rows: bytes, places: bytes, states: bytes
    ) -> bool:
        """Add it (with ``meta``'s ``content_sha256`` and ``signature``, if any); False when
        one is at that position already (another writer won), unless that one is unsigned and
        this one signed: then it is replaced."""
        with self._tx() as c:
            # Checkpoints of another code version can never serve again.
            c.execute(
                f"DELETE FROM mlob_as_of_checkpoints WHERE version <> {self.mark}",
                (meta["version"],),
            )
            inserted = c.execute(
                f"INSERT INTO mlob_as_of_checkpoints ({_PICTURE_COLUMNS}, rows_data, places, "
                f"states) VALUES ({self._marks(len(_PICTURE_LISTED) + 3)})" + _REPLACE_UNSIGNED,
                (*(meta.get(k) for k in _PICTURE_LISTED), rows, places, states),
            )
            return int(inserted.rowcount) == 1

    # --- the board's targets ------------------------------------------------------------------

    def board_targets(self, limit: int | None = 1) -> list[dict[str, Any]]:
        """The request board's targets as set, newest first, at most ``limit`` (None: all),
        each with ``seq``, ``at``, ``set_by`` and ``targets``: the first is in force."""
        found = self._read(
            f"SELECT seq, at, set_by, targets FROM mlob_board_targets ORDER BY seq DESC "
            f"LIMIT {self.mark}",
            (self.no_limit if limit is None else limit,),
        )
        return [
            {"seq": r[0], "at": _text(r[1]), "set_by": r[2], "targets": orjson.loads(r[3])}
            for r in found
        ]

    def set_board_targets(
        self, targets: dict[str, Any], set_by: str, *, only_if_none: bool = False
    ) -> bool:
        """Set them (with ``only_if_none``: only if none were ever set); whether it did."""
        with self._tx() as c:
            # Processes starting together each seed only if none were set: one at a time, so
            # "none yet" holds to the insert.
            self._serialise(c, "mlob_board_targets")
            if only_if_none and c.execute("SELECT 1 FROM mlob_board_targets").fetchone():
                return False
            c.execute(
                "INSERT INTO mlob_board_targets (at, set_by, targets) "
                f"VALUES (now(), {self._marks(2)})",
                (set_by, orjson.dumps(targets).decode()),
            )
        return True


class SQLiteReadStore(ReadStore):
    """Read models in the SQLite store file (WAL: readers never wait for the writer)."""

    kind = "sqlite"
    mark = "?"
    data = "data"
    # SQLite takes the bare column from the row holding MAX(level).
    top_rows = "SELECT data, MAX(level) FROM {table} WHERE {where} GROUP BY id ORDER BY id"
    no_limit = -1
    row_lock = ""

    def __init__(self, path: str, names: Sequence[str]) -> None:
        self.path = path
        self.names = tuple(names)
        self._local = threading.local()
        # mlob's fixed tables come from the migrations (mlob/migrations, applied when the
        # application opened the store); a projection's rows table from its name.
        with self._tx() as c:
            for name in self.names:
                for statement in _rows_table_sql(name, _table(name), "sqlite"):
                    c.execute(statement)

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=30000")
            # SQLite has no now(): this one gives the time as the store keeps it (ISO, UTC).
            conn.create_function("now", 0, _now)
            self._local.conn = conn
        return conn

    @contextmanager
    def _begun(self, begin: str) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        conn.execute(begin)
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._begun("BEGIN IMMEDIATE")  # the store's one writer from the start

    def _snapshot(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._begun("BEGIN")  # a read: its first statement fixes what it sees

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        return self._conn().execute(sql, args).fetchall()

    def _among(self, ids: Sequence[str]) -> tuple[str, list[Any]]:
        return f"IN ({self._marks(len(ids))})", list(ids)

    def _serialise(self, c: Connection, lock: str) -> None:
        pass  # BEGIN IMMEDIATE: SQLite's write transactions are one at a time already

    def _notify(self, c: Connection) -> None:
        pass  # no NOTIFY: the other processes poll

    def _rename_keys(self, c: Connection, name: str, old: str, new: str) -> None:
        # SQLite has no ALTER INDEX: the indexes get the served table's names anew (the next
        # rebuild's table needs the names again).
        for suffix in listing.index_names(name, "sqlite"):
            c.execute(f"DROP INDEX IF EXISTS {old}_{suffix}")
        for statement in listing.index_sql(name, new, "sqlite"):
            c.execute(statement)

    def _write(self, batch: _Batch) -> None:
        with self._tx() as c:
            current = c.execute(
                "SELECT position FROM mlob_view_tracking WHERE name = ?", (batch.tracking,)
            ).fetchone()
            if batch.rebuild and current is None:
                raise TrackingConflict(batch.name)  # given up meanwhile
            if (current[0] if current else 0) != batch.expected_position:
                raise TrackingConflict(batch.name)
            listed = len(listing.column_names(batch.name))
            c.executemany(
                _upsert_rows_sql(batch.name, batch.table, f"VALUES ({self._marks(4 + listed)})"),
                [
                    (
                        r["id"],
                        r.get("level", 0),
                        batch.position,
                        orjson.dumps(r),
                        *listing.stored_values(batch.name, r, "sqlite"),
                    )
                    for r in batch.rows
                ],
            )
            subjects = sorted({r["id"] for r in batch.rows})
            if subjects:
                c.execute(_until_sql(batch.table, "sqlite"), (orjson.dumps(subjects).decode(),))
            c.executemany(
                "INSERT INTO mlob_view_changes (at, source, key, position, what, level) "
                "VALUES (now(), ?, ?, ?, 'row', ?)",
                [(batch.name, key, batch.position, lvl) for key, lvl in batch.changes],
            )
            self._set_tracking(c, batch.tracking, batch.position, batch.version)

    def picture_states(self, slices: Sequence[tuple[int, int, int]]) -> list[bytes]:
        if not slices:
            return []
        found = self._read(
            "SELECT substr(c.states, json_extract(j.value, '$[1]') + 1, "
            "json_extract(j.value, '$[2]')) FROM json_each(?) j "
            "JOIN mlob_as_of_checkpoints c ON c.position = json_extract(j.value, '$[0]') "
            "ORDER BY j.key",
            (orjson.dumps(slices).decode(),),
        )
        return [bytes(r[0]) for r in found]

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


class PostgresReadStore(ReadStore):
    """Read models in the store's PostgreSQL database and schema."""

    kind = "postgresql"
    mark = "%s"
    # jsonb out as text, parsed by orjson: faster than psycopg's json loader.
    data = "data::text"
    top_rows = (
        "SELECT DISTINCT ON (id) data::text FROM {table} WHERE {where} ORDER BY id, level DESC"
    )
    no_limit = None
    row_lock = " FOR UPDATE"

    def __init__(self, store: StoreConfig, names: Sequence[str]) -> None:
        self.info = store.connect_info()
        self.channel = view_channel(store)
        self.names = tuple(names)
        self.pool = connection_pool(store, min_size=1, max_size=4)
        # mlob's fixed tables come from the migrations (mlob/migrations, applied when the
        # application opened the store); a projection's rows table from its name.
        with self.pool.connection() as conn, conn.transaction():
            # One creator at a time: several processes may start together.
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('mlob_view_schema'))")
            for name in self.names:
                for statement in _rows_table_sql(name, _table(name), "postgresql"):
                    # CREATE INDEX IF NOT EXISTS takes its SHARE lock before it looks: a node
                    # starting beside writers would wait for them. Ask the catalogue first.
                    if statement.startswith("CREATE INDEX IF NOT EXISTS "):
                        index = statement.split()[5]
                        found = conn.execute("SELECT to_regclass(%s)", (index,)).fetchone()
                        if found is not None and found[0] is not None:
                            continue
                    conn.execute(statement)
                # A row per projection from the start: batches move it with a guarded UPDATE.
                conn.execute(
                    "INSERT INTO mlob_view_tracking VALUES (%s, 0, '', NULL) "
                    "ON CONFLICT (name) DO NOTHING",
                    (name,),
                )

    @contextmanager
    def _tx(self) -> Iterator[psycopg.Cursor[TupleRow]]:
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            yield cur

    @contextmanager
    def _snapshot(self) -> Iterator[psycopg.Cursor[TupleRow]]:
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield cur

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        with self.pool.connection() as conn:
            return conn.execute(sql, args).fetchall()

    def _among(self, ids: Sequence[str]) -> tuple[str, list[Any]]:
        return "= ANY(%s)", [list(ids)]

    def _serialise(self, c: Connection, lock: str) -> None:
        c.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (lock,))

    def _notify(self, c: Connection) -> None:
        c.execute(f'NOTIFY "{self.channel}"')

    def _rename_keys(self, c: Connection, name: str, old: str, new: str) -> None:
        c.execute(f"ALTER TABLE {new} RENAME CONSTRAINT {old}_pkey TO {new}_pkey")
        for suffix in listing.index_names(name, "postgresql"):
            c.execute(f"ALTER INDEX {old}_{suffix} RENAME TO {new}_{suffix}")

    def _write(self, batch: _Batch) -> None:
        name, rows, position = batch.name, batch.rows, batch.position
        # One flight: the guarded position move, the rows as one JSON array, their change
        # records and the NOTIFY; then the commit.
        with (
            self.pool.connection() as conn,
            conn.pipeline() as pipeline,
            conn.transaction(),
            conn.cursor() as cur,
        ):
            if rows and not batch.rebuild:
                # Change records take their numbers in commit order (a feed reading up to
                # number N must never see N+1 before N): one writer of them at a time.
                cur.execute(CHANGES_LOCK)
            elif not rows:
                # A position alone is derived data: a crash may lose it and it is read again.
                conn.execute("SET LOCAL synchronous_commit TO OFF")
            cur.execute(
                "UPDATE mlob_view_tracking SET position = %s, version = %s, "
                "updated_at = now() WHERE name = %s AND position = %s",
                (position, batch.version, batch.tracking, batch.expected_position),
            )
            if rows:
                with conn.cursor() as more:
                    # Each row with its listing columns (mlob/read/listing.py) as {"d", "c"}.
                    listed = listing.column_names(name)
                    taken = ", ".join(
                        [
                            "x->'c'->>0",
                            "(x->'c'->>1)::boolean",
                            "ARRAY(SELECT jsonb_array_elements_text(x->'c'->2))",
                            *(
                                f"(x->'c'->>{i})::bigint"
                                if c in listing.listing(name).integers
                                else f"x->'c'->>{i}"
                                for i, c in enumerate(listed)
                                if i >= 3
                            ),
                        ]
                    )
                    more.execute(
                        _upsert_rows_sql(
                            name,
                            batch.table,
                            "SELECT x->'d'->>'id', COALESCE((x->'d'->>'level')::int, 0), %s, "
                            f"x->'d', {taken} FROM jsonb_array_elements(%s::text::jsonb) x",
                        ),
                        (
                            position,
                            orjson.dumps(
                                [
                                    {"d": r, "c": listing.stored_values(name, r, "postgresql")}
                                    for r in rows
                                ]
                            ).decode(),
                        ),
                    )
                    more.execute(
                        _until_sql(batch.table, "postgresql"), (sorted({r["id"] for r in rows}),)
                    )
                    if not batch.rebuild:
                        more.execute(
                            "INSERT INTO mlob_view_changes (at, source, key, position, what, "
                            "level) SELECT now(), %s, k, %s, 'row', l FROM "
                            "unnest(%s::text[], %s::int[]) AS c(k, l)",
                            (
                                name,
                                position,
                                [k for k, _ in batch.changes],
                                [v for _, v in batch.changes],
                            ),
                        )
                        self._notify(more)
            pipeline.sync()
            if cur.rowcount != 1:  # raising here rolls the whole batch back
                raise TrackingConflict(name)

    def picture_states(self, slices: Sequence[tuple[int, int, int]]) -> list[bytes]:
        if not slices:
            return []
        positions, offsets, lengths = (list(x) for x in zip(*slices, strict=True))
        # states is stored uncompressed (STORAGE EXTERNAL): substring reads only its chunks.
        found = self._read(
            "SELECT substring(c.states FROM s.o + 1 FOR s.l) "
            "FROM unnest(%s::bigint[], %s::int[], %s::int[]) WITH ORDINALITY s(p, o, l, n) "
            "JOIN mlob_as_of_checkpoints c ON c.position = s.p ORDER BY s.n",
            (positions, offsets, lengths),
        )
        return [bytes(r[0]) for r in found]

    def close(self) -> None:
        self.pool.close()


def open_read_store(store: StoreConfig, names: Sequence[str]) -> ReadStore:
    if store.kind == "sqlite":
        assert store.sqlite_path is not None
        return SQLiteReadStore(str(store.sqlite_path), names)
    return PostgresReadStore(store, names)


__all__ = [
    "Change",
    "PostgresReadStore",
    "ReadStore",
    "SQLiteReadStore",
    "Tracking",
    "TrackingConflict",
    "open_read_store",
]
