"""Configuration from the environment: one variable, ``MLOB_DATABASE_URL``, chooses the store."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from projections.readmodels import DEFAULT_TARGETS, Targets

DEFAULT_DATABASE_URL = "sqlite:///var/mlob.sqlite3"


class ConfigError(Exception):
    """The configuration cannot work; the message is one line for the operator."""


@dataclass(frozen=True)
class StoreConfig:
    kind: Literal["sqlite", "postgresql"]
    sqlite_path: Path | None = None
    host: str = ""
    port: int = 5432
    user: str = ""
    password: str = ""
    dbname: str = ""
    schema: str = ""

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
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": self.dbname,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
            "POSTGRES_SCHEMA": self.schema,
            "POSTGRES_CONNECT_TIMEOUT": "5",
            "POSTGRES_POOL_SIZE": "4",
            "POSTGRES_MAX_OVERFLOW": "8",
            "POSTGRES_LOCK_TIMEOUT": "10",
            # Leave DB functions off: they break ordering and tracking in 9.5.
            "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
            "APPLICATION_RECORDER_TOPIC": "mlob.store.recorders:MlobPostgresRecorder",
        }

    def describe(self) -> str:
        """Where the store is, without secrets."""
        if self.kind == "sqlite":
            return f"sqlite:///{self.sqlite_path}"
        schema = f" (schema {self.schema})" if self.schema else ""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}{schema}"


def parse_database_url(url: str) -> StoreConfig:
    """``sqlite:///relative/path``, ``sqlite:////absolute/path`` or
    ``postgresql://user[:password]@host[:port]/dbname[?schema=name]``."""
    url = url.strip()
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if not path or path.endswith("/"):
            raise ConfigError(f"MLOB_DATABASE_URL {url!r} names no SQLite file")
        return StoreConfig(kind="sqlite", sqlite_path=Path(path))
    parts = urlsplit(url)
    if parts.scheme in ("postgresql", "postgres"):
        dbname = parts.path.lstrip("/")
        try:
            port = parts.port or 5432
        except ValueError:
            raise ConfigError(f"MLOB_DATABASE_URL {url!r} has an invalid port") from None
        if not parts.hostname or not dbname or "/" in dbname:
            raise ConfigError(
                f"MLOB_DATABASE_URL {url!r} must look like postgresql://user@host:port/dbname"
            )
        schema = ""
        for pair in filter(None, parts.query.split("&")):
            key, _, value = pair.partition("=")
            if key != "schema" or not value.isidentifier():
                raise ConfigError(f"MLOB_DATABASE_URL option {pair!r} is not understood")
            schema = value
        return StoreConfig(
            kind="postgresql",
            host=parts.hostname,
            port=port,
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
            dbname=unquote(dbname),
            schema=schema,
        )
    raise ConfigError(
        f"MLOB_DATABASE_URL {url!r} is neither sqlite:///path nor postgresql://user@host/dbname"
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
    return Settings(
        store=store,
        database_url=url,
        projections_in_process=mode == "in-process",
        board_targets=parse_targets(targets)
        if (targets := env.get("MLOB_BOARD_TARGETS"))
        else None,
        audit_key=key.encode() if key else None,
        picture_checkpoint_every=int(every),
    )
