"""The projections: which events each one follows and the row it keeps per aggregate.

Each projection keeps one row per aggregate of one kind, as the aggregate stands after the
events up to the projection's position. The read models (capacity overview, operational
picture, request board, scarcity advice — :mod:`projections.readmodels`) are computed from these
rows per reader, so a reader's clearance filters every count (nothing classified leaks through
a total) and the clock-driven parts (time in step, overdue) are exact at the moment of reading.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from domain.base import MlobAggregate
from domain.capacity import Capacity
from domain.envelope import Classification
from domain.incident import Incident
from domain.lifecycle import RequestStatus
from domain.policy import involved
from domain.request import AssistanceRequest
from projections.levels import Leveled
from projections.version import CODE_VERSION
from projections.views import capacity_view, incident_view, request_view, share_view


def event_topics(cls: type[MlobAggregate]) -> tuple[str, ...]:
    """The stored topics of every event class of an aggregate class."""
    topics = set()
    for value in vars(cls).values():
        if isinstance(value, type) and issubclass(value, MlobAggregate.Event):
            topic = getattr(value, "TOPIC", None)
            if topic:
                topics.add(topic)
    return tuple(sorted(topics))


@dataclass(frozen=True)
class Projection:
    """One projection: a name, the events it follows, the row it keeps per aggregate and the
    version of the code that computes it (a change rebuilds it)."""

    name: str
    aggregate: type[MlobAggregate]
    #: The row of one level's state; the second argument is the top state (all steps), for
    #: figures that must add up (a capacity's withheld quantity).
    row_of: Callable[[Any, Any], dict[str, Any]]
    topics: tuple[str, ...] = field(default=())
    #: Whether every level's row shows something of the top state (so a step at any level
    #: changes them all): a capacity's withheld quantity.
    top_shared: bool = False
    #: The code's version (projections/version.py: one hash, never bumped by hand).
    version: str = CODE_VERSION

    def __post_init__(self) -> None:
        if not self.topics:
            object.__setattr__(self, "topics", event_topics(self.aggregate))

    def row(self, aggregate: Any, top: Any = None, at: int | None = None) -> dict[str, Any]:
        """The row of a state: with the level it is kept at (readers select by it) and the
        organisations it involves (their scope, domain/policy.py)."""
        row = self.row_of(aggregate, aggregate if top is None else top)
        row["level"] = Classification(row["classification"]).rank if at is None else at
        row["involved"] = sorted(involved(aggregate))
        return row

    def rows(self, leveled: Leveled) -> list[dict[str, Any]]:
        """A subject's rows, one per level it has steps at."""
        top = leveled.top
        return [self.row(state, top, at) for at, state in sorted(leveled.states.items())]


#: The step of an art. 58 draft while LE Preparatie has not confirmed exhaustion: on the
#: board, LE Preparatie acting (factsheet-bijstand-politie §4, §8).
EXHAUSTION_CHECK = "exhaustion_check"


def step(request: AssistanceRequest) -> str:
    """The step a request waits in: its status, except that an approved request whose granted
    lines are all committed is no longer waiting for its providers but *in deployment*, and
    an art. 58 draft awaits LE Preparatie's confirmation (*exhaustion_check*)."""
    if (
        request.status is RequestStatus.DRAFT
        and request.rule.route.exhaustion_check_by
        and not request.exhaustion_confirmed
    ):
        return EXHAUSTION_CHECK
    if request.in_deployment:  # nobody waited for: no provider still decides or commits
        return "in_deployment"
    return request.status.value


def next_actor(request: AssistanceRequest) -> str | None:
    """Who must act next on a request (an organisation kind or code), for the board."""
    status = request.status
    if step(request) == "in_deployment":
        return request.requester  # releases the capacity and closes the request when done
    if step(request) == EXHAUSTION_CHECK:
        return request.rule.route.exhaustion_check_by
    if status is RequestStatus.DRAFT:
        return request.requester
    if status in (RequestStatus.SUBMITTED, RequestStatus.RECEIVED, RequestStatus.ASSESSED):
        return request.hub_kinds[0] if request.hub_kinds else None
    if status in (RequestStatus.FORWARDED, RequestStatus.DECIDING):
        pending = [a for a in request.required_advisers() if a not in request.advice]
        if pending:  # the decision waits for this advice (e.g. DJZ for the SG)
            return ",".join(pending)
        decider = request.next_decider_kind()
        if decider == "provider":
            waiting = [s.to for s in request.waiting_shares()]
            return ",".join(dict.fromkeys(waiting)) or ",".join(request.forwarded_to) or "provider"
        return decider
    if status is RequestStatus.APPROVED:
        # the providers of the shares still waiting for their decision or commitment
        waiting = [w["next_actor"] for w in waiting_shares(request) if w["next_actor"]]
        if waiting:
            return ",".join(dict.fromkeys(waiting))
        return ",".join(request.forwarded_to) or "provider"
    if status is RequestStatus.APPEALED:
        # art. 56(4): DGPOL advises the Minister first
        pending = [a for a in request.rule.route.appeal_advisers if a not in request.appeal_advice]
        return ",".join(pending) if pending else "minister_jv"
    if status is RequestStatus.CLOSED:
        return request.requester  # the evaluation
    return None


def request_row(request: AssistanceRequest, top: AssistanceRequest | None = None) -> dict[str, Any]:
    row = request_view(request)
    row["step"] = step(request)
    row["next_actor"] = next_actor(request)
    row["formalised_at"] = request.formalised_at.isoformat() if request.formalised_at else None
    row["last_activity"] = request.last_activity.isoformat()
    row["waiting_shares"] = waiting_shares(request)
    return row


def waiting_shares(request: AssistanceRequest) -> list[dict[str, Any]]:
    """The shares still waiting for someone: for their decision, or granted with something
    still to commit; each with who acts next on it (the request board lists them). A share
    with nothing left to commit, or of a request closed, withdrawn or refused, waits for
    nobody (:func:`projections.views.share_state`)."""
    waiting = []
    for share in request.shares.values():
        view = share_view(request, share)
        if view["next_actor"] is not None:
            waiting.append(
                {
                    "to": view["to"],
                    "line_id": view["line_id"],
                    "asked": view["asked"],
                    "granted": view["granted"],
                    "committed": view["committed"],
                    "to_commit": view["to_commit"],
                    "status": view["status"],
                    "next_actor": view["next_actor"],
                }
            )
    return waiting


def capacity_row(capacity: Capacity, top: Capacity | None = None) -> dict[str, Any]:
    return capacity_view(capacity, top)


def incident_row(incident: Incident, top: Incident | None = None) -> dict[str, Any]:
    return incident_view(incident)


PROJECTIONS: tuple[Projection, ...] = (
    Projection("requests", AssistanceRequest, request_row),
    Projection("capacities", Capacity, capacity_row, top_shared=True),
    Projection("incidents", Incident, incident_row),
)
