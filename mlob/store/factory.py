"""eventsourcing's PostgreSQL factory, connecting with the store's whole libpq connection
string.

The library's factory builds its pool from five parameters (host, port, user, password,
dbname), so TLS settings, several hosts and ``target_session_attrs`` would be lost. This
subclass gives the same pool the connection string from ``MLOB_DATABASE_URL`` instead, before
the pool is opened; everything else (pool sizes, timeouts, schema) stays the library's.
"""

from __future__ import annotations

from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment, EnvType
from psycopg.rows import dict_row

from mlob.store.pool_check import install_check


class MlobPostgresFactory(PostgresFactory):
    POSTGRES_CONNINFO = "POSTGRES_CONNINFO"

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        conninfo = self.env.get(self.POSTGRES_CONNINFO)
        if conninfo:
            pool = self.datastore.pool  # not yet opened: the library opens it on first use
            pool.conninfo = conninfo
            pool.kwargs = {"row_factory": dict_row}
        if self.datastore.pre_ping:
            # The same guarantee as the library's pre-ping (POSTGRES_PRE_PING: no error after
            # the server dropped the pool's connections), without a round trip per lending
            # (mlob/store/pool_check.py), before the pool is opened.
            install_check(self.datastore.pool)
