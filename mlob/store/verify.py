"""Recompute the hash chain and name the first broken link."""

from __future__ import annotations

from dataclasses import dataclass

from mlob.store.chain import GENESIS, link
from mlob.store.recorders import IndexQueries, iter_chain


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    head: bytes
    broken_at: int | None = None
    problem: str = ""


def verify_chain(index: IndexQueries) -> ChainReport:
    previous = GENESIS
    expected_position: int | None = None
    checked = 0
    for record, state in iter_chain(index):
        if expected_position is not None and record.position < expected_position:
            return ChainReport(False, checked, previous, record.position, "positions out of order")
        recomputed = link(previous, record.entry.hash_fields(record.position), state)
        if recomputed != record.hash:
            return ChainReport(
                False, checked, previous, record.position, "hash does not match its content"
            )
        previous = record.hash
        expected_position = record.position + 1
        checked += 1
    return ChainReport(True, checked, previous)
