"""eventsourcing 9.5 application recorders that also write the event index and message log.

Both backends write, in the one transaction that stores the events and under the store's write
lock: the events, one index row per event (with its link in the hash chain), and one row per
client message id (for idempotency). A crash between event and index row is impossible.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn
from uuid import UUID

import psycopg
from eventsourcing.persistence import IntegrityError, Notification, PersistenceError, StoredEvent
from eventsourcing.postgres import (
    PostgresApplicationRecorder,
    PostgresDatastore,
)
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore
from psycopg.pq import TransactionStatus
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier, Literal

from domain.recorded import EventMark, LoggedEvent, RowFilter
from mlob.store.chain import GENESIS, UTC_TEXT, EventColumns, link, sortable_text, utc_text
from mlob.store.index import DuplicateMessage, IndexRecord, from_row
from mlob.store.notify import schema_channel

REJECTION_COLUMNS = (
    "at, org, role, person, event_type, subject, message_id, item_index, status, code, reason, "
    "source, classification"
)
#: The tables below are created at their baseline shape (72956bf); later columns, such as the
#: refused item's classification, come from mlob/migrations.
#: Appends of more events than this are written with COPY, fewer with one pipelined flight.
#: COPY costs four more round trips (the lock and message check, the last id, the chain head,
#: each table's copy) and a round of Python per row; the flight's arrays are dumped by
#: psycopg's C dumpers: a batch of 100 goes in one flight (issue 25, docs/performance.md).
COPY_FROM = 1000


class CommitLost(Exception):
    """A commit's connection failed before its answer arrived: the events may or may not be
    recorded. ``pid``: the server backend that ran it (while it exists, the outcome may
    still change)."""

    def __init__(self, pid: int) -> None:
        super().__init__(f"the connection to the store was lost during a commit (backend {pid})")
        self.pid = pid


def _lost_or_failed(conn: Any, pid: int, exc: Exception) -> NoReturn:
    """A commit that failed: if the server answered with an error (a timeout, a cancel, a
    serialization failure) its transaction is rolled back and nothing was recorded, so the
    error stands (a 503: safe to retry); only a connection that broke before the answer
    leaves the outcome for the writer to find out (``CommitLost``). Rolled back here, so a
    held write lock goes at once rather than after the writer's wait for the outcome."""
    if not conn.broken:
        with contextlib.suppress(psycopg.Error):
            conn.rollback()
        raise exc
    raise CommitLost(pid) from exc


#: At most this many backend pids are remembered as this process's own (``writer_pids``).
WRITER_PIDS = 32
#: The text of the one-flight commit's guard failing: another process wrote the head.
HEAD_MOVED = "mlob_head_moved"

INDEX_COLUMNS = (
    "position, stream_id, version, event_type, occurred_at, recorded_at, actor_org, actor_role, "
    "actor_person, authority, regions, classification, exercise, message_id, correlation_id, "
    "causation_id, hash"
)

#: The stored event's columns beside its index row (``e``) in ``chain_links``.
EVENT_COLUMNS = (
    "e.originator_id AS e_originator_id, e.originator_version AS e_originator_version, "
    "e.topic AS e_topic, e.state AS e_state"
)
#: ``mlob_chain_formats`` (migration 0002): see ``IndexQueries.chain_switches``.
SWITCH_COLUMNS = "format, after_position, head, signature, at"

#: The keys of ``time_bounds``.
_BOUNDS = ("recorded_min", "recorded_max", "occurred_min", "occurred_max")
#: Bound parameters per SQLite statement (older SQLite builds allow 999).
_SQLITE_CHUNK = 500
#: "No upper position": the largest BIGINT, so one statement serves both cases.
_NO_END = (1 << 63) - 1


def _time_column(column: str) -> str:
    if column not in ("recorded_at", "occurred_at"):
        raise ValueError(f"not a time column: {column!r}")
    return column


def _sql(template: Any, *parts: Any) -> str:
    """Compose a statement once, so psycopg can cache and prepare it."""
    statement = template if isinstance(template, SQL) else SQL(template)
    return statement.format(*parts).as_string(None)


def _rendered(statement: Any) -> str:
    """A statement the library made (text or composed) as text."""
    return statement if isinstance(statement, str) else str(statement.as_string(None))


def _chain(
    previous: bytes,
    predecessor: int,
    stored_events: Sequence[StoredEvent],
    positions: Sequence[int],
    recorded: Sequence[LoggedEvent],
) -> Inserted:
    """What an append writes, once per event: each recorded event at its position, its link
    in the hash chain (chained to ``previous``, the hash at ``predecessor``) and its stored
    size; the index rows are written from this."""
    if len(recorded) != len(stored_events) or len(positions) != len(stored_events):
        msg = "every stored event needs exactly one index entry"
        raise ValueError(msg)
    inserted = Inserted(predecessor, [], [], [])
    for stored, position, entry in zip(stored_events, positions, recorded, strict=True):
        originator_id = stored.originator_id
        if not isinstance(originator_id, UUID):  # the library types it UUID | str
            originator_id = UUID(originator_id)
        if (entry.stream_id, entry.version, entry.event_type) != (
            originator_id,
            stored.originator_version,
            stored.topic,
        ):
            msg = f"index entry {entry.stream_id}/{entry.version} does not match its event"
            raise ValueError(msg)
        entry = entry.replaced(position=position)
        # Always the current format (chain.FORMAT): the whole stored event is linked.
        event = EventColumns(
            originator_id.hex, stored.originator_version, stored.topic, stored.state
        )
        previous = link(previous, entry, event)
        inserted.recorded.append(entry)
        inserted.hashes.append(previous)
        inserted.sizes.append(len(stored.state))
    return inserted


@dataclass(frozen=True)
class ChainLink:
    """One index row with its stored event, as the chain's verification reads them."""

    position: int
    #: The row (None: it cannot be read, ``unreadable`` says why).
    record: IndexRecord | None
    #: The stored hash (None: not a hash).
    hash: bytes | None
    event: EventColumns
    unreadable: str = ""


def _chain_link(row: Mapping[str, Any]) -> ChainLink:
    """A row of ``chain_links``' query (the index columns and the event's, ``e_``-prefixed),
    never raising for what an insider may have written into it."""
    position = int(row["position"])
    problems = []
    try:
        event = EventColumns.of(
            row["e_originator_id"], row["e_originator_version"], row["e_topic"], row["e_state"]
        )
    except (TypeError, ValueError) as exc:
        event = EventColumns(None, None, None, b"")
        problems.append(f"its event cannot be read ({exc})")
    digest = row["hash"]
    stored = bytes(digest) if isinstance(digest, bytes | bytearray | memoryview) else None
    record = None
    try:
        record = IndexRecord.from_row(row)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        problems.insert(0, f"the row cannot be read ({exc})")
    return ChainLink(position, record, stored, event, "; ".join(problems))


@dataclass(frozen=True)
class Inserted:
    """What one append wrote: the position of the event just before it in the store (0: none;
    read or verified under the write lock, so nothing else lies between), its events as
    recorded (at their positions), their chain hashes and their stored sizes in bytes."""

    predecessor: int
    recorded: list[LoggedEvent]
    hashes: list[bytes]
    sizes: list[int]

    @property
    def positions(self) -> list[int]:
        return [e.position for e in self.recorded]


class IndexQueries:
    """Read queries over the index, shared by both backends (placeholders differ)."""

    def index_rows(
        self,
        *,
        after: int = 0,
        limit: int = 1000,
        stream_id: UUID | None = None,
        until_position: int | None = None,
        message_ids: Sequence[str] = (),
        positions: Sequence[int] = (),
        where: RowFilter | None = None,
    ) -> list[LoggedEvent]:
        """Index rows after ``after`` in order; narrowed to one stream, up to a position, to
        rows of these message ids or at these positions, and to what ``where`` asks."""
        raise NotImplementedError

    def index_marks(
        self, *, after: int, limit: int, until_position: int | None = None
    ) -> list[EventMark]:
        """The markings of the events after ``after`` (up to ``until_position``), in order:
        what a reader's visibility is first judged on, without the rest of the row (its
        times, actor and hash cost more to read than these do)."""
        raise NotImplementedError

    def last_position(self) -> int:
        raise NotImplementedError

    def classifications(self, until: int) -> set[str]:
        """The classifications of the events up to position ``until`` (for an export's
        marking)."""
        raise NotImplementedError

    def entries_until(
        self, after: int, until: int, column: str, moment: datetime
    ) -> list[tuple[int, UUID, int]]:
        """(position, stream, version) of the events in (after, until] whose ``column``
        (``recorded_at`` or ``occurred_at``) is at or before ``moment``, in order."""
        raise NotImplementedError

    def notifications_at(self, positions: Sequence[int]) -> list[Notification]:
        """The stored events at these positions, in order."""
        raise NotImplementedError

    def time_bounds(self, after: int, until: int) -> dict[str, datetime]:
        """Lowest and highest recorded and occurred times of the events in (after, until]."""
        raise NotImplementedError

    def stream_ends(self, stream_id: UUID) -> tuple[LoggedEvent | None, LoggedEvent | None]:
        """The first and the latest index rows of one stream."""
        raise NotImplementedError

    def created_as(self, stream_ids: Sequence[UUID]) -> dict[UUID, str]:
        """The classification each of these streams was created with (its first step's
        marking), in one query; unknown streams are left out."""
        raise NotImplementedError

    def streams_created_as(self, event_types: Sequence[str]) -> list[UUID]:
        """Streams whose first event has one of ``event_types``, oldest first."""
        raise NotImplementedError

    def select_after(self, known: Sequence[tuple[UUID, int]]) -> list[StoredEvent]:
        """For each (stream, version): the stream's events after that version, in one query."""
        raise NotImplementedError

    def prefetch(
        self, message_ids: Sequence[str], known: Sequence[tuple[UUID, int]]
    ) -> tuple[dict[str, tuple[str, int]], list[StoredEvent]]:
        """``messages(message_ids)`` and ``select_after(known)`` together."""
        return self.messages(message_ids), self.select_after(known)

    def log_rejection(self, rejection: dict[str, Any]) -> None:
        """Keep a refused attempt; it never enters the event stream."""
        raise NotImplementedError

    def rejections(
        self, *, after: int = 0, limit: int = 1000, subject: str | None = None
    ) -> list[dict[str, Any]]:
        raise NotImplementedError

    def messages(self, message_ids: Sequence[str]) -> dict[str, tuple[str, int]]:
        """Recorded message ids with their content digest and first position."""
        raise NotImplementedError

    def chain_links(self, *, after: int = 0, limit: int = 5000) -> list[ChainLink]:
        """Index rows with their stored events, for verifying the chain."""
        raise NotImplementedError

    def chain_rows(
        self, *, after: int = 0, limit: int = 5000
    ) -> list[tuple[IndexRecord, EventColumns]]:
        """Index rows with their stored events (a row that cannot be read raises)."""
        rows = []
        for found in self.chain_links(after=after, limit=limit):
            if found.record is None:
                raise ValueError(f"position {found.position}: {found.unreadable}")
            rows.append((found.record, found.event))
        return rows

    def chain_switches(self) -> list[dict[str, Any]]:
        """The chain format switches (``mlob_chain_formats``, migration 0002): per format,
        the position after which rows are in it, the chain's head at that position and the
        switch's signature (None: unsigned), oldest first."""
        raise NotImplementedError

    def sign_chain_switch(self, format: int, signature: str) -> None:
        """Record the signature of the switch to ``format`` (only an unsigned one)."""
        raise NotImplementedError

    def unindexed_events(self, limit: int = 10) -> list[int]:
        """Positions of stored events that have no index row (so no link in the chain)."""
        raise NotImplementedError


class MlobSQLiteRecorder(SQLiteApplicationRecorder, IndexQueries):
    """The embedded default: one SQLite file."""

    def backend_gone(self, pid: int) -> bool:
        """SQLite runs in this process: a failed commit has rolled back for good."""
        return True

    def write_lock(self) -> contextlib.AbstractContextManager[None]:
        """Nothing to hold: SQLite's store is one process's (its first write takes the lock)."""
        return contextlib.nullcontext()

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS mlob_event_index ("
            "position INTEGER PRIMARY KEY, stream_id TEXT NOT NULL, version INTEGER NOT NULL, "
            "event_type TEXT NOT NULL, occurred_at TEXT NOT NULL, recorded_at TEXT NOT NULL, "
            "actor_org TEXT NOT NULL, actor_role TEXT NOT NULL, actor_person TEXT, "
            "authority TEXT, regions TEXT NOT NULL, classification TEXT NOT NULL, "
            "exercise INTEGER NOT NULL, message_id TEXT NOT NULL, correlation_id TEXT, "
            "causation_id TEXT, hash BLOB NOT NULL, UNIQUE (stream_id, version))",
            "CREATE INDEX IF NOT EXISTS mlob_event_index_occurred ON mlob_event_index "
            "(occurred_at)",
            "CREATE INDEX IF NOT EXISTS mlob_event_index_message ON mlob_event_index (message_id)",
            "CREATE TABLE IF NOT EXISTS mlob_messages ("
            "message_id TEXT PRIMARY KEY, digest TEXT NOT NULL, first_position INTEGER NOT NULL)",
            "CREATE TABLE IF NOT EXISTS mlob_rejections (id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "at TEXT NOT NULL, org TEXT, role TEXT, person TEXT, event_type TEXT, subject TEXT, "
            "message_id TEXT, item_index INTEGER, status INTEGER NOT NULL, code TEXT NOT NULL, "
            "reason TEXT NOT NULL, source TEXT)",
        ]

    def insert_events(
        self,
        stored_events: Sequence[StoredEvent],
        *,
        index: Sequence[LoggedEvent] = (),
        messages: Sequence[tuple[str, str]] = (),
        **kwargs: Any,
    ) -> Sequence[int] | None:
        return self.append(stored_events, index=index, messages=messages).positions

    def append(
        self,
        stored_events: Sequence[StoredEvent],
        *,
        index: Sequence[LoggedEvent],
        messages: Sequence[tuple[str, str]] = (),
    ) -> Inserted:
        """Write events, their index rows and message ids in one transaction; what it wrote."""
        if not stored_events:
            return Inserted(0, [], [], [])
        with self.datastore.transaction(commit=True) as c:
            # The first write takes SQLite's write lock, so the chain head read below is stable.
            positions = list(super()._insert_events(c, stored_events) or [])
            try:
                c.executemany(
                    "INSERT INTO mlob_messages VALUES (?, ?, ?)",
                    [(mid, digest, positions[0]) for mid, digest in messages],
                )
            except sqlite3.IntegrityError:
                seen = {mid for mid, _ in messages}
                raise DuplicateMessage(sorted(seen)) from None
            c.execute("SELECT position, hash FROM mlob_event_index ORDER BY position DESC LIMIT 1")
            head = c.fetchone()
            previous = bytes(head[1]) if head else GENESIS
            inserted = _chain(
                previous, int(head[0]) if head else 0, stored_events, positions, index
            )
            c.executemany(
                f"INSERT INTO mlob_event_index ({INDEX_COLUMNS}) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        e.position,
                        e.stream_id.hex,
                        e.version,
                        e.event_type,
                        e.occurred_at.astimezone(UTC).strftime(UTC_TEXT),  # chain.utc_text
                        e.recorded_at.astimezone(UTC).strftime(UTC_TEXT),
                        e.actor_org,
                        e.actor_role,
                        e.actor_person,
                        e.authority,
                        " ".join(e.regions),
                        e.classification,
                        int(e.exercise),
                        e.message_id,
                        e.correlation_id,
                        e.causation_id,
                        digest,
                    )
                    for e, digest in zip(inserted.recorded, inserted.hashes, strict=True)
                ],
            )
            return inserted

    def _query(self, statement: str, params: Sequence[Any]) -> list[Any]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, params)
            return list(c.fetchall())

    def index_rows(
        self,
        *,
        after: int = 0,
        limit: int = 1000,
        stream_id: UUID | None = None,
        until_position: int | None = None,
        message_ids: Sequence[str] = (),
        positions: Sequence[int] = (),
        where: RowFilter | None = None,
    ) -> list[LoggedEvent]:
        if len(positions) > _SQLITE_CHUNK:  # SQLite's bound-parameter limit
            return [
                record
                for start in range(0, len(positions), _SQLITE_CHUNK)
                for record in self.index_rows(
                    after=after,
                    limit=limit,
                    stream_id=stream_id,
                    until_position=until_position,
                    message_ids=message_ids,
                    positions=positions[start : start + _SQLITE_CHUNK],
                    where=where,
                )
            ][:limit]
        statement = f"SELECT {INDEX_COLUMNS} FROM mlob_event_index WHERE position > ?"
        params: list[Any] = [after]
        if stream_id is not None:
            statement += " AND stream_id = ?"
            params.append(stream_id.hex)
        if until_position is not None:
            statement += " AND position <= ?"
            params.append(until_position)
        if message_ids:
            statement += f" AND message_id IN ({','.join('?' * len(message_ids))})"
            params.extend(message_ids)
        if positions:
            statement += f" AND position IN ({','.join('?' * len(positions))})"
            params.extend(positions)
        if where is not None:
            if where.event_types:
                statement += f" AND event_type IN ({','.join('?' * len(where.event_types))})"
                params.extend(where.event_types)
            if where.actor_org is not None:
                statement += " AND actor_org = ?"
                params.append(where.actor_org)
            if where.occurred_from is not None:
                statement += " AND occurred_at >= ?"
                params.append(sortable_text(where.occurred_from))
            if where.occurred_to is not None:
                statement += " AND occurred_at < ?"
                params.append(sortable_text(where.occurred_to))
            if where.exercise is not None:
                statement += " AND exercise = ?"
                params.append(int(where.exercise))
        statement += " ORDER BY position LIMIT ?"
        params.append(limit)
        return [from_row(dict(r)) for r in self._query(statement, params)]

    def index_marks(
        self, *, after: int, limit: int, until_position: int | None = None
    ) -> list[EventMark]:
        statement = (
            "SELECT position, stream_id, version, event_type, regions, classification, exercise "
            "FROM mlob_event_index WHERE position > ? AND position <= ? ORDER BY position LIMIT ?"
        )
        until = until_position if until_position is not None else _NO_END
        return [
            EventMark(p, UUID(s), v, t, tuple(r.split()), c, bool(x))
            for p, s, v, t, r, c, x in self._query(statement, (after, until, limit))
        ]

    def last_position(self) -> int:
        rows = self._query("SELECT MAX(position) FROM mlob_event_index", ())
        return int(rows[0][0] or 0)

    def classifications(self, until: int) -> set[str]:
        rows = self._query(
            "SELECT DISTINCT classification FROM mlob_event_index WHERE position <= ?", (until,)
        )
        return {str(r[0]) for r in rows}

    def entries_until(
        self, after: int, until: int, column: str, moment: datetime
    ) -> list[tuple[int, UUID, int]]:
        statement = (
            "SELECT position, stream_id, version FROM mlob_event_index WHERE position > ? "
            f"AND position <= ? AND {_time_column(column)} <= ? ORDER BY position"
        )
        found = self._query(statement, (after, until, sortable_text(moment)))
        return [(int(r[0]), UUID(r[1]), int(r[2])) for r in found]

    def notifications_at(self, positions: Sequence[int]) -> list[Notification]:
        found: list[Notification] = []
        for start in range(0, len(positions), _SQLITE_CHUNK):  # the bound-parameter limit
            chunk = positions[start : start + _SQLITE_CHUNK]
            rows = self._query(
                f"SELECT rowid, * FROM {self.events_table_name} "
                f"WHERE rowid IN ({','.join('?' * len(chunk))}) ORDER BY rowid",
                chunk,
            )
            found.extend(
                Notification(
                    id=row["rowid"],
                    originator_id=self.convert_originator_id(row["originator_id"]),
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in rows
            )
        return found

    def time_bounds(self, after: int, until: int) -> dict[str, datetime]:
        row = self._query(
            "SELECT min(recorded_at), max(recorded_at), min(occurred_at), max(occurred_at) "
            "FROM mlob_event_index WHERE position > ? AND position <= ?",
            (after, until),
        )[0]
        if row[0] is None:
            return {}
        return dict(zip(_BOUNDS, (datetime.fromisoformat(v) for v in row), strict=True))

    def stream_ends(self, stream_id: UUID) -> tuple[LoggedEvent | None, LoggedEvent | None]:
        ends = []
        for order in ("ASC", "DESC"):
            rows = self._query(
                f"SELECT {INDEX_COLUMNS} FROM mlob_event_index WHERE stream_id = ? "
                f"ORDER BY version {order} LIMIT 1",
                (stream_id.hex,),
            )
            ends.append(from_row(dict(rows[0])) if rows else None)
        return ends[0], ends[1]

    def created_as(self, stream_ids: Sequence[UUID]) -> dict[UUID, str]:
        found: dict[UUID, str] = {}
        for start in range(0, len(stream_ids), _SQLITE_CHUNK):
            chunk = [s.hex for s in stream_ids[start : start + _SQLITE_CHUNK]]
            rows = self._query(
                "SELECT stream_id, classification FROM mlob_event_index WHERE version = 1 "
                f"AND stream_id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            found.update((UUID(r[0]), str(r[1])) for r in rows)
        return found

    def select_after(self, known: Sequence[tuple[UUID, int]]) -> list[StoredEvent]:
        if not known:
            return []
        values = ",".join("(?,?)" for _ in known)
        rows = self._query(
            f"WITH c(id, v) AS (VALUES {values}) SELECT e.originator_id, e.originator_version, "
            f"e.topic, e.state FROM {self.events_table_name} e JOIN c "
            "ON e.originator_id = c.id AND e.originator_version > c.v "
            "ORDER BY e.originator_id, e.originator_version",
            [x for subject, version in known for x in (subject.hex, version)],
        )
        return [StoredEvent(UUID(r[0]), r[1], r[2], bytes(r[3])) for r in rows]

    def streams_created_as(self, event_types: Sequence[str]) -> list[UUID]:
        marks = ",".join("?" * len(event_types))
        rows = self._query(
            f"SELECT stream_id FROM mlob_event_index WHERE version = 1 "
            f"AND event_type IN ({marks}) ORDER BY position",
            list(event_types),
        )
        return [UUID(r[0]) for r in rows]

    def log_rejection(self, rejection: dict[str, Any]) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                f"INSERT INTO mlob_rejections ({REJECTION_COLUMNS}) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [_rejection_value(rejection, k.strip()) for k in REJECTION_COLUMNS.split(",")],
            )

    def rejections(
        self, *, after: int = 0, limit: int = 1000, subject: str | None = None
    ) -> list[dict[str, Any]]:
        where = "id > ?" + (" AND subject = ?" if subject else "")
        rows = self._query(
            f"SELECT id, {REJECTION_COLUMNS} FROM mlob_rejections WHERE {where} "
            "ORDER BY id LIMIT ?",
            (after, subject, limit) if subject else (after, limit),
        )
        return [dict(r) for r in rows]

    def messages(self, message_ids: Sequence[str]) -> dict[str, tuple[str, int]]:
        if not message_ids:
            return {}
        marks = ",".join("?" * len(message_ids))
        rows = self._query(
            f"SELECT message_id, digest, first_position FROM mlob_messages "
            f"WHERE message_id IN ({marks})",
            list(message_ids),
        )
        return {r[0]: (r[1], int(r[2])) for r in rows}

    def chain_links(self, *, after: int = 0, limit: int = 5000) -> list[ChainLink]:
        columns = ", ".join(f"i.{c.strip()}" for c in INDEX_COLUMNS.split(","))
        rows = self._query(
            f"SELECT {columns}, {EVENT_COLUMNS} FROM mlob_event_index i "
            f"LEFT JOIN {self.events_table_name} e ON e.rowid = i.position "
            "WHERE i.position > ? ORDER BY i.position LIMIT ?",
            (after, limit),
        )
        return [_chain_link(dict(r)) for r in rows]

    def chain_switches(self) -> list[dict[str, Any]]:
        try:
            rows = self._query(
                f"SELECT {SWITCH_COLUMNS} FROM mlob_chain_formats ORDER BY after_position, format",
                (),
            )
        except PersistenceError as exc:
            return _no_switches(exc)
        return [dict(r) for r in rows]

    def sign_chain_switch(self, format: int, signature: str) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                "UPDATE mlob_chain_formats SET signature = ? WHERE format = ? "
                "AND signature IS NULL",
                (signature, format),
            )

    def unindexed_events(self, limit: int = 10) -> list[int]:
        rows = self._query(
            f"SELECT e.rowid FROM {self.events_table_name} e WHERE NOT EXISTS "
            "(SELECT 1 FROM mlob_event_index i WHERE i.position = e.rowid) "
            "ORDER BY e.rowid LIMIT ?",
            (limit,),
        )
        return [int(r[0]) for r in rows]


class MlobPostgresRecorder(PostgresApplicationRecorder, IndexQueries):
    """The production store: PostgreSQL, serialised by the events table's EXCLUSIVE lock."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        # This store's own channel: eventsourcing names it after the table alone.
        self.channel_name = schema_channel(self.channel_name, datastore.schema)
        #: Backend process ids of the connections this recorder wrote with: a notification
        #: from any other backend is another process's write.
        self.writer_pids: set[int] = set()
        #: (position, hash) of the chain head this process wrote last, if it is known to be the
        #: head: the next commit can then go in one flight (``_insert_one_flight``).
        self._head: tuple[int, bytes] | None = None
        self.one_flight = self.head_moved = 0  # commits in one flight; guards that failed
        #: The connection of this thread's ``write_lock``, until its append takes it.
        self._held = threading.local()
        self.locked_appends = 0  # appends that committed under a ``write_lock``
        schema = Identifier(self.datastore.schema)
        self.index_table = SQL("{}.{}").format(schema, Identifier("mlob_event_index"))
        self.messages_table = SQL("{}.{}").format(schema, Identifier("mlob_messages"))
        self.events_table = SQL("{}.{}").format(schema, Identifier(self.events_table_name))
        self.rejections_table = SQL("{}.{}").format(schema, Identifier("mlob_rejections"))
        self.formats_table = SQL("{}.{}").format(schema, Identifier("mlob_chain_formats"))
        sequence = Literal(f"{self.datastore.schema}.{self.events_table_name}")
        # Statements composed once: psycopg then caches and prepares them.
        self.sql_seen_messages = _sql(
            "SELECT message_id FROM {} WHERE message_id = ANY(%s)",
            self.messages_table,
        )
        self.sql_seen_digests = _sql(
            "SELECT message_id, digest, first_position FROM {} WHERE message_id = ANY(%s)",
            self.messages_table,
        )
        self.sql_chain_head = _sql(
            "SELECT position, hash FROM {} ORDER BY position DESC LIMIT 1",
            self.index_table,
        )
        self.sql_copy_index = _sql(
            "COPY {} (" + INDEX_COLUMNS + ") FROM STDIN",
            self.index_table,
        )
        self.sql_copy_events = _sql(
            "COPY {} (originator_id, originator_version, topic, state) FROM STDIN",
            self.events_table,
        )
        self.sql_last_id = _sql(
            "SELECT currval(pg_get_serial_sequence({}, 'notification_id')) AS last",
            sequence,
        )
        self.sql_select_after = _sql(
            # One index range scan per stream, also under the generic plan PostgreSQL gives a
            # prepared statement after five runs: there a plain join became a hash join over a
            # sequential scan of the whole events table (25 ms at 70,000 events and growing).
            # OFFSET 0 keeps the planner from flattening the LATERAL subquery back into a join.
            "SELECT e.originator_id, e.originator_version, e.topic, e.state "
            "FROM unnest(%s::uuid[], %s::bigint[]) AS c(id, v) CROSS JOIN LATERAL ("
            "SELECT originator_id, originator_version, topic, state FROM {} "
            "WHERE originator_id = c.id AND originator_version > c.v OFFSET 0) e "
            "ORDER BY e.originator_id, e.originator_version",
            self.events_table,
        )
        # Under the lock, in one round trip: positions for the new events (drawn in commit
        # order), the chain head, and which of the message ids were recorded before.
        self.sql_prelude = _sql(
            "SELECT array(SELECT nextval(pg_get_serial_sequence({}, 'notification_id')) "
            "FROM generate_series(1, %s)) AS ids, h.hash AS head, h.position AS head_position, "
            "array(SELECT message_id FROM {} WHERE message_id = ANY(%s)) AS seen "
            "FROM (SELECT 1) AS one LEFT JOIN "
            "(SELECT position, hash FROM {} ORDER BY position DESC LIMIT 1) AS h ON true",
            sequence,
            self.messages_table,
            self.index_table,
        )
        # The one-flight commit's guard, in one statement: under the lock, the head (position
        # and hash) must still be the one this process last wrote; then the sequence is moved
        # past the positions the flight uses, else the statement fails (a cast that only runs
        # on a mismatch; a constant error would be raised at planning) and the flight rolls
        # back. The notification goes out at commit, as NOTIFY's would.
        # The library's lock statements are composed objects, rendered anew on every execute
        # (4 % of a single post's CPU, bench/profile_writes.py): rendered here once.
        self.sql_lock_table = [_rendered(s) for s in self.lock_table_statements]
        self.sql_expect_head = _sql(
            "SELECT CASE WHEN h.position IS NOT DISTINCT FROM %s AND h.hash = %s "
            "THEN setval(pg_get_serial_sequence({}, 'notification_id'), %s) "
            "ELSE ('" + HEAD_MOVED + " ' || coalesce(h.position, -1))::bigint END, "
            "pg_notify({}, '') "
            "FROM (SELECT 1) AS one LEFT JOIN "
            "(SELECT position, hash FROM {} ORDER BY position DESC LIMIT 1) AS h ON true",
            sequence,
            Literal(self.channel_name),
            self.index_table,
        )
        # Few rows go in as one statement per table over arrays (unnest): psycopg's
        # executemany costs a round of Python per row in a pipeline.
        self.sql_insert_events = _sql(
            "INSERT INTO {} (originator_id, originator_version, topic, state, "
            "notification_id) SELECT * FROM unnest(%b::uuid[], %b::int8[], %b::text[], "
            "%b::bytea[], %b::int8[])",
            self.events_table,
        )
        self.sql_insert_index = _sql(
            "INSERT INTO {} (" + INDEX_COLUMNS + ") SELECT p, s, v, t, o, r, ao, ar, ap, au, "
            "string_to_array(rg, ' '), c, x, m, co, ca, h FROM unnest(%b::int8[], %b::uuid[], "
            "%b::int8[], %b::text[], %b::timestamptz[], %b::timestamptz[], %b::text[], "
            "%b::text[], %b::text[], %b::text[], %b::text[], %b::text[], %b::bool[], "
            "%b::text[], %b::text[], %b::text[], %b::bytea[]) "
            "AS u(p, s, v, t, o, r, ao, ar, ap, au, rg, c, x, m, co, ca, h)",
            self.index_table,
        )
        self.sql_insert_messages = _sql(
            "INSERT INTO {} (message_id, digest, first_position) "
            "SELECT m, d, %b::int8 FROM unnest(%b::text[], %b::text[]) AS u(m, d)",
            self.messages_table,
        )
        # The one-flight commit's guard and inserts as one statement (data-modifying CTEs):
        # they share the statement's snapshot, so the guard sees the head before the inserts,
        # and its error, or theirs, fails all of it.
        self.sql_one_flight = (
            f"WITH g AS ({self.sql_expect_head}), e AS ({self.sql_insert_events}), "
            f"i AS ({self.sql_insert_index}), m AS ({self.sql_insert_messages}) SELECT 1 FROM g"
        )
        self.sql_copy_messages = _sql(
            "COPY {} (message_id, digest, first_position) FROM STDIN",
            self.messages_table,
        )
        self.sql_create_statements.extend(
            [
                SQL(
                    "CREATE TABLE IF NOT EXISTS {} ("
                    "position bigint PRIMARY KEY, stream_id uuid NOT NULL, "
                    "version bigint NOT NULL, event_type text NOT NULL, "
                    "occurred_at timestamptz NOT NULL, recorded_at timestamptz NOT NULL, "
                    "actor_org text NOT NULL, actor_role text NOT NULL, actor_person text, "
                    "authority text, regions text[] NOT NULL, classification text NOT NULL, "
                    "exercise boolean NOT NULL, message_id text NOT NULL, correlation_id text, "
                    "causation_id text, hash bytea NOT NULL, UNIQUE (stream_id, version))"
                ).format(self.index_table),
                SQL(
                    "CREATE INDEX IF NOT EXISTS mlob_event_index_occurred ON {} (occurred_at)"
                ).format(self.index_table),
                SQL(
                    "CREATE INDEX IF NOT EXISTS mlob_event_index_message ON {} (message_id)"
                ).format(self.index_table),
                SQL(
                    "CREATE TABLE IF NOT EXISTS {} (message_id text PRIMARY KEY, "
                    "digest text NOT NULL, first_position bigint NOT NULL)"
                ).format(self.messages_table),
                SQL(
                    "CREATE TABLE IF NOT EXISTS {} (id bigserial PRIMARY KEY, "
                    "at timestamptz NOT NULL, org text, role text, person text, event_type text, "
                    "subject text, message_id text, item_index integer, status integer NOT NULL, "
                    "code text NOT NULL, reason text NOT NULL, source text)"
                ).format(self.rejections_table),
            ]
        )

    def create_table(self) -> None:
        # A store already made is changed only by the migrations (mlob/migrations): the
        # library's CREATE INDEX IF NOT EXISTS would take a SHARE lock on the events table, so
        # every other node's appends would wait while this one starts (a rolling restart).
        with self.datastore.get_connection() as conn:
            table = f'"{self.datastore.schema}"."{self.events_table_name}"'
            made = conn.execute("SELECT to_regclass(%s) AS found", (table,)).fetchone()
            if made is not None and made["found"] is not None:
                return
        # Processes that start together (compose.yaml starts the server and the worker at once)
        # would race on the library's CREATE TYPE, CREATE TABLE IF NOT EXISTS and CREATE OR
        # REPLACE FUNCTION ("tuple concurrently updated", duplicate keys): one creator at a
        # time, under a session advisory lock on a connection of its own.
        with self.datastore.get_connection() as conn:
            conn.execute("SELECT pg_advisory_lock(hashtext('mlob_store_schema'))")
            try:
                super().create_table()
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext('mlob_store_schema'))")

    def insert_events(
        self,
        stored_events: Sequence[StoredEvent],
        *,
        index: Sequence[LoggedEvent] = (),
        messages: Sequence[tuple[str, str]] = (),
        **kwargs: Any,
    ) -> Sequence[int] | None:
        return self.append(stored_events, index=index, messages=messages).positions

    def append(
        self,
        stored_events: Sequence[StoredEvent],
        *,
        index: Sequence[LoggedEvent],
        messages: Sequence[tuple[str, str]] = (),
    ) -> Inserted:
        """Write events, their index rows and message ids in one transaction; what it wrote.
        No automatic retry: a retry after an unknown commit outcome would need the message
        log to tell, and the writer handles that (mlob/write/writer.py)."""
        if not stored_events:
            return Inserted(0, [], [], [])
        held = getattr(self._held, "conn", None)
        if held is not None:
            self._held.conn = None  # one append per hold
            return self._append_held(held, stored_events, index, messages)
        head, self._head = self._head, None  # unknown until this commit is known to be done
        with self.datastore.get_connection() as conn:
            pid = conn.info.backend_pid
            if pid not in self.writer_pids:  # before the commit notifies
                if len(self.writer_pids) >= WRITER_PIDS:
                    # The pool replaces connections; a backend pid may later be another
                    # process's. Forgetting them costs only a needless emptying of memory.
                    self.writer_pids.clear()
                self.writer_pids.add(pid)
            try:
                written = None
                if len(stored_events) > COPY_FROM:
                    written = self._insert_copy(conn, stored_events, index, messages)
                elif head is not None:
                    written = self._insert_one_flight(conn, stored_events, index, messages, head)
                    head = None  # written, or someone else wrote the head: learn it anew
                if written is None:
                    written = self._insert_pipelined(conn, stored_events, index, messages)
            except (psycopg.IntegrityError, DuplicateMessage):
                self._head = head  # refused: nothing was written, the head stands
                raise
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                _lost_or_failed(conn, pid, exc)
        self._head = (written.recorded[-1].position, written.hashes[-1])
        return written

    @contextlib.contextmanager
    def write_lock(self) -> Iterator[None]:
        """Hold the store's write lock (the events table's EXCLUSIVE lock) from now until this
        thread's next ``append`` commits, or the block ends. Meanwhile no other process can
        write: what this thread reads (``_query`` and ``prefetch`` use the lock's connection)
        is what that append will find, so it cannot conflict with another process's write.
        For a group of appends that lost to another process's commit on fresh state
        (mlob/write/writer.py): read, decide and commit in one turn. Other readers are not
        held up (EXCLUSIVE does not block SELECT)."""
        with self.datastore.get_connection() as conn:
            try:
                conn.execute("BEGIN")
                with conn.cursor() as curs:
                    self._lock_table(curs)
                self._held.conn = conn
                yield
            finally:
                self._held.conn = None
                if conn.info.transaction_status != TransactionStatus.IDLE:
                    with contextlib.suppress(psycopg.Error):
                        conn.rollback()  # nothing appended (all refused), or it failed

    def _append_held(
        self,
        conn: Any,
        stored_events: Sequence[StoredEvent],
        index: Sequence[LoggedEvent],
        messages: Sequence[tuple[str, str]],
    ) -> Inserted:
        """``append`` in the transaction of this thread's ``write_lock``, committing it."""
        self._head = None
        pid = conn.info.backend_pid
        if len(self.writer_pids) >= WRITER_PIDS:
            self.writer_pids.clear()
        self.writer_pids.add(pid)
        try:
            written = self._insert_pipelined(conn, stored_events, index, messages, held=True)
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            _lost_or_failed(conn, pid, exc)
        except BaseException as exc:
            with contextlib.suppress(psycopg.Error):
                conn.rollback()  # the lock goes now: the writer may run its appends again
            if isinstance(exc, psycopg.IntegrityError):  # as the pool's connections give it
                raise IntegrityError(str(exc)) from exc
            raise
        self.locked_appends += 1
        self._head = (written.recorded[-1].position, written.hashes[-1])
        return written

    def backend_gone(self, pid: int) -> bool:
        """Whether the server has no backend ``pid`` any more (asked on a fresh connection):
        then its transaction has committed or rolled back for good."""
        with self.datastore.get_connection() as conn:
            row = conn.execute("SELECT 1 AS found FROM pg_stat_activity WHERE pid = %s", (pid,))
            return row.fetchone() is None

    def _lock_table(self, curs: Any) -> None:
        for statement in self.sql_lock_table:
            curs.execute(statement, prepare=True)

    def _insert_one_flight(
        self,
        conn: Any,
        stored_events: Sequence[StoredEvent],
        index: Sequence[LoggedEvent],
        messages: Sequence[tuple[str, str]],
        head: tuple[int, bytes],
    ) -> Inserted | None:
        """One round trip, when this process wrote the head last (the usual case with one
        writer process): positions and chain links follow from that head, and a guard under
        the lock makes the whole flight fail if someone else wrote since. None: the head
        moved (nothing was written); a recorded message id fails the flight as an
        IntegrityError (the caller then reads, and answers it as a replay)."""
        last, previous = head
        positions = list(range(last + 1, last + 1 + len(stored_events)))
        inserted = _chain(previous, last, stored_events, positions, index)
        try:
            with conn.pipeline(), conn.transaction(), conn.cursor() as curs:
                self._lock_table(curs)
                events, index_, messages_ = self._row_arrays(stored_events, inserted, messages)
                curs.execute(
                    self.sql_one_flight,
                    (last, previous, positions[-1], *events, *index_, *messages_),
                )
        except psycopg.errors.InvalidTextRepresentation as exc:
            if HEAD_MOVED not in str(exc):
                raise
            self.head_moved += 1
            return None
        self.one_flight += 1
        return inserted

    def _write_rows(
        self,
        curs: Any,
        stored_events: Sequence[StoredEvent],
        inserted: Inserted,
        messages: Sequence[tuple[str, str]],
    ) -> None:
        self._notify_channel(curs)
        events, index, messages_ = self._row_arrays(stored_events, inserted, messages)
        curs.execute(self.sql_insert_events, events)
        curs.execute(self.sql_insert_index, index)
        if messages:
            curs.execute(self.sql_insert_messages, messages_)

    def _row_arrays(
        self,
        stored_events: Sequence[StoredEvent],
        inserted: Inserted,
        messages: Sequence[tuple[str, str]],
    ) -> tuple[tuple[Any, ...], list[list[Any]], tuple[Any, ...]]:
        """The parameters of the three inserts: one array per column."""
        positions = inserted.positions
        events = (
            [s.originator_id for s in stored_events],
            [s.originator_version for s in stored_events],
            [s.topic for s in stored_events],
            [s.state for s in stored_events],
            positions,
        )
        rows = [
            self._index_row(e, d) for e, d in zip(inserted.recorded, inserted.hashes, strict=True)
        ]
        index: list[list[Any]] = [list(c) for c in zip(*rows, strict=True)]
        index[10] = [" ".join(regions) for regions in index[10]]
        return events, index, (positions[0], [m for m, _ in messages], [d for _, d in messages])

    def _lock_and_check(self, curs: Any, messages: Sequence[tuple[str, str]]) -> None:
        self._lock_table(curs)
        if messages:
            curs.execute(self.sql_seen_messages, ([m for m, _ in messages],))
            seen = [r["message_id"] for r in curs.fetchall()]
            if seen:
                raise DuplicateMessage(sorted(seen))

    @staticmethod
    def _index_row(e: LoggedEvent, digest: bytes) -> tuple[Any, ...]:
        return (
            e.position,
            e.stream_id,
            e.version,
            e.event_type,
            e.occurred_at,
            e.recorded_at,
            e.actor_org,
            e.actor_role,
            e.actor_person,
            e.authority,
            list(e.regions),
            e.classification,
            e.exercise,
            e.message_id,
            e.correlation_id,
            e.causation_id,
            digest,
        )

    def _insert_pipelined(
        self,
        conn: Any,
        stored_events: Sequence[StoredEvent],
        index: Sequence[LoggedEvent],
        messages: Sequence[tuple[str, str]],
        *,
        held: bool = False,
    ) -> Inserted:
        """Few events: two round trips. The positions are drawn from the sequence under the
        lock (so they follow commit order), then everything is sent in one flight.
        ``held``: in the open transaction of a ``write_lock`` (locked already), committed
        here."""
        # A Python error before the sync must roll back, so nothing here swallows it.
        scope = contextlib.nullcontext() if held else conn.transaction()
        with conn.pipeline(), scope, conn.cursor() as curs:
            if not held:
                self._lock_table(curs)
            curs.execute(self.sql_prelude, (len(stored_events), [m for m, _ in messages]))
            prelude = curs.fetchone()
            if prelude["seen"]:
                raise DuplicateMessage(sorted(prelude["seen"]))
            positions = list(prelude["ids"])
            previous = bytes(prelude["head"]) if prelude["head"] else GENESIS
            inserted = _chain(
                previous, prelude["head_position"] or 0, stored_events, positions, index
            )
            # The inserts travel with the COMMIT: a constraint violation surfaces as the
            # IntegrityError of the commit, and nothing is written.
            self._write_rows(curs, stored_events, inserted, messages)
            if held:
                curs.execute("COMMIT")
        return inserted

    def _insert_copy(
        self,
        conn: Any,
        stored_events: Sequence[StoredEvent],
        index: Sequence[LoggedEvent],
        messages: Sequence[tuple[str, str]],
    ) -> Inserted:
        """Many events: COPY, the fastest way in for many rows at once."""
        with conn.transaction(), conn.cursor() as curs:
            self._lock_and_check(curs, messages)
            self._notify_channel(curs)
            # Under the EXCLUSIVE lock no one else draws from the sequence, so the copied
            # events get consecutive notification ids in row order.
            with curs.copy(self.sql_copy_events) as copy:
                for stored in stored_events:
                    copy.write_row(
                        (
                            stored.originator_id,
                            stored.originator_version,
                            stored.topic,
                            stored.state,
                        )
                    )
            curs.execute(self.sql_last_id)
            last = curs.fetchone()["last"]
            positions = list(range(last - len(stored_events) + 1, last + 1))
            curs.execute(self.sql_chain_head)
            head = curs.fetchone()
            previous = bytes(head["hash"]) if head else GENESIS
            predecessor = head["position"] if head else 0
            inserted = _chain(previous, predecessor, stored_events, positions, index)
            with curs.copy(self.sql_copy_index) as copy:
                for e, digest in zip(inserted.recorded, inserted.hashes, strict=True):
                    copy.write_row(self._index_row(e, digest))
            if messages:
                with curs.copy(self.sql_copy_messages) as copy:
                    for mid, content in messages:
                        copy.write_row((mid, content, positions[0]))
        return inserted

    def _query(self, statement: Any, params: Sequence[Any]) -> list[dict[str, Any]]:
        held = getattr(self._held, "conn", None)  # this thread's write_lock: read under it
        with (
            (
                contextlib.nullcontext(held)
                if held is not None
                else self.datastore.get_connection()
            ) as conn,
            conn.cursor() as curs,
        ):
            curs.execute(statement, params)
            return list(curs.fetchall())

    def index_rows(
        self,
        *,
        after: int = 0,
        limit: int = 1000,
        stream_id: UUID | None = None,
        until_position: int | None = None,
        message_ids: Sequence[str] = (),
        positions: Sequence[int] = (),
        where: RowFilter | None = None,
    ) -> list[LoggedEvent]:
        statement = SQL("SELECT " + INDEX_COLUMNS + " FROM {} WHERE position > %s").format(
            self.index_table
        )
        params: list[Any] = [after]
        if stream_id is not None:
            statement += SQL(" AND stream_id = %s")
            params.append(stream_id)
        if until_position is not None:
            statement += SQL(" AND position <= %s")
            params.append(until_position)
        if message_ids:
            statement += SQL(" AND message_id = ANY(%s)")
            params.append(list(message_ids))
        if positions:
            statement += SQL(" AND position = ANY(%s)")
            params.append(list(positions))
        if where is not None:
            if where.event_types:
                statement += SQL(" AND event_type = ANY(%s)")
                params.append(list(where.event_types))
            if where.actor_org is not None:
                statement += SQL(" AND actor_org = %s")
                params.append(where.actor_org)
            if where.occurred_from is not None:
                statement += SQL(" AND occurred_at >= %s")
                params.append(where.occurred_from)
            if where.occurred_to is not None:
                statement += SQL(" AND occurred_at < %s")
                params.append(where.occurred_to)
            if where.exercise is not None:
                statement += SQL(" AND exercise = %s")
                params.append(where.exercise)
        statement += SQL(" ORDER BY position LIMIT %s")
        params.append(limit)
        return [from_row(r) for r in self._query(statement, params)]

    def index_marks(
        self, *, after: int, limit: int, until_position: int | None = None
    ) -> list[EventMark]:
        statement = SQL(
            "SELECT position, stream_id, version, event_type, regions, classification, exercise "
            "FROM {} WHERE position > %s AND position <= %s ORDER BY position LIMIT %s"
        ).format(self.index_table)
        until = until_position if until_position is not None else _NO_END
        return [
            EventMark(p, s, v, t, tuple(r), c, x)
            for p, s, v, t, r, c, x in self._tuples(statement, (after, until, limit))
        ]

    def last_position(self) -> int:
        rows = self._query(SQL("SELECT MAX(position) AS m FROM {}").format(self.index_table), ())
        return int(rows[0]["m"] or 0)

    def classifications(self, until: int) -> set[str]:
        rows = self._query(
            SQL("SELECT DISTINCT classification AS c FROM {} WHERE position <= %s").format(
                self.index_table
            ),
            (until,),
        )
        return {str(r["c"]) for r in rows}

    def entries_until(
        self, after: int, until: int, column: str, moment: datetime
    ) -> list[tuple[int, UUID, int]]:
        statement = SQL(
            "SELECT position, stream_id, version FROM {} WHERE position > %s AND position <= %s "
            "AND {} <= %s ORDER BY position"
        ).format(self.index_table, Identifier(_time_column(column)))
        return self._tuples(statement, (after, until, moment))

    def notifications_at(self, positions: Sequence[int]) -> list[Notification]:
        statement = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {} "
            "WHERE notification_id = ANY(%s) ORDER BY notification_id"
        ).format(self.events_table)
        return [
            Notification(id=n, originator_id=s, originator_version=v, topic=t, state=bytes(state))
            for n, s, v, t, state in self._tuples(statement, (list(positions),))
        ]

    def _tuples(self, statement: Any, params: Sequence[Any]) -> list[Any]:
        """Rows as tuples: for long results, a dict per row costs more than the query."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(statement, params)
            return list(curs.fetchall())

    def time_bounds(self, after: int, until: int) -> dict[str, datetime]:
        row = self._query(
            SQL(
                "SELECT min(recorded_at) AS a, max(recorded_at) AS b, min(occurred_at) AS c, "
                "max(occurred_at) AS d FROM {} WHERE position > %s AND position <= %s"
            ).format(self.index_table),
            (after, until),
        )[0]
        if row["a"] is None:
            return {}
        return dict(zip(_BOUNDS, row.values(), strict=True))

    def stream_ends(self, stream_id: UUID) -> tuple[LoggedEvent | None, LoggedEvent | None]:
        ends = []
        for order in (SQL("ASC"), SQL("DESC")):
            rows = self._query(
                SQL(
                    "SELECT " + INDEX_COLUMNS + " FROM {} WHERE stream_id = %s "
                    "ORDER BY version {} LIMIT 1"
                ).format(self.index_table, order),
                (stream_id,),
            )
            ends.append(from_row(rows[0]) if rows else None)
        return ends[0], ends[1]

    def created_as(self, stream_ids: Sequence[UUID]) -> dict[UUID, str]:
        statement = SQL(
            "SELECT stream_id, classification FROM {} WHERE version = 1 AND stream_id = ANY(%s)"
        ).format(self.index_table)
        return {s: str(c) for s, c in self._tuples(statement, (list(stream_ids),))}

    def select_after(self, known: Sequence[tuple[UUID, int]]) -> list[StoredEvent]:
        if not known:
            return []
        rows = self._query(self.sql_select_after, ([k[0] for k in known], [k[1] for k in known]))
        return [
            StoredEvent(r["originator_id"], r["originator_version"], r["topic"], bytes(r["state"]))
            for r in rows
        ]

    def prefetch(
        self, message_ids: Sequence[str], known: Sequence[tuple[UUID, int]]
    ) -> tuple[dict[str, tuple[str, int]], list[StoredEvent]]:
        """Both reads of a group in one round trip (pipeline mode); under this thread's
        ``write_lock``, on its connection."""
        held = getattr(self._held, "conn", None)
        with (
            (
                contextlib.nullcontext(held)
                if held is not None
                else self.datastore.get_connection()
            ) as conn,
            conn.pipeline(),
            conn.cursor() as seen,
            conn.cursor() as events,
        ):
            seen.execute(self.sql_seen_digests, (list(message_ids),))
            events.execute(self.sql_select_after, ([k[0] for k in known], [k[1] for k in known]))
            messages = {
                r["message_id"]: (r["digest"], int(r["first_position"])) for r in seen.fetchall()
            }
            stored = [
                StoredEvent(
                    r["originator_id"], r["originator_version"], r["topic"], bytes(r["state"])
                )
                for r in events.fetchall()
            ]
        return messages, stored

    def streams_created_as(self, event_types: Sequence[str]) -> list[UUID]:
        rows = self._query(
            SQL(
                "SELECT stream_id FROM {} WHERE version = 1 AND event_type = ANY(%s) "
                "ORDER BY position"
            ).format(self.index_table),
            (list(event_types),),
        )
        return [r["stream_id"] for r in rows]

    def log_rejection(self, rejection: dict[str, Any]) -> None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "INSERT INTO {} (" + REJECTION_COLUMNS + ") "
                    "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)"
                ).format(self.rejections_table),
                [_rejection_value(rejection, k.strip()) for k in REJECTION_COLUMNS.split(",")],
            )

    def rejections(
        self, *, after: int = 0, limit: int = 1000, subject: str | None = None
    ) -> list[dict[str, Any]]:
        where = "id > %s" + (" AND subject = %s" if subject else "")
        rows = self._query(
            SQL(
                "SELECT id, " + REJECTION_COLUMNS + " FROM {} WHERE " + where + " ORDER BY id "
                "LIMIT %s"
            ).format(self.rejections_table),
            (after, subject, limit) if subject else (after, limit),
        )
        for row in rows:
            row["at"] = utc_text(row["at"])
        return rows

    def messages(self, message_ids: Sequence[str]) -> dict[str, tuple[str, int]]:
        if not message_ids:
            return {}
        rows = self._query(
            SQL(
                "SELECT message_id, digest, first_position FROM {} WHERE message_id = ANY(%s)"
            ).format(self.messages_table),
            (list(message_ids),),
        )
        return {r["message_id"]: (r["digest"], int(r["first_position"])) for r in rows}

    def chain_links(self, *, after: int = 0, limit: int = 5000) -> list[ChainLink]:
        columns = SQL(", ").join(
            SQL("i.{}").format(Identifier(c.strip())) for c in INDEX_COLUMNS.split(",")
        )
        rows = self._query(
            SQL(
                "SELECT {}, " + EVENT_COLUMNS + " FROM {} i LEFT JOIN {} e "
                "ON e.notification_id = i.position WHERE i.position > %s "
                "ORDER BY i.position LIMIT %s"
            ).format(columns, self.index_table, self.events_table),
            (after, limit),
        )
        return [_chain_link(r) for r in rows]

    def chain_switches(self) -> list[dict[str, Any]]:
        try:
            return self._query(
                SQL("SELECT " + SWITCH_COLUMNS + " FROM {} ORDER BY after_position, format").format(
                    self.formats_table
                ),
                (),
            )
        except (PersistenceError, psycopg.errors.UndefinedTable) as exc:
            return _no_switches(exc)

    def sign_chain_switch(self, format: int, signature: str) -> None:
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            curs.execute(
                SQL("UPDATE {} SET signature = %s WHERE format = %s AND signature IS NULL").format(
                    self.formats_table
                ),
                (signature, format),
            )

    def unindexed_events(self, limit: int = 10) -> list[int]:
        rows = self._tuples(
            SQL(
                "SELECT e.notification_id FROM {} e WHERE NOT EXISTS "
                "(SELECT 1 FROM {} i WHERE i.position = e.notification_id) "
                "ORDER BY e.notification_id LIMIT %s"
            ).format(self.events_table, self.index_table),
            (limit,),
        )
        return [int(r[0]) for r in rows]


def _no_switches(exc: Exception) -> list[dict[str, Any]]:
    """No switch table (dropped by someone who can write the database): no switch recorded,
    which verification reports; any other error is raised."""
    text = str(exc)
    if "mlob_chain_formats" in text and ("no such table" in text or "does not exist" in text):
        return []
    raise exc


def _rejection_value(rejection: dict[str, Any], key: str) -> Any:
    value = rejection.get(key)
    return utc_text(value) if isinstance(value, datetime) else value


#: Either store's recorder.
MlobRecorder = MlobSQLiteRecorder | MlobPostgresRecorder


def iter_chain(
    recorder: IndexQueries, batch: int = 5000, after: int = 0
) -> Iterator[tuple[IndexRecord, EventColumns]]:
    """Every index row (after ``after``) with its stored event, in position order."""
    while rows := recorder.chain_rows(after=after, limit=batch):
        yield from rows
        after = rows[-1][0].position


def iter_links(recorder: IndexQueries, batch: int = 5000, after: int = 0) -> Iterator[ChainLink]:
    """Every index row (after ``after``) with its stored event, in position order, rows that
    cannot be read included (see :class:`ChainLink`)."""
    while rows := recorder.chain_links(after=after, limit=batch):
        yield from rows
        after = rows[-1].position
