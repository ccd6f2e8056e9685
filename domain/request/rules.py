"""The rules of an assistance request's steps that need no request: the legal sources cited in
refusals, which parties take which step, who provides a capability, and the checks of a
step's data (lines, authority, justifications, a partial grant, the Minister's decision).

Pure functions over :mod:`domain.kinds`, :mod:`domain.reference` and :mod:`domain.rights`;
each refusal is a :class:`~domain.errors.DomainError` with a stable code and its source.
"""

from __future__ import annotations

from typing import Any

from domain.envelope import Authority, Envelope
from domain.errors import DomainError, NotPermitted
from domain.kinds import (
    AUTHORITY_BODIES,
    CAPABILITY_HUBS,
    KIND_RULES,
    MINISTER_JV,
    MSOB_TASK_SOURCE,
    POLICE_TASKS,
    TASK_AUTHORITIES,
    Justification,
    KindRule,
    RequestKind,
    Task,
)
from domain.lifecycle import CREATING_STEPS, LIFECYCLE
from domain.reference import (
    OrgKind,
    area_of,
    capability,
    organisation,
    region,
    region_of_municipality,
)
from domain.request.events import RequestLine
from domain.rights import STEP_PARTIES, Step, signers

URGENCY = "factsheet-bijstand-politie §1, §3 (spoed: telefonisch, later geformaliseerd)"
ARMED = "eindmeting-icms-2013 (lines ~1032-1047): armed deployment needs a DJZ check"
DEPLOYMENT = "factsheet-bijstand-politie §3-§4: vooroverleg commits nothing; inzet na besluit"
APPEAL = "art. 56(4) Politiewet 2012; factsheet-bijstand-politie §9"
PRIORITY = (
    "domain.md §Settled questions: the Minister of J&V decides priority under scarcity as soon "
    "as requests compete (from submission on), on LOCC's advice"
)
TASK_AUTHORITY_SOURCE = "factsheet-bijstand-politie §2 (lines 228-231), §1, §6"
AUTHORITY_AREA = (
    "domain.md §Who acts: the authority is the competent body for the requester's area; "
    "annex to art. 8 Wvr (municipalities per safety region)"
)


def refuse(code: str, source: str, **how: Any) -> DomainError:
    """A refusal (422) of ``code`` citing ``source``; ``how`` is what
    :class:`~domain.errors.DomainError` takes besides (its text variant, its pointer, the
    parameters of its text)."""
    return DomainError(code, source, **how)


def hub_kinds_of(rule: KindRule, lines: dict[str, RequestLine]) -> tuple[str, ...]:
    """The hub for these lines: BTC goes through the NCC, containers and VRT through DB3."""
    special = {
        CAPABILITY_HUBS[line.capability]
        for line in lines.values()
        if line.capability in CAPABILITY_HUBS
    }
    if special:
        return tuple(k for k in rule.route.hub if k in special) or tuple(special)
    return rule.route.hub[:1]


def provides(org: str, capability_code: str) -> bool:
    """Whether ``org`` may provide this capability: the catalogue names its providers (no
    capacity of it can be registered by another), or any provider when it names none."""
    try:
        providers = capability(capability_code).providers
    except KeyError:
        return False
    return not providers or org in providers


# --- who takes which step ----------------------------------------------------------------------


def steps_of(*parties: str) -> frozenset[Step]:
    """The steps on a request taken by exactly these parties (:data:`STEP_PARTIES`)."""
    return frozenset(
        step
        for step, by in STEP_PARTIES.items()
        if set(by) == set(parties) and step not in CREATING_STEPS
    )


#: Steps only the requester takes on its own request; only the request's hub; either.
REQUESTER_STEPS = steps_of("requester")
HUB_STEPS = steps_of("hub")
HUB_OR_REQUESTER_STEPS = steps_of("hub", "requester")

STEP_SOURCES = {
    Step.FORMALISE: URGENCY,
    Step.APPEAL: APPEAL,
    Step.DECIDE_APPEAL: APPEAL,
    Step.DECIDE_PRIORITY: PRIORITY,
    Step.MAKE_READY: DEPLOYMENT,
    Step.RELEASE: DEPLOYMENT,
    Step.RETURN: DEPLOYMENT,
}


# --- the data of a step ------------------------------------------------------------------------


def check_lines(kind: RequestKind, lines: tuple[RequestLine, ...]) -> None:
    rule = KIND_RULES[kind]
    if not lines:
        raise refuse("lines_required", LIFECYCLE, pointer="/data/lines")
    seen: set[str] = set()
    for number, line in enumerate(lines):
        at = f"/data/lines/{number}"
        if line.line_id in seen:
            raise refuse("duplicate_line", LIFECYCLE, line_id=line.line_id, pointer=f"{at}/line_id")
        seen.add(line.line_id)
        if (
            not isinstance(line.quantity, int)
            or isinstance(line.quantity, bool)
            or line.quantity <= 0
        ):
            raise refuse(
                "quantity_not_positive",
                LIFECYCLE,
                text="line",
                line_id=line.line_id,
                pointer=f"{at}/quantity",
            )
        try:
            known = capability(line.capability)
        except KeyError:
            raise refuse(
                "unknown_capability",
                LIFECYCLE,
                capability=line.capability,
                pointer=f"{at}/capability",
            ) from None
        if known.request_kinds and kind.value not in known.request_kinds:
            raise refuse(
                "capability_not_for_kind",
                f"{rule.legal_basis}; {known.source}",
                capability=line.capability,
                kind=kind,
                pointer=f"{at}/capability",
            )
        if not line.effect.strip():
            raise refuse(
                "effect_required",
                "factsheet-bijstand-bevolkingszorg §B.5",
                line_id=line.line_id,
                pointer=f"{at}/effect",
            )
        if line.period_start and line.period_end and line.period_end <= line.period_start:
            raise refuse(
                "period_invalid",
                LIFECYCLE,
                text="line",
                line_id=line.line_id,
                pointer=f"{at}/period_end",
            )
        if line.automatic_weapons and not line.armed:
            raise refuse("inconsistent_line", ARMED, pointer=f"{at}/automatic_weapons")


def check_authority(
    rule: KindRule,
    authority: Authority | None,
    requester: str,
    exercise: bool,
    *,
    required: bool = False,
    task: Task | None = None,
) -> None:
    source = f"{rule.legal_basis}; {rule.source}"
    if authority is None:
        if rule.authority_optional_for_exercise and exercise and not required:
            return
        raise refuse(
            "authority_required",
            source,
            kind=rule.kind,
            authorities=rule.authorities,
            pointer="/authority",
        )
    if authority.body in rule.forbidden_authorities:
        raise refuse(
            "forbidden_authority",
            source,
            body=authority.body,
            kind=rule.kind,
            pointer="/authority/body",
        )
    if authority.body not in rule.authorities:
        raise refuse(
            "wrong_authority",
            source,
            text="not_competent",
            body=authority.body,
            kind=rule.kind,
            authorities=rule.authorities,
            pointer="/authority/body",
        )
    # Where the task is stated because the kind serves several (J&V assets), it decides who
    # signs; a kind whose task is derived (foreign police) takes either of its authorities.
    several = rule.task_required and len(rule.tasks) > 1
    competent = TASK_AUTHORITIES.get(task) if task and several else None
    if competent is not None and authority.body not in competent:
        raise refuse(
            "authority_not_for_task",
            f"{source}; {TASK_AUTHORITY_SOURCE}",
            kind=rule.kind,
            task=task,
            competent=[b for b in competent if b in rule.authorities],
            body=authority.body,
            pointer="/authority/body",
        )
    check_signer_of(authority, requester, source)


def check_signer_of(authority: Authority, requester: str, source: str) -> None:
    """What the authority's ``of`` names (domain.kinds.AUTHORITY_BODIES) must exist and lie in
    the requester's area: a region's chair signs only for that region's requests, a mayor's
    municipality lies in the requesting region or police unit's area."""
    body = AUTHORITY_BODIES.get(authority.body)
    if body is None:  # the kinds table names only known bodies (a unit test holds it to it)
        return
    area = area_of(requester)
    if body.of == "region":
        try:
            region(authority.of)
        except KeyError:
            raise refuse(
                "unknown_region", source, text="authority", of=authority.of, pointer="/authority/of"
            ) from None
        if area and authority.of not in area:
            raise refuse(
                "wrong_authority",
                source,
                text="acts_own_region",
                requester=requester,
                of=authority.of,
                pointer="/authority/of",
            )
    elif body.of == "municipality":
        try:
            municipality_region = region_of_municipality(authority.of)
        except KeyError:
            raise refuse(
                "unknown_municipality", AUTHORITY_AREA, of=authority.of, pointer="/authority/of"
            ) from None
        if area and municipality_region not in area:
            raise refuse(
                "wrong_authority",
                f"{source}; {AUTHORITY_AREA}",
                text="outside_area",
                body_name=body.dutch,
                of=authority.of,
                municipality_region=municipality_region,
                requester=requester,
                area=sorted(area),
                pointer="/authority/of",
            )
    elif body.of == "prosecutor_office":
        try:
            office = organisation(authority.of).kind
        except KeyError:
            office = None
        if office not in (OrgKind.OM_PROSECUTOR, OrgKind.OM_COLLEGE):
            raise refuse(
                "unknown_prosecutor_office", source, of=authority.of, pointer="/authority/of"
            )


def check_task(rule: KindRule, task: Task | None) -> None:
    """The task a request serves must be one its kind serves; MSOB is never for a police task
    (that goes via the Politiewet)."""
    if task is None or task in rule.tasks:
        return
    if task in POLICE_TASKS and rule.police_task_route:
        raise refuse(
            f"{rule.kind.value}_police_task",
            MSOB_TASK_SOURCE,
            kind=rule.kind,
            task=task,
            route=rule.police_task_route,
            pointer="/data/task",
        )
    raise refuse(
        "task_not_for_kind",
        f"{rule.legal_basis}; {rule.source}; domain.md §Settled questions (the task)",
        kind=rule.kind,
        tasks=[t.value for t in rule.tasks],
        task=task,
        pointer="/data/task",
    )


def require_stated_task(rule: KindRule, task: Task | None) -> None:
    """A posted request of a kind that serves several tasks (or MSOB, whose task must be
    stated) names its task; other kinds take their own."""
    if task is None and rule.task_required:
        raise refuse(
            "task_required",
            MSOB_TASK_SOURCE if rule.police_task_route else f"{rule.legal_basis}; {rule.source}",
            kind=rule.kind,
            tasks=[t.value for t in rule.tasks],
            pointer="/data/task",
        )


def check_justifications(
    rule: KindRule, given: dict[Justification, str], *, urgent: bool, lines: tuple[RequestLine, ...]
) -> None:
    source = f"{rule.legal_basis}; {rule.source}"
    for needed in rule.justifications:
        if urgent and needed in rule.urgent_skips:
            continue
        if not given.get(needed, "").strip():
            raise refuse(
                f"missing_justification_{needed.value}",
                source,
                pointer=f"/data/justifications/{needed.value}",
            )
    politiewet = "Politiewet" in rule.legal_basis
    if (
        politiewet
        and any(line.automatic_weapons for line in lines)
        and not given.get(Justification.PROSECUTOR_PERMISSION, "").strip()
    ):
        raise refuse(
            "missing_justification_prosecutor_permission",
            ARMED,
            text="automatic_weapons",
            pointer="/data/justifications/prosecutor_permission",
        )


def check_granted(lines: dict[str, RequestLine], granted: tuple[tuple[str, int], ...]) -> None:
    if not granted:
        raise refuse("granted_required", LIFECYCLE, pointer="/data/granted")
    for number, (line_id, quantity) in enumerate(granted):
        if line_id not in lines:
            raise refuse(
                "unknown_line",
                LIFECYCLE,
                text="line",
                line_id=line_id,
                pointer=f"/data/granted/{number}/line_id",
            )
        if quantity < 0 or quantity > lines[line_id].quantity:
            raise refuse(
                "granted_out_of_range",
                LIFECYCLE,
                text="line",
                line_id=line_id,
                asked=lines[line_id].quantity,
                pointer=f"/data/granted/{number}/quantity",
            )


def check_minister(
    envelope: Envelope, org_kind: str, kind: RequestKind, step: Step, source: str
) -> None:
    """The Minister of J&V's own decision: taken by the Minister, or recorded by LOCC signed
    by the body the rights table names for it (``minister_jv``)."""
    if org_kind == "jv_minister":
        return
    authority = envelope.authority
    bodies = signers(kind, step)
    if authority is None or authority.body not in bodies:
        raise NotPermitted(
            "wrong_decider",
            source,
            text="minister_signs",
            bodies=bodies or (MINISTER_JV,),
            pointer="/authority/body" if authority else "/authority",
        )


def check_appeal_authority(
    rule: KindRule, authority: Authority | None, requester: str, source: str
) -> None:
    """Art. 56(4): the body competent for the kind appeals: the mayor for public order
    (56(1)), the (chief) public prosecutor for criminal justice (56(2))."""
    bodies = signers(rule.kind, Step.APPEAL)
    if authority is None or authority.body not in bodies:
        raise refuse(
            "wrong_authority",
            source,
            text="appeal",
            kind=rule.kind,
            bodies=bodies,
            body=authority.body if authority else None,
            pointer="/authority/body" if authority else "/authority",
        )
    check_signer_of(authority, requester, source)
