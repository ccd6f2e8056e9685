"""Domain refusals: a stable code, the rule's source, and a readable reason."""

from __future__ import annotations


class DomainError(Exception):
    """A command the rules refuse.

    ``code`` is stable (clients match on it), ``source`` names the law article or seed
    section the rule comes from, ``reason`` explains it to a person.
    """

    status = 422

    def __init__(self, code: str, reason: str, source: str) -> None:
        super().__init__(f"{code}: {reason} [{source}]")
        self.code = code
        self.reason = reason
        self.source = source

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "reason": self.reason, "source": self.source}


class NotPermitted(DomainError):
    """This organisation or role may not take this step (rights table)."""

    status = 403


class NotFound(DomainError):
    """The subject does not exist."""

    status = 404


class Conflict(DomainError):
    """The step conflicts with what is already recorded (version, duplicate, state)."""

    status = 409


def version_conflict(subject: str, expected: int, actual: int) -> Conflict:
    return Conflict(
        "version_conflict",
        f"{subject} is at version {actual}, not the expected {expected}",
        "mlob optimistic concurrency",
    )
