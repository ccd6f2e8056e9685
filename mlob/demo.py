"""The demo scenario: a river flood along Maas and Waal over three regions at GRIP 4.

Loaded once through the same posting path as the HTTP API (a second start finds it and adds
nothing). Times lie in the hours before now, as an operator would have recorded them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID, uuid5

from api.ports import Principal
from api.post_events import Item, plan
from domain.commands import Post
from domain.recorded import Receipt

NAMESPACE = UUID("6f1c3d2e-8a4b-4c5d-9e7f-0a1b2c3d4e5f")


def demo_id(name: str) -> UUID:
    return uuid5(NAMESPACE, name)


FLOOD = demo_id("incident:flood")
EXERCISE = demo_id("incident:exercise-water-cannon")
TRANSPORT_VR08 = demo_id("request:vr08-military-transport")
TRANSPORT_VR23 = demo_id("request:vr23-military-transport")
BLANKETS = demo_id("request:vr08-blankets")
SIS = demo_id("request:vr08-sis")
POLICE_ME = demo_id("request:pol-on-me")
KMAR = demo_id("request:pol-lb-kmar")
PUMPS_URGENT = demo_id("request:vr21-pumps-phoned-in")
WATER_CANNON = demo_id("request:pol-dh-water-cannon-exercise")

CAP_TRANSPORT = demo_id("capacity:def-evacuation-transport")
CAP_BLANKETS = demo_id("capacity:ifv-blankets")
CAP_SIS = demo_id("capacity:ifv-sis")
CAP_ME = demo_id("capacity:pol-mn-me")
CAP_KMAR = demo_id("capacity:kmar-unit")
CAP_PUMPS_VR07 = demo_id("capacity:vr07-water-supply")
CAP_WATER_CANNON = demo_id("capacity:ifv-water-cannon")
PUMPS_SHARED = demo_id("request:vr08-pumps-shared")
CAP_PUMPS_VR09 = demo_id("capacity:vr09-water-supply")

#: The organisations that act in the demo, with the role a demo token gets.
DEMO_ORGANISATIONS: dict[str, str] = {
    "LOCC": "coordinator",
    "VR08": "operator",
    "VR23": "operator",
    "VR21": "operator",
    "VR07": "operator",
    "VR09": "operator",  # shares VR08's pumps with VR07 (issue 18)
    "VR06": "operator",  # asked for the remainder VR09 refused
    "POL-ON": "operator",
    "POL-LB": "operator",
    "POL-DH": "operator",
    "POL-LE": "operator",
    "POL-MN": "operator",
    "KMAR": "operator",
    "IFV": "operator",
    "DEF-DOPS": "operator",
    "DEF-DJZ": "operator",
    "DEF-CDS": "operator",
    "JV-MIN": "operator",
    "NCC": "coordinator",
    "INSP-JENV": "auditor",
}


def chair(region: str) -> dict[str, str]:
    return {"body": "chair_safety_region", "of": region, "capacity": "namens"}


def mayor(municipality: str) -> dict[str, str]:
    return {"body": "mayor", "of": municipality}


class Scenario:
    def __init__(self, now: datetime) -> None:
        self.now = now
        self.steps: list[tuple[str, list[Item]]] = []
        self.counter = 0

    def at(self, hours_ago: float) -> datetime:
        return self.now - timedelta(hours=hours_ago)

    def add(
        self,
        org: str,
        hours_ago: float,
        type_: str,
        subject: UUID,
        data: dict[str, Any] | None = None,
        **envelope: Any,
    ) -> None:
        self.counter += 1
        item = Item(
            type=type_,
            subject=subject,
            message_id=f"demo-{self.counter:03d}",
            occurred_at=self.at(hours_ago),
            data=data or {},
            **envelope,
        )
        self.steps.append((org, [item]))

    def through_hub(
        self,
        subject: UUID,
        requester: str,
        hub: str,
        times: tuple[float, float, float, float, float],
        draft: dict[str, Any],
        assessment: dict[str, Any],
        forwarding: dict[str, Any],
        authority: Any = None,
    ) -> None:
        """A request's usual start: drafted and submitted by ``requester`` (signed by
        ``authority``), then received, assessed (to be forwarded) and forwarded by ``hub``;
        ``times``: each of the five steps' hours ago."""
        drafted, submitted, received, assessed, forwarded = times
        self.add(requester, drafted, "request.drafted", subject, draft, authority=authority)
        self.add(requester, submitted, "request.submitted", subject, authority=authority)
        self.add(hub, received, "request.received", subject)
        self.add(hub, assessed, "request.assessed", subject, {"forward": True, **assessment})
        self.add(hub, forwarded, "request.forwarded", subject, forwarding)

    def commit(
        self, org: str, hours_ago: float, subject: UUID, capacity: UUID, booking: str, quantity: int
    ) -> dict[str, str]:
        """``org`` commits ``quantity`` of ``capacity`` to line L1 of ``subject`` as the booking
        ``booking:<booking>``; answers the booking's key, as the deployment steps name it."""
        held = {"capacity_id": str(capacity), "booking_id": str(demo_id(f"booking:{booking}"))}
        data = {**held, "line_id": "L1", "quantity": quantity}
        self.add(org, hours_ago, "request.committed", subject, data)
        return held


def line(
    line_id: str, capability: str, quantity: int, effect: str, municipality: str
) -> dict[str, Any]:
    return {
        "line_id": line_id,
        "capability": capability,
        "quantity": quantity,
        "effect": effect,
        "location": municipality,
        "municipality": municipality,
    }


def build(now: datetime) -> Scenario:
    s = Scenario(now)
    # Capacities as the providers registered them (before the flood).
    s.add(
        "DEF-DOPS",
        30,
        "capacity.registered",
        CAP_TRANSPORT,
        {
            "capability": "DEF_EVACUATION_TRANSPORT",
            "quantity": 6,
            "name": "Evacuation trucks (guaranteed)",
            "capacity_class": "guaranteed",
            "notice_minutes": 240,
        },
    )
    s.add(
        "IFV",
        30,
        "capacity.registered",
        CAP_BLANKETS,
        {
            "capability": "IFV_BLANKETS",
            "quantity": 5000,
            "capacity_class": "guaranteed",
            "notice_minutes": 360,
        },
    )
    s.add(
        "IFV",
        30,
        "capacity.registered",
        CAP_SIS,
        {
            "capability": "SIS",
            "quantity": 1,
            "capacity_class": "by_agreement",
            "notice_minutes": 60,
        },
    )
    s.add(
        "POL-MN",
        30,
        "capacity.registered",
        CAP_ME,
        {
            "capability": "POLICE_ME",
            "quantity": 4,
            "home_region": "VR09",
            "capacity_class": "by_agreement",
        },
    )
    s.add(
        "KMAR",
        30,
        "capacity.registered",
        CAP_KMAR,
        {"capability": "KMAR_UNIT", "quantity": 3, "capacity_class": "by_agreement"},
    )
    s.add(
        "VR07",
        30,
        "capacity.registered",
        CAP_PUMPS_VR07,
        {
            "capability": "FIRE_WATER_SUPPLY",
            "quantity": 2,
            "home_region": "VR07",
            "capacity_class": "best_effort",
            "notice_minutes": 90,
        },
    )
    s.add(
        "VR09",
        30,
        "capacity.registered",
        CAP_PUMPS_VR09,
        {
            "capability": "FIRE_WATER_SUPPLY",
            "quantity": 6,
            "home_region": "VR09",
            "capacity_class": "best_effort",
            "notice_minutes": 90,
        },
    )
    s.add(
        "IFV",
        30,
        "capacity.registered",
        CAP_WATER_CANNON,
        {"capability": "JV_WATER_CANNON", "quantity": 2, "capacity_class": "by_agreement"},
        exercise=True,
    )

    # The flood: VR08 opens the incident; it spreads to Limburg-Noord and Brabant-Noord.
    s.add(
        "VR08",
        12,
        "incident.opened",
        FLOOD,
        {
            "title": "Hoogwater Maas en Waal",
            "regions": ["VR08"],
            "grip": "3",
            "phase": "warme",
            "municipalities": ["Nijmegen", "Beuningen", "Druten"],
            "description": "Dike at risk along the Waal near Beuningen; "
            "evacuation of polders prepared.",
        },
    )
    s.add("VR08", 10, "incident.regions_changed", FLOOD, {"regions": ["VR08", "VR23", "VR21"]})
    s.add("VR08", 9, "incident.grip_changed", FLOOD, {"grip": "4"})
    s.add(
        "VR08",
        8.5,
        "incident.situation_reported",
        FLOOD,
        {
            "summary": "Waal at 16.4 m +NAP at Nijmegen; Maas rising at Venlo. "
            "12,000 residents to evacuate."
        },
    )

    # 1. VR08: military assistance (art. 51 Wvr) for evacuation transport — decided, delivered.
    s.through_hub(
        TRANSPORT_VR08,
        "VR08",
        "LOCC",
        (8, 7.9, 7.7, 7.4, 7.3),
        {
            "kind": "military_art51",
            "title": "Evacuation transport Beuningen",
            "incident_id": str(FLOOD),
            "urgent": True,
            "lines": [
                line(
                    "L1",
                    "DEF_EVACUATION_TRANSPORT",
                    4,
                    "evacuate 3,000 residents of the polder",
                    "Beuningen",
                )
            ],
        },
        {
            "findings": "necessary; signed on behalf of the chair",
            "alternatives_checked": "no other region can bring trucks with fording depth in time",
        },
        {"to": ["DEF-DOPS"], "copies": ["DEF-DOC", "DEF-DJZ"]},
        authority=chair("VR08"),
    )
    s.add(
        "DEF-DOPS",
        6.8,
        "request.advised",
        TRANSPORT_VR08,
        {"favourable": True, "advice": "available and feasible"},
    )
    s.add(
        "DEF-DJZ",
        6.5,
        "request.advised",
        TRANSPORT_VR08,
        {"favourable": True, "advice": "art. 51 Wvr applies"},
    )
    s.add("DEF-CDS", 6, "request.decided", TRANSPORT_VR08, {"outcome": "granted"})
    booking_vr08 = s.commit("DEF-DOPS", 5.5, TRANSPORT_VR08, CAP_TRANSPORT, "vr08-transport", 4)
    s.add("DEF-DOPS", 5, "request.dispatched", TRANSPORT_VR08, booking_vr08)
    # VR08 records per line, without booking ids: 2 of the 4 trucks are on scene, 2 still on
    # their way (dispatched is not arrived: the picture shows both apart).
    s.add(
        "VR08",
        3,
        "request.arrived",
        TRANSPORT_VR08,
        {"line_id": "L1", "quantity": 2, "note": "handed over to CoPI Beuningen"},
    )

    # 2. VR23 competes for the same scarce Defence transport; the Minister decides priority.
    s.through_hub(
        TRANSPORT_VR23,
        "VR23",
        "LOCC",
        (5, 4.9, 4.5, 4.2, 4.1),
        {
            "kind": "military_art51",
            "title": "Evacuation transport Venlo",
            "incident_id": str(FLOOD),
            "lines": [
                line(
                    "L1",
                    "DEF_EVACUATION_TRANSPORT",
                    4,
                    "evacuate care homes along the Maas",
                    "Venlo",
                )
            ],
        },
        {"findings": "necessary", "alternatives_checked": "other regions' means committed"},
        {"to": ["DEF-DOPS"], "copies": ["DEF-DOC", "DEF-DJZ"]},
        authority=chair("VR23"),
    )
    s.add(
        "JV-MIN",
        3.5,
        "request.priority_decided",
        TRANSPORT_VR23,
        {
            "capability": "DEF_EVACUATION_TRANSPORT",
            "rank": 2,
            "reasons": "VR08 first: GRIP 4 dike breach risk; VR23 next as trucks come free",
        },
    )
    s.add(
        "DEF-DOPS",
        3,
        "request.advised",
        TRANSPORT_VR23,
        {"favourable": True, "advice": "2 trucks available now"},
    )

    # 3. VR08: IFV blankets (art. 51 Wvr), granted and delivered.
    s.through_hub(
        BLANKETS,
        "VR08",
        "LOCC",
        (7, 6.9, 6.7, 6.6, 6.5),
        {
            "kind": "region_art51",
            "title": "Blankets for evacuation centres",
            "incident_id": str(FLOOD),
            "lines": [
                line("L1", "IFV_BLANKETS", 2000, "keep evacuees warm in 4 shelters", "Nijmegen")
            ],
        },
        {"findings": "necessary"},
        {"to": ["IFV"]},
        authority=chair("VR08"),
    )
    s.add("IFV", 6.2, "request.decided", BLANKETS, {"outcome": "granted"})
    booking_blankets = s.commit("IFV", 6, BLANKETS, CAP_BLANKETS, "vr08-blankets", 2000)
    s.add("IFV", 5.5, "request.dispatched", BLANKETS, booking_blankets)
    s.add("VR08", 2.5, "request.arrived", BLANKETS, booking_blankets)

    # 4. VR08: SIS activation through LOCC by the officer of duty population care.
    s.through_hub(
        SIS,
        "VR08",
        "LOCC",
        (6, 5.9, 5.8, 5.7, 5.6),
        {
            "kind": "support",
            "title": "Activate SIS",
            "incident_id": str(FLOOD),
            "lines": [line("L1", "SIS", 1, "register and inform about evacuees", "Nijmegen")],
        },
        {"findings": "incident size and contact taken"},
        {"to": ["IFV"]},
        authority={"body": "population_care_officer", "of": "VR08"},
    )
    s.add("IFV", 5.4, "request.decided", SIS, {"outcome": "granted"})
    s.commit("IFV", 5.2, SIS, CAP_SIS, "vr08-sis", 1)

    # 5. POL-ON: police assistance (art. 56(1)) for cordons around the evacuated polder.
    s.through_hub(
        POLICE_ME,
        "POL-ON",
        "POL-LE",
        (6, 5.9, 5.7, 5.6, 5.5),
        {
            "kind": "police_art56_public_order",
            "title": "ME for cordons Beuningen",
            "incident_id": str(FLOOD),
            "lines": [line("L1", "POLICE_ME", 2, "keep the evacuated polder closed", "Beuningen")],
            "justifications": {
                "own_capacity_insufficient": "RCCB: all ME of Oost-Nederland deployed",
                "region_mayor_view": "the region-mayor supports",
            },
        },
        {"findings": "own capacity exhausted"},
        {"to": ["POL-MN"]},
        authority=mayor("Beuningen"),
    )
    s.add("POL-LE", 5, "request.decided", POLICE_ME, {"outcome": "granted"})
    s.commit("POL-MN", 4.5, POLICE_ME, CAP_ME, "pol-me", 2)

    # 6. POL-LB: KMar (art. 57(1)) for Venlo; DJZ's advice is awaited.
    s.through_hub(
        KMAR,
        "POL-LB",
        "LOCC",
        (4, 3.9, 3.6, 3.4, 3.3),
        {
            "kind": "kmar_art57_public_order",
            "title": "KMar for traffic control Venlo",
            "incident_id": str(FLOOD),
            "lines": [line("L1", "KMAR_UNIT", 1, "control evacuation routes", "Venlo")],
        },
        {"findings": "police need not be exhausted"},
        {"to": ["DEF-DJZ", "KMAR"], "copies": ["DEF-DOC"]},
        authority=mayor("Venlo"),
    )
    # LOCC's duty to inform the korpschef (factsheet politie §3) stays outstanding (see 9.).

    # 7. VR21: urgent request phoned in to LOCC; the signed form is still outstanding.
    s.add(
        "LOCC",
        1.5,
        "request.phoned_in",
        PUMPS_URGENT,
        {
            "kind": "region_art51",
            "requester": "VR21",
            "title": "Pumps for 's-Hertogenbosch",
            "incident_id": str(FLOOD),
            "lines": [
                line("L1", "FIRE_WATER_SUPPLY", 2, "pump out flooded tunnels", "'s-Hertogenbosch")
            ],
        },
        authority=chair("VR21"),
    )
    s.add("LOCC", 1.4, "request.received", PUMPS_URGENT)

    s.add(
        "LOCC",
        1,
        "incident.situation_reported",
        FLOOD,
        {"summary": "Evacuation Beuningen 70% complete; Venlo care homes waiting for transport."},
    )

    # 8. VR08: pumps for the Waal dike (art. 51 Wvr), covered by several providers: LOCC asks
    # VR07 for 2 and VR09 for 4; VR07 grants and its pumps are on their way, VR09 grants 2
    # and refuses 2, and LOCC forwards that remainder to VR06, whose decision is awaited.
    s.through_hub(
        PUMPS_SHARED,
        "VR08",
        "LOCC",
        (4.8, 4.7, 4.6, 4.5, 4.4),
        {
            "kind": "region_art51",
            "title": "High-capacity pumps Waal dike",
            "incident_id": str(FLOOD),
            "lines": [
                line("L1", "FIRE_WATER_SUPPLY", 6, "keep the polder behind the dike dry", "Druten")
            ],
        },
        {"findings": "necessary"},
        {
            "shares": [
                {"to": "VR07", "line_id": "L1", "quantity": 2},
                {"to": "VR09", "line_id": "L1", "quantity": 4},
            ]
        },
        authority=chair("VR08"),
    )
    s.add("VR07", 4.2, "request.decided", PUMPS_SHARED, {"outcome": "granted"})
    s.add(
        "VR09",
        4,
        "request.decided",
        PUMPS_SHARED,
        {
            "outcome": "partly_granted",
            "reasons": "two pumps stay for the Rijn at Arnhem",
            "granted": [{"line_id": "L1", "quantity": 2}],
        },
    )
    booking_pumps_vr07 = s.commit("VR07", 3.8, PUMPS_SHARED, CAP_PUMPS_VR07, "vr07-pumps", 2)
    s.add("VR07", 3.5, "request.dispatched", PUMPS_SHARED, booking_pumps_vr07)
    s.commit("VR09", 3.4, PUMPS_SHARED, CAP_PUMPS_VR09, "vr09-pumps", 2)
    s.add(
        "LOCC",
        3.2,
        "request.forwarded",
        PUMPS_SHARED,
        {"shares": [{"to": "VR06", "line_id": "L1", "quantity": 2}]},
    )

    # 9. A separate exercise: water cannon exercise in Haaglanden (no authority needed).
    s.add(
        "LOCC",
        20.5,
        "incident.opened",
        EXERCISE,
        {
            "title": "Oefening waterwerper Den Haag",
            "regions": ["VR15"],
            "grip": "0",
            "phase": "koude",
        },
        exercise=True,
    )
    s.add(
        "POL-DH",
        20,
        "request.drafted",
        WATER_CANNON,
        {
            "kind": "jv_asset",
            "task": "public_order",
            "title": "Water cannon exercise (oefening)",
            "incident_id": str(EXERCISE),
            "lines": [line("L1", "JV_WATER_CANNON", 1, "train crews", "'s-Gravenhage")],
        },
        exercise=True,
    )
    s.add("POL-DH", 19.9, "request.submitted", WATER_CANNON, exercise=True)
    s.add("LOCC", 19, "request.received", WATER_CANNON, exercise=True)

    # 9. Duties to inform (domain/duties.py), recorded last so that the steps above keep their
    # positions (the picture checkpoint tests count on them): DOPS informs LOCC and LOCC the
    # region of the CDS decision (factsheet bevolkingszorg §B.5); LE Preparatie informs LOCC
    # how the police assistance is delivered (factsheet politie §1). LOCC's duty to inform the
    # korpschef of the KMar request (§3) stays outstanding: the one duty on the board.
    s.add(
        "DEF-DOPS",
        5.95,
        "request.informed",
        TRANSPORT_VR08,
        {"duty": "dops_informs_locc", "to": "LOCC"},
    )
    s.add(
        "LOCC",
        5.9,
        "request.informed",
        TRANSPORT_VR08,
        {"duty": "locc_informs_region", "to": "VR08"},
    )
    s.add(
        "POL-LE",
        4.9,
        "request.informed",
        POLICE_ME,
        {"duty": "police_le_informs_locc", "to": "LOCC"},
    )
    return s


class DemoStore(Protocol):
    """What loading the demo needs of the application service."""

    def post(self, post: Post) -> Receipt: ...

    def subject_classification(self, stream_id: UUID) -> str | None: ...


def load_demo(service: DemoStore, now: datetime | None = None) -> int:
    """Record the demo once; returns how many events were recorded (0 if already there)."""
    if service.subject_classification(FLOOD) is not None:  # the flood is recorded
        return 0
    scenario = build(now or datetime.now(UTC))
    recorded = 0
    for org, items in scenario.steps:
        receipt = service.post(plan(principal_for(org), items))
        recorded += len(receipt.events)
    return recorded


def principal_for(org: str) -> Principal:
    return Principal(org=org, role=DEMO_ORGANISATIONS.get(org, "operator"))


def demo_items(now: datetime) -> Iterator[tuple[str, Item]]:
    for org, items in build(now).steps:
        for item in items:
            yield org, item
