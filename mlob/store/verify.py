"""Recompute the hash chain and name the first broken link.

Rows up to the chain format switch (``IndexQueries.chain_switches``: the position after which
the chain is in format 2) are checked in format 1, later ones in format 2; every row's stored
event must also repeat the row's stream, version and event type (:func:`chain.disagreement`).
Nothing an insider writes into the tables makes this raise: a row that cannot be read is a
broken link.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from mlob.store.chain import FORMAT_2, GENESIS, disagreement, format_at, link
from mlob.store.recorders import IndexQueries, iter_links

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


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    head: bytes
    broken_at: int | None = None
    problem: str = ""


def verify_chain(index: IndexQueries) -> ChainReport:
    """The chain alone (no checkpoints): the first row that does not link."""
    switch = switch_of(index)
    previous = GENESIS
    expected_position: int | None = None
    checked = 0
    for row in check_links(index, switch.position if switch else 0):
        if expected_position is not None and row.position < expected_position:
            return ChainReport(False, checked, previous, row.position, "positions out of order")
        if row.problem:
            return ChainReport(False, checked, previous, row.position, row.problem)
        assert row.hash is not None
        previous = row.hash
        expected_position = row.position + 1
        checked += 1
    last = (expected_position or 1) - 1
    if switch is not None and switch.position > last:
        return ChainReport(
            False, checked, previous, switch.position, "the chain format switch's row is gone"
        )
    return ChainReport(True, checked, previous)
