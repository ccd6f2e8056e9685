"""Which feed channels an event belongs to, and what its stream concerns at each level (who
may see it is the policy's rule, asked with what is learnt here: ``domain.policy.may_see_step``).

Channels: ``national``, ``region:<code>``, ``provider:<org>`` (requests forwarded to or booked
with that provider, and its capacities), ``incident:<id>``, ``request:<id>``,
``capability:<code>``, and ``views`` (changed read-model rows). What a stream concerns
(capabilities, providers, its requester, its incident) is learnt from its events as they pass,
seeded from the projections' rows at start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from domain import policy
from domain.base import MlobAggregate
from domain.capacity import Capacity
from domain.incident import Incident
from domain.kinds import KIND_RULES
from domain.request import AssistanceRequest

_KINDS = (
    ("mlob:AssistanceRequest.", "request"),
    ("mlob:Capacity.", "capacity"),
    ("mlob:Incident.", "incident"),
)


def published(event_type: str) -> bool:
    """Whether an event of this type (topic) belongs to a stream the feed publishes: a
    request, capacity or incident (tokens and other internal streams never appear)."""
    return event_type.startswith(_PUBLISHED)


_PUBLISHED = tuple(prefix for prefix, _ in _KINDS)
#: The creations of the published streams, and the kind of stream each creates.
_CREATED = (
    (AssistanceRequest.Created, "request"),
    (Capacity.Created, "capacity"),
    (Incident.Created, "incident"),
)


#: A message one of a stream's steps carried, as its route remembers it: the message id, whose
#: message it is, and the level of the (first) step of the stream that carried it.
Thread = tuple[str, str, int]


@dataclass
class StreamRoute:
    kind: str  # "request" | "capacity" | "incident"
    capabilities: set[str] = field(default_factory=set)
    providers: set[str] = field(default_factory=set)
    requester: str | None = None
    incident: str | None = None
    #: The subject's level (its classification at creation): no step on it is visible below.
    level: int = 0
    #: The organisations it involves (domain.policy.involved), each with the lowest clearance
    #: level at which that shows (a provider booked by a classified step: only at that level).
    orgs: dict[str, int] = field(default_factory=dict)
    #: The levels of its steps above its own level, by version (a correction is as high).
    levels: dict[int, int] = field(default_factory=dict)
    #: The highest level of any of its steps so far.
    top: int = 0
    #: Up to which version every step's level is known.
    known: int = 0
    #: Whether its subject's level is known (learnt from its creation, or seeded from its
    #: rows; not a stream first met in the middle): only then are its messages' levels known.
    exact: bool = True
    #: The messages its next steps name (domain/posting.py: a step's correlation is its
    #: subject's first message, its causation the message before its own): the one its steps
    #: correlate to, and the two latest (None: not known to this route).
    first: Thread | None = None
    previous: Thread | None = None
    last: Thread | None = None

    def step_level(self, event: Any) -> int:
        """The level of this step of the stream (projections/levels.py: the higher of its
        own marking and its subject's; a correction as high as what it voids; a procedure's
        step as high as the most classified step before it). Needs every earlier step's level
        known (:meth:`Routes.learn` fills them in from the store when not)."""
        voids = event.target_version if isinstance(event, MlobAggregate.Voided) else None
        return self.marked_level(event.originator_version, event.envelope.classification, voids)

    def marked_level(self, version: int, classification: str, voids: int | None = None) -> int:
        """The level of the step at ``version`` as far as its index row tells (its marking)
        and, for a correction, ``voids`` (the version of the step it voids, which only the
        event names): exact when given; without it a correction not seen yet may be higher
        (as high as the step it voids). Never above the exact level, so a reader who may not
        see a step at this level may not see the step."""
        if version <= self.known:  # seen before (a replay from the store)
            return self.levels.get(version, self.level)
        found = max(self.level, policy.level(classification))
        if self.kind == "request" and AssistanceRequest.SEQUENTIAL:
            found = max(found, self.top)
        if voids is not None:
            found = max(found, self.levels.get(voids, self.level))
        return found

    def rests_on_unknown(self, version: int, event_type: str) -> bool:
        """Whether the level of the step at ``version`` rests on earlier steps whose levels
        are not known: a procedure's step (as classified as the most classified step before
        it) or a correction (as the step it voids), when steps before it were not seen (a
        stream seeded from the projections' rows, replayed before its next step arrived)."""
        return version > self.known + 1 and (
            event_type.endswith(".Voided")
            or (self.kind == "request" and AssistanceRequest.SEQUENTIAL)
        )

    def note(self, version: int, at: int) -> None:
        """The level of the step at ``version`` (the next one after those known)."""
        if at > self.level:
            self.levels[version] = at
        self.top = max(self.top, at)
        self.known = max(self.known, version)


#: A stream's steps as the store's index has them: (version, classification, event type).
Markings = Callable[[UUID, int], list[tuple[int, str, str]]]


class Routes:
    """What each stream concerns, learnt from the events and the projections' rows.
    ``markings`` reads a stream's earlier steps' markings from the store, for a stream whose
    steps this process has not all seen (it started later, or a feed replays from the middle)."""

    def __init__(self, markings: Markings | None = None) -> None:
        self.streams: dict[str, StreamRoute] = {}
        self.markings = markings

    def seed(
        self,
        requests: list[dict[str, Any]],
        capacities: list[dict[str, Any]],
        incidents: list[dict[str, Any]] | None = None,
    ) -> None:
        """From the projections' rows of every level (a level's row: what shows there). The
        levels of single steps are not in the rows: a correction of a step recorded before
        this process started is taken at its subject's level or the step's own."""
        for i in incidents or []:
            self._seed(i, "incident")
        for r in requests:
            route = self._seed(r, "request")
            route.capabilities |= {line["capability"] for line in r["lines"]}
            route.providers |= set(r["forwarded_to"]) | {b["provider"] for b in r["bookings"]}
            route.requester = r["requester"]
            route.incident = r["incident_id"]
        for c in capacities:
            route = self._seed(c, "capacity")
            route.capabilities.add(c["capability"])
            route.providers.add(c["provider"])

    def _seed(self, row: dict[str, Any], kind: str) -> StreamRoute:
        route = self.streams.get(row["id"])
        at = int(row.get("level", 0))
        if route is None:
            route = self.streams[row["id"]] = StreamRoute(kind, level=at)
        route.level = min(route.level, at)
        route.orgs.update({o: min(route.orgs.get(o, at), at) for o in row.get("involved", ())})
        return route

    def learn(
        self, stream_id: UUID, event: Any, regions: tuple[str, ...] = ()
    ) -> tuple[StreamRoute | None, int, list[str]]:
        """Update the route of the event's stream from this step and return it (None: not a
        published stream), the level the step is visible at, and the channels it goes to
        (``regions``: the step's)."""
        key = str(stream_id)
        route = self.streams.get(key)
        envelope = event.envelope
        if isinstance(event, MlobAggregate.Created):
            kind = next((k for cls, k in _CREATED if isinstance(event, cls)), None)
            if kind is None:
                return None, 0, []  # tokens and other internal streams are never published
            route = self.streams[key] = StreamRoute(
                kind, level=policy.level(envelope.classification)
            )
        elif route is None:
            # A stream created before this process learnt of it (and not yet in the rows it
            # was seeded from): its kind from the event's topic; the rest is learnt onwards.
            topic = getattr(type(event), "TOPIC", "")
            for prefix, kind in _KINDS:
                if topic.startswith(prefix):
                    route = self.streams[key] = StreamRoute(kind, exact=False)
                    break
        if route is None:
            return None, 0, []
        version = event.originator_version
        if version > route.known + 1:
            self._fill(stream_id, route, version - 1)
        voids = event.target_version if isinstance(event, MlobAggregate.Voided) else None
        at = route.marked_level(version, envelope.classification, voids)
        route.note(version, at)
        # The organisations this step involves (domain/policy.py, ``involved``), each from the
        # lowest level at which a step involved it.
        orgs = (
            set() if route.kind == "capacity" else {envelope.actor.org}
        )  # a capacity: its provider
        if isinstance(event, AssistanceRequest.Created):  # also PhonedIn
            route.capabilities |= {line.capability for line in event.lines}
            route.requester = event.requester
            route.incident = str(event.incident_id) if event.incident_id else None
            orgs |= {event.requester, *policy.route_parties(KIND_RULES[event.kind].route)}
        elif isinstance(event, AssistanceRequest.Amended):
            route.capabilities |= {line.capability for line in event.lines}
        elif isinstance(event, AssistanceRequest.Forwarded):
            recipients = (*event.to, *(share.to for share in event.shares))
            route.providers |= set(recipients)
            orgs |= {*recipients, *event.copies}  # asked, or copied on it: involved
        elif isinstance(event, AssistanceRequest.LineBooked):
            route.providers.add(event.booking.provider)
            orgs.add(event.booking.provider)
        elif isinstance(event, AssistanceRequest.Informed):  # it sees what it was informed of
            orgs.add(event.to)
        elif isinstance(event, Capacity.Created):
            route.capabilities.add(event.capability)
            route.providers.add(event.provider)
            orgs.add(event.provider)
        route.orgs.update({o: min(route.orgs.get(o, at), at) for o in orgs})
        if route.exact:  # the message this step carries, as the store's index tells it
            carried = (
                envelope.message_id,
                envelope.actor.org,
                max(route.level, policy.level(envelope.classification)),
            )
            if isinstance(event, MlobAggregate.Created):
                route.first = carried
            if route.last is None or route.last[0] != carried[0]:  # a command's first step
                route.previous, route.last = route.last, carried
        return route, at, channels(stream_id, route, regions)

    def _fill(self, stream_id: UUID, route: StreamRoute, upto: int) -> None:
        """Learn the levels of the stream's steps up to ``upto`` from their markings in the
        store (a correction's target is not in the index: it is taken as high as every step
        before it, which never shows a reader too much)."""
        if self.markings is None:
            return
        self.fill(route, self.markings(stream_id, upto))

    @staticmethod
    def fill(route: StreamRoute, markings: list[tuple[int, str, str]]) -> None:
        """Learn the levels of a stream's steps from their markings (``Markings``, in version
        order; those already known are skipped). Only facts the store holds: whoever fills in
        a route (the hub at a stream's next step, a replay before it judges an earlier step),
        the levels come out the same."""
        for version, classification, event_type in markings:
            if version <= route.known:
                continue
            at = max(route.level, policy.level(classification))
            if event_type.endswith(".Voided") or (
                route.kind == "request" and AssistanceRequest.SEQUENTIAL
            ):
                at = max(at, route.top)
            route.note(version, at)


def channels(stream_id: UUID, route: StreamRoute, regions: tuple[str, ...]) -> list[str]:
    """The channels an event of this stream goes to."""
    found = ["national", *(f"region:{r}" for r in regions)]
    found.append(f"{route.kind}:{stream_id}")
    if route.incident:
        found.append(f"incident:{route.incident}")
    found += [f"provider:{p}" for p in sorted(route.providers)]
    found += [f"capability:{c}" for c in sorted(route.capabilities)]
    return found
