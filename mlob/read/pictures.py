"""The read models' rows as they were at a moment: the nearest picture checkpoint plus a replay
of the events after it (the pure folding: projections/asof.py).

Two time axes: *as recorded* by then (what mlob knew at that moment: the events recorded up to
it) and *as occurred* by then (what had happened by then, as known now: in each stream the
events up to the first that occurred later — an urgent request phoned in at 02:00 and
formalised at 09:00 was formalised *by 10:00* on both axes, but an event recorded at 11:00
about 09:30 shows on the occurred axis only). On both axes a stream's events count as a prefix:
an event is applied when its time is at or before the moment and every earlier event of its
stream was applied.

A *picture checkpoint* holds, at a position, every projection's rows, where every aggregate's
latest state is kept (JSON, mlob/store/statecodec.py; each state is stored once, in the
checkpoint whose interval changed it), and for its interval (the events after the previous
checkpoint) the lowest and highest recorded and occurred times. Because later checkpoints
point into earlier ones, checkpoints are never thinned out one by one; a new code version
replaces them all. For a moment M on an axis:

- the base is the last checkpoint all of whose events fall at or before M (the highest time up
  to it is at or before M, times taken cumulatively);
- after it, only intervals whose lowest time is at or before M can hold an event that counts,
  and of those only the events with a time at or before M (the index answers that without
  decoding anything); the events since the newest checkpoint are looked at the same way;
- those events are decoded and applied to the base's aggregates (decoded only when touched).

So the cost is one checkpoint load plus the events near M, not the history before it. Without
checkpoints (a new store, or after a code change) this is a full replay, as before.

Checkpoints are derived data outside the hash chain, so with ``MLOB_AUDIT_KEY`` they are signed:
``content_sha256`` is the SHA-256 of the SHA-256s of the rows, places and states, and the
signature the HMAC-SHA256 over ``"mlob-picture:"`` and the canonical JSON of the meta (every
column of ``PICTURE_META``), ``content_sha256`` and ``previous`` (the position of the signed
checkpoint before it, 0 for the first: a deleted checkpoint would make the next one's interval
times wrong); every place carries the first 16 bytes (hex) of the SHA-256 of its state, so a
state read from an earlier checkpoint is checked too. With the key, an answer uses the signed
checkpoints (unsigned ones, written without the key, are passed over and replaced by the
checkpointer) only when every one's signature holds and the base's content is what was signed,
else it is a full replay and a warning; without the key they are used unchecked and the answer
says so (``checkpoints_signed``, :class:`AsOfRows`).
A checkpointer (:class:`PictureCheckpoints`, run by one process holding its lease) writes a
checkpoint every ``MLOB_PICTURE_CHECKPOINT_EVERY`` positions. Checkpoints carry a code version
(the version of derived data, projections/version.py, extended by the checkpoint layout and
the state codec): a code change makes them unusable and they are written afresh, because the
stored states and rows are those of the old code.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import logging
import os
import threading
import weakref
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import orjson

from domain.base import MlobAggregate, remembering
from mlob.read.readstore import PICTURE_META, ReadStore
from mlob.store import statecodec
from mlob.store.chain import sortable_text
from mlob.store.statecodec import decode_state, encode_state
from mlob.write.application import MlobApplication
from projections.asof import (
    BY_CLASS,
    BY_NAME,
    FOLLOWED,
    FOLLOWED_SET,
    VOIDS,
    Axis,
    applied,
    base_and_later,
    continues,
    continuing,
    place_rows,
    rows_with,
    spans,
)
from projections.levels import Leveled
from projections.specs import PROJECTIONS
from projections.version import CODE_VERSION as DERIVED_VERSION
from projections.version import ROOT, code_version

log = logging.getLogger("mlob.asof")

#: Positions between two picture checkpoints (MLOB_PICTURE_CHECKPOINT_EVERY). 5,000 halves the
#: replay of the base interval for 1.8 x the storage; the occurred axis replays more on top
#: (backdated events in later intervals count on it, whatever the interval: docs/performance.md,
#: third session), which is why it looked worse with 5,000. Not the default until measured again.
EVERY = 10_000
#: Events decoded per query while replaying.
PAGE = 2000
#: The checkpoint layout; part of the code version (change it with the layout).
FORMAT = "7"
#: What :func:`picture_problems` says of a checkpoint written without the key.
UNSIGNED = "unsigned"
ALTERED_META = (
    "its signature does not hold (its times, version or content digest were altered, or the "
    "signed checkpoint before it was deleted)"
)


def _code_version(root: Path = ROOT) -> str:
    """The version of derived data (projections/version.py: the projection code and the
    domain modules and reference data it uses), extended by what only checkpoints depend on:
    their layout and the state codec with the transcoder it hands leaf values to (a stored
    state must decode as it was encoded). Hashed by the same function, as syntax trees."""
    # This tree's is hashed once per process already (the projections' version).
    derived = DERIVED_VERSION if root == ROOT else code_version(root)
    codec = code_version(root, start=(statecodec.__name__,))
    return hashlib.sha256(f"{FORMAT}\0{derived}\0{codec}".encode()).hexdigest()[:16]


CODE_VERSION = _code_version()


class _FromEnvironment:
    """The key is this process's ``MLOB_AUDIT_KEY`` (as :func:`mlob.config.load_settings`
    reads it, which refuses one that is too short at start)."""

    def __repr__(self) -> str:
        return "MLOB_AUDIT_KEY"


FROM_ENVIRONMENT = _FromEnvironment()
Key = bytes | None | _FromEnvironment


def _key(key: Key) -> bytes | None:
    if isinstance(key, _FromEnvironment):
        text = os.environ.get("MLOB_AUDIT_KEY", "")
        return text.encode() if text else None
    return key


def content_sha256(rows: bytes, places: bytes, states: bytes) -> str:
    """The digest a picture checkpoint's signature covers its stored bytes by."""
    parts = b"".join(hashlib.sha256(part).digest() for part in (rows, places, states))
    return hashlib.sha256(parts).hexdigest()


def picture_signature(key: bytes, meta: dict[str, Any], content: str, previous: int) -> str:
    """HMAC-SHA256 over a picture checkpoint's meta, ``content_sha256`` and the position of
    the signed checkpoint before it (``previous``, 0: none)."""
    doc = {**{k: meta[k] for k in PICTURE_META}, "content_sha256": content, "previous": previous}
    message = b"mlob-picture:" + orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _state_digest(state: bytes) -> str:
    return hashlib.sha256(state).hexdigest()[:32]


def _meta_holds(key: bytes, meta: dict[str, Any], previous: int) -> bool:
    """The signature over the listed meta, stored content digest and the position of the
    signed checkpoint before it holds (cheap: no blobs read)."""
    signature, content = meta.get("signature"), meta.get("content_sha256")
    if not signature or not content:
        return False
    try:
        expected = picture_signature(key, meta, str(content), previous)
    except (KeyError, TypeError, orjson.JSONEncodeError):
        return False
    return hmac.compare_digest(expected, str(signature))


def signed_checkpoints(
    key: bytes, listed: Sequence[dict[str, Any]]
) -> tuple[list[dict[str, Any]], int | None]:
    """Of these listed checkpoints, the signed ones up to the first whose signature does
    not hold, and that one's position (None: all hold). Unsigned ones are passed over."""
    kept: list[dict[str, Any]] = []
    previous = 0
    for checkpoint in listed:
        if not checkpoint.get("signature"):
            continue
        if not _meta_holds(key, checkpoint, previous):
            return kept, checkpoint["position"]
        kept.append(checkpoint)
        previous = checkpoint["position"]
    return kept, None


def picture_problems(store: ReadStore, key: bytes) -> Iterator[tuple[int, str]]:
    """Each picture checkpoint of this code version that is not what was signed, with why
    (``UNSIGNED``: written without the key), reading all of each."""
    previous = 0
    for meta in store.picture_checkpoints(CODE_VERSION):
        position = meta["position"]
        if not meta.get("signature"):
            yield position, UNSIGNED
            continue
        if not _meta_holds(key, meta, previous):
            yield position, ALTERED_META
        else:
            try:
                content = content_sha256(*store.picture_checkpoint_content(position))
            except KeyError:
                content = "vanished"
            if content != meta["content_sha256"]:
                yield position, "its rows, places or states are not what was signed (altered)"
        previous = position


class AsOfRows(tuple):  # type: ignore[type-arg]
    """``(rows, last position)`` as :func:`rows_as_of` answers, with
    ``checkpoints_signed``: True when picture checkpoints were used and their signatures hold,
    False when they were used without a key to check them, None when none was used."""

    checkpoints_signed: bool | None

    def __new__(
        cls, rows: dict[str, list[dict[str, Any]]], last: int, signed: bool | None
    ) -> AsOfRows:
        made = super().__new__(cls, (rows, last))
        made.checkpoints_signed = signed
        return made


@dataclass
class Picture:
    """Every projection's rows and every aggregate's state at ``position``.

    A checkpoint stores the rows (compressed JSON, all of them), the *places* of the states
    (id -> projection, and the checkpoint, offset and length of its latest state) and only the
    states its interval changed, each compressed on its own. A state is read (one query for a
    page of events) and decoded only when an event touches its aggregate."""

    position: int
    rows: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {p.name: {} for p in PROJECTIONS}
    )
    #: id -> [projection name, checkpoint position, offset, length, version] of the stored state
    places: dict[str, list[Any]] = field(default_factory=dict)
    #: id -> (projection name, compressed state, version): changed since the last checkpoint
    fresh: dict[str, tuple[str, bytes, int]] = field(default_factory=dict)

    @classmethod
    def load(cls, store: ReadStore, position: int, signed: dict[str, Any] | None = None) -> Picture:
        """The checkpoint at ``position``; ``signed``: its listed meta, whose signature was
        checked: then its content must be what was signed (else :class:`CheckpointUnusable`)."""
        if signed is None:
            rows, places = store.picture_checkpoint_base(position)
        else:
            rows, places, states = store.picture_checkpoint_content(position)
            if content_sha256(rows, places, states) != signed["content_sha256"]:
                raise CheckpointUnusable(
                    f"at {position}: its rows, places or states are not what was signed"
                )
        return cls(
            position, orjson.loads(zlib.decompress(rows)), orjson.loads(zlib.decompress(places))
        )

    def save(
        self, store: ReadStore, meta: dict[str, Any], key: bytes | None = None, previous: int = 0
    ) -> bool:
        """Store as the checkpoint at ``self.position`` (signed with ``key``, if given, after
        the checkpoint at ``previous``): the fresh states move into it. False when another
        writer stored one there first (then this picture's places are not what is stored: it
        must not be carried on)."""
        offset, states = 0, []
        for subject, (name, state, version) in self.fresh.items():
            self.places[subject] = [
                name,
                self.position,
                offset,
                len(state),
                version,
                _state_digest(state),
            ]
            states.append(state)
            offset += len(state)
        self.fresh = {}
        rows = zlib.compress(orjson.dumps(self.rows), 1)
        places = zlib.compress(orjson.dumps(self.places), 1)
        joined = b"".join(states)
        meta["size"] = len(rows) + len(places) + offset
        meta["content_sha256"] = content_sha256(rows, places, joined)
        meta["signature"] = (
            picture_signature(key, meta, meta["content_sha256"], previous)
            if key is not None
            else None
        )
        return store.add_picture_checkpoint(meta, rows, places, joined)

    def states(self, store: ReadStore, subjects: Iterable[str]) -> dict[str, tuple[str, bytes]]:
        """The stored states of these aggregates (those that have one), each checked against
        the digest its place holds. Only a saved or loaded picture is read from: its fresh
        states have moved into places."""
        stored = [s for s in subjects if s in self.places]
        slices = [tuple(self.places[s][1:4]) for s in stored]
        found = {}
        for s, state in zip(stored, store.picture_states(slices), strict=True):
            if _state_digest(state) != self.places[s][5]:
                raise ValueError(f"the state of {s} is not the one its place names")
            found[s] = (self.places[s][0], state)
        return found


def _pack(leveled: Leveled) -> bytes:
    """A subject's states by clearance level (projections/levels.py)."""
    return zlib.compress(
        orjson.dumps(
            {
                "subject_level": leveled.subject_level,
                "levels": sorted(leveled.levels.items()),
                "states": [[at, encode_state(a)] for at, a in sorted(leveled.states.items())],
            }
        ),
        1,
    )


def _unpack(cls: type[MlobAggregate], packed: bytes, undo: bool = True) -> Leveled:
    data = orjson.loads(zlib.decompress(packed))
    return Leveled(
        {int(at): decode_state(cls, state, undo) for at, state in data["states"]},
        {int(v): int(at) for v, at in data["levels"]},
        int(data["subject_level"]),
    )


class Bases:
    """The checkpoints last read as the base of a read, parsed, per store: the picture and the
    capacity overview as of one moment, or the pages of one picture, start from the same base
    (parsing one is ~0.2 s of CPU at a million events). Bounded: a parsed checkpoint holds
    every row (100-190 MiB at a million events). A kept picture is never changed: a read
    replays onto copies of its rows (:func:`projections.asof.rows_with`) and of its states
    (decoded afresh each time), and what it answers must not be changed by its callers."""

    def __init__(self, size: int = 2) -> None:
        self.size = size
        self._kept: weakref.WeakKeyDictionary[ReadStore, OrderedDict[tuple[Any, ...], Picture]]
        self._kept = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def load(self, store: ReadStore, meta: dict[str, Any], signed: bool) -> Picture:
        """The checkpoint ``meta`` lists, parsed (``signed``: its signature was checked, so
        its content must be what was signed; :meth:`Picture.load`)."""
        # A checkpoint rewritten at a position (another code version, or signed in place of
        # unsigned) has another version, time or digest: never taken for the one kept.
        key = (meta["position"], meta["version"], meta["at"], meta.get("content_sha256"), signed)
        with self._lock:
            kept = self._kept.setdefault(store, OrderedDict())
            found = kept.get(key)
            if found is not None:
                kept.move_to_end(key)
                return found
        picture = Picture.load(store, meta["position"], meta if signed else None)
        with self._lock:
            kept[key] = picture
            while len(kept) > self.size:
                kept.popitem(last=False)
        return picture

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


#: The parsed bases of this process's reads.
BASES = Bases()


class Replay:
    """Applies events on top of a picture; aggregates are read and decoded only when an event
    that counts touches them."""

    def __init__(
        self, app: MlobApplication, store: ReadStore, base: Picture, reading: bool = False
    ) -> None:
        self.app = app
        self.store = store
        self.base = base
        self.touched: dict[UUID, Leveled] = {}
        self.last = base.position
        #: For a read: a step keeps the state before it only when a correction follows it
        #: here (rows never show that state; a checkpoint's states must keep it).
        self.reading = reading

    def _version(self, subject: UUID) -> int:
        if (aggregate := self.touched.get(subject)) is not None:
            return aggregate.version
        place = self.base.places.get(str(subject))  # a base has no fresh states (saved/loaded)
        return place[4] if place else 0

    def apply_range(self, after: int, until: int) -> None:
        """Apply every followed event in (after, until] (all of them continue their stream)."""
        cursor = after
        while cursor < until:
            page = self.app.recorder.select_notifications(
                start=cursor + 1, limit=PAGE, stop=until, topics=FOLLOWED
            )
            self._apply_all(page)
            if len(page) < PAGE:
                return
            cursor = page[-1].id

    def apply_entries(self, entries: Sequence[tuple[int, UUID, int]]) -> None:
        """Of these index entries (position, stream, version), apply the events that continue
        their stream (the index tells which, before any event is read). All of them are read
        before any is applied: a read then knows which steps a correction follows."""
        counting = continuing(entries, self._version)
        page: list[Any] = []
        for start in range(0, len(counting), PAGE):
            found = self.app.index.notifications_at(counting[start : start + PAGE])
            page.extend(n for n in found if n.topic in FOLLOWED_SET)
        self._apply_all(page)

    def _apply_all(self, page: Sequence[Any]) -> None:
        try:
            self._apply_page(page)
        except _UNREADABLE as exc:
            raise CheckpointUnusable(repr(exc)) from exc

    def _apply_page(self, page: Sequence[Any]) -> None:
        needed = {str(n.originator_id) for n in page if n.originator_id not in self.touched}
        states = self.base.states(self.store, needed)
        corrected = _corrected(page) if self.reading else set()
        with remembering(not self.reading):
            for i, notification in enumerate(page):
                if i in corrected:
                    with remembering(True):
                        self._apply_one(notification, states)
                else:
                    self._apply_one(notification, states)

    def _apply_one(self, notification: Any, states: dict[str, tuple[str, bytes]]) -> None:
        subject, version = notification.originator_id, notification.originator_version
        leveled = self.touched.get(subject)
        if leveled is None and (state := states.get(str(subject))) is not None:
            undo = notification.topic in VOIDS  # only a correction reads the undo state
            leveled = _unpack(BY_NAME[state[0]].aggregate, state[1], undo)
        if not continues(leveled, version):
            return  # an earlier event of this stream does not count: nor does this one
        event = cast(MlobAggregate.Event, self.app.mapper.to_domain_event(notification))
        self.touched[subject] = applied(leveled, event)
        self.last = max(self.last, notification.id)

    def result(self, position: int) -> Picture:
        """The base with the touched aggregates' rows and states replaced (the base is
        changed in place and returned)."""
        picture = self.base
        place_rows(picture.rows, self.touched)
        for subject, leveled in self.touched.items():
            name = BY_CLASS[type(leveled.top)].name
            picture.fresh[str(subject)] = (name, _pack(leveled), leveled.version)
        picture.position = position
        return picture

    def rows(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every level (a reader selects its own: levels.visible_rows)."""
        return rows_with(self.base.rows, self.touched)


def _corrected(page: Sequence[Any]) -> set[int]:
    """The indexes of the steps in ``page`` whose subject's next step in it is a correction."""
    found: set[int] = set()
    latest: dict[UUID, int] = {}
    for i, notification in enumerate(page):
        before = latest.get(notification.originator_id)
        if before is not None and notification.topic in VOIDS:
            found.add(before)
        latest[notification.originator_id] = i
    return found


class CheckpointUnusable(Exception):
    """A picture checkpoint could not be read: gone meanwhile (another code version replaced
    it) or damaged. The picture is then replayed from the history instead."""


#: What reading a checkpoint can raise when it was replaced meanwhile or its data is damaged.
_UNREADABLE = (KeyError, ValueError, TypeError, IndexError, zlib.error, orjson.JSONDecodeError)


def rows_as_of(
    app: MlobApplication,
    store: ReadStore,
    moment: datetime,
    axis: Axis,
    checkpoints_too: bool = True,
    key: Key = FROM_ENVIRONMENT,
) -> AsOfRows:
    """Every projection's rows as of ``moment`` on ``axis``, and the last position used (a
    pair, whose ``checkpoints_signed`` says whether signed picture checkpoints were used:
    :class:`AsOfRows`); ``checkpoints_too=False`` replays the whole history (for an auditor who
    trusts only it, and when a checkpoint cannot be read or its signature does not hold).
    ``key``: the audit key the checkpoints' signatures are checked with (by default this
    process's ``MLOB_AUDIT_KEY``; None: used unchecked)."""
    try:
        moment.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00: before every event
        moment = datetime.min.replace(tzinfo=UTC)
    with _collector_paused():
        if checkpoints_too:
            try:
                return _rows_as_of(app, store, moment, axis, True, _key(key))
            except CheckpointUnusable as exc:
                log.warning("picture checkpoint unusable (%s): replaying the whole history", exc)
        return _rows_as_of(app, store, moment, axis, False, None)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a picture is built: it allocates a million objects
    that all live until it is done, and every full collection walks them again (measured: a
    quarter of the time at 1M events). Reference counting still frees as usual."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            # What was built and is still alive (the answer's rows, a million objects) would
            # be walked by the first collection after this (0.1 s of CPU per answer at 1M
            # events): freezing and unfreezing moves it straight to the oldest generation, as
            # long-lived objects end up anyway, without a walk; garbage among it is still
            # collected by the next full collection. (mlob freezes nothing else, so nothing
            # frozen on purpose is released by the unfreeze.)
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def _rows_as_of(
    app: MlobApplication,
    store: ReadStore,
    moment: datetime,
    axis: Axis,
    checkpoints_too: bool,
    key: bytes | None,
) -> AsOfRows:
    column = f"{axis}_at"
    text = sortable_text(moment)
    checkpoints = store.picture_checkpoints(CODE_VERSION) if checkpoints_too else []
    if key is not None and checkpoints:
        # Every one used counts (the base by its content, the others by their times), so
        # with the key every one must hold its signature.
        checkpoints, bad = signed_checkpoints(key, checkpoints)
        if bad is not None:
            raise CheckpointUnusable(f"at {bad}: its signature does not hold")
    signed = (key is not None) if checkpoints else None
    base, later = base_and_later(checkpoints, axis, text)
    try:
        picture = BASES.load(store, base, key is not None) if base is not None else Picture(0)
    except _UNREADABLE as exc:
        raise CheckpointUnusable(f"at {base and base['position']}: {exc!r}") from exc
    # Intervals that may hold events at or before the moment, then the events since the last.
    top = app.recorder.max_notification_id() or 0
    replay = Replay(app, store, picture, reading=True)
    replay.apply_entries(
        [
            entry
            for after, until in spans(picture.position, later, axis, text, top)
            for entry in app.index.entries_until(after, until, column, moment)
        ]
    )
    return AsOfRows(replay.rows(), replay.last, signed)


class PictureCheckpoints:
    """Writes a picture checkpoint every ``every`` positions, each from the one before plus the
    events between (so the history is replayed once, not once per checkpoint)."""

    def __init__(
        self,
        app: MlobApplication,
        store: ReadStore,
        every: int = EVERY,
        key: Key = FROM_ENVIRONMENT,
    ) -> None:
        self.app = app
        self.store = store
        self.every = every
        #: Signs the checkpoints (by default this process's MLOB_AUDIT_KEY; None: unsigned).
        self.key = _key(key)
        self._reported: set[int] = set()

    def _usable(self) -> tuple[list[dict[str, Any]], int | None]:
        """The checkpoints to build on, and the position of one whose signature does not
        hold (None: none). With the key, that is the signed ones up to the first unsigned one
        (written without the key: passed over, and replaced when at a position written
        anew) or bad one (kept for the auditor: nothing more is written on top of it, so no
        forgery gets signed)."""
        checkpoints = self.store.picture_checkpoints(CODE_VERSION)
        if self.key is None:
            return checkpoints, None
        return signed_checkpoints(self.key, checkpoints)

    def _blocked(self, position: int, why: str) -> None:
        if position not in self._reported:
            self._reported.add(position)
            log.error(
                "picture checkpoint at %d: %s; no picture checkpoint is written on top of it "
                "(mlob audit verify; delete it and those after it to have them rewritten)",
                position,
                why,
            )

    def pending(self) -> bool:
        checkpoints, bad = self._usable()
        if bad is not None:
            self._blocked(bad, "its signature does not hold")
            return False
        last = checkpoints[-1]["position"] if checkpoints else 0
        return (self.app.recorder.max_notification_id() or 0) >= last + self.every

    def advance(self, limit: int | None = None) -> list[int]:
        """Write the checkpoints that are due (at most ``limit``); their positions."""
        with _collector_paused():
            return self._advance(limit)

    def _advance(self, limit: int | None) -> list[int]:
        checkpoints, bad = self._usable()
        if bad is not None:
            self._blocked(bad, "its signature does not hold")
            return []
        previous = checkpoints[-1] if checkpoints else None
        try:
            picture = (
                Picture.load(
                    self.store, previous["position"], previous if self.key is not None else None
                )
                if previous is not None
                else Picture(0)
            )
        except CheckpointUnusable as exc:
            assert previous is not None
            self._blocked(previous["position"], str(exc))
            return []
        top = self.app.recorder.max_notification_id() or 0
        written: list[int] = []
        while picture.position + self.every <= top and (limit is None or len(written) < limit):
            after, until = picture.position, picture.position + self.every
            replay = Replay(self.app, self.store, picture)
            replay.apply_range(after, until)
            picture = replay.result(until)
            meta = _meta(until, self.app.index.time_bounds(after, until), previous)
            if not picture.save(self.store, meta, self.key, after):
                log.info("picture checkpoint at %d written elsewhere meanwhile", until)
                break
            previous = meta
            written.append(until)
            log.info("picture checkpoint at position %d", until)
        return written


def _meta(
    position: int, bounds: dict[str, datetime], previous: dict[str, Any] | None
) -> dict[str, Any]:
    """A checkpoint's row: its interval's lowest times, the highest times up to it."""
    if not bounds:  # no event in the interval (a gap): it adds no times
        empty = sortable_text(datetime.max.replace(tzinfo=UTC))
        bounds_text = {"recorded_min": empty, "occurred_min": empty}
        highest = {k: previous[k] if previous else "" for k in ("recorded_max", "occurred_max")}
    else:
        bounds_text = {k: sortable_text(v) for k, v in bounds.items() if k.endswith("_min")}
        highest = {
            k: max(sortable_text(bounds[k]), previous[k] if previous else "")
            for k in ("recorded_max", "occurred_max")
        }
    return {
        "position": position,
        "version": CODE_VERSION,
        **bounds_text,
        **highest,
        "at": sortable_text(datetime.now(UTC)),
        "size": 0,  # set when saved
    }
