"""Incidents and capacities: who keeps them, and what they refuse."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.capacity import BookingState, Capacity, CapacityBooking
from domain.errors import Conflict, DomainError, NotPermitted
from domain.incident import GripLevel, Incident, Phase
from tests.unit.domain.catalogue import CAP
from tests.unit.domain.helpers import capacity, env


def opened(org: str = "VR08", regions: tuple[str, ...] = ("VR08", "VR23")) -> Incident:
    incident = Incident.open(
        env(org), uuid4(), title="Hoogwater", regions=regions, grip=GripLevel.GRIP_3
    )
    incident.collect_events()
    return incident


def test_incident_lifecycle() -> None:
    incident = opened()
    incident.change_grip(env("VR08"), GripLevel.GRIP_4)
    incident.change_phase(env("LOCC"), Phase.AFTER)
    incident.report(env("VR23"), "Maas falling")
    incident.close(env("VR08"), "water receded")
    assert (incident.grip, incident.phase, incident.latest_report, incident.closed) == (
        GripLevel.GRIP_4,
        Phase.AFTER,
        "Maas falling",
        True,
    )
    assert incident.regions_concerned() == ("VR08", "VR23")
    with pytest.raises(Conflict) as exc:
        incident.report(env("VR08"), "late")
    assert exc.value.code == "incident_closed"


def test_incident_refusals() -> None:
    with pytest.raises(DomainError) as exc:
        Incident.open(env("VR08"), uuid4(), title="x", regions=("VR99",), grip=GripLevel.GRIP_1)
    assert exc.value.code == "unknown_region"
    with pytest.raises(NotPermitted) as exc:
        Incident.open(env("VR07"), uuid4(), title="x", regions=("VR08",), grip=GripLevel.GRIP_1)
    assert exc.value.code == "not_own_region"
    with pytest.raises(NotPermitted):
        Incident.open(env("DEF-DOPS"), uuid4(), title="x", regions=("VR08",), grip=GripLevel.GRIP_1)
    incident = opened()
    with pytest.raises(Conflict) as exc:
        incident.change_grip(env("VR08"), GripLevel.GRIP_3)
    assert exc.value.code == "no_change"
    with pytest.raises(NotPermitted):
        incident.report(env("INSP-JENV"), "auditors read only")


def test_incident_correction_restores_the_previous_state() -> None:
    incident = opened()
    incident.change_grip(env("VR08"), GripLevel.GRIP_5)
    incident.correct(env("VR08"), target_version=2, reason="GRIP 5 typed instead of 4")
    assert incident.grip is GripLevel.GRIP_3
    with pytest.raises(DomainError) as exc:
        incident.correct(env("VR08"), target_version=2, reason="")
    assert exc.value.code == "reason_required"


def test_only_the_recorder_voids_an_incident_step() -> None:
    """A co-region keeps the incident but does not undo the opening region's step (it
    records its own correction instead); the same rule as on requests."""
    incident = opened()
    incident.change_grip(env("VR08"), GripLevel.GRIP_5)
    with pytest.raises(NotPermitted) as exc:
        incident.correct(env("VR23"), target_version=2, reason="not ours to undo")
    assert exc.value.code == "not_own_step"
    assert incident.grip is GripLevel.GRIP_5
    incident.correct(env("VR08"), target_version=2, reason="GRIP 5 typed instead of 4")
    assert incident.grip is GripLevel.GRIP_3


def test_capacity_is_registered_by_its_own_provider_from_the_catalogue() -> None:
    with pytest.raises(NotPermitted) as exc:
        Capacity.register(
            env("VR08"), uuid4(), capability_code=CAP["fire"], quantity=2, provider="VR07"
        )
    assert exc.value.code == "not_own_capacity"
    with pytest.raises(DomainError) as exc:
        Capacity.register(env("VR07"), uuid4(), capability_code="NO_SUCH", quantity=2)
    assert exc.value.code == "unknown_capability"
    with pytest.raises(DomainError) as exc:
        Capacity.register(
            env("VR07"), uuid4(), capability_code=CAP["defence_transport"], quantity=2
        )
    assert exc.value.code == "not_a_provider_of_capability"
    with pytest.raises(DomainError) as exc:
        Capacity.register(env("VR07"), uuid4(), capability_code=CAP["fire"], quantity=-1)
    assert exc.value.code == "quantity_not_positive"


def test_states_add_up_to_what_exists() -> None:
    pumps = capacity("VR07", CAP["fire"], 5)
    request = uuid4()
    pumps.book(env("VR07"), CapacityBooking(uuid4(), request, "L1", 2, BookingState.COMMITTED))
    pumps.change_availability(
        env("VR07"), unavailable=1, abroad=1, reason="maintenance; EU mission"
    )
    assert pumps.available == 1
    with pytest.raises(Conflict) as exc:
        pumps.change_availability(env("VR07"), unavailable=3, abroad=1, reason="")
    assert exc.value.code == "capacity_exceeded"
    with pytest.raises(Conflict) as exc:
        pumps.change_quantity(env("VR07"), 3, "sold")
    assert exc.value.code == "capacity_exceeded"
    with pytest.raises(Conflict) as exc:
        pumps.book(env("VR07"), CapacityBooking(uuid4(), request, "L1", 2, BookingState.MADE_READY))
    assert exc.value.code == "double_booking"


def test_who_changes_an_incidents_regions() -> None:
    """A region adds regions and removes only itself; LOCC and the NCC change any; the opening
    region stays unless LOCC removes it. On 72956bf VR23 could remove VR08, which opened it."""
    incident = opened("VR08", ("VR08", "VR23"))
    incident.change_regions(env("VR23"), ("VR08", "VR23", "VR21"))  # a co-region adds one
    for who, regions, code in (
        ("VR23", ("VR23", "VR21"), "opener_stays"),  # the co-region cannot lock VR08 out
        ("VR23", ("VR08", "VR23"), "remove_only_yourself"),
        ("NCC", ("VR23",), "opener_stays"),
        ("VR08", ("VR23", "VR21"), "opener_stays"),
    ):
        with pytest.raises(NotPermitted) as exc:
            incident.change_regions(env(who), regions)
        assert exc.value.code == code, who
    incident.change_regions(env("VR21"), ("VR08", "VR23"))  # removes itself
    incident.change_regions(env("NCC"), ("VR08",))  # the NCC removes any but the opener
    assert incident.regions == ("VR08",)
    incident.change_regions(env("LOCC"), ("VR23",))  # LOCC may remove the opener
    assert incident.regions == ("VR23",)
    with pytest.raises(NotPermitted):  # VR08 is no longer in it: it records nothing there
        incident.change_regions(env("VR08"), ("VR08", "VR23"))
