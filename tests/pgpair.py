"""A PostgreSQL 15 primary and a streaming-replication standby of it, as two throwaway clusters
in a temporary directory on free ports (issue 20, failover). The recipe in docs/scaling.md is
the same steps by hand.

The clusters run as the ``postgres`` user (PostgreSQL refuses to run as root): when this
process is root, every PostgreSQL program is run through ``runuser -u postgres --``.
:meth:`Pair.remove` stops both (``-m immediate``, then SIGKILL by the postmaster's pid) and
deletes the directory; it never touches any other cluster.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from tests.servers import free_port

PG_BIN = Path(os.environ.get("MLOB_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
#: The standby's name: its ``application_name`` towards the primary, and what the primary's
#: ``synchronous_standby_names`` waits for.
STANDBY_NAME = "mlob_standby"
DATABASE = "mlob"


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _run(*command: str, timeout: float = 60) -> str:
    done = subprocess.run(
        _as_postgres(list(command)), capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: {done.stdout}{done.stderr}")
    return done.stdout


class Cluster:
    """One PostgreSQL cluster (a data directory) listening on 127.0.0.1:``port``."""

    def __init__(self, root: Path, name: str) -> None:
        self.root = root
        self.name = name
        self.data = root / name
        self.log = root / f"{name}.log"
        self.port = free_port()

    def conninfo(self, dbname: str = DATABASE) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname} connect_timeout=3"

    def configure(self, **settings: str | int) -> None:
        """Settings appended to ``postgresql.auto.conf`` (the last one of a name counts)."""
        with open(self.data / "postgresql.auto.conf", "a") as conf:
            for key, value in settings.items():
                quoted = str(value).replace("'", "''")
                conf.write(f"{key} = '{quoted}'\n")

    def ctl(self, action: str, *extra: str, timeout: float = 60) -> None:
        _run(
            str(PG_BIN / "pg_ctl"),
            action,
            "-D",
            str(self.data),
            "-w",
            "-t",
            str(int(timeout)),
            *extra,
            timeout=timeout + 5,
        )

    def start(self) -> None:
        self.ctl("start", "-l", str(self.log))

    def stop_immediately(self) -> None:
        """``pg_ctl stop -m immediate``: the postmaster and its backends quit at once, as in
        a crash (the next start recovers from the WAL)."""
        self.ctl("stop", "-m", "immediate")

    def promote(self) -> None:
        """A standby becomes a primary (``pg_ctl promote``; returns once it accepts writes)."""
        self.ctl("promote")

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def kill(self) -> None:
        """Stop it whatever its state: ``-m immediate``, else SIGKILL to its postmaster (the
        backends exit when their postmaster is gone)."""
        pid = self.postmaster_pid()
        if pid is None:
            return
        try:
            self.stop_immediately()
        except (RuntimeError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def connect(self, dbname: str = DATABASE) -> psycopg.Connection:
        return psycopg.connect(self.conninfo(dbname), autocommit=True)


class Pair:
    """A primary and its standby. ``synchronous``: the primary's commits wait until the
    standby has flushed them (``synchronous_standby_names``); otherwise the standby follows
    asynchronously."""

    def __init__(self, synchronous: bool = True) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="mlob-pgpair-"))
        if os.geteuid() == 0:  # the clusters' directories are made by postgres in it
            shutil.chown(self.root, "postgres")
        self.primary = Cluster(self.root, "primary")
        self.standby = Cluster(self.root, "standby")
        self.synchronous = synchronous

    def url(self, *, schema: str = "") -> str:
        """The multi-host libpq URL mlob nodes use: whichever of the two accepts writes."""
        hosts = f"127.0.0.1:{self.primary.port},127.0.0.1:{self.standby.port}"
        query = "target_session_attrs=read-write&connect_timeout=3"
        return f"postgresql://postgres@{hosts}/{DATABASE}?{query}" + (
            f"&schema={schema}" if schema else ""
        )

    def create(self) -> Pair:
        """initdb the primary, start it, copy it to the standby with ``pg_basebackup -R``,
        start the standby and wait until it streams (and counts as synchronous)."""
        _run(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.primary.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        common: dict[str, str | int] = {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(self.root),
            "max_connections": 60,
            "shared_buffers": "32MB",
            "wal_level": "replica",
            "max_wal_senders": 4,
            "hot_standby": "on",
            "logging_collector": "off",
        }
        self.primary.configure(**common, port=self.primary.port)
        self.primary.start()
        with self.primary.connect("postgres") as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        _run(
            str(PG_BIN / "pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.primary.port),
            "-U",
            "postgres",
            "-D",
            str(self.standby.data),
            "-R",
            "-X",
            "stream",
            "--checkpoint=fast",  # not a spread checkpoint: minutes with the defaults
            "--no-sync",
        )
        self.standby.configure(
            port=self.standby.port,
            primary_conninfo=(
                f"host=127.0.0.1 port={self.primary.port} user=postgres "
                f"application_name={STANDBY_NAME}"
            ),
            # Once promoted it is a primary without a standby: it must not wait for one.
            synchronous_standby_names="",
        )
        self.standby.start()
        if self.synchronous:  # now that there is a standby to wait for (the database's
            # creation above would have waited forever)
            with self.primary.connect("postgres") as conn:
                conn.execute(f"ALTER SYSTEM SET synchronous_standby_names = '{STANDBY_NAME}'")
                conn.execute("SELECT pg_reload_conf()")
        self.wait_streaming()
        return self

    def wait_streaming(self, timeout: float = 30) -> None:
        want = "sync" if self.synchronous else "async"
        deadline = time.monotonic() + timeout
        with self.primary.connect("postgres") as conn:
            while time.monotonic() < deadline:
                row = conn.execute(
                    "SELECT sync_state FROM pg_stat_replication WHERE application_name = %s "
                    "AND state = 'streaming'",
                    (STANDBY_NAME,),
                ).fetchone()
                if row is not None and row[0] == want:
                    return
                time.sleep(0.1)
        raise AssertionError(f"the standby does not stream ({want}): {self.standby.log}")

    def remove(self) -> None:
        """Stop both clusters and delete their directory (call in a ``finally``)."""
        for cluster in (self.standby, self.primary):
            with contextlib.suppress(Exception):  # removing goes on whatever failed here
                cluster.kill()
        shutil.rmtree(self.root, ignore_errors=True)
