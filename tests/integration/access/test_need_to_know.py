"""Need to know, proven for every route and every feed channel (issue 16, "Proof: a generated
access test").

The store is seeded through the HTTP API (``world.py`` beside this file) with canaries: a unique
marker in every text field and message id, and the id of every subject and booking, each with
the readers who may see it by ``domain/policy.py``'s rule. Every route the application serves
(``app.routes``: HTTP, WebSocket, mounted files, docs) is called by every reader kind at several
clearances, with in-scope, out-of-scope, classified and unknown ids and its query variants; every
feed channel kind is subscribed with a replay of everything. Every answer body, error body,
export line and frame is searched for every canary the reader may not see. A route or channel
kind missing from the tables below fails the test.

Besides leaks: a hidden subject must answer exactly as an unknown one (no existence oracle);
readers not cleared for a secret step must see the state before it (no status, phase or count
that it produced); token routes follow the policy; and readers who may see a canary do see it
in its detail route, timeline, token list or rejection log and in the national feed (so the
test cannot pass by showing nothing).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import anyio
import httpx
import pytest
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.testclient import WebSocketTestSession

from api.edxl import out, vocab, xmlsafe
from api.screen import STATIC
from domain import policy
from domain.envelope import Classification
from tests.integration.access.conftest import World
from tests.integration.access.world import (
    BEFORE_SECRET_STEPS,
    DV,
    GEHEIM,
    LIVE_MARKER_CHANNELS,
    MARKER_CHANNELS,
    PLURAL,
    READERS,
    UNCL,
    ZG,
    Canary,
    Reader,
    live_steps,
)
from tests.integration.access.world import NEEDLES as NEEDLE_PATTERN

# --- calls ------------------------------------------------------------------------------------


def ids(*values: UUID) -> frozenset[str]:
    """An id as a caller names it, in both spellings."""
    return frozenset(form for v in values for form in (str(v), v.hex))


def as_id(value: Any) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None


@dataclass(frozen=True, eq=False)
class Call:
    method: str
    url: str
    where: str  # the route and variant, for the report
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    #: Ids and values the caller named itself: echoing them back reveals nothing.
    supplied: frozenset[str] = frozenset()
    #: The same call about an unknown id: a hidden subject must answer exactly alike.
    twin: Call | None = None
    #: The policy refuses this call to this reader (it must not succeed).
    must_refuse: bool = False
    #: A body that is not JSON (``POST /v1/edxl``: XML).
    content: bytes | None = None


Maker = Callable[[World, Reader], list[Call]]
Params = dict[str, Any] | Callable[[World], dict[str, Any]]


def now() -> str:
    return datetime.now(UTC).isoformat()


def named(world: World, text: str) -> str:
    """``text`` with every seeded id replaced by its subject's name (for the report)."""
    for subject in world.subjects.values():
        text = text.replace(str(subject.id), f"[{subject.name}]")
    return text


def label(value: Any) -> str:
    """A query value for the report: times (which differ per call) as ``<time>``."""
    text = str(value)
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return text
    return "<time>" if "T" in text else text


def plain(path: str) -> Maker:
    return lambda w, r: [Call("GET", path, f"GET {path}")]


def variants(path: str, *choices: Params) -> Maker:
    """``path`` with each set of query parameters (``{}``: none)."""

    def make(w: World, r: Reader) -> list[Call]:
        calls = []
        for choice in choices:
            params = choice(w) if callable(choice) else choice
            supplied = ids(*filter(None, map(as_id, params.values())))
            query = "&".join(f"{k}={label(v)}" for k, v in params.items())
            where = named(w, f"GET {path}" + (f"?{query}" if query else ""))
            calls.append(Call("GET", path, where, params, supplied=supplied))
        return calls

    return make


def detail(type_: str, suffix: str = "") -> Maker:
    """The route of one subject: every seeded subject of the type and an unknown id; a subject
    the reader may not see must answer like the unknown id."""
    template = f"/v1/{PLURAL[type_]}/{{{type_}_id}}{suffix}"

    def make(w: World, r: Reader) -> list[Call]:
        unknown = uuid4()

        def call(subject_id: UUID, name: str, twin: Call | None = None) -> Call:
            return Call(
                "GET",
                f"/v1/{PLURAL[type_]}/{subject_id}{suffix}",
                f"GET {template} [{name}]",
                supplied=ids(subject_id),
                twin=twin,
            )

        calls = [call(unknown, "unknown id")]
        for subject in w.of_type(type_):
            twin = None if subject.visible_to(r) else call(unknown, "unknown id")
            calls.append(call(subject.id, subject.name, twin))
        return calls

    return make


def read_model(path: str, as_of: bool = False) -> Maker:
    choices: list[Params] = [
        {},
        {"exercise": "true"},
        lambda w: {"min_position": w.head, "wait": 2},
    ]
    if as_of:
        choices += [
            # mid-seed: on the recorded axis right after INC_A's secret steps were recorded,
            # on the occurred axis half an hour into the seed's (earlier) occurred times
            lambda w: {"as_of": w.seed.midway.isoformat(), "axis": "recorded"},
            lambda w: {
                "as_of": (w.started + timedelta(minutes=30)).isoformat(),
                "axis": "occurred",
            },
            lambda w: {"as_of": now()},
            lambda w: {"as_of": now(), "axis": "recorded"},
            lambda w: {"as_of": now(), "axis": "occurred"},
        ]
    return variants(path, *choices)


#: A step of each subject type to post on a subject the reader may not see (with a version
#: that cannot match, so nothing is recorded even where the policy fails).
PROBE_STEPS = {
    "incident": ("incident.situation_reported", {"summary": "access probe"}),
    "request": ("request.withdrawn", {"reason": "access probe"}),
    "capacity": ("capacity.availability_changed", {"unavailable": 0}),
}


def post_probes(w: World, r: Reader) -> list[Call]:
    """``POST /v1/events``: a step on every subject the reader may not see must be refused
    exactly as the same step on an unknown subject, naming nothing hidden."""
    calls = []
    for subject in w.subjects.values():
        if subject.visible_to(r):
            continue
        type_, data = PROBE_STEPS[subject.type]
        message = f"probe-{uuid4().hex}"
        unknown = uuid4()

        def item(subject_id: UUID, type_: str = type_, data: Any = data, m: str = message) -> Any:
            return {
                "type": type_,
                "subject": str(subject_id),
                "message_id": m,
                "occurred_at": now(),
                "expected_version": 999,
                "data": data,
            }

        where = f"POST /v1/events [{type_} on {subject.name}]"
        twin = Call("POST", "/v1/events", where, body=item(unknown), supplied=ids(unknown))
        calls.append(
            Call(
                "POST",
                "/v1/events",
                where,
                body=item(subject.id),
                supplied=ids(subject.id),
                twin=twin,
                must_refuse=True,
            )
        )
    return calls


#: A step of each subject type EDXL carries, posted as EDXL-RM on a subject the reader may not
#: see (a version that cannot match), and the question asked about a hidden request.
EDXL_PROBES = {
    "request": ("request.withdrawn", {"reason": "access probe"}),
    "capacity": ("capacity.availability_changed", {"unavailable": 0}),
}


def edxl_message(org: str, type_: str, subject: UUID, data: Any, question: bool) -> bytes:
    message_id = f"{org}:probe-{uuid4().hex}"
    keywords = [(vocab.SUBJECT, [str(subject)])]
    if not question:
        keywords += [
            (vocab.EVENT_TYPE, [type_]),
            (vocab.EXPECTED_VERSION, ["999"]),
            (vocab.DATA, [json.dumps(data)]),
        ]
    info = out.Info("probe", keywords=keywords)
    rm_type = "RequestInformation" if question else vocab.STEP_MESSAGE[type_]
    element = out.build_message(
        rm_type, message_id, datetime.now(UTC), message_id, None, org, [info], "access probe"
    )
    assert xmlsafe.validate_rm(element) is None  # so that the rules, not the schemas, answer
    return xmlsafe.serialise(element)


def edxl_probes(w: World, r: Reader) -> list[Call]:
    """``POST /v1/edxl``: a step on, or a question about, every subject the reader may not see
    must be refused exactly as the same on an unknown subject, naming nothing hidden."""
    calls = []
    for subject in w.subjects.values():
        if subject.visible_to(r) or subject.type not in EDXL_PROBES:
            continue
        type_, data = EDXL_PROBES[subject.type]
        asks = [False, True] if subject.type == "request" else [False]
        for question in asks:
            unknown = uuid4()
            what = "RequestInformation" if question else type_
            where = f"POST /v1/edxl [{what} on {subject.name}]"
            twin = Call(
                "POST",
                "/v1/edxl",
                where,
                supplied=ids(unknown),
                content=edxl_message(r.org, type_, unknown, data, question),
            )
            calls.append(
                Call(
                    "POST",
                    "/v1/edxl",
                    where,
                    supplied=ids(subject.id),
                    twin=twin,
                    must_refuse=True,
                    content=edxl_message(r.org, type_, subject.id, data, question),
                )
            )
    return calls


def history(w: World, r: Reader) -> list[Call]:
    calls = variants(
        "/v1/history",
        {},
        {"org": "VR23"},
        {"type": "incident.situation_reported"},
        {"type": "request.decided"},
        lambda w: {"occurred_from": w.started.isoformat(), "occurred_to": now()},
        {"exercise": "false"},
        {"after": 0, "limit": 1_000_000},
        {"format": "jsonl"},
        {"format": "jsonl", "after": 0, "limit": 1_000_000},
        {"format": "jsonl", "type": "request.decided"},
    )(w, r)
    unknown = uuid4()
    for name in ("INC_A", "INC_S", "REQ_S", "REQ_B", "REQ_VR23", "CAP_IFV", "CAP_ZG", "CAP_DV"):
        subject = w.subjects[name]
        where = f"GET /v1/history?stream=[{name}]"
        twin = None
        if not subject.visible_to(r):
            twin = Call(
                "GET", "/v1/history", where, {"stream": str(unknown)}, supplied=ids(unknown)
            )
        calls.append(
            Call(
                "GET",
                "/v1/history",
                where,
                {"stream": str(subject.id)},
                supplied=ids(subject.id),
                twin=twin,
            )
        )
    return calls


def issue_tokens(w: World, r: Reader) -> list[Call]:
    """``POST /v1/tokens``: an administrator issues only for organisations it may manage, never
    above its own clearance."""
    other = "VR05" if r.org != "VR05" else "VR08"
    calls = []
    for org, level, what in (
        (r.org, UNCL, "own organisation"),
        (other, UNCL, "another organisation"),
        (r.org, ZG, "above own clearance"),
    ):
        allowed = policy.may_manage_tokens_of(r, org) and level.rank <= r.clearance.rank
        body = {"org": org, "role": "viewer", "clearance": level.value, "label": "access probe"}
        calls.append(
            Call(
                "POST",
                "/v1/tokens",
                f"POST /v1/tokens [{what}]",
                body=body,
                must_refuse=not allowed,
            )
        )
    return calls


def revoke_tokens(w: World, r: Reader) -> list[Call]:
    """``DELETE /v1/tokens/{id}``: a token the reader may not manage answers like an unknown id
    (the seed's spare tokens; no reader's own token is ever revoked)."""
    calls = []
    unknown = uuid4()
    for org in ("VR08", "VR05"):
        token_id = w.seed.token_ids[(org, "operator", DV)]
        allowed = policy.may_manage_tokens_of(r, org) and DV.rank <= r.clearance.rank
        where = f"DELETE /v1/tokens/{{token_id}} [{org}'s token at {DV.value}]"
        twin = None
        if not allowed:
            twin = Call("DELETE", f"/v1/tokens/{unknown}", where, supplied=ids(unknown))
        calls.append(
            Call(
                "DELETE",
                f"/v1/tokens/{token_id}",
                where,
                supplied=ids(token_id),
                twin=twin,
                must_refuse=not allowed,
            )
        )
    return calls


def manages(r: Reader, org: str, level: Classification = DV) -> bool:
    """Who manages a subscription (issue 24), written out from the rule: the organisation's
    administrators and operators cleared for it."""
    return r.org == org and r.role in ("admin", "operator") and r.clearance.rank >= level.rank


def create_subscriptions(w: World, r: Reader) -> list[Call]:
    """``POST /v1/subscriptions``: administrators and operators, for their own organisation,
    never above their token's clearance."""
    calls = []
    for level, what in ((None, "at own clearance"), (ZG, "above own clearance")):
        body: dict[str, Any] = {
            "url": f"https://127.0.0.1:9/probe/{uuid4().hex[:8]}",
            "channels": ["national"],
        }
        if level is not None:
            body["clearance"] = level.value
        allowed = manages(r, r.org, level or r.clearance)
        where = f"POST /v1/subscriptions [{what}]"
        calls.append(Call("POST", "/v1/subscriptions", where, body=body, must_refuse=not allowed))
    return calls


def subscription_route(method: str, suffix: str = "", body: Any = None) -> Maker:
    """A route of one subscription: the seeded ones (VR08's, VR05's) and an unknown id; one
    the reader may not manage must answer like the unknown id, and be refused."""
    template = f"/v1/subscriptions/{{subscription_id}}{suffix}"

    def make(w: World, r: Reader) -> list[Call]:
        unknown = uuid4()

        def call(subscription: UUID, name: str, twin: Call | None, refuse: bool) -> Call:
            return Call(
                method,
                f"/v1/subscriptions/{subscription}{suffix}",
                f"{method} {template} [{name}]",
                body=body,
                supplied=ids(subscription),
                twin=twin,
                must_refuse=refuse,
            )

        calls = [call(unknown, "unknown id", None, True)]
        for org, subscription in w.seed.subscriptions.items():
            allowed = manages(r, org)
            if method == "DELETE" and allowed:
                continue  # deleted below: a throwaway of its own
            twin = None if allowed else call(unknown, "unknown id", None, True)
            calls.append(call(subscription, f"{org}'s", twin, not allowed))
        if method == "DELETE" and manages(r, r.org, r.clearance):
            made = w.client.post(
                "/v1/subscriptions",
                json={"url": f"https://127.0.0.1:9/gone/{uuid4().hex}", "channels": ["national"]},
                headers=w.headers(r),
            )
            assert made.status_code == 201, made.text
            calls.append(call(UUID(made.json()["id"]), "its own", None, False))
        return calls

    return make


def ack_alerts(w: World, r: Reader) -> list[Call]:
    """``POST /v1/alerts/{id}/ack``: an alert of another organisation, or on a request the
    reader may not see, answers like an unknown id."""
    unknown = 10**9
    calls = []
    for alert in w.service.webhooks.new_alerts(0):
        mine = r.org in alert["orgs"] and r.clearance.rank >= alert["level"]
        acts = r.role in ("operator", "coordinator", "admin")
        where = f"POST /v1/alerts/{{alert_id}} [{alert['step']} of {named(w, alert['subject'])}]"
        twin = None if mine else Call("POST", f"/v1/alerts/{unknown}/ack", where)
        calls.append(
            Call(
                "POST",
                f"/v1/alerts/{alert['id']}/ack",
                where,
                twin=twin,
                must_refuse=not (mine and acts),
            )
        )
    return calls


def screen_files(w: World, r: Reader) -> list[Call]:
    files = sorted(p.name for p in STATIC.iterdir() if p.is_file())
    return [Call("GET", f"/screen/{name}", f"GET /screen/{name}") for name in [*files, "none.js"]]


def feed_over_http(w: World, r: Reader) -> list[Call]:
    """The feed itself is proven by the feed tests below; here a plain HTTP GET of it."""
    return [Call("GET", "/v1/feed", "GET /v1/feed (plain HTTP)")]


#: Every route the application serves, and how to call it. A served route missing here fails
#: ``test_every_served_route_is_in_the_table``.
ROUTES: dict[tuple[str, str], Maker] = {
    ("GET", "/"): plain("/"),
    ("GET", "/desk"): plain("/desk"),
    ("MOUNT", "/screen"): screen_files,
    ("GET", "/docs"): plain("/docs"),
    ("GET", "/docs/oauth2-redirect"): plain("/docs/oauth2-redirect"),
    ("GET", "/redoc"): plain("/redoc"),
    ("GET", "/openapi.json"): plain("/openapi.json"),
    ("GET", "/health"): plain("/health"),
    ("GET", "/health/live"): plain("/health/live"),
    ("GET", "/health/ready"): plain("/health/ready"),
    ("GET", "/metrics"): plain("/metrics"),
    ("WS", "/v1/feed"): feed_over_http,
    ("POST", "/v1/events"): post_probes,
    ("GET", "/v1/event-types"): plain("/v1/event-types"),
    ("GET", "/v1/reference"): plain("/v1/reference"),
    ("GET", "/v1/whoami"): plain("/v1/whoami"),
    ("GET", "/v1/requests"): variants(
        "/v1/requests",
        {},
        {"region": "VR08"},
        {"region": "VR23"},
        lambda w: {"incident": str(w.id("INC_A"))},
        lambda w: {"incident": str(w.id("INC_S"))},
        lambda w: {"incident": str(w.id("INC_B"))},
        {"status": "received"},
        {"status": "refused"},
        {"status": "approved"},
        {"kind": "region_art51"},
        {"exercise": "false"},
        {"q": "a"},
        {"limit": "1"},
    ),
    ("GET", "/v1/requests/{request_id}"): detail("request"),
    ("GET", "/v1/requests/{request_id}/timeline"): detail("request", "/timeline"),
    ("GET", "/v1/requests/{request_id}/edxl-rm"): detail("request", "/edxl-rm"),
    ("GET", "/v1/incidents"): variants("/v1/incidents", {}, {"exercise": "false"}),
    ("GET", "/v1/incidents/{incident_id}"): detail("incident"),
    ("GET", "/v1/incidents/{incident_id}/timeline"): detail("incident", "/timeline"),
    ("GET", "/v1/capacities"): variants(
        "/v1/capacities",
        {},
        {"provider": "IFV"},
        {"provider": "DEF-DOPS"},
        {"capability": "IFV_BLANKETS"},
        {"capability": "DEF_EVACUATION_TRANSPORT"},
    ),
    ("GET", "/v1/capacities/{capacity_id}"): detail("capacity"),
    ("GET", "/v1/capacities/{capacity_id}/timeline"): detail("capacity", "/timeline"),
    ("GET", "/v1/capacities/{capacity_id}/edxl-rm"): detail("capacity", "/edxl-rm"),
    ("POST", "/v1/edxl"): edxl_probes,
    ("GET", "/v1/picture"): read_model("/v1/picture", as_of=True),
    ("GET", "/v1/capacity-overview"): read_model("/v1/capacity-overview", as_of=True),
    ("GET", "/v1/board"): read_model("/v1/board"),
    ("GET", "/v1/scarcity"): read_model("/v1/scarcity"),
    ("GET", "/v1/history"): history,
    ("GET", "/v1/stats"): variants(
        "/v1/stats",
        {},
        {"format": "csv"},
        lambda w: {"from": w.started.isoformat(), "to": now()},
    ),
    ("GET", "/v1/rejections"): variants(
        "/v1/rejections",
        {},
        {"after": 0, "limit": 10_000},
        {"limit": 1},
        # By subject: one the reader may see or not (a hidden one lists nothing of it).
        lambda w: {"subject": str(w.subjects["REQ_S"].id)},
        lambda w: {"subject": str(w.subjects["REQ_VR23"].id)},
        lambda w: {"subject": str(w.subjects["INC_S"].id)},
    ),
    # The read-access log (issue 16, auditors of national organisations): called whether or
    # not it is served yet.
    ("GET", "/v1/access-log"): variants("/v1/access-log", {}, {"limit": 500}),
    ("GET", "/v1/tokens"): plain("/v1/tokens"),
    ("POST", "/v1/tokens"): issue_tokens,
    ("DELETE", "/v1/tokens/{token_id}"): revoke_tokens,
    # Subscriptions and alerts (issue 24).
    ("POST", "/v1/subscriptions"): create_subscriptions,
    ("GET", "/v1/subscriptions"): plain("/v1/subscriptions"),
    ("GET", "/v1/subscriptions/{subscription_id}"): subscription_route("GET"),
    ("PATCH", "/v1/subscriptions/{subscription_id}"): subscription_route(
        "PATCH", body={"rotate_secret": True}
    ),
    ("DELETE", "/v1/subscriptions/{subscription_id}"): subscription_route("DELETE"),
    ("GET", "/v1/subscriptions/{subscription_id}/deliveries"): subscription_route(
        "GET", "/deliveries"
    ),
    ("POST", "/v1/subscriptions/{subscription_id}/deliveries/{delivery_id}/redeliver"): (
        subscription_route("POST", "/deliveries/1/redeliver")
    ),
    ("GET", "/v1/alerts"): variants("/v1/alerts", {}, {"after": 0, "limit": 1000}),
    ("POST", "/v1/alerts/{alert_id}/ack"): ack_alerts,
}


def served_routes(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every route the application serves; ``("WS", path)`` for WebSocket
    routes, ``("MOUNT", path)`` for mounted applications (files), and the class name for any
    other kind of route (which the table cannot know)."""
    found: set[tuple[str, str]] = set()

    def add(route: Any, path: str) -> None:
        if isinstance(route, WebSocketRoute | APIWebSocketRoute):
            found.add(("WS", path))
        elif isinstance(route, Mount):
            found.add(("MOUNT", path))
            walk(route.routes, path)  # a mounted application's own routes (none for files)
        elif isinstance(route, Route | APIRoute):
            # HEAD is GET without the body (Starlette adds it to every GET route).
            found.update((m, path) for m in route.methods or () if m != "HEAD")
        else:
            found.add((type(route).__name__, path))

    def walk(routes: Iterable[Any], prefix: str = "") -> None:
        for route in routes:
            contexts = getattr(route, "effective_route_contexts", None)
            if callable(contexts):  # an included router, resolved lazily (FastAPI >= 0.16x)
                for context in contexts():
                    built = getattr(context, "starlette_route", None)  # WebSocket routes
                    path = context.path or getattr(built, "path", "") or context.original_route.path
                    add(context.original_route, prefix + path)
            else:
                add(route, prefix + getattr(route, "path", ""))

    walk(app.routes)
    return found


# --- judging answers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    category: str  # leak | oracle | state | rights | error | missing | incomplete
    where: str
    reader: str
    detail: str


def describe(canary: Canary) -> str:
    return f"{canary.what} ({canary.kind}, {canary.level.value})"


class Judge:
    """Finds the canaries in a text that a reader may not see."""

    def __init__(self, canaries: Iterable[Canary]) -> None:
        self.by_needle = {n: c for c in canaries for n in c.needles}
        self._hidden: dict[Reader, dict[str, Canary]] = {}

    def hidden(self, reader: Reader) -> dict[str, Canary]:
        if reader not in self._hidden:
            self._hidden[reader] = {
                n: c for n, c in self.by_needle.items() if not c.audience(reader)
            }
        return self._hidden[reader]

    def leaks(self, reader: Reader, text: str, supplied: frozenset[str]) -> list[Canary]:
        hidden = self.hidden(reader)
        found = {m.lower() for m in NEEDLE_PATTERN.findall(text)} - supplied
        leaked = {hidden[n].value: hidden[n] for n in found if n in hidden}
        return list(leaked.values())


def documents(text: str) -> list[Any]:
    """The JSON of an answer: one document, or one per line (JSON Lines); none for others."""
    try:
        return [json.loads(text)]
    except ValueError:
        pass
    docs = []
    for line in text.splitlines():
        try:
            docs.append(json.loads(line))
        except ValueError:
            return []
    return docs


def dicts(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from dicts(v)
    elif isinstance(value, list):
        for v in value:
            yield from dicts(v)


def state_problems(world: World, reader: Reader, docs: list[Any]) -> list[str]:
    """What a reader not cleared for the secret steps must not see: the phase, statuses,
    decisions and refusals they produced (no request is refused below stg_geheim)."""
    if reader.clearance.rank >= GEHEIM.rank:
        return []
    names = {str(world.id(name)): name for name, _ in BEFORE_SECRET_STEPS}
    problems = []
    for doc in docs:
        for d in dicts(doc):
            name = names.get(d["id"]) if isinstance(d.get("id"), str) else None
            for (subject, key), before in BEFORE_SECRET_STEPS.items():
                if subject == name and key in d and d[key] != before:
                    problems.append(f"{name}.{key} is {d[key]!r}, not {before!r}: a secret step")
            for key in ("by_status", "outcomes", "requests"):
                counts = d.get(key)
                if isinstance(counts, dict) and counts.get("refused"):
                    problems.append(f"'{key}' counts a refused request: a secret refusal")
    return problems


def filter_problems(
    world: World, reader: Reader, call: Call, status: int, text: str
) -> list[Finding]:
    """A list filtered by status holds only items of that status as the reader sees them
    (a request refused by a secret step is not listed as refused to an uncleared reader)."""
    wanted = call.params.get("status")
    if call.url != "/v1/requests" or wanted is None or status != 200:
        return []
    items = [
        i for page in documents(text) if isinstance(page, dict) for i in page.get("items") or []
    ]
    return [
        Finding(
            "state",
            call.where,
            reader.label,
            f"{named(world, str(i.get('id')))} listed as {wanted} but shown as {i.get('status')}",
        )
        for i in items
        if isinstance(i, dict) and i.get("status") != wanted
    ]


def judge(
    world: World, judge_: Judge, reader: Reader, where: str, text: str, supplied: frozenset[str]
) -> list[Finding]:
    found = [
        Finding("leak", where, reader.label, describe(c))
        for c in judge_.leaks(reader, text, supplied)
    ]
    found += [
        Finding("state", where, reader.label, problem)
        for problem in state_problems(world, reader, documents(text))
    ]
    return found


def normalised(status: int, text: str, supplied: frozenset[str]) -> tuple[int, Any]:
    text = text.lower()
    for value in sorted(supplied, key=len, reverse=True):
        text = text.replace(value.lower(), "<id>")
    docs = documents(text)
    return status, docs if docs else text


Answer = tuple[int, str, frozenset[str]]  # status, body, the ids the caller named


def oracle(
    world: World, reader: Reader, where: str, hidden: Answer, unknown: Answer
) -> Finding | None:
    """A finding when the answer about a hidden subject differs from that about an unknown id
    (the ids the caller named aside)."""
    if normalised(*hidden) == normalised(*unknown):
        return None

    def shown(answer: Answer) -> str:
        status, text, supplied = answer
        text = named(world, text)
        for value in supplied:
            text = text.replace(value, "<id>")
        return f"{status} {short(text, 150)}"

    return Finding("oracle", where, reader.label, f"{shown(hidden)} -- unknown: {shown(unknown)}")


def short(text: str, length: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[:length] + "..."


def report(findings: list[Finding], title: str, limit: int = 120) -> str:
    """Findings grouped by where and what, with the readers that got them."""
    groups: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for f in findings:
        groups[(f.category, f.where, f.detail)].add(f.reader)
    lines = [f"{title}: {len(findings)} findings in {len(groups)} groups"]
    for (category, where, detail), readers in sorted(groups.items()):
        lines.append(f"  [{category}] {where}: {detail}\n      to {', '.join(sorted(readers))}")
    if len(lines) > limit:
        lines = [*lines[:limit], f"  ... and {len(lines) - limit} more groups"]
    return "\n".join(lines)


# --- the HTTP sweep -----------------------------------------------------------------------------


@dataclass
class Sweep:
    findings: list[Finding]
    bodies: dict[tuple[str, str], str]  # (reader, url) of each call without parameters
    calls: int
    seconds: float

    def of(self, *categories: str) -> list[Finding]:
        return [f for f in self.findings if f.category in categories]


#: At most this many pages of one answer are followed.
MAX_PAGES = 200


def next_cursor(response: httpx.Response) -> str | None:
    """The ``next`` of a page ``{..., "next": <cursor>}`` (None: not a page, or the last)."""
    if response.status_code != 200 or not response.headers.get("content-type", "").startswith(
        "application/json"
    ):
        return None
    body = response.json()
    following = body.get("next") if isinstance(body, dict) else None
    return following if isinstance(following, str) else None


async def _send(
    client: httpx.AsyncClient, headers: dict[str, str], call: Call, followed: list[int]
) -> tuple[int, str]:
    """One call; of a list in pages (issue 21) every page, each asked with the same filters
    and judged: the status is the first page's, the text all pages'."""
    if call.content is not None:
        response = await client.request(
            call.method, call.url, content=call.content, headers=headers
        )
        return response.status_code, response.text
    response = await client.request(
        call.method,
        call.url,
        params=call.params or None,
        json=call.body,
        headers=headers,
    )
    status, texts = response.status_code, [response.text]
    params = dict(call.params)
    for _ in range(MAX_PAGES):
        following = next_cursor(response) if call.method == "GET" else None
        if following is None:
            break
        params["cursor"] = following
        response = await client.request("GET", call.url, params=params, headers=headers)
        texts.append(response.text)
        followed[0] += 1
    return status, "\n".join(texts)


def perform(
    world: World, calls: list[tuple[Reader, Call]], followed: list[int] | None = None
) -> list[tuple[int, str]]:
    """Every call in order, through one async client on the test client's own event loop: the
    test client's blocking portal costs a thread hand-off per ASGI message (~7 per call),
    which was most of the sweep's ~6,000 calls' time. In order, not concurrently: some calls
    change state (tokens issued and revoked), and the answers must not depend on timing."""

    pages = followed if followed is not None else [0]

    async def send_all() -> list[tuple[int, str]]:
        transport = httpx.ASGITransport(app=world.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return [
                await _send(client, world.headers(reader), call, pages) for reader, call in calls
            ]

    portal = world.client.portal
    assert portal is not None, "the test client runs the app (inside its with block)"
    return portal.call(send_all)


def perform_one(world: World, reader: Reader, call: Call) -> tuple[int, str]:
    return perform(world, [(reader, call)])[0]


@pytest.fixture(scope="module")
def sweep(world: World) -> Sweep:
    """Every reader calls every route of the table, every variant."""
    judge_ = Judge(world.seed.canaries)
    findings: list[Finding] = []
    bodies: dict[tuple[str, str], str] = {}
    start = time.monotonic()
    made = [
        (reader, call)
        for reader in READERS
        for make in ROUTES.values()
        for call in make(world, reader)
    ]
    sent = [(reader, c) for reader, call in made for c in (call, call.twin) if c is not None]
    followed = [0]  # the pages followed (counted as calls in the report)
    answers = iter(perform(world, sent, followed))
    for reader, call in made:
        status, text = next(answers)
        findings += judge(world, judge_, reader, call.where, text, call.supplied)
        if status >= 500:
            findings.append(Finding("error", call.where, reader.label, short(text)))
        if call.must_refuse and status < 400:
            findings.append(Finding("rights", call.where, reader.label, f"answered {status}"))
        if call.method == "GET" and not call.params:
            bodies[(reader.label, call.url)] = text
        findings += filter_problems(world, reader, call, status, text)
        if call.twin is None:
            continue
        twin_status, twin_text = next(answers)
        findings += judge(world, judge_, reader, call.where, twin_text, call.supplied)
        finding = oracle(
            world,
            reader,
            call.where,
            (status, text, call.supplied),
            (twin_status, twin_text, call.twin.supplied),
        )
        if finding is not None:
            findings.append(finding)
    return Sweep(findings, bodies, len(sent) + followed[0], time.monotonic() - start)


# --- the feed sweep -----------------------------------------------------------------------------

#: Every feed channel kind, with in-scope and out-of-scope (or classified) values. A channel
#: kind of ``domain.policy.CHANNEL_KINDS`` missing here fails ``test_every_channel_kind_...``.
CHANNELS: dict[str, Callable[[World], list[str]]] = {
    "national": lambda w: ["national"],
    "views": lambda w: ["views"],
    "region": lambda w: ["region:VR08", "region:VR23"],
    "provider": lambda w: ["provider:IFV", "provider:DEF-DOPS"],
    "incident": lambda w: [f"incident:{w.id(n)}" for n in ("INC_A", "INC_S", "INC_B")],
    "request": lambda w: [f"request:{w.id(n)}" for n in ("REQ_A", "REQ_S", "REQ_VR23")],
    "capability": lambda w: ["capability:IFV_BLANKETS", "capability:DEF_EVACUATION_TRANSPORT"],
}
FEED_TIMEOUT = 10.0  # seconds for one replay to reach the marker
FEED_DRAIN = 0.05  # seconds to read on after the marker (frames still on their way)


def next_message(ws: WebSocketTestSession, timeout: float) -> tuple[str, dict[str, Any]] | None:
    """The next message within ``timeout`` (the test client's own receive blocks forever)."""

    async def receive() -> Any:
        with anyio.move_on_after(timeout):
            return await ws._send_rx.receive()
        return None

    message = ws.portal.call(receive)
    if message is None:
        return None
    if message["type"] == "websocket.close":
        return "", {"type": "closed", "code": message.get("code")}
    text = message.get("text")
    if text is None:
        text = (message.get("bytes") or b"").decode()
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = {"type": "unparsable"}
    return text, parsed if isinstance(parsed, dict) else {"type": "unparsable"}


def replay(
    world: World, reader: Reader, channel: str, timeout: float = FEED_TIMEOUT
) -> tuple[list[str], bool]:
    """Subscribe to ``channel`` (and the reader's marker channel) with a replay of everything;
    read until the marker subject arrives: then every earlier event and row has been sent."""
    marker_channel, marker_name = MARKER_CHANNELS[reader.org]
    marker = str(world.id(marker_name))
    wanted = [channel] if channel == marker_channel else [channel, marker_channel]
    need_row = "views" in wanted
    seen_event = seen_row = resubscribed = False
    texts: list[str] = []
    with world.client.websocket_connect("/v1/feed", headers=world.headers(reader)) as ws:
        ws.send_text(json.dumps({"subscribe": wanted, "after": 0, "after_change": 0}))
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            got = next_message(ws, remaining)
            if got is None:
                break
            text, message = got
            texts.append(text)
            kind = message.get("type")
            if kind == "closed":
                break
            refused = kind == "error" and message.get("code") == "channel_not_permitted"
            if refused and not resubscribed:  # replay the marker channel alone
                resubscribed, need_row = True, False
                ws.send_text(
                    json.dumps({"subscribe": [marker_channel], "after": 0, "after_change": 0})
                )
            if kind == "frame":
                seen_event |= any(e.get("stream_id") == marker for e in message.get("events", ()))
                seen_row |= any(row.get("id") == marker for row in message.get("rows", ()))
            if seen_event and (seen_row or not need_row):
                while (got := next_message(ws, FEED_DRAIN)) is not None:
                    texts.append(got[0])
                return texts, True
    return texts, False


def judge_message(
    world: World,
    judge_: Judge,
    reader: Reader,
    where: str,
    text: str,
    supplied: frozenset[str],
    subscribed: frozenset[str],
) -> list[Finding]:
    """A feed message; a frame judged per event (named by the subscribed channels it came
    on), per row and the rest. The ids the reader named count as supplied only in answers to
    its own messages, never in frames."""
    docs = documents(text)
    message = docs[0] if len(docs) == 1 and isinstance(docs[0], dict) else {}
    if message.get("type") != "frame":
        kind = message.get("type", "message")
        return judge(world, judge_, reader, f"{where} {kind}", text, supplied)
    prefix = "live feed" if where.startswith("live") else "feed"
    found: list[Finding] = []
    none: frozenset[str] = frozenset()
    for event in message.get("events", ()):
        came_on = sorted(set(event.get("channels") or ()) & subscribed) or ["?"]
        part = named(world, f"{prefix} {','.join(came_on)} event {event.get('type')}")
        found += judge(world, judge_, reader, part, json.dumps(event), none)
    for row in message.get("rows", ()):
        part = f"{prefix} views row {row.get('projection')}"
        found += judge(world, judge_, reader, part, json.dumps(row), none)
    rest = {k: v for k, v in message.items() if k not in ("events", "rows")}
    part = f"{prefix} frame" + (" summary" if "summary" in rest else "")
    found += judge(world, judge_, reader, part, json.dumps(rest), none)
    return found


@dataclass
class FeedSweep:
    findings: list[Finding]
    texts: dict[tuple[str, str], list[str]]  # (reader, channel) -> every message
    connections: int
    seconds: float


@pytest.fixture(scope="module")
def feed(world: World) -> FeedSweep:
    """Every reader subscribes to every channel of the table, one connection each."""
    judge_ = Judge(world.seed.canaries)
    findings: list[Finding] = []
    texts: dict[tuple[str, str], list[str]] = {}
    start = time.monotonic()
    connections = 0
    stalled: set[Reader] = set()
    for reader in READERS:
        for kind, values in CHANNELS.items():
            for channel in values(world):
                where = f"feed {kind}:{named(world, channel.partition(':')[2]) or '-'}"
                supplied = ids(*filter(None, [as_id(channel.partition(":")[2])]))
                # Once a reader's replay missed its marker, the others wait less (bounded).
                timeout = FEED_TIMEOUT if reader not in stalled else 0.5
                messages, complete = replay(world, reader, channel, timeout)
                if not complete:
                    stalled.add(reader)
                subscribed = frozenset((channel, MARKER_CHANNELS[reader.org][0]))
                connections += 1
                texts[(reader.label, channel)] = messages
                for text in messages:
                    findings += judge_message(
                        world, judge_, reader, where, text, supplied, subscribed
                    )
                if not complete:
                    findings.append(
                        Finding(
                            "incomplete",
                            where,
                            reader.label,
                            f"no marker on {MARKER_CHANNELS[reader.org][0]} within "
                            f"{FEED_TIMEOUT} s; last: {short(messages[-1] if messages else '')}",
                        )
                    )
    return FeedSweep(findings, texts, connections, time.monotonic() - start)


# --- the tests ----------------------------------------------------------------------------------


def test_every_served_route_is_in_the_table(world: World) -> None:
    served = served_routes(world.app)
    unknown = sorted(served - set(ROUTES))
    assert not unknown, (
        f"routes the access test does not know (add each to ROUTES with its calls): {unknown}"
    )
    assert ("WS", "/v1/feed") in served and ("POST", "/v1/events") in served, served


def test_the_seed_raised_alerts_and_subscriptions(world: World) -> None:
    """The sweep of the alert and subscription routes has something to find (issue 24)."""
    assert world.service.webhooks.new_alerts(0), "no alert raised from the seed"
    assert set(world.seed.subscriptions) == {"VR08", "VR05"}


def test_every_channel_kind_is_in_the_table() -> None:
    unknown = sorted(set(policy.CHANNEL_KINDS) - set(CHANNELS))
    assert not unknown, f"feed channel kinds the access test does not know: {unknown}"


def test_the_seed_has_canaries_for_every_reader_to_miss_and_to_see(world: World) -> None:
    """Not vacuous: every reader may see some canaries and (but the nation at the highest
    clearance) must miss others; each canary shown to a reader is one it may see."""
    canaries = world.seed.canaries
    assert len({c.value for c in canaries}) == len(canaries), "canaries are unique"
    for reader in READERS:
        seen = [c for c in canaries if c.audience(reader)]
        everything = policy.is_national(reader) and reader.clearance is ZG
        assert seen and (everything or len(seen) < len(canaries)), reader.label
        wrong = [c.what for c in canaries if c.shown_to(reader) and not c.audience(reader)]
        assert not wrong, (reader.label, wrong)


def test_the_feed_shows_no_reader_what_it_may_not_see(feed: FeedSweep) -> None:
    problems = [f for f in feed.findings if f.category in ("leak", "state", "incomplete")]
    assert not problems, report(problems, f"feed ({feed.connections} connections)")


def test_the_feed_carries_what_a_reader_may_see(world: World, feed: FeedSweep) -> None:
    """The national coordinator at every clearance gets every step it may see on ``national``;
    VR08's coordinator every step of its region on ``region:VR08``."""
    missing = []
    for reader in READERS:
        if reader.org == "LOCC":
            channel, regions = "national", None
        elif (reader.org, reader.role) == ("VR08", "coordinator"):
            channel, regions = "region:VR08", {"VR08"}
        else:
            continue
        text = "\n".join(feed.texts[(reader.label, channel)]).lower()
        for canary in world.seed.canaries:
            subject = world.subjects.get(canary.subject)
            if (
                canary.kind not in ("text", "message_id")
                or subject is None
                or subject.name.startswith("M_")
                or not canary.audience(reader)
                or (regions is not None and not regions & set(subject.concerns.regions))
            ):
                continue
            if canary.value.lower() not in text:
                missing.append(
                    Finding("missing", f"feed {channel}", reader.label, describe(canary))
                )
    assert not missing, report(missing, "allowed readers missing steps on the feed")


def test_the_views_replay_carries_a_row_of_every_subject_a_reader_may_see(
    world: World, feed: FeedSweep
) -> None:
    """``views`` replayed from change 0: a row (at the reader's level) of every subject the
    reader may see, for the nation at every clearance, VR08's coordinator and IFV."""
    missing = []
    for reader in READERS:
        if reader.org != "LOCC" and (reader.org, reader.role) not in (
            ("VR08", "coordinator"),
            ("IFV", "operator"),
        ):
            continue
        rows = {
            row.get("id")
            for text in feed.texts[(reader.label, "views")]
            for message in documents(text)
            if isinstance(message, dict)
            for row in message.get("rows", ())
        }
        for subject in world.subjects.values():
            if subject.name[:2] in ("M_", "L_") or not subject.visible_to(reader):
                continue
            if str(subject.id) not in rows:
                missing.append(
                    Finding("missing", "feed views", reader.label, f"no row of {subject.name}")
                )
    assert not missing, report(missing, "rows missing from the views replay")


def test_no_answer_shows_a_reader_what_it_may_not_see(sweep: Sweep) -> None:
    leaks = sweep.of("leak")
    assert not leaks, report(leaks, f"leaks over HTTP ({sweep.calls} calls)")


def test_hidden_steps_leave_no_trace_in_what_uncleared_readers_get(sweep: Sweep) -> None:
    problems = sweep.of("state")
    assert not problems, report(problems, "state produced by secret steps")


def test_a_hidden_subject_answers_exactly_like_an_unknown_one(sweep: Sweep) -> None:
    oracles = sweep.of("oracle")
    assert not oracles, report(oracles, "hidden subjects that answer unlike unknown ones")


def test_token_routes_and_steps_follow_the_policy(sweep: Sweep) -> None:
    wrong = sweep.of("rights")
    assert not wrong, report(wrong, "calls the policy refuses that succeeded")


def test_no_route_fails(sweep: Sweep) -> None:
    errors = sweep.of("error")
    assert not errors, report(errors, "server errors (answers that could not be judged)")


def test_allowed_readers_see_their_canaries(world: World, sweep: Sweep) -> None:
    """In the subject's detail, its timeline (auditing roles), the token list
    (administrators) and the rejection log (auditors, administrators)."""
    missing = []
    for reader in READERS:
        for canary in world.seed.canaries:
            if canary.shown_in is None or not canary.shown_to(reader):
                continue
            body = sweep.bodies.get((reader.label, canary.shown_in))
            where = "GET " + named(world, canary.shown_in)
            if body is None:
                missing.append(Finding("missing", where, reader.label, "not called"))
            elif canary.value.lower() not in body.lower():
                missing.append(Finding("missing", where, reader.label, describe(canary)))
    assert not missing, report(missing, "allowed readers that do not see their canaries")


def test_a_step_made_impossible_by_a_hidden_step_names_nothing_hidden(world: World) -> None:
    """IFV's uncleared operator decides REQ_C (secretly refused: it sees it forwarded to it);
    LOCC's uncleared coordinator assesses REQ_B (secretly refused: it sees it received). Both
    are refused with ``409 not_possible_now`` whose reason names nothing hidden."""
    judge_ = Judge(world.seed.canaries)
    probes = (
        (Reader("IFV", "operator", UNCL), "REQ_C", "request.decided", {"outcome": "granted"}),
        (
            Reader("LOCC", "coordinator", UNCL),
            "REQ_B",
            "request.assessed",
            {"forward": True, "findings": "access probe"},
        ),
    )
    findings: list[Finding] = []
    for reader, name, type_, data in probes:
        body = {
            "type": type_,
            "subject": str(world.id(name)),
            "message_id": f"probe-{uuid4().hex}",
            "occurred_at": now(),
            "data": data,
        }
        status, text = perform_one(world, reader, Call("POST", "/v1/events", "", body=body))
        where = f"POST /v1/events [{type_} on {name}]"
        findings += judge(world, judge_, reader, where, text, ids(world.id(name)))
        docs = documents(text)
        error = docs[0].get("error", {}) if docs and isinstance(docs[0], dict) else {}
        if (status, error.get("code")) != (409, "not_possible_now"):
            detail = f"{status} {short(text)} (expected 409 not_possible_now)"
            findings.append(Finding("oracle", where, reader.label, detail))
        if "refused" in str(error.get("reason", "")).lower():
            detail = f"the reason names the hidden refusal: {short(str(error.get('reason')))}"
            findings.append(Finding("leak", where, reader.label, detail))
    assert not findings, report(findings, "steps made impossible by hidden steps")


def test_live_frames_show_no_reader_what_it_may_not_see(world: World) -> None:
    """The live path: every reader subscribed (from now, no replay) to every channel of the
    table it may have, while secret steps on unclassified subjects and an out-of-scope step
    are recorded; read until the reader's live marker arrives."""
    channels = [c for values in CHANNELS.values() for c in values(world)]
    findings: list[Finding] = []
    with contextlib.ExitStack() as stack:
        Session = tuple[WebSocketTestSession, list[str], frozenset[str], frozenset[str]]
        sessions: dict[Reader, Session] = {}
        for reader in READERS:
            ws = stack.enter_context(
                world.client.websocket_connect("/v1/feed", headers=world.headers(reader))
            )
            wanted = list(dict.fromkeys([*channels, LIVE_MARKER_CHANNELS[reader.org][0]]))
            for channel in wanted:  # one by one: a refused channel refuses its message
                ws.send_text(json.dumps({"subscribe": [channel]}))
            texts: list[str] = []
            answers, deadline = 0, time.monotonic() + FEED_TIMEOUT
            while answers <= len(wanted) and (remaining := deadline - time.monotonic()) > 0:
                got = next_message(ws, remaining)
                if got is None:
                    break
                texts.append(got[0])
                answers += got[1].get("type") in ("welcome", "subscribed", "error")
            supplied = ids(*filter(None, (as_id(c.partition(":")[2]) for c in wanted)))
            sessions[reader] = (ws, texts, supplied, frozenset(wanted))
        before = len(world.seed.canaries)
        live_steps(world.seed)
        live = [
            c
            for c in world.seed.canaries[before:]
            if c.kind in ("text", "message_id") and not c.subject.startswith("L_")
        ]
        judge_ = Judge(world.seed.canaries)
        deadline = time.monotonic() + FEED_TIMEOUT  # for all: the markers are recorded
        for reader, (ws, texts, supplied, subscribed) in sessions.items():
            marker = str(world.id(LIVE_MARKER_CHANNELS[reader.org][1]))
            seen = False
            while not seen:
                got = next_message(ws, max(deadline - time.monotonic(), 0.2))
                if got is None:
                    break
                texts.append(got[0])
                events = got[1].get("events", ()) if got[1].get("type") == "frame" else ()
                seen = any(e.get("stream_id") == marker for e in events)
            while seen and (got := next_message(ws, FEED_DRAIN)) is not None:
                texts.append(got[0])
            for text in texts:
                findings += judge_message(
                    world, judge_, reader, "live feed", text, supplied, subscribed
                )
            if not seen:
                last = short(texts[-1] if texts else "")
                findings.append(
                    Finding("incomplete", "live feed", reader.label, f"no live marker; {last}")
                )
            if reader.org == "LOCC":  # not vacuous: the nation gets what it is cleared for
                everything = "\n".join(texts).lower()
                findings += [
                    Finding("missing", "live feed", reader.label, describe(c))
                    for c in live
                    if c.audience(reader) and c.value.lower() not in everything
                ]
    assert not findings, report(findings, "the live feed")


def test_booking_a_hidden_capacity_answers_like_an_unknown_one(world: World) -> None:
    """IFV's operators, not cleared for IFV's stg_zeer_geheim blankets, try to commit them to
    an approved request they see: refused exactly as for an unknown capacity, naming nothing.
    (Last: where the policy fails, the booking is recorded.)"""
    judge_ = Judge(world.seed.canaries)
    request = world.subjects["REQ_A"]
    hidden = world.subjects["CAP_ZG"]
    [line] = [c.value for c in world.seed.canaries if c.what == "REQ_A line id"]
    findings: list[Finding] = []
    for reader in READERS:
        if reader.org != "IFV" or hidden.visible_to(reader):
            continue

        def commit(capacity_id: UUID) -> tuple[Call, frozenset[str]]:
            message, booking = f"probe-{uuid4().hex}", uuid4()
            body = {
                "type": "request.committed",
                "subject": str(request.id),
                "message_id": message,
                "occurred_at": now(),
                "data": {
                    "capacity_id": str(capacity_id),
                    "booking_id": str(booking),
                    "line_id": line,
                    "quantity": 1,
                },
            }
            supplied = ids(capacity_id, booking) | {message}
            return Call("POST", "/v1/events", "", body=body, supplied=supplied), supplied

        where = "POST /v1/events [request.committed of CAP_ZG to REQ_A]"
        call, supplied = commit(hidden.id)
        twin, twin_supplied = commit(uuid4())
        (status, text), (twin_status, twin_text) = perform(world, [(reader, call), (reader, twin)])
        findings += judge(world, judge_, reader, where, text, supplied)
        if status < 400:
            findings.append(Finding("rights", where, reader.label, f"answered {status}"))
        finding = oracle(
            world, reader, where, (status, text, supplied), (twin_status, twin_text, twin_supplied)
        )
        if finding is not None:
            findings.append(finding)
    assert not findings, report(findings, "booking a capacity the operator may not see")
