"""One vocabulary: the API's name for every stored event.

Stored events keep their topics for ever (``mlob:AssistanceRequest.LineMoved``: stored history
must read back, and the hash chain covers them), while everything the API says — receipts, the
history and its ``type`` filter, feed frames, timelines, exports — names an event by its API
type (``request.dispatched``). This table is the only place that translates between the two.

Every stored topic names exactly one API type, except the two booking topics of a request,
whose API type is the deployment step the booking took, read from the event itself
(:func:`api_type`). Types nobody posts (a capacity's booking, a token's issue) are listed
here too, so that nothing the API shows falls outside the vocabulary.

Pure: no web, persistence or database code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from domain.access import AccessToken
from domain.capacity import Capacity
from domain.incident import Incident
from domain.lifecycle import STEP_TYPES, LineStep
from domain.request import AssistanceRequest, LineBooking
from domain.rights import Step
from domain.subscription import Subscription

Subject = Literal["request", "incident", "capacity", "token", "subscription"]


@dataclass(frozen=True)
class ApiType:
    """One API type: the kind of subject it is a step of, the stored topics its events are
    stored under, and whether a client posts it (``POST /v1/events``)."""

    name: str
    subject: Subject
    topics: tuple[str, ...]
    postable: bool
    #: What the step is, for the types nobody posts (a posted type's summary is its model's).
    summary: str = ""


_R, _I, _C, _T, _S = AssistanceRequest, Incident, Capacity, AccessToken, Subscription
_BOOKED, _MOVED = _R.LineBooked.TOPIC, _R.LineMoved.TOPIC

#: The stored topics of each step of a request (its API name: ``lifecycle.STEP_TYPES``). The
#: deployment steps are stored as a booking or a booking's move, the step inside the event.
_STEP_TOPICS: dict[Step, tuple[str, ...]] = {
    Step.DRAFT: (_R.Created.TOPIC,),
    Step.PHONE_IN: (_R.PhonedIn.TOPIC,),
    Step.SUBMIT: (_R.Submitted.TOPIC,),
    Step.FORMALISE: (_R.Formalised.TOPIC,),
    Step.AMEND: (_R.Amended.TOPIC,),
    Step.RECEIVE: (_R.Received.TOPIC,),
    Step.CONFIRM_EXHAUSTION: (_R.ExhaustionConfirmed.TOPIC,),
    Step.ASSESS: (_R.Assessed.TOPIC,),
    Step.FORWARD: (_R.Forwarded.TOPIC,),
    Step.ADVISE: (_R.Advised.TOPIC,),
    Step.DECIDE: (_R.Decided.TOPIC,),
    Step.DECIDE_PRIORITY: (_R.PriorityDecided.TOPIC,),
    Step.APPEAL: (_R.Appealed.TOPIC,),
    Step.DECIDE_APPEAL: (_R.AppealDecided.TOPIC,),
    Step.MAKE_READY: (_BOOKED,),
    Step.COMMIT: (_BOOKED, _MOVED),
    Step.DISPATCH: (_MOVED,),
    Step.ARRIVE: (_MOVED,),
    Step.EXTEND: (_MOVED,),
    Step.RELIEVE: (_MOVED,),
    Step.RELEASE: (_MOVED,),
    Step.RETURN: (_MOVED,),
    Step.WITHDRAW: (_R.Withdrawn.TOPIC,),
    Step.CLOSE: (_R.Closed.TOPIC,),
    Step.EVALUATE: (_R.Evaluated.TOPIC,),
    Step.VOID: (_R.Voided.TOPIC,),
    Step.INFORM: (_R.Informed.TOPIC,),
}

#: Every API type, with the stored topics its events are stored under.
TYPES: dict[str, ApiType] = {
    t.name: t
    for t in (
        # --- requests: every step by the name the lifecycle gives it (STEP_TYPES) ---------
        *(
            ApiType(STEP_TYPES[step], "request", topics, True)
            for step, topics in _STEP_TOPICS.items()
        ),
        # --- incidents -----------------------------------------------------------------------
        ApiType("incident.opened", "incident", (_I.Created.TOPIC,), True),
        ApiType("incident.grip_changed", "incident", (_I.GripChanged.TOPIC,), True),
        ApiType("incident.phase_changed", "incident", (_I.PhaseChanged.TOPIC,), True),
        ApiType("incident.regions_changed", "incident", (_I.RegionsChanged.TOPIC,), True),
        ApiType("incident.situation_reported", "incident", (_I.SituationReported.TOPIC,), True),
        ApiType("incident.closed", "incident", (_I.Closed.TOPIC,), True),
        ApiType("incident.voided", "incident", (_I.Voided.TOPIC,), True),
        # --- capacities ----------------------------------------------------------------------
        ApiType("capacity.registered", "capacity", (_C.Created.TOPIC,), True),
        ApiType("capacity.availability_changed", "capacity", (_C.AvailabilityChanged.TOPIC,), True),
        ApiType("capacity.quantity_changed", "capacity", (_C.QuantityChanged.TOPIC,), True),
        ApiType(
            "capacity.booked",
            "capacity",
            (_C.BookingChanged.TOPIC,),
            False,
            "A booking of the capacity was made or moved on (its data's booking.state), "
            "recorded with the request's deployment step that did it",
        ),
        ApiType(
            "capacity.voided",
            "capacity",
            (_C.Voided.TOPIC,),
            False,
            "A step of the capacity was voided, recorded in error",
        ),
        # --- access tokens (issued and revoked through /v1/tokens) ---------------------------
        ApiType(
            "token.issued",
            "token",
            (_T.Created.TOPIC,),
            False,
            "An access token was issued (POST /v1/tokens); only a hash of its secret is kept",
        ),
        ApiType(
            "token.revoked",
            "token",
            (_T.Revoked.TOPIC,),
            False,
            "An access token was revoked (DELETE /v1/tokens/{id})",
        ),
        ApiType(
            "token.voided",
            "token",
            (_T.Voided.TOPIC,),
            False,
            "A step of an access token was voided, recorded in error",
        ),
        # --- subscriptions (signed webhooks, /v1/subscriptions; issue 24) --------------------
        ApiType(
            "subscription.created",
            "subscription",
            (_S.Created.TOPIC,),
            False,
            "A subscription was made (POST /v1/subscriptions): its URL and filters, never its "
            "signing secret",
        ),
        ApiType(
            "subscription.paused",
            "subscription",
            (_S.Paused.TOPIC,),
            False,
            "A subscription was paused (PATCH /v1/subscriptions/{id})",
        ),
        ApiType(
            "subscription.resumed",
            "subscription",
            (_S.Resumed.TOPIC,),
            False,
            "A paused or failing subscription was resumed (PATCH /v1/subscriptions/{id})",
        ),
        ApiType(
            "subscription.secret_rotated",
            "subscription",
            (_S.SecretRotated.TOPIC,),
            False,
            "A subscription's signing secret was replaced (the secret is never recorded)",
        ),
        ApiType(
            "subscription.deleted",
            "subscription",
            (_S.Deleted.TOPIC,),
            False,
            "A subscription was deleted (DELETE /v1/subscriptions/{id})",
        ),
        ApiType(
            "subscription.voided",
            "subscription",
            (_S.Voided.TOPIC,),
            False,
            "A step of a subscription was voided, recorded in error",
        ),
    )
}

#: Stored topic -> its API type, for every topic whose events all mean one step.
_BY_TOPIC: dict[str, str] = {
    topic: t.name for t in TYPES.values() if len(t.topics) == 1 for topic in t.topics
}
for _topic in (_BOOKED, _MOVED):
    del _BY_TOPIC[_topic]  # the step inside the event names these

#: Every stored event topic the vocabulary knows.
TOPICS: frozenset[str] = frozenset(topic for t in TYPES.values() for topic in t.topics)

#: A new booking: made ready (informally, before approval) or committed at once.
_BOOKED_AS = {
    LineStep.MADE_READY: STEP_TYPES[Step.MAKE_READY],
    LineStep.COMMITTED: STEP_TYPES[Step.COMMIT],
}
#: A booking moved on to this step (extensions and reliefs are told apart in :func:`api_type`).
_MOVED_TO = {
    LineStep.COMMITTED: STEP_TYPES[Step.COMMIT],  # a booking made ready, committed in place
    LineStep.DISPATCHED: STEP_TYPES[Step.DISPATCH],
    LineStep.ARRIVED: STEP_TYPES[Step.ARRIVE],
    LineStep.RELEASED: STEP_TYPES[Step.RELEASE],
    LineStep.CANCELLED: STEP_TYPES[Step.RELEASE],  # released before it was deployed
    LineStep.RETURNED: STEP_TYPES[Step.RETURN],
}


#: What a reader is shown for an event whose stored topic the table lacks, rather than failing
#: the whole answer or showing the topic: never in a tested build (tests/api/test_vocabulary.py
#: finds every event class without an API type), only for events stored by other code (the
#: store's own test aggregates).
UNNAMED = "unnamed"


class UnknownTopic(LookupError):
    """A stored topic (or a booking step) the vocabulary has no API type for: a new event
    class was added without one (the vocabulary test finds that before any answer does)."""


def api_type(topic: str, event: Any = None, before: LineBooking | None = None) -> str:
    """The API type of an event stored under ``topic``.

    ``event`` (the decoded domain event) is read only for the two booking topics: their API
    type is the deployment step inside it. One case needs ``before``, the booking as it stood
    before this event (:func:`booking_before_needed` says when): a booking that stays
    ``arrived`` with an end date is either an extension of an arrived booking or the arrival
    of one extended on its way, and only the booking's previous step tells which. Without it
    (the booking's earlier steps unknown) the event is named the arrival.
    """
    found = _BY_TOPIC.get(topic)
    if found is not None:
        return found
    booking = getattr(event, "booking", None)
    if not isinstance(booking, LineBooking):
        raise UnknownTopic(f"no API type for the stored topic {topic!r}")
    if topic == _BOOKED and booking.step in _BOOKED_AS:
        return _BOOKED_AS[booking.step]
    if topic != _MOVED or booking.step not in _MOVED_TO:
        raise UnknownTopic(f"no API type for {topic!r} with the step {booking.step.value!r}")
    # Only a relief sets a successor, and only an extension sets an end: a dispatch moves a
    # committed booking (which has no end yet), an extension keeps the booking's step.
    if booking.step is LineStep.RELEASED and booking.successor is not None:
        return STEP_TYPES[Step.RELIEVE]
    if booking.step is LineStep.DISPATCHED and booking.until is not None:
        return STEP_TYPES[Step.EXTEND]
    if (
        booking.step is LineStep.ARRIVED
        and booking.until is not None
        and before is not None
        and before.step is LineStep.ARRIVED  # an arrival moves a dispatched booking
    ):
        return STEP_TYPES[Step.EXTEND]
    return _MOVED_TO[booking.step]


def booking_before_needed(topic: str, event: Any) -> UUID | None:
    """The booking whose previous state :func:`api_type` needs for this event, if any."""
    booking = getattr(event, "booking", None)
    if (
        topic == _MOVED
        and isinstance(booking, LineBooking)
        and booking.step is LineStep.ARRIVED
        and booking.until is not None
    ):
        return booking.booking_id
    return None


def posted_type(topic: str, posted: str | None) -> str:
    """The API type of an event a posted item of type ``posted`` recorded under ``topic``
    (its receipt): the item's own type when the table stores that type under this topic (the
    booking steps are known from what was posted), else the topic's one type (a capacity's
    booking, recorded with a request's deployment step)."""
    known = TYPES.get(posted) if posted is not None else None
    if known is not None and topic in known.topics:
        return known.name
    return api_type(topic)


def types_of_topic(topic: str) -> tuple[str, ...]:
    """Every API type stored under ``topic`` (none: not a stored topic), by name."""
    return tuple(sorted(t.name for t in TYPES.values() if topic in t.topics))


def subject_of(name: str) -> Subject | None:
    """The kind of subject an API type is a step of (None: no API type, e.g. :data:`UNNAMED`)."""
    known = TYPES.get(name)
    return known.subject if known is not None else None


def subject_of_topic(topic: str) -> Subject | None:
    """The kind of subject the events stored under ``topic`` are steps of, known without
    decoding them (None: not a stored topic the vocabulary knows)."""
    return _SUBJECT_BY_TOPIC.get(topic)


def topics_of(name: str) -> tuple[str, ...]:
    """The stored topics an API type's events are stored under (none: no such type)."""
    known = TYPES.get(name)
    return known.topics if known is not None else ()


_SUBJECT_BY_TOPIC: dict[str, Subject] = {
    topic: t.subject for t in TYPES.values() for topic in t.topics
}
