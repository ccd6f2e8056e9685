"""The read models, computed from the projections' rows for one reader at one moment.

- capacity overview (*capaciteitenoverzicht*): per capability, provider and region;
- operational picture (*MLOB*): per incident, and a national summary;
- request board: open requests, who acts next, time in step, overdue against targets;
- scarcity advice: where open demand exceeds what is available, a proposed allocation.

Every function takes only rows the reader may see (:func:`visible`), so counts and totals are
computed per clearance: a classified item never contributes to what an uncleared reader gets.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.capacity import CapacityClass
from domain.envelope import Classification
from domain.exercise import ExerciseScope
from domain.incident import GripLevel
from domain.lifecycle import RequestStatus
from domain.policy import Reader, ScopeKind, row_judge, scope_keys, scope_of
from projections.levels import visible_rows

Row = dict[str, Any]

#: Requests still in the procedure (a draft is not yet anyone else's business).
OPEN = (
    RequestStatus.SUBMITTED,
    RequestStatus.RECEIVED,
    RequestStatus.ASSESSED,
    RequestStatus.FORWARDED,
    RequestStatus.DECIDING,
    RequestStatus.APPROVED,
    RequestStatus.APPEALED,
)
OPEN_VALUES = frozenset(s.value for s in OPEN)
#: Rows written before the domain's rule was kept in them (``demanding``; served while a
#: rebuild runs): the statuses whose demand counted then.
_DEMANDING_BEFORE = OPEN_VALUES - {RequestStatus.APPEALED.value}


def demanding(request: Mapping[str, Any]) -> bool:
    """Whether a request's wants still count against supply: the domain's rule
    (:attr:`domain.request.AssistanceRequest.demanding`), kept in its row."""
    if "demanding" in request:
        return bool(request["demanding"])
    return request["status"] in _DEMANDING_BEFORE


CAPACITY_STATES = (
    "available",
    "reserved",
    "made_ready",
    "committed",
    # dispatched is not arrived (domain.md, settled questions): on its way, and on scene with
    # control handed to the civil authority; ``deployed`` (their sum) is added beside them
    "en_route",
    "on_scene",
    "returning",
    "unavailable",
    "abroad",
    # held by steps above the reader's clearance (need to know): no request, org or text
    "withheld",
)

#: The order in which supply is allocated, guaranteed capacity first. domain.md names the classes
#: (§Capacities) and leaves priority to the Minister on LOCC's advice: this order, and rules 3-5
#: below, are mlob's default for that advice, not law.
CLASS_ORDER = {
    CapacityClass.GUARANTEED.value: 0,
    CapacityClass.BY_AGREEMENT.value: 1,
    CapacityClass.BEST_EFFORT.value: 2,
}

SCARCITY_RULES = (
    "1. a priority decided by the Minister of J&V for the capability comes first, lowest rank "
    "first (domain.md: the Minister decides priority under scarcity, on LOCC's advice)",
    "2. urgent requests before normal ones (factsheet-bijstand-politie §1, §3)",
    "3. the higher GRIP level of the request's incident first",
    "4. the earlier submission first",
    "5. supply is allocated from guaranteed capacity first, then by agreement, then best "
    "effort; within a class, the shortest notice first",
)


def visible(
    rows: Iterable[Row],
    clearance: Classification,
    exercise: ExerciseScope = ExerciseScope.REAL,
) -> list[Row]:
    """The rows a reader may see: each subject's row at the highest level within clearance
    (projections/levels.py; subjects above it are left out), of the subjects ``exercise``
    admits (real only unless asked). Scope is the policy's (:func:`domain.policy.may_see_row`)."""
    return [r for r in visible_rows(rows, clearance.rank) if exercise.admits(r["exercise"])]


def in_scope(reader: Reader, rows: Iterable[Row]) -> list[Row]:
    """The rows within the reader's scope (domain/policy.py)."""
    judge = row_judge(reader)
    return [r for r in rows if judge(r)]


def summary_for(reader: Reader, incidents: list[Row], requests: list[Row]) -> dict[str, Any]:
    """The picture's summary for a reader, from every row within its clearance: the nation's
    for national readers; national totals and its own region's details for a safety region;
    for anyone else only what it sees itself."""
    reach = summary_reach(reader)
    if reach.scope is not None:
        return national_summary(in_scope(reader, incidents), in_scope(reader, requests))
    summary = national_summary(incidents, requests)
    return summary if reach.region is None else regional_summary(summary, reach.region)


def withhold_others(reader: Reader, advice: dict[str, Any], own: set[str]) -> dict[str, Any]:
    """The scarcity advice for a reader: lines of requests outside its scope show only their
    place and quantities (no request, requester, urgency, GRIP, times or capacities)."""
    if scope_of(reader).kind is ScopeKind.NATIONAL:
        return advice
    for capability in advice["capabilities"]:
        capability["proposal"] = [
            p
            if p["request_id"] in own
            else {
                "rank": p["rank"],
                "request_id": None,
                "line_id": None,
                "requester": "another region",
                "wanted": p["wanted"],
                "allocated": p["allocated"],
            }
            for p in capability["proposal"]
        ]
    return advice


def _parse(moment: str | None) -> datetime | None:
    return datetime.fromisoformat(moment) if moment else None


# --- capacity overview ----------------------------------------------------------------------


def capacity_states(capacity: Row, approved: frozenset[str]) -> dict[str, int]:
    """The quantity of one capacity per state; they add up to what exists. A capacity made
    ready for an approved request is *reserved* for it; made ready before approval is the
    informal *gereedstelling*."""
    states = dict.fromkeys(CAPACITY_STATES, 0)
    for booking in capacity["bookings"]:
        state = booking["state"]
        if state == "made_ready" and booking["request_id"] in approved:
            state = "reserved"
        if state == "deployed":  # a row of the code before issue 18, served while rebuilding
            state = "on_scene"
        states[state] += booking["quantity"]
    states["unavailable"] = capacity["unavailable"]
    states["abroad"] = capacity["abroad"]
    states["withheld"] = capacity.get("withheld", 0)
    states["available"] = capacity["exists"] - sum(v for k, v in states.items() if k != "available")
    return states


def awaiting_approval(capacities: Iterable[Row]) -> set[str]:
    """The requests for which capacities are made ready: whether each is approved says whether
    that capacity is reserved (:func:`capacity_states`), all the overview asks of requests
    besides their demand."""
    return {
        b["request_id"] for c in capacities for b in c["bookings"] if b["state"] == "made_ready"
    }


def with_deployed(states: Mapping[str, int]) -> dict[str, int]:
    """The states and ``deployed``: en route and on scene together (for existing clients;
    not one of the states that add up to what exists)."""
    return {**states, "deployed": states["en_route"] + states["on_scene"]}


def demand_counted(
    requests: Iterable[Row], exercise: ExerciseScope = ExerciseScope.REAL
) -> tuple[list[Row], list[Row]]:
    """The requests whose demand counts against supply, and those shown apart. Exercise
    demand is never real demand (domain.md, settled questions: exercise or real): where real
    subjects are shown (``exercise`` false or all) only real requests count, an exercise's
    demand is shown apart (``exercise_demand``) and never ranked against real requests; shown
    alone (``exercise=true``), the exercises' demand is the demand of that picture."""
    rows = list(requests)
    if exercise is ExerciseScope.EXERCISE:
        return rows, []
    real = [r for r in rows if not r.get("exercise", False)]
    return real, [r for r in rows if r.get("exercise", False)]


def open_demand(requests: Iterable[Row]) -> dict[str, int]:
    """Per capability: what open requests ask for and is not yet committed."""
    demand: dict[str, int] = defaultdict(int)
    for request in requests:
        if not demanding(request):
            continue
        for line in request["lines"]:
            demand[line["capability"]] += max(0, wanted(line) - line["committed"])
    return dict(demand)


def wanted(line: Row) -> int:
    """What an open request wants of a line, committed or not: the domain's rule
    (:meth:`domain.request.AssistanceRequest.wanted`), kept in the line's row."""
    # Rows written before the rule (served while a rebuild runs) want the whole line.
    quantity: int = line["wanted"] if "wanted" in line else line["quantity"]
    return quantity


def capacity_overview(
    capacities: list[Row], requests: list[Row], exercise: ExerciseScope = ExerciseScope.REAL
) -> dict[str, Any]:
    """The overview of ``capacities`` (those ``exercise`` admits). ``requests`` may hold
    requests ``exercise`` does not admit: a capacity made ready for an approved request is
    reserved whatever the request is (real equipment made ready for an approved exercise is
    reserved in the real overview too: domain.md, settled questions), but only the requests
    ``exercise`` admits are its demand."""
    approved = frozenset(r["id"] for r in requests if r["status"] == RequestStatus.APPROVED.value)
    requests = [r for r in requests if exercise.admits(r.get("exercise", False))]
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    totals: dict[str, dict[str, Any]] = {}
    for capacity in capacities:
        states = capacity_states(capacity, approved)
        key = (capacity["capability"], capacity["provider"], capacity["home_region"] or "")
        for bucket in (
            groups.setdefault(key, _empty(*key)),
            totals.setdefault(capacity["capability"], _empty(capacity["capability"])),
        ):
            bucket["exists"] += capacity["exists"]
            for state, quantity in states.items():
                bucket[state] += quantity
            bucket["by_class"][capacity["class"]] = (
                bucket["by_class"].get(capacity["class"], 0) + capacity["exists"]
            )
            bucket["capacities"] += 1
            # Held for exercises (already in the states above: this says what for).
            bucket["for_exercise"] += capacity.get("for_exercise", 0)
    counted, apart = demand_counted(requests, exercise)
    demand = open_demand(counted)
    drills = open_demand(apart)
    per_capability = []
    for code in sorted(set(totals) | set(demand) | set(drills)):
        total = totals.get(code, _empty(code))
        wanted = demand.get(code, 0)
        per_capability.append(
            {
                **with_deployed(total),
                "open_demand": wanted,
                # exercises' open demand where real subjects are shown: apart, no shortage
                "exercise_demand": drills.get(code, 0),
                "shortage": max(0, wanted - total["available"]),
            }
        )
    return {
        "rows": [with_deployed(groups[k]) for k in sorted(groups)],
        "capabilities": per_capability,
        "shortages": [c for c in per_capability if c["shortage"] > 0],
    }


def _empty(capability: str, provider: str | None = None, region: str | None = None) -> Row:
    row: Row = {"capability": capability}
    if provider is not None:
        row["provider"] = provider
        row["region"] = region or None
    row.update({"exists": 0, **dict.fromkeys(CAPACITY_STATES, 0), "by_class": {}})
    row["capacities"] = 0
    row["for_exercise"] = 0
    return row


# --- operational picture --------------------------------------------------------------------


def _line_capabilities(request: Row) -> dict[str, str]:
    return {line["line_id"]: line["capability"] for line in request["lines"]}


def picture(incidents: list[Row], requests: list[Row], now: datetime) -> dict[str, Any]:
    return {
        "incidents": picture_items(incidents, requests),
        "summary": national_summary(incidents, requests),
    }


@dataclass(frozen=True)
class PicturePage:
    """A page of the picture for a reader: its incidents' rows, their requests' rows, how
    many incidents there are in all, and the summary."""

    incidents: list[Row]
    requests: list[Row]
    total: int
    summary: dict[str, Any]

    def items(self) -> list[Row]:
        return picture_items(self.incidents, self.requests)


def picture_page(
    reader: Reader, incidents: list[Row], requests: list[Row], offset: int, limit: int
) -> PicturePage:
    """The page at ``offset`` (at most ``limit`` incidents in :func:`picture_order`) of the
    picture a reader gets from every row within its clearance, with the summary: only the
    page's incidents are built into items (building every incident's item was most of an
    answer's read-model time at a million events)."""
    judge = row_judge(reader)
    every = sorted((i for i in incidents if judge(i)), key=picture_order)
    page = every[offset : offset + limit]
    wanted = {i["id"] for i in page}
    theirs = [r for r in requests if r["incident_id"] in wanted and judge(r)]
    return PicturePage(page, theirs, len(every), summary_for(reader, incidents, requests))


def picture_order(incident: Row) -> tuple[Any, ...]:
    """The picture's order of incidents: open first, then by title (ties by id)."""
    return (incident["closed"], incident["title"], incident["id"])


def picture_items(incidents: list[Row], requests: list[Row]) -> list[Row]:
    """The picture's incidents, open first, then by title, each with its requests (of
    ``requests``) and what is deployed for it."""
    by_incident: dict[str, list[Row]] = defaultdict(list)
    for request in requests:
        if request["incident_id"]:
            by_incident[request["incident_id"]].append(request)
    items = []
    for incident in sorted(incidents, key=picture_order):
        mine = by_incident.get(incident["id"], [])
        en_route, on_scene = deployment(mine)
        deployed = {
            code: en_route.get(code, 0) + on_scene.get(code, 0)
            for code in sorted(set(en_route) | set(on_scene))
        }
        items.append(
            {
                "id": incident["id"],
                "title": incident["title"],
                "regions": incident["regions"],
                "grip": incident["grip"],
                "phase": incident["phase"],
                "closed": incident["closed"],
                "latest_report": incident["latest_report"],
                "exercise": incident["exercise"],
                "classification": incident["classification"],
                "requests": [
                    {
                        "id": r["id"],
                        "kind": r["kind"],
                        "title": r["title"],
                        "requester": r["requester"],
                        "status": r["status"],
                        "step": r["step"],
                        "next_actor": r["next_actor"],
                        "urgent": r["urgent"],
                        "submitted_at": r["submitted_at"],  # the order (the screen keeps it)
                    }
                    for r in sorted(mine, key=lambda r: (r["submitted_at"] or "", r["id"]))
                ],
                # dispatched is not arrived: on its way, and on scene (control handed over);
                # ``deployed`` is their sum, kept for existing clients
                "en_route": en_route,
                "on_scene": on_scene,
                "deployed": deployed,
            }
        )
    return items


#: A request line's booking steps that are deployed, by the state they are in.
DEPLOYED_STEPS = {"dispatched": "en_route", "arrived": "on_scene"}


def deployment(requests: Iterable[Row]) -> tuple[dict[str, int], dict[str, int]]:
    """Per capability, what these requests have en route (dispatched) and on scene (arrived)."""
    found: dict[str, dict[str, int]] = {"en_route": defaultdict(int), "on_scene": defaultdict(int)}
    for request in requests:
        capabilities = _line_capabilities(request)
        for booking in request["bookings"]:
            state = DEPLOYED_STEPS.get(booking["step"])
            if state is not None:
                found[state][capabilities[booking["line_id"]]] += booking["quantity"]
    return (
        dict(sorted(found["en_route"].items())),
        dict(sorted(found["on_scene"].items())),
    )


def national_summary(incidents: list[Row], requests: list[Row]) -> dict[str, Any]:
    """Per region its open incidents, their highest GRIP and its requests by status; the
    requests by kind and status; the open incidents and requests — counted here from rows, put
    together by :func:`summary_of_counts` as the store's counts are (mlob/read/summaries.py)."""
    open_incidents = [i for i in incidents if not i["closed"]]
    per_region: dict[str, list[int]] = {}  # code -> [open incidents, highest GRIP rank]
    for incident in open_incidents:
        rank = GripLevel(incident["grip"]).rank
        for code in incident["regions"]:
            entry = per_region.setdefault(code, [0, rank])
            entry[0] += 1
            entry[1] = max(entry[1], rank)
    kinds = Counter((r["kind"], r["status"]) for r in requests)
    regions = Counter((code, r["status"]) for r in requests for code in r["regions"])
    return summary_of_counts(
        [(code, count, rank) for code, (count, rank) in per_region.items()],
        len(open_incidents),
        [(kind, status, n) for (kind, status), n in kinds.items()],
        [(code, status, n) for (code, status), n in regions.items()],
    )


#: A GRIP level by its rank (the summary's highest GRIP is counted as a rank).
_GRIP_OF_RANK = {g.rank: g.value for g in GripLevel}


def summary_of_counts(
    incident_regions: Iterable[tuple[str, int, int | None]],
    open_incidents: int,
    requests: Iterable[tuple[str, str, int]],
    request_regions: Iterable[tuple[str, str, int]],
) -> dict[str, Any]:
    """:func:`national_summary` from counts (mlob/read/summaries.py): per region its open
    incidents and their highest GRIP rank; the open incidents; the requests per kind and
    status; the requests per region and status."""
    by_region: dict[str, dict[str, Any]] = {}

    def region(code: str) -> dict[str, Any]:
        return by_region.setdefault(
            code, {"open_incidents": 0, "highest_grip": None, "requests": {}}
        )

    for code, count, rank in incident_regions:
        entry = region(code)
        entry["open_incidents"] = int(count)
        entry["highest_grip"] = None if rank is None else _GRIP_OF_RANK[int(rank)]
    by_kind: dict[str, int] = defaultdict(int)
    by_status: dict[str, int] = defaultdict(int)
    for kind, status, count in requests:
        by_kind[kind] += int(count)
        by_status[status] += int(count)
    for code, status, count in request_regions:
        region(code)["requests"][status] = int(count)
    return {
        "by_region": {
            code: {**entry, "requests": dict(sorted(entry["requests"].items()))}
            for code, entry in sorted(by_region.items())
        },
        "by_kind": dict(sorted(by_kind.items())),
        "by_status": dict(sorted(by_status.items())),
        "open_incidents": int(open_incidents),
        "open_requests": sum(n for s, n in by_status.items() if s in OPEN_VALUES),
    }


@dataclass(frozen=True)
class SummaryReach:
    """What a reader's summary is counted over (:func:`summary_for` stated as data): the rows
    sharing a key with ``scope`` (None: every row within its clearance), and the one region
    whose details it keeps (None: every region's)."""

    scope: frozenset[str] | None
    region: str | None


def summary_reach(reader: Reader) -> SummaryReach:
    """:func:`summary_for`'s rule: national readers the nation's summary, a safety region
    national totals with its own region's details, anyone else what it sees itself."""
    scope = scope_of(reader)
    if scope.kind is ScopeKind.NATIONAL:
        return SummaryReach(None, None)
    if scope.kind is ScopeKind.REGION and scope.region:
        return SummaryReach(None, scope.region)
    return SummaryReach(scope_keys(reader), None)


def regional_summary(summary: dict[str, Any], region: str) -> dict[str, Any]:
    """The national summary for a region: totals, and only its own region's details."""
    return {
        **summary,
        "by_region": {k: v for k, v in summary["by_region"].items() if k == region},
    }


# --- request board --------------------------------------------------------------------------

#: The board target of an outstanding duty to inform, from when it fell due.
INFORM = "inform"
#: A step a request waits in before submission that is on the board: an art. 58 draft awaiting
#: LE Preparatie's confirmation (projections/specs.py).
EXHAUSTION_CHECK = "exhaustion_check"


@dataclass(frozen=True)
class Targets:
    """How long a request may wait in a step before it is overdue (minutes), urgent and
    normal; and how long an urgent phoned-in request may stay unformalised."""

    steps: Mapping[str, tuple[int, int]]
    formalisation: int

    def for_step(self, status: str, urgent: bool) -> timedelta | None:
        target = self.steps.get(status)
        if target is None:
            return None
        return timedelta(minutes=target[0] if urgent else target[1])

    def as_dict(self) -> dict[str, Any]:
        """As stored (mlob/read/readstore.py) and shown (``mlob board targets``)."""
        return {
            "steps": {
                step: {"urgent": urgent, "normal": normal}
                for step, (urgent, normal) in sorted(self.steps.items())
            },
            "formalisation": self.formalisation,
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Targets:
        steps = {
            step: (int(target["urgent"]), int(target["normal"]))
            for step, target in doc["steps"].items()
        }
        # Targets stored before a key existed (``inform``, issue 18) take its default: the
        # same in every process, since every process runs this code.
        for key, default in DEFAULT_TARGETS.steps.items():
            steps.setdefault(key, default)
        return cls(steps=steps, formalisation=int(doc["formalisation"]))


#: Defaults, in minutes (urgent, normal). LOCC is 24/7: an urgent request is received within
#: a quarter of an hour and assessed within the hour.
DEFAULT_TARGETS = Targets(
    steps={
        RequestStatus.SUBMITTED.value: (15, 240),  # LOCC receives it
        RequestStatus.RECEIVED.value: (60, 1440),  # LOCC assesses it
        RequestStatus.ASSESSED.value: (30, 480),  # LOCC forwards it
        RequestStatus.FORWARDED.value: (120, 2880),  # the provider decides
        RequestStatus.DECIDING.value: (120, 2880),  # the next decider decides
        RequestStatus.APPROVED.value: (240, 4320),  # the provider commits capacity
        RequestStatus.APPEALED.value: (1440, 10080),  # the Minister decides the appeal
        INFORM: (60, 1440),  # a duty to inform is done once it fell due (domain/duties.py)
    },
    formalisation=24 * 60,
)


def _dues(
    request: Row, targets: Targets
) -> tuple[datetime | None, datetime | None, list[datetime | None]]:
    """A board item's deadlines: its step's, its written form's, each outstanding duty's
    (None: no target, or nothing outstanding)."""
    since = _parse(request["status_since"])
    assert since is not None
    target = targets.for_step(request["step"], request["urgent"])
    step = since + target if target is not None else None
    submitted = _parse(request.get("submitted_at"))
    form = None
    if request.get("formalisation_outstanding") and submitted is not None:
        form = submitted + timedelta(minutes=targets.formalisation)
    inform = targets.for_step(INFORM, request["urgent"])
    duties: list[datetime | None] = []
    for duty in _outstanding(request):
        duty_since = _parse(duty["since"])
        assert duty_since is not None
        duties.append(duty_since + inform if inform is not None else None)
    return step, form, duties


def board_item(request: Row, now: datetime, targets: Targets) -> Row:
    since = _parse(request["status_since"])
    submitted = _parse(request["submitted_at"])
    assert since is not None
    due, formalisation_due, duty_dues = _dues(request, targets)
    duties = [
        {
            **duty,
            "due_at": duty_due.isoformat() if duty_due else None,
            "overdue": duty_due is not None and now >= duty_due,
        }
        for duty, duty_due in zip(_outstanding(request), duty_dues, strict=True)
    ]
    en_route, on_scene = deployment([request])
    return {
        "id": request["id"],
        "kind": request["kind"],
        "task": request["task"],
        "title": request["title"],
        "requester": request["requester"],
        "regions": request["regions"],
        "incident_id": request["incident_id"],
        "urgent": request["urgent"],
        "status": request["status"],
        "step": request["step"],
        "next_actor": request["next_actor"],
        # the shares still waiting for a decision or commitment, and who acts next on each
        # (rows of code from before shares have none)
        "waiting_shares": request.get("waiting_shares", []),
        # who covers what: every provider's share with its figures (the screen shows them)
        "shares": request.get("shares", []),
        "in_step_since": request["status_since"],
        "seconds_in_step": int((now - since).total_seconds()),
        "submitted_at": request["submitted_at"],
        "seconds_since_submission": int((now - submitted).total_seconds()) if submitted else None,
        "due_at": due.isoformat() if due else None,
        "overdue": due is not None and now >= due,
        "formalisation_outstanding": request["formalisation_outstanding"],
        "formalisation_due_at": formalisation_due.isoformat() if formalisation_due else None,
        "formalisation_overdue": formalisation_due is not None and now >= formalisation_due,
        "duties_outstanding": duties,
        "inform_overdue": any(d["overdue"] for d in duties),
        "classification": request["classification"],
        "exercise": request["exercise"],
        # what of it is on its way and what is on scene (dispatched is not arrived)
        "en_route": sum(en_route.values()),
        "on_scene": sum(on_scene.values()),
    }


def _outstanding(request: Row) -> list[Row]:
    # Rows of a code version before issue 18 (served during a rebuild) have none.
    return list(request.get("duties_outstanding") or ())


def on_board(request: Row) -> bool:
    """Open requests, urgent ones still to be formalised, art. 58 drafts awaiting LE
    Preparatie, and any request with a duty to inform outstanding."""
    return (
        request["status"] in OPEN_VALUES
        or request["formalisation_outstanding"]
        or request.get("step") == EXHAUSTION_CHECK
        or bool(_outstanding(request))
    )


def board_deadline(request: Row, targets: Targets) -> datetime | None:
    """The item's earliest deadline: its step's target, its formalisation's, its earliest
    outstanding duty's (None: it has none). The item is overdue once it has passed."""
    step, form, duties = _dues(request, targets)
    return min((d for d in (step, form, *duties) if d is not None), default=None)


def board_order(request: Row, targets: Targets) -> tuple[bool, datetime, datetime, str]:
    """Most urgent first: the earliest deadline first (so overdue items first, longest overdue
    first), items without a deadline last; then the longest in its step; then by id. Stable
    while time passes (mlob/read/listing.py asks the same of the store)."""
    deadline = board_deadline(request, targets)
    since = _parse(request["status_since"])
    assert since is not None
    return (deadline is None, deadline or since, since, request["id"])


def board(requests: list[Row], now: datetime, targets: Targets = DEFAULT_TARGETS) -> list[Row]:
    """The requests :func:`on_board`, most urgent first (:func:`board_order`)."""
    found = sorted((r for r in requests if on_board(r)), key=lambda r: board_order(r, targets))
    return [board_item(r, now, targets) for r in found]


# --- scarcity advice ------------------------------------------------------------------------


def _rank_key(request: Row, line: Row, grips: dict[str, str]) -> tuple[Any, ...]:
    minister = request["priority"].get(line["capability"])
    grip = grips.get(request["incident_id"] or "")
    return (
        minister if minister is not None else 1_000_000,
        not request["urgent"],
        -(GripLevel(grip).rank if grip else -1),
        request["submitted_at"] or "9999",
        request["id"],
        line["line_id"],
    )


def _asked_of(request: Row, line_id: str) -> set[str]:
    """The providers a line was asked of and that have not refused it (rows of code from
    before shares have none)."""
    return {
        s["to"]
        for s in request.get("shares", [])
        if s["line_id"] == line_id and s["status"] != "refused"
    }


def _per_provider(
    code: str, sources: list[tuple[int, int, str, str, int]], requests: list[Row]
) -> list[Row]:
    """The scarcity of one capability per provider: what it has available, what open
    requests ask of it and await its decision (``asked``), and what was granted by or through
    it and is not yet committed (``to_commit``); ``short`` where they exceed what it has."""
    rows: dict[str, Row] = {}

    def row(provider: str) -> Row:
        return rows.setdefault(
            provider, {"provider": provider, "available": 0, "asked": 0, "to_commit": 0}
        )

    for source in sources:
        row(source[3])["available"] += source[4]
    for request in requests:
        if not demanding(request):
            continue
        capabilities = _line_capabilities(request)
        for share in request.get("shares", []):
            if capabilities.get(share["line_id"]) != code:
                continue
            if share["status"] == "forwarded":
                row(share["to"])["asked"] += share["asked"]
                continue
            # what it still commits, also once part of its share is en route or on scene
            to_commit = share.get("to_commit")
            if to_commit is None:  # a row of the code before: a share granted, not all committed
                decided = share["status"] == "decided"
                to_commit = max(0, share["granted"] - share["committed"]) if decided else 0
            row(share["to"])["to_commit"] += to_commit
    for r in rows.values():
        r["short"] = max(0, r["asked"] + r["to_commit"] - r["available"])
    return sorted(rows.values(), key=lambda r: r["provider"])


def scarcity(
    capacities: list[Row],
    requests: list[Row],
    incidents: list[Row],
    exercise: ExerciseScope = ExerciseScope.REAL,
) -> dict[str, Any]:
    """Where open demand for a capability exceeds what is available: the competing request
    lines, ranked by :data:`SCARCITY_RULES`, and a proposed allocation of the supply. An
    exercise never competes with real requests (:func:`demand_counted`)."""
    requests = demand_counted(requests, exercise)[0]
    approved = frozenset(r["id"] for r in requests if r["status"] == RequestStatus.APPROVED.value)
    grips = {i["id"]: i["grip"] for i in incidents}
    supply: dict[str, list[tuple[int, int, str, str, int]]] = defaultdict(list)
    for capacity in capacities:
        available = capacity_states(capacity, approved)["available"]
        if available > 0:
            supply[capacity["capability"]].append(
                (
                    CLASS_ORDER.get(capacity["class"], 3),
                    capacity["notice_minutes"],
                    capacity["id"],
                    capacity["provider"],
                    available,
                )
            )
    demand = open_demand(requests)
    advice = []
    for code in sorted(demand):
        sources = sorted(supply.get(code, []))
        available = sum(s[4] for s in sources)
        if demand[code] <= available:
            continue
        competing = []
        for request in requests:
            if not demanding(request):
                continue
            for line in request["lines"]:
                if line["capability"] != code:
                    continue
                still = wanted(line) - line["committed"]
                if still > 0:
                    competing.append((_rank_key(request, line, grips), request, line, still))
        competing.sort(key=lambda c: c[0])
        remaining = [list(s) for s in sources]
        proposals = []
        for rank, (_key, request, line, want) in enumerate(competing, start=1):
            allocated, taken_from = 0, []
            # the providers the line was asked of first (a stable sort keeps the class order)
            asked_of = _asked_of(request, line["line_id"])
            for source in sorted(remaining, key=lambda s: s[3] not in asked_of):
                if allocated == want:
                    break
                take = min(source[4], want - allocated)
                if take > 0:
                    source[4] -= take
                    allocated += take
                    taken_from.append(
                        {"capacity_id": source[2], "provider": source[3], "quantity": take}
                    )
            proposals.append(
                {
                    "rank": rank,
                    "request_id": request["id"],
                    "line_id": line["line_id"],
                    "requester": request["requester"],
                    "urgent": request["urgent"],
                    "grip": grips.get(request["incident_id"] or ""),
                    "submitted_at": request["submitted_at"],
                    "minister_rank": request["priority"].get(code),
                    "wanted": want,
                    "allocated": allocated,
                    "from": taken_from,
                    "asked_of": sorted(asked_of),
                }
            )
        advice.append(
            {
                "capability": code,
                "open_demand": demand[code],
                "available": available,
                "shortage": demand[code] - available,
                "minister_decided": any(p["minister_rank"] is not None for p in proposals),
                "proposal": proposals,
                "providers": _per_provider(code, sources, requests),
            }
        )
    return {"rules": list(SCARCITY_RULES), "capabilities": advice}
