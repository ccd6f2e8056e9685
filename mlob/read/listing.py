"""What a projection's rows are listed by: the columns its lists filter and sort on, beside the
row's JSON, and the SQL of one page (keyset pagination) on SQLite and PostgreSQL.

Each rows table (``mlob_rows_<name>``, readstore.py) keeps, per row, besides ``data``:

- ``sort_key``: the list's order as one text (binary collation in both stores), ties by ``id``;
  per projection :data:`LISTINGS` says what it holds and in which direction;
- ``exercise``: the subject's exercise flag;
- ``until_level``: the level of the subject's next higher row (1000: none), kept by the read
  store: a reader at level L sees the row with ``level <= L < until_level``;
- ``keys``: the row's scope keys (``domain.policy.row_keys``: its involved organisations and its
  regions), which a reader's ``domain.policy.scope_keys`` is matched against, so that a list
  preselects in SQL what the reader may see (``may_see_row`` still judges each row returned);
  SQLite: a JSON array, PostgreSQL: ``text[]`` with a GIN index;
- the projection's own filter columns (requests: ``kind``, ``status``, ``incident_id``,
  ``search`` — the title in lower case; capacities: ``capability``, ``provider``);
- what the request board orders and counts by (requests: ``on_board``, ``step``, ``urgent``
  and the moments its deadlines run from, as microseconds since the epoch: ``since_us``,
  ``formalise_us``, ``duty_us``) and what the picture's summary groups by (incidents:
  ``closed``, ``grip_rank``);
- whether a request's wants count as demand (requests: ``demanding``, :func:`rm.demanding`):
  the capacity overview and the scarcity advice read only those (mlob/read/bounded.py).

Migration 0006 added the first of them to the tables of earlier stores and filled them from
``data``; migration 0008 the board's and the summary's; migration 0009 ``demanding``.

The board's order (:func:`board_sql`) is the earliest deadline first: per item the earliest of
``since_us`` + the step's target, ``formalise_us`` + the formalisation target and ``duty_us`` +
the duty target (targets are settings, so they are parameters of the query, not columns); items
without any deadline last; then the longest in its step, then id. It does not follow the clock:
a cursor keeps its place while time passes (``overdue`` is "deadline <= now").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from api.ports import PageQuery
from domain import policy
from domain.incident import GripLevel
from projections import readmodels as rm

#: Separates the parts of a composite sort key (below every printable character).
SEP = "\x1f"


def utc_key(moment: str | None) -> str:
    """A moment as UTC text with microseconds: such texts sort as the moments do."""
    if not moment:
        return ""
    return datetime.fromisoformat(moment).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_us(moment: str | None) -> int | None:
    """A moment as microseconds since the epoch (exact: the board's deadlines add to it)."""
    if not moment:
        return None
    return (datetime.fromisoformat(moment) - EPOCH) // timedelta(microseconds=1)


def _on_board(r: Mapping[str, Any]) -> int:
    """:func:`projections.readmodels.on_board`, of rows of any code version (keys may lack)."""
    return int(
        r.get("status") in rm.OPEN_VALUES
        or bool(r.get("formalisation_outstanding"))
        or r.get("step") == rm.EXHAUSTION_CHECK
        or bool(r.get("duties_outstanding"))
    )


def _formalise_us(r: Mapping[str, Any]) -> int | None:
    return epoch_us(r.get("submitted_at")) if r.get("formalisation_outstanding") else None


def _duty_us(r: Mapping[str, Any]) -> int | None:
    found = [epoch_us(d.get("since")) for d in r.get("duties_outstanding") or ()]
    return min((f for f in found if f is not None), default=None)


def _demanding(r: Mapping[str, Any]) -> int:
    """:func:`projections.readmodels.demanding`, of rows of any code version (keys may lack)."""
    return int(rm.demanding(r)) if "demanding" in r or "status" in r else 0


def _grip_rank(r: Mapping[str, Any]) -> int | None:
    return GripLevel(r["grip"]).rank if r.get("grip") else None


@dataclass(frozen=True)
class Listing:
    """How one projection's rows are listed."""

    #: The order's key of a row (ties by id).
    sort: Callable[[Mapping[str, Any]], str]
    #: Newest (or highest) first.
    descending: bool
    #: The filter columns (text, unless in :attr:`integers`) and how each is taken from the row.
    columns: Mapping[str, Callable[[Mapping[str, Any]], Any]] = field(default_factory=dict)
    #: The columns that hold integers (booleans as 0 and 1, moments as :func:`epoch_us`).
    integers: frozenset[str] = frozenset()
    #: The columns no index starts with (a substring search, what a query computes with).
    unindexed: frozenset[str] = frozenset()
    #: What a count over every row a level sees reads (the picture's summary): an index of
    #: the level rule's columns holding these too, so the count reads no row (``summary``).
    counted: tuple[str, ...] = ()
    #: What the board orders and counts its rows by: an index of the on-board rows by the
    #: level rule's columns holding these too (``board``), so that neither the board's page
    #: nor its counts read a row (issue 21: a store's heap is its rows' JSON; reading it for
    #: 44k open requests took 290 ms, the index 20 ms).
    boarded: tuple[str, ...] = ()

    def values(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        """The listing columns of a row: sort key, exercise, keys, then :attr:`columns`."""
        return (
            self.sort(row),
            bool(row.get("exercise", False)),
            policy.row_keys(row),
            *(take(row) for take in self.columns.values()),
        )


#: Per projection: requests newest status change first; incidents open before closed, then by
#: title; capacities by capability, provider and name. Ties by id, in the same direction.
LISTINGS: dict[str, Listing] = {
    "requests": Listing(
        sort=lambda r: utc_key(r.get("status_since")),
        descending=True,
        columns={
            "kind": lambda r: _text(r.get("kind")),
            "status": lambda r: _text(r.get("status")),
            "incident_id": lambda r: _text(r.get("incident_id")),
            "search": lambda r: (r.get("title") or "").lower(),
            # the request board (migration 0008)
            "on_board": _on_board,
            "step": lambda r: _text(r.get("step")),
            "urgent": lambda r: int(bool(r.get("urgent"))),
            "since_us": lambda r: epoch_us(r.get("status_since")),
            "formalise_us": _formalise_us,
            "duty_us": _duty_us,
            # the capacity overview and the scarcity advice (migration 0009)
            "demanding": _demanding,
        },
        integers=frozenset(
            {"on_board", "urgent", "since_us", "formalise_us", "duty_us", "demanding"}
        ),
        unindexed=frozenset({"search", "step", "urgent", "since_us", "formalise_us", "duty_us"}),
        counted=("kind", "status", "keys"),
        boarded=("step", "urgent", "since_us", "formalise_us", "duty_us", "id"),
    ),
    "incidents": Listing(
        sort=lambda r: ("1" if r.get("closed") else "0") + SEP + (r.get("title") or ""),
        descending=False,
        # the picture's summary (migration 0008)
        columns={"closed": lambda r: int(bool(r.get("closed"))), "grip_rank": _grip_rank},
        integers=frozenset({"closed", "grip_rank"}),
        unindexed=frozenset({"closed", "grip_rank"}),
    ),
    "capacities": Listing(
        sort=lambda r: SEP.join(str(r.get(k) or "") for k in ("capability", "provider", "name")),
        descending=False,
        columns={
            "capability": lambda r: _text(r.get("capability")),
            "provider": lambda r: _text(r.get("provider")),
        },
    ),
}
#: A projection without a listing of its own: by id.
PLAIN = Listing(sort=lambda r: "", descending=False)


def listing(name: str) -> Listing:
    return LISTINGS.get(name, PLAIN)


def column_names(name: str) -> tuple[str, ...]:
    """The listing columns of a projection's rows, in :meth:`Listing.values` order."""
    return ("sort_key", "exercise", "keys", *listing(name).columns)


def columns_sql(name: str, dialect: str) -> str:
    """The listing columns' definitions, for CREATE TABLE."""
    if dialect == "sqlite":
        parts = ["sort_key TEXT NOT NULL DEFAULT ''", "exercise INTEGER NOT NULL DEFAULT 0"]
        parts.append("keys TEXT NOT NULL DEFAULT '[]'")
    else:
        parts = ["sort_key text COLLATE \"C\" NOT NULL DEFAULT ''"]
        parts += ["exercise boolean NOT NULL DEFAULT false", "keys text[] NOT NULL DEFAULT '{}'"]
    found = listing(name)
    integer = "INTEGER" if dialect == "sqlite" else "bigint"
    parts += [f"{c} {integer if c in found.integers else 'TEXT'}" for c in found.columns]
    return ", ".join(parts)


def index_names(name: str, dialect: str) -> tuple[str, ...]:
    """The suffixes of a rows table's indexes (``<table>_<suffix>``)."""
    unindexed = listing(name).unindexed
    found = ["sorted", *(c for c in listing(name).columns if c not in unindexed)]
    if listing(name).counted:
        found.append("summary")
    if listing(name).boarded:
        found.append("board")
    if dialect == "postgresql":
        found.append("keys")
    return tuple(found)


def index_sql(name: str, table: str, dialect: str) -> list[str]:
    """CREATE INDEX statements for a rows table: the order, each filter column before the
    order, and (PostgreSQL) the scope keys."""
    made = []
    for suffix in index_names(name, dialect):
        index = f"{table}_{suffix}"
        if suffix == "sorted":
            made.append(f"CREATE INDEX IF NOT EXISTS {index} ON {table} (sort_key, id)")
        elif suffix == "keys":
            made.append(f"CREATE INDEX IF NOT EXISTS {index} ON {table} USING gin (keys)")
        elif suffix == "summary":
            made.append(
                f"CREATE INDEX IF NOT EXISTS {index} ON {table} {summary_index(name, dialect)}"
            )
        elif suffix == "board":
            made.append(
                f"CREATE INDEX IF NOT EXISTS {index} ON {table} {board_index(name, dialect)}"
            )
        else:
            made.append(f"CREATE INDEX IF NOT EXISTS {index} ON {table} ({suffix}, sort_key, id)")
    return made


def summary_index(name: str, dialect: str) -> str:
    """The columns of a rows table's ``summary`` index (see :attr:`Listing.counted`)."""
    counted = ", ".join(listing(name).counted)
    if dialect == "sqlite":
        return f"(level, until_level, exercise, {counted})"
    return f"(level, until_level, exercise) INCLUDE ({counted})"


def board_index(name: str, dialect: str) -> str:
    """The columns of a rows table's ``board`` index (see :attr:`Listing.boarded`): partial,
    the on-board rows only."""
    boarded = ", ".join(listing(name).boarded)
    if dialect == "sqlite":  # it reads on_board from the index only if the index holds it
        return f"(exercise, level, until_level, {boarded}, on_board) WHERE on_board = 1"
    return f"(exercise, level, until_level) INCLUDE ({boarded}) WHERE on_board = 1"


def stored_values(name: str, row: Mapping[str, Any], dialect: str) -> tuple[Any, ...]:
    """A row's listing columns as the store keeps them."""
    values = list(listing(name).values(row))
    if dialect == "sqlite":
        values[2] = orjson.dumps(values[2]).decode()
    return tuple(values)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _mark(dialect: str) -> str:
    return "?" if dialect == "sqlite" else "%s"


def filters_sql(
    name: str, table: str, query: PageQuery, dialect: str
) -> tuple[list[str], list[Any]]:
    """The conditions on a rows table ``r`` that every read of it shares: each subject's row at
    the highest level at most the reader's, and the query's filters (not ``after``)."""
    mark = _mark(dialect)
    known = set(listing(name).columns) | {"exercise", "id"}
    # The row at the highest level at most the reader's: the store keeps with each row the
    # level of the subject's next higher row (``until_level``; readstore.py), so this needs no
    # look at the subject's other rows.
    where = [f"r.level <= {mark}", f"r.until_level > {mark}"]
    args: list[Any] = [query.level, query.level]
    for column, value in query.equals.items():
        if column not in known:
            raise ValueError(f"no listing column {column!r} on {name}")
        where.append(f"r.{column} = {mark}")
        args.append(value)
    if query.among is not None:
        column, values = query.among
        if column not in known:
            raise ValueError(f"no listing column {column!r} on {name}")
        where.append(f"r.{column} IN ({', '.join(mark for _ in values) or 'NULL'})")
        args += list(values)
    if query.scope is not None:
        if dialect == "sqlite":
            marks = ", ".join(mark for _ in query.scope) or "NULL"
            where.append(f"EXISTS (SELECT 1 FROM json_each(r.keys) WHERE value IN ({marks}))")
            args += sorted(query.scope)
        else:
            where.append(f"r.keys && {mark}::text[]")
            args.append(sorted(query.scope))
    for key in query.keys:
        if dialect == "sqlite":
            where.append(f"EXISTS (SELECT 1 FROM json_each(r.keys) WHERE value = {mark})")
            args.append(key)
        else:
            where.append(f"r.keys @> {mark}::text[]")
            args.append([key])
    if query.text is not None:
        found = [f"r.search LIKE {mark} ESCAPE '\\'"]
        args.append(_like(query.text.lower()))
        if query.ids:
            found.append(f"r.id IN ({', '.join(mark for _ in query.ids)})")
            args += list(query.ids)
        where.append("(" + " OR ".join(found) + ")")
    return where, args


def page_sql(name: str, table: str, query: PageQuery, dialect: str) -> tuple[str, list[Any]]:
    """The SELECT of one page: ``sort_key, id, data`` of at most ``limit + 1`` rows (one more
    tells whether a next page exists), in the listing's order."""
    mark = _mark(dialect)
    data = "data" if dialect == "sqlite" else "data::text"
    where, args = filters_sql(name, table, query, dialect)
    descending = listing(name).descending
    if query.after is not None:
        where.append(f"(r.sort_key, r.id) {'<' if descending else '>'} ({mark}, {mark})")
        args += list(query.after)
    order = " DESC" if descending else ""
    sql = (
        f"SELECT r.sort_key, r.id, {data} FROM {table} r WHERE {' AND '.join(where)} "
        f"ORDER BY r.sort_key{order}, r.id{order} LIMIT {mark}"
    )
    args.append(query.limit + 1)
    return sql, args


def matching_sql(name: str, table: str, query: PageQuery, dialect: str) -> tuple[str, list[Any]]:
    """Every row the query selects (no order, no limit: for filters that bound it, such as
    ``among``), its ``data``."""
    data = "data" if dialect == "sqlite" else "data::text"
    where, args = filters_sql(name, table, query, dialect)
    return f"SELECT {data} FROM {table} r WHERE {' AND '.join(where)}", args


def count_sql(name: str, table: str, query: PageQuery, dialect: str) -> tuple[str, list[Any]]:
    """How many rows the query selects (``after`` and ``limit`` aside)."""
    where, args = filters_sql(name, table, query, dialect)
    return f"SELECT COUNT(*) FROM {table} r WHERE {' AND '.join(where)}", args


# --- the request board ------------------------------------------------------------------------

#: The deadline of a board item that has none (after every real one; no sum reaches it).
NO_DEADLINE = 4_000_000_000_000_000_000
_MINUTE_US = 60_000_000
#: A place in the board's order as a cursor's text: deadline and time in step, fixed width.
_PLACE = "{:020d}.{:020d}"


def board_place(deadline: int, since: int) -> str:
    return _PLACE.format(deadline, since)


def parse_board_place(text: str) -> tuple[int, int] | None:
    """The deadline and time in step of a cursor's place (None: not one)."""
    deadline, dot, since = text.partition(".")
    if not (dot and deadline.isascii() and deadline.isdigit() and since.isascii()):
        return None
    if not since.isdigit():
        return None
    return int(deadline), int(since)


def deadline_sql(targets: rm.Targets, dialect: str) -> tuple[str, list[Any]]:
    """A board row's deadline (microseconds since the epoch; :data:`NO_DEADLINE` for none):
    the earliest of its step's, its formalisation's and its earliest outstanding duty's."""
    mark = _mark(dialect)
    parts: list[str] = []
    args: list[Any] = []
    if targets.steps:
        cases = " ".join(
            f"WHEN {mark} THEN CASE WHEN r.urgent = 1 THEN {mark} ELSE {mark} END"
            for _ in targets.steps
        )
        parts.append(f"r.since_us + CASE r.step {cases} END")
        for step, (urgent, normal) in sorted(targets.steps.items()):
            args += [step, urgent * _MINUTE_US, normal * _MINUTE_US]
    parts.append(f"r.formalise_us + {mark}")
    args.append(targets.formalisation * _MINUTE_US)
    inform = targets.steps.get(rm.INFORM)
    if inform is not None:
        parts.append(f"r.duty_us + CASE WHEN r.urgent = 1 THEN {mark} ELSE {mark} END")
        args += [inform[0] * _MINUTE_US, inform[1] * _MINUTE_US]
    least = "min" if dialect == "sqlite" else "LEAST"
    # Both stores' min/LEAST of one argument or more; COALESCE: a part without a deadline.
    found = ", ".join(f"COALESCE({p}, {NO_DEADLINE})" for p in parts)
    return (f"{least}({found})" if len(parts) > 1 else found), args


def _board_rows(
    table: str, query: PageQuery, targets: rm.Targets, dialect: str
) -> tuple[str, list[Any]]:
    """The board's rows as their deadline ``d``, time in step ``s``, ordering id ``i`` and
    key (``id``, ``level``): narrow, so that ordering them all reads no row's JSON."""
    where, args = filters_sql("requests", table, query, dialect)
    deadline, before = deadline_sql(targets, dialect)
    ident = "r.id" if dialect == "sqlite" else 'r.id COLLATE "C"'
    sql = (
        f"SELECT {deadline} AS d, COALESCE(r.since_us, 0) AS s, {ident} AS i, r.id, r.level "
        f"FROM {table} r WHERE r.on_board = 1 AND {' AND '.join(where)}"
    )
    return sql, before + args


def board_sql(
    table: str,
    query: PageQuery,
    targets: rm.Targets,
    dialect: str,
    after: tuple[int, int, str] | None = None,
) -> tuple[str, list[Any]]:
    """One page of the board, earliest deadline first (see the module's text): ``d, s, i,
    data`` of at most ``limit + 1`` rows, after the place ``after`` (deadline, time in step,
    id). The page is chosen on the narrow rows; only its rows' JSON is read."""
    mark = _mark(dialect)
    data = "t.data" if dialect == "sqlite" else "t.data::text"
    rows, args = _board_rows(table, query, targets, dialect)
    chosen = f"SELECT d, s, i, id, level FROM ({rows}) b"
    if after is not None:
        chosen += f" WHERE (d, s, i) > ({mark}, {mark}, {mark})"
        args += list(after)
    chosen += f" ORDER BY d, s, i LIMIT {mark}"
    args.append(query.limit + 1)
    sql = (
        f"SELECT p.d, p.s, p.i, {data} FROM ({chosen}) p "
        f"JOIN {table} t ON t.id = p.id AND t.level = p.level ORDER BY p.d, p.s, p.i"
    )
    return sql, args


def board_counts_sql(
    table: str, query: PageQuery, targets: rm.Targets, now_us: int, dialect: str
) -> tuple[str, list[Any]]:
    """The board's exact counts in one query: every item, and those overdue (a deadline
    at or before now)."""
    mark = _mark(dialect)
    rows, args = _board_rows(table, query, targets, dialect)
    overdue = f"COALESCE(SUM(CASE WHEN d <= {mark} THEN 1 ELSE 0 END), 0)"
    sql = f"SELECT COUNT(*), {overdue} FROM ({rows}) b"
    return sql, [now_us, *args]


def board_paged(
    found: Sequence[tuple[int, int, str, Any]], limit: int
) -> tuple[list[dict[str, Any]], tuple[str, str] | None]:
    """A board page's rows and where the next starts (as a list cursor's (key, id))."""
    rows = [orjson.loads(r[3]) for r in found[:limit]]
    if len(found) <= limit:
        return rows, None
    last = found[limit - 1]
    return rows, (board_place(int(last[0]), int(last[1])), str(last[2]))


def paged(
    found: Sequence[tuple[str, str, Any]], limit: int
) -> tuple[list[dict[str, Any]], tuple[str, str] | None]:
    """A page's rows and the key after which the next page starts (None: the last page)."""
    rows = [orjson.loads(r[2]) for r in found[:limit]]
    after = (found[limit - 1][0], found[limit - 1][1]) if len(found) > limit else None
    return rows, after
