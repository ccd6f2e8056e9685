"""mlob's projection benchmark: one command (bash bench/projections.sh) prints figures and how
they were made.

In a fresh PostgreSQL schema it

1. loads a history of >= 200,000 events (BENCH_EVENTS) in process, through the same posting
   path as the HTTP API (``api.post_events.post``, batches of up to 500 items): about 75% the write
   benchmark's mix (30% incident.opened, 70% incident.situation_reported on existing incidents)
   and about 25% assistance-request lifecycles with the capacity movements they cause, modelled
   on mlob/demo.py (region_art51 via LOCC to IFV, police_art56 via POL-LE to POL-MN; cohorts stop
   at every step, so the board holds open requests), plus capacity availability changes;
2. times a rebuild of all projections together (``rebuild([])`` + ``catch_up()``) and of each
   projection alone (reset it, then only its runner's ``catch_up()``); events/s is always the
   number of events in the store divided by the seconds taken;
3. starts ``mlob serve`` on that schema, offers 500 single-event POSTs/s (the write benchmark's
   mix, situation reports on 2000 incidents drawn from the history) from a separate open-loop
   generator process for BENCH_LAG_WARMUP (10) + BENCH_LAG_SECONDS (15) s; the warm-up (server
   just started, aggregate caches cold) is reported apart. The generator notes for every
   201 the moment it arrived and the event's position; meanwhile this process polls
   ``mlob_view_tracking`` every 2 ms and notes when each projection's position changed. The lag
   of an event is the first poll that saw the projection at or past its position, minus the 201
   (0 when the projection got there before the client had its answer). Both processes use
   CLOCK_MONOTONIC, which is one clock for the whole machine. The poll interval bounds the
   error: a lag is overstated by at most one poll (~2 ms plus the query).

Each phase first waits (at most BENCH_QUIET_PATIENCE, 300 s) for a quiet machine and reports how
much CPU other processes took while it ran: on a shared 2-core box a concurrent test run halves
every figure.

    .venv/bin/python bench/projections.py           # or: bash bench/projections.sh
    .venv/bin/python bench/projections.py --live-only   # phase 3 again on the schema left behind
    python bench/projections.py --loadgen URL TOKEN RATE SECONDS IDS_FILE OUT_FILE   (internal)
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench import common  # noqa: E402
from bench.loadgen import body as loadgen_body  # noqa: E402

PY = sys.executable
SCHEMA = os.environ.get("BENCH_SCHEMA", "bench_projections")
EVENTS = int(os.environ.get("BENCH_EVENTS", "210000"))
LAG_RATE = float(os.environ.get("BENCH_LAG_RATE", "500"))
LAG_SECONDS = float(os.environ.get("BENCH_LAG_SECONDS", "15"))
#: The same load runs this long first: the server has just started, and its aggregate caches
#: (writer and projection runners) are cold; that window is reported apart.
LAG_WARMUP = float(os.environ.get("BENCH_LAG_WARMUP", "10"))
SERVER_PORT = int(os.environ.get("BENCH_PORT", "8795"))
#: How the server is started (``serve --port ...`` is appended); e.g. under a profiler:
#: BENCH_SERVER_CMD=".venv/bin/py-spy record -o /tmp/serve.svg -- .venv/bin/python -m mlob.cli"
SERVER_CMD = shlex.split(os.environ.get("BENCH_SERVER_CMD", "")) or [PY, "-m", "mlob.cli"]
#: in-process (the default: the server runs the projections, woken after each append) or
#: workers (MLOB_PROJECTIONS=workers: one ``mlob worker`` process runs them, polling)
LAG_MODE = os.environ.get("BENCH_LAG_MODE", "in-process")
POLL_S = 0.002
BATCH = 500
SEED = 20261125

TARGET_ALL, TARGET_ALONE, TARGET_P99_MS = 10_000, 20_000, 100.0


def clock() -> float:
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def out(*parts: object) -> None:
    print(*parts, flush=True)


# --- the run's circumstances ------------------------------------------------------------------


def busy_cores(seconds: float = 1.0) -> float:
    """How many cores the whole machine kept busy over ``seconds`` (/proc/stat)."""

    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        return sum(values), values[3] + values[4]  # total, idle + iowait

    total1, idle1 = sample()
    time.sleep(seconds)
    total2, idle2 = sample()
    return (1 - (idle2 - idle1) / max(1, total2 - total1)) * (os.cpu_count() or 1)


#: The longest wait for a quiet machine before each phase, seconds (BENCH_QUIET_PATIENCE; 0
#: for a quick check of a tiny run on a busy machine: the phase notes say how busy it was).
PATIENCE = float(os.environ.get("BENCH_QUIET_PATIENCE", "300"))


def wait_quiet(phase: str, limit: float = 0.25, patience: float = PATIENCE) -> float:
    """This benchmark shares the machine: wait (bounded) until nothing else keeps a core busy,
    so a figure is not someone else's test run. Returns the busy cores seen last."""
    deadline = time.time() + patience
    while (busy := busy_cores()) >= limit and time.time() < deadline:
        out(f"  waiting for a quiet machine before {phase}: {busy:.2f} cores busy elsewhere")
        time.sleep(4)
    return round(busy, 2)


def others_cpu() -> dict[int, float]:
    """CPU seconds used so far by every process that is neither this benchmark's (itself and
    its children: the server, the load generator) nor PostgreSQL's."""
    mine = {os.getpid()}
    procs: dict[int, tuple[int, float, int]] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            uid = entry.stat().st_uid
        except OSError:
            continue
        procs[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick, uid)
    changed = True
    while changed:
        changed = False
        for pid, (ppid, _, _) in procs.items():
            if ppid in mine and pid not in mine:
                mine.add(pid)
                changed = True
    try:
        import pwd

        pg_uid = pwd.getpwnam("postgres").pw_uid
    except KeyError:
        pg_uid = -1
    return {pid: cpu for pid, (_, cpu, uid) in procs.items() if pid not in mine and uid != pg_uid}


class Phase:
    """Waits for a quiet machine, then notes how much CPU other processes took meanwhile."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> Phase:
        self.busy_before = wait_quiet(self.name)
        self.before = others_cpu()
        self.t0 = clock()
        return self

    def __exit__(self, *exc: object) -> None:
        after = others_cpu()
        self.others = round(sum(c - self.before.get(p, 0.0) for p, c in after.items()), 1)
        self.seconds = clock() - self.t0
        out(
            f"  [{self.name}: {self.busy_before} cores busy before; other processes used "
            f"{self.others} CPU-s during its {self.seconds:.0f} s]"
        )

    def note(self) -> dict[str, float]:
        return {"busy_cores_before": self.busy_before, "others_cpu_s": self.others}


def header() -> dict[str, Any]:
    return {**common.circumstances(), "schema": SCHEMA}


# --- 1. the history ---------------------------------------------------------------------------


def chair(region: str) -> dict[str, str]:
    return {"body": "chair_safety_region", "of": region, "capacity": "namens"}


def mayor(municipality: str) -> dict[str, str]:
    return {"body": "mayor", "of": municipality}


#: Two request flows as in mlob/demo.py: who takes each step, with the demo's organisations.
FLOWS: dict[str, dict[str, Any]] = {
    "region": {  # the demo's blankets: a safety region asks IFV through LOCC (art. 51 Wvr)
        "kind": "region_art51",
        "requesters": ["VR08", "VR23", "VR21"],
        "authority": lambda org: chair(org),
        "justifications": {},
        "hub": "LOCC",
        "provider": "IFV",
        "decider": "IFV",
        "capability": "IFV_BLANKETS",
        "municipality": "Nijmegen",
    },
    "police": {  # the demo's ME for cordons: POL-ON asks through LE for POL-MN (art. 56(1))
        "kind": "police_art56_public_order",
        "requesters": ["POL-ON"],
        "authority": lambda org: mayor("Beuningen"),
        "justifications": {
            "own_capacity_insufficient": "RCCB: all ME of Oost-Nederland deployed",
            "region_mayor_view": "the region-mayor supports",
        },
        "hub": "POL-LE",
        "provider": "POL-MN",
        "decider": "POL-LE",
        "capability": "POLICE_ME",
        "municipality": "Beuningen",
    },
}

#: The steps of a request, in order: (who acts, event type). A cohort stops after one of them.
STEPS = (
    ("requester", "request.drafted"),
    ("requester", "request.submitted"),
    ("hub", "request.received"),
    ("hub", "request.assessed"),
    ("hub", "request.forwarded"),
    ("decider", "request.decided"),
    ("provider", "request.committed"),
    ("provider", "request.dispatched"),
    ("requester", "request.arrived"),
    ("requester", "request.released"),
    ("provider", "request.returned"),
    ("requester", "request.closed"),
)
#: After which step a cohort stops (index into STEPS) and how often: most run to the end.
STOPS = ((0, 3), (1, 8), (2, 5), (4, 6), (5, 5), (6, 8), (8, 10), (11, 55))
ROLES = {"LOCC": "coordinator"}


class History:
    """Generates and posts the history through ``api.post_events.post``."""

    def __init__(
        self,
        service: Any,
        now: datetime,
        new_incidents: float = 0.3,
        late: float = 0.0,
        classified: float = 0.0,
        incident_ratio: float = 3.0,
    ) -> None:
        """``new_incidents``: the share of incident events that open one; ``late``: the share
        of events entered afterwards, occurred 10 minutes to 3 hours before the others;
        ``classified``: the share of situation reports marked Stg. Geheim (their incidents
        then keep a second state per level, as need to know demands); ``incident_ratio``:
        incident events per other event (3: incidents are ~75% of the history)."""
        from api.post_events import Item, Principal, post

        self.Item, self.Principal, self._post = Item, Principal, post
        self.service = service
        self.rng = random.Random(SEED)
        self.occurred = now - timedelta(hours=6)
        self.counter = 0
        self.posted = 0
        self.incidents: list[UUID] = []
        self.capacities: dict[str, list[UUID]] = {}
        self.cohorts: list[dict[str, Any]] = []
        self.incident_events = 0
        self.other_events = 0
        self.new_incidents = new_incidents
        self.late = late
        self.classified = classified
        self.incident_ratio = incident_ratio

    def item(self, type_: str, subject: UUID, data: dict[str, Any], **envelope: Any) -> Any:
        self.counter += 1
        occurred = self.occurred
        if self.late and self.rng.random() < self.late:
            occurred -= timedelta(minutes=self.rng.randint(10, 180))
        return self.Item(
            type=type_,
            subject=subject,
            message_id=f"bench-{self.counter}",
            occurred_at=occurred,
            data=data,
            **envelope,
        )

    def post(self, org: str, items: list[Any]) -> int:
        from domain.envelope import Classification

        principal = self.Principal(
            org=org,
            role=ROLES.get(org, "operator"),
            clearance=Classification.STATE_SECRET_TOP_SECRET,
        )
        recorded = 0
        for start in range(0, len(items), BATCH):
            receipt = self._post(self.service, principal, items[start : start + BATCH])
            recorded += len(receipt.events)
        self.posted += recorded
        return recorded

    # incidents: the write benchmark's mix
    def incident_batch(self, size: int = BATCH) -> None:
        items = []
        for _ in range(size):
            if not self.incidents or self.rng.random() < self.new_incidents:
                subject = uuid4()
                items.append(
                    self.item(
                        "incident.opened",
                        subject,
                        {"title": "bench incident", "regions": ["VR08"], "grip": "1"},
                    )
                )
                self.incidents.append(subject)
            else:
                marking = {}
                if self.classified and self.rng.random() < self.classified:
                    marking = {"classification": "stg_geheim"}
                items.append(
                    self.item(
                        "incident.situation_reported",
                        self.rng.choice(self.incidents),
                        {"summary": "water level report"},
                        **marking,
                    )
                )
        self.incident_events += self.post("VR08", items)

    # capacities as the providers register them (demo: IFV blankets, POL-MN ME)
    def register_capacities(self, per_flow: int) -> None:
        for flow in FLOWS.values():
            ids = [uuid4() for _ in range(per_flow)]
            self.capacities[flow["provider"]] = ids
            items = [
                self.item(
                    "capacity.registered",
                    c,
                    {
                        "capability": flow["capability"],
                        "quantity": 100_000,
                        "name": f"bench {flow['capability']} {n}",
                        "capacity_class": self.rng.choice(
                            ["guaranteed", "by_agreement", "best_effort"]
                        ),
                        "notice_minutes": self.rng.choice([60, 90, 240, 360]),
                    },
                )
                for n, c in enumerate(ids)
            ]
            self.other_events += self.post(flow["provider"], items)

    def availability_changes(self, count: int) -> None:
        for provider, ids in self.capacities.items():
            items = [
                self.item(
                    "capacity.availability_changed",
                    c,
                    {"unavailable": self.rng.randint(0, 20), "reason": "maintenance"},
                )
                for c in self.rng.sample(ids, count)
            ]
            self.other_events += self.post(provider, items)

    # request cohorts: requests of one flow and requester that move through the steps together
    def new_cohort(self, size: int) -> None:
        name = self.rng.choice(["region", "region", "police"])
        flow = FLOWS[name]
        stop = self.rng.choices([s for s, _ in STOPS], [w for _, w in STOPS])[0]
        requests = [
            {
                "id": uuid4(),
                "booking": uuid4(),
                "capacity": self.rng.choice(self.capacities[flow["provider"]]),
                "quantity": self.rng.randint(1, 40),
            }
            for _ in range(size)
        ]
        self.cohorts.append(
            {
                "flow": flow,
                "requester": self.rng.choice(flow["requesters"]),
                "incident": self.rng.choice(self.incidents),
                "requests": requests,
                "step": 0,
                "stop": stop,
            }
        )

    def step_data(self, cohort: dict[str, Any], type_: str, r: dict[str, Any]) -> dict[str, Any]:
        flow = cohort["flow"]
        booking = {"capacity_id": str(r["capacity"]), "booking_id": str(r["booking"])}
        if type_ == "request.drafted":
            return {
                "kind": flow["kind"],
                "title": f"bench {flow['capability']}",
                "incident_id": str(cohort["incident"]),
                "urgent": self.rng.random() < 0.2,
                "lines": [
                    {
                        "line_id": "L1",
                        "capability": flow["capability"],
                        "quantity": r["quantity"],
                        "effect": "bench effect",
                        "location": flow["municipality"],
                        "municipality": flow["municipality"],
                    }
                ],
                "justifications": flow["justifications"],
            }
        if type_ == "request.assessed":
            return {"forward": True, "findings": "necessary"}
        if type_ == "request.forwarded":
            return {"to": [flow["provider"]]}
        if type_ == "request.decided":
            return {"outcome": "granted"}
        if type_ == "request.committed":
            return {**booking, "line_id": "L1", "quantity": r["quantity"]}
        if type_ in ("request.dispatched", "request.arrived", "request.released"):
            return booking
        if type_ == "request.returned":
            return booking
        if type_ == "request.closed":
            return {"summary": "done"}
        return {}

    def advance_cohorts(self) -> None:
        for cohort in self.cohorts:
            who, type_ = STEPS[cohort["step"]]
            flow = cohort["flow"]
            org = cohort["requester"] if who == "requester" else flow[who]
            authority = (
                flow["authority"](org)
                if type_ in ("request.drafted", "request.submitted")
                else None
            )
            items = [
                self.item(type_, r["id"], self.step_data(cohort, type_, r), authority=authority)
                for r in cohort["requests"]
            ]
            self.other_events += self.post(org, items)
            cohort["step"] += 1
        self.cohorts = [c for c in self.cohorts if c["step"] <= c["stop"]]

    def build(self, total: int) -> None:
        """Rounds of: every open cohort takes its next step, a new cohort starts, now and then
        some availability changes, and incident batches keep incidents at ~75% of the events."""
        self.incident_batch()
        self.register_capacities(150)
        rounds, started = 0, self.posted
        while self.posted < total or self.cohorts:
            per_round = (self.posted - started) / max(1, rounds)
            if self.posted + len(STEPS) * per_round < total:  # the last cohorts end near total
                self.new_cohort(self.rng.randint(20, 60))
            self.advance_cohorts()
            rounds += 1
            if rounds % 5 == 0:
                self.availability_changes(10)
            while self.incident_events < self.incident_ratio * self.other_events:
                self.incident_batch()
            self.occurred = min(self.occurred + timedelta(seconds=20), datetime.now(UTC))
        while self.posted < total:
            self.incident_batch(min(BATCH, max(1, total - self.posted)))


def count_by_type(conn: psycopg.Connection[Any]) -> tuple[int, dict[str, int]]:
    rows = conn.execute(
        f'SELECT topic, count(*) FROM "{SCHEMA}".mlob_events GROUP BY topic ORDER BY 2 DESC'
    ).fetchall()
    return sum(n for _, n in rows), {t: n for t, n in rows}


# --- 2. rebuilds ------------------------------------------------------------------------------


def rebuilds(projections: Any, events: int) -> dict[str, Any]:
    results: dict[str, Any] = {}

    def timed(label: str, run: Any) -> dict[str, Any]:
        with Phase(label) as phase:
            t0 = clock()
            run()
            took = clock() - t0
        return {"seconds": round(took, 2), "events_per_s": round(events / took), **phase.note()}

    first = results["first_build_all"] = timed("first build", projections.catch_up)
    out(f"first build, all projections: {first['seconds']} s, {first['events_per_s']:,} events/s")

    projections.rebuild([])
    done = results["rebuild_all"] = timed("rebuild all", projections.catch_up)
    out(
        f"rebuild, all projections together: {done['seconds']} s, "
        f"{done['events_per_s']:,} events/s (target >= {TARGET_ALL:,})"
    )
    for runner in projections.runners:
        name = runner.projection.name
        projections.rebuild([name])
        assert runner.lease.acquire()
        done = results[f"rebuild_{name}"] = timed(f"rebuild {name}", runner.catch_up)
        done["rows"] = len(projections.store.rows(name))
        out(
            f"rebuild, {name} alone: {done['seconds']} s, {done['events_per_s']:,} events/s "
            f"over all {events:,} events ({done['rows']:,} rows; target >= {TARGET_ALONE:,})"
        )
    return results


# --- 3. live lag ------------------------------------------------------------------------------


def loadgen(
    url: str, token: str, rate: float, seconds: float, ids_file: str, out_file: str
) -> None:
    """Open loop: request n is sent at start + n/rate whatever happened before. Writes one
    JSON line per acknowledged event: [sent, acked, position, status] (CLOCK_MONOTONIC)."""
    from urllib.parse import urlsplit

    incidents = json.loads(Path(ids_file).read_text())
    rng = random.Random(SEED + 1)
    occurred = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    parts = urlsplit(url)

    def body() -> bytes:
        return loadgen_body(incidents, occurred, rng)

    async def main() -> None:
        idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
        for _ in range(64):
            idle.put_nowait(await asyncio.open_connection(parts.hostname, parts.port))
        records: list[tuple[float, float, int, int]] = []

        async def one(scheduled: float) -> None:
            reader, writer = await idle.get()
            status, answer = await common.post_event(reader, writer, token, body())
            acked = clock()
            idle.put_nowait((reader, writer))
            position = json.loads(answer)["events"][0]["position"] if status == 201 else -1
            records.append((scheduled, acked, position, status))

        await common.open_loop(one, rate, int(rate * seconds), clock(), clock)
        Path(out_file).write_text("\n".join(json.dumps(r) for r in records))

    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main())


class TrackingPoller(threading.Thread):
    """Polls mlob_view_tracking every POLL_S on its own connection; notes (time, positions)
    whenever a position changed."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.seen: list[tuple[float, dict[str, int]]] = []
        self.polls = 0
        self.first = self.last = 0.0
        self.stop_event = threading.Event()

    def run(self) -> None:
        with psycopg.connect(common.DSN, autocommit=True) as conn:
            conn.execute(f'SET search_path TO "{SCHEMA}"')
            last: dict[str, int] = {}
            query = "SELECT name, position FROM mlob_view_tracking"
            while not self.stop_event.is_set():
                positions = dict(conn.execute(query, prepare=True).fetchall())
                at = clock()
                self.polls += 1
                self.first = self.first or at
                self.last = at
                if positions != last:
                    self.seen.append((at, positions))
                    last = positions
                time.sleep(POLL_S)


def reached_at(
    seen: list[tuple[float, dict[str, int]]], names: list[str]
) -> tuple[list[float], list[int]]:
    """For the poll snapshots: the time and the smallest position of ``names``."""
    times = [t for t, _ in seen]
    low = [min(p.get(n, 0) for n in names) for _, p in seen]
    # make positions monotone (a reset would go down; none happens here)
    for i in range(1, len(low)):
        low[i] = max(low[i], low[i - 1])
    return times, low


def percentile(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(p * len(values)))]


def lag_figures(
    records: list[tuple[float, float, int, int]],
    seen: list[tuple[float, dict[str, int]]],
    names: list[str],
) -> dict[str, Any]:
    import bisect

    times, low = reached_at(seen, names)
    lags = []
    missing = 0
    begin = min(r[0] for r in records)
    per_second: dict[int, list[float]] = {}
    for scheduled, acked, position, status in records:
        if status != 201:
            continue
        i = bisect.bisect_left(low, position)
        if i == len(low):
            missing += 1
            continue
        lags.append(max(0.0, times[i] - acked) * 1000)
        per_second.setdefault(int(scheduled - begin), []).append(lags[-1])
    lags.sort()
    return {
        "p99_ms_per_second": [
            round(percentile(sorted(v), 0.99)) for _, v in sorted(per_second.items())
        ],
        "events": len(lags),
        "never_reached": missing,
        "p50_ms": round(percentile(lags, 0.50), 1),
        "p90_ms": round(percentile(lags, 0.90), 1),
        "p99_ms": round(percentile(lags, 0.99), 1),
        "max_ms": round(lags[-1], 1),
    }


def live_lag(incidents: list[UUID]) -> dict[str, Any]:
    env = {
        **os.environ,
        "MLOB_DATABASE_URL": common.database_url(SCHEMA),
        "MLOB_PROJECTIONS": LAG_MODE,
    }
    issued = subprocess.run(
        [PY, "-m", "mlob.cli", "tokens", "issue", "--org", "VR08", "--role", "operator"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    token = issued.stdout.strip().splitlines()[-1]
    commands = [[*SERVER_CMD, "serve", "--port", str(SERVER_PORT), "--log-level", "warning"]]
    if LAG_MODE == "workers":
        commands.append([*SERVER_CMD, "worker"])
    processes = [
        subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for command in commands
    ]
    ids_file = Path(f"/tmp/mlob-bench-projections-{os.getpid()}-incidents.json")
    records_file = Path(f"/tmp/mlob-bench-projections-{os.getpid()}-acks.jsonl")
    # the situation reports go to 2000 incidents drawn from the whole history
    sample = random.Random(SEED + 2).sample(incidents, min(2000, len(incidents)))
    ids_file.write_text(json.dumps([str(i) for i in sample]))
    url = f"http://127.0.0.1:{SERVER_PORT}"
    poller = TrackingPoller()
    try:
        common.wait_for(f"{url}/health")
        time.sleep(2)  # let the server's runners take their leases and settle
        poller.start()
        gen = subprocess.run(
            [
                PY,
                str(Path(__file__).resolve()),
                "--loadgen",
                url,
                token,
                str(LAG_RATE),
                str(LAG_WARMUP + LAG_SECONDS),
                str(ids_file),
                str(records_file),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if gen.returncode:
            raise RuntimeError(f"load generator failed: {gen.stderr[-2000:]}")
        time.sleep(1)  # the projections catch up on the last events
        poller.stop_event.set()
        poller.join()
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
    records = [tuple(json.loads(line)) for line in records_file.read_text().splitlines()]
    ids_file.unlink(missing_ok=True)
    records_file.unlink(missing_ok=True)
    begin = min(r[0] for r in records)
    warm = [r for r in records if r[0] >= begin + LAG_WARMUP]
    cold = [r for r in records if r[0] < begin + LAG_WARMUP]
    result: dict[str, Any] = {
        "offered_per_s": LAG_RATE,
        "seconds": LAG_SECONDS,
        "projections": LAG_MODE,
        "warmup_seconds": LAG_WARMUP,
        "tracking_polls": poller.polls,
        "mean_poll_interval_ms": round(
            (poller.last - poller.first) / max(1, poller.polls - 1) * 1000, 2
        ),
    }
    for label, part in (("measured", warm), ("warmup", cold)):
        if not part:
            continue
        duration = max(r[1] for r in part) - min(r[0] for r in part)
        ack = sorted((r[1] - r[0]) * 1000 for r in part)
        result[label] = {
            "requests": len(part),
            "acknowledged_per_s": round(len(part) / duration),
            "statuses": dict(Counter(r[3] for r in part)),
            "post_latency_ms": {
                "p50": round(percentile(ack, 0.5), 1),
                "p99": round(percentile(ack, 0.99), 1),
                "max": round(ack[-1], 1),
            },
            "lag_incidents": lag_figures(part, poller.seen, ["incidents"]),  # type: ignore[arg-type]
            "lag_all_three": lag_figures(
                part,  # type: ignore[arg-type]
                poller.seen,
                ["incidents", "requests", "capacities"],
            ),
        }
    return result


# --- main -------------------------------------------------------------------------------------


def store_config() -> Any:
    from mlob.config import parse_database_url

    return parse_database_url(common.database_url(SCHEMA))


def load_and_rebuild(results: dict[str, Any]) -> list[UUID]:
    from mlob.bootstrap import open_projections, tune_runtime
    from mlob.service import Service
    from mlob.write.application import MlobApplication

    common.fresh_schema(SCHEMA)
    app = MlobApplication(store_config())
    service = Service(app)

    out(f"loading >= {EVENTS:,} events into schema {SCHEMA} ...")
    with Phase("load") as phase:
        t0 = clock()
        history = History(service, datetime.now(UTC))
        history.build(EVENTS)
        took = clock() - t0
    with psycopg.connect(common.DSN, autocommit=True) as conn:
        conn.execute(f'VACUUM ANALYZE "{SCHEMA}".mlob_events')
        events, by_type = count_by_type(conn)
    results["load"] = {
        "seconds": round(took, 1),
        "events": events,
        "events_per_s": round(history.posted / took),
        "by_type": by_type,
        **phase.note(),
    }
    out(f"loaded {events:,} events in {took:.1f} s ({history.posted / took:,.0f} events/s)")
    for topic, n in by_type.items():
        out(f"  {topic:45} {n:8,}  {n / events:6.1%}")

    tune_runtime()  # the process settings of mlob serve and mlob worker
    projections = open_projections(service)
    results.update(rebuilds(projections, events))
    projections.stop()  # releases the leases: the server takes them next
    projections.store.close()
    app.close()
    return history.incidents


def main(live_only: bool = False) -> None:
    run = header()
    out(json.dumps(run, indent=1))
    results: dict[str, Any] = {"run": run}
    if live_only:  # phase 3 again, on the schema a full run left
        with psycopg.connect(common.DSN) as conn:
            incidents = [
                UUID(r[0])
                for r in conn.execute(
                    f'SELECT id FROM "{SCHEMA}".mlob_view_incidents ORDER BY random() LIMIT 2000'
                )
            ]
    else:
        incidents = load_and_rebuild(results)

    out(
        f"live lag: {LAG_RATE:.0f} single-event POSTs/s offered for {LAG_WARMUP:.0f} + "
        f"{LAG_SECONDS:.0f} s, projections {LAG_MODE} ..."
    )
    with Phase("live lag") as phase:
        live = live_lag(incidents)
    results["live"] = {**live, **phase.note()}
    out(f"  tracking polls: {live['tracking_polls']}, every {live['mean_poll_interval_ms']} ms")
    for label, title in (
        ("warmup", f"first {LAG_WARMUP:.0f} s, server just started (cold caches)"),
        ("measured", f"the next {LAG_SECONDS:.0f} s (the figure)"),
    ):
        if label not in live:
            continue
        part = live[label]
        out(
            f"  {title}: acknowledged {part['acknowledged_per_s']}/s, statuses "
            f"{part['statuses']}, POST latency p50 {part['post_latency_ms']['p50']} ms, "
            f"p99 {part['post_latency_ms']['p99']} ms"
        )
        for key, name in (
            ("lag_incidents", "incidents projection"),
            ("lag_all_three", "all three"),
        ):
            lag = part[key]
            out(
                f"    lag 201 -> {name}: p50 {lag['p50_ms']} ms, p90 {lag['p90_ms']} ms, "
                f"p99 {lag['p99_ms']} ms, max {lag['max_ms']} ms over {lag['events']} events "
                f"({lag['never_reached']} never reached; target p99 <= {TARGET_P99_MS:.0f} ms)"
            )
        out(f"    p99 per second (incidents): {part['lag_incidents']['p99_ms_per_second']}")
    summary: dict[str, Any] = {
        "lag_p99_ms_incidents": live["measured"]["lag_incidents"]["p99_ms"],
        "lag_p99_ms_all_three": live["measured"]["lag_all_three"]["p99_ms"],
    }
    if not live_only:
        summary = {
            "rebuild_all_events_per_s": results["rebuild_all"]["events_per_s"],
            **{
                f"rebuild_{r}_alone_events_per_s": results[f"rebuild_{r}"]["events_per_s"]
                for r in ("requests", "capacities", "incidents")
            },
            **summary,
        }
    results["summary"] = summary
    out("summary:", json.dumps(summary))
    dest = ROOT / "bench" / "results"
    dest.mkdir(exist_ok=True)
    name = "projections-live.json" if live_only else "projections.json"
    (dest / name).write_text(json.dumps(results, indent=1))
    command = "bash bench/projections.sh" + (" --live-only" if live_only else "")
    out(f"written {dest / name}; reproduce with: {command}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--loadgen":
        u, tok, rate, secs, ids, dest_file = sys.argv[2:8]
        loadgen(u, tok, float(rate), float(secs), ids, dest_file)
    else:
        main(live_only="--live-only" in sys.argv[1:])
