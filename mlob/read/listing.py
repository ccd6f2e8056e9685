"""What a projection's rows are listed by: the columns its lists filter and sort on, beside the
row's JSON, and the SQL of one page (keyset pagination) on SQLite and PostgreSQL.

Each rows table (``mlob_rows_<name>``, readstore.py) keeps, per row, besides ``data``:

- ``sort_key``: the list's order as one text (binary collation in both stores), ties by ``id``;
  per projection :data:`LISTINGS` says what it holds and in which direction;
- ``exercise``: the subject's exercise flag;
- ``keys``: the row's scope keys (``domain.policy.row_keys``: its involved organisations and its
  regions), which a reader's ``domain.policy.scope_keys`` is matched against, so that a list
  preselects in SQL what the reader may see (``may_see_row`` still judges each row returned);
  SQLite: a JSON array, PostgreSQL: ``text[]`` with a GIN index;
- the projection's own filter columns (requests: ``kind``, ``status``, ``incident_id``,
  ``search`` — the title in lower case; capacities: ``capability``, ``provider``).

Migration 0006 added them to the tables of earlier stores and filled them from ``data``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from domain import policy

#: Separates the parts of a composite sort key (below every printable character).
SEP = "\x1f"


def utc_key(moment: str | None) -> str:
    """A moment as UTC text with microseconds: such texts sort as the moments do."""
    if not moment:
        return ""
    return datetime.fromisoformat(moment).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class Listing:
    """How one projection's rows are listed."""

    #: The order's key of a row (ties by id).
    sort: Callable[[Mapping[str, Any]], str]
    #: Newest (or highest) first.
    descending: bool
    #: The filter columns (text) and how each is taken from the row.
    columns: Mapping[str, Callable[[Mapping[str, Any]], str | None]] = field(default_factory=dict)

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
        },
    ),
    "incidents": Listing(
        sort=lambda r: ("1" if r.get("closed") else "0") + SEP + (r.get("title") or ""),
        descending=False,
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
    parts += [f"{c} TEXT" for c in listing(name).columns]
    return ", ".join(parts)


def index_names(name: str, dialect: str) -> tuple[str, ...]:
    """The suffixes of a rows table's indexes (``<table>_<suffix>``)."""
    found = ["sorted", *listing(name).columns]
    found = [s for s in found if s != "search"]  # a substring search uses no b-tree
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
        else:
            made.append(f"CREATE INDEX IF NOT EXISTS {index} ON {table} ({suffix}, sort_key, id)")
    return made


def stored_values(name: str, row: Mapping[str, Any], dialect: str) -> tuple[Any, ...]:
    """A row's listing columns as the store keeps them."""
    values = list(listing(name).values(row))
    if dialect == "sqlite":
        values[2] = orjson.dumps(values[2]).decode()
    return tuple(values)


@dataclass(frozen=True)
class PageQuery:
    """One page of a projection's rows, as one reader may list them."""

    #: The reader's clearance level: each subject's row at the highest level at most this.
    level: int
    #: Filter columns that must equal a value (``exercise`` takes a bool).
    equals: Mapping[str, Any] = field(default_factory=dict)
    #: The reader's scope keys (None: every row): a row shares at least one.
    scope: frozenset[str] | None = None
    #: Keys a row must all have (``region=``).
    keys: Sequence[str] = ()
    #: A text the ``search`` column contains (lower case), or ...
    text: str | None = None
    #: ... one of these ids (with ``text``: either matches).
    ids: Sequence[str] = ()
    #: The (sort key, id) of the last row of the page before.
    after: tuple[str, str] | None = None
    limit: int = 50


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def page_sql(name: str, table: str, query: PageQuery, dialect: str) -> tuple[str, list[Any]]:
    """The SELECT of one page: ``sort_key, id, data`` of at most ``limit + 1`` rows (one more
    tells whether a next page exists), in the listing's order."""
    mark = "?" if dialect == "sqlite" else "%s"
    data = "data" if dialect == "sqlite" else "data::text"
    known = set(listing(name).columns) | {"exercise"}
    where = [
        f"r.level <= {mark}",
        f"NOT EXISTS (SELECT 1 FROM {table} h WHERE h.id = r.id AND h.level > r.level "
        f"AND h.level <= {mark})",
    ]
    args: list[Any] = [query.level, query.level]
    for column, value in query.equals.items():
        if column not in known:
            raise ValueError(f"no listing column {column!r} on {name}")
        where.append(f"r.{column} = {mark}")
        args.append(value)
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


def paged(
    found: Sequence[tuple[str, str, Any]], limit: int
) -> tuple[list[dict[str, Any]], tuple[str, str] | None]:
    """A page's rows and the key after which the next page starts (None: the last page)."""
    rows = [orjson.loads(r[2]) for r in found[:limit]]
    after = (found[limit - 1][0], found[limit - 1][1]) if len(found) > limit else None
    return rows, after
