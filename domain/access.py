"""Access tokens (*toegangstokens*): which organisation, role and clearance a bearer acts as.

Issuing and revoking are events like any other, so who could act when is part of the audited
history. Only a hash of the secret is ever recorded. Who may issue, see and revoke which token
is the access policy's (``domain.policy.issue_refusal`` and ``may_manage_token``): an
administrator of the token's organisation (LOCC's, who run the installation, of any), cleared at
least as high as the token, and only with a role that organisation may hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.base import MlobAggregate
from domain.envelope import Classification, Envelope
from domain.errors import Conflict, DomainError, NotFound, NotPermitted
from domain.policy import (
    ROLES,
    issue_refusal,
    may_manage_token,
    may_manage_tokens_of,
)
from domain.reference import organisation

SOURCE = "mlob access rules"


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
        admin_clearance: Classification,
        expires_at: datetime | None = None,
        label: str = "",
    ) -> AccessToken:
        """Issue a token; the envelope's actor is the administrator, cleared for
        ``admin_clearance``. Refused (403) for another organisation than its own (but by LOCC),
        above its clearance, or with a role the organisation may not hold."""
        admin = _admin(envelope, admin_clearance)
        if role not in ROLES:
            raise DomainError("unknown_role", SOURCE, roles=ROLES)
        if not may_manage_tokens_of(admin, org):
            raise _refused("not_own_organisation")
        try:
            organisation(org)
        except KeyError:
            raise DomainError("unknown_organisation", SOURCE, org=org) from None
        refusal = issue_refusal(admin, org, role, clearance)
        if refusal is not None:
            raise _refused(refusal)
        if expires_at is not None and expires_at <= envelope.occurred_at:
            raise DomainError("expired_on_issue", SOURCE)
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

    def revoke(self, envelope: Envelope, reason: str, *, admin_clearance: Classification) -> None:
        """Revoke the token; the envelope's actor is the administrator, cleared for
        ``admin_clearance``. A token it may not manage answers as an unknown one (404)."""
        admin = _admin(envelope, admin_clearance)
        if not may_manage_token(admin, self.org, self.clearance):
            raise unknown_token(self.id)
        if self.revoked:
            raise Conflict("already_revoked", SOURCE)
        self.emit(self.Revoked, envelope, reason=reason)


def unknown_token(token_id: UUID) -> NotFound:
    """The one answer for an id that is no token the caller may manage: unknown, another kind
    of subject, another organisation's token, or one above the caller's clearance."""
    return NotFound("unknown_token", SOURCE, token_id=token_id)


@dataclass(frozen=True)
class _Admin:
    """The administrator acting, as the access policy sees it."""

    org: str
    role: str
    clearance: Classification


def _admin(envelope: Envelope, clearance: Classification) -> _Admin:
    admin = _Admin(envelope.actor.org, envelope.actor.role, Classification(clearance))
    if admin.role != "admin":
        raise _refused("admin_only")
    return admin


def _refused(code: str) -> NotPermitted:
    return NotPermitted(code, SOURCE, text="token")
