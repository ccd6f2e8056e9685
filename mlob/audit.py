"""Tamper evidence anchored outside the database.

The index's hash chain (:mod:`mlob.store.chain`) shows any edit or deletion in the middle of
the history, but someone who can write the database could delete the tail, or edit a row and
recompute every hash after it. So the chain's head is signed with an HMAC-SHA256 key kept
outside the database (``MLOB_AUDIT_KEY``): a *checkpoint* is ``(position, head, signature)``
with ``signature = HMAC-SHA256(key, "mlob-chain:{position}:{head hex}")``. Checkpoints are
stored with the history and can be exported; ``mlob audit verify`` recomputes the chain, checks
every checkpoint's signature and that the chain still passes through each signed head, and names
the first broken link.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from mlob.readstore import ReadStore
from mlob.store.chain import GENESIS, link
from mlob.store.recorders import IndexQueries, iter_chain


def signature(key: bytes, position: int, head: bytes) -> str:
    message = f"mlob-chain:{position}:{head.hex()}".encode()
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


def checkpoint(index: IndexQueries, store: ReadStore, key: bytes) -> dict[str, object] | None:
    """Sign the current head and store the checkpoint. The chain is recomputed from the latest
    checkpoint whose signature and head still hold (from the start if there is none), so a
    checkpoint never vouches for an altered history and periodic ones stay cheap."""
    start, previous = 0, GENESIS
    for c in reversed(store.checkpoints()):
        head = bytes.fromhex(c["head"])
        if not hmac.compare_digest(signature(key, c["position"], head), c["signature"]):
            continue
        rows = index.chain_rows(after=c["position"] - 1, limit=1)
        if rows and rows[0][0].position == c["position"] and rows[0][0].hash == head:
            start, previous = c["position"], head
            break
    last = start
    for record, state in iter_chain(index, after=start):
        if link(previous, record.entry.hash_fields(record.position), state) != record.hash:
            raise ValueError(
                f"the chain breaks at position {record.position}; no checkpoint signed"
            )
        previous, last = record.hash, record.position
    if last == 0 or last == start:
        return None
    signed = signature(key, last, previous)
    store.add_checkpoint(last, previous.hex(), signed)
    return {"position": last, "head": previous.hex(), "signature": signed}


def verify(
    index: IndexQueries,
    store: ReadStore,
    key: bytes | None,
    exported: list[dict[str, object]] | None = None,
) -> Verdict:
    """Recompute the chain and check the checkpoints stored with it and ``exported`` ones
    (kept outside the database: what proves a cut-off tail when the stored ones were deleted
    too)."""
    checkpoints = {c["position"]: c for c in store.checkpoints()}
    for c in exported or []:
        checkpoints.setdefault(int(c["position"]), c)  # type: ignore[call-overload]
    previous, checked, last = GENESIS, 0, 0
    problems: list[str] = []
    first_broken: int | None = None
    heads: dict[int, bytes] = {}
    for record, state in iter_chain(index):
        recomputed = link(previous, record.entry.hash_fields(record.position), state)
        if recomputed != record.hash and first_broken is None:
            first_broken = record.position
            problems.append(
                f"position {record.position}: its hash does not match its content and the "
                "previous row (this row or the one before it was altered, or rows between "
                "were deleted)"
            )
        previous = record.hash
        last = record.position
        checked += 1
        if record.position in checkpoints:
            heads[record.position] = record.hash
    verified = 0
    good_before = 0
    for position in sorted(checkpoints):
        c = checkpoints[position]
        if key is not None and not hmac.compare_digest(
            signature(key, position, bytes.fromhex(c["head"])), c["signature"]
        ):
            problems.append(
                f"checkpoint at {position}: the signature was not made with the audit key"
            )
            continue
        if position not in heads:
            problems.append(
                f"checkpoint at {position}: the history no longer reaches that position "
                f"(it ends at {last}): rows were deleted"
            )
            first_broken = first_broken or min(position, last + 1)
            continue
        if heads[position].hex() != c["head"]:
            problems.append(
                f"checkpoint at {position}: the chain no longer passes through the signed head: "
                f"history was altered after position {good_before} and at or before {position}"
            )
            first_broken = first_broken or good_before + 1
            continue
        good_before = position
        verified += 1
    notes = []
    if key is None and checkpoints:
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
        first_broken=first_broken,
        checkpoints_checked=verified,
        notes=notes,
    )
