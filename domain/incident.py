"""Incidents (*incident*, *ramp*, *crisis*): the operational context of requests (optional)."""

from __future__ import annotations

from enum import Enum
from typing import Any
from uuid import UUID

from domain.base import MlobAggregate
from domain.envelope import Actor, Envelope
from domain.errors import Conflict, DomainError, NotPermitted
from domain.reference import OrgKind, organisation, region
from domain.rights import require_writer
from domain.stored import stored_as

SOURCE = "domain.md (GRIP, phases); eindmeting-icms-2013"

#: Organisation kinds that keep the incident picture: the regions themselves, the hubs.
INCIDENT_KEEPERS = frozenset({"safety_region", "jv_locc", "ncc", "caribbean_body"})


@stored_as("mlob:GripLevel")
class GripLevel(str, Enum):
    """*Gecoördineerde Regionale Incidentbestrijdings Procedure*: scaling levels."""

    GRIP_0 = "0"
    GRIP_1 = "1"
    GRIP_2 = "2"
    GRIP_3 = "3"
    GRIP_4 = "4"
    GRIP_5 = "5"
    GRIP_RIJK = "rijk"

    @property
    def rank(self) -> int:
        return 6 if self is GripLevel.GRIP_RIJK else int(self.value)


@stored_as("mlob:Phase")
class Phase(str, Enum):
    """Crisis phases: *koude*, *lauwe*, *warme* fase and *nafase*."""

    COLD = "koude"
    LUKEWARM = "lauwe"
    WARM = "warme"
    AFTER = "nafase"


def _check_regions(regions: tuple[str, ...]) -> None:
    if not regions:
        raise DomainError("regions_required", SOURCE, pointer="/data/regions")
    for code in regions:
        try:
            region(code)
        except KeyError:
            raise DomainError(
                "unknown_region", SOURCE, text="incident", region=code, pointer="/data/regions"
            ) from None


def _check_keeper(actor: Actor, regions: tuple[str, ...]) -> None:
    kind = require_writer(actor)
    if kind not in INCIDENT_KEEPERS:
        raise NotPermitted(
            "step_not_permitted", SOURCE, text="incident", actor=actor.org, kind=kind
        )
    if kind == "safety_region" and actor.org not in regions:
        raise NotPermitted("not_own_region", SOURCE, actor=actor.org)


class Incident(MlobAggregate):
    """An incident, disaster or crisis (*incident*); requests may refer to one."""

    TOPIC = "mlob:Incident"

    class Created(MlobAggregate.Created):
        """Incident opened."""

        TOPIC = "mlob:Incident.Opened"
        title: str
        regions: tuple[str, ...]
        municipalities: tuple[str, ...]
        grip: GripLevel
        phase: Phase
        description: str

    class GripChanged(MlobAggregate.Event):
        TOPIC = "mlob:Incident.GripChanged"
        grip: GripLevel

        def apply(self, aggregate: Any) -> None:
            aggregate.grip = self.grip

    class PhaseChanged(MlobAggregate.Event):
        TOPIC = "mlob:Incident.PhaseChanged"
        phase: Phase

        def apply(self, aggregate: Any) -> None:
            aggregate.phase = self.phase

    class RegionsChanged(MlobAggregate.Event):
        TOPIC = "mlob:Incident.RegionsChanged"
        regions: tuple[str, ...]

        def apply(self, aggregate: Any) -> None:
            aggregate.regions = self.regions

    class SituationReported(MlobAggregate.Event):
        """Situation report (*situatierapport*, sitrep)."""

        TOPIC = "mlob:Incident.SituationReported"
        summary: str

        def apply(self, aggregate: Any) -> None:
            aggregate.latest_report = self.summary
            aggregate.reports += 1

    class Closed(MlobAggregate.Event):
        TOPIC = "mlob:Incident.Closed"
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.closed = True

    class Voided(MlobAggregate.Voided):
        TOPIC = "mlob:Incident.Voided"

    def __init__(
        self,
        title: str,
        regions: tuple[str, ...],
        municipalities: tuple[str, ...],
        grip: GripLevel,
        phase: Phase,
        description: str,
        envelope: Envelope,
    ) -> None:
        self.title = title
        self.regions = regions
        self.municipalities = municipalities
        self.grip = grip
        self.phase = phase
        self.description = description
        self.classification = envelope.classification
        self.latest_report: str | None = None
        self.reports = 0
        self.closed = False
        #: The safety region that opened it (None: opened nationally): it stays in the incident
        #: unless LOCC removes it.
        opener = envelope.actor.org
        self.opened_by: str | None = (
            opener if organisation(opener).kind is OrgKind.SAFETY_REGION else None
        )

    def regions_concerned(self) -> tuple[str, ...]:
        return self.regions

    @classmethod
    def open(
        cls,
        envelope: Envelope,
        subject: UUID,
        *,
        title: str,
        regions: tuple[str, ...],
        grip: GripLevel,
        phase: Phase = Phase.WARM,
        municipalities: tuple[str, ...] = (),
        description: str = "",
    ) -> Incident:
        if not title.strip():
            raise DomainError("title_required", SOURCE, pointer="/data/title")
        _check_regions(regions)
        _check_keeper(envelope.actor, regions)
        return cls._create(
            cls.Created,
            id=subject,
            envelope=envelope,
            title=title,
            regions=regions,
            municipalities=municipalities,
            grip=grip,
            phase=phase,
            description=description,
        )

    def _check_open(self, envelope: Envelope) -> None:
        _check_keeper(envelope.actor, self.regions)
        if self.closed:
            raise Conflict("incident_closed", SOURCE)

    def change_grip(self, envelope: Envelope, grip: GripLevel) -> None:
        self._check_open(envelope)
        if grip == self.grip:
            raise Conflict("no_change", SOURCE, text="grip", grip=grip)
        self.emit(self.GripChanged, envelope, grip=grip)

    def change_phase(self, envelope: Envelope, phase: Phase) -> None:
        self._check_open(envelope)
        if phase == self.phase:
            raise Conflict("no_change", SOURCE, text="phase", phase=phase)
        self.emit(self.PhaseChanged, envelope, phase=phase)

    def change_regions(self, envelope: Envelope, regions: tuple[str, ...]) -> None:
        """LOCC and the NCC change the regions as they see fit; a safety region in the incident
        may add regions and remove only itself; the opening region stays unless LOCC removes
        it (a co-region must never lock the opener out)."""
        self._check_open(envelope)
        _check_regions(regions)
        actor = envelope.actor.org
        kind = organisation(actor).kind.value
        removed = set(self.regions) - set(regions)
        opener = vars(self).get("opened_by")
        if opener in removed and kind != "jv_locc":
            raise NotPermitted("opener_stays", SOURCE, opener=opener)
        if kind == "safety_region" and removed - {actor}:
            raise NotPermitted("remove_only_yourself", SOURCE)
        self.emit(self.RegionsChanged, envelope, regions=regions)

    def report(self, envelope: Envelope, summary: str) -> None:
        self._check_open(envelope)
        if not summary.strip():
            raise DomainError("summary_required", SOURCE, pointer="/data/summary")
        self.emit(self.SituationReported, envelope, summary=summary)

    def close(self, envelope: Envelope, reason: str) -> None:
        self._check_open(envelope)
        self.emit(self.Closed, envelope, reason=reason)

    def correct(self, envelope: Envelope, target_version: int, reason: str) -> None:
        _check_keeper(envelope.actor, self.regions)
        self.void(envelope, target_version, reason)


#: The commands on an open incident and the event each records (:func:`open_steps`).
_OPEN_INCIDENT_STEPS = (
    ("change_grip", Incident.GripChanged),
    ("change_phase", Incident.PhaseChanged),
    ("change_regions", Incident.RegionsChanged),
    ("report", Incident.SituationReported),
    ("close", Incident.Closed),
)


def open_steps(incident: Incident, actor: Actor) -> list[tuple[str, str]]:
    """The steps ``actor`` could take on ``incident`` now, as (step, topic it records; a
    correction is ``void``, as on a request):
    those whose checks before their data pass — a keeper of this incident, the incident
    open, a correction only of the actor's own latest step. The data is checked when posted."""
    try:
        _check_keeper(actor, incident.regions)
    except DomainError:
        return []
    steps = [] if incident.closed else [(name, e.TOPIC) for name, e in _OPEN_INCIDENT_STEPS]
    if incident.voidable_version() is not None:
        try:
            incident.check_recorder(actor.org)
        except DomainError:
            return steps
        steps.append(("void", Incident.Voided.TOPIC))
    return steps
