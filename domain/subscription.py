"""Subscriptions (*abonnementen*): an organisation's own system is told, by a signed webhook,
what that organisation may read on the channels it chose, and the alerts meant for it.

A subscription belongs to the organisation, not to the token that made it (revoking that token
does not stop it). Making, pausing, resuming, rotating its secret and deleting it are events
like any other, so who was told what, from when, is part of the audited history; the signing
secret itself never is (it is kept apart, sealed, by the composition root). Who may manage one
is the access policy's (``domain.policy.may_manage_subscription``): the organisation's
administrators and operators cleared at least as high as the subscription. What one delivers is
the policy's too: what its organisation may read, at the subscription's clearance (never above
the clearance of the token that made it).

Pure: no web, persistence or database code; the addresses a host name resolves to are given.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from domain.base import MlobAggregate
from domain.envelope import Classification, Envelope
from domain.errors import Conflict, DomainError, NotFound, NotPermitted
from domain.exercise import ExerciseScope
from domain.policy import (
    MAX_CHANNELS,
    SUBSCRIPTION_ROLES,
    Reader,
    may_manage_subscription,
    may_subscribe,
    subscription_refusal,
)

SOURCE = "mlob subscriptions (issue 24)"


def check_manager(reader: Reader, org: str, clearance: Classification | str) -> None:
    """403 unless the reader may make a subscription for ``org`` at ``clearance``
    (domain/policy.py :func:`subscription_refusal`)."""
    refusal = subscription_refusal(reader, org, clearance)
    if refusal == "role_not_permitted":
        roles = sorted(SUBSCRIPTION_ROLES)
        raise NotPermitted("role_not_permitted", SOURCE, text="subscription", roles=roles)
    if refusal == "clearance_above_own":
        raise NotPermitted("clearance_above_own", SOURCE, text="subscription")
    assert refusal is None, refusal


#: Hosts a subscription may reach over plain http, and whose private addresses are allowed,
#: unless ``MLOB_WEBHOOK_INSECURE_HOSTS`` names others.
DEFAULT_INSECURE_HOSTS = ("127.0.0.1", "localhost")
#: A subscription's URL is at most this long.
MAX_URL = 2000
#: Event types a subscription may filter on, at most.
MAX_TYPES = 100


@dataclass(frozen=True)
class _Manager:
    """Who acts on a subscription, as the access policy sees it."""

    org: str
    role: str
    clearance: Classification


class Subscription(MlobAggregate):
    TOPIC = "mlob:Subscription"

    class Created(MlobAggregate.Created):
        """A subscription was made (its filters; never its secret)."""

        TOPIC = "mlob:Subscription.Created"
        org: str
        url: str
        channels: tuple[str, ...]
        types: tuple[str, ...]
        alerts_only: bool
        exercises: str
        clearance: Classification
        after: int

    class Paused(MlobAggregate.Event):
        TOPIC = "mlob:Subscription.Paused"
        VOIDABLE = False

        def apply(self, aggregate: Any) -> None:
            aggregate.paused = True

    class Resumed(MlobAggregate.Event):
        TOPIC = "mlob:Subscription.Resumed"
        VOIDABLE = False

        def apply(self, aggregate: Any) -> None:
            aggregate.paused = False

    class SecretRotated(MlobAggregate.Event):
        """A new signing secret was made (the secret is kept apart, sealed)."""

        TOPIC = "mlob:Subscription.SecretRotated"
        VOIDABLE = False

        def apply(self, aggregate: Any) -> None:
            aggregate.rotations += 1

    class Deleted(MlobAggregate.Event):
        TOPIC = "mlob:Subscription.Deleted"
        VOIDABLE = False
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.deleted = True

    class Voided(MlobAggregate.Voided):
        TOPIC = "mlob:Subscription.Voided"

    def __init__(
        self,
        org: str,
        url: str,
        channels: tuple[str, ...],
        types: tuple[str, ...],
        alerts_only: bool,
        exercises: str,
        clearance: Classification,
        after: int,
        envelope: Envelope,
    ) -> None:
        self.org = org
        self.url = url
        self.channels = tuple(channels)
        self.types = tuple(types)
        self.alerts_only = alerts_only
        #: Which subjects it delivers: ``"false"`` real, ``"true"`` exercises, ``"all"``.
        self.exercises = exercises
        self.clearance = Classification(clearance)
        self.after = after
        self.paused = False
        self.deleted = False
        self.rotations = 0

    @classmethod
    def make(
        cls,
        envelope: Envelope,
        subject: UUID,
        *,
        url: str,
        channels: Sequence[str],
        types: Sequence[str],
        alerts_only: bool,
        exercise: str,
        clearance: Classification,
        after: int,
        manager_clearance: Classification,
    ) -> Subscription:
        """A subscription of the acting organisation; the envelope's actor is the manager,
        cleared for ``manager_clearance`` (403 ``role_not_permitted``,
        ``clearance_above_own``, ``channel_not_permitted``)."""
        manager = _manager(envelope, manager_clearance)
        check_manager(manager, manager.org, clearance)
        wanted = list(dict.fromkeys(channels))
        if not wanted:
            raise DomainError("channels_required", SOURCE, pointer="/channels")
        if len(wanted) > MAX_CHANNELS:
            raise DomainError(
                "too_many_channels",
                SOURCE,
                text="subscription",
                max_channels=MAX_CHANNELS,
                pointer="/channels",
            )
        reader = _Manager(manager.org, "viewer", Classification(clearance))
        refused = [c for c in wanted if not may_subscribe(reader, c)]
        if refused:
            raise NotPermitted(
                "channel_not_permitted",
                SOURCE,
                text="subscription",
                refused=refused,
                pointer="/channels",
            )
        if exercise not in {scope.value for scope in ExerciseScope}:
            raise DomainError("invalid_exercise", SOURCE, text="subscription", pointer="/exercise")
        if after < 0:
            raise DomainError("invalid_after", SOURCE, pointer="/after")
        return cls._create(
            cls.Created,
            id=subject,
            envelope=envelope,
            org=manager.org,
            url=url,
            channels=tuple(wanted),
            types=tuple(dict.fromkeys(types)),
            alerts_only=alerts_only,
            exercises=exercise,
            clearance=Classification(clearance),
            after=after,
        )

    def _check(self, envelope: Envelope, manager_clearance: Classification) -> None:
        manager = _manager(envelope, manager_clearance)
        if self.deleted or not may_manage_subscription(manager, self.org, self.clearance):
            raise unknown_subscription(self.id)

    def pause(self, envelope: Envelope, *, manager_clearance: Classification) -> None:
        self._check(envelope, manager_clearance)
        if self.paused:
            raise Conflict("already_paused", SOURCE)
        self.emit(self.Paused, envelope)

    def resume(self, envelope: Envelope, *, manager_clearance: Classification) -> None:
        """Resume a paused subscription, or one that is failing (its backlog is delivered
        from its last delivered position on)."""
        self._check(envelope, manager_clearance)
        self.emit(self.Resumed, envelope)

    def rotate(self, envelope: Envelope, *, manager_clearance: Classification) -> None:
        self._check(envelope, manager_clearance)
        self.emit(self.SecretRotated, envelope)

    def delete(self, envelope: Envelope, reason: str, *, manager_clearance: Classification) -> None:
        self._check(envelope, manager_clearance)
        self.emit(self.Deleted, envelope, reason=reason)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "org": self.org,
            "url": self.url,
            "channels": list(self.channels),
            "types": list(self.types),
            "alerts_only": self.alerts_only,
            "exercise": self.exercises,
            "clearance": self.clearance.value,
            "after": self.after,
            "paused": self.paused,
            "rotations": self.rotations,
            "created_at": self.created_on.isoformat(),
        }


def unknown_subscription(subscription_id: UUID) -> NotFound:
    """The one answer for an id that is no subscription the caller may manage: unknown,
    deleted, another kind of subject, another organisation's, or above the caller's
    clearance."""
    return NotFound("unknown_subscription", SOURCE, subscription_id=subscription_id)


def _manager(envelope: Envelope, clearance: Classification) -> _Manager:
    return _Manager(envelope.actor.org, envelope.actor.role, Classification(clearance))


# --- where a webhook may go ---------------------------------------------------------------------


def insecure_hosts(text: str | None) -> tuple[str, ...]:
    """``MLOB_WEBHOOK_INSECURE_HOSTS``: comma-separated host names or addresses (None: the
    default, :data:`DEFAULT_INSECURE_HOSTS`)."""
    if text is None:
        return DEFAULT_INSECURE_HOSTS
    return tuple(h.strip().lower() for h in text.split(",") if h.strip())


def url_host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def url_refusal(
    url: str,
    clearance: Classification | str,
    allowed_insecure: Iterable[str],
    addresses: Sequence[str],
) -> DomainError | None:
    """Why a webhook may not go to ``url`` (the refusal, naming ``/url``), or None when it
    may: https is required except for the hosts in ``allowed_insecure``; an address that is private,
    loopback, link-local, reserved or multicast (the host's, or any ``addresses`` its name
    resolves to) is refused unless its host is listed; a subscription cleared above
    ongerubriceerd must use https whatever the host."""
    if len(url) > MAX_URL:
        return DomainError("invalid_url", SOURCE, text="too_long", max_url=MAX_URL, pointer="/url")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (a port that is no number raises here)
    except ValueError:
        return DomainError("invalid_url", SOURCE, text="not_a_url", pointer="/url")
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return DomainError("invalid_url", SOURCE, text="no_host", pointer="/url")
    if parts.username or parts.password:
        return DomainError("invalid_url", SOURCE, text="credentials", pointer="/url")
    listed = host in {h.lower() for h in allowed_insecure}
    if parts.scheme != "https":
        if Classification(clearance).rank > 0:
            return DomainError("https_required", SOURCE, text="classified", pointer="/url")
        if not listed:
            return DomainError("https_required", SOURCE, text="host", pointer="/url")
    if listed:
        return None
    for address in (host, *addresses):
        try:
            ip = ipaddress.ip_address(address.strip("[]"))
        except ValueError:
            continue
        if (
            ip.is_private
            or ip.is_loopback
            or ip.is_link_local
            or ip.is_reserved
            or ip.is_multicast
            or ip.is_unspecified
        ):
            return DomainError("private_address", SOURCE, host=host, pointer="/url")
    return None
