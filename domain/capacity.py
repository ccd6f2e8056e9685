"""Capacities (*capaciteiten*): what a provider can deploy, and its bookings per request line.

The Capacity aggregate owns its bookings, so that made ready + committed + en route + on scene +
returning + unavailable + deployed abroad never exceeds what exists, across all requests.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from typing import Any
from uuid import UUID

from domain.base import MlobAggregate
from domain.envelope import Actor, Envelope
from domain.errors import Conflict, DomainError, NotPermitted
from domain.reference import capability, organisation, region
from domain.rights import PROVIDER_KINDS, require_writer
from domain.stored import stored_as

SOURCE = "domain.md §Capacities"


@stored_as("mlob:CapacityClass")
class CapacityClass(str, Enum):
    """Guaranteed (*gegarandeerd*), by agreement (*op afspraak*) or best effort."""

    GUARANTEED = "guaranteed"
    BY_AGREEMENT = "by_agreement"
    BEST_EFFORT = "best_effort"


@stored_as("mlob:BookingState")
class BookingState(str, Enum):
    MADE_READY = "made_ready"  # informal, before approval (*gereedstelling*)
    COMMITTED = "committed"
    EN_ROUTE = "en_route"  # dispatched, on its way (domain.md: dispatched is not arrived)
    ON_SCENE = "on_scene"  # arrived: control handed over to the civil authority
    #: Dispatched or on scene, as stored before issue 18; never recorded any more. Applying a
    #: stored one reads it as en route when it follows a commitment and as on scene when it
    #: follows a deployment (``Capacity.BookingChanged``).
    DEPLOYED = "deployed"
    RETURNING = "returning"  # released, on its way back
    ENDED = "ended"  # returned or cancelled: no longer holds capacity


@stored_as("mlob:CapacityBooking")
@dataclass(frozen=True)
class CapacityBooking:
    booking_id: UUID
    request_id: UUID
    line_id: str
    quantity: int
    state: BookingState
    #: Held by an exercise request (a real capacity may be used in an exercise; it is occupied
    #: all the same). Defaults to False so bookings stored before it read back as they were.
    for_exercise: bool = False
    #: A part moved on alone: the booking it was split from keeps the rest (issue 18; None
    #: for bookings stored before it and for every whole booking).
    split_from: UUID | None = None


#: The states of a booking that is deployed: on its way or on scene.
DEPLOYED_STATES = frozenset({BookingState.EN_ROUTE, BookingState.ON_SCENE, BookingState.DEPLOYED})


def positive(quantity: int, what: str = "quantity") -> None:
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
        raise DomainError("quantity_not_positive", SOURCE, text="whole_number", what=what)


class Capacity(MlobAggregate):
    """A deployable unit, team, vehicle, module, stock item or expertise of one provider."""

    TOPIC = "mlob:Capacity"

    class Created(MlobAggregate.Created):
        """Capacity registered."""

        TOPIC = "mlob:Capacity.Registered"
        provider: str
        capability: str
        name: str
        quantity: int
        home_region: str | None
        notice_minutes: int
        capacity_class: CapacityClass

    class AvailabilityChanged(MlobAggregate.Event):
        TOPIC = "mlob:Capacity.AvailabilityChanged"
        unavailable: int
        abroad: int
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.unavailable = self.unavailable
            aggregate.abroad = self.abroad

    class QuantityChanged(MlobAggregate.Event):
        TOPIC = "mlob:Capacity.QuantityChanged"
        quantity: int
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.quantity = self.quantity

    class BookingChanged(MlobAggregate.Event):
        """A booking was made or moved to another state (one event per movement)."""

        TOPIC = "mlob:Capacity.BookingChanged"
        VOIDABLE = False  # bookings move with their request's events; release instead
        booking: CapacityBooking

        def apply(self, aggregate: Any) -> None:
            booking = self.booking
            before = aggregate.bookings.get(booking.booking_id)
            if booking.state is BookingState.DEPLOYED:  # stored before issue 18
                on_scene = before is not None and before.state in DEPLOYED_STATES
                state = BookingState.ON_SCENE if on_scene else BookingState.EN_ROUTE
                booking = replace(booking, state=state)
            if booking.split_from is not None and before is None:
                # A part moved on alone: the booking it came from keeps the rest.
                rest = aggregate.bookings[booking.split_from]
                aggregate.bookings[rest.booking_id] = replace(
                    rest, quantity=rest.quantity - booking.quantity
                )
            aggregate.bookings[booking.booking_id] = booking

    class Voided(MlobAggregate.Voided):
        TOPIC = "mlob:Capacity.Voided"

    def __init__(
        self,
        provider: str,
        capability: str,
        name: str,
        quantity: int,
        home_region: str | None,
        notice_minutes: int,
        capacity_class: CapacityClass,
        envelope: Envelope,
    ) -> None:
        self.provider = provider
        self.capability = capability
        self.name = name
        self.quantity = quantity
        self.home_region = home_region
        self.notice_minutes = notice_minutes
        self.capacity_class = capacity_class
        self.unavailable = 0
        self.abroad = 0
        self.bookings: dict[UUID, CapacityBooking] = {}
        self.classification = envelope.classification

    # --- reading -----------------------------------------------------------------------------

    def regions_concerned(self) -> tuple[str, ...]:
        return (self.home_region,) if self.home_region else ()

    def held(self, *states: BookingState) -> int:
        return sum(b.quantity for b in self.bookings.values() if b.state in states)

    @property
    def available(self) -> int:
        """What exists minus everything booked, unavailable or abroad; never negative."""
        booked = sum(
            b.quantity for b in self.bookings.values() if b.state is not BookingState.ENDED
        )
        return self.quantity - booked - self.unavailable - self.abroad

    # --- commands ----------------------------------------------------------------------------

    @classmethod
    def register(
        cls,
        envelope: Envelope,
        subject: UUID,
        *,
        capability_code: str,
        quantity: int,
        name: str = "",
        home_region: str | None = None,
        notice_minutes: int = 60,
        capacity_class: CapacityClass = CapacityClass.BEST_EFFORT,
        provider: str | None = None,
    ) -> Capacity:
        provider = provider or envelope.actor.org
        _check_provider_actor(envelope.actor, provider)
        positive(quantity)
        try:
            known = capability(capability_code)
        except KeyError:
            raise DomainError(
                "unknown_capability", SOURCE, capability=capability_code, pointer="/data/capability"
            ) from None
        if known.providers and provider not in known.providers:
            raise DomainError(
                "not_a_provider_of_capability",
                known.source,
                text="capacity",
                provider=provider,
                capability_code=capability_code,
            )
        if home_region is not None:
            try:
                region(home_region)
            except KeyError:
                raise DomainError(
                    "unknown_region",
                    SOURCE,
                    text="home_region",
                    home_region=home_region,
                    pointer="/data/home_region",
                ) from None
        if notice_minutes < 0:
            raise DomainError("notice_negative", SOURCE, pointer="/data/notice_minutes")
        return cls._create(
            cls.Created,
            id=subject,
            envelope=envelope,
            provider=provider,
            capability=capability_code,
            name=name or known.name,
            quantity=quantity,
            home_region=home_region,
            notice_minutes=notice_minutes,
            capacity_class=capacity_class,
        )

    def change_availability(
        self, envelope: Envelope, unavailable: int, abroad: int, reason: str
    ) -> None:
        _check_provider_actor(envelope.actor, self.provider)
        if unavailable < 0 or abroad < 0:
            raise DomainError("quantity_not_positive", SOURCE, text="counts")
        booked = self.quantity - self.available - self.unavailable - self.abroad
        if booked + unavailable + abroad > self.quantity:
            raise Conflict(
                "capacity_exceeded",
                SOURCE,
                text="exceeds_existing",
                booked=booked,
                quantity=self.quantity,
                unavailable=unavailable,
                abroad=abroad,
            )
        self.emit(
            self.AvailabilityChanged,
            envelope,
            unavailable=unavailable,
            abroad=abroad,
            reason=reason,
        )

    def change_quantity(self, envelope: Envelope, quantity: int, reason: str) -> None:
        _check_provider_actor(envelope.actor, self.provider)
        positive(quantity)
        in_use = self.quantity - self.available
        if quantity < in_use:
            raise Conflict(
                "capacity_exceeded",
                SOURCE,
                text="below_in_use",
                in_use=in_use,
                quantity=quantity,
            )
        self.emit(self.QuantityChanged, envelope, quantity=quantity, reason=reason)

    def book(self, envelope: Envelope, booking: CapacityBooking) -> None:
        """Hold ``booking.quantity`` for a request line (made ready or committed)."""
        positive(booking.quantity)
        if booking.booking_id in self.bookings:
            raise Conflict("booking_exists", SOURCE, booking_id=booking.booking_id)
        if booking.quantity > self.available:
            raise Conflict(
                "double_booking",
                SOURCE,
                name=self.name,
                capability=self.capability,
                provider=self.provider,
                available=self.available,
                held=booking.quantity,
            )
        self.emit(self.BookingChanged, envelope, booking=booking)

    def move(
        self,
        envelope: Envelope,
        booking_id: UUID,
        state: BookingState,
        *,
        part: tuple[UUID, int] | None = None,
    ) -> None:
        """Move a booking to ``state``; ``part`` (new booking id, quantity): only that part of
        it, as a booking of its own split from it (the rest stays where it is)."""
        booking = self.bookings.get(booking_id)
        if booking is None:
            raise Conflict("unknown_booking", SOURCE, text="capacity", booking_id=booking_id)
        if part is None:
            self.emit(self.BookingChanged, envelope, booking=replace(booking, state=state))
            return
        new_id, quantity = part
        positive(quantity)
        if quantity >= booking.quantity or new_id in self.bookings:
            raise Conflict("invalid_split", SOURCE, booking_id=booking_id, held=booking.quantity)
        moved = replace(
            booking, booking_id=new_id, quantity=quantity, state=state, split_from=booking_id
        )
        self.emit(self.BookingChanged, envelope, booking=moved)


def _check_provider_actor(actor: Actor, provider: str) -> None:
    kind = require_writer(actor)
    try:
        organisation(provider)
    except KeyError:
        raise DomainError("unknown_organisation", SOURCE, org=provider) from None
    if kind not in PROVIDER_KINDS:
        raise NotPermitted("not_a_provider", SOURCE, actor=actor.org, kind=kind)
    if actor.org != provider:
        raise NotPermitted(
            "not_own_capacity",
            SOURCE,
            text="manage",
            actor=actor.org,
            provider=provider,
        )


def open_steps(capacity: Capacity, actor: Actor) -> list[tuple[str, str]]:
    """The steps ``actor`` could take on ``capacity`` now, as (command, topic it records): its
    provider's recounts (bookings are recorded by the requests' deployment steps, not posted
    on the capacity). The data is checked when posted."""
    try:
        _check_provider_actor(actor, capacity.provider)
    except DomainError:
        return []
    return [
        ("change_availability", Capacity.AvailabilityChanged.TOPIC),
        ("change_quantity", Capacity.QuantityChanged.TOPIC),
    ]
