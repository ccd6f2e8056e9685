"""Tamper evidence anchored outside the database.

The index's hash chain (:mod:`mlob.store.chain`) shows any edit or deletion in the middle of
the history, but someone who can write the database could delete the tail, or edit a row and
recompute every hash after it. So the chain's head is signed with an HMAC-SHA256 key kept
outside the database (``MLOB_AUDIT_KEY``): a *checkpoint* is ``(position, head, signature)``
with ``signature = HMAC-SHA256(key, "mlob-chain:{position}:{head hex}")``. Checkpoints are
stored with the history and can be exported; ``mlob audit verify`` recomputes the chain, checks
every checkpoint's signature and that the chain still passes through each signed head, and names
the first broken link.

A store from before chain format 2 has a *format switch* (``mlob_chain_formats``): rows up to
its position are in format 1, later ones in format 2, and its head is the format-1 chain's head
there. The first checkpoint signed with the key after the upgrade verifies the format-1 chain
up to the switch and signs the switch too (``"mlob-chain-format:2:{position}:{head hex}"``), so
that it can no longer be moved; until then it is unsigned, which ``verify`` reports as a
warning. Picture checkpoints (:mod:`mlob.read.pictures`) are signed with the same key; ``verify``
checks them too.

:func:`check_links` is the one walk over the chain (rows up to the format switch in format 1,
later ones in format 2; every row's stored event must also repeat the row's stream, version
and event type, :func:`mlob.store.chain.disagreement`); ``checkpoint`` and ``verify`` both use
it. Nothing an insider writes into the tables makes it raise: a row that cannot be read is a
broken link.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mlob.read.readstore import ReadStore
from mlob.store.chain import FORMAT_2, GENESIS, disagreement, format_at, link
from mlob.store.recorders import IndexQueries, iter_links

ZEROS = GENESIS.hex()


# --- the chain walk ----------------------------------------------------------------------

ALTERED = (
    "its hash does not match its content and the previous row (this row or the one before it "
    "was altered, or rows between were deleted)"
)


@dataclass(frozen=True)
class Switch:
    """Where the chain changed format: rows after ``position`` are in ``format``; ``head`` is
    the chain's head at ``position`` (hex; zeros for position 0)."""

    format: int
    position: int
    head: str
    signature: str | None
    at: str = ""

    @classmethod
    def from_row(cls, row: dict[str, object]) -> Switch:
        signature = row.get("signature")
        return cls(
            int(row["format"]),  # type: ignore[call-overload]
            int(row.get("after_position", row.get("position"))),  # type: ignore[call-overload]
            str(row["head"]),
            str(signature) if signature else None,
            str(row.get("at") or ""),
        )

    def as_dict(self) -> dict[str, object]:
        """As exported (``mlob audit checkpoints``): a checkpoint line with ``format``."""
        return {
            "format": self.format,
            "position": self.position,
            "head": self.head,
            "signature": self.signature,
            "at": self.at,
        }


def switch_of(index: IndexQueries) -> Switch | None:
    """The recorded switch to format 2 (None: none recorded)."""
    for row in index.chain_switches():
        if int(row["format"]) == FORMAT_2:
            return Switch.from_row(row)
    return None


@dataclass(frozen=True)
class LinkCheck:
    position: int
    #: The stored hash (None: unreadable).
    hash: bytes | None
    format: int
    #: Why the row does not link ("": it does).
    problem: str


def check_links(
    index: IndexQueries, switch: int, *, after: int = 0, previous: bytes = GENESIS
) -> Iterator[LinkCheck]:
    """Each row after ``after`` checked against the one before (``previous``: its hash), in
    its format (format 1 up to position ``switch``, format 2 after). A broken row does not
    break the ones after it: they are checked against its stored hash."""
    for row in iter_links(index, after=after):
        fmt = format_at(row.position, switch)
        problem = row.unreadable
        if not problem and row.record is not None:
            try:
                recomputed = link(previous, row.record.entry, row.event, fmt)
            except (TypeError, ValueError) as exc:  # e.g. a value orjson cannot write
                problem = f"its content cannot be hashed ({exc})"
            else:
                problem = (
                    ALTERED if recomputed != row.hash else disagreement(row.record.entry, row.event)
                )
        yield LinkCheck(row.position, row.hash, fmt, problem)
        previous = row.hash if row.hash is not None else GENESIS


# --- checkpoints -------------------------------------------------------------------------


def signature(key: bytes, position: int, head: bytes) -> str:
    message = f"mlob-chain:{position}:{head.hex()}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def switch_signature(key: bytes, format: int, position: int, head: str) -> str:
    """The signature of a chain format switch (``head``: lowercase hex)."""
    message = f"mlob-chain-format:{format}:{position}:{head}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@dataclass
class Verdict:
    ok: bool
    checked: int
    head: str
    last_position: int
    problems: list[str] = field(default_factory=list)
    first_broken: int | None = None
    checkpoints_checked: int = 0
    notes: list[str] = field(default_factory=list)
    #: What holds but is not vouched for (an unsigned format switch or picture checkpoint).
    warnings: list[str] = field(default_factory=list)
    #: Positions of picture checkpoints whose content is not what was signed.
    bad_picture_checkpoints: list[int] = field(default_factory=list)
    picture_checkpoints_checked: int = 0
    switch: Switch | None = None


def _head(checkpoint: dict[str, Any]) -> bytes | None:
    try:
        return bytes.fromhex(str(checkpoint["head"]))
    except (KeyError, ValueError):
        return None


def _signed(key: bytes, c: dict[str, Any]) -> bool:
    head = _head(c)
    return head is not None and hmac.compare_digest(
        signature(key, int(c["position"]), head), str(c.get("signature") or "")
    )


def _switch_signed(key: bytes, switch: Switch) -> bool:
    expected = switch_signature(key, switch.format, switch.position, switch.head)
    return hmac.compare_digest(expected, switch.signature or "")


def checkpoint(index: IndexQueries, store: ReadStore, key: bytes) -> dict[str, object] | None:
    """Sign the current head and store the checkpoint. The chain is recomputed from the latest
    checkpoint whose signature and head still hold (from the start if there is none), so a
    checkpoint never vouches for an altered history and periodic ones stay cheap. An unsigned
    chain format switch is signed too, once the chain up to it and its head are verified (the
    chain is then recomputed from a checkpoint before the switch)."""
    switch = switch_of(index)
    at = switch.position if switch else 0
    if switch is not None and switch.signature and not _switch_signed(key, switch):
        raise ValueError(
            f"the chain format switch at position {at} was not signed with the audit key; "
            "no checkpoint signed"
        )
    sign_switch = switch is not None and switch.signature is None
    start, previous = 0, GENESIS
    for c in reversed(store.checkpoints()):
        head = _head(c)
        if head is None or not _signed(key, c) or (sign_switch and c["position"] >= at):
            continue
        rows = index.chain_links(after=c["position"] - 1, limit=1)
        if rows and rows[0].position == c["position"] and rows[0].hash == head:
            start, previous = c["position"], head
            break
    last = start
    for row in check_links(index, at, after=start, previous=previous):
        if row.problem:
            raise ValueError(f"the chain breaks at position {row.position}; no checkpoint signed")
        assert row.hash is not None
        if sign_switch and row.position == at and switch and row.hash.hex() != switch.head:
            raise ValueError(
                f"the chain no longer passes through the head recorded at the format switch "
                f"(position {at}); no checkpoint signed"
            )
        previous, last = row.hash, row.position
    signed: dict[str, object] = {}
    if sign_switch and switch is not None:
        if at > last or (at == 0 and switch.head != ZEROS):
            raise ValueError(
                f"the chain format switch at position {at} does not hold; no checkpoint signed"
            )
        switched = Switch(
            switch.format,
            at,
            switch.head,
            switch_signature(key, switch.format, at, switch.head),
            switch.at,
        )
        index.sign_chain_switch(switch.format, str(switched.signature))
        signed["format_switch"] = switched.as_dict()
    if last == 0 or last == start:
        return signed or None
    digest = signature(key, last, previous)
    store.add_checkpoint(last, previous.hex(), digest)
    return {"position": last, "head": previous.hex(), "signature": digest, **signed}


def verify(
    index: IndexQueries,
    store: ReadStore | None,
    key: bytes | None,
    exported: list[dict[str, object]] | None = None,
) -> Verdict:
    """Recompute the chain and check the checkpoints stored with it and ``exported`` ones
    (kept outside the database: what proves a cut-off tail when the stored ones were deleted
    too), the chain format switch, and the picture checkpoints. Without a ``store`` (no read
    store at hand) the chain is checked alone: no stored checkpoints, no pictures."""
    problems: list[str] = []
    notes: list[str] = []
    warnings: list[str] = []
    broken: list[int] = []  # candidate first broken positions

    checkpoints: dict[int, dict[str, Any]] = {}
    for c in store.checkpoints() if store is not None else ():
        checkpoints[int(c["position"])] = c
    exported_switches: list[Switch] = []
    for c in exported or []:
        try:
            if c.get("format") is not None:
                exported_switches.append(Switch.from_row(c))
            else:
                checkpoints.setdefault(int(c["position"]), c)  # type: ignore[call-overload]
        except (KeyError, TypeError, ValueError):
            problems.append(f"an exported checkpoint cannot be read: {c!r}")

    # An exported switch (kept outside the database) is trusted over the stored one.
    stored_switch = switch_of(index)
    switch = next(iter(exported_switches), stored_switch)
    at = switch.position if switch else 0
    for other in (stored_switch, *exported_switches[1:]):
        if switch is None or other is None:
            continue
        if (other.format, other.position, other.head) != (
            switch.format,
            switch.position,
            switch.head,
        ):
            problems.append(
                f"the chain format switch is recorded after position {other.position} but was "
                f"exported after position {switch.position}: it was moved"
            )
            broken.append(min(switch.position, other.position) + 1)
        elif key is not None and other.signature and not _switch_signed(key, other):
            problems.append("the stored chain format switch's signature was not made with the key")
            broken.append(at + 1)

    checked, last = 0, 0
    previous = GENESIS
    heads: dict[int, bytes] = {}
    first_row_problem: int | None = None
    for row in check_links(index, at):
        if row.problem and first_row_problem is None:
            first_row_problem = row.position
            problems.insert(0, f"position {row.position}: {row.problem}")
            broken.append(row.position)
        if row.hash is not None:
            previous = row.hash
            if row.position in checkpoints or row.position == at:
                heads[row.position] = row.hash
        last = row.position
        checked += 1

    for position in index.unindexed_events():
        problems.append(
            f"position {position}: an event without an index row (written beside the chain)"
        )
        broken.append(position)
        break

    verified = 0
    good_before = 0
    holding: list[int] = []
    for position in sorted(checkpoints):
        c = checkpoints[position]
        if key is not None and not _signed(key, c):
            problems.append(
                f"checkpoint at {position}: the signature was not made with the audit key"
            )
            continue
        if position not in heads:
            problems.append(
                f"checkpoint at {position}: the history no longer reaches that position "
                f"(it ends at {last}): rows were deleted"
            )
            broken.append(min(position, last + 1))
            continue
        if heads[position].hex() != c["head"]:
            problems.append(
                f"checkpoint at {position}: the chain no longer passes through the signed head: "
                f"history was altered after position {good_before} and at or before {position}"
            )
            broken.append(good_before + 1)
            continue
        good_before = position
        holding.append(position)
        verified += 1

    if switch is None:
        if checked:
            notes.append("no chain format switch recorded: every row was checked in format 2")
    else:
        before = max((p for p in holding if p <= at), default=0)
        if at > 0 and at not in heads:
            problems.append(
                f"the chain format switch at {at}: the history no longer reaches that position "
                f"(it ends at {last}): rows were deleted"
            )
            broken.append(min(at, last + 1))
        elif heads.get(at, GENESIS).hex() != switch.head:
            problems.append(
                f"the chain format switch at {at}: the chain no longer passes through the head "
                f"recorded there: history was altered after position {before} and at or "
                f"before {at}"
            )
            broken.append(before + 1)
        if switch.signature is None:
            if at > 0:
                warnings.append(
                    f"the chain format switch (format {switch.format} after position {at}) is "
                    "recorded unsigned: nothing vouches that rows up to it were not rewritten "
                    "in format 1 afterwards; sign it with 'mlob audit checkpoint' "
                    "(MLOB_AUDIT_KEY)"
                )
        elif key is not None and not _switch_signed(key, switch):
            problems.append(
                f"the chain format switch at {at}: the signature was not made with the audit key"
            )
            broken.append(before + 1)

    pictures = _verify_pictures(store, key) if store is not None else _Pictures()
    picture_problems = [f"picture checkpoint at {p}: {why}" for p, why in pictures.bad]
    problems.extend(picture_problems)
    warnings.extend(pictures.warnings)
    notes.extend(pictures.notes)

    if key is None and (checkpoints or (switch is not None and switch.signature)):
        notes.append("no audit key given: checkpoint signatures were not checked")
    if key is not None and not checkpoints and checked:
        notes.append(
            "no signed checkpoint to check against: a cut-off tail or a recomputed chain "
            "would not show; verify with --checkpoints FILE (an export kept elsewhere)"
        )
    return Verdict(
        ok=not problems,
        checked=checked,
        head=previous.hex() if checked else "",
        last_position=last,
        problems=problems,
        first_broken=min(broken) if broken else None,
        checkpoints_checked=verified,
        notes=notes,
        warnings=warnings,
        bad_picture_checkpoints=[p for p, _ in pictures.bad],
        picture_checkpoints_checked=pictures.checked,
        switch=switch,
    )


@dataclass
class _Pictures:
    checked: int = 0
    bad: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _verify_pictures(store: ReadStore, key: bytes | None) -> _Pictures:
    from mlob.read import pictures as asof  # the domain and projections: only when verifying

    found = _Pictures()
    listed = store.picture_checkpoints(asof.CODE_VERSION)
    if not listed:
        return found
    if key is None:
        found.notes.append(
            f"{len(listed)} picture checkpoint(s) not checked: no audit key given (answers "
            'that use them say "checkpoints_signed": false)'
        )
        return found
    unsigned = []
    for position, problem in asof.picture_problems(store, key):
        if problem == asof.UNSIGNED:
            unsigned.append(position)
        else:
            found.bad.append((position, problem))
    found.checked = len(listed) - len(unsigned) - len(found.bad)
    if unsigned:
        found.warnings.append(
            f"picture checkpoint(s) at {', '.join(map(str, unsigned))} are unsigned (written "
            "without the audit key): answers do not use them while the key is set"
        )
    return found
