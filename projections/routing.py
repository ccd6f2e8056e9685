"""Which feed channels an event belongs to, and who may see it.

Channels: ``national``, ``region:<code>``, ``provider:<org>`` (requests forwarded to or booked
with that provider, and its capacities), ``incident:<id>``, ``request:<id>``,
``capability:<code>``, and ``views`` (changed read-model rows). What a stream concerns
(capabilities, providers, its requester, its incident) is learnt from its events as they pass,
seeded from the projections' rows at start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from domain.base import MlobAggregate
from domain.capacity import Capacity
from domain.envelope import Classification
from domain.incident import Incident
from domain.reference import OrgKind, organisation
from domain.request import AssistanceRequest

NATIONAL_ROLES = frozenset({"coordinator", "auditor", "admin"})
#: Organisations that coordinate nationally (LOCC, the ministry, NCTV, NCC) see everything.
NATIONAL_KINDS = frozenset(
    {
        OrgKind.JV_LOCC,
        OrgKind.JV_OZI,
        OrgKind.JV_DGPOL,
        OrgKind.JV_MINISTER,
        OrgKind.NCTV_DB3,
        OrgKind.NCC,
        OrgKind.AUDITOR,
    }
)
CHANNEL_KINDS = ("national", "region", "provider", "incident", "request", "capability", "views")


@dataclass(frozen=True)
class Scope:
    """What a reader may see: everything, one safety region's, or one organisation's."""

    kind: str  # "national" | "region" | "org"
    org: str
    region: str | None
    clearance: Classification

    @classmethod
    def of(cls, org: str, role: str, clearance: Classification) -> Scope:
        try:
            known = organisation(org)
        except KeyError:
            return cls("org", org, None, clearance)
        if role in NATIONAL_ROLES or known.kind in NATIONAL_KINDS:
            return cls("national", org, None, clearance)
        if known.kind is OrgKind.SAFETY_REGION and known.region:
            return cls("region", org, known.region, clearance)
        return cls("org", org, known.region, clearance)

    def may_subscribe(self, channel: str) -> bool:
        kind, _, value = channel.partition(":")
        if kind not in CHANNEL_KINDS or (bool(value) == (kind in ("national", "views"))):
            return False
        if self.kind == "national":
            return True
        if kind == "region":
            return value == self.region
        if kind == "provider":
            return value == self.org
        return True  # the rest is filtered per event by what the reader may see


_KINDS = (
    ("mlob:AssistanceRequest.", "request"),
    ("mlob:Capacity.", "capacity"),
    ("mlob:Incident.", "incident"),
)


@dataclass
class StreamRoute:
    kind: str  # "request" | "capacity" | "incident"
    capabilities: set[str] = field(default_factory=set)
    providers: set[str] = field(default_factory=set)
    requester: str | None = None
    incident: str | None = None
    #: The subject's classification (from its creation): no step on it is visible below it.
    classification: str = Classification.UNCLASSIFIED.value


class Routes:
    """What each stream concerns, learnt from the events and the projections' rows."""

    def __init__(self) -> None:
        self.streams: dict[str, StreamRoute] = {}

    def seed(
        self,
        requests: list[dict[str, Any]],
        capacities: list[dict[str, Any]],
        incidents: list[dict[str, Any]] | None = None,
    ) -> None:
        for i in incidents or []:
            route = self.streams.setdefault(i["id"], StreamRoute("incident"))
            route.classification = i["classification"]
        for r in requests:
            route = self.streams.setdefault(r["id"], StreamRoute("request"))
            route.capabilities |= {line["capability"] for line in r["lines"]}
            route.providers |= set(r["forwarded_to"]) | {b["provider"] for b in r["bookings"]}
            route.requester = r["requester"]
            route.incident = r["incident_id"]
            route.classification = r["classification"]
        for c in capacities:
            route = self.streams.setdefault(c["id"], StreamRoute("capacity"))
            route.capabilities.add(c["capability"])
            route.providers.add(c["provider"])
            route.classification = c["classification"]

    def learn(self, stream_id: UUID, event: Any) -> StreamRoute | None:
        """Update and return the route of the event's stream (None: not a published stream)."""
        key = str(stream_id)
        route = self.streams.get(key)
        if isinstance(event, AssistanceRequest.Created):  # also PhonedIn
            route = self.streams.setdefault(key, StreamRoute("request"))
            route.capabilities |= {line.capability for line in event.lines}
            route.requester = event.requester
            route.incident = str(event.incident_id) if event.incident_id else None
        elif isinstance(event, AssistanceRequest.Amended) and route is not None:
            route.capabilities |= {line.capability for line in event.lines}
        elif isinstance(event, AssistanceRequest.Forwarded) and route is not None:
            route.providers |= set(event.to)
        elif isinstance(event, AssistanceRequest.LineBooked) and route is not None:
            route.providers.add(event.booking.provider)
        elif isinstance(event, Capacity.Created):
            route = self.streams.setdefault(key, StreamRoute("capacity"))
            route.capabilities.add(event.capability)
            route.providers.add(event.provider)
        elif isinstance(event, Incident.Created):
            route = self.streams.setdefault(key, StreamRoute("incident"))
        if route is not None and isinstance(event, MlobAggregate.Created):
            route.classification = event.envelope.classification.value
        elif route is None:
            # A stream created before this process learnt of it (and not yet in the rows it
            # was seeded from): its kind from the event's topic; the rest is learnt onwards.
            topic = getattr(type(event), "TOPIC", "")
            for prefix, kind in _KINDS:
                if topic.startswith(prefix):
                    route = self.streams[key] = StreamRoute(kind)
                    break
        return route


def channels(stream_id: UUID, route: StreamRoute, regions: tuple[str, ...]) -> list[str]:
    """The channels an event of this stream goes to."""
    found = ["national", *(f"region:{r}" for r in regions)]
    found.append(f"{route.kind}:{stream_id}")
    if route.incident:
        found.append(f"incident:{route.incident}")
    found += [f"provider:{p}" for p in sorted(route.providers)]
    found += [f"capability:{c}" for c in sorted(route.capabilities)]
    return found


def may_see(
    scope: Scope,
    route: StreamRoute | None,
    regions: tuple[str, ...],
    classification: str,
    actor_org: str | None = None,
) -> bool:
    """Whether a reader may see an item: within clearance (the item's, and its subject's: a
    step on a classified subject is as classified as the subject), and within its scope."""
    if not Classification(effective(route, classification)).readable_by(scope.clearance):
        return False
    if scope.kind == "national":
        return True
    concerns = route is not None and (scope.org == route.requester or scope.org in route.providers)
    if scope.kind == "region":
        return concerns or scope.region in regions or actor_org == scope.org
    return concerns or actor_org == scope.org


def effective(route: StreamRoute | None, classification: str) -> str:
    """The higher of an item's own classification and its subject's."""
    if route is None:
        return classification
    own, subject = Classification(classification), Classification(route.classification)
    return (own if own.rank >= subject.rank else subject).value
