"""The read answers' schemas, for the OpenAPI document (issue 22, a typed contract).

The read routes answer dicts built by the projections and the domain (projections/views.py,
projections/readmodels.py, ...); these models only *describe* those answers. They are put into
the document by :func:`document` (one table, :data:`READ_ANSWERS`, path by path) and never
used to validate or filter an answer at run time: a ``response_model`` would cost every read
a second pass over its rows on the hot path. That they hold is a test's job instead
(tests/integration/api/test_read_schemas.py validates real answers, as several readers,
against the published schemas): a closed shape (``extra="forbid"``, so
``additionalProperties: false``) fails that test as soon as an answer gains or loses a field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from domain.capacity import CapacityClass
from domain.envelope import Classification
from domain.incident import GripLevel, Phase
from domain.kinds import RequestKind, Task
from domain.lifecycle import RequestStatus
from domain.request.events import Outcome


class Closed(BaseModel):
    """A shape with exactly these fields (``additionalProperties: false``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


#: Per code (a capability, a request kind, a status, ...) a number.
Counts = dict[str, int]
#: A request's step on the board: its status, ``in_deployment`` or ``exhaustion_check``.
StepName = Annotated[str, Field(description="the status, `in_deployment` or `exhaustion_check`")]
Cursor = Annotated[
    str | None, Field(description="the next page: the same call with `cursor=<next>`; null: none")
]


# --- what every read model answer carries --------------------------------------------------


class Scope(Closed):
    """What the answer was computed from: the reader's scope and clearance."""

    kind: Literal["national", "region", "org"]
    org: str
    region: str | None
    clearance: Classification
    classified_withheld: bool
    exercise: Literal["true", "false", "all"]
    checkpoints_signed: bool | None = Field(
        None, description="as_of only: whether the picture checkpoints used were signed"
    )


class AsOf(Closed):
    moment: datetime
    axis: Literal["recorded", "occurred"]


class ReadMeta(Closed):
    """The positions a read model answer was computed from (``min_position=`` waits)."""

    position: int
    positions: Counts
    reached: bool
    rebuilding: bool
    at: datetime
    scope: Scope
    as_of: AsOf | None = Field(None, description="present for an answer `as_of` a moment")


# --- requests, incidents, capacities ---------------------------------------------------------


class AuthorityOut(Closed):
    body: str
    of: str
    capacity: Literal["door", "namens"]


class ProviderFigures(Closed):
    """Where what a provider committed to a line is (projections/views.py ``_figures``), and
    what it has still to commit: per provider of a line, and in each share."""

    committed: int
    en_route: int
    on_scene: int
    released: int
    returned: int
    to_commit: int


class LineProvider(ProviderFigures):
    provider: str
    asked: int
    granted: int
    status: str | None


class RequestLineOut(Closed):
    line_id: str
    capability: str
    quantity: int
    effect: str
    location: str
    municipality: str
    granted: int | None
    wanted: int
    committed: int
    delivered: int
    en_route: int
    on_scene: int
    armed: bool
    providers: list[LineProvider]


class ShareOut(ProviderFigures):
    """A provider's share of a line: asked, decided, and where what it committed is."""

    to: str
    line_id: str
    asked: int
    whole_request: bool
    outcome: Outcome | None
    granted: int | None
    status: str
    next_actor: str | None


class WaitingShare(Closed):
    to: str
    line_id: str
    asked: int
    granted: int | None
    committed: int
    to_commit: int
    status: str
    next_actor: str | None


class RequestBooking(Closed):
    booking_id: UUID
    line_id: str
    capacity_id: UUID
    provider: str
    quantity: int
    step: str
    until: datetime | None
    split_from: UUID | None


class DecisionOut(Closed):
    decider: str
    outcome: Outcome
    reasons: str


class DutyOutstanding(Closed):
    duty: str
    by: str
    to: str
    since: datetime
    summary: str
    source: str


class Informed(Closed):
    duty: str
    by: str
    to: str
    at: datetime


class RequestBase(Closed):
    id: UUID
    version: int
    kind: RequestKind
    legal_basis: str
    task: Task
    title: str
    requester: str
    authority: AuthorityOut | None
    regions: list[str]
    incident_id: UUID | None
    urgent: bool
    phoned_in: bool
    formalisation_outstanding: bool
    status: RequestStatus
    status_since: datetime
    submitted_at: datetime | None
    outcome: Outcome | None
    next_decider: str | None
    forwarded_to: list[str]
    copied_to: list[str]
    priority: Counts = Field(description="per capability the Minister's rank (scarcity)")
    demanding: bool
    exercise: bool
    classification: Classification
    lines: list[RequestLineOut]
    shares: list[ShareOut]
    bookings: list[RequestBooking]
    decisions: list[DecisionOut]
    duties_outstanding: list[DutyOutstanding]
    informed: list[Informed]
    exhaustion_confirmed: bool


class OpenStep(Closed):
    step: str = Field(
        description="the step: of the law for a request (domain/rights.py), the command for an "
        "incident or a capacity (domain/incident.py, domain/capacity.py)"
    )
    type: str = Field(description="the API type that records it (`POST /v1/events`)")


class RequestOut(RequestBase):
    """A request (``GET /v1/requests/{id}``) with the steps open to the caller now."""

    open_steps: list[OpenStep] = Field(description="the steps the caller may take on it now")


class RequestRow(RequestBase):
    """A request in a list: its row in the read model."""

    step: StepName
    next_actor: str | None
    formalised_at: datetime | None
    last_activity: datetime
    waiting_shares: list[WaitingShare]
    level: int = Field(description="the clearance rank of the steps the row shows")
    involved: list[str]


class IncidentBase(Closed):
    id: UUID
    version: int
    title: str
    regions: list[str]
    municipalities: list[str]
    grip: GripLevel
    phase: Phase
    latest_report: str | None
    closed: bool
    exercise: bool
    classification: Classification


class IncidentOut(IncidentBase):
    """An incident (``GET /v1/incidents/{id}``) with the steps open to the caller now."""

    open_steps: list[OpenStep] = Field(description="the steps the caller may take on it now")


class IncidentRow(IncidentBase):
    level: int
    involved: list[str]


class CapacityBooking(Closed):
    booking_id: UUID
    request_id: UUID
    line_id: str
    quantity: int
    state: str
    for_exercise: bool


class CapacityBase(Closed):
    id: UUID
    version: int
    provider: str
    capability: str
    name: str
    home_region: str | None
    class_: CapacityClass = Field(alias="class")
    notice_minutes: int
    exists: int
    available: int
    withheld: int
    made_ready: int
    committed: int
    en_route: int
    on_scene: int
    deployed: int
    returning: int
    unavailable: int
    abroad: int
    exercise: bool
    for_exercise: int
    classification: Classification
    bookings: list[CapacityBooking]


class CapacityOut(CapacityBase):
    """A capacity (``GET /v1/capacities/{id}``) with the steps open to the caller now."""

    open_steps: list[OpenStep] = Field(description="the steps the caller may take on it now")


class CapacityRow(CapacityBase):
    level: int
    involved: list[str]


class RequestPage(Closed):
    items: list[RequestRow]
    next: Cursor


class IncidentPage(Closed):
    items: list[IncidentRow]
    next: Cursor


class CapacityPage(Closed):
    items: list[CapacityRow]
    next: Cursor


# --- the read models -------------------------------------------------------------------------


class PictureRequest(Closed):
    id: UUID
    kind: RequestKind
    title: str
    requester: str
    status: RequestStatus
    step: StepName
    next_actor: str | None
    urgent: bool
    submitted_at: datetime | None


class PictureIncident(Closed):
    id: UUID
    title: str
    regions: list[str]
    grip: GripLevel
    phase: Phase
    closed: bool
    latest_report: str | None
    exercise: bool
    classification: Classification
    requests: list[PictureRequest]
    en_route: Counts = Field(description="per capability")
    on_scene: Counts = Field(description="per capability")
    deployed: Counts = Field(description="per capability")


class RegionSummary(Closed):
    open_incidents: int
    highest_grip: GripLevel | None
    requests: Counts = Field(description="per status")


class Summary(Closed):
    by_region: dict[str, RegionSummary]
    by_kind: Counts
    by_status: Counts
    open_incidents: int
    open_requests: int


class Picture(ReadMeta):
    """The operational picture: one page of incidents, and the summary of all."""

    incidents: list[PictureIncident]
    total_incidents: int
    next: Cursor
    summary: Summary
    summary_position: int = Field(
        description="the position the summary was counted at (shared by every reader of its "
        "level for up to a second; ask min_position for a newer one)"
    )


class Target(Closed):
    urgent: int
    normal: int


class BoardDuty(DutyOutstanding):
    due_at: datetime | None
    overdue: bool


class BoardItem(Closed):
    id: UUID
    kind: RequestKind
    task: Task
    title: str
    requester: str
    regions: list[str]
    incident_id: UUID | None
    urgent: bool
    status: RequestStatus
    step: StepName
    next_actor: str | None
    waiting_shares: list[WaitingShare]
    shares: list[ShareOut]
    in_step_since: datetime
    seconds_in_step: int
    submitted_at: datetime | None
    seconds_since_submission: int | None
    due_at: datetime | None
    overdue: bool
    formalisation_outstanding: bool
    formalisation_due_at: datetime | None
    formalisation_overdue: bool
    duties_outstanding: list[BoardDuty]
    inform_overdue: bool
    classification: Classification
    exercise: bool
    en_route: int
    on_scene: int


class Board(ReadMeta):
    """The request board: one page of items, with the counts of the whole board."""

    targets_minutes: dict[str, Target]
    formalisation_target_minutes: int
    overdue: int
    total: int
    items: list[BoardItem]
    next: Cursor


class CapacityFigures(Closed):
    exists: int
    available: int
    reserved: int
    made_ready: int
    committed: int
    en_route: int
    on_scene: int
    returning: int
    unavailable: int
    abroad: int
    withheld: int
    by_class: Counts = Field(description="what exists per capacity class")
    capacities: int
    for_exercise: int
    deployed: int


class OverviewRow(CapacityFigures):
    capability: str
    provider: str
    region: str | None


class CapabilityTotal(CapacityFigures):
    capability: str
    open_demand: int
    exercise_demand: int
    shortage: int


class CapacityOverview(ReadMeta):
    rows: list[OverviewRow]
    capabilities: list[CapabilityTotal]
    shortages: list[CapabilityTotal]


class Taken(Closed):
    capacity_id: UUID
    provider: str
    quantity: int


class Proposed(Closed):
    """A competing line in the proposed allocation. A line of a request outside the
    reader's scope shows only its place and quantities (``request_id`` and ``line_id``
    null, ``requester`` "another region")."""

    rank: int
    request_id: UUID | None
    line_id: str | None
    requester: str
    wanted: int
    allocated: int
    urgent: bool | None = None
    grip: GripLevel | None = None
    submitted_at: datetime | None = None
    minister_rank: int | None = None
    from_: list[Taken] | None = Field(None, alias="from")
    asked_of: list[str] | None = None


class ProviderShortage(Closed):
    provider: str
    available: int
    asked: int
    to_commit: int
    short: int


class ScarceCapability(Closed):
    capability: str
    open_demand: int
    available: int
    shortage: int
    minister_decided: bool
    proposal: list[Proposed]
    providers: list[ProviderShortage]


class Scarcity(ReadMeta):
    rules: list[str]
    capabilities: list[ScarceCapability]


# --- reference, event types, the caller ------------------------------------------------------


class RegionRef(Closed):
    code: str
    name: str
    police_unit: str
    municipalities: list[str]


class OrganisationRef(Closed):
    code: str
    name: str
    kind: str
    region: str | None


class CapabilityRef(Closed):
    code: str
    name: str
    dutch: str
    category: str
    unit: str
    providers: list[str]
    request_kinds: list[RequestKind]
    source: str


class RequestKindRef(Closed):
    code: RequestKind
    name: str
    dutch: str
    legal_basis: str
    source: str
    authorities: list[str]
    forbidden_authorities: list[str]
    appeal_authorities: list[str]
    decision_authorities: dict[str, list[str]]
    requesters: list[str]
    deciders: list[str]
    tasks: list[Task]
    default_task: Task
    task_required: bool
    task_authorities: dict[str, list[str]]


class AuthorityBodyRef(Closed):
    code: str
    dutch: str
    of: str
    source: str


class MarkingRef(Closed):
    code: Classification
    rank: int
    marking: str


class DutyRef(Closed):
    code: str
    kinds: list[RequestKind]
    by: str
    to: str
    after: str
    outcomes: list[str]
    capabilities: list[str]
    summary: str
    source: str


class Reference(Closed):
    regions: list[RegionRef]
    organisations: list[OrganisationRef]
    capabilities: list[CapabilityRef]
    request_kinds: list[RequestKindRef]
    authority_bodies: list[AuthorityBodyRef]
    authority_of: list[str]
    capability_hubs: dict[str, str]
    roles: list[str]
    classifications: list[Classification]
    classification_markings: list[MarkingRef]
    duties: list[DutyRef]


class EventTypeOut(Closed):
    """An API type; a postable one with its data's JSON Schema, an example and who may post
    it (``allowed``: roles, organisation kinds, per request kind the authorities)."""

    type: str
    subject: str
    postable: bool
    summary: str
    creates_subject: bool | None = None
    schema_: dict[str, Any] | None = Field(None, alias="schema")
    example: dict[str, Any] | None = None
    allowed: dict[str, Any] | None = None


class WhoAmI(Closed):
    org: str
    role: str
    clearance: Classification
    person: str | None


class TokenListed(Closed):
    token_id: UUID
    org: str
    role: str
    clearance: Classification
    label: str
    issued_at: datetime
    expires_at: datetime | None
    revoked: bool
    valid: bool


# --- audit -----------------------------------------------------------------------------------


class Rejection(Closed):
    """A refused attempt: never an event, kept in the rejection log."""

    id: int
    at: datetime
    org: str
    role: str
    person: str | None
    event_type: str | None
    subject: str | None
    message_id: str | None
    item_index: int | None
    status: int
    code: str
    reason: str
    source: str
    classification: Classification


class RejectionPage(Closed):
    items: list[Rejection]
    next: Cursor


class ActorOut(Closed):
    org: str
    role: str
    person: str | None


class SignedBy(Closed):
    body: str
    of: str
    capacity: Literal["door", "namens"]
    person: str | None = None


class Thread(Closed):
    """A message an event answers or belongs with, named by its organisation (null: a
    message of another stream, not resolved)."""

    org: str | None
    message_id: str


class EventOut(Closed):
    """An event with its full envelope; ``data`` is its type's (``GET /v1/event-types``)."""

    position: int
    stream_id: UUID
    version: int
    type: str
    occurred_at: datetime
    recorded_at: datetime
    actor: ActorOut
    authority: SignedBy | None
    regions: list[str]
    classification: Classification
    exercise: bool
    message_id: str
    correlation_id: str | None
    causation_id: str | None
    data: dict[str, Any]
    causation: Thread | None
    correlation: Thread | None


class HistoryPage(Closed):
    items: list[EventOut]
    next: Cursor


class TimelineStep(EventOut):
    seconds_since_previous_step: float | None
    recording_delay_seconds: float


class Duration(Closed):
    from_: str = Field(alias="from")
    to: str
    seconds: float
    state: str | None = None


class RefusedAttempt(Rejection):
    refused: Literal[True]


class Timeline(Closed):
    """A subject's steps in order, a page of them (``events``, ``next``), the durations of a
    request's steps over the whole and, for auditors, the first refused attempts alongside
    (``refused_next``: the cursor of ``GET /v1/rejections?subject=`` for the rest)."""

    id: UUID
    kind: Literal["AssistanceRequest", "Incident", "Capacity"]
    events: list[TimelineStep]
    next: Cursor
    durations: list[Duration]
    refused: list[RefusedAttempt]
    refused_next: Cursor


class AccessEntry(Closed):
    """Who opened or received which item above ongerubriceerd, when, and through what."""

    id: int
    at: datetime
    org: str
    role: str
    person: str | None
    token_id: str | None
    route: str
    item: str
    kind: str
    classification: Classification


class AccessLogPage(Closed):
    items: list[AccessEntry]
    next: Cursor


class LeadTime(Closed):
    p50: float | None
    p90: float | None
    n: int


class StatsGroup(Closed):
    requests: int
    outcomes: Counts
    urgent: int
    normal: int
    lead_times_seconds: dict[str, LeadTime] = Field(description="per `from->to` step")
    formalisation_delay_seconds: LeadTime
    quantity_requested: int
    quantity_delivered: int


# --- subscriptions and alerts (open shapes: they may gain fields) ---------------------------


class Subscription(BaseModel):
    """A subscription (never its secret, but in the answers that make or rotate it)."""

    id: UUID
    org: str
    url: str
    channels: list[str]
    types: list[str]
    alerts_only: bool
    exercise: str
    clearance: Classification
    after: int | None
    paused: bool
    rotations: int
    created_at: datetime
    state: Literal["active", "paused", "failing"]
    delivered_position: int


class Delivery(BaseModel):
    id: int
    webhook_id: str
    position: int | None
    alert_id: int | None
    type: str
    state: str
    attempts: int
    created_at: str | None
    first_attempt_at: str | None
    next_attempt_at: str | None
    last_status: int | None
    last_latency_ms: float | None
    last_error: str | None
    delivered_at: str | None
    attempt_log: list[dict[str, Any]] = []


class SubscriptionPage(Closed):
    items: list[Subscription]
    next: Cursor


class DeliveryPage(Closed):
    items: list[Delivery]
    next: Cursor


class Ack(BaseModel):
    org: str
    role: str
    person: str | None
    at: str


class Alert(BaseModel):
    """An alert (``{"type": "alert", ...}`` as the feed and webhooks show it)."""

    type: Literal["alert"]
    id: int
    alert: str
    subject: str
    step: str
    since: str | None
    must_act: Any
    requester: str | None
    orgs: list[str]
    request: dict[str, Any]
    classification: Classification
    exercise: bool
    acks: list[Ack]


class AlertPage(Closed):
    items: list[Alert]
    next: Cursor


class Period(Closed):
    from_: datetime | None = Field(alias="from")
    to: datetime | None


class Stats(Closed):
    """Per request kind, region and provider over a period (``format=json``)."""

    period: Period
    total: StatsGroup
    by_kind: dict[str, StatsGroup]
    by_region: dict[str, StatsGroup]
    by_provider: dict[str, StatsGroup]
    per_year_by_kind: dict[str, Counts] = Field(description="per year, per request kind")


# --- which route answers which -----------------------------------------------------------------

#: The answer (status 200) of each JSON read route, by path: documented, never enforced.
READ_ANSWERS: dict[str, Any] = {
    "/v1/requests": RequestPage,
    "/v1/requests/{request_id}": RequestOut,
    "/v1/incidents": IncidentPage,
    "/v1/incidents/{incident_id}": IncidentOut,
    "/v1/capacities": CapacityPage,
    "/v1/capacities/{capacity_id}": CapacityOut,
    "/v1/picture": Picture,
    "/v1/board": Board,
    "/v1/capacity-overview": CapacityOverview,
    "/v1/scarcity": Scarcity,
    "/v1/reference": Reference,
    "/v1/event-types": list[EventTypeOut],
    "/v1/whoami": WhoAmI,
    "/v1/tokens": list[TokenListed],
    "/v1/rejections": RejectionPage,
    "/v1/stats": Stats,
    "/v1/history": HistoryPage,
    "/v1/requests/{request_id}/timeline": Timeline,
    "/v1/incidents/{incident_id}/timeline": Timeline,
    "/v1/capacities/{capacity_id}/timeline": Timeline,
    "/v1/access-log": AccessLogPage,
    "/v1/subscriptions": SubscriptionPage,
    "/v1/subscriptions/{subscription_id}": Subscription,
    "/v1/subscriptions/{subscription_id}/deliveries": DeliveryPage,
    "/v1/alerts": AlertPage,
}


def _models(answers: dict[str, Any]) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    for answer in answers.values():
        model = answer.__args__[0] if getattr(answer, "__origin__", None) is list else answer
        if model not in found:
            found.append(model)
    return found


def document(schema: dict[str, Any]) -> None:
    """Give each route of :data:`READ_ANSWERS` its answer's schema in the OpenAPI
    document ``schema`` (in place), the models among its components."""
    models = _models(READ_ANSWERS)
    refs, defs = models_json_schema(
        [(m, "serialization") for m in models], ref_template="#/components/schemas/{model}"
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, found in defs.get("$defs", {}).items():
        known = components.get(name)
        if known is not None and known != found:  # one name, two shapes: a generated
            raise ValueError(f"two schemas named {name}")  # client would mix them up
        components[name] = found
    for path, answer in READ_ANSWERS.items():
        many = getattr(answer, "__origin__", None) is list
        model = answer.__args__[0] if many else answer
        ref = refs[(model, "serialization")]
        body = {"type": "array", "items": ref} if many else ref
        content = schema["paths"][path]["get"]["responses"]["200"]["content"]
        content["application/json"] = {"schema": body}
