"""The FastAPI application: a thin entry layer over the application service."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any
from uuid import UUID

import orjson
from fastapi import Depends, FastAPI, Query, Request, WebSocket
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from api.audit import router as audit_router
from api.commands import REGISTRY
from api.errors import ApiError, error_responses
from api.feed import FeedHub
from api.feed import serve as serve_feed
from api.ports import MlobService, Principal, StoreUnavailable
from api.posting import MAX_BATCH, Item, ItemRefused, plan
from api.readviews import router as read_model_router
from api.screen import install as install_screen
from domain.access import ROLES
from domain.capacity import Capacity
from domain.envelope import Classification
from domain.errors import DomainError
from domain.incident import INCIDENT_KEEPERS, Incident
from domain.kinds import KIND_RULES, RequestKind
from domain.reference import capabilities, organisations, regions, request_kind_infos
from domain.request import AssistanceRequest, RequestStatus
from domain.rights import PROVIDER_KINDS, allowed_kinds
from projections.views import capacity_view, incident_view, readable, request_view

log = logging.getLogger("mlob.api")

MAX_BODY_BYTES = 1024 * 1024
WRITER_ROLES = ("operator", "coordinator")


class Health(BaseModel):
    status: str
    store: str
    last_position: int


class Batch(BaseModel):
    """An atomic batch: every item is recorded, or none."""

    model_config = ConfigDict(extra="forbid")
    items: Annotated[list[Item], Field(min_length=1, max_length=MAX_BATCH)]


class RecordedOut(BaseModel):
    position: int
    stream_id: UUID
    version: int
    type: str
    message_id: str


class PostedOut(BaseModel):
    events: list[RecordedOut]
    replayed: bool


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    org: Annotated[str, Field(min_length=1, max_length=64)]
    role: Annotated[str, Field(min_length=1, max_length=32)]
    clearance: Classification = Classification.UNCLASSIFIED
    expires_at: AwareDatetime | None = None
    label: Annotated[str, Field(max_length=200)] = ""


class TokenOut(BaseModel):
    token_id: UUID
    token: str


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(max_length=2000)] = ""


POSTED = TypeAdapter(Item | Batch)


def _allowed_for(type_name: str) -> dict[str, Any]:
    event_type = REGISTRY[type_name]
    if event_type.subject == "incident":
        return {"roles": list(WRITER_ROLES), "org_kinds": sorted(INCIDENT_KEEPERS)}
    if event_type.subject == "capacity":
        return {"roles": list(WRITER_ROLES), "org_kinds": sorted(PROVIDER_KINDS)}
    assert event_type.step is not None
    return {
        "roles": list(WRITER_ROLES),
        "org_kinds_by_request_kind": {
            kind.value: sorted(allowed_kinds(kind, event_type.step)) for kind in RequestKind
        },
    }


async def principal(request: Request) -> Principal:
    """The caller, from ``Authorization: Bearer <token>``; 401 without a valid token."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthenticated", "send Authorization: Bearer <token>")
    service: MlobService = request.app.state.service
    # A recently seen token is answered from memory; only a miss reads the store (in a thread).
    found = service.recent_principal(token.strip())
    if found is None:
        found = await run_in_threadpool(service.authenticate, token.strip())
    if found is None:
        raise ApiError(401, "invalid_token", "the token is unknown, expired or revoked")
    return found


Caller = Annotated[Principal, Depends(principal)]


def create_app(service: MlobService) -> FastAPI:
    app = FastAPI(
        title="mlob",
        version="0.1.0",
        description="National multidisciplinary operational picture (MLOB) of LOCC-KCR2: "
        "assistance requests, decisions and capacities as domain events.",
    )
    app.state.service = service
    app.include_router(read_model_router(service, principal))
    app.include_router(audit_router(service, principal))
    install_screen(app, principal)
    hub = FeedHub(service)
    app.state.feed = hub

    async def feed_principal(token: str) -> Principal | None:
        found = service.recent_principal(token)
        if found is None:
            try:
                found = await run_in_threadpool(service.authenticate, token)
            except StoreUnavailable:
                return None
        return found

    @app.websocket("/v1/feed")
    async def feed(websocket: WebSocket) -> None:
        """Live updates; see the README for the message protocol."""
        await serve_feed(hub, websocket, feed_principal)

    app.router.on_shutdown.append(hub.close)

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(StoreUnavailable)
    async def store_down(_: Request, exc: StoreUnavailable) -> JSONResponse:
        return ApiError(503, "store_unavailable", str(exc), "mlob store").response()

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        return ApiError(
            422, "invalid_request", "the request does not fit", details=details
        ).response()

    def require_role(caller: Principal, *roles: str) -> None:
        if caller.role not in roles:
            raise ApiError(403, "role_not_permitted", f"this needs role {' or '.join(roles)}")

    @app.get("/health", response_model=Health, responses=error_responses(503))
    def health() -> Health:
        return Health(status="ok", store=service.store_kind, last_position=service.last_position())

    # --- posting events ------------------------------------------------------------------

    @app.post(
        "/v1/events",
        status_code=201,
        response_model=PostedOut,
        responses=error_responses(400, 401, 403, 404, 409, 413, 422, 503),
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
    async def post_events(request: Request, caller: Caller) -> Response:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise await _refused(
                caller, ApiError(413, "body_too_large", f"at most {MAX_BODY_BYTES} bytes")
            )
        buffer = bytearray()
        async for chunk in request.stream():
            buffer += chunk
            if len(buffer) > MAX_BODY_BYTES:
                raise await _refused(
                    caller, ApiError(413, "body_too_large", f"at most {MAX_BODY_BYTES} bytes")
                )
        body = bytes(buffer)
        if b"\\u0000" in body:  # PostgreSQL text cannot hold NUL; refuse it up front
            raise await _refused(
                caller, ApiError(422, "invalid_characters", "NUL characters are not accepted")
            )
        try:
            raw = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise await _refused(
                caller, ApiError(400, "malformed_json", f"the body is not JSON: {exc}")
            ) from None
        try:
            posted = POSTED.validate_python(raw)
        except ValidationError as exc:
            details = [
                {"loc": list(e["loc"]), "msg": e["msg"]}
                for e in exc.errors(include_url=False, include_context=False)
            ][:50]
            raise await _refused(
                caller,
                ApiError(
                    422,
                    "invalid_item",
                    "the body is neither an item nor a batch of items",
                    details=details,
                ),
            ) from None
        items = posted.items if isinstance(posted, Batch) else [posted]
        try:
            append = plan(caller, items)
            # The writer thread answers through a future: no thread waits per request.
            receipt = await asyncio.wrap_future(
                service.record_later(append.messages, append.work, append.subjects)
            )
        except ItemRefused as exc:
            item = items[exc.index] if exc.index < len(items) else None
            raise await _refused(
                caller,
                ApiError(
                    exc.status,
                    exc.code,
                    exc.reason,
                    exc.source,
                    index=exc.index,
                    **({"details": exc.details} if exc.details else {}),
                ),
                item,
            ) from None
        except DomainError as exc:  # conflicts found by the store: reused id, concurrent write
            raise await _refused(
                caller, ApiError(exc.status, exc.code, exc.reason, exc.source), items[0]
            ) from None
        answer = {
            "events": [
                {
                    "position": e.position,
                    "stream_id": str(e.stream_id),
                    "version": e.version,
                    "type": e.event_type,
                    "message_id": e.message_id,
                }
                for e in receipt.events
            ],
            "replayed": receipt.replayed,
        }
        # Serialised once, by orjson (the response model above documents this shape).
        return Response(orjson.dumps(answer), status_code=201, media_type="application/json")

    async def _refused(caller: Principal, error: ApiError, item: Item | None = None) -> ApiError:
        rejection = {
            "org": caller.org,
            "role": caller.role,
            "person": caller.person,
            "event_type": item.type if item else None,
            "subject": str(item.subject) if item else None,
            "message_id": item.message_id if item else None,
            "item_index": error.extra.get("index"),
            "status": error.status,
            "code": error.code,
            "reason": error.reason,
            "source": error.source,
        }
        try:
            await run_in_threadpool(service.log_rejection, rejection)
        except StoreUnavailable:
            log.warning("rejection not logged, store unavailable: %s", rejection)
        return error

    @app.get(
        "/v1/event-types", summary="Every postable event type, its JSON Schema and who may post it"
    )
    def event_types() -> list[dict[str, Any]]:
        return [
            {
                "type": name,
                "subject": t.subject,
                "creates_subject": t.creates,
                "summary": t.summary,
                "schema": t.model.model_json_schema(),
                "allowed": _allowed_for(name),
            }
            for name, t in sorted(REGISTRY.items())
        ]

    # --- reads ---------------------------------------------------------------------------

    def _load(cls: type[Any], subject: UUID, caller: Principal) -> Any:
        try:
            item = service.load(cls, subject)
        except DomainError:
            raise ApiError(404, "not_found", f"no {cls.__name__} {subject}") from None
        if not readable(item, caller.clearance):
            raise ApiError(404, "not_found", f"no {cls.__name__} {subject}")  # do not reveal it
        return item

    def _all(cls: type[Any], caller: Principal) -> list[Any]:
        loaded = [service.load(cls, s) for s in service.streams_of(cls)]
        return [item for item in loaded if readable(item, caller.clearance)]

    @app.get("/v1/requests", responses=error_responses(401))
    def list_requests(
        caller: Caller,
        region: Annotated[str | None, Query(max_length=8)] = None,
        kind: RequestKind | None = None,
        status: RequestStatus | None = None,
        incident: UUID | None = None,
        exercise: bool | None = None,
    ) -> list[dict[str, Any]]:
        views = []
        for r in _all(AssistanceRequest, caller):
            if region and region not in r.regions_concerned():
                continue
            if (kind and r.kind is not kind) or (status and r.status is not status):
                continue
            if (incident and r.incident_id != incident) or (
                exercise is not None and r.exercise != exercise
            ):
                continue
            views.append(request_view(r))
        return views

    @app.get("/v1/requests/{request_id}", responses=error_responses(401, 404))
    def get_request(request_id: UUID, caller: Caller) -> dict[str, Any]:
        return request_view(_load(AssistanceRequest, request_id, caller), caller.org, caller.role)

    @app.get("/v1/incidents", responses=error_responses(401))
    def list_incidents(caller: Caller, exercise: bool | None = None) -> list[dict[str, Any]]:
        return [
            incident_view(i)
            for i in _all(Incident, caller)
            if exercise is None or i.exercise == exercise
        ]

    @app.get("/v1/incidents/{incident_id}", responses=error_responses(401, 404))
    def get_incident(incident_id: UUID, caller: Caller) -> dict[str, Any]:
        return incident_view(_load(Incident, incident_id, caller))

    @app.get("/v1/capacities", responses=error_responses(401))
    def list_capacities(
        caller: Caller,
        capability: Annotated[str | None, Query(max_length=64)] = None,
        provider: Annotated[str | None, Query(max_length=64)] = None,
    ) -> list[dict[str, Any]]:
        return [
            capacity_view(c)
            for c in _all(Capacity, caller)
            if (capability is None or c.capability == capability)
            and (provider is None or c.provider == provider)
        ]

    @app.get("/v1/capacities/{capacity_id}", responses=error_responses(401, 404))
    def get_capacity(capacity_id: UUID, caller: Caller) -> dict[str, Any]:
        return capacity_view(_load(Capacity, capacity_id, caller))

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
                    "authorities": list(KIND_RULES[RequestKind(k.code)].authorities),
                    "requesters": list(KIND_RULES[RequestKind(k.code)].requesters),
                    "deciders": list(KIND_RULES[RequestKind(k.code)].route.deciders),
                }
                for k in request_kind_infos()
            ],
            "roles": list(ROLES),
            "classifications": [c.value for c in Classification],
        }

    @app.get("/v1/rejections", responses=error_responses(401, 403))
    def rejections(
        caller: Caller,
        after: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    ) -> list[dict[str, Any]]:
        require_role(caller, "auditor", "admin")
        return service.rejections(after=after, limit=limit)

    # --- tokens --------------------------------------------------------------------------

    @app.get("/v1/tokens", responses=error_responses(401, 403))
    def list_tokens(caller: Caller) -> list[dict[str, Any]]:
        require_role(caller, "admin")
        return service.tokens()

    @app.post(
        "/v1/tokens",
        status_code=201,
        response_model=TokenOut,
        responses=error_responses(401, 403, 422),
    )
    def issue_token(body: TokenIn, caller: Caller) -> TokenOut:
        require_role(caller, "admin")
        try:
            issued = service.issue_token(
                caller,
                org=body.org,
                role=body.role,
                clearance=body.clearance,
                expires_at=body.expires_at,
                label=body.label,
            )
        except DomainError as exc:
            raise ApiError(exc.status, exc.code, exc.reason, exc.source) from None
        return TokenOut(token_id=issued.token_id, token=issued.token)

    @app.delete(
        "/v1/tokens/{token_id}", status_code=204, responses=error_responses(401, 403, 404, 409)
    )
    def revoke_token(token_id: UUID, caller: Caller, body: RevokeIn | None = None) -> None:
        require_role(caller, "admin")
        try:
            service.revoke_token(caller, token_id, body.reason if body else "")
        except DomainError as exc:
            raise ApiError(exc.status, exc.code, exc.reason, exc.source) from None

    _document_posted_schema(app)
    return app


def _document_posted_schema(app: FastAPI) -> None:
    """Put the exact body schema of POST /v1/events into the OpenAPI components."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        posted = POSTED.json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(posted.pop("$defs", {}))
        components["Posted"] = posted
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
