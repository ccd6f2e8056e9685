"""Steps that change a request and a capacity together (saved in one transaction).

A provider makes ready, commits, dispatches, releases and returns only its own capacity; the
Capacity's bookings keep the national totals right, the request's lines keep its progress.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from uuid import UUID

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
    LineStep.DISPATCHED: BookingState.DEPLOYED,
    LineStep.ARRIVED: BookingState.DEPLOYED,
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
            f"{envelope.actor.org} commits only its own capacities, not {capacity.provider}'s",
            DEPLOYMENT,
        )
    line = request.lines.get(line_id)
    if line is None:
        raise DomainError("unknown_line", f"the request has no line {line_id}", LIFECYCLE)
    if line.capability != capacity.capability:
        raise DomainError(
            "capability_mismatch",
            f"line {line_id} asks for {line.capability}, the capacity is {capacity.capability}",
            LIFECYCLE,
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
        raise Conflict("booking_exists", f"booking {booking_id} exists", LIFECYCLE)
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
    **changes: object,
) -> None:
    if booking.capacity_id != capacity.id:
        raise Conflict("capacity_mismatch", "the booking is on another capacity", LIFECYCLE)
    moved = with_step(booking, to, **changes)
    envelope = _paired(envelope, request, capacity)
    on_capacity = _on_capacity(envelope, request, capacity)
    request.move_line(envelope, moved, note)
    capacity.move(on_capacity, booking.booking_id, CAPACITY_STATE[to])


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
) -> None:
    """Arrived on scene; control handed over to the civil authority."""
    booking = request.check_booking_step(envelope.actor, Step.ARRIVE, booking_id)
    _move(envelope, request, capacity, booking, LineStep.ARRIVED, note)


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
        raise DomainError("reasons_required", "an extension states its reason", LIFECYCLE)
    if booking.until is not None and until <= booking.until:
        raise DomainError(
            "period_invalid", "an extension ends later than the current end", LIFECYCLE
        )
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
        raise Conflict(
            "invalid_successor",
            "the successor is another booking, dispatched or on scene on the same line",
            LIFECYCLE,
        )
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
) -> None:
    """Release: deployed capacity starts returning; capacity not yet deployed is cancelled."""
    booking = request.check_booking_step(envelope.actor, Step.RELEASE, booking_id)
    to = (
        LineStep.CANCELLED
        if booking.step in (LineStep.MADE_READY, LineStep.COMMITTED)
        else LineStep.RELEASED
    )
    _move(envelope, request, capacity, booking, to, note)


def return_home(
    envelope: Envelope, request: AssistanceRequest, capacity: Capacity, *, booking_id: UUID
) -> None:
    booking = request.check_booking_step(envelope.actor, Step.RETURN, booking_id)
    _move(envelope, request, capacity, booking, LineStep.RETURNED)
