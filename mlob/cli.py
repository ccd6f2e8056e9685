"""The ``mlob`` command line: ``mlob serve``, ``mlob tokens``."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from uuid import UUID

import orjson

from api.ports import Principal
from domain import policy
from domain.envelope import Classification
from domain.errors import DomainError
from domain.exercise import ExerciseScope
from domain.policy import ROLES
from mlob import client, logs
from mlob.bootstrap import (
    WORKER_SWITCH_INTERVAL,
    StartupError,
    build_web_app,
    open_application,
    open_projections,
    open_webhooks,
    tune_runtime,
)
from mlob.config import ConfigError, load_settings
from mlob.service import Service

#: Seconds ``mlob serve --workers N`` gives a worker process to answer the supervisor's health
#: ping before it is killed and started anew (uvicorn's default: 5). A worker answers only once
#: its interpreter has started and imported uvicorn; on a node whose cores were busy (a write
#: burst, other processes) that took longer, so workers were killed and restarted in a loop and
#: the node served nothing meanwhile (issue 19, docs/operations.md).
WORKER_HEALTHCHECK = 60

T = TypeVar("T")

#: The actor recorded for token changes made on the server's own command line: whoever holds
#: the database credentials runs the installation, so acts as LOCC's administrator at the
#: highest clearance (it may issue and revoke any organisation's tokens, any role the
#: organisation may hold, any clearance: domain.policy.issue_refusal).
CLI_ADMIN = Principal(
    org="LOCC",
    role="admin",
    clearance=Classification.STATE_SECRET_TOP_SECRET,
    person="mlob command line",
)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = load_settings()
    logs.configure(settings.log_format, args.log_level)
    web, service = build_web_app(settings)
    print(f"mlob: store {settings.store.describe()}", flush=True)
    if args.demo:
        from mlob.demo import DEMO_ORGANISATIONS, load_demo

        recorded = load_demo(service)
        state = f"loaded ({recorded} events)" if recorded else "already loaded"
        print(f"mlob: demo scenario (river flood Maas and Waal) {state}", flush=True)
        print("mlob: demo tokens, valid 24 hours (Authorization: Bearer <token>):", flush=True)
        expires = datetime.now(UTC) + timedelta(hours=24)
        for org, role in [*DEMO_ORGANISATIONS.items(), ("LOCC", "admin")]:
            issued = service.issue_token(
                CLI_ADMIN,
                org=org,
                role=role,
                clearance=Classification.STATE_SECRET_SECRET
                if role in ("coordinator", "auditor", "admin")
                else Classification.UNCLASSIFIED,
                expires_at=expires,
                label="demo",
            )
            print(f"  {org:<10} {role:<12} {issued.token}", flush=True)
    print(
        f"mlob: serving on http://{args.host}:{args.port}/ — the coordination-centre screen "
        f"(sign in with a token{' above' if args.demo else ''}); API docs at /docs",
        flush=True,
    )
    # No per-message compression: it more than doubles the memory of an idle connection
    # (bench/feed.py) and costs CPU on every frame sent to every subscriber.
    options = {
        "host": args.host,
        "port": args.port,
        "log_level": args.log_level,
        # Below info the access log prints nothing, yet uvicorn would still format each line.
        "access_log": args.log_level in ("info", "debug"),
        "ws_per_message_deflate": False,
        "log_config": logs.config(settings.log_format, args.log_level),
    }
    if args.workers > 1:
        # Each worker process opens the store itself; appends group per process. Their
        # metrics are kept in files and summed at /metrics (prometheus-client's multiprocess
        # mode: the directory must be set before the workers import the metrics).
        _close(service)
        with tempfile.TemporaryDirectory(prefix="mlob-metrics-") as metrics:
            os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", metrics)
            uvicorn.run(
                "mlob.asgi:create",
                factory=True,
                workers=args.workers,
                timeout_worker_healthcheck=WORKER_HEALTHCHECK,
                **options,
            )
        return 0
    try:
        uvicorn.run(web, **options)
    finally:
        _close(service)
    return 0


def _close(service: Service) -> None:
    if service.webhooks is not None:
        service.webhooks.close()
    if service.projections is not None:
        service.projections.close()
    service.app.close()


def _service() -> Service:
    return Service(open_application(load_settings()))


def _with_projections() -> Service:
    """The service with its read models (not started); seeds the board's targets as every
    start does."""
    settings = load_settings()
    service = Service(open_application(settings))
    open_projections(service, settings.board_targets)
    return service


def _worker(args: argparse.Namespace) -> int:
    """Run the projections in this process (PostgreSQL: several may run; one is active per
    projection, the others stand by and take over when it stops)."""
    import signal
    import threading

    settings = load_settings()
    logs.configure(settings.log_format, "info")
    tune_runtime(WORKER_SWITCH_INTERVAL)
    service = _with_projections()
    assert service.projections is not None
    service.projections.audit_key = settings.audit_key
    service.projections.picture_every = settings.picture_checkpoint_every
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    service.projections.start()
    open_webhooks(
        service,
        settings.webhook_key,
        settings.webhook_insecure_hosts,
        retention_days=settings.webhook_retention_days,
        nice=settings.webhook_nice,
    ).start()
    print(f"mlob: projection worker on {service.app.store.describe()}", flush=True)
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        _close(service)
    return 0


def _audit_key(required: bool) -> bytes | None:
    key = load_settings().audit_key
    if key is None and required:
        raise ConfigError("set MLOB_AUDIT_KEY (the key that signs chain checkpoints)")
    return key


def _audit_verify(args: argparse.Namespace) -> int:
    from mlob.audit.tamper import verify

    key = _audit_key(required=False)
    exported = None
    if args.checkpoints:
        try:
            with open(args.checkpoints, "rb") as f:
                exported = [orjson.loads(line) for line in f if line.strip()]
        except (OSError, orjson.JSONDecodeError) as exc:
            raise ConfigError(f"--checkpoints {args.checkpoints}: {exc}") from None
        if not all(isinstance(c, dict) and "position" in c for c in exported):
            raise ConfigError(f"--checkpoints {args.checkpoints}: not exported checkpoints")
    service = _with_projections()
    assert service.projections is not None
    try:
        verdict = verify(service.app.index, service.projections.store, key, exported)
    finally:
        _close(service)
    print(
        f"checked {verdict.checked} events up to position {verdict.last_position}; "
        f"{verdict.checkpoints_checked} signed checkpoint(s) hold"
    )
    if verdict.switch is not None and verdict.switch.position:
        print(
            f"chain format {verdict.switch.format} after position {verdict.switch.position} "
            f"(format 1 up to it; switch {'signed' if verdict.switch.signature else 'UNSIGNED'})"
        )
    if verdict.picture_checkpoints_checked:
        print(f"{verdict.picture_checkpoints_checked} signed picture checkpoint(s) hold")
    for note in verdict.notes:
        print(f"note: {note}")
    for warning in verdict.warnings:
        print(f"warning: {warning}")
    if verdict.ok:
        print(f"chain intact; head {verdict.head or '-'}")
        return 0
    if verdict.first_broken is not None:
        print(f"BROKEN: first broken link at position {verdict.first_broken}")
    for position in verdict.bad_picture_checkpoints:
        print(f"BROKEN: the picture checkpoint at position {position} is not what was signed")
    for problem in verdict.problems:
        print(f"  - {problem}")
    return 1


def _audit_checkpoint(args: argparse.Namespace) -> int:
    from mlob.audit.tamper import checkpoint

    key = _audit_key(required=True)
    assert key is not None
    service = _with_projections()
    assert service.projections is not None
    try:
        signed = checkpoint(service.app.index, service.projections.store, key)
    except ValueError as exc:
        print(f"mlob: {exc}", file=sys.stderr)
        return 1
    finally:
        _close(service)
    print(orjson.dumps(signed).decode() if signed else "nothing new to sign")
    return 0


def _audit_checkpoints(args: argparse.Namespace) -> int:
    service = _with_projections()
    assert service.projections is not None
    from mlob.audit.tamper import switch_of

    try:
        switch = switch_of(service.app.index)
        if switch is not None:  # first: archive it with the checkpoints (docs/hash-chain.md)
            print(orjson.dumps(switch.as_dict()).decode())
        for c in service.projections.store.checkpoints():
            print(orjson.dumps(c).decode())
    finally:
        _close(service)
    return 0


AUDITOR = Principal(
    org="LOCC",
    role="auditor",
    clearance=Classification.STATE_SECRET_TOP_SECRET,
    person="mlob command line",
)


def _parsed(parse: Callable[[str], T], text: str, problem: str) -> T:
    """``parse(text)``; a ValueError from it is a ConfigError saying ``problem`` (the usage's
    fault, answered as such, not a crash)."""
    try:
        return parse(text)
    except ValueError:
        raise ConfigError(problem) from None


def _moment(text: str | None, flag: str) -> datetime | None:
    if not text:
        return None
    example = "use an ISO 8601 time, e.g. 2026-11-25T10:00+01:00"
    moment = _parsed(datetime.fromisoformat, text, f"{flag} {text!r}: {example}")
    if moment.tzinfo is None:
        raise ConfigError(f"{flag} {text!r}: give the time zone (e.g. +01:00 or Z)")
    return moment


def _print_json(body: object) -> None:
    from api.rendering import dumps

    print(dumps(body))


def _audit_timeline(args: argparse.Namespace) -> int:
    from api.audit import timeline
    from api.errors import ApiError
    from api.paging import MAX_LIMIT
    from domain.capacity import Capacity
    from domain.incident import Incident
    from domain.request import AssistanceRequest

    subject = _parsed(UUID, args.id, f"{args.id!r} is not an id")
    service = _service()
    try:
        for cls in (AssistanceRequest, Incident, Capacity):
            try:
                whole = timeline(service, cls, subject, AUDITOR, limit=MAX_LIMIT)
            except ApiError:
                continue
            # The operator's command prints every step: the pages one after another.
            while whole["next"] is not None:
                page = timeline(service, cls, subject, AUDITOR, whole["next"], MAX_LIMIT)
                whole = {**whole, "events": whole["events"] + page["events"], "next": page["next"]}
            _print_json(whole)
            return 0
    finally:
        service.app.close()
    print(f"mlob: no request, incident or capacity {subject}", file=sys.stderr)
    return 1


def _audit_picture(args: argparse.Namespace) -> int:
    from projections import readmodels as rm

    moment = _moment(args.as_of, "--as-of") or datetime.now(UTC)
    service = _with_projections()
    assert service.projections is not None
    try:
        answer = service.rows_as_of(moment, args.axis, not args.full_replay)
    finally:
        service.projections.store.close()
        service.app.close()
    rows, position = answer
    as_of: dict[str, object] = {"moment": moment.isoformat(), "axis": args.axis}
    signed = getattr(answer, "checkpoints_signed", None)  # None: no picture checkpoint used
    if signed is not None:
        as_of["checkpoints_signed"] = signed
    incidents = rm.visible(rows["incidents"], AUDITOR.clearance, args.exercise)
    requests = rm.visible(rows["requests"], AUDITOR.clearance, args.exercise)
    capacities = rm.visible(rows["capacities"], AUDITOR.clearance, args.exercise)
    marking = _rows_marking(
        {"incidents": incidents, "requests": requests, "capacities": capacities}
    )
    print(marking)
    _print_json(
        {
            "as_of": as_of,
            "position": position,
            **rm.picture(incidents, requests, moment),
            # every request: made ready for an approved exercise is reserved in the real one too
            "capacity_overview": rm.capacity_overview(
                capacities,
                rm.visible(rows["requests"], AUDITOR.clearance, ExerciseScope.ALL),
                args.exercise,
            ),
        }
    )
    print(marking)
    return 0


def _marking(classifications: set[str] | list[str]) -> str:
    """The line that opens and closes a command-line read (it runs with the database's
    credentials and sees everything): the highest classification in its output."""
    top = policy.highest(classifications or ["ongerubriceerd"])
    return f"# rubricering: {top.value} (the highest classification in this output)"


def _rows_marking(rows: dict[str, list[dict[str, object]]]) -> str:
    return _marking(
        [
            policy.classification_at(max(int(str(r.get("level", 0))), policy.level(str(c)))).value
            for found in rows.values()
            for r in found
            if (c := r.get("classification")) is not None
        ]
    )


def _audit_stats(args: argparse.Namespace) -> int:
    from api.audit import request_stats
    from projections.stats import stats_csv

    start, end = _moment(args.start, "--from"), _moment(args.end, "--to")
    service = _service()
    try:
        stats = request_stats(service, AUDITOR, start, end, args.exercise)
        # What the statistics were computed from: the requests' steps in the store.
        marking = _marking(service.app.index.classifications(service.last_position()))
    finally:
        service.app.close()
    print(marking)
    if args.format == "csv":
        print(stats_csv(stats), end="")
    else:
        _print_json(stats)
    print(marking)
    return 0


def _audit_export(args: argparse.Namespace) -> int:
    """The whole history to stdout, JSON Lines or CSV, with a progress bar on stderr."""
    import csv

    from api.rendering import dumps, event_body

    service = _service()
    try:
        top = service.last_position()
        marking = _marking(service.app.index.classifications(top))
        print(marking)
        writer = csv.writer(sys.stdout) if args.format == "csv" else None
        if writer is not None:
            writer.writerow(
                [
                    "position",
                    "stream_id",
                    "version",
                    "type",
                    "occurred_at",
                    "recorded_at",
                    "actor_org",
                    "actor_role",
                    "actor_person",
                    "authority",
                    "regions",
                    "classification",
                    "exercise",
                    "message_id",
                    "correlation_id",
                    "causation_id",
                    "data",
                ]
            )
        cursor, written, started = 0, 0, time.monotonic()
        while cursor < top:
            page = service.logged_events(cursor, 2000, top)
            if not page:
                break
            cursor = page[-1].position
            for e in page:
                body = event_body(e)
                if writer is None:
                    sys.stdout.write(dumps(body) + "\n")
                else:
                    writer.writerow(
                        [
                            e.position,
                            e.stream_id,
                            e.version,
                            body["type"],  # the API type, as in the JSON Lines export
                            e.occurred_at.isoformat(),
                            e.recorded_at.isoformat(),
                            e.actor_org,
                            e.actor_role,
                            e.actor_person or "",
                            e.authority or "",
                            " ".join(e.regions),
                            e.classification,
                            e.exercise,
                            e.message_id,
                            e.correlation_id or "",
                            e.causation_id or "",
                            dumps(body["data"]),
                        ]
                    )
                written += 1
            if args.progress:
                done = cursor / top if top else 1.0
                bar = "#" * int(done * 30)
                rate = written / max(time.monotonic() - started, 1e-9)
                print(
                    f"\r[{bar:<30}] {done:6.1%} {written:,} events {rate:,.0f}/s",
                    end="",
                    file=sys.stderr,
                    flush=True,
                )
        if args.progress:
            print(file=sys.stderr)
        sys.stdout.flush()
        print(marking)
    finally:
        service.app.close()
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    """Apply the store's pending schema migrations (mlob/migrations); opening the store does
    the same at every start, so this is for upgrading before the servers start."""
    from mlob import migrations
    from mlob.write.writer import first_line

    store = load_settings().store
    if args.dry_run:
        try:
            todo = migrations.pending(store)
        except Exception as exc:  # the one line the operator needs, never a traceback
            raise StartupError(
                f"cannot read the store {store.describe()}: {first_line(exc)}"
            ) from None
        print("\n".join(todo) if todo else "mlob: the store's schema is up to date")
        return 0
    service = _service()  # opening applies them, one process at a time
    service.app.close()
    print(f"mlob: the store's schema is up to date ({store.describe()})")
    return 0


def _projections_status(args: argparse.Namespace) -> int:
    service = _with_projections()
    assert service.projections is not None
    try:
        print(f"{'projection':<12} {'position':>10} {'lag':>8}  version  updated")
        for s in service.projections.status():
            version = s["version"] or "-"
            if s["rebuild_position"] is not None:
                # The served rows stay those of the version shown until the rebuild is done.
                version += f" (rebuilding for code {s['code_version']}: at {s['rebuild_position']})"
            elif s["version"] != s["code_version"]:
                version += f" (code {s['code_version']}: rebuilds when next run)"
            print(
                f"{s['name']:<12} {s['position']:>10} {s['lag']:>8}  {version:<7}  "
                f"{s['updated_at'] or 'never'}"
            )
    finally:
        _close(service)
    return 0


def _projections_rebuild(args: argparse.Namespace) -> int:
    service = _with_projections()
    projections = service.projections
    assert projections is not None
    names = [args.name] if args.name else [r.projection.name for r in projections.runners]
    unknown = set(names) - {r.projection.name for r in projections.runners}
    if unknown:
        raise ConfigError(f"no projection {', '.join(sorted(unknown))}")
    try:
        projections.rebuild(names)
        if args.wait:
            started = time.monotonic()
            projections.catch_up()
            print(f"rebuilt {', '.join(names)} in {time.monotonic() - started:.1f} s")
        else:
            print(
                f"rebuild of {', '.join(names)} begun: the running projection builds them "
                "beside the rows it serves meanwhile"
            )
    except RuntimeError as exc:
        raise ConfigError(f"{exc}; rebuild begun, the running projection builds it") from None
    finally:
        _close(service)
    return 0


def _board_targets_show(args: argparse.Namespace) -> int:
    """The board's targets in force (stored: the same for every process) and, with
    ``--history``, every change: when, by whom, what."""
    service = _with_projections()
    assert service.projections is not None
    try:
        store = service.projections.store
        if args.history:
            for change in reversed(store.board_targets(limit=None)):
                print(orjson.dumps(change).decode())
            return 0
        targets = service.projections.targets
        stored = store.board_targets()
        print(f"{'step':<12} {'urgent':>7} {'normal':>7}  (minutes)")
        for step, (urgent, normal) in targets.steps.items():
            print(f"{step:<12} {urgent:>7} {normal:>7}")
        print(f"formalisation of an urgent phoned-in request: {targets.formalisation} minutes")
        if stored:
            print(f"set {stored[0]['at']} by {stored[0]['set_by']}")
    finally:
        _close(service)
    return 0


def _system_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user without a name
        return "unknown user"


def _board_targets_set(args: argparse.Namespace) -> int:
    """Change the board's targets for every process at once (what is not named keeps its
    value); the change is kept with when and by whom."""
    from mlob.config import parse_targets

    service = _with_projections()
    projections = service.projections
    assert projections is not None
    try:
        targets = parse_targets(args.targets, projections.targets, "mlob board targets set")
        by = args.by or _system_user()
        projections.set_targets(targets, by)
        print(f"mlob: board targets set by {by}: {orjson.dumps(targets.as_dict()).decode()}")
    finally:
        _close(service)
    return 0


def _expiry(text: str | None) -> datetime | None:
    if not text:
        return None
    units = {"h": "hours", "d": "days", "m": "minutes"}
    if text[-1] in units and text[:-1].isdigit():
        return datetime.now(UTC) + timedelta(**{units[text[-1]]: int(text[:-1])})
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _tokens_issue(args: argparse.Namespace) -> int:
    example = "use e.g. 12h, 30d or an ISO time"
    expires = _parsed(_expiry, args.expires, f"--expires {args.expires!r}: {example}")
    service = _service()
    issued = service.issue_token(
        CLI_ADMIN,
        org=args.org,
        role=args.role,
        clearance=Classification(args.clearance),
        expires_at=expires,
        label=args.label,
    )
    print(f"token id {issued.token_id} for {args.org} as {args.role} ({args.clearance})")
    print(issued.token)
    return 0


def _tokens_revoke(args: argparse.Namespace) -> int:
    token_id = _parsed(UUID, args.token_id, f"{args.token_id!r} is not a token id")
    _service().revoke_token(CLI_ADMIN, token_id, args.reason)
    print(f"revoked {token_id}")
    return 0


def _tokens_list(args: argparse.Namespace) -> int:
    for t in _service().tokens():
        state = "valid" if t["valid"] else ("revoked" if t["revoked"] else "expired")
        print(
            f"{t['token_id']}  {t['org']:<10} {t['role']:<12} {t['clearance']:<28} "
            f"{state:<8} expires {t['expires_at'] or 'never'}  {t['label']}"
        )
    return 0


def _post(args: argparse.Namespace) -> int:
    try:
        token = (
            _read_bytes(args.token_file).decode().strip()
            if args.token_file
            else os.environ.get("MLOB_TOKEN", "").strip()
        )
    except (OSError, UnicodeDecodeError) as exc:
        print(f"mlob: the token file: {exc}", file=sys.stderr)
        return client.UNUSABLE
    if not token:
        print("mlob: post needs a token: set MLOB_TOKEN or give --token-file", file=sys.stderr)
        return client.UNUSABLE
    try:
        raw = sys.stdin.buffer.read() if args.file == "-" else _read_bytes(args.file)
        body = client.completed(raw)
    except (OSError, client.UnusableInput) as exc:
        print(f"mlob: {exc}", file=sys.stderr)
        return client.UNUSABLE
    status = client.report(client.post(args.url, token, body, attempts=max(1, args.attempts)))
    if status == client.UNKNOWN:  # the ids were made here: only this body is safe to resend
        print("mlob: not known whether it was recorded; resend exactly this body:", file=sys.stderr)
        print(body.decode(), file=sys.stderr)
    return status


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as found:
        return found.read()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlob",
        description="Event-sourced national operational picture (MLOB) of LOCC-KCR2.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the HTTP server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--demo",
        action="store_true",
        help="load the demo scenario once (a river flood, GRIP 4) and print demo tokens",
    )
    serve.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    serve.add_argument("--log-level", default="info", choices=["warning", "info", "debug"])
    serve.set_defaults(handler=_serve)

    tokens = commands.add_parser("tokens", help="issue, revoke and list bearer tokens")
    token_commands = tokens.add_subparsers(dest="tokens_command", required=True)
    issue = token_commands.add_parser("issue", help="issue a token; prints it as the last line")
    issue.add_argument("--org", required=True, help="organisation code, e.g. VR08 or LOCC")
    issue.add_argument("--role", required=True, choices=ROLES)
    issue.add_argument(
        "--clearance",
        default=Classification.UNCLASSIFIED.value,
        choices=[c.value for c in Classification],
    )
    issue.add_argument("--expires", help="e.g. 12h, 30d, or an ISO 8601 time")
    issue.add_argument("--label", default="")
    issue.set_defaults(handler=_tokens_issue)
    revoke = token_commands.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("token_id")
    revoke.add_argument("--reason", default="")
    revoke.set_defaults(handler=_tokens_revoke)
    listing = token_commands.add_parser("list", help="list tokens (never their secrets)")
    listing.set_defaults(handler=_tokens_list)

    post = commands.add_parser(
        "post",
        help="record one item or a batch over the HTTP API (token from MLOB_TOKEN)",
        description="Posts FILE (or standard input) to POST /v1/events as the token's "
        "organisation; prints the receipt, or the refusal on standard error (exit 1). Items "
        "without message_id or occurred_at get them here, once, so a retry after 503 or 504 "
        "sends the same body. Exit 3: no answer said whether it was recorded.",
    )
    post.add_argument("file", nargs="?", default="-", help="a JSON file, or - for stdin")
    post.add_argument(
        "--url",
        default=os.environ.get("MLOB_URL", "http://127.0.0.1:8000"),
        help="the server (default: MLOB_URL or http://127.0.0.1:8000)",
    )
    post.add_argument("--token-file", help="read the token from this file (else MLOB_TOKEN)")
    post.add_argument("--attempts", type=int, default=5, help="tries after 503/504 (default 5)")
    post.set_defaults(handler=_post)

    worker = commands.add_parser("worker", help="run the projections (read models) here")
    worker.set_defaults(handler=_worker)
    db = commands.add_parser("db", help="the store's schema")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="apply pending schema migrations")
    upgrade.add_argument("--dry-run", action="store_true", help="only list what is pending")
    upgrade.set_defaults(handler=_db_upgrade)

    views = commands.add_parser("projections", help="status and rebuild of the read models")
    view_commands = views.add_subparsers(dest="projections_command", required=True)
    status = view_commands.add_parser("status", help="positions, versions and lag")
    status.set_defaults(handler=_projections_status)
    rebuild = view_commands.add_parser("rebuild", help="rebuild one projection, or all")
    rebuild.add_argument("name", nargs="?", help="requests, capacities or incidents")
    rebuild.add_argument(
        "--no-wait",
        dest="wait",
        action="store_false",
        help="only begin it; the running server or worker builds it (the previous rows are "
        "served until it is done)",
    )
    rebuild.set_defaults(handler=_projections_rebuild)

    board = commands.add_parser("board", help="the request board's targets")
    board_commands = board.add_subparsers(dest="board_command", required=True)
    targets = board_commands.add_parser(
        "targets", help="the targets in force for every process; set them"
    )
    targets.add_argument("--history", action="store_true", help="every change, oldest first")
    targets.set_defaults(handler=_board_targets_show)
    target_commands = targets.add_subparsers(dest="targets_command")
    set_targets = target_commands.add_parser("set", help="change them for every process")
    set_targets.add_argument(
        "targets", help="e.g. received=60/1440,formalisation=720 (urgent/normal minutes)"
    )
    set_targets.add_argument("--by", help="who changes them (default: this system user)")
    set_targets.set_defaults(handler=_board_targets_set)

    audit = commands.add_parser("audit", help="verify the history; signed checkpoints")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser(
        "verify", help="recompute the hash chain, check signed checkpoints (exit 1 if broken)"
    )
    verify.add_argument(
        "--checkpoints", help="also check these exported checkpoints (JSON lines, kept elsewhere)"
    )
    verify.set_defaults(handler=_audit_verify)
    sign = audit_commands.add_parser("checkpoint", help="sign the chain's head now")
    sign.set_defaults(handler=_audit_checkpoint)
    export = audit_commands.add_parser(
        "checkpoints", help="export the signed checkpoints (JSON lines)"
    )
    export.set_defaults(handler=_audit_checkpoints)
    line = audit_commands.add_parser("timeline", help="a request's, incident's or capacity's steps")
    line.add_argument("id")
    line.set_defaults(handler=_audit_timeline)
    picture = audit_commands.add_parser("picture", help="the picture and capacities as they were")
    picture.add_argument("--as-of", help="ISO 8601 time with zone (default: now)")
    picture.add_argument("--axis", choices=["recorded", "occurred"], default="recorded")
    _exercise_option(picture)
    picture.add_argument(
        "--full-replay",
        action="store_true",
        help="replay the whole history instead of starting from a picture checkpoint",
    )
    picture.set_defaults(handler=_audit_picture)
    stats = audit_commands.add_parser("stats", help="request statistics over a period")
    stats.add_argument("--from", dest="start")
    stats.add_argument("--to", dest="end")
    stats.add_argument("--format", choices=["json", "csv"], default="json")
    _exercise_option(stats)
    stats.set_defaults(handler=_audit_stats)
    dump = audit_commands.add_parser("export", help="the whole history to stdout")
    dump.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    dump.add_argument(
        "--no-progress", dest="progress", action="store_false", help="no progress bar on stderr"
    )
    dump.set_defaults(handler=_audit_export)
    return parser


def _exercise_scope(value: str) -> ExerciseScope:
    try:
        return ExerciseScope.parse(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _exercise_option(command: argparse.ArgumentParser) -> None:
    """``--exercise`` means what ``exercise=`` means on the API (domain/exercise.py)."""
    command.add_argument(
        "--exercise",
        type=_exercise_scope,
        default=ExerciseScope.REAL,
        metavar="false|true|all",
        help="false (default): real subjects only; true: exercises only; all: both",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except (ConfigError, StartupError) as exc:
        print(f"mlob: {exc}", file=sys.stderr)
        return 2
    except DomainError as exc:
        print(f"mlob: refused: {exc.reason} ({exc.code}; {exc.source})", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
