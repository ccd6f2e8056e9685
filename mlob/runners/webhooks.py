"""Delivering subscriptions' webhooks, and raising alerts: one active runner across all
processes (a lease, as the projections hold), a second one standing by.

The runner follows the store as the feed does (woken after each append here, by the store's
notifications from elsewhere, and by polling): it reads the events after its cursor, routes each
one (``projections.routing``: its channels, what its stream concerns) and queues, per
subscription, the events its organisation may read (``domain.policy.may_see_step``, the check
every feed frame passes, at the subscription's clearance) in one transaction with the cursor's
move. Every tick of the service's clock it computes the alerts due
(``projections.alerts.alerts``, from the request board's own overdue rule) among the requests
changed since the last tick or whose next deadline passed (mlob/runners/deadlines.py), keeps
each new
crossing once (a table unique on subject, step and crossing) and queues it for the
subscriptions of the organisations it is for.

Each subscription with a backlog has a lane of its own that sends its deliveries in position
order, one in flight at a time, signed by the Standard Webhooks scheme (``webhook-id``,
``webhook-timestamp``, ``webhook-signature``; the same id on every retry), over one kept-alive
connection; an idle lane waits ``LINGER`` s for more before it ends, so a subscription that gets
an event every few hundred milliseconds keeps its lane and connection. The lanes are tasks on
one sender thread's asyncio loop (:class:`Senders`), not a thread each. What the lanes
delivered is written down by one :class:`DeliveredLog` for all of them, a transaction every
``RECORD_EVERY`` s (each delivery's attempt and state, and each subscription's delivered
position, together); one sent but not yet written down is sent again after a crash, with the
same webhook id. A failure is
retried with exponential backoff; one still failing ``retry_window`` seconds after its first
attempt is a dead letter and the subscription is *failing*: its backlog is kept, and resuming
it (or redelivering the dead letter) goes on from there. A slow receiver holds up only its own
lane.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import socket
import ssl
import sys
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol, TypeVar, cast
from urllib.parse import SplitResult, quote, urlsplit

import httptools
import orjson
from standardwebhooks.webhooks import Webhook

from api.feed import _facts, routed
from api.ports import LoggedEvent, MlobService, Principal
from domain import policy
from domain.envelope import Classification
from domain.exercise import ExerciseScope
from domain.subscription import DEFAULT_INSECURE_HOSTS, Subscription, url_host, url_refusal
from mlob.runners.deadlines import DeadlineWatch
from mlob.runners.hookstore import (
    CATCH_UP_PREFIX,
    DEAD,
    DELIVERED,
    PENDING,
    CursorMoved,
    Delivery,
    HookStore,
    SecretUnavailable,
)
from mlob.runners.projector import AdvisoryLease, AdvisorySession, FileLease, Lease
from mlob.write.application import MlobApplication
from projections import alerts as alert_rules
from projections.routing import Routes, channels

log = logging.getLogger("mlob.webhooks")

T = TypeVar("T")

#: Events read per batch (one transaction queues what they hold for every subscription).
BATCH = 500
#: Seconds the runner waits for the projections to reach its cursor before it seeds its
#: routes from their rows.
SEED_WAIT = 5.0
#: The topics of a subscription's events: a runner with none to deliver to watches for them.
SUBSCRIPTION_TOPICS = Subscription.TOPIC + "."
#: Seconds the runner gathers events for its next batch after one that was not full (events
#: flowing: a batch for each event, as the runner read once it no longer waited for ~100 lane
#: threads, cost the worker and PostgreSQL about five transactions per event; issue 24).
GATHER = 0.05
#: Deliveries a lane takes from its queue at a time.
LANE_BATCH = 50
#: Seconds an idle lane waits for more before its thread and connection end.
LINGER = 10.0
#: Seconds between two writes of what the lanes delivered (one transaction for all lanes:
#: at ~400 deliveries/s a transaction per delivery cost the database as much as the posts).
RECORD_EVERY = 0.1
#: A subscription made with an earlier ``after`` catches up on the history in rounds, one
#: subscription per round in turn, between the live batches: at most this many events read
#: (and their deliveries queued, in one transaction) per round...
CATCH_UP = 500
#: ...and none while this many of its deliveries wait to go out (its backlog stays bounded;
#: a dead receiver's catch-up waits for it).
CATCH_UP_BACKLOG = 1000
#: Retention: delivered deliveries (with their attempts) older than the retention go, and
#: alerts older than it that cannot alert again; at most ``PRUNE`` rows of each looked at per
#: round (one transaction), a round every ``PRUNE_EVERY`` s; while rounds find full batches,
#: up to ``PRUNE_ROUNDS`` of them per tick (so at most ~5,000 rows of each a second).
PRUNE = 500
PRUNE_EVERY = 60.0
PRUNE_ROUNDS = 10
#: ``MLOB_WEBHOOK_RETENTION_DAYS``'s default.
RETENTION_DAYS = 30

#: Seconds a URL's check (its host's addresses) holds before it is made again.
RECHECK_URL = 60.0
#: Bytes of a receiver's answer read (and dropped) to keep the connection for the next
#: delivery; a longer answer closes it instead (the next delivery opens a new one).
MAX_ANSWER = 1024 * 1024


class Source(Protocol):
    """What the runner reads (mlob.service.Service; not imported: the service imports the
    runners)."""

    app: MlobApplication
    clock: Callable[[], datetime]

    def last_position(self) -> int: ...

    def logged_events(
        self, after: int, limit: int, stop: int | None = None, *, recent: bool = False
    ) -> list[LoggedEvent]: ...

    def stream_markings(self, stream_id: uuid.UUID, upto: int) -> list[tuple[int, str, str]]: ...

    def view_rows_every_level(self, name: str) -> list[dict[str, Any]]: ...

    def wait_for_views(self, position: int, names: Sequence[str], timeout: float) -> bool: ...

    def board_targets(self) -> Any: ...

    def last_change(self) -> int: ...

    def view_changes(self, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]: ...

    def view_rows_by_id(
        self, name: str, ids: Sequence[str], level: int | None = None, every_level: bool = False
    ) -> list[dict[str, Any]]: ...

    def message_facts(self, message_ids: Sequence[str]) -> dict[str, list[Any]]: ...


#: Why a URL is refused (None: it is not), the addresses to connect to, the signer.
Checked = tuple[str | None, tuple[str, ...], Webhook | None]
#: A delivery to queue: subscription, webhook id, position, alert id, type, body.
Queued = tuple[str, str, int | None, int | None, str, str]


@dataclass(frozen=True)
class Retry:
    """How a failed delivery is retried: after ``base`` s, doubling up to ``ceiling`` s, for
    at most ``window`` s after its first attempt; each attempt waits ``timeout`` s at most."""

    base: float = 1.0
    ceiling: float = 300.0
    window: float = 24 * 3600.0
    timeout: float = 10.0

    def delay(self, attempts: int) -> float:
        return float(min(self.ceiling, self.base * 2 ** max(0, attempts - 1)))


def resolve(host: str) -> list[str]:
    """The addresses a host name resolves to (none when it does not resolve)."""
    try:
        return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None)})
    except (OSError, UnicodeError, ValueError):  # also a name IDNA cannot encode (a..b)
        return []


def webhook_id(subscription_id: str, what: str) -> str:
    """The same id for a delivery however often it is queued or sent (a receiver's
    de-duplication key)."""
    return "msg_" + uuid.uuid5(uuid.UUID(subscription_id), what).hex


class WebhookRunner:
    def __init__(
        self,
        service: Source,
        hooks: HookStore,
        *,
        retry: Retry = Retry(),
        poll: float = 0.25,
        tick: float = 1.0,
        standby: float = 1.0,
        insecure_hosts: Sequence[str] = DEFAULT_INSECURE_HOSTS,
        resolver: Callable[[str], list[str]] | None = None,
        retention_days: int = RETENTION_DAYS,
        nice: int = 0,
    ) -> None:
        self.service = service
        #: What the delivery threads add to their own niceness (``MLOB_WEBHOOK_NICE``).
        self.nice = nice
        self.retention = retention_days * 86400.0
        #: Where the next retention round reads on (delivery id, alert id; 0: from the start).
        self._pruned_to = (0, 0)
        self._next_prune = time.monotonic() + PRUNE_EVERY
        #: Where a webhook may go is checked again before sending (a name may resolve to a
        #: private address later: DNS rebinding), at most every ``RECHECK_URL`` s per URL.
        self.insecure_hosts = tuple(insecure_hosts)
        self.resolver = resolver or resolve
        self._checked: dict[tuple[str, str], tuple[float, str | None, tuple[str, ...]]] = {}
        self.hooks = hooks
        self.retry = retry
        self.poll = poll
        self.tick_every = tick
        self.standby = standby
        cfg = service.app.store
        self.session: AdvisorySession | None = None
        if cfg.kind == "sqlite":
            self.lease: Lease = FileLease(f"{cfg.sqlite_path}.projection-webhooks.lock")
        else:
            self.session = AdvisorySession(cfg.connect_info())
            self.lease = AdvisoryLease(self.session, f"mlob webhooks {cfg.schema or 'public'}")
        self.routes = Routes(service.stream_markings)
        self.deadlines = DeadlineWatch(service, alert_rules.alerts_and_deadlines)
        self.subscriptions: dict[str, Subscription] = {}
        #: Deleted subscriptions (their delivery log goes after the retention).
        self.deleted: set[str] = set()
        self.failing: set[str] = set()
        self.lanes: dict[str, Lane] = {}
        self.lanes_lock = threading.Lock()
        self.log = DeliveredLog(hooks, RECORD_EVERY, nice)
        #: The one thread (an asyncio loop) the lanes send on.
        self.senders = Senders(nice)
        self.active = False
        self.seeded = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_tick = 0.0
        self._secrets: dict[tuple[str, int], Webhook] = {}
        self._refresh = False
        #: The subscription whose catch-up had the last round (the next one goes next).
        self._catch_turn = ""

    # --- running -----------------------------------------------------------------------------

    def start(self) -> None:
        # The event's own set (not a method of ours): the traced walk of a post stays short.
        self.service.app.after_commit.append(self._wake.set)
        self.log.start()
        self.senders.start()
        self._thread = threading.Thread(target=self._loop, name="mlob-webhooks", daemon=True)
        self._thread.start()

    def changed(self) -> None:
        """A subscription's deliveries changed here without an event (a redelivery): read
        which subscriptions fail again and start their lanes. A change that is an event
        (made, paused, resumed, rotated, deleted) reaches the runner as one: it reloads
        that subscription then, once (:meth:`run_once`)."""
        self._refresh = True
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._wake.set in self.service.app.after_commit:
            self.service.app.after_commit.remove(self._wake.set)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._wake_lanes()
        self.senders.stop(self.retry.timeout + 1)
        self.log.stop()
        self.lease.release()
        self.active = False
        if self.session is not None:
            self.session.close()

    def _loop(self) -> None:
        lower_thread_priority(self.nice)
        while not self._stop.is_set():
            try:
                if not self.lease.acquire():
                    self.active = False
                    self._stop.wait(self.standby)
                    continue
                if not self.active:
                    self._take_over()
                self.active = True
                if self._refresh:
                    self._refresh = False
                    self._refresh_failing()
                    self._resync_lanes()  # a redelivery here: the lanes read their queues
                    self.start_lanes()
                # Live batches and catch-up rounds alternate: neither starves the other.
                live = self.run_once()
                caught = self.catch_up_once()
                if live >= BATCH or caught >= CATCH_UP:
                    continue  # more waits: at once
                if time.monotonic() >= self._next_tick:
                    self._next_tick = time.monotonic() + self.tick_every
                    self.raise_alerts()
                    # Resumed or redelivered through another node: the store says so (what
                    # the lanes sent is written down first: it is not waiting any more).
                    self._refresh_failing()
                    self.log.flush()
                    self.start_lanes()
                    if time.monotonic() >= self._next_prune:
                        for _ in range(PRUNE_ROUNDS):
                            full = self.prune()
                            if not full:
                                break
                        self._next_prune = time.monotonic() + (0 if full else PRUNE_EVERY)
                if live or caught:
                    # Events flow: those that come meanwhile go out in the next batch.
                    self._stop.wait(GATHER)
                    continue
                self._wake.wait(self.poll)
                self._wake.clear()
            except CursorMoved:
                self.seeded = False
                continue
            except Exception:
                if self._stop.is_set():
                    return  # closing: what it was reading from is closed first
                log.exception("webhooks failed; retrying")
                self.lease.release()
                self.active = False
                self._wake_lanes()  # they end: another runner may deliver now
                self.seeded = False
                self._stop.wait(1.0)

    def _take_over(self) -> None:
        """On taking the lease: where to begin (a store's first runner: the head), what each
        stream concerns (from the projections' rows), the subscriptions and which fail."""
        head = self.service.last_position()
        self.hooks.start_cursor(head, self.hooks.last_alert())
        # A lane still lingering from before knows its queue as it was then: another node
        # may have queued (and not sent) deliveries since.
        self._resync_lanes()
        if not self.seeded:
            self._seed_routes(head)
        self.reload()

    def _seed_routes(self, upto: int) -> None:
        """What each stream concerns, afresh from the projections' rows once they hold every
        event up to ``upto`` (the routes learn from the events after it): a stream created
        while they lagged would have a route without its capabilities, providers, incident
        and requester, and its later steps would miss those channels' subscriptions. A
        projection that does not get there within ``SEED_WAIT`` s (a rebuild) is taken as
        it is, and said so."""
        routed = ("requests", "capacities", "incidents")
        if not self.service.wait_for_views(upto, routed, SEED_WAIT):
            log.warning("webhook routes seeded from projections behind position %d", upto)
        self.routes = Routes(self.service.stream_markings)
        self.routes.seed(
            self.service.view_rows_every_level("requests"),
            self.service.view_rows_every_level("capacities"),
            self.service.view_rows_every_level("incidents"),
        )
        self.seeded = True

    def reload(self, ids: Sequence[uuid.UUID] | None = None) -> None:
        """The subscriptions as recorded (only ``ids``: those whose events just came), and
        which are failing."""
        app = self.service.app
        # Built apart and swapped in whole: the lanes read it from the sender's thread.
        found = {} if ids is None else dict(self.subscriptions)
        if ids is None:
            ids = app.index.streams_created_as((Subscription.Created.TOPIC,))
        for i in ids:
            sub = app.load(Subscription, i)
            if sub.deleted:
                found.pop(str(i), None)
                self.deleted.add(str(i))
            else:
                found[str(i)] = sub
        self.subscriptions = found
        self._refresh_failing()

    def _refresh_failing(self) -> None:
        states = self.hooks.states()
        self.failing = {s for s, st in states.items() if st["failing_since"] is not None}

    # --- queueing --------------------------------------------------------------------------------

    def run_once(self) -> int:
        """Queue what the next batch of events and alerts holds; the number read (0: none)."""
        cursor = self.hooks.cursor()
        assert cursor is not None
        position, alert_at = cursor
        if not self.subscriptions:
            watched = self._watch(position, alert_at)
            if watched is not None:
                return watched
        logged = self.service.logged_events(position, BATCH)
        fresh = self.hooks.alerts_after(alert_at, BATCH)
        if not logged and not fresh:
            return 0
        queued: list[Queued] = []
        changed: list[uuid.UUID] = []
        catch_up: list[tuple[str, int]] = []
        if logged:
            changed = list(
                dict.fromkeys(e.stream_id for e in logged if e.api_type.startswith("subscription."))
            )
            if changed:
                self.reload(changed)
            reached = logged[-1].position
            queued += self._events(logged, position, catch_up)
        else:
            reached = position
        for alert in fresh:
            queued += self._alert(alert)
        alert_upto = fresh[-1]["id"] if fresh else alert_at
        made = self.hooks.enqueue(
            queued, (position, alert_at), (reached, alert_upto), catch_up=catch_up
        )
        self._hand(made)
        if queued or changed:  # a resumed one's backlog goes on
            self.start_lanes({q[0] for q in queued} | {str(i) for i in changed})
        return len(logged) + len(fresh)

    def _watch(self, position: int, alert_at: int) -> int | None:
        """With no subscription to deliver to, only the batch's index rows are read (no event
        decoded or routed: a third of a worker's CPU per event) and the cursors move on; the
        number read. None: the batch holds a subscription's event, and the whole batch takes
        the full path, on routes learnt afresh from the projections' rows (as at take-over)."""
        rows = self.service.app.index.index_rows(after=position, limit=BATCH)
        if any(r.event_type.startswith(SUBSCRIPTION_TOPICS) for r in rows):
            if not self.seeded:
                self._seed_routes(position)
            return None
        fresh = self.hooks.alerts_after(alert_at, BATCH)
        if not rows and not fresh:
            return 0
        reached = rows[-1].position if rows else position
        alert_upto = fresh[-1]["id"] if fresh else alert_at
        self.hooks.enqueue([], (position, alert_at), (reached, alert_upto))
        self.seeded = self.seeded and not rows  # the routes did not learn from these
        return len(rows) + len(fresh)

    def _events(
        self, logged: list[LoggedEvent], position: int, catch_up: list[tuple[str, int]]
    ) -> list[Queued]:
        """Route the events (the routes learn from every one) and queue, per subscription, those
        its organisation may read: the check every feed frame passes, at its clearance. A
        subscription first seen here that starts before this batch catches up from its
        ``after`` instead (added to ``catch_up``; :meth:`catch_up_once`), and so does one still
        catching up: it joins the live batches once its catch-up reaches them."""
        facts = _facts(cast(MlobService, self.service), logged)
        routed_ = []
        for e in logged:
            route, level, names = self.routes.learn(e.stream_id, e.event, e.regions)
            if route is None:
                continue
            routed_.append(routed(e, names, route, level, facts))
        created = {str(e.stream_id) for e in logged if e.api_type == "subscription.created"}
        catching = self.hooks.catching_up()
        queued: list[Queued] = []
        for sub in list(self.subscriptions.values()):
            key = str(sub.id)
            if key in catching:
                continue
            if key in created and sub.after < position:
                catch_up.append((key, sub.after))
                continue
            if sub.alerts_only or sub.paused:
                continue
            queued += self._for(sub, routed_)
        return queued

    def catch_up_once(self) -> int:
        """One catch-up round: the next subscription catching up (in turn) that may (not
        paused, failing, nor with ``CATCH_UP_BACKLOG`` deliveries waiting) gets the next at
        most ``CATCH_UP`` events after its catch-up position, up to the live cursor, that it
        may read, each step's level as its marking shows it (never lower than its own), as a
        feed's replay judges them; queued with its catch-up position's move in one
        transaction. Once it reaches the live cursor its catch-up ends (in that transaction)
        and the live batches take it on. The events read (1 for a round that read none)."""
        catching = self.hooks.catching_up()
        if not catching:
            return 0
        cursor = self.hooks.cursor()
        assert cursor is not None
        upto = cursor[0]
        turn = sorted(catching, key=lambda k: (k <= self._catch_turn, k))
        for key in turn:
            sub = self.subscriptions.get(key)
            at = catching[key]
            if sub is None:  # deleted: its catch-up ends
                self.hooks.enqueue([], (at, 0), (at, 0), name=CATCH_UP_PREFIX + key, done=True)
                return 1
            if sub.paused or key in self.failing or self.hooks.waiting(key) >= CATCH_UP_BACKLOG:
                continue
            self._catch_turn = key
            logged = self.service.logged_events(at, CATCH_UP, stop=upto)
            reached = logged[-1].position if logged else upto
            queued = [] if sub.alerts_only else self._for(sub, self._replayed(logged))
            made = self.hooks.enqueue(
                queued, (at, 0), (reached, 0), name=CATCH_UP_PREFIX + key, done=reached >= upto
            )
            self._hand(made)
            if queued:
                self.start_lanes([key])
            return max(1, len(logged))
        return 0

    def _replayed(self, logged: list[LoggedEvent]) -> list[Any]:
        facts = _facts(cast(MlobService, self.service), logged)
        routed_ = []
        for e in logged:
            route = self.routes.streams.get(str(e.stream_id))
            if route is None:
                continue
            level = route.marked_level(e.version, e.classification)
            names = channels(e.stream_id, route, e.regions)
            routed_.append(routed(e, names, route, level, facts))
        return routed_

    def _for(self, sub: Subscription, routed_: Sequence[Any]) -> list[Queued]:
        reader = Principal(sub.org, "viewer", Classification(sub.clearance))
        at = reader.clearance.rank
        scope = ExerciseScope.parse(sub.exercises)
        wanted = frozenset(sub.channels)
        key = str(sub.id)
        queued: list[Queued] = []
        for r in routed_:
            e = r.event
            if (
                e.position <= sub.after
                or (sub.types and e.api_type not in sub.types)
                or not scope.admits(e.exercise)
                or r.channels.isdisjoint(wanted)
                or not policy.may_see_step(reader, r.level, r.route.kind, e.regions, r.route.orgs)
            ):
                continue
            body = r.bodies[0][1]
            for level, text in r.bodies:
                if level <= at:
                    body = text
            payload = (
                b'{"type":'
                + orjson.dumps(e.api_type)
                + b',"timestamp":'
                + orjson.dumps(e.recorded_at)
                + b',"data":'
                + body.encode()
                + b"}"
            )
            hook = webhook_id(key, f"event:{e.position}")
            queued.append((key, hook, e.position, None, e.api_type, payload.decode()))
        return queued

    def _alert(self, alert: dict[str, Any]) -> list[Queued]:
        """Queue an alert for the subscriptions of the organisations it is for, each within
        what its reader may see (the request's row at the alert's level)."""
        queued: list[Queued] = []
        frame = alert_rules.alert_frame(alert)
        names = alert_rules.alert_channels(alert)
        for sub in self.subscriptions.values():
            reader = Principal(sub.org, "viewer", Classification(sub.clearance))
            if (
                sub.paused
                or not alert_rules.alert_for(reader, alert)
                or not ExerciseScope.parse(sub.exercises).admits(bool(frame["exercise"]))
                or names.isdisjoint(sub.channels)
            ):
                continue
            payload = orjson.dumps(
                {"type": "alert", "timestamp": datetime.now(UTC).isoformat(), "data": frame}
            ).decode()
            key = str(sub.id)
            queued.append(
                (key, webhook_id(key, f"alert:{alert['id']}"), None, alert["id"], "alert", payload)
            )
        return queued

    # --- alerts --------------------------------------------------------------------------------

    def raise_alerts(self) -> int:
        """Keep the alerts due by the service's clock (each crossing once) among the requests
        changed since the last tick or whose deadline passed (mlob/runners/deadlines.py: not
        every request each tick); the number new."""
        due = self.deadlines.look().found
        if self.deadlines.more:  # bounded per tick: the next one comes at once
            self._next_tick = 0.0
        added = self.hooks.add_alerts(due) if due else 0
        if added:
            self._wake.set()
        return added

    # --- retention -----------------------------------------------------------------------------

    def prune(self) -> bool:
        """One retention round: of the next ``PRUNE`` deliveries (by id) those delivered
        before the retention, and a deleted subscription's queued before it, go with their
        attempts; of the next ``PRUNE`` alerts already queued, those raised before it whose
        crossing cannot come again (:func:`projections.alerts.crossings_to_come`: the unique
        (subject, step, crossing) key still stops a crossing that can) go with their
        acknowledgements. Dead letters and waiting deliveries of a live subscription stay.
        Whether a batch was full (another round is due at once)."""
        cutoff = time.time() - self.retention
        after_delivery, after_alert = self._pruned_to
        rows = self.hooks.delivery_ages(after_delivery, PRUNE)
        self.hooks.prune_deliveries(
            [
                i
                for i, sub, state, created, delivered in rows
                if (state == DELIVERED and delivered is not None and delivered < cutoff)
                or (sub in self.deleted and created < cutoff)
            ]
        )
        # Rows are queued in id order: past the first young one, the rest are younger.
        young = not rows or len(rows) < PRUNE or rows[-1][3] >= cutoff
        next_delivery = 0 if young else rows[-1][0]
        cursor = self.hooks.cursor()
        queued_alerts = cursor[1] if cursor is not None else 0
        alerts = self.hooks.alert_ages(after_alert, queued_alerts, PRUNE)
        old = [a for a in alerts if a["at"] < cutoff]
        if old:
            subjects = sorted({a["subject"] for a in old})
            by_level: dict[int, list[dict[str, Any]]] = {}
            for row in self.service.view_rows_by_id("requests", subjects, every_level=True):
                by_level.setdefault(row["level"], []).append(row)
            to_come = alert_rules.crossings_to_come(by_level, self.service.board_targets())
            self.hooks.prune_alerts(
                [a["id"] for a in old if (a["subject"], a["step"], a["crossing"]) not in to_come]
            )
        young_alerts = not alerts or len(alerts) < PRUNE or alerts[-1]["at"] >= cutoff
        next_alert = 0 if young_alerts else alerts[-1]["id"]
        self._pruned_to = (next_delivery, next_alert)
        return not (young and young_alerts)

    # --- sending -------------------------------------------------------------------------------

    def start_lanes(self, subscription_ids: Sequence[str] | set[str] | None = None) -> None:
        """A lane for each subscription with deliveries waiting, or its lane woken. None:
        those the store says have deliveries waiting (a resume, or a redelivery through
        another node) among those without a lane or whose lane has nothing in hand: such a
        lane reads its queue from the store again (:meth:`Lane.resync`)."""
        resync = False
        if subscription_ids is None:  # only those that could take a lane are looked up
            resync = True
            with self.lanes_lock:
                open_ = [
                    key
                    for key, sub in list(self.subscriptions.items())
                    if not sub.paused and key not in self.failing
                ]
            waiting = self.hooks.waiting_from(open_)
            with self.lanes_lock:  # a busy lane too, when the store holds one it was not handed
                subscription_ids = [
                    key
                    for key, lowest in waiting.items()
                    if key not in self.lanes
                    or self.lanes[key].idle()
                    or self.lanes[key].misses(lowest)
                ]
        wanted = list(subscription_ids)
        with self.lanes_lock:
            for key in wanted:
                if key in self.failing:
                    continue
                if key in self.lanes:
                    if resync:
                        self.lanes[key].resync()
                    self.lanes[key].wake.set()
                    continue
                sub = self.subscriptions.get(key)
                if sub is None or sub.paused:
                    continue
                lane = Lane(key, self.senders)
                self.lanes[key] = lane
                self.senders.spawn(lane, self._lane)

    def _hand(self, made: Sequence[Delivery]) -> None:
        """Hand the deliveries just queued to their subscriptions' lanes (a lane started
        after this reads them from the store)."""
        mine: dict[str, list[Delivery]] = {}
        for d in made:
            mine.setdefault(d.subscription_id, []).append(d)
        with self.lanes_lock:
            for key, deliveries in mine.items():
                lane = self.lanes.get(key)
                if lane is not None:
                    lane.offer(deliveries)

    def _resync_lanes(self) -> None:
        with self.lanes_lock:
            for lane in self.lanes.values():
                lane.resync()
                lane.wake.set()

    def _wake_lanes(self) -> None:
        with self.lanes_lock:
            for lane in self.lanes.values():
                lane.wake.set()

    async def _lane(self, lane: Lane) -> None:
        """Send a subscription's queue in order over one kept-alive connection, then wait
        ``LINGER`` s for more (woken by :meth:`start_lanes`) before ending. A task on the one
        sender thread's loop (:class:`Senders`): one delivery of it in flight at a time, so
        its order is kept; the store is read and written off the loop (:meth:`Senders.io`).
        What is delivered goes to the delivered log (written a transaction at a time for all
        lanes); the lane reads its queue after the last delivery it sent, so one sent and not
        yet written down is not sent twice, and writes the log down before it ends (a lane
        after it reads the queue from its start)."""
        key = lane.key
        sender = Sender(self.retry.timeout)
        try:
            while not self._stop.is_set() and self.active:
                sub = self.subscriptions.get(key)
                if sub is None or sub.paused or key in self.failing:
                    return
                lane.sending = False
                lane.wake.clear()  # a wake from here on is for what this read may miss
                batch = await self._next(lane)
                if not batch:
                    if await self._linger(lane):
                        continue
                    return
                lane.sending = True
                for delivery in batch:
                    wait = (delivery.next_attempt_at or 0) - time.time()
                    if wait > 0 and await self.senders.halted(wait):
                        return
                    current = self.subscriptions.get(key)  # one look: the runner swaps it
                    if not self.active or current is None:
                        return
                    lane.next_up = delivery.id
                    if not await self._send(current, delivery, sender):
                        lane.synced = False  # its retry is read from the store
                        break  # retried later, in order: nothing after it goes first
                    lane.sent = delivery.id
                    if key in self.failing:
                        return
                lane.next_up = None
        except Exception:
            log.exception("webhook lane %s failed", key)
        finally:
            sender.close()
            try:
                await self.senders.io(self.log.flush)
            except Exception:
                log.exception("webhook lane %s: the delivered log was not written", key)
            with self.lanes_lock:
                if self.lanes.get(key) is lane:
                    self.lanes.pop(key)

    async def _next(self, lane: Lane) -> list[Delivery]:
        """What the lane sends next: what it was handed, while it knows its whole queue;
        else the next ``LANE_BATCH`` of its queue in the store after what it sent (a read
        that finds fewer has seen the whole queue: from then on what it is handed is its
        queue). A resync first writes down what was sent, then reads the queue from its
        start."""
        with self.lanes_lock:
            again = lane.resyncing
            lane.resyncing = False
            if again:
                lane.synced = False
            if lane.synced:
                handed = [d for d in lane.inbox if d.id > lane.sent]
                lane.inbox = []
                return handed
            lane.dropped = False
        return await self.senders.io(self._read_queue, lane, again)

    def _read_queue(self, lane: Lane, again: bool) -> list[Delivery]:
        if again:
            self.log.flush()  # all it sent is delivered in the store: what waits is the rest
            lane.sent = 0
        batch = self.hooks.pending(lane.key, LANE_BATCH, after=lane.sent)
        with self.lanes_lock:
            # Handed meanwhile and dropped, or a resync asked for: read the store again.
            if len(batch) < LANE_BATCH and not lane.resyncing and not lane.dropped:
                lane.synced = True
                upto = batch[-1].id if batch else lane.sent
                lane.inbox = [d for d in lane.inbox if d.id > upto]
        return batch

    async def _linger(self, lane: Lane) -> bool:
        """Wait for more; False: none came within ``LINGER`` s (the lane ends)."""
        if await lane.wake.wait(LINGER):
            return True
        # Before it ends: a lane after it reads the queue from its start.
        await self.senders.io(self.log.flush)
        with self.lanes_lock:  # a wake between the wait and here is not lost
            if lane.wake.is_set():
                return True
            self.lanes.pop(lane.key, None)  # from here on start_lanes makes a new lane
            return False

    def _target(self, url: str, clearance: Any) -> tuple[str | None, tuple[str, ...]]:
        """Why a webhook may not go to ``url`` now (the rules of domain/subscription.py, with
        the addresses its host resolves to now), or None; and those addresses, the only ones
        the sender connects to (a name resolved again to connect could point elsewhere by
        then: DNS rebinding). Remembered ``RECHECK_URL`` s."""
        key = (url, str(clearance))
        found = self._checked.get(key)
        if found is not None and time.monotonic() - found[0] < RECHECK_URL:
            return found[1], found[2]
        host = url_host(url)
        literal = _is_address(host)
        addresses = [] if literal else self.resolver(host)
        refused = url_refusal(url, clearance, self.insecure_hosts, addresses)
        reason = f"{refused.code}: {refused.reason}" if refused is not None else None
        if reason is None and not literal and not addresses:
            reason = f"unresolved: {host} resolves to no address"
        pinned = (host,) if literal else tuple(addresses)
        self._checked[key] = (time.monotonic(), reason, pinned)
        return reason, pinned

    def _signer(self, sub: Subscription) -> Webhook:
        key = (str(sub.id), sub.rotations)
        found = self._secrets.get(key)
        if found is None:
            found = self._secrets[key] = Webhook(self.hooks.secret(*key))
        return found

    def _ready(self, sub: Subscription) -> Checked | None:
        """The URL's check and the signer when both are remembered (no look-up to make: the
        loop need not hand the work to a thread), else None."""
        checked = self._checked.get((sub.url, str(sub.clearance)))
        signer = self._secrets.get((str(sub.id), sub.rotations))
        if checked is None or signer is None or time.monotonic() - checked[0] >= RECHECK_URL:
            return None
        return checked[1], checked[2], signer

    def _looked_up(self, sub: Subscription) -> Checked:
        """The URL's check (its host resolved) and, unless refused, the signer (its secret
        read): look-ups, made off the sender's loop."""
        refused, addresses = self._target(sub.url, sub.clearance)
        return refused, addresses, None if refused is not None else self._signer(sub)

    async def _send(self, sub: Subscription, delivery: Delivery, sender: Sender) -> bool:
        """One attempt; True when delivered (added to the delivered log, written down with
        the next transaction of it)."""
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            ready = self._ready(sub)
            if ready is None:  # a look-up to make: off the loop, on a thread of its own
                ready = await self.senders.apart(self._looked_up, sub)
            refused, addresses, signer = ready
            if refused is not None:
                raise OSError(refused)
            assert signer is not None
            status = await sender.post(sub.url, addresses, delivery, signer)
            if not 200 <= status < 300:
                error = f"status {status}"
        except SecretUnavailable as exc:
            error = str(exc)
        except OSError as exc:
            sender.close()
            error = f"{type(exc).__name__}: {exc}"[:500]
        latency = round((time.monotonic() - started) * 1000, 1)
        if error is None and status is not None:
            self.log.add(delivery, status, latency)
            return True
        await self.senders.io(self._failed, sub, delivery, status, latency, error)
        return False

    def _failed(
        self,
        sub: Subscription,
        delivery: Delivery,
        status: int | None,
        latency: float,
        error: str | None,
    ) -> None:
        """Record a failed attempt: retried after the backoff, or a dead letter past the
        retry window (the subscription is failing)."""
        self.log.flush()  # what went before is delivered: recorded before this failure
        now = time.time()
        first = delivery.first_attempt_at or now
        dead = now - first >= self.retry.window
        self.hooks.attempted(
            delivery,
            status=status,
            latency_ms=latency,
            error=error,
            state=DEAD if dead else PENDING,
            next_attempt_at=None if dead else now + self.retry.delay(delivery.attempts + 1),
        )
        if dead:
            self.failing.add(str(sub.id))
            log.warning("subscription %s is failing: %s", sub.id, error)


#: Deliveries a lane keeps in hand at most; past that it reads its queue from the store (a
#: receiver that is down does not make the runner hold its backlog in memory).
INBOX = 500


class Wake:
    """A lane's wake-up, set from any thread (``set``, ``clear``, ``is_set`` as
    threading.Event's); the lane's task waits for it on the sender's loop (:meth:`wait`),
    told through :meth:`Senders.poke`."""

    def __init__(self, senders: Senders | None = None) -> None:
        self.senders = senders
        self.flag = False
        self.event = asyncio.Event()  # bound to the loop that first waits for it

    def set(self) -> None:
        self.flag = True
        if self.senders is not None:
            self.senders.poke(self)

    def clear(self) -> None:
        self.flag = False

    def is_set(self) -> bool:
        return self.flag

    async def wait(self, timeout: float) -> bool:
        """On the sender's loop: True once set, False when ``timeout`` s passed first."""
        self.event.clear()
        if self.flag:  # a set after this check reaches the event after the await below
            return True
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self.event.wait()
        return self.flag


class Lane:
    """A subscription's sender (a task on the sender thread's loop), woken when deliveries
    are queued for it, and handed them (the runner's lanes_lock guards ``inbox``, ``synced``
    and ``resyncing``)."""

    def __init__(self, key: str, senders: Senders | None = None) -> None:
        self.key = key
        self.wake = Wake(senders)
        #: Sending a batch (it looks for more after it, so the runner need not wake it).
        self.sending = False
        #: The last delivery sent (its queue is read after it).
        self.sent = 0
        #: Deliveries handed to it, in id order (queued in one thread, one transaction after
        #: another).
        self.inbox: list[Delivery] = []
        #: It knows its whole queue: what waits is what it holds and is handed, no need to
        #: read the store (False: it reads its queue from the store next).
        self.synced = False
        #: Its queue may hold what it was not handed (a redelivery): read it from the start.
        self.resyncing = False
        #: What it was handed did not fit (``INBOX``) and was dropped: the store has it.
        self.dropped = False
        #: The delivery it is sending now (None: between batches).
        self.next_up: int | None = None

    def offer(self, deliveries: list[Delivery]) -> None:
        if len(self.inbox) + len(deliveries) > INBOX:
            self.inbox = []
            self.synced = False
            self.dropped = True
        else:
            self.inbox += deliveries

    def resync(self) -> None:
        self.resyncing = True

    def idle(self) -> bool:
        """Nothing in hand: a delivery waiting in the store is one it was not handed."""
        return not self.sending and not self.inbox

    def misses(self, lowest: int) -> bool:
        """The store's oldest waiting delivery of this subscription (``lowest``) comes before
        everything this lane holds: it was not handed it (a redelivery, or one another node
        queued), and must read its queue again, or it would send it late and out of order.
        (One it sent a moment ago and the log has not written down yet looks the same: the
        read again costs a query, no delivery.)"""
        held = [d.id for d in self.inbox]
        if self.next_up is not None:
            held.append(self.next_up)
        return not held or lowest < min(held)


def lower_thread_priority(nice: int) -> None:
    """Set the calling thread's own niceness (Linux keeps one per thread) ``nice`` above the
    process's: the delivery threads take the CPU that posts, feeds and projections leave, in
    whichever process runs them, and a busy receiver never slows those (issue 24). Elsewhere,
    or where the system refuses, the thread keeps its priority."""
    # Only Linux takes a thread's id where setpriority takes a process id.
    if nice <= 0 or not sys.platform.startswith("linux"):
        return
    try:
        # From the process's own niceness (its first thread's), not the calling thread's: a
        # thread inherits its creator's, and the lanes are started by the runner's loop.
        process = os.getpriority(os.PRIO_PROCESS, os.getpid())
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), min(19, process + nice))
    except OSError:
        log.warning("the webhook delivery thread keeps its priority", exc_info=True)


class Senders:
    """The one thread that sends every subscription's webhooks: an asyncio loop (uvloop's
    where installed) running a task per lane (:meth:`WebhookRunner._lane`), each with its
    kept-alive connection. A thread per lane (~100 at 400 deliveries/s) cost the worker about
    0.5 ms of CPU per delivery and ~180,000 context switches in 20 s, taken from the cores
    the posts run on (issue 24). The store's reads and writes run on a few threads beside it
    (:meth:`io`), a receiver's look-up on a thread of its own (:meth:`apart`), not on the
    loop; all these threads are lowered by ``nice`` (:func:`lower_thread_priority`)."""

    def __init__(self, nice: int = 0, workers: int = 4) -> None:
        self.nice = nice
        self.workers = workers
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self.pool: ThreadPoolExecutor | None = None
        self._halt: asyncio.Event | None = None
        #: The lanes' tasks (on the loop).
        self._tasks: set[asyncio.Task[None]] = set()
        #: Wakes set from other threads since the loop last looked (one call into the loop
        #: for all the lanes a batch wakes, not one each).
        self._poked: list[Wake] = []
        self._poking = False
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self.thread is not None:
                return
            self.loop = _new_loop()
            self._halt = asyncio.Event()
            self.pool = ThreadPoolExecutor(
                self.workers,
                thread_name_prefix="mlob-webhook-io",
                initializer=lower_thread_priority,
                initargs=(self.nice,),
            )
            self.thread = threading.Thread(target=self._run, name="mlob-webhook-send", daemon=True)
            self.thread.start()

    def _run(self) -> None:
        lower_thread_priority(self.nice)
        loop = self.loop  # stop() lets go of it before this ends
        assert loop is not None
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            loop.close()

    def spawn(self, lane: Lane, work: Callable[[Lane], Coroutine[Any, Any, None]]) -> None:
        """Run ``work(lane)`` as a task on the loop (started first if it is not)."""
        self.start()
        assert self.loop is not None
        self.loop.call_soon_threadsafe(self._spawn, lane, work)

    def _spawn(self, lane: Lane, work: Callable[[Lane], Coroutine[Any, Any, None]]) -> None:
        task = asyncio.get_running_loop().create_task(work(lane), name=f"mlob-webhook-{lane.key}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def poke(self, wake: Wake) -> None:
        """Tell the loop that ``wake`` was set (from any thread)."""
        loop = self.loop
        if loop is None:
            return
        with self._lock:
            self._poked.append(wake)
            if self._poking:
                return
            self._poking = True
        with contextlib.suppress(RuntimeError):  # closed: stopping
            loop.call_soon_threadsafe(self._woken)

    def _woken(self) -> None:
        with self._lock:
            poked, self._poked = self._poked, []
            self._poking = False
        for wake in poked:
            wake.event.set()

    async def io(self, call: Callable[..., T], *args: Any) -> T:
        """``call(*args)`` on one of the threads beside the loop (the store: it blocks)."""
        return await asyncio.get_running_loop().run_in_executor(self.pool, call, *args)

    async def apart(self, call: Callable[..., T], *args: Any) -> T:
        """``call(*args)`` on a thread of its own: a look-up that can hang on someone else's
        machine (a receiver's name server) holds up only the lane that waits for it, not the
        few threads every lane shares (:meth:`io`). A lane looks its receiver up about once
        a minute, so a thread each costs little."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[T] = loop.create_future()

        def settle(outcome: Callable[[], None]) -> None:
            if not answer.done():  # the lane may have stopped waiting
                outcome()

        def run() -> None:
            lower_thread_priority(self.nice)
            try:
                result = call(*args)
            except BaseException as exc:  # handed to the waiting lane
                done = partial(settle, partial(answer.set_exception, exc))
            else:
                done = partial(settle, partial(answer.set_result, result))
            with contextlib.suppress(RuntimeError):  # the loop closed: stopping
                loop.call_soon_threadsafe(done)

        threading.Thread(target=run, name="mlob-lookup", daemon=True).start()
        return await answer

    async def halted(self, seconds: float) -> bool:
        """Wait ``seconds``; True when the senders stop meanwhile."""
        assert self._halt is not None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._halt.wait()
        return self._halt.is_set()

    def stop(self, grace: float) -> None:
        """Let the lanes end (each after the attempt it is making, ``grace`` s at most, then
        cancelled), then the loop and its threads."""
        with self._lock:
            loop, thread, pool = self.loop, self.thread, self.pool
            self.loop = self.thread = self.pool = None
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._finish(grace), loop).result(grace + 10)
        except Exception:
            log.exception("webhooks: the sender did not stop in time")
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        if pool is not None:
            pool.shutdown(wait=False)

    async def _finish(self, grace: float) -> None:
        assert self._halt is not None
        self._halt.set()
        tasks = set(self._tasks)
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=grace)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # Windows: asyncio's own
        return asyncio.new_event_loop()
    return cast(asyncio.AbstractEventLoop, uvloop.new_event_loop())


class DeliveredLog:
    """What the lanes delivered, written down for all of them a transaction every ``every``
    s by a thread of its own (each delivery's attempt and state with its subscription's
    delivered position: HookStore.delivered), or at once by :meth:`flush`."""

    def __init__(self, hooks: HookStore, every: float, nice: int = 0) -> None:
        self.hooks = hooks
        self.every = every
        self.nice = nice
        self._done: list[tuple[Delivery, int, float]] = []
        self._lock = threading.Lock()
        #: One write at a time: a flush returns once what was added before it is written.
        self._writing = threading.Lock()
        self._added = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="mlob-webhook-log", daemon=True)
        self._thread.start()

    def add(self, delivery: Delivery, status: int, latency_ms: float) -> None:
        with self._lock:
            self._done.append((delivery, status, latency_ms))
        self._added.set()

    def flush(self) -> None:
        with self._writing:
            with self._lock:
                done, self._done = self._done, []
            if not done:
                return
            try:
                self.hooks.delivered(done)
            except BaseException:
                with self._lock:  # kept for the next write (in order)
                    self._done[:0] = done
                raise

    def _loop(self) -> None:
        lower_thread_priority(self.nice)
        while not self._stop.is_set():
            self._added.wait()
            self._added.clear()
            self._stop.wait(self.every)  # gathers what comes meanwhile into one transaction
            try:
                self.flush()
            except Exception:
                log.exception("webhooks: the delivered log was not written; retrying")
                self._added.set()
                self._stop.wait(1.0)

    def stop(self) -> None:
        self._stop.set()
        self._added.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        try:
            self.flush()
        except Exception:
            log.exception("webhooks: the delivered log was not written (sent again later)")


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class BadAnswer(OSError):
    """What came back is not an HTTP answer, or the connection closed before one came."""


class Connection(asyncio.Protocol):
    """One kept-alive HTTP/1.1 connection to a receiver, on the sender's loop: a request
    written at a time, its answer read by httptools' parser (the status and whether the
    connection may be kept; the body is counted and dropped)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.parser: httptools.HttpResponseParser | None = None
        self.answer: asyncio.Future[tuple[int, bool]] | None = None
        self.status = 0
        self.keep = False
        self.size = 0

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self.parser is None:  # nothing asked: a receiver that talks out of turn
            self.close()
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._answered(False)
        except httptools.HttpParserError as exc:
            self._fail(BadAnswer(f"not an HTTP answer: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.status and self.parser is not None:  # an answer that ends with the connection
            self._answered(False)
        else:
            self._fail(BadAnswer("the receiver closed the connection before answering"))

    # httptools' callbacks

    def on_headers_complete(self) -> None:
        assert self.parser is not None
        self.status = self.parser.get_status_code()
        self.keep = self.parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.size > MAX_ANSWER:  # too long to read: the connection is not kept
            self._answered(False)

    def on_message_complete(self) -> None:
        if 100 <= self.status < 200:  # an interim answer (100 Continue): the real one follows
            self.status = 0
            return
        self._answered(self.keep)

    # the sender's side

    def exchange(self, request: bytes) -> asyncio.Future[tuple[int, bool]]:
        """Write ``request``; the answer's status and whether the connection may be kept."""
        assert self.transport is not None
        self.answer = asyncio.get_running_loop().create_future()
        self.status, self.keep, self.size = 0, False, 0
        self.parser = httptools.HttpResponseParser(self)
        self.transport.write(request)
        return self.answer

    def _answered(self, keep: bool) -> None:
        answer, self.parser = self.answer, None
        if answer is not None and not answer.done():
            answer.set_result((self.status, keep))

    def _fail(self, exc: Exception) -> None:
        answer, self.parser = self.answer, None
        if answer is not None and not answer.done():
            answer.set_exception(exc)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


_TLS: ssl.SSLContext | None = None


def _tls() -> ssl.SSLContext:
    """The system's trusted certificates, host names checked (made once: it reads them)."""
    global _TLS
    if _TLS is None:
        _TLS = ssl.create_default_context()
    return _TLS


class Sender:
    """One lane's connection to its receiver, kept alive between deliveries (opened again
    after an error, after an answer too long to read, when the receiver closes it, or when
    the URL's host or its checked addresses change)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.conn: Connection | None = None
        self.origin: tuple[str, str, int | None, tuple[str, ...]] | None = None
        #: The URL's request line and Host header (the URL of a subscription rarely changes).
        self._head: tuple[str, bytes] | None = None

    async def post(
        self, url: str, addresses: Sequence[str], delivery: Delivery, signer: Webhook
    ) -> int:
        """POST one signed delivery to one of ``addresses`` (the checked ones of the URL's
        host; no redirects followed), within ``timeout`` s; the status code."""
        parts = urlsplit(url)
        origin = (parts.scheme, parts.hostname or "", parts.port, tuple(addresses))
        try:
            async with asyncio.timeout(self.timeout):
                if self.conn is None or self.conn.closed or origin != self.origin:
                    self.close()
                    self.conn = await self._open(origin)
                    self.origin = origin
                body = delivery.body.encode()
                now = datetime.now(UTC)
                request = b"".join(
                    (
                        self._request_head(url, parts),
                        b"\r\nwebhook-id: ",
                        delivery.webhook_id.encode(),
                        b"\r\nwebhook-timestamp: ",
                        str(int(now.timestamp())).encode(),
                        b"\r\nwebhook-signature: ",
                        signer.sign(delivery.webhook_id, now, body).encode(),
                        b"\r\ncontent-length: ",
                        str(len(body)).encode(),
                        b"\r\n\r\n",
                        body,
                    )
                )
                status, keep = await self.conn.exchange(request)
        except TimeoutError:
            self.close()
            raise TimeoutError(f"timeout: no answer within {self.timeout} s") from None
        if not keep:
            self.close()
        return status

    def _request_head(self, url: str, parts: SplitResult) -> bytes:
        if self._head is None or self._head[0] != url:
            path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=~-._")
            if parts.query:
                path += "?" + quote(parts.query, safe="/%:@!$&'()*+,;=~-._?")
            try:
                host = (parts.hostname or "").encode("idna").decode()
            except UnicodeError as exc:
                raise BadAnswer(f"the URL's host cannot be sent: {exc}") from None
            if ":" in host:
                host = f"[{host}]"
            default = 443 if parts.scheme == "https" else 80
            if parts.port is not None and parts.port != default:
                host += f":{parts.port}"
            head = (
                f"POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json"
                "\r\nuser-agent: mlob-webhooks"
            )
            self._head = (url, head.encode())
        return self._head[1]

    async def _open(self, origin: tuple[str, str, int | None, tuple[str, ...]]) -> Connection:
        """A connection to the first of the checked addresses that answers (as
        socket.create_connection tries a name's addresses), never to a name resolved
        again; over TLS the server name and the certificate's check stay the URL's host."""
        scheme, host, port, addresses = origin
        tls = scheme == "https"
        loop = asyncio.get_running_loop()
        error: OSError = OSError("no address to connect to")
        # Each address gets an equal share of what is left of the attempt's time: one that
        # drops packets silently (an IPv6 address sorted first, say) must not take all of it
        # and leave the next, working one untried.
        deadline = loop.time() + self.timeout
        for tried, address in enumerate(addresses):
            share = (deadline - loop.time()) / (len(addresses) - tried)
            try:
                async with asyncio.timeout(share):
                    _, conn = await loop.create_connection(
                        Connection,
                        address,
                        port or (443 if tls else 80),
                        ssl=_tls() if tls else None,
                        server_hostname=host if tls else None,
                    )
                return conn
            except TimeoutError:
                error = OSError(f"{address}: no connection within {share:.1f} s")
            except OSError as exc:
                error = exc
        raise error

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
