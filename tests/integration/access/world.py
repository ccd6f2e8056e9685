"""The world of the access test (issue 16, "Proof: a generated access test").

Readers of every kind at several clearances, and a store seeded through ``POST /v1/events``
with *canaries*: a unique marker (``CANARY-<hex>``) in every free-text field and every message
id, and the id of every subject and booking. Each canary records who may see it, decided by
the rule of ``domain/policy.py``: a reader sees it only when cleared for the step's level (the
higher of the step's own marking and its subject's, :func:`domain.policy.step_level`) and the
subject lies within the reader's scope (:func:`domain.policy.in_scope`). The concerns (regions
and organisations involved) of every subject are written out here by hand from the rule, not
taken from the code under test.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from fastapi.testclient import TestClient

from domain import policy
from domain.envelope import Classification
from domain.policy import Concerns

UNCL = Classification.UNCLASSIFIED
DV = Classification.DEPARTMENTAL_CONFIDENTIAL
GEHEIM = Classification.STATE_SECRET_SECRET
ZG = Classification.STATE_SECRET_TOP_SECRET


@dataclass(frozen=True)
class Reader:
    """A token's principal as the policy sees it (``domain.policy.Reader``)."""

    org: str
    role: str
    clearance: Classification

    @property
    def label(self) -> str:
        return f"{self.org}/{self.role}/{self.clearance.value}"


def _readers() -> tuple[Reader, ...]:
    kinds = (
        ("INSP-JENV", "auditor"),  # a national auditor
        ("VR08", "coordinator"),  # a region's coordinator, own region
        ("VR05", "coordinator"),  # another region's coordinator
        ("VR08", "operator"),  # a region's operator
        ("VR08", "auditor"),  # a role only narrows: VR08's scope
        ("VR08", "viewer"),
        ("VR08", "admin"),
        ("IFV", "operator"),  # the involved provider (forwarded to, booked with, provides)
        ("POL-MN", "operator"),  # an uninvolved provider
    )
    return (
        *(Reader("LOCC", "coordinator", level) for level in Classification),  # national
        *(Reader(org, role, level) for org, role in kinds for level in (UNCL, GEHEIM)),
    )


READERS = _readers()

Audience = Callable[[Reader], bool]


def within(level: int, concerns: Concerns) -> Audience:
    """Readers cleared for ``level`` with the subject in their scope."""
    return lambda r: policy.cleared(r, level) and policy.in_scope(r, concerns)


def nobody(_: Reader) -> bool:
    return False


def level_of(rank: int) -> Classification:
    return next(c for c in Classification if c.rank == rank)


PLURAL = {"incident": "incidents", "request": "requests", "capacity": "capacities"}

#: What a canary looks like in any text: a marker, an id, or an id's bare hex.
NEEDLES = re.compile(
    r"canary-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|[0-9a-f]{32}",
    re.IGNORECASE,
)

#: Canary kinds whose text is an id: searched for as ``str(uuid)`` and as its bare hex.
ID_KINDS = frozenset({"id", "booking_id", "token_id", "subscription_id"})


@dataclass(frozen=True)
class Canary:
    value: str  # the marker, or the id as text
    what: str  # for the report: "REQ_S decision reasons"
    kind: str  # text | message_id | refused_message | id | booking_id | token_label | token_id
    level: Classification  # the effective classification of where it was written
    audience: Audience  # who may see it
    shown_in: str | None = None  # a route whose answer must show it ...
    shown_to: Audience = nobody  # ... to these readers
    subject: str = ""  # the seed name of the subject it was written in

    @property
    def needles(self) -> tuple[str, ...]:
        text = self.value.lower()
        return (text, UUID(text).hex) if self.kind in ID_KINDS else (text,)


@dataclass
class Subject:
    name: str
    type: str  # incident | request | capacity
    id: UUID
    classification: Classification
    concerns: Concerns
    #: Where the subject's id may legitimately show: its own (level, concerns) and those of the
    #: subjects that name it (a request its incident, a booking its request and capacity).
    contexts: list[tuple[int, Concerns]] = field(default_factory=list)

    def visible_to(self, reader: Reader) -> bool:
        return policy.may_see(reader, self.classification, self.concerns)

    def id_visible_to(self, reader: Reader) -> bool:
        return any(within(level, concerns)(reader) for level, concerns in self.contexts)

    @property
    def path(self) -> str:
        """Its detail route."""
        return f"/v1/{PLURAL[self.type]}/{self.id}"


def chair(region: str) -> dict[str, str]:
    return {"body": "chair_safety_region", "of": region, "capacity": "namens"}


class Seed:
    """Posts the seed through the HTTP API and registers every canary it writes."""

    def __init__(
        self, client: TestClient, issue: Callable[[str, str, Classification, str], Any]
    ) -> None:
        self.client = client
        self.issue = issue  # (org, role, clearance, label) -> IssuedToken
        self.canaries: list[Canary] = []
        self.subjects: dict[str, Subject] = {}
        self.tokens: dict[tuple[str, str, Classification], str] = {}
        self.token_ids: dict[tuple[str, str, Classification], UUID] = {}
        #: Each seeded subscription (issue 24) by its organisation.
        self.subscriptions: dict[str, UUID] = {}
        self.clock = datetime.now(UTC) - timedelta(hours=3)
        self.midway = datetime.now(UTC)

    @staticmethod
    def marker() -> str:
        return f"CANARY-{uuid4().hex}"

    # --- tokens ----------------------------------------------------------------------------

    def token(self, org: str, role: str, clearance: Classification) -> str:
        """A token (issued once), its label and id registered as canaries: seen by the
        national organisations and by the token's own organisation, listed by the
        administrators who may manage it."""
        key = (org, role, clearance)
        if key not in self.tokens:
            label = self.marker()
            issued = self.issue(org, role, clearance, label)

            def audience(r: Reader) -> bool:
                return r.org in policy.NATIONAL_ORGS or r.org == org

            def managers(r: Reader) -> bool:
                return policy.may_manage_tokens_of(r, org) and clearance.rank <= r.clearance.rank

            what = f"token {org}/{role}/{clearance.value}"
            self.canaries += [
                Canary(
                    label, f"{what} label", "token_label", UNCL, audience, "/v1/tokens", managers
                ),
                Canary(str(issued.token_id), f"{what} id", "token_id", UNCL, audience),
            ]
            self.tokens[key] = issued.token
            self.token_ids[key] = issued.token_id
        return self.tokens[key]

    def headers(self, org: str, role: str, clearance: Classification) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(org, role, clearance)}"}

    # --- subjects and their canaries -------------------------------------------------------

    def subject(
        self,
        name: str,
        type_: str,
        classification: Classification,
        regions: tuple[str, ...],
        orgs: set[str],
    ) -> Subject:
        subject = Subject(name, type_, uuid4(), classification, Concerns(regions, frozenset(orgs)))
        subject.contexts.append((classification.rank, subject.concerns))
        self.subjects[name] = subject
        self.canaries.append(
            Canary(
                str(subject.id),
                f"{name} id",
                "id",
                classification,
                subject.id_visible_to,
                subject.path,
                subject.visible_to,
                name,
            )
        )
        return subject

    def names(self, named: Subject, by: Subject, step: Classification = UNCL) -> None:
        """``by`` names ``named``'s id (at ``by``'s level or the step's)."""
        named.contexts.append((policy.step_level(step, by.classification), by.concerns))

    def text(
        self, subject: Subject, what: str, step: Classification = UNCL, shown: bool = False
    ) -> str:
        """A marker for one text field of a step on ``subject``; ``shown``: the subject's
        detail shows it to everyone who may see it."""
        value = self.marker()
        rank = policy.step_level(step, subject.classification)
        audience = within(rank, subject.concerns)
        self.canaries.append(
            Canary(
                value,
                f"{subject.name} {what}",
                "text",
                level_of(rank),
                audience,
                subject.path if shown else None,
                audience if shown else nobody,
                subject.name,
            )
        )
        return value

    def booking(
        self, request: Subject, capacity: Subject, step: Classification, shown_in_capacity: bool
    ) -> UUID:
        """A booking id, seen with its request and its capacity; the request names the
        capacity and the capacity the request."""
        booking_id = uuid4()
        rank = policy.step_level(
            step, level_of(max(request.classification.rank, capacity.classification.rank))
        )
        by_request = within(rank, request.concerns)
        by_capacity = within(rank, capacity.concerns)
        self.canaries.append(
            Canary(
                str(booking_id),
                f"booking {request.name}->{capacity.name} id",
                "booking_id",
                level_of(rank),
                lambda r: by_request(r) or by_capacity(r),
                capacity.path if shown_in_capacity else request.path,
                by_capacity if shown_in_capacity else by_request,
                request.name,
            )
        )
        capacity.contexts.append((rank, request.concerns))
        request.contexts.append((rank, capacity.concerns))
        return booking_id

    def post(
        self,
        org: str,
        type_: str,
        subject: Subject,
        data: dict[str, Any] | None = None,
        *,
        marking: Classification | None = None,
        authority: dict[str, str] | None = None,
        expected_version: int | None = None,
        expect: int = 201,
    ) -> None:
        """Post one step as ``org`` (cleared for everything); its message id is a canary."""
        role = "coordinator" if org in policy.NATIONAL_ORGS else "operator"
        message_id = self.marker()
        rank = policy.step_level(marking or UNCL, subject.classification)
        audience = within(rank, subject.concerns)
        if expect == 201:  # a step: its timeline shows its message id to auditing readers
            kind, shown_in = "message_id", f"{subject.path}/timeline"
            roles = policy.AUDIT_ROLES
        else:  # a refused attempt: the rejection log shows it to auditors and administrators
            kind, shown_in = "refused_message", "/v1/rejections"
            roles = policy.REJECTION_ROLES

        def shown_to(r: Reader) -> bool:
            return r.role in roles and audience(r)

        self.canaries.append(
            Canary(
                message_id,
                f"{subject.name} {type_} message id" + (" (refused)" if expect != 201 else ""),
                kind,
                level_of(rank),
                audience,
                shown_in,
                shown_to,
                subject.name,
            )
        )
        self.clock += timedelta(minutes=1)
        body: dict[str, Any] = {
            "type": type_,
            "subject": str(subject.id),
            "message_id": message_id,
            "occurred_at": self.clock.isoformat(),
            "data": data or {},
        }
        if marking is not None:
            body["classification"] = marking.value
        if authority is not None:
            body["authority"] = authority
        if expected_version is not None:
            body["expected_version"] = expected_version
        response = self.client.post("/v1/events", json=body, headers=self.headers(org, role, ZG))
        assert response.status_code == expect, (
            f"seeding {type_} on {subject.name} as {org}: {response.status_code} {response.text}"
        )

    def line(
        self,
        request: Subject,
        capability: str,
        quantity: int,
        municipality: str,
        step: Classification = UNCL,
    ) -> dict[str, Any]:
        return {
            "line_id": self.text(request, "line id", step, shown=True),
            "capability": capability,
            "quantity": quantity,
            "effect": self.text(request, "line effect", step, shown=True),
            "location": self.text(request, "line location", step, shown=True),
            "municipality": municipality,
        }


#: Per reader organisation: the feed channel and the (unclassified, in-scope) marker subject
#: whose arrival on that channel shows a replay has reached the end of the seed.
MARKER_CHANNELS = {
    "LOCC": ("national", "M_VR08"),
    "INSP-JENV": ("national", "M_VR08"),
    "VR08": ("region:VR08", "M_VR08"),
    "VR05": ("region:VR05", "M_VR05"),
    "IFV": ("provider:IFV", "M_IFV"),
    "POL-MN": ("provider:POL-MN", "M_POLMN"),
}


def seed_world(s: Seed) -> None:
    """The seed: unclassified subjects of VR08 and of VR23, classified subjects at three
    levels, classified steps on unclassified subjects, refused attempts, and the markers."""
    for reader in READERS:  # every reader's token first (its label is a canary too)
        s.token(reader.org, reader.role, reader.clearance)
    for org in ("VR08", "VR05"):  # tokens to revoke in the token-route probes
        s.token(org, "operator", DV)

    # --- capacities --------------------------------------------------------------------------
    # IFV's blankets, booked for VR08: the provider is involved. The requester sees the booking
    # in its request, not the capacity (whose bookings name other requesters' requests).
    cap_ifv = s.subject("CAP_IFV", "capacity", UNCL, (), {"IFV"})
    s.post(
        "IFV",
        "capacity.registered",
        cap_ifv,
        {
            "capability": "IFV_BLANKETS",
            "quantity": 5000,
            "name": s.text(cap_ifv, "name", shown=True),
            "capacity_class": "guaranteed",
        },
    )
    cap_zg = s.subject("CAP_ZG", "capacity", ZG, (), {"IFV"})
    s.post(
        "IFV",
        "capacity.registered",
        cap_zg,
        {"capability": "IFV_BLANKETS", "quantity": 7, "name": s.text(cap_zg, "name", shown=True)},
        marking=ZG,
    )
    cap_dv = s.subject("CAP_DV", "capacity", DV, (), {"DEF-DOPS"})
    s.post(
        "DEF-DOPS",
        "capacity.registered",
        cap_dv,
        {
            "capability": "DEF_EVACUATION_TRANSPORT",
            "quantity": 3,
            "name": s.text(cap_dv, "name", shown=True),
        },
        marking=DV,
    )

    # --- incidents ---------------------------------------------------------------------------
    def opened(subject: Subject, region: str, step: Classification = UNCL) -> dict[str, Any]:
        return {
            "title": s.text(subject, "title", step, shown=True),
            "regions": [region],
            "grip": "2",
            "phase": "warme",
            "municipalities": [s.text(subject, "municipality", step, shown=True)],
            "description": s.text(subject, "description", step),
        }

    inc_a = s.subject("INC_A", "incident", UNCL, ("VR08",), {"VR08"})
    s.post("VR08", "incident.opened", inc_a, opened(inc_a, "VR08"))
    s.post("VR08", "incident.grip_changed", inc_a, {"grip": "3"})
    s.post("VR08", "incident.situation_reported", inc_a, {"summary": s.text(inc_a, "plain sitrep")})
    # Classified steps on the open unclassified incident: a secret report and phase change.
    s.post(
        "VR08",
        "incident.situation_reported",
        inc_a,
        {"summary": s.text(inc_a, "secret sitrep", GEHEIM, shown=True)},
        marking=GEHEIM,
    )
    s.post("VR08", "incident.phase_changed", inc_a, {"phase": "lauwe"}, marking=GEHEIM)
    time.sleep(0.01)
    s.midway = datetime.now(UTC)  # for the picture as of a moment within the seed
    time.sleep(0.01)

    inc_b = s.subject("INC_B", "incident", UNCL, ("VR23",), {"VR23"})
    s.post("VR23", "incident.opened", inc_b, opened(inc_b, "VR23"))

    inc_s = s.subject("INC_S", "incident", GEHEIM, ("VR08",), {"VR08"})
    s.post("VR08", "incident.opened", inc_s, opened(inc_s, "VR08"), marking=GEHEIM)
    # Unmarked, on a secret subject: as secret as its subject.
    s.post(
        "VR08",
        "incident.situation_reported",
        inc_s,
        {"summary": s.text(inc_s, "sitrep", shown=True)},
    )

    inc_zg = s.subject("INC_ZG", "incident", ZG, ("VR08",), {"LOCC"})
    s.post("LOCC", "incident.opened", inc_zg, opened(inc_zg, "VR08"), marking=ZG)

    # --- requests ----------------------------------------------------------------------------
    def draft(
        org: str,
        request: Subject,
        line: dict[str, Any],
        incident: Subject,
        marking: Classification | None = None,
    ) -> None:
        """``org`` drafts a region's request with ``line`` on ``incident``, its chair signing."""
        s.names(incident, request)
        data = {
            "kind": "region_art51",
            "title": s.text(request, "title", shown=True),
            "incident_id": str(incident.id),
            "lines": [line],
        }
        s.post(org, "request.drafted", request, data, authority=chair(org), marking=marking)

    def through_hub(request: Subject, org: str, marking: Classification | None = None) -> None:
        s.post(org, "request.submitted", request, authority=chair(org), marking=marking)
        s.post("LOCC", "request.received", request, marking=marking)

    def assessed_and_forwarded(request: Subject, marking: Classification | None = None) -> None:
        step = marking or UNCL
        s.post(
            "LOCC",
            "request.assessed",
            request,
            {
                "forward": True,
                "findings": s.text(request, "assessment findings", step),
                "alternatives_checked": s.text(request, "alternatives checked", step),
            },
            marking=marking,
        )
        s.post("LOCC", "request.forwarded", request, {"to": ["IFV"]}, marking=marking)

    def forwarded_to_ifv(name: str, quantity: int) -> tuple[Subject, dict[str, Any]]:
        """An unclassified request of VR08 on incident A for IFV's blankets, drafted, through
        the hub and forwarded to IFV; and its line."""
        request = s.subject(name, "request", UNCL, ("VR08",), {"VR08", "LOCC", "IFV"})
        line = s.line(request, "IFV_BLANKETS", quantity, "Nijmegen")
        draft("VR08", request, line, inc_a)
        through_hub(request, "VR08")
        assessed_and_forwarded(request)
        return request, line

    # A: granted by IFV and booked on IFV's blankets (all unclassified).
    req_a, line_a = forwarded_to_ifv("REQ_A", 300)
    s.post(
        "IFV",
        "request.decided",
        req_a,
        {"outcome": "granted", "reasons": s.text(req_a, "decision reasons", shown=True)},
    )
    booking_a = s.booking(req_a, cap_ifv, UNCL, shown_in_capacity=False)
    s.post(
        "IFV",
        "request.committed",
        req_a,
        {
            "capacity_id": str(cap_ifv.id),
            "booking_id": str(booking_a),
            "line_id": line_a["line_id"],
            "quantity": 200,
        },
    )

    # B: received, then refused by a secret assessment (uncleared readers: still received).
    req_b = s.subject("REQ_B", "request", UNCL, ("VR08",), {"VR08", "LOCC"})
    line_b = s.line(req_b, "IFV_BLANKETS", 300, "Nijmegen")
    draft("VR08", req_b, line_b, inc_a)
    through_hub(req_b, "VR08")
    s.post(
        "LOCC",
        "request.assessed",
        req_b,
        {"forward": False, "findings": s.text(req_b, "secret assessment findings", GEHEIM)},
        marking=GEHEIM,
    )

    # C: forwarded to IFV, then refused by a secret decision with reasons.
    req_c, _ = forwarded_to_ifv("REQ_C", 400)
    s.post(
        "IFV",
        "request.decided",
        req_c,
        {"outcome": "refused", "reasons": s.text(req_c, "secret decision reasons", GEHEIM, True)},
        marking=GEHEIM,
    )

    # S: a secret request on the unclassified incident, granted and booked (a secret booking)
    # on IFV's unclassified blankets. Its submission is left unmarked: as secret as its subject.
    req_s = s.subject("REQ_S", "request", GEHEIM, ("VR08",), {"VR08", "LOCC", "IFV"})
    line_s = s.line(req_s, "IFV_BLANKETS", 100, "Nijmegen")
    draft("VR08", req_s, line_s, inc_a, GEHEIM)
    s.post("VR08", "request.submitted", req_s, authority=chair("VR08"))
    s.post("LOCC", "request.received", req_s, marking=GEHEIM)
    assessed_and_forwarded(req_s, GEHEIM)
    s.post(
        "IFV",
        "request.decided",
        req_s,
        {"outcome": "granted", "reasons": s.text(req_s, "decision reasons", shown=True)},
        marking=GEHEIM,
    )
    booking_s = s.booking(req_s, cap_ifv, GEHEIM, shown_in_capacity=True)
    s.post(
        "IFV",
        "request.committed",
        req_s,
        {
            "capacity_id": str(cap_ifv.id),
            "booking_id": str(booking_s),
            "line_id": line_s["line_id"],
            "quantity": 100,
        },
        marking=GEHEIM,
    )

    # An unclassified step after the secret booking on the same capacity: it answers the
    # capacity's latest message (the secret one) and must not name it to uncleared readers.
    s.post(
        "IFV",
        "capacity.quantity_changed",
        cap_ifv,
        {"quantity": 5100, "reason": s.text(cap_ifv, "quantity reason")},
    )

    # DV: a departmentally confidential request of VR08, submitted.
    req_dv = s.subject("REQ_DV", "request", DV, ("VR08",), {"VR08"})
    line_dv = s.line(req_dv, "IFV_BLANKETS", 10, "Nijmegen")
    draft("VR08", req_dv, line_dv, inc_a, DV)
    s.post("VR08", "request.submitted", req_dv, authority=chair("VR08"), marking=DV)

    # VR23's request on its own incident: out of every other region's scope.
    req_vr23 = s.subject("REQ_VR23", "request", UNCL, ("VR23",), {"VR23", "LOCC"})
    line_vr23 = s.line(req_vr23, "IFV_BLANKETS", 9000, "Venlo")
    draft("VR23", req_vr23, line_vr23, inc_b)
    through_hub(req_vr23, "VR23")

    # --- refused attempts (the rejection log) --------------------------------------------------
    s.post("VR08", "request.submitted", req_s, authority=chair("VR08"), marking=GEHEIM, expect=409)
    s.post("VR08", "incident.grip_changed", inc_a, {"grip": "4"}, expected_version=999, expect=409)

    # --- markers: the last events, one in each reader organisation's scope ---------------------
    m_vr08 = s.subject("M_VR08", "incident", UNCL, ("VR08",), {"VR08"})
    s.post("VR08", "incident.opened", m_vr08, {"title": "marker", "regions": ["VR08"], "grip": "1"})
    m_vr05 = s.subject("M_VR05", "incident", UNCL, ("VR05",), {"VR05"})
    s.post("VR05", "incident.opened", m_vr05, {"title": "marker", "regions": ["VR05"], "grip": "1"})
    m_ifv = s.subject("M_IFV", "capacity", UNCL, (), {"IFV"})
    s.post("IFV", "capacity.registered", m_ifv, {"capability": "IFV_SHELTER_SETS", "quantity": 1})
    m_polmn = s.subject("M_POLMN", "capacity", UNCL, (), {"POL-MN"})
    s.post("POL-MN", "capacity.registered", m_polmn, {"capability": "POLICE_ME", "quantity": 1})


LIVE_MARKER_CHANNELS = {org: (c, "L_" + name[2:]) for org, (c, name) in MARKER_CHANNELS.items()}


def seed_subscriptions(s: Seed) -> None:
    """A subscription of VR08 and one of VR05, each made by its administrator at
    departementaal vertrouwelijk, a canary in its URL: seen by who may manage it (the
    organisation's administrators and operators cleared for it) and in the history by the
    national auditors cleared for it; by nobody else."""
    for org in ("VR08", "VR05"):
        marker = s.marker()
        answer = s.client.post(
            "/v1/subscriptions",
            json={"url": f"https://127.0.0.1:9/{marker}", "channels": ["national"]},
            headers=s.headers(org, "admin", DV),
        )
        assert answer.status_code == 201, answer.text

        def audience(r: Reader, org: str = org) -> bool:
            managers = r.org == org and r.role in ("admin", "operator")
            auditors = r.role == "auditor" and r.org in policy.NATIONAL_ORGS
            return (managers or auditors) and r.clearance.rank >= DV.rank

        def managers(r: Reader, org: str = org) -> bool:
            return r.org == org and r.role in ("admin", "operator") and r.clearance.rank >= 1

        what = f"{org}'s subscription"
        s.canaries += [
            Canary(marker, f"{what} url", "text", DV, audience, "/v1/subscriptions", managers),
            Canary(answer.json()["id"], f"{what} id", "subscription_id", DV, audience),
        ]
        s.subscriptions[org] = UUID(answer.json()["id"])


def live_steps(s: Seed) -> None:
    """Steps recorded while feed connections are open (the live path): secret steps on
    unclassified subjects, an out-of-scope step, then the live markers."""
    inc_a, cap_ifv, req_vr23 = (s.subjects[n] for n in ("INC_A", "CAP_IFV", "REQ_VR23"))
    summary = s.text(inc_a, "live secret sitrep", GEHEIM)
    s.post("VR08", "incident.situation_reported", inc_a, {"summary": summary}, marking=GEHEIM)
    s.post("VR08", "incident.grip_changed", inc_a, {"grip": "4"}, marking=GEHEIM)
    s.post(
        "IFV",
        "capacity.availability_changed",
        cap_ifv,
        {"unavailable": 5, "reason": s.text(cap_ifv, "live secret unavailability", GEHEIM)},
        marking=GEHEIM,
    )
    # Unclassified, answering the secret step before it.
    reason = s.text(cap_ifv, "live quantity reason")
    s.post("IFV", "capacity.quantity_changed", cap_ifv, {"quantity": 5200, "reason": reason})
    s.post(
        "LOCC",
        "request.assessed",
        req_vr23,
        {"forward": True, "findings": s.text(req_vr23, "live assessment findings")},
    )
    for region in ("VR08", "VR05"):
        marker = s.subject(f"L_{region}", "incident", UNCL, (region,), {region})
        s.post(
            region, "incident.opened", marker, {"title": "live", "regions": [region], "grip": "1"}
        )
    for org, capability in (("IFV", "IFV_SHELTER_SETS"), ("POL-MN", "POLICE_ME")):
        marker = s.subject(f"L_{org.replace('-', '')}", "capacity", UNCL, (), {org})
        s.post(org, "capacity.registered", marker, {"capability": capability, "quantity": 1})


#: What readers not cleared for the secret steps must see of the subjects they changed.
#: (subject, key) -> the value before the secret step.
BEFORE_SECRET_STEPS: dict[tuple[str, str], Any] = {
    ("INC_A", "phase"): "warme",
    ("INC_A", "grip"): "3",
    ("CAP_IFV", "unavailable"): 0,
    ("REQ_B", "status"): "received",
    ("REQ_B", "step"): "received",
    ("REQ_B", "outcome"): None,
    ("REQ_C", "status"): "forwarded",
    ("REQ_C", "step"): "forwarded",
    ("REQ_C", "outcome"): None,
    ("REQ_C", "decisions"): [],
}
