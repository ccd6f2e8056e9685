"""Refusals: one exception family from the rules to the HTTP answer.

A refusal has a stable ``code`` (clients match on it), the ``source`` of its rule (a law article,
a seed section, an mlob rule) and the ``params`` of its text; the text itself, in English and
Dutch, comes from the one catalogue :mod:`domain.refusals` (the key is the code, or
``code.text`` where one code has several texts). ``reason`` is the English text (logs, the CLI,
the rejection log); ``reason_in("nl")`` the Dutch. ``pointer`` names the field at fault as a JSON
pointer into the posted item (``/data/lines/0/quantity``). Its class says its HTTP status class.
In a batch, ``index`` names the refused item (``DomainError.at``); ``details`` carries field
errors. ``api.errors.answer`` turns any of them into the one error shape of the API.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any

from domain.refusals import render


def plain(value: object) -> Any:
    """A parameter as the answer carries it: numbers and booleans stay, enums are their
    values, collections lists, anything else (UUIDs, dates, names) a string."""
    if isinstance(value, Enum):  # first: a str or int enum is its value, not its name
        return plain(value.value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Iterable):
        return [plain(v) for v in value]
    return str(value)


class DomainError(Exception):
    """A command the rules refuse."""

    status = 422

    def __init__(
        self,
        code: str,
        source: str,
        *,
        text: str | None = None,
        pointer: str | None = None,
        index: int | None = None,
        details: list[dict[str, Any]] | None = None,
        **params: object,
    ) -> None:
        self.code = code
        #: The catalogue entry of the text: the code, or ``code.text`` for one of its texts.
        self.key = f"{code}.{text}" if text else code
        self.params: dict[str, Any] = {name: plain(value) for name, value in params.items()}
        self.source = source
        #: The field at fault, a JSON pointer into the item (None: the item as a whole).
        self.pointer = pointer
        #: The refused item of a batch (None: the post as a whole).
        self.index = index
        self.details = details or []
        super().__init__(f"{code}: {self.reason} [{source}]")

    @property
    def reason(self) -> str:
        """The English text (logs, the CLI, the rejection log)."""
        return self.reason_in("en")

    def reason_in(self, language: str) -> str:
        """The text in ``language`` (``en`` or ``nl``)."""
        return render(self.key, self.params, language)

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
        "mlob optimistic concurrency",
        text="expected_version",
        subject=subject,
        actual=actual,
        expected=expected,
        pointer="/expected_version",
    )
