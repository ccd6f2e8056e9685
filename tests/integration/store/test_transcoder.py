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
