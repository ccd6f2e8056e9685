"""The rules of an assistance request's steps that need no request: the legal sources cited in
refusals, which parties take which step, who provides a capability, and the checks of a
step's data (lines, authority, justifications, a partial grant, the Minister's decision).

Pure functions over :mod:`domain.kinds`, :mod:`domain.reference` and :mod:`domain.rights`;
each refusal is a :class:`~domain.errors.DomainError` with a stable code and its source.
"""

from __future__ import annotations

from domain.envelope import Authority, Envelope
from domain.errors import DomainError, NotPermitted
from domain.kinds import CAPABILITY_HUBS, KIND_RULES, Justification, KindRule, RequestKind
from domain.lifecycle import CREATING_STEPS, LIFECYCLE
from domain.reference import capability, organisation, region_of_municipality
from domain.request.events import RequestLine
from domain.rights import STEP_PARTIES, Step

URGENCY = "factsheet-bijstand-politie §1, §3 (spoed: telefonisch, later geformaliseerd)"
ARMED = "eindmeting-icms-2013 (lines ~1032-1047): armed deployment needs a DJZ check"
DEPLOYMENT = "factsheet-bijstand-politie §3-§4: vooroverleg commits nothing; inzet na besluit"
APPEAL = "art. 56(4) Politiewet 2012; factsheet-bijstand-politie §9"
PRIORITY = "domain.md: under scarcity the Minister of J&V decides priority on LOCC's advice"


def refuse(code: str, reason: str, source: str) -> DomainError:
    return DomainError(code, reason, source)


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
        raise refuse("lines_required", "a request asks for at least one capability", LIFECYCLE)
    seen: set[str] = set()
    for line in lines:
        if line.line_id in seen:
            raise refuse("duplicate_line", f"line {line.line_id} appears twice", LIFECYCLE)
        seen.add(line.line_id)
        if (
            not isinstance(line.quantity, int)
            or isinstance(line.quantity, bool)
            or line.quantity <= 0
        ):
            raise refuse(
                "quantity_not_positive",
                f"line {line.line_id}: quantity must be positive",
                LIFECYCLE,
            )
        try:
            known = capability(line.capability)
        except KeyError:
            raise refuse(
                "unknown_capability", f"{line.capability} is not in the catalogue", LIFECYCLE
            ) from None
        if known.request_kinds and kind.value not in known.request_kinds:
            raise refuse(
                "capability_not_for_kind",
                f"{line.capability} is not requested as {kind.value}",
                f"{rule.legal_basis}; {known.source}",
            )
        if not line.effect.strip():
            raise refuse(
                "effect_required",
                f"line {line.line_id}: state the effect wanted; regions ask for effects, not units",
                "factsheet-bijstand-bevolkingszorg §B.5",
            )
        if line.period_start and line.period_end and line.period_end <= line.period_start:
            raise refuse(
                "period_invalid",
                f"line {line.line_id}: the period ends before it starts",
                LIFECYCLE,
            )
        if line.automatic_weapons and not line.armed:
            raise refuse("inconsistent_line", "automatic weapons imply an armed deployment", ARMED)


def check_authority(
    rule: KindRule,
    authority: Authority | None,
    requester: str,
    exercise: bool,
    *,
    required: bool = False,
) -> None:
    source = f"{rule.legal_basis}; {rule.source}"
    if authority is None:
        if rule.authority_optional_for_exercise and exercise and not required:
            return
        raise refuse(
            "authority_required",
            f"a {rule.kind.value} request is signed by or on behalf of: "
            f"{', '.join(rule.authorities)}",
            source,
        )
    if authority.body in rule.forbidden_authorities:
        raise refuse(
            "forbidden_authority",
            f"a {authority.body} may not request {rule.kind.value}",
            source,
        )
    if authority.body not in rule.authorities:
        raise refuse(
            "wrong_authority",
            f"{authority.body} is not competent for {rule.kind.value}; "
            f"competent: {', '.join(rule.authorities)}",
            source,
        )
    requester_org = organisation(requester)
    if authority.body in ("chair_safety_region",) and authority.of != requester:
        raise refuse(
            "wrong_authority",
            f"{requester} acts only on its own chair's authority, not {authority.of}'s",
            source,
        )
    if authority.body in ("mayor",) and requester_org.kind.value == "safety_region":
        try:
            municipality_region = region_of_municipality(authority.of)
        except KeyError:
            raise refuse(
                "unknown_municipality", f"{authority.of} is not a known municipality", source
            ) from None
        if municipality_region != requester:
            raise refuse(
                "wrong_authority",
                f"the mayor of {authority.of} ({municipality_region}) "
                f"does not sign for {requester}",
                source,
            )


JUSTIFICATION_HINTS = {
    Justification.NO_MARKET_ALTERNATIVE: "state why no market party (or civil means) can do it",
    Justification.OWN_CAPACITY_INSUFFICIENT: "state that the own unit's capacity is insufficient",
    Justification.POLICE_EXHAUSTED_OR_SPECIALISM: (
        "state that police capacity is exhausted or the specialism is missing at police and KMar"
    ),
    Justification.REGION_MAYOR_VIEW: "attach the region-mayor's view (not needed when urgent)",
    Justification.PROSECUTOR_PERMISSION: "attach the public prosecutor's permission",
}


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
                JUSTIFICATION_HINTS[needed],
                source,
            )
    politiewet = "Politiewet" in rule.legal_basis
    if (
        politiewet
        and any(line.automatic_weapons for line in lines)
        and not given.get(Justification.PROSECUTOR_PERMISSION, "").strip()
    ):
        raise refuse(
            "missing_justification_prosecutor_permission",
            "automatic weapons under the Politiewet need the public prosecutor's permission",
            ARMED,
        )


def check_granted(lines: dict[str, RequestLine], granted: tuple[tuple[str, int], ...]) -> None:
    if not granted:
        raise refuse(
            "granted_required", "a partial grant states what is granted per line", LIFECYCLE
        )
    for line_id, quantity in granted:
        if line_id not in lines:
            raise refuse("unknown_line", f"the request has no line {line_id}", LIFECYCLE)
        if quantity < 0 or quantity > lines[line_id].quantity:
            raise refuse(
                "granted_out_of_range",
                f"line {line_id}: 0..{lines[line_id].quantity} can be granted",
                LIFECYCLE,
            )


def check_minister(envelope: Envelope, org_kind: str, source: str) -> None:
    if org_kind == "jv_minister":
        return
    authority = envelope.authority
    if authority is None or authority.body != "minister_jv":
        raise NotPermitted(
            "wrong_decider",
            "this is the Minister of J&V's decision; "
            "LOCC records it only on the Minister's authority",
            source,
        )
