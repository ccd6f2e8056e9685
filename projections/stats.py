"""Statistics over the requests, computed from their recorded events: per request kind,
region and provider, counts, outcomes, lead times per step, urgency, formalisation delays,
requested vs delivered; and the same as CSV.

Pure: takes recorded events and the reader, returns rows; every request counts only as far as
the one access policy (domain/policy.py) lets this reader see it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from domain import policy, vocabulary
from domain.exercise import ExerciseScope, subject_flag
from domain.policy import Reader
from domain.recorded import LoggedEvent
from projections.levels import fold
from projections.timelines import milestones

STAT_SPANS = (
    ("submitted", "received"),
    ("received", "assessed"),
    ("assessed", "forwarded"),
    ("forwarded", "decided"),
    ("decided", "committed"),
    ("dispatched", "arrived"),
    ("submitted", "decided"),
    ("submitted", "arrived"),
)


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class _Bucket:
    def __init__(self) -> None:
        self.count = 0
        self.outcomes: dict[str, int] = {}
        self.urgent = 0
        self.spans: dict[str, list[float]] = {}
        self.formalisation: list[float] = []
        self.requested = 0
        self.delivered = 0

    def add(self, request: Any, when: dict[str, datetime]) -> None:
        self.count += 1
        outcome = _outcome(request)
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        self.urgent += bool(request.urgent)
        for start, end in STAT_SPANS:
            if start in when and end in when and when[end] >= when[start]:
                seconds = (when[end] - when[start]).total_seconds()
                self.spans.setdefault(f"{start}->{end}", []).append(seconds)
        if "phoned_in" in when and "formalised" in when:
            self.formalisation.append((when["formalised"] - when["phoned_in"]).total_seconds())
        for line in request.lines.values():
            self.requested += line.quantity
            self.delivered += request.delivered(line.line_id)

    def body(self) -> dict[str, Any]:
        return {
            "requests": self.count,
            "outcomes": dict(sorted(self.outcomes.items())),
            "urgent": self.urgent,
            "normal": self.count - self.urgent,
            "lead_times_seconds": {
                name: {"p50": _percentile(v, 0.5), "p90": _percentile(v, 0.9), "n": len(v)}
                for name, v in sorted(self.spans.items())
            },
            "formalisation_delay_seconds": {
                "p50": _percentile(self.formalisation, 0.5),
                "p90": _percentile(self.formalisation, 0.9),
                "n": len(self.formalisation),
            },
            "quantity_requested": self.requested,
            "quantity_delivered": self.delivered,
        }


def _outcome(request: Any) -> str:
    status = request.status.value
    if status == "withdrawn":
        return "withdrawn"
    if request.outcome is not None:
        return str(request.outcome.value)
    return "refused" if status == "refused" else "open"


def request_stats(
    recorded: Iterable[LoggedEvent],
    caller: Reader,
    start: datetime | None,
    end: datetime | None,
    exercise: ExerciseScope = ExerciseScope.REAL,
) -> dict[str, Any]:
    """Per request kind, region and provider: counts, outcomes, lead times p50/p90 per step,
    urgent vs normal, formalisation delays, requested vs delivered; requests per year by kind,
    from ``recorded`` (every recorded event, in order; the requests' are used).
    A request counts in the period in which it was submitted (or phoned in). Whether it is an
    exercise is its own (its creating step's), never a single step's: a step recorded with
    another flag before that was refused still belongs to its request."""
    streams: dict[UUID, list[LoggedEvent]] = {}
    for e in recorded:
        if vocabulary.subject_of(e.api_type) == "request":
            streams.setdefault(e.stream_id, []).append(e)
    total = _Bucket()
    by_kind: dict[str, _Bucket] = {}
    by_region: dict[str, _Bucket] = {}
    by_provider: dict[str, _Bucket] = {}
    per_year: dict[str, dict[str, int]] = {}
    level = policy.reader_level(caller)
    for events in streams.values():
        if not exercise.admits(subject_flag(e.event for e in events)):
            continue
        leveled = fold([e.event for e in events])
        if leveled is None:
            continue
        request: Any = leveled.at(level)
        if request is None or not policy.may_see_subject(caller, request):
            continue  # the policy decides, as for every read
        seen = [e for e in events if leveled.levels.get(e.version, leveled.subject_level) <= level]
        when = milestones(seen)
        submitted = when.get("submitted")
        if submitted is None or (start and submitted < start) or (end and submitted >= end):
            continue
        total.add(request, when)
        by_kind.setdefault(request.kind.value, _Bucket()).add(request, when)
        for region in request.regions_concerned():
            by_region.setdefault(region, _Bucket()).add(request, when)
        for provider in request.forwarded_to:
            by_provider.setdefault(provider, _Bucket()).add(request, when)
        year = per_year.setdefault(str(submitted.year), {})
        year[request.kind.value] = year.get(request.kind.value, 0) + 1
    return {
        "period": {
            "from": start.isoformat() if start else None,
            "to": end.isoformat() if end else None,
        },
        "total": total.body(),
        "by_kind": {k: b.body() for k, b in sorted(by_kind.items())},
        "by_region": {k: b.body() for k, b in sorted(by_region.items())},
        "by_provider": {k: b.body() for k, b in sorted(by_provider.items())},
        "per_year_by_kind": dict(sorted(per_year.items())),
    }


def stats_csv(stats: dict[str, Any]) -> str:
    """One row per (dimension, key): counts, outcomes, urgency, lead times, quantities."""
    spans = [f"{a}->{b}" for a, b in STAT_SPANS]
    header = [
        "dimension",
        "key",
        "requests",
        "granted",
        "partly_granted",
        "refused",
        "withdrawn",
        "open",
        "urgent",
        "normal",
        "quantity_requested",
        "quantity_delivered",
        "formalisation_p50_s",
        "formalisation_p90_s",
    ]
    header += [f"{s} {q}_s" for s in spans for q in ("p50", "p90")]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    rows = [("total", "all", stats["total"])]
    for dimension in ("by_kind", "by_region", "by_provider"):
        rows += [(dimension[3:], key, body) for key, body in stats[dimension].items()]
    for dimension, key, body in rows:
        outcomes = body["outcomes"]
        line = [dimension, key, body["requests"]]
        line += [
            outcomes.get(o, 0)
            for o in ("granted", "partly_granted", "refused", "withdrawn", "open")
        ]
        line += [
            body["urgent"],
            body["normal"],
            body["quantity_requested"],
            body["quantity_delivered"],
            body["formalisation_delay_seconds"]["p50"],
            body["formalisation_delay_seconds"]["p90"],
        ]
        for span in spans:
            times = body["lead_times_seconds"].get(span, {})
            line += [times.get("p50"), times.get("p90")]
        writer.writerow(["" if v is None else v for v in line])
    return out.getvalue()
