"""The tables of subscriptions' webhooks and alerts (migration 0006): the sealed signing
secrets, the delivery runner's cursor, each subscription's deliveries and attempts, the alerts
and their acknowledgements. Kept beside the event stream, never in it: a secret must not be in
the history, and deliveries and alerts are derived (a subscription's existence and filters are
events, mlob:Subscription).

Secrets are sealed with AES-GCM under a key derived from ``MLOB_WEBHOOK_KEY`` (SHA-256 of it),
the subscription's id as associated data: a sealed secret copied to another subscription's row
does not open.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from psycopg_pool import ConnectionPool

from mlob.config import StoreConfig
from mlob.read.readstore import connection_pool

#: States of a delivery: waiting to go out (or be retried), delivered, or given up on after
#: the retry window (dead letter; its subscription is failing until resumed or redelivered).
PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"

DELIVERY_COLUMNS = (
    "id",
    "subscription_id",
    "webhook_id",
    "position",
    "alert_id",
    "type",
    "body",
    "state",
    "attempts",
    "created_at",
    "first_attempt_at",
    "next_attempt_at",
    "last_status",
    "last_latency_ms",
    "last_error",
    "delivered_at",
)


#: The runner's cursor rows of subscriptions catching up on the history (mlob_webhook_cursor:
#: ``catch-up:<subscription>``, its position how far it has come; ended when it meets the live
#: cursor).
CATCH_UP_PREFIX = "catch-up:"

#: Subscriptions looked up per query by :meth:`HookStore.backlog`.
BACKLOG_CHUNK = 500

#: Seconds a staged rotation's secret holds its number against another rotation (a rotation
#: records its event within them; a staged row older than that is a failed one's leftover).
STAGED_FOR = 60.0


def secret_key(subscription_id: str, rotation: int) -> str:
    """The row a subscription's secret of a rotation is kept in (rotation 0: its id)."""
    return subscription_id if rotation == 0 else f"{subscription_id}@{rotation}"


class SecretUnavailable(Exception):
    """No ``MLOB_WEBHOOK_KEY``, or a sealed secret that does not open with it."""


def sealer(key: str | None) -> AESGCM | None:
    return AESGCM(hashlib.sha256(key.encode()).digest()) if key else None


@dataclass(frozen=True)
class Delivery:
    """One event or alert for one subscription, as queued (with its latest attempt)."""

    id: int
    subscription_id: str
    webhook_id: str
    position: int | None
    alert_id: int | None
    type: str
    body: str
    state: str
    attempts: int
    created_at: float
    first_attempt_at: float | None
    next_attempt_at: float | None
    last_status: int | None
    last_latency_ms: float | None
    last_error: str | None
    delivered_at: float | None

    def as_dict(self) -> dict[str, Any]:
        def moment(t: float | None) -> str | None:
            if t is None:
                return None
            return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"

        return {
            "id": self.id,
            "webhook_id": self.webhook_id,
            "position": self.position,
            "alert_id": self.alert_id,
            "type": self.type,
            "state": self.state,
            "attempts": self.attempts,
            "created_at": moment(self.created_at),
            "first_attempt_at": moment(self.first_attempt_at),
            "next_attempt_at": moment(self.next_attempt_at) if self.state == PENDING else None,
            "last_status": self.last_status,
            "last_latency_ms": self.last_latency_ms,
            "last_error": self.last_error,
            "delivered_at": moment(self.delivered_at),
        }


class HookStore:
    """The webhook and alert tables of one store (SQLite or PostgreSQL)."""

    def __init__(self, store: StoreConfig, key: str | None = None) -> None:
        self.store = store
        self.kind = store.kind
        self._aead = sealer(key)
        self._pool: ConnectionPool[Any] | None = None
        self._sqlite: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    # --- connections -----------------------------------------------------------------------

    @contextmanager
    def _tx(self, write: bool = True) -> Iterator[Any]:
        """A cursor-like ``execute(sql, params)`` in one transaction (``%s`` placeholders).
        On SQLite a writing one takes the write lock at its start (BEGIN IMMEDIATE: no lock
        upgrade to fail half-way); a reading one (``write=False``) takes none, so it neither
        waits for a writer nor holds one up."""
        if self.kind == "sqlite":
            with self._lock:
                conn = self._sqlite_conn()
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN DEFERRED")
                try:
                    yield _SqliteRun(conn)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            return
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = connection_pool(self.store, min_size=0, max_size=12)
        with self._pool.connection() as pg, pg.transaction():
            yield _PgRun(pg)

    def _sqlite_conn(self) -> sqlite3.Connection:
        if self._sqlite is None:
            assert self.store.sqlite_path is not None
            self._sqlite = sqlite3.connect(
                self.store.sqlite_path, timeout=30, check_same_thread=False, isolation_level=None
            )
            self._sqlite.execute("PRAGMA busy_timeout=30000")
        return self._sqlite

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A read (no write lock)."""
        with self._tx(write=False) as tx:
            return list(tx.execute(sql, params).fetchall())

    def _rows_in(self, sql: str, ids: Sequence[int]) -> list[tuple[Any, ...]]:
        """``sql`` with ``{ids}`` standing for the placeholders of ``ids`` (none: no rows)."""
        if not ids:
            return []
        return self._rows(sql.format(ids=", ".join(["%s"] * len(ids))), tuple(ids))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None

    # --- secrets -----------------------------------------------------------------------------

    @property
    def sealing(self) -> bool:
        return self._aead is not None

    def _seal(self, key: str, secret: str) -> str:
        if self._aead is None:
            raise SecretUnavailable("MLOB_WEBHOOK_KEY is not set")
        nonce = os.urandom(12)
        sealed = nonce + self._aead.encrypt(nonce, secret.encode(), key.encode())
        return base64.b64encode(sealed).decode()

    def put_secret(self, subscription_id: str, secret: str) -> None:
        """A new subscription's secret (rotation 0)."""
        text = self._seal(subscription_id, secret)
        with self._tx() as tx:
            tx.execute(
                "DELETE FROM mlob_webhook_secrets WHERE subscription_id = %s", (subscription_id,)
            )
            tx.execute(
                "INSERT INTO mlob_webhook_secrets (subscription_id, sealed, rotated_at) "
                "VALUES (%s, %s, %s)",
                (subscription_id, text, time.time()),
            )

    def stage_secret(self, subscription_id: str, rotation: int, secret: str) -> str | None:
        """Keep the secret of a rotation about to be recorded in a row of its own (the
        subscription's secret in use is the one of its recorded rotations: a rotation that is
        not recorded changes nothing). The sealed text (to :meth:`unstage_secret` it), or None
        when another rotation to this number is under way (a row of it younger than
        ``STAGED_FOR`` s; an older one is a failed rotation's leftover, replaced)."""
        key = secret_key(subscription_id, rotation)
        text = self._seal(key, secret)
        now = time.time()
        with self._tx() as tx:
            done = tx.execute(
                "INSERT INTO mlob_webhook_secrets (subscription_id, sealed, rotated_at) "
                "VALUES (%s, %s, %s) ON CONFLICT (subscription_id) DO UPDATE SET "
                "sealed = excluded.sealed, rotated_at = excluded.rotated_at "
                "WHERE mlob_webhook_secrets.rotated_at < %s",
                (key, text, now, now - STAGED_FOR),
            )
            return text if done.rowcount == 1 else None

    def unstage_secret(self, subscription_id: str, rotation: int, sealed: str) -> None:
        """A rotation that was not recorded: its staged secret goes (only this one's)."""
        with self._tx() as tx:
            tx.execute(
                "DELETE FROM mlob_webhook_secrets WHERE subscription_id = %s AND sealed = %s",
                (secret_key(subscription_id, rotation), sealed),
            )

    def retire_secrets(self, subscription_id: str, rotation: int) -> None:
        """After rotation ``rotation`` is recorded: the secrets before it go."""
        with self._tx() as tx:
            tx.execute(
                "DELETE FROM mlob_webhook_secrets WHERE (subscription_id = %s OR "
                "subscription_id LIKE %s) AND subscription_id <> %s",
                (subscription_id, f"{subscription_id}@%", secret_key(subscription_id, rotation)),
            )

    def secret(self, subscription_id: str, rotation: int = 0) -> str:
        """The secret of the subscription's recorded rotation ``rotation`` (a store from
        before staged rotations keeps each subscription's newest under its id alone)."""
        if self._aead is None:
            raise SecretUnavailable("MLOB_WEBHOOK_KEY is not set")
        key = secret_key(subscription_id, rotation)
        found = dict(
            self._rows(
                "SELECT subscription_id, sealed FROM mlob_webhook_secrets "
                "WHERE subscription_id IN (%s, %s)",
                (key, subscription_id),
            )
        )
        used = key if key in found else subscription_id
        if used not in found:
            raise SecretUnavailable(f"no secret for subscription {subscription_id}")
        sealed = base64.b64decode(found[used])
        try:
            return self._aead.decrypt(sealed[:12], sealed[12:], used.encode()).decode()
        except InvalidTag:
            raise SecretUnavailable(
                f"the secret of subscription {subscription_id} does not open with this "
                "MLOB_WEBHOOK_KEY"
            ) from None

    def secret_holders(self) -> list[str]:
        """The subscriptions that have a secret: every one made and not deleted (a secret is
        kept before its subscription's event is recorded, and forgotten at its deletion),
        and perhaps one whose making failed a moment ago. One row per subscription."""
        # A rotated subscription's secret is kept under ``<id>@<rotation>`` (its first under
        # ``<id>`` is gone once a rotation is recorded): each key names its subscription.
        rows = self._rows("SELECT subscription_id FROM mlob_webhook_secrets", ())
        return list(dict.fromkeys(str(r[0]).partition("@")[0] for r in rows))

    def forget_secret(self, subscription_id: str) -> None:
        """A deleted (or not made) subscription's secrets, of every rotation."""
        with self._tx() as tx:
            tx.execute(
                "DELETE FROM mlob_webhook_secrets WHERE subscription_id = %s "
                "OR subscription_id LIKE %s",
                (subscription_id, f"{subscription_id}@%"),
            )

    # --- the runner's cursor and queue -----------------------------------------------------------

    def cursor(self, name: str = "webhooks") -> tuple[int, int] | None:
        found = self._rows(
            "SELECT position, alert_id FROM mlob_webhook_cursor WHERE name = %s", (name,)
        )
        return (int(found[0][0]), int(found[0][1])) if found else None

    def start_cursor(self, position: int, alert_id: int, name: str = "webhooks") -> None:
        """Where a runner begins on a store that never had one (the head: only what is
        recorded from then on is delivered, or from each subscription's ``after``)."""
        with self._tx() as tx:
            found = tx.execute(
                "SELECT 1 FROM mlob_webhook_cursor WHERE name = %s", (name,)
            ).fetchall()
            if not found:
                tx.execute(
                    "INSERT INTO mlob_webhook_cursor (name, position, alert_id) "
                    "VALUES (%s, %s, %s)",
                    (name, position, alert_id),
                )

    def enqueue(
        self,
        deliveries: Sequence[tuple[str, str, int | None, int | None, str, str]],
        was: tuple[int, int],
        now: tuple[int, int],
        name: str = "webhooks",
        *,
        catch_up: Sequence[tuple[str, int]] = (),
        done: bool = False,
    ) -> list[Delivery]:
        """Queue deliveries (subscription, webhook id, position, alert id, type, body) and move
        the cursor from ``was`` to ``now``, in one transaction; the deliveries as queued (with
        their ids: their lanes are handed them without reading them back). Raises
        :class:`CursorMoved` (nothing written) when the cursor is no longer at ``was``:
        another runner moved it. ``catch_up``: subscriptions (and their ``after``) that start
        catching up here; ``done``: the cursor (a catch-up's) ends here."""
        at = time.time()
        ids: list[int] = []
        with self._tx() as tx:
            moved = tx.execute(
                "UPDATE mlob_webhook_cursor SET position = %s, alert_id = %s "
                "WHERE name = %s AND position = %s AND alert_id = %s",
                (now[0], now[1], name, was[0], was[1]),
            )
            if moved.rowcount != 1:
                raise _Moved
            if done:
                tx.execute("DELETE FROM mlob_webhook_cursor WHERE name = %s", (name,))
            if catch_up:
                tx.executemany(
                    "INSERT INTO mlob_webhook_cursor (name, position, alert_id) "
                    "VALUES (%s, %s, 0) ON CONFLICT DO NOTHING",
                    [(CATCH_UP_PREFIX + key, after) for key, after in catch_up],
                )
            if deliveries:
                ids = tx.inserted(
                    "INSERT INTO mlob_webhook_deliveries (subscription_id, webhook_id, position, "
                    "alert_id, type, body, state, attempts, created_at, next_attempt_at) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, 0, %s, %s) RETURNING id",
                    [(*d, PENDING, at, at) for d in deliveries],
                )
        return [
            Delivery(i, *d, PENDING, 0, at, None, at, None, None, None, None)
            for i, d in zip(ids, deliveries, strict=True)
        ]

    def catching_up(self) -> dict[str, int]:
        """The subscriptions catching up on the history, and how far each has come."""
        rows = self._rows(
            "SELECT name, position FROM mlob_webhook_cursor WHERE name LIKE %s",
            (CATCH_UP_PREFIX + "%",),
        )
        return {str(r[0])[len(CATCH_UP_PREFIX) :]: int(r[1]) for r in rows}

    def waiting(self, subscription_id: str) -> int:
        """How many of a subscription's deliveries wait to go out."""
        rows = self._rows(
            "SELECT COUNT(*) FROM mlob_webhook_deliveries WHERE subscription_id = %s "
            "AND state = %s",
            (subscription_id, PENDING),
        )
        return int(rows[0][0])

    def backlog(self, subscription_ids: Sequence[str]) -> list[str]:
        """Of these subscriptions, those with deliveries waiting."""
        return list(self.waiting_from(subscription_ids))

    def waiting_from(self, subscription_ids: Sequence[str]) -> dict[str, int]:
        """Of these subscriptions, those with deliveries waiting, each with its oldest waiting
        delivery's id. One probe of the queue's index (subscription, state, id) per
        subscription, whatever the number waiting (a DISTINCT over the waiting deliveries read
        every one of them, every tick)."""
        found: dict[str, int] = {}
        ids = list(dict.fromkeys(subscription_ids))
        for start in range(0, len(ids), BACKLOG_CHUNK):
            chunk = ids[start : start + BACKLOG_CHUNK]
            # VALUES names its column column1 on both SQLite and PostgreSQL.
            values = ", ".join(["(%s)"] * len(chunk))
            for key, lowest in self._rows(
                f"SELECT c.column1, (SELECT MIN(d.id) FROM mlob_webhook_deliveries d "
                f"WHERE d.subscription_id = c.column1 AND d.state = %s) FROM (VALUES {values}) "
                "AS c",
                (PENDING, *chunk),
            ):
                if lowest is not None:
                    found[key] = int(lowest)
        return found

    def pending(self, subscription_id: str, limit: int, after: int = 0) -> list[Delivery]:
        """A subscription's waiting deliveries after delivery ``after``, oldest first."""
        return self._deliveries(
            "subscription_id = %s AND state = %s AND id > %s",
            (subscription_id, PENDING, after),
            limit,
        )

    def _deliveries(self, where: str, params: Sequence[Any], limit: int) -> list[Delivery]:
        rows = self._rows(
            f"SELECT {', '.join(DELIVERY_COLUMNS)} FROM mlob_webhook_deliveries WHERE {where} "
            "ORDER BY id LIMIT %s",
            (*params, limit),
        )
        return [Delivery(*r) for r in rows]

    def deliveries(
        self, subscription_id: str, *, after: int = 0, limit: int = 100, state: str | None = None
    ) -> list[Delivery]:
        where, params = "subscription_id = %s AND id > %s", [subscription_id, after]
        if state is not None:
            where += " AND state = %s"
            params.append(state)
        return self._deliveries(where, params, limit)

    def attempts(self, delivery_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
        rows = self._rows_in(
            "SELECT delivery_id, at, status, latency_ms, error FROM mlob_webhook_attempts "
            "WHERE delivery_id IN ({ids}) ORDER BY id",
            delivery_ids,
        )
        found: dict[int, list[dict[str, Any]]] = {}
        for delivery_id, at, status, latency, error in rows:
            found.setdefault(int(delivery_id), []).append(
                {
                    "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at)),
                    "status": status,
                    "latency_ms": latency,
                    "error": error,
                }
            )
        return found

    def attempted(
        self,
        delivery: Delivery,
        *,
        status: int | None,
        latency_ms: float,
        error: str | None,
        state: str,
        next_attempt_at: float | None,
    ) -> None:
        """Record one attempt and the delivery's state after it (with the subscription's
        delivered position, or its failing, in the same transaction)."""
        at = time.time()
        with self._tx() as tx:
            tx.execute(
                "INSERT INTO mlob_webhook_attempts (delivery_id, at, status, latency_ms, error) "
                "VALUES (%s, %s, %s, %s, %s)",
                (delivery.id, at, status, latency_ms, error),
            )
            tx.execute(
                "UPDATE mlob_webhook_deliveries SET state = %s, attempts = attempts + 1, "
                "first_attempt_at = COALESCE(first_attempt_at, %s), next_attempt_at = %s, "
                "last_status = %s, last_latency_ms = %s, last_error = %s, delivered_at = %s "
                "WHERE id = %s",
                (
                    state,
                    at,
                    next_attempt_at,
                    status,
                    latency_ms,
                    error,
                    at if state == DELIVERED else None,
                    delivery.id,
                ),
            )
            if state == DELIVERED:
                self._state(tx, delivery.subscription_id)
                tx.execute(
                    "UPDATE mlob_webhook_state SET delivered_position = "
                    "CASE WHEN %s > delivered_position THEN %s ELSE delivered_position END, "
                    "delivered_alert = CASE WHEN %s > delivered_alert THEN %s "
                    "ELSE delivered_alert END WHERE subscription_id = %s",
                    (
                        delivery.position or 0,
                        delivery.position or 0,
                        delivery.alert_id or 0,
                        delivery.alert_id or 0,
                        delivery.subscription_id,
                    ),
                )
            elif state == DEAD:
                self._state(tx, delivery.subscription_id)
                tx.execute(
                    "UPDATE mlob_webhook_state SET failing_since = %s WHERE subscription_id = %s",
                    (at, delivery.subscription_id),
                )

    def delivered(self, done: Sequence[tuple[Delivery, int, float]]) -> None:
        """Record delivered deliveries (each with its status and latency, of one subscription
        or several) and each subscription's delivered position, in one transaction: a
        statement per kind of row, its rows in one round trip (rows in id order, the order
        other writers of these rows take their locks in)."""
        at = time.time()
        done = sorted(done, key=lambda d: d[0].id)
        reached: dict[str, tuple[int, int]] = {}
        for d, _, _ in done:
            position, alert = reached.get(d.subscription_id, (0, 0))
            reached[d.subscription_id] = (
                max(position, d.position or 0),
                max(alert, d.alert_id or 0),
            )
        states = [(p, p, a, a, key) for key, (p, a) in sorted(reached.items())]
        if self.kind == "postgresql":
            self._delivered_pg(at, done, states)
            return
        with self._tx() as tx:
            tx.executemany(
                "INSERT INTO mlob_webhook_attempts (delivery_id, at, status, latency_ms, error) "
                "VALUES (%s, %s, %s, %s, NULL)",
                [(d.id, at, status, latency) for d, status, latency in done],
            )
            tx.executemany(
                "UPDATE mlob_webhook_deliveries SET state = %s, attempts = attempts + 1, "
                "first_attempt_at = COALESCE(first_attempt_at, %s), next_attempt_at = NULL, "
                "last_status = %s, last_latency_ms = %s, last_error = NULL, delivered_at = %s "
                "WHERE id = %s",
                [(DELIVERED, at, status, latency, at, d.id) for d, status, latency in done],
            )
            tx.executemany(
                "INSERT INTO mlob_webhook_state (subscription_id) VALUES (%s) "
                "ON CONFLICT DO NOTHING",
                [(key,) for *_, key in states],
            )
            tx.executemany(
                "UPDATE mlob_webhook_state SET delivered_position = "
                "CASE WHEN %s > delivered_position THEN %s ELSE delivered_position END, "
                "delivered_alert = CASE WHEN %s > delivered_alert THEN %s "
                "ELSE delivered_alert END WHERE subscription_id = %s",
                states,
            )

    def _delivered_pg(
        self,
        at: float,
        done: Sequence[tuple[Delivery, int, float]],
        states: Sequence[tuple[int, int, int, int, str]],
    ) -> None:
        """:meth:`delivered` on PostgreSQL: a statement per kind of row with all its rows as
        arrays (a statement per row, even pipelined, cost the delivery runner ~0.1 ms of CPU
        per delivery and PostgreSQL an execution each; issue 24). The rows are locked in id
        order first (and the states in subscription order), the order other writers of
        these rows take their locks in."""
        # A delivery sent twice before a write (sent again after a resync) counts twice.
        last: dict[int, tuple[int, float, int]] = {}
        for d, status, latency in done:
            last[d.id] = (status, latency, last.get(d.id, (0, 0.0, 0))[2] + 1)
        ids = list(last)
        keys = [key for *_, key in states]
        with self._tx() as tx:
            tx.execute(
                "INSERT INTO mlob_webhook_attempts (delivery_id, at, status, latency_ms, error) "
                "SELECT u.id, %s, u.status, u.latency, NULL FROM unnest(%s::bigint[], "
                "%s::bigint[], %s::float8[]) WITH ORDINALITY AS u(id, status, latency, n) "
                "ORDER BY u.n",
                (
                    at,
                    [d.id for d, _, _ in done],
                    [status for _, status, _ in done],
                    [latency for *_, latency in done],
                ),
            )
            tx.execute(
                "SELECT 1 FROM mlob_webhook_deliveries WHERE id = ANY(%s::bigint[]) "
                "ORDER BY id FOR UPDATE",
                (ids,),
            )
            tx.execute(
                "UPDATE mlob_webhook_deliveries AS d SET state = %s, "
                "attempts = d.attempts + u.times, "
                "first_attempt_at = COALESCE(d.first_attempt_at, %s), next_attempt_at = NULL, "
                "last_status = u.status, last_latency_ms = u.latency, last_error = NULL, "
                "delivered_at = %s FROM unnest(%s::bigint[], %s::bigint[], %s::float8[], "
                "%s::bigint[]) AS u(id, status, latency, times) WHERE d.id = u.id",
                (
                    DELIVERED,
                    at,
                    at,
                    ids,
                    [v[0] for v in last.values()],
                    [v[1] for v in last.values()],
                    [v[2] for v in last.values()],
                ),
            )
            tx.execute(
                "INSERT INTO mlob_webhook_state (subscription_id) "
                "SELECT k FROM unnest(%s::text[]) AS k ORDER BY k ON CONFLICT DO NOTHING",
                (keys,),
            )
            tx.execute(
                "SELECT 1 FROM mlob_webhook_state WHERE subscription_id = ANY(%s::text[]) "
                "ORDER BY subscription_id FOR UPDATE",
                (keys,),
            )
            tx.execute(
                "UPDATE mlob_webhook_state AS s SET "
                "delivered_position = GREATEST(s.delivered_position, u.position), "
                "delivered_alert = GREATEST(s.delivered_alert, u.alert) "
                "FROM unnest(%s::text[], %s::bigint[], %s::bigint[]) AS u(key, position, alert) "
                "WHERE s.subscription_id = u.key",
                (keys, [p for p, *_ in states], [a for _, _, a, *_ in states]),
            )

    def _state(self, tx: Any, subscription_id: str) -> None:
        tx.execute(
            "INSERT INTO mlob_webhook_state (subscription_id) VALUES (%s) ON CONFLICT DO NOTHING",
            (subscription_id,),
        )

    def states(self) -> dict[str, dict[str, Any]]:
        rows = self._rows(
            "SELECT subscription_id, failing_since, delivered_position, delivered_alert "
            "FROM mlob_webhook_state"
        )
        return {
            r[0]: {"failing_since": r[1], "delivered_position": r[2], "delivered_alert": r[3]}
            for r in rows
        }

    def resume(self, subscription_id: str) -> None:
        """A failing subscription goes on: its dead letters are queued again, in place."""
        with self._tx() as tx:
            self._state(tx, subscription_id)
            tx.execute(
                "UPDATE mlob_webhook_state SET failing_since = NULL WHERE subscription_id = %s",
                (subscription_id,),
            )
            tx.execute(
                "UPDATE mlob_webhook_deliveries SET state = %s, first_attempt_at = NULL, "
                "next_attempt_at = %s WHERE subscription_id = %s AND state = %s",
                (PENDING, time.time(), subscription_id, DEAD),
            )

    def redeliver(self, subscription_id: str, delivery_id: int) -> Delivery | None:
        """Send a delivery again: a dead letter in its place (its subscription resumes), a
        delivered one once more at the end of the queue, with the same webhook id."""
        found = self._deliveries(
            "subscription_id = %s AND id = %s", (subscription_id, delivery_id), 1
        )
        if not found:
            return None
        d = found[0]
        if d.state == DEAD:
            self.resume(subscription_id)
        elif d.state == DELIVERED:
            at = time.time()
            with self._tx() as tx:
                tx.execute(
                    "INSERT INTO mlob_webhook_deliveries (subscription_id, webhook_id, position, "
                    "alert_id, type, body, state, attempts, created_at, next_attempt_at) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, 0, %s, %s)",
                    (
                        *(d.subscription_id, d.webhook_id, d.position, d.alert_id, d.type),
                        *(d.body, PENDING, at, at),
                    ),
                )
        return self._deliveries(
            "subscription_id = %s AND webhook_id = %s", (subscription_id, d.webhook_id), 100
        )[-1]

    def drop_queue(self, subscription_id: str) -> None:
        """A deleted subscription's waiting deliveries are not sent (kept, marked dead)."""
        with self._tx() as tx:
            tx.execute(
                "UPDATE mlob_webhook_deliveries SET state = %s WHERE subscription_id = %s "
                "AND state = %s",
                (DEAD, subscription_id, PENDING),
            )

    # --- retention ---------------------------------------------------------------------------

    def delivery_ages(
        self, after: int, limit: int
    ) -> list[tuple[int, str, str, float, float | None]]:
        """The deliveries after id ``after`` (by the primary key: a bounded read), each with
        its subscription, state, and when it was queued and delivered."""
        rows = self._rows(
            "SELECT id, subscription_id, state, created_at, delivered_at "
            "FROM mlob_webhook_deliveries WHERE id > %s ORDER BY id LIMIT %s",
            (after, limit),
        )
        return [(int(r[0]), str(r[1]), str(r[2]), float(r[3]), r[4]) for r in rows]

    def prune_deliveries(self, ids: Sequence[int]) -> None:
        """These deliveries go, with their attempts (one transaction)."""
        self._prune("mlob_webhook_deliveries", "mlob_webhook_attempts", "delivery_id", ids)

    def _prune(self, table: str, children: str, parent: str, ids: Sequence[int]) -> None:
        """Rows of ``table`` go, with the rows of ``children`` whose ``parent`` names them."""
        if not ids:
            return
        marks = ", ".join(["%s"] * len(ids))
        with self._tx() as tx:
            tx.execute(f"DELETE FROM {children} WHERE {parent} IN ({marks})", ids)
            tx.execute(f"DELETE FROM {table} WHERE id IN ({marks})", ids)

    def alert_ages(self, after: int, upto: int, limit: int) -> list[dict[str, Any]]:
        """The alerts after id ``after`` up to ``upto`` (by the primary key)."""
        rows = self._rows(
            "SELECT id, subject, step, crossing, level, orgs, body, at FROM mlob_alerts "
            "WHERE id > %s AND id <= %s ORDER BY id LIMIT %s",
            (after, upto, limit),
        )
        return [_alert(r) for r in rows]

    def prune_alerts(self, ids: Sequence[int]) -> None:
        """These alerts go, with their acknowledgements (one transaction)."""
        self._prune("mlob_alerts", "mlob_alert_acks", "alert_id", ids)

    # --- alerts ------------------------------------------------------------------------------

    def add_alerts(self, alerts: Sequence[dict[str, Any]]) -> int:
        """Keep these alerts, each once per (subject, step, crossing) whoever adds it first
        (another node, an earlier run); the number new."""
        added = 0
        at = time.time()
        # One transaction; the unique key decides which is new (no look-up first).
        with self._tx() as tx:
            for a in alerts:
                inserted = tx.execute(
                    "INSERT INTO mlob_alerts (subject, step, crossing, level, orgs, body, at) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    (
                        a["subject"],
                        a["step"],
                        a["crossing"],
                        a["level"],
                        json.dumps(a["orgs"]),
                        json.dumps({"body": a["body"], "concerns": a["concerns"]}),
                        at,
                    ),
                )
                added += max(0, inserted.rowcount)
        return added

    def alerts_after(self, after: int, limit: int = 1000) -> list[dict[str, Any]]:
        rows = self._rows(
            "SELECT id, subject, step, crossing, level, orgs, body, at FROM mlob_alerts "
            "WHERE id > %s ORDER BY id LIMIT %s",
            (after, limit),
        )
        return [_alert(r) for r in rows]

    def alert(self, alert_id: int) -> dict[str, Any] | None:
        rows = self._rows(
            "SELECT id, subject, step, crossing, level, orgs, body, at FROM mlob_alerts "
            "WHERE id = %s",
            (alert_id,),
        )
        return _alert(rows[0]) if rows else None

    def last_alert(self) -> int:
        rows = self._rows("SELECT MAX(id) FROM mlob_alerts")
        return int(rows[0][0] or 0)

    def ack(
        self, alert_id: int, org: str, role: str, person: str | None, token: str | None
    ) -> bool:
        """Record an organisation's acknowledgement; False: it acknowledged it before."""
        # The unique key decides: two acknowledgements at once are one, and no 500.
        with self._tx() as tx:
            inserted = tx.execute(
                "INSERT INTO mlob_alert_acks (alert_id, org, role, person, token_id, at) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (alert_id, org, role, person, token, time.time()),
            )
            return bool(inserted.rowcount > 0)

    def acks(self, alert_id: int) -> list[dict[str, Any]]:
        return self.acks_of([alert_id]).get(alert_id, [])

    def acks_of(self, alert_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
        """The acknowledgements of these alerts, in one query."""
        rows = self._rows_in(
            "SELECT alert_id, org, role, person, at FROM mlob_alert_acks "
            "WHERE alert_id IN ({ids}) ORDER BY id",
            alert_ids,
        )
        found: dict[int, list[dict[str, Any]]] = {}
        for alert_id, org, role, person, at in rows:
            found.setdefault(int(alert_id), []).append(
                {
                    "org": org,
                    "role": role,
                    "person": person,
                    "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at)),
                }
            )
        return found


class _Moved(Exception):
    """The runner's cursor moved under it (another runner): nothing of the batch is written."""


CursorMoved = _Moved


def _alert(r: Sequence[Any]) -> dict[str, Any]:
    stored = json.loads(r[6])
    return {
        "id": int(r[0]),
        "subject": r[1],
        "step": r[2],
        "crossing": r[3],
        "level": int(r[4]),
        "orgs": json.loads(r[5]),
        "body": stored["body"],
        "concerns": stored["concerns"],
        "at": float(r[7]),
    }


class _PgRun:
    """``execute``/``executemany`` over a psycopg connection (in its transaction)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.conn.execute(sql, tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
        with self.conn.cursor() as cur:
            cur.executemany(sql, [tuple(r) for r in rows])

    def inserted(self, sql: str, rows: Sequence[Sequence[Any]]) -> list[int]:
        """An ``INSERT ... RETURNING id`` per row, in one round trip: the ids, in order."""
        with self.conn.cursor() as cur:
            cur.executemany(sql, [tuple(r) for r in rows], returning=True)
            return [int(row[0]) for _ in cur.results() for row in cur.fetchall()]


class _SqliteRun:
    """``execute``/``executemany`` with ``%s`` placeholders over a sqlite3 connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql.replace("%s", "?"), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> sqlite3.Cursor:
        return self.conn.executemany(sql.replace("%s", "?"), [tuple(r) for r in rows])

    def inserted(self, sql: str, rows: Sequence[Sequence[Any]]) -> list[int]:
        """An ``INSERT ... RETURNING id`` per row (sqlite3's executemany returns no rows)."""
        return [int(self.execute(sql, r).fetchone()[0]) for r in rows]
