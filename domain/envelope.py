"""The envelope every recorded event carries: who acted, for whom, when, and how secret.

The actor comes from the credentials, never from the message; the authority is the competent
body the step is taken for, signed *door of namens* (by or on behalf of).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum

from domain.errors import DomainError
from domain.stored import stored_as

#: How far ahead of the server clock an ``occurred_at`` may be (client clock skew).
OCCURRED_AT_SKEW = timedelta(seconds=30)
#: The earliest ``occurred_at`` taken: anything before is a typing error (year 202 for 2026),
#: and times below year 1000 do not even sort as text in the index.
EARLIEST_OCCURRED = datetime(1900, 1, 1, tzinfo=UTC)


@stored_as("mlob:Classification")
class Classification(str, Enum):
    """Rubricering: the classification levels of Dutch government information, lowest first."""

    UNCLASSIFIED = "ongerubriceerd"
    DEPARTMENTAL_CONFIDENTIAL = "departementaal_vertrouwelijk"
    STATE_SECRET_CONFIDENTIAL = "stg_confidentieel"
    STATE_SECRET_SECRET = "stg_geheim"
    STATE_SECRET_TOP_SECRET = "stg_zeer_geheim"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    @property
    def marking(self) -> str:
        """The marking written on the information, as on paper (none for ongerubriceerd)."""
        return _MARKINGS[self]


_RANKS = {c: i for i, c in enumerate(Classification)}
#: Rubriceringsmerkingen (Besluit VIR-BI 2013; Dep. Vertrouwelijk is a ministry's own marking).
_MARKINGS = {
    Classification.UNCLASSIFIED: "",
    Classification.DEPARTMENTAL_CONFIDENTIAL: "Dep. Vertrouwelijk",
    Classification.STATE_SECRET_CONFIDENTIAL: "Stg. Confidentieel",
    Classification.STATE_SECRET_SECRET: "Stg. Geheim",
    Classification.STATE_SECRET_TOP_SECRET: "Stg. Zeer Geheim",
}


@stored_as("mlob:SigningCapacity")
class SigningCapacity(str, Enum):
    """*Door of namens*: signed by the competent body itself, or on its behalf."""

    BY = "door"
    ON_BEHALF_OF = "namens"


@stored_as("mlob:Actor")
@dataclass(frozen=True)
class Actor:
    """The organisation (and person) that records a step; set by the server from credentials."""

    org: str
    role: str
    person: str | None = None


@stored_as("mlob:Authority")
@dataclass(frozen=True)
class Authority:
    """The competent body a step is taken for (*bevoegd gezag*).

    ``body`` names the office (e.g. ``chair_safety_region``, ``mayor``, ``public_prosecutor``),
    ``of`` the organisation or municipality it belongs to (e.g. ``VR08``, ``Nijmegen``).
    """

    body: str
    of: str
    capacity: SigningCapacity = SigningCapacity.BY
    person: str | None = None


@stored_as("mlob:Envelope")
@dataclass(frozen=True)
class Envelope:
    """Metadata of one recorded event (see README, "The envelope")."""

    actor: Actor
    occurred_at: datetime
    message_id: str
    authority: Authority | None = None
    exercise: bool = False
    classification: Classification = Classification.UNCLASSIFIED
    correlation_id: str | None = None
    causation_id: str | None = None

    def threaded(self, correlation_id: str | None, causation_id: str | None) -> Envelope:
        """This envelope with its threading (domain/posting.py), as ``dataclasses.replace``
        makes it but without its cost (it runs the generated ``__init__`` after a look at every
        field: once per posted command): the class has no ``__post_init__``, so a copy of the
        fields with these two is the same object."""
        copy = object.__new__(type(self))
        vars(copy).update(vars(self), correlation_id=correlation_id, causation_id=causation_id)
        return copy

    def check(self, now: datetime) -> None:
        """Refuse an envelope that cannot be true at ``now``."""
        if self.occurred_at.tzinfo is None:
            raise DomainError("occurred_at_naive", "mlob envelope", pointer="/occurred_at")
        if self.occurred_at < EARLIEST_OCCURRED:
            raise DomainError(
                "occurred_at_too_early",
                "mlob envelope",
                occurred_at=self.occurred_at.isoformat(),
                pointer="/occurred_at",
            )
        if self.occurred_at > now + OCCURRED_AT_SKEW:
            raise DomainError(
                "occurred_at_in_future",
                "mlob envelope",
                occurred_at=self.occurred_at.isoformat(),
                pointer="/occurred_at",
            )
        if not self.message_id or len(self.message_id) > 200:
            raise DomainError("message_id_invalid", "mlob envelope", pointer="/message_id")
