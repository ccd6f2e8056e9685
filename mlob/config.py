"""Configuration from the environment: one variable, ``MLOB_DATABASE_URL``, chooses the store."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, quote, urlencode

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from api.lanes import DEFAULT_READ_CONCURRENCY
from api.ratelimit import RateLimit
from domain.subscription import insecure_hosts
from projections.readmodels import DEFAULT_TARGETS, Targets

DEFAULT_DATABASE_URL = "sqlite:///var/mlob.sqlite3"
#: libpq's ``connect_timeout`` (s, per host) for mlob's connections unless the URL gives one.
CONNECT_TIMEOUT = "5"


class ConfigError(Exception):
    """The configuration cannot work; the message is one line for the operator."""


@dataclass(frozen=True)
class StoreConfig:
    """Where the events live: a SQLite file, or a PostgreSQL database named by a libpq
    connection string (every libpq parameter: TLS, several hosts, target_session_attrs, ...)
    plus mlob's own ``schema``."""

    kind: Literal["sqlite", "postgresql"]
    sqlite_path: Path | None = None
    #: libpq's keyword/value connection string, password included; never logged.
    conninfo: str = ""
    schema: str = ""

    @classmethod
    def postgresql(cls, conninfo: str = "", schema: str = "", **params: str | int) -> StoreConfig:
        """A PostgreSQL store from a connection string and/or libpq parameters."""
        return cls(kind="postgresql", conninfo=make_conninfo(conninfo, **params), schema=schema)

    @property
    def params(self) -> dict[str, str]:
        """The libpq parameters (what a driver's ``connect(**params)`` takes)."""
        return {k: str(v) for k, v in conninfo_to_dict(self.conninfo).items()}

    def _connect_timeout(self) -> dict[str, str]:
        """A connect timeout unless one is given: without one libpq waits for the kernel to
        give up on a host that does not answer (minutes) before it tries the next host."""
        return {} if "connect_timeout" in self.params else {"connect_timeout": CONNECT_TIMEOUT}

    @property
    def connect_params(self) -> dict[str, str]:
        """The libpq parameters for one of mlob's connections: ``params`` with the connect
        timeout (the migrations' connection takes them one by one)."""
        return {**self.params, **self._connect_timeout()}

    def pool_wait(self) -> str:
        """Seconds a request waits for a pooled connection: long enough for one connection
        attempt through every host (each may take the connect timeout), so a first host that
        does not answer costs time, not an error."""
        timeout = self.params.get("connect_timeout", CONNECT_TIMEOUT)
        if not timeout.isdigit() or int(timeout) <= 0:
            # libpq's "wait forever" (0) is for a connection attempt; a pool wait of 0 would
            # refuse every request that finds the pool busy, so it waits the default instead.
            timeout = CONNECT_TIMEOUT
        hosts = len(self.params.get("host", "").split(","))
        return str(max(int(timeout), 2) * hosts)  # libpq waits at least 2 s for a host

    def connect_info(self) -> str:
        """The connection string for mlob's own connections: a connect timeout unless one is
        given, and the schema as the search path."""
        extra = self._connect_timeout()
        if self.schema:
            extra["options"] = f"{self.params.get('options', '')} -csearch_path={self.schema}"
        return make_conninfo(self.conninfo, **extra)

    def eventsourcing_env(self) -> dict[str, str]:
        """The eventsourcing 9.5 environment for this store."""
        if self.kind == "sqlite":
            assert self.sqlite_path is not None
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.sqlite_path),
                "SQLITE_LOCK_TIMEOUT": "10",
                "APPLICATION_RECORDER_TOPIC": "mlob.store.recorders:MlobSQLiteRecorder",
            }
        params = self.params
        return {
            # The library's factory, connecting with the whole connection string (it alone
            # would pass only host, port, user, password and dbname).
            "PERSISTENCE_MODULE": "mlob.store.factory:MlobPostgresFactory",
            "POSTGRES_CONNINFO": make_conninfo(self.conninfo, **self._connect_timeout()),
            # Required by the library's factory; the connection string above is what counts.
            "POSTGRES_DBNAME": params.get("dbname", ""),
            "POSTGRES_HOST": params.get("host", ""),
            "POSTGRES_PORT": params.get("port", ""),
            "POSTGRES_USER": params.get("user", ""),
            "POSTGRES_PASSWORD": "",
            "POSTGRES_SCHEMA": self.schema,
            # The pool's wait for a connection (a request's, and its first one's at start).
            "POSTGRES_CONNECT_TIMEOUT": self.pool_wait(),
            "POSTGRES_POOL_SIZE": "4",
            "POSTGRES_MAX_OVERFLOW": "8",
            "POSTGRES_LOCK_TIMEOUT": "10",
            # Check a pooled connection before lending it: after the server dropped them (a
            # restart, a failover) the next write gets a fresh one, not one 503 per stale one.
            "POSTGRES_PRE_PING": "y",
            # Leave DB functions off: they break ordering and tracking in 9.5.
            "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
            "APPLICATION_RECORDER_TOPIC": "mlob.store.recorders:MlobPostgresRecorder",
        }

    def describe(self) -> str:
        """Where the store is, without secrets."""
        if self.kind == "sqlite":
            return f"sqlite:///{self.sqlite_path}"
        params = self.params
        where = f"{params.get('user', '')}@{params.get('host', '(local socket)')}"
        if "port" in params:
            where += f" port {params['port']}"
        schema = f" (schema {self.schema})" if self.schema else ""
        return f"postgresql {where} database {params.get('dbname', '')}{schema}"


#: libpq parameters with a fixed set of values: checked when read, so a typo is one clear
#: line at start rather than a connection error later.
_CHOICES = {
    "sslmode": ("disable", "allow", "prefer", "require", "verify-ca", "verify-full"),
    "target_session_attrs": (
        "any",
        "read-write",
        "read-only",
        "primary",
        "standby",
        "prefer-standby",
    ),
    "gssencmode": ("disable", "prefer", "require"),
}


#: ``schema=name`` in a key=value connection string (a schema is a plain name: no quoting).
_SCHEMA_PAIR = re.compile(r"(?:^|\s)schema\s*=\s*(?P<value>'[^']*'|\S+)")


def _without_schema(url: str) -> tuple[str, str]:
    """libpq knows no ``schema``: take mlob's own parameter out of a URL or key=value string."""
    if "://" in url:
        base, _, query = url.partition("?")
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
        schemas = [v for k, v in pairs if k == "schema"]
        others = [(k, v) for k, v in pairs if k != "schema"]
        return (f"{base}?{urlencode(others, quote_via=quote)}" if others else base), (
            schemas[-1] if schemas else ""
        )
    found = _SCHEMA_PAIR.search(url)
    if found is None:
        return url, ""
    rest = url[: found.start()] + " " + url[found.end() :]
    return rest, found.group("value").strip("'")


def _postgresql(url: str) -> StoreConfig:
    try:
        conninfo, schema = _without_schema(url)
        params = conninfo_to_dict(conninfo)
    except (psycopg.ProgrammingError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "not understood"
        raise ConfigError(
            f"MLOB_DATABASE_URL is not a PostgreSQL URL libpq accepts: {reason}"
        ) from None
    if schema and not schema.isidentifier():
        raise ConfigError(f"MLOB_DATABASE_URL schema {schema!r} is not a plain name")
    if not params.get("dbname"):
        raise ConfigError(
            "MLOB_DATABASE_URL names no database (postgresql://user@host:port/dbname)"
        )
    for key, choices in _CHOICES.items():
        if key in params and params[key] not in choices:
            raise ConfigError(
                f"MLOB_DATABASE_URL {key}={params[key]!r}: use one of {', '.join(choices)}"
            )
    hosts = str(params.get("host", "")).split(",")
    ports = str(params.get("port", "")).split(",") if params.get("port") else []
    for port in ports:
        if port and not (port.isdigit() and 0 < int(port) < 65536):
            raise ConfigError(f"MLOB_DATABASE_URL port {port!r} is not a port number")
    if len(ports) > 1 and len(ports) != len(hosts):
        raise ConfigError(
            f"MLOB_DATABASE_URL names {len(hosts)} hosts and {len(ports)} ports: give one port "
            "for all or one per host"
        )
    if "user" not in params:  # libpq would take the operating-system user
        params["user"] = "postgres"
    return StoreConfig(kind="postgresql", conninfo=make_conninfo("", **params), schema=schema)


def parse_database_url(url: str) -> StoreConfig:
    """``sqlite:///relative/path``, ``sqlite:////absolute/path``, or a libpq connection URL
    (``postgresql://user[:password]@host[:port][,host2[:port2]...]/dbname[?param=value&...]``)
    or key=value string, with any libpq parameter (``sslmode``, ``target_session_attrs``, ...)
    and mlob's own ``schema``."""
    url = url.strip()
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if not path or path.endswith("/"):
            raise ConfigError(f"MLOB_DATABASE_URL {url!r} names no SQLite file")
        return StoreConfig(kind="sqlite", sqlite_path=Path(path))
    if url.startswith(("postgresql://", "postgres://")) or ("://" not in url and "=" in url):
        return _postgresql(url)
    scheme = f" ({url.split('://', 1)[0]}://)" if "://" in url else ""
    raise ConfigError(  # the value itself may hold a password: named by its scheme only
        f"MLOB_DATABASE_URL{scheme} is neither sqlite:///path nor postgresql://user@host/dbname"
    )


@dataclass(frozen=True)
class Settings:
    store: StoreConfig
    database_url: str
    #: Run the projections inside the server (default) or only in ``mlob worker`` processes.
    projections_in_process: bool = True
    #: ``MLOB_BOARD_TARGETS`` (None: not set): stored at the first start only; from then on
    #: the stored targets hold for every process (``mlob board targets set`` changes them).
    board_targets: Targets | None = None
    #: The key that signs chain checkpoints (``MLOB_AUDIT_KEY``); kept out of the database.
    audit_key: bytes | None = None
    #: Positions between two picture checkpoints (``MLOB_PICTURE_CHECKPOINT_EVERY``; 0: none).
    picture_checkpoint_every: int = 10_000
    #: ``MLOB_RATE_LIMIT``: requests per token on each node (None: not limited).
    rate_limit: RateLimit | None = None
    #: ``MLOB_LOG_FORMAT``: plain lines or one JSON object per line (mlob/logs.py).
    log_format: Literal["plain", "json"] = "plain"
    #: ``MLOB_READ_CONCURRENCY``: reads served at once per process (api/lanes.py).
    read_concurrency: int = DEFAULT_READ_CONCURRENCY
    #: ``MLOB_WEBHOOK_KEY``: seals subscriptions' signing secrets (None: no subscriptions).
    webhook_key: str | None = None
    #: ``MLOB_WEBHOOK_INSECURE_HOSTS``: hosts a webhook may reach over http, or privately.
    webhook_insecure_hosts: tuple[str, ...] = ("127.0.0.1", "localhost")
    #: ``MLOB_WEBHOOK_RETENTION_DAYS``: days delivered webhooks and old alerts are kept.
    webhook_retention_days: int = 30
    #: ``MLOB_WORKER_NICE``: what ``mlob worker`` adds to its niceness (its projections and
    #: webhook deliveries yield the CPU to the servers answering posts; 0: not lowered).
    worker_nice: int = 10


def _minutes(text: str) -> int:
    minutes = int(text)
    if minutes < 1:
        raise ValueError(text)  # a target of no time would make everything overdue at once
    return minutes


def parse_targets(
    text: str, base: Targets = DEFAULT_TARGETS, source: str = "MLOB_BOARD_TARGETS"
) -> Targets:
    """``MLOB_BOARD_TARGETS`` (and ``mlob board targets set``): comma-separated
    ``status=urgent/normal`` minutes, and ``formalisation=minutes``; e.g.
    ``received=60/1440,formalisation=720``. What is not named keeps ``base``'s value."""
    steps = dict(base.steps)
    formalisation = base.formalisation
    for pair in filter(None, (p.strip() for p in text.split(","))):
        key, _, value = pair.partition("=")
        try:
            if key == "formalisation":
                formalisation = _minutes(value)
                continue
            if key not in steps:
                raise ConfigError(
                    f"{source}: {key!r} is not one of {', '.join(sorted(steps))}, formalisation"
                )
            urgent, _, normal = value.partition("/")
            steps[key] = (_minutes(urgent), _minutes(normal))
        except ValueError:
            raise ConfigError(f"{source}: {pair!r} is not key=minutes") from None
    return Targets(steps=steps, formalisation=formalisation)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    url = env.get("MLOB_DATABASE_URL") or DEFAULT_DATABASE_URL
    mode = env.get("MLOB_PROJECTIONS", "in-process")
    if mode not in ("in-process", "workers"):
        raise ConfigError(f"MLOB_PROJECTIONS {mode!r}: use in-process or workers")
    store = parse_database_url(url)
    if mode == "workers" and store.kind == "sqlite":
        raise ConfigError("MLOB_PROJECTIONS=workers needs PostgreSQL; SQLite runs them in-process")
    key = env.get("MLOB_AUDIT_KEY", "")
    if key and len(key) < 32:
        raise ConfigError("MLOB_AUDIT_KEY must be at least 32 characters (e.g. 32 bytes as hex)")
    every = env.get("MLOB_PICTURE_CHECKPOINT_EVERY", "10000")
    if not every.isdigit() or 0 < int(every) < 1000:
        raise ConfigError(
            f"MLOB_PICTURE_CHECKPOINT_EVERY {every!r}: a number of positions, at least 1000 "
            "(or 0: no picture checkpoints)"
        )
    rate_limit = None
    if limit := env.get("MLOB_RATE_LIMIT", "").strip():
        try:
            rate_limit = RateLimit.parse(limit)
        except ValueError:
            raise ConfigError(
                f"MLOB_RATE_LIMIT {limit!r}: give e.g. 20/s, 600/min or 20/s,burst=40"
            ) from None
    reads = env.get("MLOB_READ_CONCURRENCY", str(DEFAULT_READ_CONCURRENCY)).strip()
    if not reads.isdigit() or not 1 <= int(reads) <= 256:
        raise ConfigError(f"MLOB_READ_CONCURRENCY {reads!r}: a number of reads, 1 to 256")
    log_format = env.get("MLOB_LOG_FORMAT", "plain")
    if log_format not in ("plain", "json"):
        raise ConfigError(f"MLOB_LOG_FORMAT {log_format!r}: use plain or json")
    webhook_key = env.get("MLOB_WEBHOOK_KEY", "")
    if webhook_key and len(webhook_key) < 32:
        raise ConfigError("MLOB_WEBHOOK_KEY must be at least 32 characters (e.g. 32 bytes as hex)")
    retention = env.get("MLOB_WEBHOOK_RETENTION_DAYS", "30").strip()
    if not retention.isdigit() or not 1 <= int(retention) <= 36500:
        raise ConfigError(f"MLOB_WEBHOOK_RETENTION_DAYS {retention!r}: a number of days, 1 or more")
    nice = env.get("MLOB_WORKER_NICE", "10").strip()
    if not nice.isdigit() or not 0 <= int(nice) <= 19:
        raise ConfigError(f"MLOB_WORKER_NICE {nice!r}: a niceness to add, 0 to 19")
    return Settings(
        worker_nice=int(nice),
        webhook_key=webhook_key or None,
        webhook_retention_days=int(retention),
        webhook_insecure_hosts=insecure_hosts(env.get("MLOB_WEBHOOK_INSECURE_HOSTS")),
        log_format="json" if log_format == "json" else "plain",
        rate_limit=rate_limit,
        read_concurrency=int(reads),
        store=store,
        database_url=url,
        projections_in_process=mode == "in-process",
        board_targets=parse_targets(targets)
        if (targets := env.get("MLOB_BOARD_TARGETS"))
        else None,
        audit_key=key.encode() if key else None,
        picture_checkpoint_every=int(every),
    )
