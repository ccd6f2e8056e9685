"""Prometheus metrics of the write side and the store's connections (``prometheus-client``).

Labels never carry an organisation, a subject id or a classification: only fixed words
(outcomes). The API renders them at ``/metrics`` (api/metrics.py), summed over the worker
processes of ``mlob serve --workers N`` (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

WRITE_GROUP_SIZE = Histogram(
    "mlob_write_group_appends",
    "Appends (posts) committed together in one transaction by the group writer",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
WRITE_GROUP_EVENTS = Histogram(
    "mlob_write_group_events",
    "Events committed together in one transaction",
    buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000),
)
COMMIT_SECONDS = Histogram(
    "mlob_commit_seconds",
    "Time of one group commit in the store (the transaction's round trips)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
COMMITS = Counter(
    "mlob_commits",
    "Group commits by outcome: committed, conflict (run again on fresh state), lost (the "
    "connection failed during the commit), failed",
    ["outcome"],
)
LISTEN_CONNECTS = Counter(
    "mlob_listen_connects", "LISTEN connections made (the first and every reconnect)"
)
