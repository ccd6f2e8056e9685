"""EXPLAIN ANALYZE of the webhook runner's backlog query, before (a DISTINCT over the waiting
deliveries) and after (one probe per subscription: ``HookStore.backlog``), on a PostgreSQL
schema of 1,000,000 deliveries (200,000 waiting). Run from the repository root:
``python -m bench.explain_backlog`` (the tests' database settings); the schema is dropped
afterwards."""

from __future__ import annotations

import time
import uuid

import psycopg

from mlob.write.application import MlobApplication
from tests.conftest import _dsn, postgres_config

LOAD = (
    "INSERT INTO mlob_webhook_deliveries (subscription_id, webhook_id, position, type, body, "
    "state, created_at) SELECT (%s::text[])[1 + (g %% 100)], 'msg_' || g, g, 'request.x', "
    "'{}', CASE WHEN g %% 5 = 0 THEN 'pending' ELSE 'delivered' END, 0 "
    "FROM generate_series(1, 1000000) g"
)
BEFORE = "SELECT DISTINCT subscription_id FROM mlob_webhook_deliveries WHERE state = %s"
AFTER = (
    "SELECT c.column1 FROM (VALUES {values}) AS c WHERE EXISTS (SELECT 1 FROM "
    "mlob_webhook_deliveries d WHERE d.subscription_id = c.column1 AND d.state = %s)"
)


def main() -> None:
    schema = f"t_backlog_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        MlobApplication(postgres_config(schema)).close()  # the schema, migrated
        subs = [str(uuid.uuid4()) for _ in range(100)]
        with psycopg.connect(_dsn(), autocommit=True) as conn:
            conn.execute(f'SET search_path TO "{schema}"')
            started = time.time()
            conn.execute(LOAD, (subs,))
            conn.execute("ANALYZE mlob_webhook_deliveries")
            print(f"loaded in {time.time() - started:.1f} s")
            after = AFTER.format(values=", ".join(["(%s)"] * len(subs)))
            for name, sql, params in (
                ("before", BEFORE, ("pending",)),
                ("after", after, (*subs, "pending")),
            ):
                for _ in range(2):  # the second run's plan: warm buffers
                    plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).fetchall()
                print(f"== {name}")
                print("\n".join(r[0] for r in plan))
    finally:
        with psycopg.connect(_dsn(), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main()
