"""A subject's timeline, computed from its recorded events (domain/recorded.py): when each
milestone of a request first happened, the durations of its steps, and for every step the time
since the step before and how late it was recorded.

Pure: takes recorded events, returns rows; what a reader may see of them is decided before
(api/audit.py asks the policy), how a step is shown after (api/rendering.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domain import vocabulary
from domain.recorded import LoggedEvent
from domain.request import AssistanceRequest

#: Milestones of a request, from its API types (and for bookings, the booking's step).
_MILESTONES = {
    "request.drafted": "drafted",
    "request.phoned_in": "phoned_in",
    "request.submitted": "submitted",
    "request.received": "received",
    "request.assessed": "assessed",
    "request.forwarded": "forwarded",
    "request.decided": "decided",
    "request.formalised": "formalised",
    "request.withdrawn": "withdrawn",
    "request.closed": "closed",
    "request.evaluated": "evaluated",
}
#: The stored topics of the events that can be milestones (a booking's step is inside it):
#: the only events the durations need decoded.
MILESTONE_TOPICS: frozenset[str] = frozenset(
    topic for name in _MILESTONES for topic in vocabulary.topics_of(name)
) | {AssistanceRequest.LineBooked.TOPIC, AssistanceRequest.LineMoved.TOPIC}

#: The step durations a timeline reports (from, to): the procedure's own steps.
SPANS = (
    ("submitted", "received"),
    ("received", "assessed"),
    ("assessed", "forwarded"),
    ("forwarded", "decided"),
    ("decided", "committed"),
    ("committed", "dispatched"),
    ("dispatched", "arrived"),
    ("arrived", "released"),
    ("released", "returned"),
    ("phoned_in", "formalised"),
    ("submitted", "decided"),
    ("submitted", "arrived"),
    ("closed", "evaluated"),
)


def milestones(events: Sequence[LoggedEvent]) -> dict[str, datetime]:
    """When each milestone first happened (occurred time); a phoned-in request is submitted
    by the call, and its decision is the last decider's."""
    found: dict[str, datetime] = {}
    for e in events:
        name = _MILESTONES.get(e.api_type)
        booking = getattr(e.event, "booking", None)
        if booking is not None:
            name = getattr(booking.step, "value", None)
        if name is None:
            continue
        if name == "decided":
            found[name] = e.occurred_at  # the final decision counts
            continue
        found.setdefault(name, e.occurred_at)
        if name == "phoned_in":
            found.setdefault("submitted", e.occurred_at)
    return found


#: The spans a booking spends in one state (dispatched is not arrived, domain.md): on its
#: way, then on scene under the civil authority (the first booking of the request).
SPAN_STATES = {("dispatched", "arrived"): "en_route", ("arrived", "released"): "on_scene"}


def spans(events: Sequence[LoggedEvent]) -> list[dict[str, Any]]:
    when = milestones(events)
    return [
        {
            "from": start,
            "to": end,
            "seconds": (when[end] - when[start]).total_seconds(),
            **({"state": SPAN_STATES[start, end]} if (start, end) in SPAN_STATES else {}),
        }
        for start, end in SPANS
        if start in when and end in when and when[end] >= when[start]
    ]


def step_times(events: Sequence[LoggedEvent]) -> list[dict[str, Any]]:
    """For each step, in order: the seconds since the step before (None for the first) and
    how long after it occurred it was recorded."""
    times: list[dict[str, Any]] = []
    previous: datetime | None = None
    for e in events:
        times.append(
            {
                "seconds_since_previous_step": (
                    (e.occurred_at - previous).total_seconds() if previous else None
                ),
                "recording_delay_seconds": (e.recorded_at - e.occurred_at).total_seconds(),
            }
        )
        previous = e.occurred_at
    return times
