"""Refusals: one exception family from the rules to the HTTP answer.

A refusal has a stable ``code`` (clients match on it), the ``source`` of its rule (a law article,
a seed section, an mlob rule) and a readable ``reason``; its class says its HTTP status class.
In a batch, ``index`` names the refused item (``DomainError.at``); ``details`` carries field
errors. ``api.errors.answer`` turns any of them into the one error shape of the API.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A command the rules refuse."""

    status = 422

    def __init__(
        self,
        code: str,
        reason: str,
        source: str,
        *,
        index: int | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(f"{code}: {reason} [{source}]")
        self.code = code
        self.reason = reason
        self.source = source
        #: The refused item of a batch (None: the post as a whole).
        self.index = index
        self.details = details or []

    def at(self, index: int) -> DomainError:
        """This refusal, as the refusal of item ``index`` of a batch."""
        self.index = index
        return self


class NotPermitted(DomainError):
    """This organisation or role may not take this step (rights table)."""

    status = 403


class NotFound(DomainError):
    """The subject does not exist."""

    status = 404


class Conflict(DomainError):
    """The step conflicts with what is already recorded (version, duplicate, state)."""

    status = 409


class TooLarge(DomainError):
    """More than the limits allow in one post."""

    status = 413


def version_conflict(subject: str, expected: int, actual: int) -> Conflict:
    return Conflict(
        "version_conflict",
        f"{subject} is at version {actual}, not the expected {expected}",
        "mlob optimistic concurrency",
    )
