"""The EDXL routes: a request's conversation and a capacity as EDXL-RM in an EDXL-DE envelope,
and ``POST /v1/edxl`` (docs/edxl.md). What a reader sees is what the timeline shows it
(api.audit.visible_steps asks the access policy); what a post records is what ``POST
/v1/events`` would record for the same items (api.post_events.plan, the same service)."""

import functools
import hashlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID, uuid5

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.access import Subjects
from api.audit import visible_steps
from api.edxl import envelope, inn, out
from api.edxl.vocab import ERROR, FOREIGN, RM_MSG, mlob_message_id
from api.edxl.xmlsafe import XmlRefused, parse, path, serialise
from api.errors import (
    ApiError,
    answer,
    challenge,
    error_responses,
    language,
    outcome_unknown,
    unavailable,
)
from api.lanes import reading
from api.ports import MlobService, OutcomeUnknown, Principal, StoreUnavailable
from api.post_events import Item, caller_of, log_refusal, plan
from domain.capacity import Capacity
from domain.commands import Message, Post
from domain.errors import DomainError
from domain.request import AssistanceRequest
from domain.vocabulary import posted_type
from projections.views import request_view

log = logging.getLogger("mlob.api")

MAX_BODY_BYTES = 1024 * 1024
XML = "application/xml"
#: mlob itself, as the sender of what it answers (EDXL-DE ``senderID``).
SELF = "mlob"
_XML_ANSWER = {"content": {XML: {}}, "description": "EDXL-DE 1.0 EDXLDistribution"}


def router(service: MlobService, caller_dependency: Any) -> APIRouter:
    routes = APIRouter(tags=["edxl"])
    Caller = Annotated[Principal, Depends(caller_dependency)]

    def xml(root: Any, status: int = 200) -> Response:
        return Response(serialise(root), status_code=status, media_type=XML)

    @routes.get(
        "/v1/requests/{request_id}/edxl-rm",
        responses={200: _XML_ANSWER, **error_responses(401, 404)},
        response_class=Response,
    )
    def request_edxl(request_id: UUID, caller: Caller) -> Response:
        """The request's conversation as EDXL-RM 1.0 messages in one EDXL-DE 1.0
        ``EDXLDistribution``, in order: only the steps the caller may see (docs/edxl.md)."""
        _, events = visible_steps(service, AssistanceRequest, request_id, caller, "edxl-rm")
        return xml(_export(events, f"requests/{request_id}"))

    @routes.get(
        "/v1/capacities/{capacity_id}/edxl-rm",
        responses={200: _XML_ANSWER, **error_responses(401, 404)},
        response_class=Response,
    )
    def capacity_edxl(capacity_id: UUID, caller: Caller) -> Response:
        """The capacity as EDXL-RM OfferUnsolicitedResource (its registration, and each change
        as an update of it), in one EDXL-DE 1.0 ``EDXLDistribution``."""
        _, events = visible_steps(service, Capacity, capacity_id, caller, "edxl-rm")
        return xml(_export(events, f"capacities/{capacity_id}"))

    @routes.post(
        "/v1/edxl",
        status_code=201,
        responses={
            201: {"description": "recorded (JSON receipt, or an EDXL-DE Ack)"},
            **error_responses(400, 401, 403, 404, 409, 413, 422),
        },
        response_class=Response,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {XML: {"schema": {"type": "string", "format": "binary"}}},
            }
        },
    )
    async def post_edxl(request: Request) -> Response:
        """An EDXL-DE 1.0 envelope or a bare EDXL-RM 1.0 message (``application/xml``),
        recorded as the steps it maps onto (docs/edxl.md); JSON answers by default, an
        EDXL-DE ``Ack`` or ``Error`` envelope with ``Accept: application/xml``."""
        wants_xml = XML in request.headers.get("accept", "") or "text/xml" in request.headers.get(
            "accept", ""
        )
        edxl = EdxlPost(service)
        status, body, root = await edxl.answer(request)
        headers = challenge(status) if status >= 400 else {}
        if wants_xml:
            answer = xml(edxl.as_xml(status, body, root), status)
            answer.headers.update(headers)
            return answer
        return Response(
            orjson.dumps(body), status_code=status, headers=headers, media_type="application/json"
        )

    return routes


def _export(events: Sequence[Any], what: str) -> Any:
    sent = out.messages(events)
    last = events[-1].position if events else 0
    return envelope.distribution(
        sent,
        distribution_id=f"{SELF}:{what}/edxl-rm@{last}",
        sender=SELF,
        sent_at=datetime.now(UTC),
    )


class Resolve:
    """The request some EDXL MessageIDs name, among those the caller may see (a hidden one
    is not found, as an unknown one: the answer is the same)."""

    def __init__(self, post: "EdxlPost", caller: Principal) -> None:
        self.post = post
        self.caller = caller

    def __call__(self, names: Sequence[str], sender: str) -> UUID | None:
        subject = self.post._named(names, sender)
        if subject is None:
            return None
        state = Subjects(self.post.service, self.caller).state(subject)
        return subject if isinstance(state, AssistanceRequest) else None


class EdxlPost:
    """One ``POST /v1/edxl``: read, check, map, record, answer (refusals logged)."""

    def __init__(self, service: MlobService) -> None:
        self.service = service
        self.incoming: inn.Incoming | None = None
        self.mapped: inn.Mapped | None = None
        self.answers: list[out.Sent] = []
        self.digest = ""

    async def answer(self, request: Request) -> tuple[int, dict[str, Any], Any]:
        """The status, the JSON body and (for an XML answer) the parsed document."""
        root = None
        lang = language(request.headers.get("accept-language"))
        try:
            caller = await caller_of(self.service, request.headers.get("authorization", ""))
        except DomainError as error:
            return (*_refusal(error, lang), None)
        except StoreUnavailable as exc:
            return (*_refusal(unavailable(exc), lang), None)
        try:
            body = await _body(request)
            self.digest = "edxl-sha256:" + hashlib.sha256(body).hexdigest()
            root = await reading(_parsed, body)
            self.incoming = incoming = await reading(inn.read, root, caller.org)
            resolve = Resolve(self, caller)
            self.mapped = mapped = await reading(inn.mapped, incoming, resolve)
            events: list[dict[str, Any]] = []
            replayed = False
            if mapped.items:
                receipt = await self.service.post_async(self._post(caller, mapped.items))
                replayed = receipt.replayed
                asked = {(i.message_id, i.subject): i.type for i in mapped.items}
                events = [
                    {
                        "position": e.position,
                        "stream_id": str(e.stream_id),
                        "version": e.version,
                        "type": posted_type(e.event_type, asked.get((e.message_id, e.stream_id))),
                        "message_id": e.message_id,
                        "org": e.actor_org,
                    }
                    for e in receipt.events
                ]
            for query in mapped.queries:
                self.answers.append(await reading(self._query, caller, incoming.sender, query))
        except (XmlRefused, inn.NotValid, inn.SenderMismatch, inn.Unmapped) as exc:
            problem = _refusal_of(exc, caller.org)
            await self._log(caller, problem)  # every refusal is kept, as for POST /v1/events
            return (*_refusal(problem, lang), root)
        except DomainError as refusal:
            await self._log(caller, refusal)
            return (*_refusal(refusal, lang), root)
        except StoreUnavailable as exc:
            return (*_refusal(unavailable(exc), lang), root)
        except OutcomeUnknown:
            return (*_refusal(outcome_unknown(), lang), root)
        body_out: dict[str, Any] = {"events": events, "replayed": replayed}
        if self.answers:
            body_out["answers"] = [serialise(a.element).decode() for a in self.answers]
        return (201 if events else 200), body_out, root

    def _post(self, caller: Principal, items: list[Item]) -> Post:
        """The post ``plan`` makes of the items, idempotent on (sender, MessageID) with the raw
        message's digest: the same message again is a replay, another under its id a 409."""
        planned = plan(caller, items)
        messages = [Message(m.message_id, self.digest, m.level) for m in planned.messages]
        return Post(planned.reader, messages, planned.commands)

    def _query(self, caller: Principal, sender: str, query: inn.Query) -> out.Sent:
        """The answer to a question about a request the caller may see (else 404, as for a
        request nobody knows)."""
        subject = query.subject or self._named(query.names, sender)
        unknown = ApiError(404, "not_found", text="edxl")
        if subject is None:
            raise unknown
        try:
            subjects, events = visible_steps(
                self.service, AssistanceRequest, subject, caller, "edxl-rm"
            )
        except ApiError:
            raise unknown from None
        asked = out.Asked(
            query.message_id,
            f"{SELF}:{uuid5(FOREIGN, f'answer:{sender}:{query.message_id}:{events[-1].position}')}",
            datetime.now(UTC),
        )
        if query.kind == "status":
            return out.deployment_report(events, asked)
        detail = request_view(subjects.state(subject), caller.org, caller.role)
        return out.information_response(events, detail, asked)

    def _named(self, names: Sequence[str], sender: str) -> UUID | None:
        """The stream of the first message named (``<org>:<id>``: that organisation's id;
        else the sender's own foreign id)."""
        for name in names:
            org, separator, own = name.partition(":")
            candidates = []
            if separator:
                candidates.append((org, own))
            candidates.append((sender, mlob_message_id(sender, name)))
            facts = self.service.message_facts(sorted({c[1] for c in candidates}))
            for owner, message_id in candidates:
                for fact in facts.get(message_id, []):
                    if fact.org == owner:
                        return fact.stream_id
        return None

    async def _log(self, caller: Principal, error: DomainError) -> None:
        """A refusal by the rules is kept in the rejection log, as for ``POST /v1/events``."""
        items = self.mapped.items if self.mapped else []
        item = items[error.index or 0] if (error.index or 0) < len(items) else None
        await log_refusal(self.service, caller, error, item)

    def as_xml(self, status: int, body: dict[str, Any], root: Any) -> Any:
        """The answer as an EDXL-DE envelope: ``Ack`` (with any answers to questions) or
        ``Error`` (with a ResponseToRequestResource Decline for each refused
        RequestResource)."""
        now = datetime.now(UTC)
        incoming = self.incoming
        references = []
        if incoming is not None:
            references = [incoming.distribution_id] if incoming.distribution_id else []
            references += [
                c.element.findtext(f"{{{RM_MSG}}}MessageID") or "" for c in incoming.contents
            ]
        ident = f"{SELF}:{uuid5(FOREIGN, f'{self.digest}:{status}:{now.isoformat()}')}"
        # Ack or Error, the envelope's head is the same: this answer, from us, now, to what.
        answer = functools.partial(
            envelope.answer, distribution_id=ident, sender=SELF, sent_at=now, references=references
        )
        if status < 400:
            recorded = body["events"]
            what = (
                "replayed: recorded before"
                if body["replayed"]
                else f"recorded {len(recorded)} step(s)"
            )
            return answer(kind="Ack", description=what, content=self.answers)
        error = body["error"]
        element = (error.get("details") or [{}])[0].get("element")
        declines = [
            _decline(c.element, error, ident, now)
            for c in (incoming.contents if incoming is not None else ())
            if c.element.tag == f"{{{RM_MSG}}}RequestResource"
        ]
        return answer(
            kind="Error",
            description=f"{error['code']}: {error['reason']}",
            keywords=envelope.error_keywords(status, error["code"], element),
            content=declines,
        )


def _decline(message: Any, error: dict[str, Any], ident: str, now: datetime) -> out.Sent:
    """A ResponseToRequestResource Decline of a refused RequestResource, line by line."""
    message_id = message.findtext(f"{{{RM_MSG}}}MessageID") or ""
    originating = message.findtext(f"{{{RM_MSG}}}OriginatingMessageID") or message_id
    infos = []
    for info in message.findall(f"{{{RM_MSG}}}ResourceInformation"):
        element_id = info.findtext(f"{{{RM_MSG}}}ResourceInfoElementID") or "request"
        response = out.Response(element_id, "Decline", error["code"], error["reason"], ERROR)
        infos.append(out.Info(element_id, response=response))
    element = out.build_message(
        "ResponseToRequestResource",
        f"{ident}/decline/{message_id}",
        now,
        originating,
        message_id,
        SELF,
        infos,
        description=f"refused: {error['code']}",
    )
    return out.Sent(
        element, "ResponseToRequestResource", "", "refusal", SELF, "ongerubriceerd", False, ()
    )


def _refusal_of(exc: Exception, org: str) -> ApiError:
    """The refusal an XML, schema, sender or mapping problem answers."""
    if isinstance(exc, XmlRefused):
        return exc
    if isinstance(exc, inn.NotValid):
        return ApiError(
            422,
            "edxl_invalid",
            "OASIS EDXL-RM 1.0 / EDXL-DE 1.0 schemas",
            details=[{"element": exc.invalid.element, "reason": exc.invalid.reason}],
            element=exc.invalid.element,
            reason=exc.invalid.reason,
        )
    if isinstance(exc, inn.SenderMismatch):
        return ApiError(
            403,
            "sender_mismatch",
            "mlob EDXL rules (the actor comes from the token)",
            sender=exc.sender,
            org=org,
        )
    assert isinstance(exc, inn.Unmapped)
    return ApiError(
        422,
        "edxl_unmapped",
        "docs/edxl.md",
        details=[{"element": exc.element, "reason": exc.reason}],
        element=exc.element,
        reason=exc.reason,
    )


def _parsed(body: bytes) -> Any:
    return parse(body)


def _refusal(error: DomainError, lang: str) -> tuple[int, dict[str, Any]]:
    return answer(error, lang)


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if (
        declared.isascii()
        and declared.isdigit()
        and (len(declared) > 8 or int(declared) > MAX_BODY_BYTES)
    ):
        raise ApiError(413, "body_too_large", max_bytes=MAX_BODY_BYTES)
    buffer = bytearray()
    async for chunk in request.stream():
        buffer += chunk
        if len(buffer) > MAX_BODY_BYTES:
            raise ApiError(413, "body_too_large", max_bytes=MAX_BODY_BYTES)
    return bytes(buffer)


__all__ = ["EdxlPost", "path", "router"]
