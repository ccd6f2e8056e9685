"""The FastAPI application: a thin entry layer over the application service."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Depends, FastAPI, Query, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

from api import logcontext, paging
from api.access import Subjects, note_reads, row_items
from api.audit import rejection_page
from api.audit import router as audit_router
from api.commands import EXAMPLE_SUBJECTS, REGISTRY
from api.contract import posted_adapter
from api.docs import install as install_docs
from api.edxl.routes import router as edxl_router
from api.errors import (
    ERROR_SCHEMA,
    ApiError,
    challenge,
    error_responses,
    field_error,
    language,
    outcome_unknown,
    refusal_response,
    unavailable,
)
from api.feed import FeedHub
from api.feed import serve as serve_feed
from api.history import router as history_router
from api.lanes import DEFAULT_READ_CONCURRENCY, bound_reads, urgent
from api.metrics import StoreCollector, counted
from api.metrics import render as render_metrics
from api.paging import Cursor, Limit
from api.ports import MlobService, OutcomeUnknown, PageQuery, Principal, StoreUnavailable
from api.post_events import PATH, ClientGone, PostEvents, caller_of
from api.post_events import serve as serve_post
from api.ratelimit import Limiter, RateLimit, token_key
from api.readviews import Current
from api.readviews import router as read_model_router
from api.schemas import document as document_read_answers
from api.screen import install as install_screen
from api.subscriptions import router as subscriptions_router
from api.summaries import Summaries
from api.types import After, Moment
from domain import policy, vocabulary
from domain.base import MlobAggregate
from domain.capacity import Capacity
from domain.duties import DUTIES
from domain.envelope import Classification
from domain.errors import DomainError
from domain.exercise import ExerciseScope
from domain.incident import INCIDENT_KEEPERS, Incident
from domain.kinds import (
    AUTHORITY_BODIES,
    AUTHORITY_OF,
    CAPABILITY_HUBS,
    KIND_RULES,
    TASK_AUTHORITIES,
    RequestKind,
)
from domain.lifecycle import RequestStatus
from domain.policy import ROLES
from domain.reference import capabilities, organisations, regions, request_kind_infos
from domain.request import AssistanceRequest
from domain.rights import PROVIDER_KINDS, Step, allowed_kinds, signers
from projections.views import capacity_view, incident_view, request_view


class Health(BaseModel):
    model_config = ConfigDict(extra="forbid")  # documents a closed shape
    status: str
    store: str
    last_position: int


class Live(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["ok"]


class Ready(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["ready", "not_ready"]
    #: Each part (store, feed, projections, listen, chain_checkpoint) with ``ok`` and figures.
    checks: dict[str, dict[str, Any]]


class RecordedOut(BaseModel):
    position: int
    stream_id: UUID
    version: int
    type: str
    message_id: str
    #: Messages are named by organisation and id: idempotency is per organisation.
    org: str


class PostedOut(BaseModel):
    events: list[RecordedOut]
    replayed: bool


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    org: Annotated[str, Field(min_length=1, max_length=64)]
    role: Annotated[str, Field(min_length=1, max_length=32)]
    clearance: Classification = Classification.UNCLASSIFIED
    expires_at: Moment | None = None
    label: Annotated[str, Field(max_length=200)] = ""


class TokenOut(BaseModel):
    token_id: UUID
    token: str


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(max_length=2000)] = ""


def _allowed_for(type_name: str) -> dict[str, Any]:
    event_type = REGISTRY[type_name]
    if event_type.subject == "incident":
        return {"roles": sorted(policy.WRITER_ROLES), "org_kinds": sorted(INCIDENT_KEEPERS)}
    if event_type.subject == "capacity":
        return {"roles": sorted(policy.WRITER_ROLES), "org_kinds": sorted(PROVIDER_KINDS)}
    step = event_type.step
    assert step is not None
    # The rights table the commands enforce (domain/rights.py), on a request without and with
    # an armed line, and the authority bodies that sign the step (empty: none asked).
    return {
        "roles": sorted(policy.WRITER_ROLES),
        "org_kinds_by_request_kind": {
            kind.value: sorted(allowed_kinds(kind, step)) for kind in RequestKind
        },
        "org_kinds_by_request_kind_armed": {
            kind.value: sorted(allowed_kinds(kind, step, armed=True)) for kind in RequestKind
        },
        "authorities_by_request_kind": {
            kind.value: list(signers(kind, step)) for kind in RequestKind
        },
    }


def _kind_law(kind: RequestKind) -> dict[str, Any]:
    """A kind's law as the commands apply it (domain/kinds.py, domain/rights.py)."""
    rule = KIND_RULES[kind]
    return {
        "authorities": list(rule.authorities),
        "forbidden_authorities": list(rule.forbidden_authorities),
        "appeal_authorities": list(signers(kind, Step.APPEAL)),
        "decision_authorities": {
            step.value: list(signers(kind, step))
            for step in (Step.DECIDE_PRIORITY, Step.DECIDE_APPEAL)
            if signers(kind, step)
        },
        "requesters": list(rule.requesters),
        "deciders": list(rule.route.deciders),
        "tasks": [t.value for t in rule.tasks],
        "default_task": rule.tasks[0].value,
        "task_required": rule.task_required,
        # Where the kind serves several tasks: who signs for each (else its authorities).
        "task_authorities": {
            task.value: [b for b in TASK_AUTHORITIES[task] if b in rule.authorities]
            for task in rule.tasks
            if rule.task_required and len(rule.tasks) > 1 and task in TASK_AUTHORITIES
        },
    }


async def principal(request: Request) -> Principal:
    """The caller, from ``Authorization: Bearer <token>``; 401 without a valid token."""
    return await caller_of(request.app.state.service, request.headers.get("authorization", ""))


Caller = Annotated[Principal, Depends(principal)]


@dataclass(frozen=True)
class Listing:
    """What every list route takes besides its filters: the caller, which subjects and how
    fresh (:class:`api.readviews.Fresh`), the page (``cursor=``, ``limit=``), and the response
    (for the rebuilding header)."""

    caller: Caller
    fresh: Current
    response: Response
    cursor: Cursor = None
    limit: Limit = paging.DEFAULT_LIMIT


#: :class:`Listing` as a route's parameter: its fields are the route's query parameters.
Listed = Annotated[Listing, Depends()]


#: Set on a list answer computed from rows of the previous code version (being rebuilt).
REBUILDING_HEADER = "Mlob-Rebuilding"
#: The projection that keeps each kind of subject.
_PROJECTION: dict[type[MlobAggregate], str] = {
    AssistanceRequest: "requests",
    Incident: "incidents",
    Capacity: "capacities",
}


class MlobAPI(FastAPI):
    """FastAPI, but ``POST /v1/events`` skips the framework's layers (api/post_events.py)."""

    post_events: PostEvents | None = None
    #: Requests per token on this node (``MLOB_RATE_LIMIT``; None: not limited).
    limiter: Limiter | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):  # each request its own log fields
            logcontext.start(Headers(scope=scope).get("x-request-id"))
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        if self.limiter is not None:
            headers = Headers(scope=scope)
            key = token_key(headers.get("authorization", ""), scope["path"])
            wait = self.limiter.wait(key) if key is not None else None
            if wait is not None:
                answer = rate_limited(
                    self.limiter.limit, wait, language(headers.get("accept-language"))
                )
                await counted(answer, scope, receive, send, "rate_limited")
                return
        post = self.post_events
        if post is not None and scope["path"] == PATH and scope["method"] == "POST":
            await serve_post(post, scope, receive, send)  # counts itself
            return
        await counted(super().__call__, scope, receive, send, None)


def rate_limited(limit: RateLimit, wait: float, lang: str = "en") -> JSONResponse:
    response = ApiError(429, "rate_limited", limit=limit.describe(), wait=math.ceil(wait)).response(
        lang
    )
    response.headers["Retry-After"] = str(math.ceil(wait))
    return response


def create_app(
    service: MlobService,
    rate_limit: RateLimit | None = None,
    read_concurrency: int = DEFAULT_READ_CONCURRENCY,
) -> FastAPI:
    app = MlobAPI(
        title="mlob",
        version="0.1.0",
        description="National multidisciplinary operational picture (MLOB) of LOCC-KCR2: "
        "assistance requests, decisions and capacities as domain events.",
        # /docs is mlob's own page with its own assets (api/docs.py); no CDN, no ReDoc.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        # Operation ids are the routes' names (list_requests, post_events): what a generated
        # client calls its functions.
        generate_unique_id_function=lambda route: route.name,
    )
    app.state.service = service
    app.limiter = Limiter(rate_limit) if rate_limit is not None else None
    post = app.post_events = PostEvents(service)
    summaries = Summaries(service)  # one count per level for the picture and the feed
    app.include_router(read_model_router(service, principal, summaries))
    app.include_router(audit_router(service, principal))
    app.include_router(history_router(service, principal))
    app.include_router(subscriptions_router(service, principal))
    app.include_router(edxl_router(service, principal))
    install_screen(app, principal)
    install_docs(app)
    hub = FeedHub(service, summaries)
    app.state.feed = hub

    async def feed_principal(token: str) -> Principal | None:
        try:  # the one look-up posts and reads make
            return await caller_of(service, f"Bearer {token}")
        except (ApiError, StoreUnavailable):
            return None

    @app.websocket("/v1/feed")
    async def feed(websocket: WebSocket) -> None:
        """Live updates; see the README for the message protocol."""
        await serve_feed(hub, websocket, feed_principal)

    app.router.on_shutdown.append(hub.close)

    async def start_lanes() -> None:  # the limiter belongs to the running event loop
        bound_reads(read_concurrency)

    app.router.on_startup.append(start_lanes)

    def lang(request: Request) -> str:
        return language(request.headers.get("accept-language"))

    @app.exception_handler(DomainError)
    async def refused(request: Request, exc: DomainError) -> JSONResponse:
        return refusal_response(exc, lang(request))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        """404, 405 and the like in the one documented shape."""
        codes = {404: "not_found", 405: "method_not_allowed"}
        detail = exc.detail if isinstance(exc.detail, str) else ""
        error = ApiError(
            exc.status_code, codes.get(exc.status_code, "http_error"), text="http", detail=detail
        )
        response = error.response(lang(request))
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(StoreUnavailable)
    async def store_down(request: Request, exc: StoreUnavailable) -> JSONResponse:
        return unavailable(exc).response(lang(request))

    @app.exception_handler(OutcomeUnknown)
    async def outcome_lost(request: Request, exc: OutcomeUnknown) -> JSONResponse:
        return outcome_unknown().response(lang(request))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        """A field of the body is named by its JSON pointer too (``loc`` begins with
        ``body``); a query or path parameter by its ``loc`` only."""
        details = [
            field_error({**e, "loc": e["loc"][1:]}, body=True) | {"loc": list(e["loc"])}
            if e["loc"][:1] == ("body",)
            else field_error(e, body=False)
            for e in exc.errors()
        ]
        return ApiError(422, "invalid_request", details=details).response(lang(request))

    def require_role(caller: Principal, *roles: str) -> None:
        if caller.role not in roles:
            raise ApiError(403, "role_not_permitted", text="roles", roles=roles)

    store_figures = StoreCollector(lambda: service.readiness())

    @app.get(
        "/metrics",
        response_class=Response,
        responses={200: {"content": {"text/plain": {}}}, **error_responses(401, 403)},
        summary="Prometheus metrics (administrators)",
    )
    async def metrics(caller: Caller) -> Response:
        """Requests, refusals, commits, feed and projection figures in Prometheus's text
        format; no label names an organisation, a subject or a classification."""
        require_role(caller, "admin")
        body, content_type = await urgent(render_metrics, store_figures)
        return Response(body, media_type=content_type)

    @app.get("/health", response_model=Health, responses=error_responses(503))
    async def health() -> Health:
        last = await urgent(service.last_position)
        return Health(status="ok", store=service.store_kind, last_position=last)

    @app.get("/health/live", response_model=Live)
    async def health_live() -> Live:
        """The process answers (its event loop runs); nothing else is asked."""
        return Live(status="ok")

    @app.get("/health/ready", response_model=Ready, responses={503: {"model": Ready}})
    async def health_ready() -> JSONResponse:
        """Whether this node should get traffic: its store answers, its feed hub follows,
        the projections it runs move (docs in the README, "Health")."""
        checks = await urgent(service.readiness)
        checks["feed"] = hub.status()
        ready = all(check["ok"] for check in checks.values())
        body = Ready(status="ready" if ready else "not_ready", checks=checks)
        return JSONResponse(body.model_dump(), status_code=200 if ready else 503)

    # --- posting events ------------------------------------------------------------------

    @app.post(
        "/v1/events",
        status_code=201,
        response_model=PostedOut,
        responses=error_responses(400, 401, 403, 404, 409, 413, 422, 503, 504),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Posted"}}
                },
            }
        },
        summary="Record one event or an atomic batch",
    )
    async def post_events(request: Request) -> Response:
        # Live traffic is answered by MlobAPI before it gets here; the route documents the
        # endpoint and answers the same for a path rewritten by a proxy (root_path).
        try:
            status, body = await post.answer(
                request.headers.get("authorization", ""),
                request.headers.get("content-length"),
                request.receive,
                request.headers.get("accept-language"),
            )
        except ClientGone:  # gone before its whole body arrived: nothing was recorded
            return Response(status_code=400)
        return Response(
            body, status_code=status, media_type="application/json", headers=challenge(status)
        )

    @app.get(
        "/v1/event-types",
        summary="Every event type: postable ones with their JSON Schema and who may post them",
        responses=error_responses(401),
    )
    def event_types(caller: Caller) -> list[dict[str, Any]]:
        """Every API type an answer may name (domain/vocabulary.py): the postable ones with
        their schema and who may post them, the rest (recorded by other steps or routes, such
        as a capacity's booking or a token's issue) with ``postable: false``."""
        listed: list[dict[str, Any]] = []
        for name, known in sorted(vocabulary.TYPES.items()):
            t = REGISTRY.get(name)
            if t is None:
                listed.append(
                    {
                        "type": name,
                        "subject": known.subject,
                        "postable": False,
                        "summary": known.summary,
                    }
                )
                continue
            listed.append(
                {
                    "type": name,
                    "subject": t.subject,
                    "postable": True,
                    "creates_subject": t.creates,
                    "summary": t.summary,
                    "schema": t.model.model_json_schema(),
                    "example": t.example,
                    "allowed": _allowed_for(name),
                }
            )
        return listed

    # --- reads ---------------------------------------------------------------------------

    def _load(
        cls: type[MlobAggregate], subject: UUID, caller: Principal, route: str
    ) -> tuple[Any, Any]:
        """The subject as the caller may see it (the state of the steps within its clearance,
        if the policy lets it see the subject at all; else 404 as for an unknown id), and the
        state of all its steps (for what must add up)."""
        if Subjects(service, caller).plainly_hidden(subject, _PROJECTION[cls]):
            raise ApiError(404, "not_found", subject_kind=cls.__name__, subject=subject)
        leveled = service.load_leveled(cls, subject)
        item = None if leveled is None else leveled.at(policy.reader_level(caller))
        if item is None or not policy.may_see_subject(caller, item):
            raise ApiError(404, "not_found", subject_kind=cls.__name__, subject=subject)
        at = leveled.level_at(policy.reader_level(caller))
        note_reads(service, caller, route, [(str(subject), cls.__name__, at)])
        return item, leveled.top

    def _page(
        name: str,
        listed: Listing,
        *,
        filters: dict[str, Any],
        keys: tuple[str, ...] = (),
        text: str | None = None,
    ) -> dict[str, Any]:
        """One page of a projection's rows the caller may see (its clearance's level, its
        scope), filtered and ordered in the store (api/paging.py). The store preselects by the
        reader's scope keys (domain.policy.scope_keys); the policy still judges each row. A
        list has no room for fields: while the rows are those of the previous code version
        (being rebuilt) the answer says so in a header."""
        caller, fresh = listed.caller, listed.fresh
        given = {k: v for k, v in filters.items() if v is not None}
        exercise = fresh.exercise
        fingerprint = {**given, "exercise": exercise.value, "keys": list(keys), "q": text}
        after = paging.decode(listed.cursor, name, fingerprint)
        if fresh.min_position is not None:
            service.wait_for_views(fresh.min_position, (name,), fresh.wait)
        if service.views_rebuilding((name,)):  # before the rows: see api/readviews.py
            listed.response.headers[REBUILDING_HEADER] = "true"
        level = policy.reader_level(caller)
        equals: dict[str, Any] = dict(given)
        if exercise is not ExerciseScope.ALL:
            equals["exercise"] = exercise is ExerciseScope.EXERCISE
        ids: list[str] = []
        if text is not None:  # a message id: of a step the reader's clearance covers
            facts = service.message_facts([text]).get(text, [])
            ids = sorted({str(f.stream_id) for f in facts if f.level <= level})
        query = PageQuery(
            level,
            equals,
            policy.scope_keys(caller),
            keys=keys,
            text=text,
            ids=ids,
            after=after,
            limit=paging.clamp(listed.limit),
        )
        rows, following = service.view_page(name, query)
        rows = [r for r in rows if policy.may_see_row(caller, r)]
        note_reads(service, caller, f"GET /v1/{name}", row_items(name, rows))
        return paging.page(rows, name, fingerprint, following)

    @app.get("/v1/requests", responses=error_responses(400, 401))
    def list_requests(
        listed: Listed,
        region: Annotated[str | None, Query(max_length=8)] = None,
        kind: RequestKind | None = None,
        status: RequestStatus | None = None,
        incident: UUID | None = None,
        q: Annotated[
            str | None,
            Query(min_length=1, max_length=200, description="a text of the title, or a message id"),
        ] = None,
    ) -> dict[str, Any]:
        """The requests the caller may see, newest status change first (ties by id)."""
        return _page(
            "requests",
            listed,
            filters={
                "kind": kind.value if kind else None,
                "status": status.value if status else None,
                "incident_id": str(incident) if incident else None,
            },
            keys=(policy.region_key(region),) if region is not None else (),
            text=q,
        )

    @app.get("/v1/requests/{request_id}", responses=error_responses(401, 404))
    def get_request(request_id: UUID, caller: Caller) -> dict[str, Any]:
        request, _ = _load(AssistanceRequest, request_id, caller, "GET /v1/requests/{id}")
        return request_view(request, caller.org, caller.role)

    @app.get("/v1/incidents", responses=error_responses(400, 401))
    def list_incidents(listed: Listed) -> dict[str, Any]:
        """The incidents the caller may see: open ones first, then by title (ties by id)."""
        return _page("incidents", listed, filters={})

    @app.get("/v1/incidents/{incident_id}", responses=error_responses(401, 404))
    def get_incident(incident_id: UUID, caller: Caller) -> dict[str, Any]:
        incident = _load(Incident, incident_id, caller, "GET /v1/incidents/{id}")[0]
        return incident_view(incident, caller.org, caller.role)

    @app.get("/v1/capacities", responses=error_responses(400, 401))
    def list_capacities(
        listed: Listed,
        capability: Annotated[str | None, Query(max_length=64)] = None,
        provider: Annotated[str | None, Query(max_length=64)] = None,
    ) -> dict[str, Any]:
        """The capacities the caller may see, by capability, provider and name (ties by id)."""
        filters = {"capability": capability, "provider": provider}
        return _page("capacities", listed, filters=filters)

    @app.get("/v1/capacities/{capacity_id}", responses=error_responses(401, 404))
    def get_capacity(capacity_id: UUID, caller: Caller) -> dict[str, Any]:
        capacity, top = _load(Capacity, capacity_id, caller, "GET /v1/capacities/{id}")
        return capacity_view(capacity, top, org=caller.org, role=caller.role)

    @app.get("/v1/reference", responses=error_responses(401))
    def reference(caller: Caller) -> dict[str, Any]:
        return {
            "regions": [
                {
                    "code": r.code,
                    "name": r.name,
                    "police_unit": r.police_unit,
                    "municipalities": list(r.municipalities),
                }
                for r in regions()
            ],
            "organisations": [
                {"code": o.code, "name": o.name, "kind": o.kind.value, "region": o.region}
                for o in organisations()
            ],
            "capabilities": [
                {
                    "code": c.code,
                    "name": c.name,
                    "dutch": c.dutch,
                    "category": c.category,
                    "unit": c.unit,
                    "providers": list(c.providers),
                    "request_kinds": list(c.request_kinds),
                    "source": c.source,
                }
                for c in capabilities()
            ],
            "request_kinds": [
                {
                    "code": k.code,
                    "name": k.name,
                    "dutch": k.dutch,
                    "legal_basis": k.legal_basis,
                    "source": k.source,
                    **_kind_law(RequestKind(k.code)),
                }
                for k in request_kind_infos()
            ],
            # Every body a step may be signed by (door of namens), and what its `of` names.
            "authority_bodies": [
                {"code": b.code, "dutch": b.dutch, "of": b.of, "source": b.source}
                for b in AUTHORITY_BODIES.values()
            ],
            "authority_of": list(AUTHORITY_OF),
            "capability_hubs": dict(CAPABILITY_HUBS),
            "roles": list(ROLES),
            "classifications": [c.value for c in Classification],
            # The same levels, lowest first, with the marking a screen writes on each item.
            "classification_markings": [
                {"code": c.value, "rank": c.rank, "marking": c.marking} for c in Classification
            ],
            # The duties to inform (domain/duties.py), recorded as request.informed.
            "duties": [
                {
                    "code": d.code,
                    "kinds": [k.value for k in d.kinds],
                    "by": d.by,
                    "to": d.to,
                    "after": d.after,
                    "outcomes": list(d.outcomes),
                    "capabilities": list(d.capabilities),
                    "summary": d.summary,
                    "source": d.source,
                }
                for d in DUTIES.values()
            ],
        }

    @app.get("/v1/rejections", responses=error_responses(400, 401, 403))
    def rejections(
        caller: Caller,
        after: After = 0,
        subject: Annotated[UUID | None, Query(description="attempts on this subject")] = None,
        cursor: Cursor = None,
        limit: Limit = paging.DEFAULT_LIMIT,
    ) -> dict[str, Any]:
        """Refused attempts, oldest first, as far as the policy lets the caller see them, in
        pages (``after``: those logged after this number; ``subject``: on this subject)."""
        if not policy.may_read_rejections(caller):
            raise ApiError(
                403, "role_not_permitted", text="roles", roles=sorted(policy.REJECTION_ROLES)
            )
        subjects = Subjects(service, caller)
        return rejection_page(
            service, subjects, after=after, cursor=cursor, limit=limit, subject=subject
        )

    # --- tokens --------------------------------------------------------------------------

    @app.get("/v1/tokens", responses=error_responses(401, 403))
    def list_tokens(caller: Caller) -> list[dict[str, Any]]:
        """The tokens the caller may manage: its own organisation's (LOCC's administrators:
        every organisation's), at or below its clearance."""
        require_role(caller, "admin")
        return [
            t for t in service.tokens() if policy.may_manage_token(caller, t["org"], t["clearance"])
        ]

    @app.post(
        "/v1/tokens",
        status_code=201,
        response_model=TokenOut,
        responses=error_responses(401, 403, 422),
    )
    def issue_token(body: TokenIn, caller: Caller) -> TokenOut:
        """Issue a token for the caller's own organisation (LOCC's administrators: any), at
        most at the caller's clearance, with a role the organisation may hold (403
        ``not_own_organisation``, ``clearance_above_own``, ``role_not_held``)."""
        require_role(caller, "admin")
        issued = service.issue_token(caller, **body.model_dump())
        return TokenOut(token_id=issued.token_id, token=issued.token)

    @app.delete(
        "/v1/tokens/{token_id}", status_code=204, responses=error_responses(401, 403, 404, 409)
    )
    def revoke_token(token_id: UUID, caller: Caller, body: RevokeIn | None = None) -> None:
        """Revoke a token the caller may manage; any other id answers 404 ``unknown_token``
        (another organisation's token too), a token revoked before 409 ``already_revoked``."""
        require_role(caller, "admin")
        service.revoke_token(caller, token_id, body.reason if body else "")

    _document_posted_schema(app)
    return app


def posted_examples() -> dict[str, dict[str, Any]]:
    """A valid body of ``POST /v1/events`` per postable type, its data the type's example
    (api/commands.py), as OpenAPI's named ``examples`` of the request body."""
    return {
        name: {
            "summary": t.summary,
            "value": {
                "type": name,
                "subject": EXAMPLE_SUBJECTS[t.subject],
                "message_id": f"example-{name}",
                "occurred_at": "2026-11-23T21:40:00+01:00",
                "data": dict(t.example),
            },
        }
        for name, t in sorted(REGISTRY.items())
    }


def _document_posted_schema(app: FastAPI) -> None:
    """Put the exact body schema of POST /v1/events into the OpenAPI components, a valid
    example body of every postable type into its request body, and the read answers'
    schemas (api/schemas.py) into their routes."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        posted = posted_adapter().json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(posted.pop("$defs", {}))
        components["Posted"] = posted
        components["Error"] = ERROR_SCHEMA
        document_read_answers(schema)
        body = schema["paths"][PATH]["post"]["requestBody"]["content"]["application/json"]
        body["examples"] = posted_examples()
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
