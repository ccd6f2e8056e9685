"""Subscriptions for the API (``/v1/subscriptions``, ``/v1/alerts``): recorded as events
(domain/subscription.py), their signing secrets sealed apart (mlob/runners/hookstore.py), their
deliveries and alerts read from the runner's tables (mlob/runners/webhooks.py)."""

from __future__ import annotations

import base64
import copy
import logging
import secrets
import threading
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Any, cast
from uuid import UUID, uuid4

from api.ports import Principal
from domain import policy
from domain.commands import Message, message_key
from domain.envelope import Actor, Classification, Envelope
from domain.errors import Conflict, NotFound, NotPermitted
from domain.exercise import ExerciseScope
from domain.subscription import (
    Subscription,
    check_manager,
    unknown_subscription,
    url_host,
    url_refusal,
)
from mlob.runners.hookstore import DEAD, HookStore, SecretUnavailable
from mlob.runners.webhooks import resolve
from mlob.service import Service, store_errors_as_unavailable
from projections.alerts import alert_for, alert_frame

log = logging.getLogger("mlob.subscriptions")

SOURCE = "mlob subscriptions (issue 24)"
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` and base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


#: ``GET /v1/alerts`` reads the alert log in batches of this many, at most this many batches.
ALERT_BATCH, ALERT_BATCHES = 500, 20


class Webhooks:
    """What the subscription routes ask (api/subscriptions.py's ``Webhooks`` port)."""

    def __init__(
        self,
        service: Service,
        hooks: HookStore,
        insecure_hosts: Sequence[str],
        resolver: Callable[[str], list[str]] = resolve,
    ) -> None:
        self.service = service
        self.hooks = hooks
        self.insecure_hosts = tuple(insecure_hosts)
        self.resolver = resolver
        #: Called after a subscription's deliveries changed without an event (a redelivery:
        #: the runner reads which fail and starts their lanes at once).
        self.on_change: Callable[[], None] = lambda: None
        #: The delivery runner of this process (mlob/runners/webhooks.py), stopped at close.
        self.runner: Any = None
        #: The subscriptions as last read (:meth:`_all` brings them up to date).
        self._known: dict[UUID, Subscription] = {}
        self._known_lock = threading.Lock()

    def close(self) -> None:
        if self.runner is not None:
            self.runner.stop()
        self.hooks.close()

    # --- helpers -----------------------------------------------------------------------------

    def _envelope(self, by: Principal) -> Envelope:
        return Envelope(
            actor=Actor(org=by.org, role=by.role, person=by.person),
            occurred_at=self.service.clock(),
            message_id=f"subscription-{uuid4()}",
        )

    def _record(self, by: Principal, envelope: Envelope, work: Callable[[Any], None]) -> None:
        # The runner learns of it from the event itself and reloads that subscription then
        # (an on_change here made it read every subscription a second time).
        self.service.app.record(
            [Message(message_key(by.org, envelope.message_id), envelope.message_id)], work
        )

    def _is_subscription(self, stream_id: UUID) -> bool:
        first, _ = self.service.app.index.stream_ends(stream_id)
        return first is not None and first.event_type == Subscription.Created.TOPIC

    def _load(self, by: Principal, subscription_id: UUID) -> Subscription:
        """A subscription ``by`` may manage; any other id answers 404 ``unknown_subscription``."""
        if not self._is_subscription(subscription_id):
            raise unknown_subscription(subscription_id)
        sub = self.service.app.load(Subscription, subscription_id)
        if sub.deleted or not policy.may_manage_subscription(by, sub.org, sub.clearance):
            raise unknown_subscription(subscription_id)
        return sub

    def _view(self, sub: Subscription, states: dict[str, dict[str, Any]]) -> dict[str, Any]:
        state = states.get(str(sub.id), {})
        failing = state.get("failing_since") is not None
        return {
            **sub.as_dict(),
            "state": "paused" if sub.paused else "failing" if failing else "active",
            "delivered_position": state.get("delivered_position", 0),
        }

    def _check_url(self, url: str, clearance: Classification) -> None:
        # The URL itself first (an unparsable one never reaches the resolver), then where its
        # name points now.
        refused = url_refusal(url, clearance, self.insecure_hosts, [])
        if refused is None:
            host = url_host(url)
            addresses = [] if host in self.insecure_hosts else self.resolver(host)
            refused = url_refusal(url, clearance, self.insecure_hosts, addresses)
        if refused is not None:
            raise refused

    def _require_key(self) -> None:
        if not self.hooks.sealing:
            raise Conflict("webhooks_not_configured", SOURCE)

    # --- subscriptions -----------------------------------------------------------------------

    @store_errors_as_unavailable
    def create(
        self,
        by: Principal,
        *,
        url: str,
        channels: Sequence[str],
        types: Sequence[str],
        alerts_only: bool,
        exercise: str,
        clearance: Classification | None,
        after: int | None,
    ) -> dict[str, Any]:
        self._require_key()
        level = Classification(clearance or by.clearance)
        check_manager(by, by.org, level)  # before the URL is looked at: nothing told the refused
        self._check_url(url, level)
        scope = ExerciseScope.parse(exercise).value
        wanted = (url, tuple(dict.fromkeys(channels)), tuple(dict.fromkeys(types)))
        for known in self._all():
            if (
                known.org == by.org
                and not known.deleted
                and (known.url, known.channels, known.types) == wanted
                and (known.alerts_only, known.exercises, known.clearance)
                == (alerts_only, scope, level)
            ):
                raise Conflict(
                    "duplicate_subscription", SOURCE, details=[{"id": str(known.id)}], id=known.id
                )
        subscription_id = uuid4()
        secret = new_secret()
        start = self.service.last_position() if after is None else after
        envelope = self._envelope(by)
        self.hooks.put_secret(str(subscription_id), secret)
        try:
            self._record(
                by,
                envelope,
                lambda unit: unit.add(
                    Subscription.make(
                        envelope,
                        subscription_id,
                        url=url,
                        channels=channels,
                        types=types,
                        alerts_only=alerts_only,
                        exercise=scope,
                        clearance=level,
                        after=start,
                        manager_clearance=by.clearance,
                    )
                ),
            )
        except BaseException:
            self.hooks.forget_secret(str(subscription_id))
            raise
        sub = self.service.app.load(Subscription, subscription_id)
        return {**self._view(sub, {}), "secret": secret}

    def _all(self) -> list[Subscription]:
        """Every subscription made and not deleted, as recorded now: those with a secret in
        the hook store (one row each; reading which streams began as a subscription would
        scan the whole event index), each brought up to date from the events it got since
        the last call, all in one query (loading each one read all its events every call)."""
        app = self.service.app
        holders = self.hooks.secret_holders()
        with self._known_lock:
            known = dict(self._known)
        wanted = [UUID(h) for h in holders]
        fresh: dict[UUID, Subscription | None] = {i: known.get(i) for i in wanted}
        for stored in app.recorder.select_after(  # type: ignore[attr-defined]
            [(i, sub.version if sub is not None else 0) for i, sub in fresh.items()]
        ):
            subject = stored.originator_id
            current = fresh[subject]
            if current is not None and current is known.get(subject):
                current = copy.deepcopy(current)  # the cached one may be in a reader's hands
            event = cast(Subscription.Event, app.mapper.to_domain_event(stored))
            fresh[subject] = cast(Subscription | None, event.mutate(current))
        found = {i: sub for i, sub in fresh.items() if isinstance(sub, Subscription)}
        with self._known_lock:
            self._known = found  # those no longer holding a secret are forgotten here too
        return [found[i] for i in wanted if i in found]

    @store_errors_as_unavailable
    def listed(self, by: Principal) -> list[dict[str, Any]]:
        states = self.hooks.states()
        return [
            self._view(s, states)
            for s in self._all()
            if not s.deleted and policy.may_manage_subscription(by, s.org, s.clearance)
        ]

    @store_errors_as_unavailable
    def get(self, by: Principal, subscription_id: UUID) -> dict[str, Any]:
        return self._view(self._load(by, subscription_id), self.hooks.states())

    @store_errors_as_unavailable
    def change(
        self,
        by: Principal,
        subscription_id: UUID,
        *,
        paused: bool | None,
        rotate_secret: bool,
    ) -> dict[str, Any]:
        sub = self._load(by, subscription_id)
        if paused is True:
            self._switch(by, subscription_id, Subscription.pause)
        elif paused is False:
            failing = self.hooks.states().get(str(sub.id), {}).get("failing_since") is not None
            if not sub.paused and not failing:
                raise Conflict("not_paused", SOURCE)
            self.hooks.resume(str(sub.id))
            self._switch(by, subscription_id, Subscription.resume)
        if rotate_secret:
            return self._rotate(by, sub)
        return self.get(by, subscription_id)

    def _switch(self, by: Principal, subscription_id: UUID, step: Callable[..., None]) -> None:
        """Record a pause or a resumption (``Subscription.pause``, ``.resume``) by ``by``."""
        envelope = self._envelope(by)
        self._record(
            by,
            envelope,
            lambda unit: step(
                unit.get(Subscription, subscription_id), envelope, manager_clearance=by.clearance
            ),
        )

    def _rotate(self, by: Principal, sub: Subscription) -> dict[str, Any]:
        """Rotate the secret, atomically as far as anyone can tell: the new secret is staged
        under the rotation's number and used only once that rotation is recorded (a refused
        or failed one removes it and changes nothing); the answer, carrying it, is made from
        what was recorded, with nothing left to read that could fail after it."""
        self._require_key()
        states = self.hooks.states()
        rotation = sub.rotations + 1
        secret = new_secret()
        staged = self.hooks.stage_secret(str(sub.id), rotation, secret)
        if staged is None:
            raise Conflict("rotation_under_way", SOURCE)
        rotated: list[Subscription] = []
        envelope = self._envelope(by)

        def work(unit: Any) -> None:
            found = unit.get(Subscription, sub.id)
            if found.rotations + 1 != rotation:  # another rotation came first
                raise Conflict("rotation_under_way", SOURCE)
            found.rotate(envelope, manager_clearance=by.clearance)
            rotated.append(found)

        try:
            self._record(by, envelope, work)
        except BaseException:
            with suppress(Exception):  # a leftover is replaced after STAGED_FOR, never used
                self.hooks.unstage_secret(str(sub.id), rotation, staged)
            raise
        with suppress(Exception):  # the old secrets are no longer used: a leftover is harmless
            self.hooks.retire_secrets(str(sub.id), rotation)
        return {**self._view(rotated[0], states), "secret": secret}

    @store_errors_as_unavailable
    def delete(self, by: Principal, subscription_id: UUID, reason: str) -> None:
        self._load(by, subscription_id)
        envelope = self._envelope(by)
        self._record(
            by,
            envelope,
            lambda unit: unit.get(Subscription, subscription_id).delete(
                envelope, reason, manager_clearance=by.clearance
            ),
        )
        self.hooks.drop_queue(str(subscription_id))
        self.hooks.forget_secret(str(subscription_id))

    # --- the delivery log ----------------------------------------------------------------------

    @store_errors_as_unavailable
    def deliveries(
        self,
        by: Principal,
        subscription_id: UUID,
        *,
        after: int,
        limit: int,
        dead: bool,
    ) -> list[dict[str, Any]]:
        self._load(by, subscription_id)
        found = self.hooks.deliveries(
            str(subscription_id), after=after, limit=limit, state=DEAD if dead else None
        )
        attempts = self.hooks.attempts([d.id for d in found])
        return [{**d.as_dict(), "attempt_log": attempts.get(d.id, [])} for d in found]

    @store_errors_as_unavailable
    def redeliver(self, by: Principal, subscription_id: UUID, delivery_id: int) -> dict[str, Any]:
        self._load(by, subscription_id)
        found = self.hooks.redeliver(str(subscription_id), delivery_id)
        if found is None:
            raise NotFound("unknown_delivery", SOURCE, delivery_id=delivery_id)
        self.on_change()
        return found.as_dict()

    # --- alerts --------------------------------------------------------------------------------

    @store_errors_as_unavailable
    def alerts(self, by: Principal, *, after: int, limit: int) -> list[dict[str, Any]]:
        """The caller's alerts after ``after``, at most ``limit``: read in batches past other
        organisations' alerts (a first batch of theirs answered nothing, as if at the end),
        up to ``ALERT_BATCHES`` of them."""
        found: list[dict[str, Any]] = []
        seen = after
        for _ in range(ALERT_BATCHES):
            batch = self.hooks.alerts_after(seen, ALERT_BATCH)
            for alert in batch:
                seen = alert["id"]
                if alert_for(by, alert):
                    found.append(alert)
                    if len(found) == limit:
                        break
            if len(found) == limit or len(batch) < ALERT_BATCH:
                break
        acks = self.hooks.acks_of([a["id"] for a in found])
        return [{**alert_frame(a), "acks": acks.get(a["id"], [])} for a in found]

    @store_errors_as_unavailable
    def ack(self, by: Principal, alert_id: int) -> dict[str, Any]:
        if not policy.may_acknowledge(by):
            raise NotPermitted(
                "read_only_role", SOURCE, text="acknowledge", roles=sorted(policy.ACK_ROLES)
            )
        alert = self.hooks.alert(alert_id)
        if alert is None or not alert_for(by, alert):
            raise NotFound("unknown_alert", SOURCE)
        token = str(by.token_id) if by.token_id else None
        if not self.hooks.ack(alert_id, by.org, by.role, by.person, token):
            raise Conflict("already_acknowledged", SOURCE)
        return {**alert_frame(alert), "acks": self.hooks.acks(alert_id)}

    def last_alert(self) -> int:
        """The newest alert's id (the feed follows from there)."""
        return self.hooks.last_alert()

    def new_alerts(self, after: int) -> list[dict[str, Any]]:
        """The alerts after ``after`` as stored (the feed filters them per reader)."""
        return self.hooks.alerts_after(after)

    def secret_for(self, subscription_id: str) -> str:
        try:
            return self.hooks.secret(subscription_id)
        except SecretUnavailable:
            raise
        except Exception as exc:  # pragma: no cover - the store away
            raise SecretUnavailable(str(exc)) from exc
