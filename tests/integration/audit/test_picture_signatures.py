"""Picture checkpoints are signed with the audit key (issue 16, defect 11): an edited one is
never served with the key (a full replay instead, and a warning), ``mlob audit verify`` names
it, and without the key answers say their checkpoints were not checked."""

from __future__ import annotations

import zlib
from datetime import datetime
from typing import Any

import orjson
import pytest

from mlob.audit.tamper import verify
from mlob.read import pictures as asof
from mlob.read.pictures import PictureCheckpoints, rows_as_of
from tests.integration.audit.conftest import cli, raw_sql
from tests.integration.audit.test_picture_checkpoints import by_id, full_replay, moments
from tests.integration.projections.conftest import Views

KEY = b"p" * 32


def listed(views: Views) -> list[dict[str, Any]]:
    return views.projections.store.picture_checkpoints(asof.CODE_VERSION)


def latest(views: Views) -> datetime:
    return max(moments(views.service.app)["recorded"])


def forge_rows(views: Views, position: int) -> None:
    """Every incident at GRIP 1 in the checkpoint at ``position``: a forged picture."""
    with raw_sql(views.service.app.store) as run:
        found = run(
            "SELECT rows_data FROM mlob_as_of_checkpoints WHERE position = %s", position
        ).fetchone()
        rows = orjson.loads(zlib.decompress(bytes(found[0])))
        for row in rows["incidents"].values():
            row["grip"] = "1"
        forged = zlib.compress(orjson.dumps(rows), 1)
        run(
            "UPDATE mlob_as_of_checkpoints SET rows_data = %s WHERE position = %s", forged, position
        )


def test_signed_checkpoints_give_the_full_replays_picture(views: Views) -> None:
    app, store = views.service.app, views.projections.store
    written = PictureCheckpoints(app, store, every=7, key=KEY).advance()
    assert written and all(c["signature"] and c["content_sha256"] for c in listed(views))
    for axis, times in moments(app).items():
        for moment in times[::5]:
            answer = rows_as_of(app, store, moment, axis, key=KEY)
            assert by_id(answer[0]) == full_replay(app, moment, axis), (axis, moment)
            assert answer.checkpoints_signed is True
    unchecked = rows_as_of(app, store, latest(views), "recorded", key=None)
    assert unchecked.checkpoints_signed is False, "used, but not checked: said so"
    assert rows_as_of(app, store, latest(views), "recorded", False, KEY).checkpoints_signed is None
    verdict = verify(app.index, store, KEY)
    assert verdict.ok and verdict.picture_checkpoints_checked == len(written), verdict.problems


def _edit(views: Views, what: str, positions: list[int]) -> int:
    """Alter one checkpoint as an insider could; the position ``verify`` must name."""
    target = positions[-1]
    with raw_sql(views.service.app.store) as run:
        if what == "meta":  # its interval's times: the wrong base or spans would be chosen
            run(
                "UPDATE mlob_as_of_checkpoints SET recorded_max = %s, occurred_max = %s "
                "WHERE position = %s",
                "0999-01-01T00:00:00.000000Z",
                "0999-01-01T00:00:00.000000Z",
                target,
            )
        elif what == "states":  # an earlier checkpoint's states, read through later places
            target = positions[0]
            found = run(
                "SELECT states FROM mlob_as_of_checkpoints WHERE position = %s", target
            ).fetchone()
            run(
                "UPDATE mlob_as_of_checkpoints SET states = %s WHERE position = %s",
                bytes(len(bytes(found[0]))),
                target,
            )
        elif what == "deleted":  # a checkpoint gone: the next one's interval is too short
            run("DELETE FROM mlob_as_of_checkpoints WHERE position = %s", positions[1])
            target = positions[2]
        elif what == "signature-stripped-and-rows-forged":
            run("UPDATE mlob_as_of_checkpoints SET signature = NULL WHERE position = %s", target)
    if what in ("rows", "signature-stripped-and-rows-forged"):
        forge_rows(views, target)
    return target


#: The edits whose verdict the command line is asked for too: one altered, one unsigned.
SHOWN_BY_THE_CLI = ("rows", "signature-stripped-and-rows-forged")


@pytest.mark.parametrize(
    "what", ["rows", "meta", "states", "deleted", "signature-stripped-and-rows-forged"]
)
def test_an_edited_checkpoint_falls_back_to_a_full_replay(
    views: Views, what: str, caplog: Any
) -> None:
    app, store = views.service.app, views.projections.store
    positions = PictureCheckpoints(app, store, every=7, key=KEY).advance()
    assert len(positions) >= 4
    bad = _edit(views, what, positions)

    caplog.clear()
    for axis in ("recorded", "occurred"):
        for moment in moments(app)[axis][::4]:
            answer = rows_as_of(app, store, moment, axis, key=KEY)  # type: ignore[arg-type]
            assert by_id(answer[0]) == full_replay(app, moment, axis), (what, axis, moment)
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    if what == "signature-stripped-and-rows-forged":
        # Unsigned: passed over with the key (never served), no fallback needed for it.
        assert all("unusable" in m for m in warned)
    else:
        assert warned and all("replaying the whole history" in m for m in warned), warned
    if what != "states":  # (an answer that reads no altered state may still use them)
        assert rows_as_of(app, store, latest(views), "recorded", key=KEY).checkpoints_signed is (
            True if what.startswith("signature-stripped") else None
        )

    verdict = verify(app.index, store, KEY)
    if what == "signature-stripped-and-rows-forged":
        assert verdict.ok and any(f"{bad}" in w and "unsigned" in w for w in verdict.warnings)
    else:
        assert not verdict.ok and verdict.bad_picture_checkpoints == [bad], verdict.problems
        assert verdict.first_broken is None, "the chain itself holds"
    # Without the key nothing can tell: the answer says so.
    unchecked = rows_as_of(app, store, latest(views), "recorded", key=None)
    assert unchecked.checkpoints_signed is False
    if what not in SHOWN_BY_THE_CLI:
        return
    # The operator's command prints the same verdict (each kind of finding once: a command is
    # a process start, seconds on this machine).
    shown = cli(app.store, KEY, "verify")
    if what == "signature-stripped-and-rows-forged":
        assert shown.returncode == 0 and "warning: picture checkpoint" in shown.stdout
    else:
        assert shown.returncode == 1, shown.stdout + shown.stderr
        assert f"picture checkpoint at position {bad} is not what was signed" in shown.stdout
        assert "Traceback" not in shown.stderr
    without = cli(app.store, None, "verify")
    assert without.returncode == 0 and "picture checkpoint(s) not checked" in without.stdout


def test_a_forged_checkpoint_is_served_only_flagged_without_the_key(views: Views) -> None:
    """Without the key the checkpoints cannot be checked: a forged one serves its picture, and
    the answer says that its checkpoints were not signed."""
    app, store = views.service.app, views.projections.store
    positions = PictureCheckpoints(app, store, every=7, key=None).advance()
    assert not any(c["signature"] for c in listed(views))
    forge_rows(views, positions[-1])
    answer = rows_as_of(app, store, latest(views), "recorded", key=None)
    assert {r["grip"] for r in answer[0]["incidents"]} == {"1"}
    assert answer.checkpoints_signed is False
    verdict = verify(app.index, store, None)
    assert verdict.ok and any("not checked" in n for n in verdict.notes)


def test_unsigned_checkpoints_are_passed_over_with_the_key_and_replaced(views: Views) -> None:
    app, store = views.service.app, views.projections.store
    moment = latest(views)
    expected = full_replay(app, moment, "recorded")
    unsigned = PictureCheckpoints(app, store, every=7, key=None).advance()
    assert rows_as_of(app, store, moment, "recorded", key=None).checkpoints_signed is False
    passed_over = rows_as_of(app, store, moment, "recorded", key=KEY)
    assert passed_over.checkpoints_signed is None and by_id(passed_over[0]) == expected
    verdict = verify(app.index, store, KEY)
    assert verdict.ok and any("unsigned" in w for w in verdict.warnings)

    keyed = PictureCheckpoints(app, store, every=7, key=KEY)
    assert keyed.pending()
    assert keyed.advance() == unsigned, "each unsigned one replaced by a signed one"
    assert all(c["signature"] for c in listed(views))
    answer = rows_as_of(app, store, moment, "recorded", key=KEY)
    assert answer.checkpoints_signed is True and by_id(answer[0]) == expected
    assert verify(app.index, store, KEY).ok


def test_the_checkpointer_writes_nothing_on_top_of_a_forged_checkpoint(
    views: Views, caplog: Any
) -> None:
    """Building on it would sign the forgery; the bad one is kept for the auditor."""
    app, store = views.service.app, views.projections.store
    keyed = PictureCheckpoints(app, store, every=7, key=KEY)
    first = keyed.advance(limit=2)
    forge_rows(views, first[-1])
    assert keyed.advance() == [], "content not what was signed: not built on"
    assert [c["position"] for c in listed(views)] == first
    with raw_sql(app.store) as run:
        run("UPDATE mlob_as_of_checkpoints SET at = 'x' WHERE position = %s", first[-1])
    assert not keyed.pending() and keyed.advance() == []
    assert any("no picture checkpoint is written on top" in r.getMessage() for r in caplog.records)
