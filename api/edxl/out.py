"""A subject's visible history as EDXL-RM 1.0 messages (docs/edxl.md has the map).

Pure: the caller hands in the steps the reader may see (api/edxl/routes.py asks the access
policy through api.access.Subjects, as the timeline does); each step becomes one message, in
order. Threading: MessageID ``<org>:<message_id>``, OriginatingMessageID the conversation's first
visible message, PrecedingMessageID the message the step answers (its causation) or, when that
one is not among the visible messages, the nearest visible one before it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from lxml import etree

from api.commands import REGISTRY
from api.edxl.vocab import (
    AUTHORITY,
    CANCELS,
    CAPABILITY,
    CLASSIFICATION,
    DATA,
    DEPLOYMENT,
    DEPLOYMENT_STATUS,
    EVENT_TYPE,
    EXERCISE,
    LEGAL_BASIS,
    OCCURRED_AT,
    ORGANISATION,
    REQUEST_KIND,
    RM,
    RM_MSG,
    STEP_MESSAGE,
    SUBJECT,
    TASK,
    UPDATES,
    VOIDS,
    edxl_message_id,
)
from api.ports import LoggedEvent
from api.rendering import dumps, event_body
from domain.envelope import Classification
from domain.kinds import KIND_RULES, RequestKind

NSMAP = {"rmsg": RM_MSG, "rm": RM}
#: A RequisitionResource must say how it is funded.
FUNDING = "none: LOCC charges nothing; costs are agreed between the parties"

#: Message types whose ResourceInformation must (or may) carry a ResponseInformation.
RESPONSE_REQUIRED = frozenset(
    {
        "CommitResource",
        "ResponseToRequestResource",
        "ResponseToRequestReturn",
        "ResponseToRequestQuote",
        "ResponseToRequestExtendedDeploymentDuration",
    }
)
RESPONSE_ALLOWED = RESPONSE_REQUIRED | {
    "ReleaseResource",
    "ReportResourceDeploymentStatus",
    "RequestQuote",
    "ResponseToRequestInformation",
}
#: Message types that must name, may name, or never name a PrecedingMessageID.
PRECEDING_REQUIRED = frozenset(
    {
        "CommitResource",
        "ResponseToRequestResource",
        "ResponseToRequestInformation",
        "ResponseToRequestReturn",
        "ResponseToRequestQuote",
        "ResponseToRequestExtendedDeploymentDuration",
    }
)
NO_PRECEDING = frozenset({"RequestResource", "OfferUnsolicitedResource"})
#: Message types whose Resource has a ResourceStatus (with a DeploymentStatus).
WITH_STATUS = frozenset(
    {
        "CommitResource",
        "ReportResourceDeploymentStatus",
        "ReleaseResource",
        "RequestReturn",
        "RequestExtendedDeploymentDuration",
        "OfferUnsolicitedResource",
        "ResponseToRequestInformation",
    }
)
#: The ResponseType of each response step (decisions: by their outcome, see ``_response``).
PROVISIONAL = frozenset(
    {
        "request.received",
        "request.exhaustion_confirmed",
        "request.advised",
        "request.priority_decided",
        "request.made_ready",
    }
)


@dataclass(frozen=True)
class Response:
    preceding: str  # the ResourceInfoElementID answered
    kind: str  # Accept, Decline, Provisional
    reason_code: str  # the step's API type (urn:mlob:event-type), or an error's code
    reason: str = ""
    reason_list: str = EVENT_TYPE


@dataclass(frozen=True)
class Schedule:
    kind: str  # ScheduleType
    at: str | None = None
    location: str | None = None


@dataclass
class Info:
    """One ResourceInformation."""

    element_id: str
    response: Response | None = None
    resource_id: str | None = None
    name: str | None = None
    capability: str | None = None
    keywords: list[tuple[str, list[str]]] = field(default_factory=list)
    description: str | None = None
    status: str | None = None
    quantity: int | None = None
    schedules: list[Schedule] = field(default_factory=list)


@dataclass(frozen=True)
class Sent:
    """One message mlob sends: the EDXL-RM element and what its envelope says of it."""

    element: Any
    rm_type: str
    message_id: str
    api_type: str
    org: str
    classification: str
    exercise: bool
    recipients: tuple[str, ...]


@dataclass
class _Built:
    rm_type: str
    message_id: str
    infos: list[Info]


# --- a step's data as the JSON API posts it ---------------------------------------------------


def plain(value: Any) -> Any:
    """Stored values (dataclasses, enums, tuples, ids, moments) as JSON values."""
    return orjson.loads(dumps(value))


def posted_data(api_type: str, data: dict[str, Any], new_booking: bool = True) -> dict[str, Any]:
    """The data a JSON post of ``api_type`` carries to record this step again (the stored event
    keeps more, or keeps it otherwise: a decision, a booking). ``new_booking``: the event's
    booking was not seen before (a part split off: posted as its origin and a quantity)."""
    model = REGISTRY[api_type].model
    booking = data.get("booking") if isinstance(data.get("booking"), dict) else None
    found: dict[str, Any]
    if api_type == "request.decided":
        decision = data["decision"]
        found = {
            "outcome": decision["outcome"],
            "reasons": decision["reasons"],
            "granted": [{"line_id": g[0], "quantity": g[1]} for g in decision["granted"]],
        }
    elif booking is not None:
        found = {"capacity_id": booking["capacity_id"], "booking_id": booking["booking_id"]}
        if api_type in ("request.made_ready", "request.committed"):
            found |= {"line_id": booking["line_id"], "quantity": booking["quantity"]}
        elif api_type == "request.extended":
            found |= {"until": booking["until"], "reason": data.get("note", "")}
        elif api_type == "request.relieved":
            found |= {"successor_booking_id": booking["successor"]}
        elif api_type in ("request.arrived", "request.released", "request.returned"):
            if new_booking and booking.get("split_from"):
                found |= {"booking_id": booking["split_from"], "quantity": booking["quantity"]}
            if api_type != "request.returned":
                found["note"] = data.get("note", "")
    else:
        found = {k: v for k, v in data.items() if k in model.model_fields}
        if isinstance(found.get("justifications"), list):
            found["justifications"] = dict(found["justifications"])
    posted: dict[str, Any] = plain(model.model_validate(found).model_dump(mode="json"))
    return posted


# --- building ---------------------------------------------------------------------------------


def _el(parent: Any, namespace: str, tag: str, text: str | None = None) -> Any:
    element = etree.SubElement(parent, f"{{{namespace}}}{tag}")
    if text is not None:
        element.text = text
    return element


def _value_list(parent: Any, tag: str, urn: str, values: Sequence[str]) -> None:
    element = _el(parent, RM_MSG, tag)
    _el(element, RM, "ValueListURN", urn)
    for value in values:
        _el(element, RM, "Value", value)


def build_message(
    rm_type: str,
    message_id: str,
    sent_at: datetime,
    originating: str,
    preceding: str | None,
    org: str,
    infos: Sequence[Info],
    description: str = "",
    incident: str | None = None,
    recall: tuple[str, str] | None = None,
) -> Any:
    """One EDXL-RM message element, children in the schema's order."""
    root = etree.Element(f"{{{RM_MSG}}}{rm_type}", nsmap=NSMAP)
    _el(root, RM_MSG, "MessageID", message_id)
    _el(root, RM_MSG, "SentDateTime", sent_at.isoformat())
    _el(root, RM_MSG, "MessageContentType", rm_type)
    if description or rm_type == "RequestInformation":
        _el(root, RM_MSG, "MessageDescription", description or rm_type)
    _el(root, RM_MSG, "OriginatingMessageID", originating)
    if rm_type not in NO_PRECEDING and (preceding or rm_type in PRECEDING_REQUIRED):
        _el(root, RM_MSG, "PrecedingMessageID", preceding or originating)
    if incident:
        _el(_el(root, RM_MSG, "IncidentInformation"), RM, "IncidentID", incident)
    if recall is not None:
        element = _el(root, RM_MSG, "MessageRecall")
        _el(element, RM, "RecallMessageID", recall[0])
        _el(element, RM, "RecallType", recall[1])
    if rm_type == "RequisitionResource":
        funding = _el(root, RM_MSG, "Funding")
        _el(
            funding,
            RM,
            "FundingInfo",
            "none: LOCC charges nothing; costs are agreed between the parties",
        )
    contact = _el(root, RM_MSG, "ContactInformation")
    _el(contact, RM, "ContactDescription", org)
    _el(contact, RM, "ContactRole", "Sender")
    for info in infos:
        _info(root, rm_type, info)
    return root


def _info(root: Any, rm_type: str, info: Info) -> None:
    element = _el(root, RM_MSG, "ResourceInformation")
    _el(element, RM_MSG, "ResourceInfoElementID", info.element_id)
    response = info.response
    if response is None and rm_type in RESPONSE_REQUIRED:
        response = Response(info.element_id, "Accept", "")
    if response is not None and rm_type in RESPONSE_ALLOWED:
        answer = _el(element, RM_MSG, "ResponseInformation")
        _el(answer, RM, "PrecedingResourceInfoElementID", response.preceding)
        _el(answer, RM, "ResponseType", response.kind)
        if response.reason_code:
            code = _el(answer, RM, "ReasonCode")
            _el(code, RM, "ValueListURN", response.reason_list)
            _el(code, RM, "Value", response.reason_code)
        if response.reason or (response.kind == "Provisional" and not response.reason_code):
            _el(answer, RM, "ResponseReason", response.reason or response.kind)
    resource = _el(element, RM_MSG, "Resource")
    if info.resource_id:
        _el(resource, RM_MSG, "ResourceID", info.resource_id)
    if info.name:
        _el(resource, RM_MSG, "Name", info.name)
    if info.capability:
        _value_list(resource, "TypeStructure", CAPABILITY, [info.capability])
    for urn, values in info.keywords:
        _value_list(resource, "Keyword", urn, values)
    if info.description:
        _el(resource, RM_MSG, "Description", info.description)
    if (info.status and rm_type in WITH_STATUS) or rm_type == "ResponseToRequestReturn":
        status = _el(resource, RM_MSG, "ResourceStatus")
        _value_list(status, "DeploymentStatus", DEPLOYMENT_STATUS, [info.status or "returned"])
        if rm_type == "ResponseToRequestReturn":  # required there
            _el(status, RM_MSG, "Availability", info.status or "returned")
    if not len(resource):  # a Resource names at least something
        _el(resource, RM_MSG, "Name", info.element_id)
    if rm_type == "ResponseToRequestQuote":
        pass  # its AssignmentInformation must quote a price: mlob quotes none
    elif info.quantity is not None or rm_type == "RequisitionResource":
        assignment = _el(element, RM_MSG, "AssignmentInformation")
        quantity = _el(assignment, RM_MSG, "Quantity")
        measured = _el(quantity, RM, "MeasuredQuantity")
        _el(measured, RM, "Amount", str(info.quantity or 0))
    for schedule in info.schedules:
        at = _el(element, RM_MSG, "ScheduleInformation")
        _el(at, RM_MSG, "ScheduleType", schedule.kind)
        if schedule.at:
            _el(at, RM_MSG, "DateTime", schedule.at)
        if schedule.location:
            place = _el(at, RM_MSG, "Location")
            _el(place, RM, "LocationDescription", schedule.location)


# --- a conversation ---------------------------------------------------------------------------


@dataclass
class _Conversation:
    """What the messages so far have said: the request's lines, its parties, its bookings."""

    subject: str
    lines: dict[str, dict[str, Any]] = field(default_factory=dict)
    kind: str | None = None
    task: str | None = None
    incident: str | None = None
    title: str = ""
    requester: str | None = None
    parties: list[str] = field(default_factory=list)
    bookings: set[str] = field(default_factory=set)
    booking_states: dict[str, dict[str, Any]] = field(default_factory=dict)
    capacity: dict[str, Any] = field(default_factory=dict)
    built: dict[int, _Built] = field(default_factory=dict)  # by the step's version
    sent: list[str] = field(default_factory=list)  # EDXL message ids, in order
    by_mlob_id: dict[str, str] = field(default_factory=dict)
    content: str | None = None  # the latest message that carried the request's content
    offer: str | None = None  # the latest OfferUnsolicitedResource


def messages(events: Iterable[LoggedEvent]) -> list[Sent]:
    """The messages of one subject's visible steps, in order (steps EDXL-RM has no message
    for are left out: none of a request's or capacity's postable steps)."""
    return _conversation(events)[1]


def _conversation(events: Iterable[LoggedEvent]) -> tuple[_Conversation | None, list[Sent]]:
    out: list[Sent] = []
    talk: _Conversation | None = None
    for event in events:
        if talk is None:
            talk = _Conversation(str(event.stream_id))
        sent = _step(talk, event)
        if sent is not None:
            out.append(sent)
    return talk, out


@dataclass(frozen=True)
class Asked:
    """A question a post asked (RequestResourceDeploymentStatus, RequestInformation)."""

    message_id: str  # its EDXL MessageID
    answer_id: str  # the MessageID of the answer
    sent_at: datetime


def deployment_report(events: Sequence[LoggedEvent], asked: Asked) -> Sent:
    """ReportResourceDeploymentStatus for a request: one ResourceInformation per booking as
    the visible steps leave it, and one per line nothing is booked for (``requested``)."""
    talk, sent = _conversation(events)
    assert talk is not None  # a visible request has its first step visible
    infos = []
    booked = set()
    for booking in talk.booking_states.values():
        if booking["quantity"] <= 0:
            continue
        booked.add(booking["line_id"])
        line = talk.lines.get(booking["line_id"], {})
        infos.append(
            Info(
                str(booking["booking_id"]),
                resource_id=str(booking["capacity_id"]),
                capability=line.get("capability"),
                keywords=[(ORGANISATION, [booking["provider"]])],
                status=DEPLOYMENT.get(booking["step"], booking["step"]),
                quantity=booking["quantity"],
            )
        )
    for line_id, line in talk.lines.items():
        if line_id not in booked:
            infos.append(
                Info(
                    line_id,
                    capability=line["capability"],
                    status="requested",
                    quantity=line["quantity"],
                )
            )
    return _answer(talk, sent, "ReportResourceDeploymentStatus", asked, infos or [Info("none")])


def information_response(
    events: Sequence[LoggedEvent], detail: dict[str, Any], asked: Asked
) -> Sent:
    """ResponseToRequestInformation: the request's detail (``GET /v1/requests/{id}`` as the
    reader sees it) under urn:mlob:data, one ResourceInformation per line."""
    talk, sent = _conversation(events)
    assert talk is not None
    infos = _line_infos(talk) or [Info("request")]
    infos[0].keywords = [(SUBJECT, [talk.subject]), (DATA, [dumps(detail)])]
    return _answer(talk, sent, "ResponseToRequestInformation", asked, infos)


def _answer(
    talk: _Conversation, sent: list[Sent], rm_type: str, asked: Asked, infos: list[Info]
) -> Sent:
    originating = sent[0].message_id if sent else asked.message_id
    element = build_message(
        rm_type,
        asked.answer_id,
        asked.sent_at,
        originating,
        asked.message_id,
        "mlob",
        infos,
        description=_describe("answer", talk, {}),
        incident=talk.incident,
    )
    levels = [s.classification for s in sent]
    top = max(levels, key=lambda c: Classification(c).rank) if levels else "ongerubriceerd"
    exercise = any(s.exercise for s in sent)
    return Sent(element, rm_type, asked.answer_id, "answer", "mlob", top, exercise, ())


def _keywords(
    event: LoggedEvent, data: dict[str, Any], talk: _Conversation, content: bool
) -> list[tuple[str, list[str]]]:
    words: list[tuple[str, list[str]]] = [
        (EVENT_TYPE, [event.api_type]),
        (SUBJECT, [talk.subject]),
        (OCCURRED_AT, [event.occurred_at.isoformat()]),
        (CLASSIFICATION, [event.classification]),
        (EXERCISE, ["true" if event.exercise else "false"]),
    ]
    if event.authority:
        authority = orjson.loads(event.authority)
        values = [authority["body"], authority["of"], authority.get("capacity") or "door"]
        if authority.get("person"):
            values.append(authority["person"])
        words.append((AUTHORITY, values))
    if content and talk.kind:
        words.append((REQUEST_KIND, [talk.kind]))
        words.append((LEGAL_BASIS, [KIND_RULES[RequestKind(talk.kind)].legal_basis]))
        if talk.task:
            words.append((TASK, [talk.task]))
    words.append((DATA, [dumps(data)]))
    return words


def _step(talk: _Conversation, event: LoggedEvent) -> Sent | None:
    api_type = event.api_type
    stored = plain(event_body(event)["data"])
    booking = stored.get("booking") if isinstance(stored.get("booking"), dict) else None
    new_booking = booking is not None and booking["booking_id"] not in talk.bookings
    if booking is not None:
        talk.bookings.add(booking["booking_id"])
        talk.booking_states[booking["booking_id"]] = booking
        origin = talk.booking_states.get(booking.get("split_from") or "")
        if new_booking and origin is not None:  # the part split off leaves the rest
            origin["quantity"] = origin["quantity"] - booking["quantity"]
    if api_type not in STEP_MESSAGE and api_type not in VOIDS:
        return None
    data = posted_data(api_type, stored, new_booking)
    message_id = edxl_message_id(event.actor_org, event.message_id)
    originating = talk.sent[0] if talk.sent else message_id
    preceding = talk.by_mlob_id.get(event.causation_id or "") or (
        talk.sent[-1] if talk.sent else None
    )
    recall: tuple[str, str] | None = None
    content = False
    infos: list[Info]
    if api_type in VOIDS:
        target = talk.built.get(int(data["target_version"]))
        if target is None:
            return None  # the voided step is not among the messages (not visible)
        rm_type, infos = target.rm_type, [_copy(i) for i in target.infos]
        recall = (target.message_id, "Cancel")
    else:
        rm_type = STEP_MESSAGE[api_type]
        content = rm_type == "RequestResource"
        _learn(talk, api_type, stored, data, event.actor_org)
        infos = _infos(talk, api_type, rm_type, data, event)
        if api_type in UPDATES:
            previous = talk.offer if api_type.startswith("capacity.") else talk.content
            if previous:
                recall = (previous, "Update")
        elif api_type in CANCELS and talk.sent:
            recall = (talk.sent[0], "Cancel")
    if not infos:
        infos = [Info("step")]
    infos[0].keywords = _keywords(event, data, talk, content) + infos[0].keywords
    element = build_message(
        rm_type,
        message_id,
        event.recorded_at,
        originating,
        preceding,
        event.actor_org,
        infos,
        description=_describe(api_type, talk, data),
        incident=talk.incident,
        recall=recall,
    )
    talk.built[event.version] = _Built(rm_type, message_id, infos)
    talk.sent.append(message_id)
    talk.by_mlob_id[event.message_id] = message_id
    if api_type in ("request.drafted", "request.phoned_in", "request.amended"):
        talk.content = message_id
    if api_type.startswith("capacity."):
        talk.offer = message_id
    recipients = _recipients(talk, api_type, data, event.actor_org)
    return Sent(
        element,
        rm_type,
        message_id,
        api_type,
        event.actor_org,
        event.classification,
        event.exercise,
        recipients,
    )


def _copy(info: Info) -> Info:
    return Info(
        info.element_id,
        info.response,
        info.resource_id,
        info.name,
        info.capability,
        [k for k in info.keywords if k[0] not in _STEP_WORDS],
        info.description,
        info.status,
        info.quantity,
        list(info.schedules),
    )


_STEP_WORDS = frozenset(
    {EVENT_TYPE, SUBJECT, OCCURRED_AT, CLASSIFICATION, EXERCISE, AUTHORITY, DATA}
    | {REQUEST_KIND, LEGAL_BASIS, TASK}
)


def _learn(
    talk: _Conversation, api_type: str, stored: dict[str, Any], data: dict[str, Any], org: str
) -> None:
    if api_type in ("request.drafted", "request.phoned_in"):
        talk.kind = data["kind"]
        talk.task = stored.get("task") or data.get("task")
        talk.incident = data.get("incident_id")
        talk.title = data.get("title") or ""
        talk.requester = stored.get("requester") or org
        talk.parties = [talk.requester] if talk.requester else []
    if api_type in ("request.drafted", "request.phoned_in", "request.amended"):
        talk.lines = {line["line_id"]: line for line in data["lines"]}
    if api_type == "request.forwarded":
        for to in [*data["to"], *data["copies"], *(s["to"] for s in data["shares"])]:
            if to not in talk.parties:
                talk.parties.append(to)
    if api_type == "capacity.registered":
        talk.capacity = dict(data)
    elif api_type == "capacity.quantity_changed":
        talk.capacity["quantity"] = data["quantity"]
    if org not in talk.parties:
        talk.parties.append(org)


def _recipients(
    talk: _Conversation, api_type: str, data: dict[str, Any], org: str
) -> tuple[str, ...]:
    if api_type == "request.forwarded":
        named = [*data["to"], *(s["to"] for s in data["shares"]), *data["copies"]]
    elif api_type == "request.informed":
        named = [data["to"]]
    else:
        named = list(talk.parties)
    return tuple(dict.fromkeys(p for p in named if p != org))


def _describe(api_type: str, talk: _Conversation, data: dict[str, Any]) -> str:
    title = talk.title or talk.capacity.get("name") or ""
    return f"{api_type}: {title}" if title else api_type


def _line_infos(talk: _Conversation) -> list[Info]:
    infos = []
    for line in talk.lines.values():
        schedules = []
        where = line.get("location") or line.get("municipality") or None
        if line.get("period_start") or where:
            schedules.append(Schedule("RequestedArrival", line.get("period_start"), where))
        if line.get("period_end"):
            schedules.append(Schedule("EstimatedReturnDeparture", line["period_end"]))
        infos.append(
            Info(
                line["line_id"],
                capability=line["capability"],
                description=line.get("effect") or None,
                quantity=line["quantity"],
                schedules=schedules,
            )
        )
    return infos


def _response(api_type: str, data: dict[str, Any]) -> tuple[str, str]:
    """The ResponseType and reason of a response step."""
    if api_type in PROVISIONAL:
        reason = data.get("advice") or data.get("finding") or data.get("reasons") or ""
        return "Provisional", str(reason)
    if api_type == "request.assessed":
        return ("Provisional" if data["forward"] else "Decline"), data["findings"]
    if api_type == "request.decided":
        return ("Decline" if data["outcome"] == "refused" else "Accept"), data["reasons"]
    if api_type == "request.appeal_decided":
        return ("Accept" if data["upheld"] else "Decline"), data["reasons"]
    return "Accept", ""


def _infos(
    talk: _Conversation, api_type: str, rm_type: str, data: dict[str, Any], event: LoggedEvent
) -> list[Info]:
    if rm_type == "RequestResource":
        return _line_infos(talk)
    if rm_type == "ResponseToRequestResource":
        kind, reason = _response(api_type, data)
        granted = {g["line_id"]: g["quantity"] for g in data.get("granted", [])}
        infos = []
        for line in talk.lines.values() or [{"line_id": "request", "capability": None}]:
            line_id = str(line["line_id"])
            infos.append(
                Info(
                    line_id,
                    response=Response(line_id, kind, api_type, reason),
                    capability=line.get("capability"),
                    quantity=granted.get(line_id) if api_type == "request.decided" else None,
                )
            )
        return infos
    if rm_type == "RequisitionResource":
        parts = [(s["line_id"], s["to"], s["quantity"]) for s in data["shares"]]
        for to in data["to"]:
            parts += [(line_id, to, line["quantity"]) for line_id, line in talk.lines.items()]
        infos = []
        for line_id, to, quantity in parts:
            line = talk.lines.get(line_id, {})
            infos.append(
                Info(
                    f"{line_id}",
                    capability=line.get("capability"),
                    keywords=[(ORGANISATION, [to])],
                    quantity=quantity,
                    description=line.get("effect") or None,
                )
            )
        return infos
    if rm_type == "OfferUnsolicitedResource":
        capacity = talk.capacity
        return [
            Info(
                talk.subject,
                resource_id=talk.subject,
                name=capacity.get("name") or None,
                capability=capacity.get("capability"),
                quantity=capacity.get("quantity"),
            )
        ]
    if "booking_id" in data or "line_id" in data:
        return [_booking_info(talk, api_type, rm_type, data, event)]
    return []


_SCHEDULES = {
    "request.committed": "Committed",
    "request.made_ready": "Committed",
    "request.dispatched": "ActualDeparture",
    "request.arrived": "ActualArrival",
    "request.relieved": "Current",
    "request.released": "ActualReturnDeparture",
}
_STEP_STATUS = {
    "request.made_ready": "made_ready",
    "request.committed": "committed",
    "request.dispatched": "dispatched",
    "request.arrived": "arrived",
    "request.relieved": "arrived",
    "request.extended": "arrived",
    "request.released": "released",
    "request.returned": "returned",
}


def _booking_info(
    talk: _Conversation, api_type: str, rm_type: str, data: dict[str, Any], event: LoggedEvent
) -> Info:
    stored = plain(event_body(event)["data"]).get("booking") or {}
    line_id = stored.get("line_id") or data.get("line_id") or ""
    line = talk.lines.get(line_id, {})
    schedules = []
    if api_type in _SCHEDULES:
        schedules.append(Schedule(_SCHEDULES[api_type], event.occurred_at.isoformat()))
    if api_type == "request.extended":
        schedules.append(Schedule("RequestedReturnDeparture", data["until"]))
    step = stored.get("step") or _STEP_STATUS[api_type]
    response = None
    if rm_type == "CommitResource":
        kind = "Provisional" if api_type == "request.made_ready" else "Accept"
        response = Response(line_id or "request", kind, api_type)
    return Info(
        str(stored.get("booking_id") or data.get("booking_id") or line_id),
        response=response,
        resource_id=str(stored.get("capacity_id") or data.get("capacity_id") or "") or None,
        capability=line.get("capability"),
        status=DEPLOYMENT.get(step, step),
        quantity=stored.get("quantity") or data.get("quantity"),
        schedules=schedules,
    )
