"""The store's codec reads what older code wrote."""

from __future__ import annotations

from uuid import UUID, uuid4

import orjson
import pytest

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


def test_decoding_twice_gives_equal_values_of_the_same_types() -> None:
    """The decoder keeps leaves without a call and looks UUIDs and enum members up once
    (mlob/store/transcoder.py): a value decoded again, from the lookups, is the same."""
    first, second = uuid4(), uuid4()
    value = {
        "bookings": [CapacityBooking(first, second, "L1", 2, BookingState.COMMITTED)],
        "ids": (first, second, first),
        "states": [BookingState.COMMITTED, BookingState.RETURNING, "committed"],
        "leaves": [1, 1.5, True, None, "x", {"nested": [first, 0]}],
    }
    transcoder = OrjsonTranscoder()
    stored = transcoder.encode(value)
    for read in (transcoder.decode(stored), transcoder.decode(stored)):
        assert read == value
        assert [type(x) for x in read["ids"]] == [UUID] * 3 and type(read["ids"]) is tuple
        assert read["states"][:2] == [BookingState.COMMITTED, BookingState.RETURNING]
        assert type(read["states"][2]) is str
        assert [type(x) for x in read["leaves"]] == [int, float, bool, type(None), str, dict]


def test_a_malformed_uuid_or_enum_is_refused_as_before() -> None:
    transcoder = OrjsonTranscoder()
    for data in (
        {"_type_": "uuid", "_data_": "not-a-uuid"},
        {"_type_": "enum", "_data_": ["mlob:NoSuchEnum", "x"]},
        {"_type_": "enum", "_data_": ["mlob:BookingState", "no such value"]},
        {"_type_": "enum", "_data_": [["x"], "y"]},  # unhashable: never a key of the lookups
        {"_type_": "enum", "_data_": ["mlob:BookingState", ["committed"]]},
    ):
        with pytest.raises(ValueError):
            transcoder.decode(orjson.dumps(data))
