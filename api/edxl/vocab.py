"""The names EDXL speaks and mlob's own value lists (``urn:mlob:...``), in one place.

What EDXL-RM 1.0 has no element for travels as a ``Keyword`` (``ValueListURN`` + ``Value``)
under one of the value lists here; docs/edxl.md lists each with every value (a test compares).
Pure: no web or XML code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID, uuid5

from domain import reference
from domain.envelope import Classification, SigningCapacity
from domain.kinds import AUTHORITY_BODIES, KIND_RULES, RequestKind, Task
from domain.lifecycle import LineStep

RM = "urn:oasis:names:tc:emergency:EDXL:RM:1.0"
RM_MSG = "urn:oasis:names:tc:emergency:EDXL:RM:1.0:msg"
DE = "urn:oasis:names:tc:emergency:EDXL:DE:1.0"

#: The 16 message types of EDXL-RM 1.0, in the standard's order.
MESSAGE_TYPES = (
    "RequestResource",
    "ResponseToRequestResource",
    "RequisitionResource",
    "CommitResource",
    "RequestInformation",
    "ResponseToRequestInformation",
    "OfferUnsolicitedResource",
    "ReleaseResource",
    "RequestReturn",
    "ResponseToRequestReturn",
    "RequestQuote",
    "ResponseToRequestQuote",
    "RequestResourceDeploymentStatus",
    "ReportResourceDeploymentStatus",
    "RequestExtendedDeploymentDuration",
    "ResponseToRequestExtendedDeploymentDuration",
)

#: Each step mlob sends as a message, and the message type it becomes (docs/edxl.md). A
#: correction (``*.voided``) is sent as the voided step's type with ``MessageRecall`` Cancel; an
#: amendment as RequestResource with ``MessageRecall`` Update of the message it replaces.
STEP_MESSAGE: dict[str, str] = {
    "request.drafted": "RequestResource",
    "request.phoned_in": "RequestResource",
    "request.submitted": "RequestResource",
    "request.formalised": "RequestResource",
    "request.amended": "RequestResource",
    "request.appealed": "RequestResource",
    "request.withdrawn": "RequestResource",
    "request.received": "ResponseToRequestResource",
    "request.exhaustion_confirmed": "ResponseToRequestResource",
    "request.assessed": "ResponseToRequestResource",
    "request.advised": "ResponseToRequestResource",
    "request.decided": "ResponseToRequestResource",
    "request.priority_decided": "ResponseToRequestResource",
    "request.appeal_decided": "ResponseToRequestResource",
    "request.forwarded": "RequisitionResource",
    "request.made_ready": "CommitResource",
    "request.committed": "CommitResource",
    "request.dispatched": "ReportResourceDeploymentStatus",
    "request.arrived": "ReportResourceDeploymentStatus",
    "request.relieved": "ReportResourceDeploymentStatus",
    "request.extended": "RequestExtendedDeploymentDuration",
    "request.released": "ReleaseResource",
    "request.returned": "RequestReturn",
    "request.informed": "ResponseToRequestInformation",
    "request.closed": "ResponseToRequestInformation",
    "request.evaluated": "ResponseToRequestInformation",
    "capacity.registered": "OfferUnsolicitedResource",
    "capacity.quantity_changed": "OfferUnsolicitedResource",
    "capacity.availability_changed": "OfferUnsolicitedResource",
}
#: Corrections: sent as the type of the step they void.
VOIDS = frozenset({"request.voided", "capacity.voided"})
#: Steps that replace an earlier message's content (``MessageRecall`` Update).
UPDATES = frozenset(
    {"request.amended", "capacity.quantity_changed", "capacity.availability_changed"}
)
#: Steps that cancel the conversation's first message (``MessageRecall`` Cancel).
CANCELS = frozenset({"request.withdrawn"})

# --- mlob's value lists ---------------------------------------------------------------------

CAPABILITY = "urn:mlob:capability"
EVENT_TYPE = "urn:mlob:event-type"
SUBJECT = "urn:mlob:subject"
REQUEST_KIND = "urn:mlob:request-kind"
LEGAL_BASIS = "urn:mlob:legal-basis"
TASK = "urn:mlob:task"
AUTHORITY = "urn:mlob:authority"
OCCURRED_AT = "urn:mlob:occurred-at"
CLASSIFICATION = "urn:mlob:classification"
EXERCISE = "urn:mlob:exercise"
EXPECTED_VERSION = "urn:mlob:expected-version"
DATA = "urn:mlob:data"
DEPLOYMENT_STATUS = "urn:mlob:deployment-status"
ORGANISATION = "urn:mlob:organisation"
ERROR = "urn:mlob:error"

#: A booking's step as EDXL's ``DeploymentStatus`` (``requested``: a line nothing is booked for).
DEPLOYMENT: dict[str, str] = {
    "requested": "requested",
    LineStep.MADE_READY.value: "made_ready",
    LineStep.COMMITTED.value: "committed",
    LineStep.DISPATCHED.value: "en_route",
    LineStep.ARRIVED.value: "on_scene",
    LineStep.RELEASED.value: "returning",
    LineStep.RETURNED.value: "returned",
    LineStep.CANCELLED.value: "cancelled",
}


@dataclass(frozen=True)
class ValueList:
    urn: str
    meaning: str
    #: Every value, or None where the list is open (a moment, an id, JSON).
    values: Callable[[], list[str]] | None
    values_note: str = ""


def _kinds() -> list[str]:
    return [k.value for k in RequestKind]


VALUE_LISTS: tuple[ValueList, ...] = (
    ValueList(
        CAPABILITY,
        "a resource's type (`TypeStructure`): mlob's capability catalogue (`GET /v1/reference`)",
        lambda: [c.code for c in reference.capabilities()],
    ),
    ValueList(
        EVENT_TYPE,
        "the mlob step a message is (its API type; also the `ReasonCode` of a response)",
        lambda: sorted([*STEP_MESSAGE, *VOIDS]),
    ),
    ValueList(REQUEST_KIND, "the request's kind (*soort bijstand*)", _kinds),
    ValueList(
        LEGAL_BASIS,
        "the kind's legal basis, as the reference data states it (sent; derived from the kind "
        "on receipt)",
        lambda: sorted({rule.legal_basis for rule in KIND_RULES.values()}),
    ),
    ValueList(TASK, "the task the request serves", lambda: [t.value for t in Task]),
    ValueList(
        AUTHORITY,
        "the authority the step is taken for: `Value`s body, of, door/namens and optionally the "
        "person",
        lambda: [
            *sorted(AUTHORITY_BODIES),
            *[c.value for c in SigningCapacity],
        ],
        "first value one of the bodies, second the region, municipality or other body it is "
        "of (`GET /v1/reference`), third `door` or `namens`, fourth (optional) the person",
    ),
    ValueList(
        CLASSIFICATION,
        "the step's classification (*rubricering*); in an envelope the contentObject's "
        "`confidentiality` and the `combinedConfidentiality` say it too",
        lambda: [c.value for c in Classification],
    ),
    ValueList(EXERCISE, "whether the step is an exercise", lambda: ["false", "true"]),
    ValueList(
        DEPLOYMENT_STATUS,
        "a booking's state (`DeploymentStatus`)",
        lambda: list(DEPLOYMENT.values()),
    ),
    ValueList(
        ORGANISATION,
        "an organisation (a contentObject's originator and consumers)",
        lambda: sorted(o.code for o in reference.organisations()),
    ),
    ValueList(SUBJECT, "the id (UUID) of the request or capacity the step is on", None),
    ValueList(OCCURRED_AT, "when the step took place (ISO 8601 with a zone)", None),
    ValueList(
        EXPECTED_VERSION, "the subject's version the step expects (optional, as in JSON)", None
    ),
    ValueList(
        DATA,
        "the step's data as the JSON API posts it (canonical JSON), so that nothing mlob knows "
        "is lost between two mlob installations",
        None,
    ),
    ValueList(
        ERROR,
        "an Error envelope's refusal: `Value`s status, code and the element it names",
        None,
    ),
)

# --- message ids ----------------------------------------------------------------------------

#: Namespace of the ids mlob derives for foreign messages and subjects (uuid5).
FOREIGN = UUID("6d1b0e5c-0b7f-5d7c-9a3e-ed1e0000e0e1")


def edxl_message_id(org: str, message_id: str) -> str:
    """An mlob message as EDXL names it: ``<org>:<message_id>`` (messages are each
    organisation's own, so the pair is globally unique)."""
    return f"{org}:{message_id}"


def mlob_message_id(sender: str, message_id: str) -> str:
    """The message id mlob records for an EDXL ``MessageID`` sent by ``sender``: the id itself
    when it is ``<sender>:<id>`` (mlob's own form), else a uuid5 of ``<sender>:<MessageID>``
    (a foreign id may be long or reused by another organisation: the pair is unique)."""
    org, separator, own = message_id.partition(":")
    if separator and org == sender and own.strip() and len(own) <= 200:
        return own
    return str(uuid5(FOREIGN, f"{sender}:{message_id}"))


def foreign_subject(sender: str, originating: str) -> UUID:
    """The request a foreign conversation creates: a uuid5 of its originating message."""
    return uuid5(FOREIGN, f"subject:{sender}:{originating}")
