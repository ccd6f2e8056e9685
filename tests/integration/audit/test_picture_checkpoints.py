"""The picture as it was, from picture checkpoints plus a replay of the tail, is exactly the
picture a full replay of the history gives — for every moment, on both axes, on both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast
from uuid import UUID

import orjson

from domain.base import MlobAggregate
from mlob.read import pictures as asof
from mlob.read.pictures import Axis, PictureCheckpoints, rows_as_of
from mlob.store.statecodec import decode_state, encode_state
from mlob.write.application import MlobApplication
from projections.specs import PROJECTIONS
from tests.integration.projections.conftest import Views

MICRO = timedelta(microseconds=1)


def full_replay(app: MlobApplication, moment: datetime, axis: Axis) -> dict[str, dict[str, Any]]:
    """The oracle: every event from the start, per stream up to the first that is too late."""
    followed = {topic for p in PROJECTIONS for topic in p.topics}
    aggregates: dict[UUID, MlobAggregate] = {}
    stopped: set[UUID] = set()
    cursor = 0
    while page := app.history(after=cursor, limit=500):
        cursor = page[-1].position
        for item in page:
            entry = item
            if entry.event_type not in followed or entry.stream_id in stopped:
                continue
            if (entry.recorded_at if axis == "recorded" else entry.occurred_at) > moment:
                stopped.add(entry.stream_id)
                continue
            aggregates[entry.stream_id] = cast(
                MlobAggregate, item.event.mutate(aggregates.get(entry.stream_id))
            )
    return {
        p.name: {str(i): p.row(a) for i, a in aggregates.items() if isinstance(a, p.aggregate)}
        for p in PROJECTIONS
    }


def by_id(rows: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    return {name: {r["id"]: r for r in found} for name, found in rows.items()}


def moments(app: MlobApplication) -> dict[Axis, list[datetime]]:
    """Every event's time on each axis, and a microsecond before it: each step in or out."""
    entries = [item for item in app.history(after=0, limit=10_000)]
    found: dict[Axis, list[datetime]] = {}
    for axis in ("recorded", "occurred"):
        times = sorted({e.recorded_at if axis == "recorded" else e.occurred_at for e in entries})
        found[axis] = sorted({t - d for t in times for d in (MICRO, timedelta(0))})
    return found


def test_the_state_codec_keeps_every_demo_aggregate_exactly(views: Views) -> None:
    app = views.service.app
    checked = 0
    for p in PROJECTIONS:
        for subject in app.index.streams_created_as([p.aggregate.Created.TOPIC]):
            aggregate = app.load(p.aggregate, subject)
            stored = orjson.loads(orjson.dumps(encode_state(aggregate)))
            again = decode_state(p.aggregate, stored)
            assert vars(again) == vars(aggregate)
            assert p.row(again) == p.row(aggregate)
            checked += 1
    assert checked >= 15


def test_checkpoints_and_tail_give_the_full_replay_at_every_moment(views: Views) -> None:
    app, store = views.service.app, views.projections.store
    written = PictureCheckpoints(app, store, every=7).advance()
    top = app.last_position()
    assert written == list(range(7, top + 1, 7))
    assert [c["position"] for c in store.picture_checkpoints(asof.CODE_VERSION)] == written
    # The demo's history is recorded in one go but occurred over twelve hours, phoned-in
    # requests formalised later: the two axes and the checkpoints' intervals differ.
    for axis, times in moments(app).items():
        assert len(times) > 40
        for moment in times:
            rows, position = rows_as_of(app, store, moment, axis)
            assert by_id(rows) == full_replay(app, moment, axis), (axis, moment)
            assert position <= top


def test_the_picture_without_checkpoints_is_the_same(views: Views) -> None:
    app, store = views.service.app, views.projections.store
    moment = max(moments(app)["occurred"]) - timedelta(hours=4)
    before = rows_as_of(app, store, moment, "occurred")
    PictureCheckpoints(app, store, every=5).advance()
    assert rows_as_of(app, store, moment, "occurred") == before
    assert by_id(before[0]) == full_replay(app, moment, "occurred")


def test_the_checkpointer_continues_where_it_stopped(views: Views) -> None:
    app, store = views.service.app, views.projections.store
    checkpointer = PictureCheckpoints(app, store, every=10)
    assert checkpointer.pending()
    first = checkpointer.advance(limit=2)
    rest = checkpointer.advance()
    assert first == [10, 20] and rest[0] == 30 and not checkpointer.pending()
    assert checkpointer.advance() == []
    last = store.picture_checkpoints(asof.CODE_VERSION)[-1]
    assert last["size"] > 0 and last["recorded_min"] <= last["recorded_max"]
    # The newest checkpoint holds every row the projections hold now (the demo ends on it or
    # shortly after: compare what it covers with a replay up to its position).
    picture = asof.Picture.load(store, rest[-1])
    # Rows are kept per subject and clearance level (``<id>/<level>``), states per subject.
    ids = {name: {key.split("/")[0] for key in rows} for name, rows in picture.rows.items()}
    assert ids["incidents"] and ids["requests"] and ids["capacities"]
    # Every aggregate's state is stored once, in the checkpoint whose interval last changed it.
    assert set(picture.places) == set().union(*ids.values())
    assert {place[1] for place in picture.places.values()} <= set(first + rest)


def test_checkpoints_of_other_code_are_never_used_and_are_replaced(
    views: Views, monkeypatch: Any
) -> None:
    app, store = views.service.app, views.projections.store
    moment = max(moments(app)["recorded"])
    expected = full_replay(app, moment, "recorded")
    monkeypatch.setattr(asof, "CODE_VERSION", "old-code")
    PictureCheckpoints(app, store, every=7).advance()
    assert store.picture_checkpoints("old-code")
    # An old checkpoint holding nonsense: the new code must not read it.
    monkeypatch.undo()
    assert by_id(rows_as_of(app, store, moment, "recorded")[0]) == expected
    written = PictureCheckpoints(app, store, every=7).advance()
    assert written and not store.picture_checkpoints("old-code")
    assert by_id(rows_as_of(app, store, moment, "recorded")[0]) == expected


def test_a_backdated_step_after_a_later_one_waits_for_it_on_the_occurred_axis(
    views: Views,
) -> None:
    """In a stream, a step entered afterwards about an earlier time (GRIP 3 at 09:00, entered
    after the 10:00 situation report) counts only once the steps before it count."""
    from api.post_events import Item, Principal, post
    from mlob import demo

    service, store = views.service, views.projections.store
    sitrep, grip = views.now - timedelta(minutes=30), views.now - timedelta(minutes=90)
    vr08 = Principal(org="VR08", role="operator")
    for n, (type_, occurred, data) in enumerate(
        (
            ("incident.situation_reported", sitrep, {"summary": "dikes hold"}),
            ("incident.grip_changed", grip, {"grip": "3"}),
        )
    ):
        item = Item(
            type=type_, subject=demo.FLOOD, message_id=f"late-{n}", occurred_at=occurred, data=data
        )
        post(service, vr08, [item])
    app = service.app
    PictureCheckpoints(app, store, every=4).advance()
    flood = str(demo.FLOOD)
    for minutes, grip_then, report in ((60, "4", False), (20, "3", True), (100, "4", False)):
        moment = views.now - timedelta(minutes=minutes)
        rows = by_id(rows_as_of(app, store, moment, "occurred")[0])
        assert rows == full_replay(app, moment, "occurred")
        incident = rows["incidents"][flood]
        assert incident["grip"] == grip_then, minutes
        assert (incident["latest_report"] == "dikes hold") is report


def test_running_projections_write_the_checkpoints(views: Views, monkeypatch: Any) -> None:
    import time

    from mlob.runners import projector

    monkeypatch.setattr(projector, "PICTURE_CHECK", 0.05)
    app, store = views.service.app, views.projections.store
    views.projections.picture_every = 20
    views.projections.start()
    expected = list(range(20, app.last_position() + 1, 20))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = [c["position"] for c in store.picture_checkpoints(asof.CODE_VERSION)]
        if found == expected:
            break
        time.sleep(0.05)
    assert found == expected


def test_a_correction_right_after_a_checkpoint_restores_the_step_before(views: Views) -> None:
    """The state remembered for voiding the latest step survives a checkpoint."""
    from datetime import UTC

    from api.post_events import Item, Principal, post
    from domain.incident import Incident
    from mlob import demo

    service, store = views.service, views.projections.store
    app = service.app

    def vr08_posts_on_the_flood(type_: str, message_id: str, data: dict[str, Any]) -> None:
        flood = Item(
            type=type_, subject=demo.FLOOD, message_id=message_id, occurred_at=views.now, data=data
        )
        post(service, Principal(org="VR08", role="operator"), [flood])

    before = app.load(Incident, demo.FLOOD).latest_report
    vr08_posts_on_the_flood(
        "incident.situation_reported",
        "wrong-sitrep",
        {"summary": "dike breach at Ewijk (wrong incident)"},
    )
    PictureCheckpoints(app, store, every=1).advance()  # the last checkpoint holds the report
    target = app.load(Incident, demo.FLOOD).version
    vr08_posts_on_the_flood(
        "incident.voided",
        "void-wrong-sitrep",
        {"target_version": target, "reason": "reported on the wrong incident"},
    )
    moment = datetime.now(UTC)
    rows = by_id(rows_as_of(app, store, moment, "recorded")[0])
    assert rows == full_replay(app, moment, "recorded")
    assert rows["incidents"][str(demo.FLOOD)]["latest_report"] == before


def test_a_correction_replayed_with_the_step_it_voids_restores_the_step_before(
    views: Views, monkeypatch: Any
) -> None:
    """A replay for a read keeps the state before a step only when a correction of it follows
    in the replay: a step and its correction both after the last checkpoint (and a later
    step), at moments before, between and after them, on both axes; read a page at a time,
    also with the step and its correction in different pages."""
    from datetime import UTC

    from api.post_events import Item, Principal, post
    from domain.incident import Incident
    from mlob import demo

    service, store = views.service, views.projections.store
    app = service.app
    PictureCheckpoints(app, store, every=5).advance()
    times = []

    def vr08_posts_on_the_flood(type_: str, data: dict[str, Any]) -> None:
        times.append(datetime.now(UTC))
        flood = Item(
            type=type_,
            subject=demo.FLOOD,
            message_id=f"m{len(times)}",
            occurred_at=views.now + timedelta(minutes=len(times)),
            data=data,
        )
        post(service, Principal(org="VR08", role="operator"), [flood])

    before = app.load(Incident, demo.FLOOD).latest_report
    vr08_posts_on_the_flood("incident.situation_reported", {"summary": "wrong incident"})
    target = app.load(Incident, demo.FLOOD).version
    vr08_posts_on_the_flood(
        "incident.voided", {"target_version": target, "reason": "reported on the wrong one"}
    )
    vr08_posts_on_the_flood("incident.situation_reported", {"summary": "water falling"})
    times.append(datetime.now(UTC))
    occurred = [views.now + timedelta(minutes=n, seconds=30) for n in range(1, 4)]
    for page in (asof.PAGE, 1, 2, 3):
        monkeypatch.setattr(asof, "PAGE", page)
        for axis, moments_ in (("recorded", times[1:]), ("occurred", occurred)):
            for moment in moments_:
                rows = by_id(rows_as_of(app, store, moment, axis)[0])
                assert rows == full_replay(app, moment, axis), (page, axis, moment)
    flood = by_id(rows_as_of(app, store, times[2], "recorded")[0])["incidents"][str(demo.FLOOD)]
    assert flood["latest_report"] == before


def test_a_replay_without_a_base_holds_a_page_of_events_at_a_time(
    views: Views, monkeypatch: Any
) -> None:
    """With no checkpoint to start from (a fresh store, a new code version, a damaged one) an
    as-of read replays the whole history: a page at a time, never all of it at once."""
    app, store = views.service.app, views.projections.store
    monkeypatch.setattr(asof, "PAGE", 5)
    sizes: list[int] = []
    apply_all = asof.Replay._apply_all

    def counted(self: asof.Replay, page: Any, final: bool = True) -> None:
        sizes.append(len(page))
        apply_all(self, page, final)

    monkeypatch.setattr(asof.Replay, "_apply_all", counted)
    moment = datetime.now(UTC)
    rows = by_id(rows_as_of(app, store, moment, "recorded", checkpoints_too=False)[0])
    assert len(sizes) > 2 and max(sizes) <= 5
    assert rows == full_replay(app, moment, "recorded")


def test_a_tampered_checkpoint_state_runs_no_code(monkeypatch: Any) -> None:
    """A state read back from the database names its value types by topic: only the stored
    value types may be built from it, never any callable the topic happens to name."""
    import os

    import pytest

    from domain.incident import Incident

    called: list[Any] = []
    monkeypatch.setattr(os, "system", lambda *a, **k: called.append((a, k)))
    for value in (
        {"_type_": "enum", "_data_": ["os:system", "true"]},
        {"_type_": "object", "_data_": ["os:system", {"command": "true"}]},
        {"_type_": "map", "_data_": [[{"_type_": "enum", "_data_": ["os:system", "x"]}, 1]]},
    ):
        with pytest.raises(ValueError):
            decode_state(Incident, {"grip": value})
    assert not called


def test_a_moment_before_the_year_1000_sees_nothing(views: Views) -> None:
    """Times compare as text: a year of fewer than four digits must still sort first."""
    from datetime import UTC

    app, store = views.service.app, views.projections.store
    PictureCheckpoints(app, store, every=7).advance()
    for axis in ("recorded", "occurred"):
        moment = datetime(999, 1, 1, tzinfo=UTC)
        rows = by_id(rows_as_of(app, store, moment, cast(Axis, axis))[0])
        assert rows == full_replay(app, moment, cast(Axis, axis))
        assert not any(rows.values())


def test_an_event_that_occurred_before_1900_is_refused(views: Views) -> None:
    """A typo year (202 for 2026) would give its checkpoint interval a lowest time below every
    moment (and below year 1000 the index's text does not sort or parse): refused at posting."""
    import pytest

    from api.post_events import Item, Principal, post
    from domain.errors import DomainError
    from mlob import demo

    service = views.service
    before = service.app.last_position()
    for year in (202, 999, 1899):
        item = Item(
            type="incident.situation_reported",
            subject=demo.FLOOD,
            message_id=f"typo-year-{year}",
            occurred_at=datetime(year, 5, 1, tzinfo=UTC),
            data={"summary": "dikes hold"},
        )
        with pytest.raises(DomainError) as refused:
            post(service, Principal(org="VR08", role="operator"), [item])
        assert refused.value.code == "occurred_at_too_early"
    assert service.app.last_position() == before


def test_the_code_version_covers_the_reference_data(tmp_path: Any) -> None:
    """Rows depend on the reference data (a request's regions): a change to it must make the
    checkpoints' stored rows unusable, like a change to the code."""
    import shutil
    from pathlib import Path

    root = Path(asof.__file__).resolve().parents[2]
    for part in ("domain", "projections", "mlob/store"):
        shutil.copytree(root / part, tmp_path / part)
    shutil.copy(root / "mlob" / "__init__.py", tmp_path / "mlob")
    before = asof._code_version(tmp_path)
    assert before == asof.CODE_VERSION
    reference = tmp_path / "domain" / "data" / "reference.json"
    # Formatting is not content (the version hashes the data in a canonical form) ...
    reference.write_text(reference.read_text() + "\n")
    assert asof._code_version(tmp_path) == before
    # ... a changed value is.
    reference.write_text(reference.read_text().replace('"Nijmegen"', '"Nijmegen-Oost"', 1))
    assert asof._code_version(tmp_path) != before


def test_a_damaged_or_vanished_checkpoint_falls_back_to_a_full_replay(
    views: Views, monkeypatch: Any, caplog: Any
) -> None:
    """A checkpoint replaced by another code version while being read, or damaged in the
    database, costs time, never a wrong picture or a 500."""
    app, store = views.service.app, views.projections.store
    # Events after the newest checkpoint whose replay decodes its states: the demo's last four
    # open the exercise and its request (new subjects, none in a checkpoint), so the one
    # before them (a step on an earlier subject) must come after the checkpoint too.
    top = app.recorder.max_notification_id() or 0
    every = next(n for n in range(7, 30) if top % n >= 5)
    PictureCheckpoints(app, store, every=every).advance()
    moment = max(moments(app)["recorded"])
    expected = full_replay(app, moment, "recorded")

    def vanished(position: int) -> Any:
        raise KeyError(position)

    with monkeypatch.context() as patch:
        patch.setattr(store, "picture_checkpoint_base", vanished)
        assert by_id(rows_as_of(app, store, moment, "recorded")[0]) == expected
    with monkeypatch.context() as patch:
        patch.setattr(store, "picture_states", lambda slices: [b"not zlib"] * len(slices))
        assert by_id(rows_as_of(app, store, moment, "occurred")[0]) == full_replay(
            app, moment, "occurred"
        )
    assert sum("unusable" in r.getMessage() for r in caplog.records) == 2


def test_a_moment_too_early_to_convert_sees_nothing(views: Views) -> None:
    from datetime import timezone

    app, store = views.service.app, views.projections.store
    moment = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    rows, _ = rows_as_of(app, store, moment, "occurred")
    assert not any(rows.values())


def test_a_checkpointer_that_lost_a_race_stops_and_continues_from_the_winner(
    views: Views, monkeypatch: Any
) -> None:
    """Two writers at once (a lease handed over mid-write): the loser's picture points at
    states its own row held, so it must not build on it."""
    app, store = views.service.app, views.projections.store
    assert PictureCheckpoints(app, store, every=7).advance(limit=1) == [7]
    late = PictureCheckpoints(app, store, every=7)
    real = store.picture_checkpoints
    with monkeypatch.context() as patch:  # it looked before the other one wrote
        patch.setattr(store, "picture_checkpoints", lambda version: [])
        assert late.advance() == []
    assert late.advance()[0] == 14
    assert [c["position"] for c in real(asof.CODE_VERSION)][:2] == [7, 14]
    moment = max(moments(app)["recorded"])
    assert by_id(rows_as_of(app, store, moment, "recorded")[0]) == full_replay(
        app, moment, "recorded"
    )
