"""The verification code printed in docs/hash-chain.md, run on rows read straight from the
SQLite file (no mlob code), agrees with mlob's own hashes and checkpoint signatures."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from mlob import demo
from mlob.application import MlobApplication
from mlob.audit import checkpoint
from mlob.config import StoreConfig
from mlob.readstore import open_read_store
from mlob.service import Service
from projections.specs import PROJECTIONS
from tests.projections.conftest import NOW

DOC = Path(__file__).resolve().parents[2] / "docs" / "hash-chain.md"
KEY = b"an auditor's key kept outside mlob!"


def test_the_documented_verifier_agrees(tmp_path: Path) -> None:
    path = tmp_path / "mlob.sqlite3"
    config = StoreConfig(kind="sqlite", sqlite_path=path)
    app = MlobApplication(config)
    demo.load_demo(Service(app), NOW)
    store = open_read_store(config, [p.name for p in PROJECTIONS])
    signed = checkpoint(app.index, store, KEY)
    store.close()
    app.close()
    assert signed is not None

    [code] = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    namespace: dict = {}
    exec(code, namespace)  # the doc's own code, nothing else
    link, sign = namespace["link"], namespace["signed"]

    with sqlite3.connect(str(path)) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute(
            "SELECT i.*, e.state FROM mlob_event_index i JOIN stored_events e "
            "ON e.rowid = i.position ORDER BY i.position"
        ).fetchall()
    previous = bytes(32)
    for row in rows:
        fields = dict(row)
        fields["regions"] = fields["regions"].split()
        previous = link(previous, fields, bytes(row["state"]))
        assert previous == bytes(row["hash"]), row["position"]
    assert previous.hex() == signed["head"]
    assert sign(KEY, rows[-1]["position"], previous) == signed["signature"]
