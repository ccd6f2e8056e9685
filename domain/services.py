"""Steps that change a request and a capacity together (saved in one transaction).

A provider makes ready, commits, dispatches, releases and returns only its own capacity; the
Capacity's bookings keep the national totals right, the request's lines keep its progress.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import replace
from datetime import datetime
from uuid import UUID, uuid5

from domain.capacity import BookingState, Capacity, CapacityBooking, positive
from domain.envelope import Envelope
from domain.errors import Conflict, DomainError, NotPermitted
from domain.exercise import check_step, may_book, on_other_subject
from domain.lifecycle import LIFECYCLE, LineStep
from domain.policy import highest
from domain.request import DEPLOYMENT, AssistanceRequest, LineBooking, with_step
from domain.rights import Step

#: How a line step holds its capacity.
CAPACITY_STATE = {
    LineStep.MADE_READY: BookingState.MADE_READY,
    LineStep.COMMITTED: BookingState.COMMITTED,
    LineStep.DISPATCHED: BookingState.EN_ROUTE,
    LineStep.ARRIVED: BookingState.ON_SCENE,
    LineStep.RELEASED: BookingState.RETURNING,
    LineStep.RETURNED: BookingState.ENDED,
    LineStep.CANCELLED: BookingState.ENDED,
}


def _check_own_capacity(
    envelope: Envelope, capacity: Capacity, request: AssistanceRequest, line_id: str
) -> None:
    if envelope.actor.org != capacity.provider:
        raise NotPermitted(
            "not_own_capacity",
            DEPLOYMENT,
            text="commit",
            actor=envelope.actor.org,
            provider=capacity.provider,
        )
    line = request.lines.get(line_id)
    if line is None:
        raise DomainError(
            "unknown_line", LIFECYCLE, text="line", line_id=line_id, pointer="/data/line_id"
        )
    if line.capability != capacity.capability:
        raise DomainError(
            "capability_mismatch",
            LIFECYCLE,
            line_id=line_id,
            capability=line.capability,
            capacity_capability=capacity.capability,
            pointer="/data/line_id",
        )
    may_book(request.exercise, capacity.exercise)


def _paired(envelope: Envelope, request: AssistanceRequest, capacity: Capacity) -> Envelope:
    """A step that moves a request and a capacity together is as classified as the more
    classified of the two subjects (and its own marking): each side names the other, so
    neither may show it to a reader not cleared for both (domain/policy.py)."""
    level = highest((envelope.classification, request.classification, capacity.classification))
    if level is envelope.classification:
        return envelope
    return replace(envelope, classification=level)


def _on_capacity(envelope: Envelope, request: AssistanceRequest, capacity: Capacity) -> Envelope:
    """The step as the capacity records it. The step is the request's (its flag is checked
    against the request's before either subject changes, so a refusal leaves both as they
    were); on the capacity it keeps the capacity's own flag (domain/exercise.py)."""
    check_step(request.exercise, envelope, "request")
    return on_other_subject(envelope, capacity.exercise)


def _book(
    envelope: Envelope,
    request: AssistanceRequest,
    capacity: Capacity,
    line_id: str,
    quantity: int,
    booking_id: UUID,
    step: LineStep,
) -> None:
    positive(quantity)
    _check_own_capacity(envelope, capacity, request, line_id)
    envelope = _paired(envelope, request, capacity)
    if booking_id in request.bookings:
        raise Conflict("booking_exists", LIFECYCLE, booking_id=booking_id)
    capacity.book(
        _on_capacity(envelope, request, capacity),
        CapacityBooking(
            booking_id,
            request.id,
            line_id,
            quantity,
            CAPACITY_STATE[step],
            # A real capacity held by an exercise is really occupied (it counts against what
            # is available), and the overview says what for (domain.md, settled questions).
            for_exercise=request.exercise,
        ),
    )
    request.book_line(
        envelope,
        LineBooking(booking_id, line_id, capacity.id, capacity.provider, quantity, step),
    )


def make_ready(
    envelope: Envelope,
    request: AssistanceRequest,
    capacity: Capacity,
    *,
    line_id: str,
    quantity: int,
    booking_id: UUID,
) -> None:
    """Informal readiness (*gereedstelling*) before approval: it holds capacity, deploys nothing."""
    request.check_can_make_ready(envelope, line_id)
    _book(envelope, request, capacity, line_id, quantity, booking_id, LineStep.MADE_READY)


def commit(
    envelope: Envelope,
    request: AssistanceRequest,
    capacity: Capacity,
    *,
    line_id: str,
    quantity: int,
    booking_id: UUID,
) -> None:
    """Commit capacity to an approved line; a booking made ready earlier is committed in place."""
    existing = request.bookings.get(booking_id)
    if existing is not None and existing.step is LineStep.MADE_READY:
        booking = request.check_booking_step(envelope.actor, Step.COMMIT, booking_id)
        _check_own_capacity(envelope, capacity, request, booking.line_id)
        request.check_can_commit(envelope, booking.line_id, booking.quantity)
        _move(envelope, request, capacity, booking, LineStep.COMMITTED)
        return
    request.check_can_commit(envelope, line_id, quantity)
    _book(envelope, request, capacity, line_id, quantity, booking_id, LineStep.COMMITTED)


def _move(
    envelope: Envelope,
    request: AssistanceRequest,
    capacity: Capacity,
    booking: LineBooking,
    to: LineStep,
    note: str = "",
    quantity: int | None = None,
    **changes: object,
) -> None:
    """Move ``booking`` to ``to``; with a ``quantity`` below the booking's, only that part:
    it becomes a booking of its own, split from it, and the rest stays where it was."""
    if booking.capacity_id != capacity.id:
        raise Conflict("capacity_mismatch", LIFECYCLE)
    if quantity is not None:
        positive(quantity)
        if quantity > booking.quantity:
            raise Conflict(
                "exceeds_booked",
                DEPLOYMENT,
                booking_id=booking.booking_id,
                held=booking.quantity,
                quantity=quantity,
                pointer="/data/quantity",
            )
    envelope = _paired(envelope, request, capacity)
    on_capacity = _on_capacity(envelope, request, capacity)
    if quantity is None or quantity == booking.quantity:
        request.move_line(envelope, with_step(booking, to, **changes), note)
        capacity.move(on_capacity, booking.booking_id, CAPACITY_STATE[to])
        return
    part = split_id(request, booking)
    moved = replace(
        with_step(booking, to, **changes),
        booking_id=part,
        quantity=quantity,
        split_from=booking.booking_id,
    )
    request.move_line(envelope, moved, note)
    capacity.move(on_capacity, booking.booking_id, CAPACITY_STATE[to], part=(part, quantity))


def split_id(request: AssistanceRequest, booking: LineBooking) -> UUID:
    """The id of a part split from ``booking``: derived from the booking and the request's
    version at the split (so a post run again on the same state splits the same way, and two
    splits of one booking never share an id)."""
    return uuid5(booking.booking_id, f"split/{request.version}")


# Each booking step asks the request first (rights, lifecycle table, the booking's owner and
# step: AssistanceRequest.check_booking_step), then checks its own data.


def dispatch(
    envelope: Envelope, request: AssistanceRequest, capacity: Capacity, *, booking_id: UUID
) -> None:
    booking = request.check_booking_step(envelope.actor, Step.DISPATCH, booking_id)
    _move(envelope, request, capacity, booking, LineStep.DISPATCHED)


def arrive(
    envelope: Envelope,
    request: AssistanceRequest,
    capacity: Capacity,
    *,
    booking_id: UUID,
    note: str = "",
    quantity: int | None = None,
) -> None:
    """Arrived on scene; control handed over to the civil authority (``quantity``: only
    that part of the booking)."""
    booking = request.check_booking_step(envelope.actor, Step.ARRIVE, booking_id)
    _move(envelope, request, capacity, booking, LineStep.ARRIVED, note, quantity)


def extend(
    envelope: Envelope,
    request: AssistanceRequest,
    capacity: Capacity,
    *,
    booking_id: UUID,
    until: datetime,
    reason: str,
) -> None:
    booking = request.check_booking_step(envelope.actor, Step.EXTEND, booking_id)
    if not reason.strip():
        raise DomainError("reasons_required", LIFECYCLE, text="extension", pointer="/data/reason")
    if booking.until is not None and until <= booking.until:
        raise DomainError("period_invalid", LIFECYCLE, text="extension", pointer="/data/until")
    _move(envelope, request, capacity, booking, booking.step, reason, until=until)


def relieve(
    envelope: Envelope,
    request: AssistanceRequest,
    capacity: Capacity,
    *,
    booking_id: UUID,
    successor: UUID,
) -> None:
    """Relieved by a successor booking on the same line, which must be on its way or on scene."""
    booking = request.check_booking_step(envelope.actor, Step.RELIEVE, booking_id)
    follower = request.booking(successor)
    if follower not in request.successors(booking):  # one rule, as open_steps asks it
        raise Conflict("invalid_successor", LIFECYCLE, pointer="/data/successor_booking_id")
    _move(
        envelope,
        request,
        capacity,
        booking,
        LineStep.RELEASED,
        "relieved",
        successor=successor,
    )


def release(
    envelope: Envelope,
    request: AssistanceRequest,
    capacity: Capacity,
    *,
    booking_id: UUID,
    note: str = "",
    quantity: int | None = None,
) -> None:
    """Release: deployed capacity starts returning; capacity not yet deployed is cancelled
    (``quantity``: only that part of the booking)."""
    booking = request.check_booking_step(envelope.actor, Step.RELEASE, booking_id)
    _move(envelope, request, capacity, booking, _released(booking), note, quantity)


def _released(booking: LineBooking) -> LineStep:
    if booking.step in (LineStep.MADE_READY, LineStep.COMMITTED):
        return LineStep.CANCELLED
    return LineStep.RELEASED


def return_home(
    envelope: Envelope,
    request: AssistanceRequest,
    capacity: Capacity,
    *,
    booking_id: UUID,
    quantity: int | None = None,
) -> None:
    booking = request.check_booking_step(envelope.actor, Step.RETURN, booking_id)
    _move(envelope, request, capacity, booking, LineStep.RETURNED, quantity=quantity)


#: The steps a requester or provider may record per line, without booking ids, and where each
#: takes a booking to (release: cancelled before deployment, returning after).
LINE_STEPS: dict[Step, Callable[[LineBooking], LineStep]] = {
    Step.ARRIVE: lambda booking: LineStep.ARRIVED,
    Step.RELEASE: _released,
    Step.RETURN: lambda booking: LineStep.RETURNED,
}


def move_line(
    envelope: Envelope,
    request: AssistanceRequest,
    capacity_of: Callable[[UUID], Capacity],
    step: Step,
    *,
    line_id: str,
    quantity: int,
    note: str = "",
    visible: Collection[UUID] | None = None,
) -> list[UUID]:
    """Record ``step`` for ``quantity`` of a line: the request chooses which bookings in its
    documented order (:meth:`AssistanceRequest.line_bookings`), a booking of which only a
    part is needed is split. ``visible``: the bookings the actor sees (acting needs seeing).
    Returns the ids of the bookings moved (a split part's new id)."""
    positive(quantity)
    moved = []
    for booking, part in request.line_bookings(
        envelope.actor, step, line_id, quantity, visible=visible
    ):
        new_id = split_id(request, booking) if part < booking.quantity else booking.booking_id
        _move(
            envelope,
            request,
            capacity_of(booking.capacity_id),
            booking,
            LINE_STEPS[step](booking),
            note,
            part,
        )
        moved.append(new_id)
    return moved
