"""Prometheus metrics of the API and the feed, and ``/metrics`` itself (``prometheus-client``).

Counted for every request, the bare write path (``POST /v1/events``, which skips the
framework) included: by route template (never a path with ids), method and status. Labels never
carry an organisation, a subject id or a classification. With ``PROMETHEUS_MULTIPROC_DIR`` set
(``mlob serve --workers N`` sets it) the figures of every worker process are summed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter(
    "mlob_http_requests",
    "HTTP requests by route template, method and status",
    ["route", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "mlob_http_request_seconds",
    "Time to answer an HTTP request, by route template",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
REFUSALS = Counter("mlob_refusals", "Refusals answered, by code", ["code"])
FEED_CONNECTIONS = Gauge(
    "mlob_feed_connections", "Open feed connections", multiprocess_mode="livesum"
)
FEED_FRAMES = Counter("mlob_feed_frames", "Feed frames sent (events and rows)")
FEED_RESYNCS = Counter("mlob_feed_resyncs", "Feed clients told to resync (they fell behind)")
FEED_CLOSES = Counter(
    "mlob_feed_closes", "Feed connections the server closed, by close code", ["code"]
)

#: The route label of paths no route serves (never the path itself: it may hold ids).
UNMATCHED = "unmatched"


def route_of(scope: Scope) -> str:
    """The template of the route that served ``scope`` (set by the router), else ``unmatched``."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


async def counted(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, route: str | None
) -> None:
    """Run ``app`` for an HTTP request and count it (``route``: known beforehand, else from the
    router's match)."""
    started = time.perf_counter()
    status = 500

    async def sending(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        await send(message)

    try:
        await app(scope, receive, sending)
    finally:
        label = route or route_of(scope)
        REQUESTS.labels(label, scope["method"], str(status)).inc()
        REQUEST_SECONDS.labels(label).observe(time.perf_counter() - started)


class StoreCollector(Collector):
    """Figures read from the store at scrape time: each projection's position and lag, the age
    of the newest signed chain checkpoint (from the service's readiness figures)."""

    def __init__(self, figures: Callable[[], dict[str, dict[str, Any]]]) -> None:
        self.figures = figures

    def collect(self) -> Iterable[GaugeMetricFamily]:
        try:
            checks = self.figures()
        except Exception:  # a scrape while the store is away: no store figures
            return
        up = GaugeMetricFamily("mlob_store_up", "Whether the store answered this scrape")
        up.add_metric([], 1.0 if checks.get("store", {}).get("ok") else 0.0)
        yield up
        lag = GaugeMetricFamily(
            "mlob_projection_lag_events",
            "Events recorded but not yet projected",
            labels=["projection"],
        )
        for name, value in checks.get("projections", {}).get("lag", {}).items():
            lag.add_metric([name], float(value))
        yield lag
        position = GaugeMetricFamily("mlob_store_last_position", "The newest recorded position")
        position.add_metric([], float(checks.get("store", {}).get("last_position", 0)))
        yield position
        age = checks.get("chain_checkpoint", {}).get("age_s")
        if age is not None:
            family = GaugeMetricFamily(
                "mlob_chain_checkpoint_age_seconds", "Age of the newest signed chain checkpoint"
            )
            family.add_metric([], float(age))
            yield family


def render(store: Collector) -> tuple[bytes, str]:
    """The metrics text: this process's (in multiprocess mode every worker's, summed) and the
    store's figures, read now."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        workers = CollectorRegistry()
        multiprocess.MultiProcessCollector(workers)  # type: ignore[no-untyped-call]
        body = generate_latest(workers)
    else:
        body = generate_latest(REGISTRY)
    now = CollectorRegistry()
    now.register(store)
    return body + generate_latest(now), CONTENT_TYPE_LATEST
