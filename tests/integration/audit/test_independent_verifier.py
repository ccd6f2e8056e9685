"""The verification code printed in docs/hash-chain.md, run on rows read straight from the
database with the queries printed there (no mlob code), agrees with mlob's own hashes and
checkpoint signatures — on both stores, for a store in format 2 throughout and for a store
written in format 1 (as 72956bf did), upgraded and written on in format 2 — and finds a
rewritten topic in either format."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import pytest

from api.ports import Principal
from domain.envelope import Classification
from mlob import demo
from mlob.audit.tamper import checkpoint
from mlob.config import StoreConfig
from mlob.read.readstore import open_read_store
from mlob.service import Service
from mlob.write.application import MlobApplication
from projections.specs import PROJECTIONS
from tests import ROOT
from tests.conftest import pg_connect
from tests.integration.audit.conftest import as_format_1, raw_sql
from tests.integration.projections.conftest import NOW

ADMIN = Principal(org="LOCC", role="admin", clearance=Classification.STATE_SECRET_TOP_SECRET)
DOC = ROOT / "docs" / "hash-chain.md"
KEY = b"an auditor's key kept outside mlob!"


def documented() -> tuple[dict[str, Any], dict[str, str]]:
    """The doc's own Python (nothing else) and its SQL queries, by store."""
    text = DOC.read_text()
    [code] = re.findall(r"```python\n(.*?)```", text, re.S)
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    [sql] = re.findall(r"```sql\n(.*?)```", text, re.S)
    queries = [q.strip() for q in sql.split(";") if q.strip()]
    strip = lambda q: "\n".join(x for x in q.splitlines() if not x.startswith("--"))  # noqa: E731
    return namespace, {
        "sqlite": strip(queries[0]),
        "postgresql": strip(queries[1]),
        "switch": strip(queries[2]),
    }


def read(store: StoreConfig, queries: dict[str, str]) -> tuple[list[Any], dict[str, Any]]:
    """(index row, event, stored hash) per position, and the switch: as an auditor reads them."""
    if store.kind == "sqlite":
        with sqlite3.connect(str(store.sqlite_path)) as conn:
            conn.row_factory = sqlite3.Row
            found = [dict(r) for r in conn.execute(queries["sqlite"])]
            switch = dict(conn.execute(queries["switch"]).fetchone())
        for row in found:
            row["regions"] = row["regions"].split()
    else:
        from psycopg.rows import dict_row

        with pg_connect(store.schema) as conn:
            found = conn.cursor(row_factory=dict_row).execute(queries["postgresql"]).fetchall()
            switch = conn.cursor(row_factory=dict_row).execute(queries["switch"]).fetchone()
    rows = []
    for row in found:
        event = {k: row.pop(f"e_{k}") for k in ("originator_id", "originator_version", "topic")}
        event["state"] = bytes(row.pop("e_state") or b"")
        rows.append((row, event, bytes(row["hash"])))
    return rows, switch


@pytest.mark.parametrize("history", ["format-2", "format-1-upgraded"])
def test_the_documented_verifier_agrees(store_config: StoreConfig, history: str) -> None:
    app = MlobApplication(store_config)
    service = Service(app)
    demo.load_demo(service, NOW)
    switch_at = 0
    if history == "format-1-upgraded":
        switch_at = as_format_1(app, store_config)
        app = MlobApplication(store_config)
        for org in ("VR08", "VR23", "VR21"):  # more, in format 2
            Service(app).issue_token(
                ADMIN, org=org, role="viewer", clearance=Classification.UNCLASSIFIED
            )
    store = open_read_store(store_config, [p.name for p in PROJECTIONS])
    signed = checkpoint(app.index, store, KEY)
    last = app.last_position()
    store.close()
    app.close()
    assert signed is not None and last > switch_at

    code, queries = documented()
    rows, switch = read(store_config, queries)
    assert switch["after_position"] == switch_at
    broken, head = code["first_broken"](rows, switch["after_position"])
    assert broken is None and head.hex() == signed["head"]
    assert [r["position"] for r, _, _ in rows] == list(range(1, last + 1))
    assert code["signed"](KEY, last, head) == signed["signature"]
    assert switch["signature"] == code["signed_switch"](
        KEY, 2, switch["after_position"], switch["head"]
    )
    # Both formats were written: the link of each row is the one its position says.
    for row, event, stored in rows[switch_at - 1 if switch_at else 0 : switch_at + 2]:
        fmt = 1 if row["position"] <= switch_at else 2
        previous = next((s for r, _, s in rows if r["position"] == row["position"] - 1), bytes(32))
        assert code["link"](previous, row, event, fmt) == stored

    for position in (3, last - 1):  # a rewritten topic, in format 1 (if any) and in format 2
        with raw_sql(store_config) as run:
            run(
                "UPDATE EVENTS SET topic = %s WHERE POSITION_COLUMN = %s",
                "mlob:Incident.Closed",
                position,
            )
        rows, switch = read(store_config, queries)
        assert code["first_broken"](rows, switch["after_position"])[0] == 3
