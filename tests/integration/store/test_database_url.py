"""``MLOB_DATABASE_URL`` is libpq's connection URL (or key=value string) plus mlob's own
``schema``: every libpq parameter reaches every connection mlob opens — the event store's pool,
the read store, LISTEN, the migrations — against the real server (issue 19, "The database URL
is libpq's")."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from urllib.parse import quote

import psycopg
import pytest

from mlob import config
from mlob.bootstrap import StartupError, open_application
from mlob.config import ConfigError, Settings, StoreConfig, parse_database_url
from mlob.migrations import pending
from mlob.read.readstore import open_read_store
from tests.cli import run_cli
from tests.conftest import POSTGRES_URL, pg_connect

pytestmark = pytest.mark.postgres

SERVER = parse_database_url(POSTGRES_URL).params


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def url(schema: str, *, hosts: str = "", **params: str) -> str:
    where = hosts or f"{SERVER['host']}:{SERVER.get('port', '5432')}"
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in {**params, "schema": schema}.items())
    return f"postgresql://{SERVER['user']}@{where}/{SERVER['dbname']}?{query}"


@pytest.fixture
def role(pg_schema: str) -> Iterator[tuple[str, str]]:
    """A login role whose password holds every character a URL must escape."""
    name, password = f"mlob_{pg_schema}", "p@ss:w/rd?&=# %'\\"
    with pg_connect(pg_schema) as conn:
        conn.execute(f"CREATE ROLE {name} LOGIN PASSWORD {psycopg.sql.quote(password)}")  # type: ignore[attr-defined]
        conn.execute(f'GRANT ALL ON SCHEMA "{pg_schema}" TO {name}')
    yield name, password
    with pg_connect(pg_schema) as conn:
        conn.execute(f"DROP OWNED BY {name}")
        conn.execute(f"DROP ROLE {name}")


def use_store(store: StoreConfig) -> int:
    """Open the store as a server does (migrations, event store, read store) and read it; its
    last position."""
    app = open_application(Settings(store=store, database_url=""))
    try:
        assert pending(store) == []
        reads = open_read_store(store, ["incidents"])
        try:
            assert reads.rows("incidents") == []
        finally:
            reads.close()
        return app.last_position()
    finally:
        app.close()


def sessions_named(name: str) -> int:
    with psycopg.connect(parse_database_url(POSTGRES_URL).conninfo) as conn:
        found = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (name,)
        ).fetchone()
    assert found is not None
    return int(found[0])


def test_a_first_host_that_is_down_is_skipped_for_a_read_write_one(pg_schema: str) -> None:
    hosts = f"127.0.0.1:{closed_port()},{SERVER['host']}:{SERVER.get('port', '5432')}"
    store = parse_database_url(url(pg_schema, hosts=hosts, target_session_attrs="read-write"))
    assert store.params["target_session_attrs"] == "read-write"
    assert use_store(store) == 0
    with pg_connect(pg_schema) as conn:  # the migrations ran in the schema through that URL
        assert conn.execute("SELECT count(*) FROM mlob_migrations").fetchone()[0] > 0


def test_a_password_with_special_characters(pg_schema: str, role: tuple[str, str]) -> None:
    name, password = role
    where = f"{SERVER['host']}:{SERVER.get('port', '5432')}"
    text = f"postgresql://{name}:{quote(password, safe='')}@{where}/{SERVER['dbname']}"
    store = parse_database_url(f"{text}?schema={pg_schema}")
    assert store.params["password"] == password
    assert password not in store.describe()
    assert use_store(store) == 0


def test_a_key_value_string_with_the_schema(pg_schema: str) -> None:
    text = f"host={SERVER['host']} user={SERVER['user']} dbname={SERVER['dbname']}"
    name = f"mlob-{pg_schema}"
    store = parse_database_url(f"{text} application_name={name} schema={pg_schema}")
    assert store.schema == pg_schema and store.params["application_name"] == name
    assert use_store(store) == 0
    # The event store's own pool connected with the whole string, not only host/port/user.
    app = open_application(Settings(store=store, database_url=""))
    try:
        app.last_position()
        assert sessions_named(name) >= 1
    finally:
        app.close()


def test_tls_parameters_reach_the_server(pg_schema: str) -> None:
    """This server has no TLS: ``sslmode=require`` must fail (so the parameter was used), with
    the server's reason on one line; ``sslmode=disable`` connects."""
    assert use_store(parse_database_url(url(pg_schema, sslmode="disable"))) == 0
    with pytest.raises(StartupError) as refused:
        open_application(
            Settings(store=parse_database_url(url(pg_schema, sslmode="require")), database_url="")
        )
    assert "SSL" in str(refused.value) and "\n" not in str(refused.value)


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("sslmode=maybe", "sslmode='maybe': use one of"),
        ("target_session_attrs=fast", "target_session_attrs='fast'"),
        ("bogus=1", 'invalid URI query parameter: "bogus"'),
        ("schema=a;drop", "is not a plain name"),
    ],
)
def test_unusable_parameters_are_one_clear_line(query: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_database_url(f"postgresql://u:secret@h/d?{query}")
    assert fragment in str(refused.value) and "\n" not in str(refused.value)
    assert "secret" not in str(refused.value)


def test_several_hosts_need_one_port_or_one_per_host() -> None:
    with pytest.raises(ConfigError, match="3 hosts and 2 ports"):
        parse_database_url("postgresql://u@a:1,b:2,c/d?port=1,2")
    # libpq: an empty port is the default one
    assert parse_database_url("postgresql://u@a,b,c:7/d").params["port"] == ",,7"


def test_the_server_starts_on_a_multi_host_url_and_a_down_first_host() -> None:
    """``mlob serve`` on a URL whose only host is down answers one line naming the failure."""
    text = f"postgresql://postgres@127.0.0.1:{closed_port()},127.0.0.1:{closed_port()}/x"
    result = run_cli("serve", "--port", "0", url=text + "?target_session_attrs=read-write")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mlob: ") and "Traceback" not in result.stderr


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose connections are never answered, as a machine that vanished (no refusal:
    the SYN is dropped): a listener that never accepts, its one-place queue filled."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = int(listener.getsockname()[1])
        fillers = []
        while True:
            filler = socket.socket()
            filler.settimeout(0.5)
            try:
                filler.connect(("127.0.0.1", port))
            except TimeoutError:
                filler.close()
                break
            fillers.append(filler)
        try:
            yield port
        finally:
            for filler in fillers:
                filler.close()


def test_a_first_host_that_does_not_answer_is_given_up_on(
    pg_schema: str, silent_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failover where the old primary's machine is gone: every new connection — the
    migrations', the event store's pool's too — gives up on it after the connect timeout (5 s
    unless the URL gives one; 2 s here, libpq's least) and takes the next host. Without one
    libpq waits for the kernel (minutes), and the pool's first request gave up after 5 s: no
    start."""
    monkeypatch.setattr(config, "CONNECT_TIMEOUT", "2", raising=False)
    assert use_store(parse_database_url(url(pg_schema))) == 0  # a store made before the failover
    hosts = f"127.0.0.1:{silent_port},{SERVER['host']}:{SERVER.get('port', '5432')}"
    store = parse_database_url(url(pg_schema, hosts=hosts, target_session_attrs="read-write"))
    assert "connect_timeout" not in store.params
    started = time.monotonic()
    assert use_store(store) == 0
    assert time.monotonic() - started < 20


@pytest.mark.parametrize("given", ["0", "-1"])
def test_a_connect_timeout_of_zero_does_not_make_the_pool_refuse_at_once(given: str) -> None:
    """libpq's ``connect_timeout=0`` waits forever for a host; the pool's wait for a free
    connection stays bounded and positive (0 there would refuse every request that finds the
    pool busy)."""
    store = parse_database_url(f"postgresql://127.0.0.1:5432/test?connect_timeout={given}")
    assert store.params["connect_timeout"] == given
    assert int(store.pool_wait()) >= int(config.CONNECT_TIMEOUT)
