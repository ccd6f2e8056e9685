"""The rows the capacity overview and the scarcity advice are computed from, selected in SQL
(issue 21: no read in proportion to the store). Most requests are closed: the answers need only
those whose wants count as demand (the ``demanding`` column, :func:`rm.demanding`), for the
overview also those capacities are made ready for (whether approved says reserved:
:func:`rm.awaiting_approval`), and for the advice the incidents of the demanding requests (their
GRIP ranks the lines). Each is one reader's row (``level <= L < until_level``, listing.py) of the
exercise scope asked, as :func:`rm.visible` selects them; the answers equal those from every row
(tests/integration/projections/test_overview_and_scarcity_sql.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from api.ports import PageQuery
from mlob.read.readstore import ReadStore
from projections import readmodels as rm

Rows = dict[str, list[dict[str, Any]]]

#: Ids asked at once (a statement's parameters are limited: SQLite 32,766, psycopg 65,535).
CHUNK = 500


def among(
    store: ReadStore, name: str, level: int, equals: Mapping[str, Any], ids: Sequence[str]
) -> list[dict[str, Any]]:
    """The rows of these subjects a reader at ``level`` sees, of the scope ``equals`` asks."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(ids), CHUNK):
        chunk = tuple(ids[start : start + CHUNK])
        found += store.matching(name, PageQuery(level, equals, among=("id", chunk)))
    return found


def _capacities(store: ReadStore, level: int, equals: Mapping[str, Any]) -> list[dict[str, Any]]:
    # By id, as every row was read: the overview's ``by_class`` keeps the order met.
    found = store.matching("capacities", PageQuery(level, equals))
    return sorted(found, key=lambda c: str(c["id"]))


def _demanding(store: ReadStore, level: int, equals: Mapping[str, Any]) -> list[dict[str, Any]]:
    return store.matching("requests", PageQuery(level, {**equals, "demanding": 1}))


def overview_rows(store: ReadStore, level: int, equals: Mapping[str, Any]) -> Rows:
    """What :func:`rm.capacity_overview` needs: the capacities of the scope asked, its
    demanding requests, and the requests (of any scope) those capacities are made ready for."""
    capacities = _capacities(store, level, equals)
    requests = _demanding(store, level, equals)
    have = {r["id"] for r in requests}
    others = sorted(rm.awaiting_approval(capacities) - have)
    requests += among(store, "requests", level, {}, others)
    return {"capacities": capacities, "requests": requests}


def scarcity_rows(store: ReadStore, level: int, equals: Mapping[str, Any]) -> Rows:
    """What :func:`rm.scarcity` needs: the capacities and demanding requests of the scope asked
    and their incidents. (What a capacity has available does not depend on which requests are
    approved: made ready or reserved, it is held.)"""
    capacities = _capacities(store, level, equals)
    requests = _demanding(store, level, equals)
    wanted = sorted({r["incident_id"] for r in requests if r.get("incident_id")})
    incidents = among(store, "incidents", level, equals, wanted)
    return {"capacities": capacities, "requests": requests, "incidents": incidents}
