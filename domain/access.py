"""Access tokens (*toegangstokens*): which organisation, role and clearance a bearer acts as.

Issuing and revoking are events like any other, so who could act when is part of the audited
history. Only a hash of the secret is ever recorded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from domain.base import MlobAggregate
from domain.envelope import Classification, Envelope
from domain.errors import Conflict, DomainError, NotPermitted
from domain.reference import organisation

SOURCE = "mlob access rules"

#: Roles a token can carry. Operators and coordinators record steps for their organisation;
#: auditors and viewers only read; admins manage tokens and record no operational steps.
ROLES = ("operator", "coordinator", "auditor", "viewer", "admin")


class AccessToken(MlobAggregate):
    TOPIC = "mlob:AccessToken"

    class Created(MlobAggregate.Created):
        """Token issued."""

        TOPIC = "mlob:AccessToken.Issued"
        org: str
        role: str
        clearance: Classification
        expires_at: datetime | None
        secret_hash: str
        label: str

    class Revoked(MlobAggregate.Event):
        TOPIC = "mlob:AccessToken.Revoked"
        VOIDABLE = False
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.revoked = True

    class Voided(MlobAggregate.Voided):
        TOPIC = "mlob:AccessToken.Voided"

    def __init__(
        self,
        org: str,
        role: str,
        clearance: Classification,
        expires_at: datetime | None,
        secret_hash: str,
        label: str,
        envelope: Envelope,
    ) -> None:
        self.org = org
        self.role = role
        self.clearance = clearance
        self.expires_at = expires_at
        self.secret_hash = secret_hash
        self.label = label
        self.revoked = False

    def valid_at(self, moment: datetime) -> bool:
        return not self.revoked and (self.expires_at is None or moment < self.expires_at)

    @classmethod
    def issue(
        cls,
        envelope: Envelope,
        subject: UUID,
        *,
        org: str,
        role: str,
        clearance: Classification,
        secret_hash: str,
        expires_at: datetime | None = None,
        label: str = "",
    ) -> AccessToken:
        _require_admin(envelope)
        try:
            organisation(org)
        except KeyError:
            raise DomainError("unknown_organisation", f"{org} is not known", SOURCE) from None
        if role not in ROLES:
            raise DomainError("unknown_role", f"role must be one of {', '.join(ROLES)}", SOURCE)
        if expires_at is not None and expires_at <= envelope.occurred_at:
            raise DomainError("expired_on_issue", "the expiry lies in the past", SOURCE)
        return cls._create(
            cls.Created,
            id=subject,
            envelope=envelope,
            org=org,
            role=role,
            clearance=clearance,
            expires_at=expires_at,
            secret_hash=secret_hash,
            label=label,
        )

    def revoke(self, envelope: Envelope, reason: str) -> None:
        _require_admin(envelope)
        if self.revoked:
            raise Conflict("already_revoked", "the token was revoked already", SOURCE)
        self.emit(self.Revoked, envelope, reason=reason)


def _require_admin(envelope: Envelope) -> None:
    if envelope.actor.role != "admin":
        raise NotPermitted("admin_only", "only an admin issues or revokes tokens", SOURCE)
