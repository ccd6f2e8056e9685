"""Baselines measured in the same run as mlob (see bench/run.sh).

- raw psycopg: single-row INSERT + COMMIT from 32 connections (plain code, nothing else);
- the eventsourcing library (9.5) on PostgreSQL: one event per save (8 threads) and 100 events
  per save.
Each prints one JSON line. With a last argument ``library`` only the library's two runs
(bench.py runs them again after mlob's runs: this machine's speed drifts within minutes).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event


def run_threads(worker: Callable[[int], None], count: int) -> float:
    """Run ``worker(0)`` .. ``worker(count - 1)`` in threads at once; the seconds they took."""
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - began


def raw_psycopg(dsn: str, connections: int = 32, seconds: float = 10.0) -> dict[str, Any]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_raw")
        conn.execute("CREATE TABLE bench_raw (id bigserial PRIMARY KEY, v text NOT NULL)")
    counts = [0] * connections
    stop = time.perf_counter() + seconds

    def worker(i: int) -> None:
        with psycopg.connect(dsn) as conn:
            while time.perf_counter() < stop:
                conn.execute("INSERT INTO bench_raw (v) VALUES (%s)", ("x" * 100,))
                conn.commit()
                counts[i] += 1

    elapsed = run_threads(worker, connections)
    return {
        "baseline": "raw psycopg INSERT+COMMIT",
        "connections": connections,
        "rows_per_s": round(sum(counts) / elapsed),
    }


class Dog(Aggregate):
    @event("Registered")
    def __init__(self, name: str) -> None:
        self.name = name
        self.tricks: list[str] = []

    @event("TrickAdded")
    def add_trick(self, trick: str) -> None:
        self.tricks.append(trick)


def eventsourcing_library(
    env: dict[str, str], per_save: int, threads: int, seconds: float
) -> dict[str, Any]:
    app = Application(env={**env})
    counts = [0] * threads
    stop = time.perf_counter() + seconds

    def worker(i: int) -> None:
        while time.perf_counter() < stop:
            dog = Dog(name=str(uuid4()))
            for n in range(per_save - 1):
                dog.add_trick(f"trick {n}")
            app.save(dog)
            counts[i] += per_save

    elapsed = run_threads(worker, threads)
    app.close()
    return {
        "baseline": f"eventsourcing {per_save} event(s) per save",
        "threads": threads,
        "events_per_s": round(sum(counts) / elapsed),
    }


if __name__ == "__main__":
    dsn, schema = sys.argv[1], sys.argv[2]
    host, port, user, dbname = sys.argv[3:7]
    only_library = sys.argv[7:8] == ["library"]  # the bracket after mlob's runs
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": host,
        "POSTGRES_PORT": port,
        "POSTGRES_USER": user,
        "POSTGRES_PASSWORD": "",
        "POSTGRES_SCHEMA": schema,
        "POSTGRES_POOL_SIZE": "8",
    }
    if not only_library:
        print(json.dumps(raw_psycopg(dsn)), flush=True)
    print(json.dumps(eventsourcing_library(env, 1, 8, 10.0)), flush=True)
    print(json.dumps(eventsourcing_library(env, 100, 2, 10.0)), flush=True)
