"""EDXL in: an envelope or a bare EDXL-RM message as the items a JSON post would carry
(api/post_events.py ``Item``), so that ``plan`` and the law treat it exactly as JSON.

Pure: the route parses (api/edxl/xmlsafe.py), checks the sender against the token and hands
the messages here. A message mlob sent carries its step under ``urn:mlob`` keywords
(api/edxl/out.py) and maps back one to one; a foreign RequestResource is mapped from its
elements (docs/edxl.md); what maps onto nothing mlob knows raises :class:`Unmapped` naming the
element.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any
from uuid import UUID, uuid5

import orjson
from lxml import etree
from pydantic import ValidationError

from api.edxl import vocab
from api.edxl.xmlsafe import Invalid, path, validate_de, validate_rm
from api.post_events import Item
from domain import reference
from domain.envelope import Classification
from domain.kinds import RequestKind

M = f"{{{vocab.RM_MSG}}}"
R = f"{{{vocab.RM}}}"
D = f"{{{vocab.DE}}}"


class Unmapped(Exception):
    """A message maps onto nothing mlob knows: 422 ``edxl_unmapped`` naming ``element``."""

    def __init__(self, element: str, reason: str) -> None:
        super().__init__(reason)
        self.element = element
        self.reason = reason


class NotValid(Exception):
    """The schemas refuse the message: 422 ``edxl_invalid`` naming its first invalid element."""

    def __init__(self, invalid: Invalid) -> None:
        super().__init__(invalid.reason)
        self.invalid = invalid


class SenderMismatch(Exception):
    """The envelope's ``senderID`` is not the token's organisation (403)."""

    def __init__(self, sender: str) -> None:
        super().__init__(sender)
        self.sender = sender


@dataclass(frozen=True)
class Content:
    """One EDXL-RM message of a post, with what its envelope says of it."""

    element: Any
    classification: Classification | None
    exercise: bool | None


@dataclass(frozen=True)
class Incoming:
    sender: str
    distribution_id: str | None
    contents: tuple[Content, ...]


@dataclass(frozen=True)
class Query:
    """A question (RequestResourceDeploymentStatus, RequestInformation): answered, not
    recorded. ``names``: the EDXL message ids that name the request asked about."""

    kind: str
    element: Any
    message_id: str
    names: tuple[str, ...]
    subject: UUID | None


@dataclass
class Mapped:
    items: list[Item] = field(default_factory=list)
    queries: list[Query] = field(default_factory=list)


def read(root: Any, org: str) -> Incoming:
    """The messages of a posted document; raises NotValid, SenderMismatch, Unmapped."""
    if etree.QName(root).namespace == vocab.DE:
        invalid = validate_de(root)
        if invalid is not None:
            raise NotValid(invalid)
        sender = (root.findtext(f"{D}senderID") or "").strip()
        if sender != org:
            raise SenderMismatch(sender)
        status = root.find(f"{D}distributionStatus")
        if status.text not in ("Actual", "Exercise"):
            raise Unmapped(
                path(status),
                f"distributionStatus {status.text}: mlob records Actual and Exercise only",
            )
        kind = root.find(f"{D}distributionType")
        if kind.text not in ("Report", "Update", "Cancel", "Request", "Response", "Dispatch"):
            raise Unmapped(path(kind), f"distributionType {kind.text} carries no step")
        exercise = status.text == "Exercise"
        combined = _classification(root.find(f"{D}combinedConfidentiality"))
        contents = []
        for item in root.findall(f"{D}contentObject"):
            own = item.find(f"{D}confidentiality")
            level = _classification(own) if own is not None else combined
            xml = item.find(f"{D}xmlContent")
            messages = [] if xml is None else [m for part in xml for m in part]
            if not messages:
                raise Unmapped(path(item), "a contentObject without an EDXL-RM message")
            for message in messages:
                invalid = validate_rm(message)
                if invalid is not None:
                    raise NotValid(invalid)
                contents.append(Content(message, level, exercise))
        if not contents:
            raise Unmapped(path(root), "an envelope without content")
        return Incoming(sender, root.findtext(f"{D}distributionID"), tuple(contents))
    invalid = validate_rm(root)
    if invalid is not None:
        raise NotValid(invalid)
    return Incoming(org, None, (Content(root, None, None),))


def _classification(element: Any) -> Classification:
    try:
        return Classification((element.text or "").strip())
    except ValueError:
        raise Unmapped(
            path(element), f"{element.text!r} is not a classification of mlob's value list"
        ) from None


#: The request the messages named by these EDXL MessageIDs belong to, for this sender: None
#: when they name none the sender may see (hidden and unknown alike).
Resolver = Callable[[Sequence[str], str], "UUID | None"]


def mapped(incoming: Incoming, resolve: Resolver | None = None) -> Mapped:
    """Every message of ``incoming`` as items or questions, in order; raises Unmapped."""
    result = Mapped()
    for content in incoming.contents:
        one(content, incoming.sender, result, resolve)
    return result


def _keywords(message: Any) -> dict[str, tuple[list[str], Any]]:
    """Every ``urn:mlob`` keyword of the message (the first of each), with its element."""
    found: dict[str, tuple[list[str], Any]] = {}
    for keyword in message.iter(f"{M}Keyword"):
        urn = (keyword.findtext(f"{R}ValueListURN") or "").strip()
        if urn.startswith("urn:mlob:") and urn not in found:
            found[urn] = ([v.text or "" for v in keyword.findall(f"{R}Value")], keyword)
    return found


def one(content: Content, sender: str, result: Mapped, resolve: Resolver | None = None) -> None:
    message = content.element
    rm_type = etree.QName(message).localname
    for structure in message.iter(f"{M}TypeStructure"):
        urn = (structure.findtext(f"{R}ValueListURN") or "").strip()
        if urn != vocab.CAPABILITY:
            raise Unmapped(
                path(structure),
                f"resource type under {urn!r}: mlob knows its capability catalogue only "
                f"({vocab.CAPABILITY}, GET /v1/reference)",
            )
    if rm_type in ("RequestQuote", "ResponseToRequestQuote"):
        raise Unmapped(path(message), "LOCC charges nothing; costs are agreed between the parties")
    words = _keywords(message)
    message_id = message.findtext(f"{M}MessageID") or ""
    if rm_type in ("RequestResourceDeploymentStatus", "RequestInformation"):
        names = tuple(
            n
            for n in (
                message.findtext(f"{M}PrecedingMessageID"),
                message.findtext(f"{M}OriginatingMessageID"),
            )
            if n
        )
        subject = _uuid(words[vocab.SUBJECT]) if vocab.SUBJECT in words else None
        kind = "status" if rm_type == "RequestResourceDeploymentStatus" else "information"
        result.queries.append(Query(kind, message, message_id, names, subject))
        return
    if vocab.EVENT_TYPE in words:
        result.items.append(_own(content, sender, rm_type, words, message_id))
        return
    if rm_type == "RequestResource":
        result.items.extend(_foreign_request(content, sender, words, message_id))
        return
    if rm_type in ("ResponseToRequestResource", "CommitResource"):
        subject = _named_request(message, sender, resolve)
        if rm_type == "ResponseToRequestResource":
            result.items.append(_foreign_decision(content, sender, words, message_id, subject))
        else:
            result.items.extend(_foreign_commitment(content, sender, words, message_id, subject))
        return
    first = message.find(f"{M}ResourceInformation/{M}Resource")
    raise Unmapped(
        path(first if first is not None else message),
        f"a {rm_type} without a step (keyword {vocab.EVENT_TYPE}): from systems other than mlob, "
        "mlob takes RequestResource, ResponseToRequestResource, CommitResource, "
        "RequestResourceDeploymentStatus and RequestInformation",
    )


def _named_request(message: Any, sender: str, resolve: Resolver | None) -> UUID:
    """The request a foreign answer is about: the one its PrecedingMessageID (or else its
    OriginatingMessageID) names, among those the sender may see."""
    preceding = message.find(f"{M}PrecedingMessageID")
    names = [
        n
        for n in (
            message.findtext(f"{M}PrecedingMessageID"),
            message.findtext(f"{M}OriginatingMessageID"),
        )
        if n
    ]
    subject = resolve(names, sender) if resolve is not None else None
    if subject is None:
        where = preceding if preceding is not None else message.find(f"{M}OriginatingMessageID")
        raise Unmapped(path(where), "names no request you may see")
    return subject


def _answers(message: Any) -> list[tuple[Any, str, str, str]]:
    """Each ResourceInformation's response: (element, ResponseType, the line it answers,
    ResponseReason)."""
    found = []
    for info in message.findall(f"{M}ResourceInformation"):
        answer = info.find(f"{M}ResponseInformation")
        if answer is None:
            found.append((info, "", "", ""))
            continue
        found.append(
            (
                info,
                answer.findtext(f"{R}ResponseType") or "",
                (answer.findtext(f"{R}PrecedingResourceInfoElementID") or "").strip(),
                (answer.findtext(f"{R}ResponseReason") or "").strip(),
            )
        )
    return found


def _foreign_decision(
    content: Content,
    sender: str,
    words: dict[str, tuple[list[str], Any]],
    message_id: str,
    subject: UUID,
) -> Item:
    """A ResponseToRequestResource from another system: the sender's decision on the request
    (Accept: granted, with the quantity where it says one; Decline: refused; some of each:
    partly granted). A Provisional answer is no decision."""
    message = content.element
    answers = _answers(message)
    for info, kind, _, _ in answers:
        if kind == "Provisional":
            raise Unmapped(
                path(info.find(f"{M}ResponseInformation/{R}ResponseType")),
                "a provisional answer is no decision: mlob records Accept or Decline",
            )
    accepted = [a for a in answers if a[1] == "Accept"]
    if not accepted:
        outcome = "refused"
    elif len(accepted) == len(answers):
        outcome = "granted"
    else:
        outcome = "partly_granted"
    granted = []
    for info, _, line_id, _ in accepted:
        has_quantity = info.find(f"{M}AssignmentInformation/{M}Quantity") is not None
        if has_quantity:
            granted.append({"line_id": line_id, "quantity": _quantity(info)})
        elif outcome == "partly_granted":
            raise Unmapped(path(info), "a partial grant says how many (Quantity)")
    reasons = "; ".join(reason for *_, reason in answers if reason)[:4000]
    fields = _envelope_fields(content, words, message)
    return _item(
        fields
        | {
            "type": "request.decided",
            "subject": subject,
            "message_id": vocab.mlob_message_id(sender, message_id),
            "data": {"outcome": outcome, "reasons": reasons, "granted": granted},
        },
        message,
    )


def _foreign_commitment(
    content: Content,
    sender: str,
    words: dict[str, tuple[list[str], Any]],
    message_id: str,
    subject: UUID,
) -> list[Item]:
    """A CommitResource from another system: per accepted ResourceInformation, the sender's
    capacity (ResourceID: an mlob capacity id) committed to the line it answers, as a booking
    of its own (a Provisional one: made ready); a declined one commits nothing."""
    message = content.element
    fields = _envelope_fields(content, words, message)
    items = []
    for number, (info, kind, line_id, _) in enumerate(_answers(message)):
        if kind == "Decline":
            continue
        resource = info.find(f"{M}Resource/{M}ResourceID")
        try:
            capacity = UUID((resource.text or "").strip()) if resource is not None else None
        except ValueError:
            capacity = None
        if capacity is None:
            where = resource if resource is not None else info
            raise Unmapped(path(where), "the capacity committed: an mlob capacity id (ResourceID)")
        element_id = info.findtext(f"{M}ResourceInfoElementID") or str(number)
        booking = uuid5(vocab.FOREIGN, f"booking:{sender}:{message_id}:{element_id}")
        own_id = message_id if number == 0 else f"{message_id}#{number + 1}"
        items.append(
            _item(
                fields
                | {
                    "type": "request.made_ready" if kind == "Provisional" else "request.committed",
                    "subject": subject,
                    "message_id": vocab.mlob_message_id(sender, own_id),
                    "data": {
                        "capacity_id": str(capacity),
                        "booking_id": str(booking),
                        "line_id": line_id,
                        "quantity": _quantity(info),
                    },
                },
                message,
            )
        )
    if not items:
        raise Unmapped(path(message), "a CommitResource that commits nothing")
    return items


def _uuid(word: tuple[list[str], Any]) -> UUID:
    values, element = word
    try:
        return UUID(values[0])
    except (ValueError, IndexError):
        raise Unmapped(path(element), "not an id (UUID)") from None


def _moment(text: str | None, element: Any) -> datetime:
    try:
        moment = datetime.fromisoformat((text or "").strip())
    except ValueError:
        raise Unmapped(path(element), "not a moment (ISO 8601)") from None
    if moment.tzinfo is None:
        raise Unmapped(path(element), "a moment without a time zone")
    return moment


def _envelope_fields(
    content: Content, words: dict[str, tuple[list[str], Any]], message: Any
) -> dict[str, Any]:
    """occurred_at, classification, exercise and authority of a message's step."""
    if vocab.OCCURRED_AT in words:
        occurred = _moment(
            words[vocab.OCCURRED_AT][0][0] if words[vocab.OCCURRED_AT][0] else "",
            words[vocab.OCCURRED_AT][1],
        )
    else:
        sent = message.find(f"{M}SentDateTime")
        occurred = _moment(sent.text, sent)
    classification = content.classification
    if classification is None and vocab.CLASSIFICATION in words:
        values, element = words[vocab.CLASSIFICATION]
        try:
            classification = Classification(values[0] if values else "")
        except ValueError:
            raise Unmapped(path(element), "not a classification of mlob's value list") from None
    exercise = content.exercise
    if exercise is None and vocab.EXERCISE in words:
        values, element = words[vocab.EXERCISE]
        if values[:1] not in (["true"], ["false"]):
            raise Unmapped(path(element), "exercise is true or false")
        exercise = values[0] == "true"
    fields: dict[str, Any] = {
        "occurred_at": occurred,
        "classification": classification or Classification.UNCLASSIFIED,
        "exercise": bool(exercise),
    }
    if vocab.AUTHORITY in words:
        values, element = words[vocab.AUTHORITY]
        if len(values) < 2:
            raise Unmapped(path(element), "an authority names its body and what it is of")
        authority: dict[str, Any] = {"body": values[0], "of": values[1]}
        if len(values) > 2:
            authority["capacity"] = values[2]
        if len(values) > 3:
            authority["person"] = values[3]
        fields["authority"] = authority
    if vocab.EXPECTED_VERSION in words:
        values, element = words[vocab.EXPECTED_VERSION]
        if not values or not (values[0].isascii() and values[0].isdigit()):
            raise Unmapped(path(element), "a version is a whole number")
        fields["expected_version"] = int(values[0])
    return fields


def _item(fields: dict[str, Any], where: Any) -> Item:
    try:
        return Item.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise Unmapped(path(where), f"{loc}: {first['msg']}") from None


def _own(
    content: Content,
    sender: str,
    rm_type: str,
    words: dict[str, tuple[list[str], Any]],
    message_id: str,
) -> Item:
    """A message mlob sent (or one written like it): its step from the keywords."""
    message = content.element
    values, element = words[vocab.EVENT_TYPE]
    api_type = values[0] if values else ""
    recall = message.findtext(f"{M}MessageRecall/{R}RecallType")
    fits = vocab.STEP_MESSAGE.get(api_type) == rm_type or (
        api_type in vocab.VOIDS and recall == "Cancel"
    )
    if not fits:
        raise Unmapped(path(element), f"{api_type!r} is not a step mlob sends as {rm_type}")
    if vocab.SUBJECT not in words:
        raise Unmapped(path(element.getparent()), "no subject (keyword urn:mlob:subject)")
    subject = _uuid(words[vocab.SUBJECT])
    if vocab.DATA not in words:
        raise Unmapped(path(element.getparent()), f"no data (keyword {vocab.DATA})")
    data_values, data_element = words[vocab.DATA]
    try:
        data = orjson.loads(data_values[0] if data_values else "")
    except orjson.JSONDecodeError:
        raise Unmapped(path(data_element), "the data is not JSON") from None
    if not isinstance(data, dict):
        raise Unmapped(path(data_element), "the data is a JSON object")
    fields = _envelope_fields(content, words, message)
    fields |= {
        "type": api_type,
        "subject": subject,
        "message_id": vocab.mlob_message_id(sender, message_id),
        "data": data,
    }
    return _item(fields, message)


def _foreign_request(
    content: Content, sender: str, words: dict[str, tuple[list[str], Any]], message_id: str
) -> list[Item]:
    """A RequestResource from another system: a request drafted and submitted at once (the
    sender signs it: its authority under urn:mlob:authority), one line per
    ResourceInformation."""
    message = content.element
    infos = message.findall(f"{M}ResourceInformation")
    lines = [_line(index, info) for index, info in enumerate(infos, start=1)]
    if vocab.REQUEST_KIND not in words:
        raise Unmapped(
            path(infos[0].find(f"{M}Resource")),
            f"no request kind (keyword {vocab.REQUEST_KIND}): mlob cannot tell which law applies",
        )
    kind_values, kind_element = words[vocab.REQUEST_KIND]
    kind = kind_values[0] if kind_values else ""
    if kind not in _KINDS:
        raise Unmapped(path(kind_element), f"{kind!r} is not a request kind of mlob's value list")
    data: dict[str, Any] = {
        "kind": kind,
        "lines": lines,
        "title": (message.findtext(f"{M}MessageDescription") or "")[:200],
    }
    if vocab.TASK in words and words[vocab.TASK][0]:
        data["task"] = words[vocab.TASK][0][0]
    incident = message.findtext(f"{M}IncidentInformation/{R}IncidentID")
    if incident:
        with contextlib.suppress(ValueError):  # another system's incident is not mlob's
            data["incident_id"] = str(UUID(incident))
    fields = _envelope_fields(content, words, message)
    originating = message.findtext(f"{M}OriginatingMessageID") or message_id
    subject = vocab.foreign_subject(sender, originating)
    drafted = fields | {
        "type": "request.drafted",
        "subject": subject,
        "message_id": vocab.mlob_message_id(sender, message_id),
        "data": data,
    }
    submitted = fields | {
        "type": "request.submitted",
        "subject": subject,
        "message_id": vocab.mlob_message_id(sender, f"{message_id}#submitted"),
        "data": {},
    }
    return [_item(drafted, message), _item(submitted, message)]


def _line(index: int, info: Any) -> dict[str, Any]:
    resource = info.find(f"{M}Resource")
    structure = resource.find(f"{M}TypeStructure")
    if structure is None:
        raise Unmapped(path(resource), f"no resource type (TypeStructure under {vocab.CAPABILITY})")
    capability = (structure.findtext(f"{R}Value") or "").strip()
    if capability not in _capabilities():
        raise Unmapped(
            path(structure.find(f"{R}Value")),
            f"{capability!r} is not in mlob's capability catalogue (GET /v1/reference)",
        )
    element_id = (info.findtext(f"{M}ResourceInfoElementID") or "").strip()
    line_id = element_id if _line_id_ok(element_id) else f"L{index}"
    quantity = _quantity(info)
    line: dict[str, Any] = {
        "line_id": line_id,
        "capability": capability,
        "quantity": quantity,
        "effect": (
            resource.findtext(f"{M}Description")
            or info.findtext(f"{M}AssignmentInformation/{M}AnticipatedFunction")
            or ""
        )[:4000],
    }
    for schedule in info.findall(f"{M}ScheduleInformation"):
        kind = schedule.findtext(f"{M}ScheduleType")
        at = schedule.find(f"{M}DateTime")
        place = schedule.findtext(f"{M}Location/{R}LocationDescription")
        if kind == "RequestedArrival":
            if place:
                line["location"] = place[:200]
            if at is not None:
                line["period_start"] = _moment(at.text, at).isoformat()
        elif kind == "EstimatedReturnDeparture" and at is not None:
            line["period_end"] = _moment(at.text, at).isoformat()
    return line


_KINDS = frozenset(k.value for k in RequestKind)


@cache
def _capabilities() -> frozenset[str]:
    return frozenset(c.code for c in reference.capabilities())


def _line_id_ok(text: str) -> bool:
    return 0 < len(text) <= 40 and all(c.isascii() and (c.isalnum() or c in "_-.") for c in text)


def _quantity(info: Any) -> int:
    quantity = info.find(f"{M}AssignmentInformation/{M}Quantity")
    if quantity is None:
        raise Unmapped(path(info), "no quantity (AssignmentInformation/Quantity)")
    amount = quantity.find(f"{R}MeasuredQuantity/{R}Amount")
    text = amount.text if amount is not None else quantity.findtext(f"{R}QuantityText")
    element = amount if amount is not None else quantity
    try:
        value = float((text or "").strip())
    except ValueError:
        raise Unmapped(path(element), "a quantity is a whole number") from None
    # xs:double admits INF and NaN: neither is a number of anything.
    if not math.isfinite(value) or value != int(value) or value < 1:
        raise Unmapped(path(element), "a quantity is a whole number, at least 1")
    return int(value)
