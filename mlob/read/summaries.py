"""The picture's national summary counted in SQL (issue 21): what
:func:`projections.readmodels.national_summary` computes from every row, as three GROUP BY
queries over the rows one reader sees (its level's rule and filters, mlob/read/listing.py),
put together by :func:`projections.readmodels.summary_of_counts`. The Python function stays
the reference: tests compare both on random rows, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from api.ports import PageQuery
from mlob.read.listing import filters_sql


def _regions(dialect: str) -> tuple[str, str]:
    """A FROM item that takes each region key of a row ``r`` as ``k``, and the region's code."""
    if dialect == "sqlite":
        return "json_each(r.keys) j", "substr(j.value, 8)"
    return "unnest(r.keys) AS j(v)", "substr(j.v, 8)"


def _region_rows(dialect: str) -> str:
    return (
        "substr(j.value, 1, 7) = 'region:'"
        if dialect == "sqlite"
        else ("substr(j.v, 1, 7) = 'region:'")
    )


def summary_sql(
    incidents: str, requests: str, query: PageQuery, dialect: str
) -> list[tuple[str, list[Any]]]:
    """The queries: open incidents per region (count, highest GRIP rank); open incidents in
    all; requests per kind and status; requests per region and status."""
    each, code = _regions(dialect)
    region_rows = _region_rows(dialect)
    where_i, args_i = filters_sql("incidents", incidents, query, dialect)
    where_r, args_r = filters_sql("requests", requests, query, dialect)
    open_i = " AND ".join([*where_i, "r.closed = 0"])
    every_r = " AND ".join(where_r)
    return [
        (
            f"SELECT {code}, COUNT(*), MAX(r.grip_rank) FROM {incidents} r, {each} "
            f"WHERE {open_i} AND {region_rows} GROUP BY 1",
            args_i,
        ),
        (f"SELECT COUNT(*) FROM {incidents} r WHERE {open_i}", list(args_i)),
        (
            f"SELECT r.kind, r.status, COUNT(*) FROM {requests} r WHERE {every_r} GROUP BY 1, 2",
            args_r,
        ),
        (
            f"SELECT {code}, r.status, COUNT(*) FROM {requests} r, {each} "
            f"WHERE {every_r} AND {region_rows} GROUP BY 1, 2",
            list(args_r),
        ),
    ]
