"""Chain format 2 covers the stored event's own columns (issue 16, defect 6), and a store whose
rows are in format 1 (as 72956bf wrote them) verifies, is re-anchored at the format switch and
continues in format 2 — on both stores, with and without the audit key."""

from __future__ import annotations

import gzip
import itertools
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import orjson
import pytest

from api.ports import Principal
from domain.envelope import Classification
from mlob import demo
from mlob.audit.tamper import checkpoint, switch_of, verify
from mlob.config import StoreConfig
from mlob.read.readstore import ReadStore, open_read_store
from mlob.service import Service
from mlob.store.chain import FORMAT_1, FORMAT_2, GENESIS, link
from mlob.write.application import MlobApplication
from projections.specs import PROJECTIONS
from tests import ROOT
from tests.integration.audit.conftest import as_format_1, cli, raw_sql
from tests.integration.projections.conftest import NOW

KEY = b"k" * 32
DATA = ROOT / "tests" / "integration" / "store" / "data"
ADMIN = Principal(org="LOCC", role="admin", clearance=Classification.STATE_SECRET_TOP_SECRET)


class Store:
    """The application, its read store and its configuration, reopened on demand."""

    def __init__(self, config: StoreConfig) -> None:
        self.config = config
        self.app = MlobApplication(config)
        self.service = Service(self.app)
        self.store: ReadStore = open_read_store(config, [p.name for p in PROJECTIONS])

    def reopen(self) -> None:
        self.store.close()
        self.app.close()
        self.__init__(self.config)  # type: ignore[misc]

    def close(self) -> None:
        self.store.close()
        self.app.close()

    def verify(self, key: bytes | None, exported: list[dict[str, Any]] | None = None) -> Any:
        return verify(self.app.index, self.store, key, exported)


@pytest.fixture
def demo_store(store_config: StoreConfig) -> Iterator[Store]:
    """The demo, written in format 2."""
    made = Store(store_config)
    demo.load_demo(made.service, NOW)
    yield made
    made.close()


@pytest.fixture
def upgraded(store_config: StoreConfig) -> Iterator[tuple[Store, int]]:
    """The demo as 72956bf wrote it (format 1, no switch), then opened by this code: the
    migration records the switch after the newest row. With the position of that row."""
    made = Store(store_config)
    demo.load_demo(made.service, NOW)
    made.store.close()
    switch = as_format_1(made.app, store_config)
    made = Store(store_config)
    yield made, switch
    made.close()


def positions_of(made: Store, event_type: str) -> list[int]:
    return [
        r.position
        for r in made.app.index.index_rows(after=0, limit=100_000)
        if r.event_type == event_type
    ]


def revoked_token(made: Store) -> tuple[str, int]:
    """A token issued and revoked: its bearer text and the position of the revocation."""
    issued = made.service.issue_token(
        ADMIN, org="VR08", role="operator", clearance=Classification.UNCLASSIFIED
    )
    made.service.revoke_token(ADMIN, issued.token_id, "lost on the train")
    [revoked] = positions_of(made, "mlob:AccessToken.Revoked")
    return issued.token, revoked


def test_a_revocation_whose_topic_is_rewritten_no_longer_verifies(demo_store: Store) -> None:
    """The attack of defect 6: the events table's topic of a token's revocation is rewritten so
    that the token is valid again; the chain, and the exported checkpoints, must show it."""
    made = demo_store
    token, revoked = revoked_token(made)
    assert checkpoint(made.app.index, made.store, KEY) is not None
    exported = [switch_of(made.app.index).as_dict(), *made.store.checkpoints()]  # type: ignore[union-attr]
    with raw_sql(made.config) as run:
        run(
            "UPDATE EVENTS SET topic = %s WHERE POSITION_COLUMN = %s",
            "mlob:Incident.Closed",
            revoked,
        )
    made.reopen()
    assert made.service.authenticate(token) is not None, "the rewrite un-revokes the token"
    for exports in (None, exported):
        verdict = made.verify(KEY, exports)
        assert not verdict.ok and verdict.first_broken == revoked, verdict.problems
        assert verdict.problems[0].startswith(f"position {revoked}:")
    assert verify(made.app.index, None, None).first_broken == revoked


def _rewrite(made: Store, column: str, position: int) -> None:
    other_id: Any = uuid4() if made.config.kind == "postgresql" else uuid4().hex
    change = {
        "topic": ("topic = %s", "mlob:Incident.Closed"),
        "originator_id": ("originator_id = %s", other_id),
        "originator_version": ("originator_version = originator_version + %s", 100),
        "state": ("state = %s", b'{"timestamp": null}'),
    }[column]
    with raw_sql(made.config) as run:
        run(f"UPDATE EVENTS SET {change[0]} WHERE POSITION_COLUMN = %s", change[1], position)


@pytest.mark.parametrize("column", ["topic", "originator_id", "originator_version", "state"])
def test_a_rewritten_event_column_fails_at_its_position(demo_store: Store, column: str) -> None:
    made = demo_store
    _rewrite(made, column, 12)
    verdict = made.verify(None)
    assert not verdict.ok and verdict.first_broken == 12, verdict.problems
    assert verdict.problems[0].startswith("position 12:")


@pytest.mark.parametrize("column", ["topic", "originator_id", "originator_version", "state"])
def test_a_rewritten_event_column_fails_at_its_position_in_format_1_too(
    upgraded: tuple[Store, int], column: str
) -> None:
    """Format 1 does not hash the event's own columns, but the event must repeat its row's
    stream, version and event type, which format 1 hashes."""
    made, switch = upgraded
    assert switch > 12
    _rewrite(made, column, 12)
    verdict = made.verify(None)
    assert not verdict.ok and verdict.first_broken == 12, verdict.problems


@pytest.mark.parametrize("key", [None, KEY], ids=["without-key", "with-key"])
def test_a_store_in_format_1_is_re_anchored_and_continues_in_format_2(
    upgraded: tuple[Store, int], key: bytes | None, tmp_path: Path
) -> None:
    made, at = upgraded
    switch = switch_of(made.app.index)
    [(row, _)] = made.app.index.chain_rows(after=at - 1, limit=1)
    assert switch is not None and switch.format == FORMAT_2
    assert (switch.position, switch.head, switch.signature) == (at, row.hash.hex(), None)

    # The format-1 chain verifies; the switch is not vouched for yet: said, exit 0.
    verdict = made.verify(key)
    assert verdict.ok and verdict.checked == at, verdict.problems
    assert any("recorded unsigned" in w for w in verdict.warnings)
    shown = cli(made.config, key, "verify")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "warning: the chain format switch" in shown.stdout
    assert f"after position {at}" in shown.stdout and "UNSIGNED" in shown.stdout

    # New appends are in format 2, chained onto the format-1 head.
    token, revoked = revoked_token(made)
    rows = made.app.index.chain_rows(after=at - 1, limit=100)
    assert len(rows) == 3 and rows[1][0].position > at
    for (before, _), (record, event) in itertools.pairwise(rows):
        fields = record.entry
        assert record.hash == link(before.hash, fields, event, FORMAT_2)
        assert record.hash != link(before.hash, fields, event, FORMAT_1)
    assert made.verify(key).ok

    if key is None:
        assert made.verify(None).warnings, "still unsigned without the key"
        return
    # With the key: the first checkpoint verifies the format-1 chain and signs the switch.
    signed = checkpoint(made.app.index, made.store, key)
    assert signed is not None and signed["format_switch"]["position"] == at  # type: ignore[index]
    assert switch_of(made.app.index).signature  # type: ignore[union-attr]
    verdict = made.verify(key)
    assert verdict.ok and not verdict.warnings and verdict.checkpoints_checked == 1
    exported = [
        orjson.loads(line) for line in cli(made.config, key, "checkpoints").stdout.splitlines()
    ]
    assert exported[0]["format"] == 2 and exported[0]["position"] == at
    # Moving the switch (to pass rows off as format 1) is caught by its signature...
    with raw_sql(made.config) as run:
        run("UPDATE mlob_chain_formats SET after_position = %s", at + 1)
    moved = made.verify(key)
    assert not moved.ok and any("switch" in p for p in moved.problems), moved.problems
    # ... and, even re-signed by someone without the key, by the exported one.
    with raw_sql(made.config) as run:
        run("UPDATE mlob_chain_formats SET signature = NULL")
    moved = made.verify(key, exported)
    assert not moved.ok and moved.first_broken == at + 1, moved.problems
    assert checkpoint_refused(made, key)
    # The revocation's topic, rewritten after the switch: named.
    with raw_sql(made.config) as run:
        run(
            "UPDATE mlob_chain_formats SET after_position = %s, signature = %s",
            at,
            exported[0]["signature"],
        )
        run(
            "UPDATE EVENTS SET topic = %s WHERE POSITION_COLUMN = %s",
            "mlob:Incident.Closed",
            revoked,
        )
    archive = write(tmp_path / "archive.jsonl", exported)
    broken = cli(made.config, key, "verify", "--checkpoints", str(archive))
    assert broken.returncode == 1 and f"first broken link at position {revoked}" in broken.stdout
    assert "Traceback" not in broken.stderr
    assert token


def checkpoint_refused(made: Store, key: bytes) -> bool:
    """No checkpoint is signed over a switch that no longer holds."""
    try:
        checkpoint(made.app.index, made.store, key)
    except ValueError:
        return True
    return False


def write(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    return path


def test_a_switch_whose_head_was_changed_is_caught(upgraded: tuple[Store, int]) -> None:
    made, _ = upgraded
    with raw_sql(made.config) as run:
        run("UPDATE mlob_chain_formats SET head = %s", "00" * 32)
    verdict = made.verify(None)
    assert not verdict.ok and "no longer passes through the head" in verdict.problems[0]
    assert verdict.first_broken == 1
    assert checkpoint_refused(made, KEY)


def test_an_event_without_an_index_row_is_named(demo_store: Store) -> None:
    """An events-table row without an index row (an insider's revocation of someone else's
    token, say) is loaded with its stream all the same, but has no link in the chain."""
    made = demo_store
    _, revoked = revoked_token(made)
    with raw_sql(made.config) as run:
        run("DELETE FROM mlob_event_index WHERE position = %s", revoked)
    verdict = made.verify(None)
    assert not verdict.ok and verdict.first_broken == revoked, verdict.problems
    assert "without an index row" in verdict.problems[0]


def test_verify_names_unreadable_rows_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "mlob.sqlite3"
    config = StoreConfig(kind="sqlite", sqlite_path=path)
    made = Store(config)
    demo.load_demo(made.service, NOW)
    made.close()
    for column, value in (
        ("occurred_at", "garbage"),
        ("hash", "not bytes"),
        ("version", "seven"),
        ("stream_id", "not a uuid"),
        ("regions", 42),
    ):
        copy = tmp_path / f"{column}.sqlite3"
        copy.write_bytes(path.read_bytes())
        with sqlite3.connect(copy) as conn:
            conn.execute(f"UPDATE mlob_event_index SET {column} = ? WHERE position = 9", (value,))
        shown = cli(StoreConfig(kind="sqlite", sqlite_path=copy), None, "verify")
        assert shown.returncode == 1, (column, shown.stdout, shown.stderr)
        assert "first broken link at position 9" in shown.stdout, (column, shown.stdout)
        assert "Traceback" not in shown.stderr, shown.stderr
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE stored_events SET state = NULL, topic = 7 WHERE rowid = 11")
    shown = cli(config, None, "verify")
    assert shown.returncode == 1 and "first broken link at position 11" in shown.stdout


def test_the_store_of_72956bf_verifies_is_re_anchored_and_continues(tmp_path: Path) -> None:
    """tests/integration/store/data: the demo as the code of 72956bf wrote it (a SQLite dump)."""
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(gzip.decompress((DATA / "store-72956bf.sql.gz").read_bytes()).decode())
        last = conn.execute("SELECT max(position) FROM mlob_event_index").fetchone()[0]
    config = StoreConfig(kind="sqlite", sqlite_path=path)

    unsigned = cli(config, None, "verify")  # opening it migrates it: the switch is recorded
    assert unsigned.returncode == 0, unsigned.stdout + unsigned.stderr
    assert f"checked {last} events" in unsigned.stdout
    assert "warning: the chain format switch" in unsigned.stdout
    signed = cli(config, KEY, "checkpoint")
    assert signed.returncode == 0, signed.stdout + signed.stderr
    assert orjson.loads(signed.stdout)["format_switch"]["position"] == last
    exported = cli(config, KEY, "checkpoints").stdout
    archive = tmp_path / "archive.jsonl"
    archive.write_text(exported)
    intact = cli(config, KEY, "verify", "--checkpoints", str(archive))
    assert intact.returncode == 0 and "warning" not in intact.stdout, intact.stdout

    made = Store(config)
    token, revoked = revoked_token(made)
    assert revoked > last and made.verify(KEY).ok
    made.close()
    # An old row's topic rewritten (a format-1 row): named at its position all the same.
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE stored_events SET topic = 'mlob:Incident.Closed' WHERE rowid = 5")
    broken = cli(config, KEY, "verify", "--checkpoints", str(archive))
    assert broken.returncode == 1 and "first broken link at position 5" in broken.stdout
    assert "Traceback" not in broken.stderr and token


def test_a_dropped_switch_is_caught(upgraded: tuple[Store, int]) -> None:
    made, _ = upgraded
    with raw_sql(made.config) as run:
        run("DROP TABLE mlob_chain_formats")
    verdict = made.verify(None)
    assert not verdict.ok and verdict.first_broken == 1, verdict.problems
    assert any("no chain format switch recorded" in n for n in verdict.notes)
    shown = cli(made.config, None, "verify")
    assert shown.returncode == 1 and "first broken link at position 1" in shown.stdout
    assert "Traceback" not in shown.stderr, shown.stderr


def test_every_insert_path_links_the_whole_stored_event(store_config: StoreConfig) -> None:
    """SQLite's, and PostgreSQL's pipelined first commit, one-flight commits and COPY (over
    64 events): each row's hash is its format-2 link; a topic rewritten in a copied batch
    is named."""
    from tests.integration.store.test_recent import ledger_steps, open_ledger

    app = MlobApplication(store_config)
    try:
        ledger = open_ledger(app)
        for count in (1, 3, 100):
            ledger_steps(app, ledger, count)
        if store_config.kind == "postgresql":
            assert app.recorder.one_flight >= 2  # type: ignore[attr-defined]
        rows = app.index.chain_rows(after=0, limit=1000)
        assert len(rows) == 105
        previous = GENESIS
        for record, event in rows:
            fields = record.entry
            assert record.hash == link(previous, fields, event, FORMAT_2), record.position
            assert (event.originator_id, event.topic) == (ledger.id.hex, record.entry.event_type)
            previous = record.hash
        copied = rows[60][0].position
        with raw_sql(store_config) as run:
            run(
                "UPDATE EVENTS SET topic = %s WHERE POSITION_COLUMN = %s",
                "test:Ledger.Opened",
                copied,
            )
        report = verify(app.index, None, None)
        assert not report.ok and report.first_broken == copied
    finally:
        app.close()
