"""The store's codec reads what older code wrote."""

from __future__ import annotations

from uuid import uuid4

import orjson

from domain.capacity import BookingState, CapacityBooking
from mlob.store.transcoder import OrjsonTranscoder


def test_a_booking_stored_before_for_exercise_reads_back_as_real() -> None:
    booking = CapacityBooking(uuid4(), uuid4(), "L1", 2, BookingState.COMMITTED)
    transcoder = OrjsonTranscoder()
    stored = orjson.loads(transcoder.encode(booking))
    fields = stored["_data_"][1]
    del fields["for_exercise"]  # as the code before it wrote it
    read = transcoder.decode(orjson.dumps(stored))
    assert read == booking and read.for_exercise is False


def test_the_fast_path_writes_the_same_bytes_as_the_first_encoding() -> None:
    """A stored type's field names are looked up once (``_field_names``): every later encoding
    of it writes exactly the bytes the first (the full isinstance chain) wrote, whatever its
    values' types — an enum, a tuple, a UUID, a date and time, nested objects, None."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from domain.envelope import Actor, Classification, Envelope
    from mlob.store import transcoder as module

    envelope = Envelope(
        actor=Actor(org="VR08", role="operator", person=None),
        occurred_at=datetime(2026, 12, 6, 11, 0, tzinfo=UTC),
        message_id="m-1",
        classification=Classification.DEPARTMENTAL_CONFIDENTIAL,
        correlation_id="c-1",
    )
    booking = CapacityBooking(uuid4(), uuid4(), "L1", 2, BookingState.COMMITTED)
    state = {
        "envelope": envelope,
        "booking": booking,
        "regions": ("VR08", "VR09"),
        "lines": [{"n": 1, "amount": Decimal("1.5"), "flag": True}, None],
        "id": uuid4(),
    }
    module._field_names.clear()
    first = OrjsonTranscoder().encode(state)
    assert {type(envelope), type(booking), Actor} <= set(module._field_names)
    assert OrjsonTranscoder().encode(state) == first
    assert OrjsonTranscoder().decode(first) == state
