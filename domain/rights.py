"""Who may take which step of which kind of request: organisation kind x request kind x step.

This table is data beside the rules; the API derives its rights (403) from the same table.
Parties are resolved per kind from :data:`domain.kinds.KIND_RULES`: the *requester* kinds, the
*hub* that receives and assesses, the *advisers*, the *deciders*, the *provider* of a capacity.
"""

from __future__ import annotations

from enum import Enum

from domain.duties import owner_kinds
from domain.envelope import Actor
from domain.errors import NotPermitted
from domain.kinds import ARMED_CHECK_BY, KIND_RULES, MINISTER_JV, KindRule, RequestKind
from domain.policy import ROLES, WRITER_ROLES
from domain.reference import organisation
from domain.stored import stored_as

#: Roles that record no operational steps: auditors and viewers read; admins manage tokens.
READ_ONLY_ROLES = frozenset(ROLES) - WRITER_ROLES

#: Organisation kinds that provide capacities (they commit only their own).
PROVIDER_KINDS: tuple[str, ...] = (
    "safety_region",
    "police_unit",
    "police_le",
    "kmar",
    "defence_dops",
    "defence_brigade",
    "defence_jfc",
    "ifv",
    "jv_locc",
    "nctv_db3",
    "ncc",
    "caribbean_body",
)


@stored_as("mlob:Step")
class Step(str, Enum):
    DRAFT = "draft"
    SUBMIT = "submit"
    PHONE_IN = "phone_in"
    FORMALISE = "formalise"
    AMEND = "amend"
    WITHDRAW = "withdraw"
    RECEIVE = "receive"
    CONFIRM_EXHAUSTION = "confirm_exhaustion"
    ASSESS = "assess"
    FORWARD = "forward"
    ADVISE = "advise"
    DECIDE = "decide"
    DECIDE_PRIORITY = "decide_priority"
    APPEAL = "appeal"
    DECIDE_APPEAL = "decide_appeal"
    MAKE_READY = "make_ready"
    COMMIT = "commit"
    DISPATCH = "dispatch"
    ARRIVE = "arrive"
    EXTEND = "extend"
    RELIEVE = "relieve"
    RELEASE = "release"
    RETURN = "return"
    CLOSE = "close"
    EVALUATE = "evaluate"
    VOID = "void"
    INFORM = "inform"


#: The party that voids a step: the organisation that recorded it (the request checks which).
RECORDER = "recorder"

#: Which parties take each step.
STEP_PARTIES: dict[Step, tuple[str, ...]] = {
    Step.DRAFT: ("requester",),
    Step.SUBMIT: ("requester",),
    Step.FORMALISE: ("requester",),
    Step.AMEND: ("requester",),
    Step.WITHDRAW: ("requester",),
    Step.APPEAL: ("requester",),
    Step.PHONE_IN: ("hub",),
    Step.RECEIVE: ("hub",),
    Step.ASSESS: ("hub",),
    Step.FORWARD: ("hub",),
    Step.CONFIRM_EXHAUSTION: ("exhaustion_checker",),
    # On an appeal (art. 56(4)) DGPOL advises the Minister: the route's appeal advisers.
    Step.ADVISE: ("adviser", "appeal_adviser"),
    Step.DECIDE: ("decider",),
    Step.DECIDE_PRIORITY: ("minister_jv",),
    Step.DECIDE_APPEAL: ("minister_jv",),
    Step.MAKE_READY: ("provider",),
    Step.COMMIT: ("provider",),
    Step.DISPATCH: ("provider",),
    Step.ARRIVE: ("provider", "requester"),
    Step.EXTEND: ("provider",),
    Step.RELIEVE: ("provider",),
    Step.RELEASE: ("provider", "requester"),
    Step.RETURN: ("provider",),
    Step.CLOSE: ("hub", "requester"),
    Step.EVALUATE: ("hub", "requester"),
    # A correction voids a step recorded in error: its recorder's, whoever that was (a
    # provider's decision is the provider's to correct, never the requester's: see parties()).
    Step.VOID: (RECORDER,),
    # Who owes a duty to inform on this kind (domain/duties.py).
    Step.INFORM: ("informer",),
}


#: Parties that take a step only on a request with an armed line: DJZ always checks armed
#: deployment, whatever the kind's own route says (eindmeting-icms-2013, lines ~1032-1047).
ARMED_STEP_PARTIES: dict[Step, tuple[str, ...]] = {Step.ADVISE: ("armed_checker",)}

#: Steps that exist only where a refusal may be appealed (art. 56(4)): on another kind nobody
#: takes them.
APPEAL_STEPS = frozenset({Step.APPEAL, Step.DECIDE_APPEAL})


def party_kinds(rule: KindRule, party: str) -> tuple[str, ...]:
    route = rule.route
    if party == "requester":
        return rule.requesters
    if party == "hub":
        return route.hub
    if party == "adviser":
        return route.advisers
    if party == "appeal_adviser":
        return route.appeal_advisers
    if party == "informer":
        return owner_kinds(rule.kind)
    if party == "exhaustion_checker":
        return (route.exhaustion_check_by,) if route.exhaustion_check_by else ()
    if party == "decider":
        kinds: list[str] = []
        for decider in route.deciders:
            if decider == "provider":
                kinds.extend(PROVIDER_KINDS)
            elif decider == "hub":
                kinds.extend(route.hub)
            else:
                kinds.append(decider)
        return tuple(dict.fromkeys(kinds))
    if party == "minister_jv":
        # The Minister decides; LOCC may record the decision on the Minister's authority.
        return ("jv_minister", "jv_locc")
    if party == "armed_checker":
        return ARMED_CHECK_BY
    if party == "provider":
        return PROVIDER_KINDS
    msg = f"unknown party {party!r}"
    raise ValueError(msg)


def parties(kind: RequestKind, step: Step, *, armed: bool = False) -> tuple[str, ...]:
    """The parties that take ``step`` on a request of ``kind`` (with an armed line or not)."""
    if step in APPEAL_STEPS and not KIND_RULES[kind].appealable:
        return ()
    if step is Step.VOID:  # the recorder of any other step
        return tuple(
            dict.fromkeys(
                p
                for other in Step
                if other is not Step.VOID
                for p in parties(kind, other, armed=armed)
            )
        )
    return (*STEP_PARTIES[step], *(ARMED_STEP_PARTIES.get(step, ()) if armed else ()))


def allowed_kinds(kind: RequestKind, step: Step, *, armed: bool = False) -> frozenset[str]:
    """Organisation kinds that may take ``step`` on a request of ``kind`` (``armed``: one with
    an armed line). The commands enforce exactly this; ``GET /v1/event-types`` publishes it."""
    rule = KIND_RULES[kind]
    return frozenset(
        k for party in parties(kind, step, armed=armed) for k in party_kinds(rule, party)
    )


def signers(kind: RequestKind, step: Step) -> tuple[str, ...]:
    """The authority bodies (domain.kinds.AUTHORITY_BODIES) that sign ``step`` on a request of
    ``kind``, beside who records it: the request itself by its competent authorities, an
    appeal by the body competent for the kind (art. 56(4)), the Minister's own decisions by
    ``minister_jv`` (LOCC records them on that authority). Empty: no signature is asked."""
    rule = KIND_RULES[kind]
    if step in (Step.DRAFT, Step.PHONE_IN, Step.SUBMIT, Step.FORMALISE):
        return rule.authorities
    if step is Step.APPEAL:
        return rule.appeal_authorities if rule.appealable else ()
    if step is Step.DECIDE_APPEAL:
        return (MINISTER_JV,) if rule.appealable else ()
    if step is Step.DECIDE_PRIORITY:
        return (MINISTER_JV,)
    return ()


def org_kind_of(actor: Actor) -> str:
    try:
        return organisation(actor.org).kind.value
    except KeyError:
        raise NotPermitted(
            "unknown_organisation",
            "mlob reference data",
            org=actor.org,
        ) from None


def require_writer(actor: Actor) -> str:
    """Refuse read-only roles; returns the actor's organisation kind."""
    if actor.role in READ_ONLY_ROLES:
        raise NotPermitted("read_only_role", "mlob rights table", role=actor.role)
    return org_kind_of(actor)


def require(actor: Actor, kind: RequestKind, step: Step, *, armed: bool = False) -> str:
    """Refuse unless ``actor`` may take ``step`` on a request of ``kind``; returns its org kind."""
    org_kind = require_writer(actor)
    if org_kind not in allowed_kinds(kind, step, armed=armed):
        rule = KIND_RULES[kind]
        if step in APPEAL_STEPS and not rule.appealable:
            raise NotPermitted(
                "step_not_permitted",
                "art. 56(4) Politiewet 2012; factsheet-bijstand-politie §9",
                text="not_appealable",
                kind=kind,
            )
        raise NotPermitted(
            "step_not_permitted",
            f"{rule.legal_basis}; {rule.source}",
            text=(
                "unarmed"
                if not armed and org_kind in allowed_kinds(kind, step, armed=True)
                else None
            ),
            actor=actor.org,
            org_kind=org_kind,
            step=step,
            kind=kind,
        )
    return org_kind
