"""The composition root: configuration in, a wired application service out."""

from __future__ import annotations

import gc
import sys
from typing import TYPE_CHECKING

import psycopg
from eventsourcing.persistence import PersistenceError

from mlob.config import ConfigError, Settings, StoreConfig
from mlob.read.readstore import open_read_store
from mlob.runners.hookstore import HookStore
from mlob.runners.projector import Projections
from mlob.runners.webhooks import RETENTION_DAYS, Retry, WebhookRunner
from mlob.service import Service
from mlob.subscriptions import Webhooks
from mlob.write.application import MlobApplication
from mlob.write.writer import first_line
from projections.readmodels import Targets
from projections.specs import PROJECTIONS

if TYPE_CHECKING:
    from fastapi import FastAPI


class StartupError(Exception):
    """mlob cannot start; the message is one line for the operator."""


def _probe_postgres(store: StoreConfig) -> None:
    """Connect once directly, so the operator sees the server's own reason on failure."""
    with psycopg.connect(store.connect_info()):
        pass


def open_application(settings: Settings) -> MlobApplication:
    store = settings.store
    try:
        if store.sqlite_path is not None:
            store.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        else:
            _probe_postgres(store)
        return MlobApplication(store)
    except (PersistenceError, OSError, psycopg.Error) as exc:
        raise StartupError(f"cannot open the store {store.describe()}: {first_line(exc)}") from None


#: How often (s) Python lets another thread take the GIL. The default 5 ms makes a request
#: wait behind the writer thread (or the writer behind the event loop); 1 ms keeps latency low.
SWITCH_INTERVAL = 0.001
#: ``mlob worker`` answers no requests: Python's default. Its threads (projection runners,
#: the webhook runner and its one sender thread) waiting for the GIL would each wake every 1 ms
#: to ask for it (with a thread per subscription, as the lanes once were: 600,000 context
#: switches in 20 s at 400 deliveries/s).
WORKER_SWITCH_INTERVAL = 0.005


def open_projections(service: Service, targets: Targets | None = None) -> Projections:
    """The read models of this store, attached to the service; started by the caller. The
    board's targets are the stored ones; ``targets`` (``MLOB_BOARD_TARGETS``, else the
    defaults) are stored only when none are yet."""
    app = service.app
    store = open_read_store(app.store, [p.name for p in PROJECTIONS])
    projections = Projections(app, store, clock=service.clock)
    projections.seed_targets(targets)
    service.attach_projections(projections)
    return projections


def open_webhooks(
    service: Service,
    key: str | None,
    insecure_hosts: tuple[str, ...] = ("127.0.0.1", "localhost"),
    retry: Retry | None = None,
    retention_days: int = RETENTION_DAYS,
    nice: int = 0,
) -> WebhookRunner:
    """Subscriptions for the API (``service.webhooks``) and their delivery runner (started by
    the caller; one is active across all processes)."""
    hooks = HookStore(service.app.store, key)
    webhooks = Webhooks(service, hooks, insecure_hosts)
    runner = WebhookRunner(
        service,
        hooks,
        retry=retry or Retry(),
        insecure_hosts=insecure_hosts,
        retention_days=retention_days,
        nice=nice,
    )
    webhooks.on_change = runner.changed
    webhooks.runner = runner
    service.webhooks = webhooks
    return runner


def tune_runtime(switch_interval: float = SWITCH_INTERVAL) -> None:
    """Process settings for a long-running mlob process."""
    sys.setswitchinterval(switch_interval)
    # Projection runners and the writer keep many aggregates in memory; with the default
    # thresholds every full collection walks them all again (measured: a rebuild ~16% slower).
    gc.set_threshold(50_000, 20, 100)


def build_web_app(settings: Settings) -> tuple[FastAPI, Service]:
    # Imported here: the web app's modules (FastAPI, the EDXL schemas) are a third of a
    # second that the other commands (``mlob audit``, ``mlob token``, workers) need not pay.
    from api.app import create_app

    tune_runtime()
    service = Service(open_application(settings))
    projections = open_projections(service, settings.board_targets)
    projections.audit_key = settings.audit_key
    projections.picture_every = settings.picture_checkpoint_every
    runner = open_webhooks(
        service,
        settings.webhook_key,
        settings.webhook_insecure_hosts,
        retention_days=settings.webhook_retention_days,
        nice=settings.webhook_nice,
    )
    if settings.projections_in_process:
        projections.start()
        runner.start()
    return create_app(service, settings.rate_limit, settings.read_concurrency), service


__all__ = ["ConfigError", "Service", "StartupError", "build_web_app", "open_application"]
