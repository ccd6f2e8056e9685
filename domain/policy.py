"""Need to know (*need to know*): the one access policy. Every read path, feed frame, error
message and outgoing message asks this module; nothing else decides who sees what.

The rule (``shared/domain.md``, settled questions, "Need to know"):

- **Scope follows the organisation, never the role.** The national organisations
  (:data:`NATIONAL_ORGS`) see the nation. A safety region sees its own region's incidents and
  requests, the requests it made or acts in, and national totals without other regions'
  details. Any other organisation sees what it requested, was forwarded, was asked to advise on
  or to confirm exhaustion for (LE Preparatie: an art. 58 draft too), was informed of, is
  booked with, or provides. A role only narrows.
- **Clearance.** A reader sees a subject only when cleared for its classification, and within a
  visible subject only the steps at or below its clearance and the state those steps produce
  (:func:`step_level`: a step is as classified as the higher of its own marking and its
  subject's). Where figures must add up, what hidden steps hold is shown as *withheld*.
- **Acting needs seeing.** A subject the actor may not read does not exist for the actor.
- **Messages.** A step names the messages it answers and belongs to (its threading); a message
  carried by a step above the reader's clearance is never named (:func:`name_threads`).

Pure: no web, persistence or database code.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any, Protocol

from domain.envelope import Classification
from domain.kinds import ARMED_CHECK_BY
from domain.recorded import MessageFact
from domain.reference import OrgKind, organisation, organisations

SOURCE = "domain.md: need to know"

#: The organisations that coordinate or oversee nationally and so see the nation: LOCC, the
#: ministry's crisis and police directorates and the Minister, NCTV, NCC, and the two auditors.
NATIONAL_ORGS = frozenset(
    {"LOCC", "JV-OZI", "JV-DGPOL", "JV-MIN", "NCTV-DB3", "NCC", "INSP-JENV", "DEF-AUDIT"}
)
#: LOCC runs the installation: its administrators manage every organisation's tokens.
INSTALLATION_ORGS = frozenset({"LOCC"})

#: Roles a token can carry. Operators and coordinators record steps for their organisation;
#: auditors and viewers only read; admins manage tokens and record no operational steps.
ROLES = ("operator", "coordinator", "auditor", "viewer", "admin")
WRITER_ROLES = frozenset({"operator", "coordinator"})
#: Who may read the audit trail (history, stats) of what is in their scope.
AUDIT_ROLES = frozenset({"auditor", "coordinator", "admin"})
#: Who may read the rejection log (refused attempts) of what is in their scope.
REJECTION_ROLES = frozenset({"auditor", "admin"})
#: Who may acknowledge an alert to its organisation (recorded with who did).
ACK_ROLES = WRITER_ROLES | {"admin"}

#: Feed channel kinds; ``national`` and ``views`` take no value, the others one.
CHANNEL_KINDS = ("national", "region", "provider", "incident", "request", "capability", "views")
MAX_CHANNEL_LENGTH = 128


class Reader(Protocol):
    """Whoever reads or acts: an organisation, a role and a clearance (a token's principal)."""

    @property
    def org(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def clearance(self) -> Classification: ...


class ScopeKind(str, Enum):
    NATIONAL = "national"
    REGION = "region"
    ORGANISATION = "org"


@dataclass(frozen=True)
class Scope:
    """What part of the nation a reader's organisation sees."""

    kind: ScopeKind
    org: str
    region: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "org": self.org, "region": self.region}


def scope_of(reader: Reader) -> Scope:
    """The reader's scope, from its organisation alone (a role never widens it)."""
    if reader.org in NATIONAL_ORGS:
        return Scope(ScopeKind.NATIONAL, reader.org, None)
    try:
        known = organisation(reader.org)
    except KeyError:
        return Scope(ScopeKind.ORGANISATION, reader.org, None)
    if known.kind is OrgKind.SAFETY_REGION and known.region:
        return Scope(ScopeKind.REGION, reader.org, known.region)
    return Scope(ScopeKind.ORGANISATION, reader.org, known.region)


def is_national(reader: Reader) -> bool:
    return scope_of(reader).kind is ScopeKind.NATIONAL


# --- levels ------------------------------------------------------------------------------------


def level(classification: Classification | str) -> int:
    """A classification as a number: 0 (ongerubriceerd) up to 4 (Stg. Zeer Geheim)."""
    return Classification(classification).rank


def reader_level(reader: Reader) -> int:
    return reader.clearance.rank


def cleared(reader: Reader, classification: Classification | str | int) -> bool:
    """Whether the reader's clearance covers a classification (or a level)."""
    wanted = classification if isinstance(classification, int) else level(classification)
    return wanted <= reader.clearance.rank


def step_level(step: Classification | str, subject: Classification | str) -> int:
    """A step is as classified as the higher of its own marking and its subject's."""
    return max(level(step), level(subject))


def classification_at(at: int) -> Classification:
    """The classification of a level."""
    return next(c for c in Classification if c.rank == at)


def highest(classifications: Iterable[Classification | str]) -> Classification:
    top = max((level(c) for c in classifications), default=0)
    return next(c for c in Classification if c.rank == top)


# --- subjects ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Concerns:
    """What a subject concerns, for scope: its regions and the organisations involved."""

    regions: tuple[str, ...]
    orgs: frozenset[str]


def in_scope(reader: Reader, concerns: Concerns) -> bool:
    """Whether the subject lies within the reader's scope (clearance aside)."""
    return _admits(scope_of(reader), concerns.regions, concerns.orgs)


def _admits(scope: Scope, regions: Collection[str], orgs: Collection[str]) -> bool:
    """:func:`in_scope`'s rule, for a subject concerning ``regions`` and involving ``orgs``."""
    if scope.kind is ScopeKind.NATIONAL:
        return True
    if scope.org in orgs:
        return True
    return scope.kind is ScopeKind.REGION and scope.region in regions


def may_see(reader: Reader, classification: Classification | str, concerns: Concerns) -> bool:
    """Whether the reader may see a subject (or a step at that level within it)."""
    return cleared(reader, classification) and in_scope(reader, concerns)


def may_see_step(
    reader: Reader, step_level: int, kind: str, regions: tuple[str, ...], orgs: Mapping[str, int]
) -> bool:
    """Whether the reader may see a recorded step of a stream of ``kind`` ("request",
    "capacity", "incident") at ``step_level``, the stream concerning ``regions`` (the step's)
    and involving ``orgs``: each organisation with the lowest level at which a step involved
    it. What the stream concerns is judged at the reader's level: an organisation a step above
    it involved is not the reader's business; a capacity's home region is not its region's
    business. Asked of every event the live feed and the webhooks send."""
    if not cleared(reader, step_level):
        return False
    at = reader_level(reader)
    involved = frozenset(o for o, level in orgs.items() if level <= at)
    return in_scope(reader, Concerns(() if kind == "capacity" else regions, involved))


def classification_of(subject: Any) -> Classification:
    """A subject's classification (subjects without one, such as tokens: ongerubriceerd)."""
    found = getattr(subject, "classification", Classification.UNCLASSIFIED)
    return found if isinstance(found, Classification) else Classification.UNCLASSIFIED


def may_see_subject(reader: Reader, subject: Any) -> bool:
    """Whether the reader may see a subject, from its state (as the reader's level shows it)."""
    concerns = Concerns(scope_regions(subject), involved(subject))
    return may_see(reader, classification_of(subject), concerns)


def concerns_of_row(row: Mapping[str, Any]) -> Concerns:
    """A projection row's concerns (every row carries ``regions`` and ``involved``)."""
    return Concerns(tuple(row.get("regions") or ()), frozenset(row.get("involved") or ()))


def may_see_row(reader: Reader, row: Mapping[str, Any]) -> bool:
    return row_judge(reader)(row)


def row_judge(reader: Reader) -> Callable[[Mapping[str, Any]], bool]:
    """:func:`may_see_row` for one reader, its scope and clearance worked out once (a list
    of rows asks it per row: working out the scope per row was a fifth of the read models'
    time in a picture as of a moment at a million events)."""
    scope, rank = scope_of(reader), reader.clearance.rank

    def judge(row: Mapping[str, Any]) -> bool:
        return level(row["classification"]) <= rank and _admits(
            scope, row.get("regions") or (), row.get("involved") or ()
        )

    return judge


def scope_keys(reader: Reader) -> frozenset[str] | None:
    """The reader's scope as keys a store can filter rows on (None: the nation, every row):
    a row lies within the scope when its :func:`row_keys` share one of these. The same rule as
    :func:`in_scope`, stated as data, so a list preselects in SQL; :func:`may_see_row` still
    judges every row it returns."""
    scope = scope_of(reader)
    if scope.kind is ScopeKind.NATIONAL:
        return None
    keys = {f"org:{reader.org}"}
    if scope.kind is ScopeKind.REGION and scope.region:
        keys.add(region_key(scope.region))
    return frozenset(keys)


def region_key(region: str) -> str:
    """The key of a row that concerns a region (also what ``region=`` filters on)."""
    return f"region:{region}"


def row_keys(row: Mapping[str, Any]) -> list[str]:
    """A projection row's scope keys: its involved organisations and its regions (see
    :func:`scope_keys`)."""
    concerns = concerns_of_row(row)
    return sorted({f"org:{o}" for o in concerns.orgs} | {region_key(r) for r in concerns.regions})


def _orgs_of_kinds(kinds: Iterable[str]) -> frozenset[str]:
    return _orgs_of(frozenset(kinds))


@cache
def _orgs_of(kinds: frozenset[str]) -> frozenset[str]:
    # The reference data is fixed for the process: every projection row asks this.
    return frozenset(o.code for o in organisations() if o.kind.value in kinds)


def involved(subject: Any) -> frozenset[str]:
    """The organisations a subject involves, from its state: a request's requester, every
    organisation that acted in it, those it was forwarded to or copied on, booked with or
    informed of
    (``request.informed``), and those its
    route names to receive, advise, confirm exhaustion or decide (from the draft on); an
    incident's actors; a capacity's provider only (its bookings name other organisations'
    requests: a requester sees them in its own request); a token's organisation."""
    topic = getattr(type(subject), "TOPIC", "")
    if topic == "mlob:Capacity":
        return frozenset({subject.provider})
    if topic in ("mlob:AccessToken", "mlob:Subscription"):
        return frozenset({subject.org})
    orgs: set[str] = set(vars(subject).get("_actors", ()))
    if topic == "mlob:AssistanceRequest":
        orgs.add(subject.requester)
        orgs.update(subject.forwarded_to)
        orgs.update(vars(subject).get("copied_to", ()))  # copied on a forward
        orgs.update(booking.provider for booking in subject.bookings.values())
        # Informed of it (a duty to inform, domain/duties.py): it sees what it was told of.
        orgs |= subject.informed_orgs
        orgs |= route_parties(subject.rule.route)
        if subject.armed:  # DJZ always checks armed deployment (domain.kinds.ARMED_CHECK_BY)
            orgs |= _orgs_of_kinds(ARMED_CHECK_BY)
    return frozenset(orgs)


def route_parties(route: Any) -> frozenset[str]:
    """The organisations a request kind's route names to receive, advise, confirm exhaustion
    and decide (domain.kinds.Route): involved in such a request from the draft on."""
    kinds = (*route.hub, *route.advisers, *route.deciders)
    if route.exhaustion_check_by:
        kinds = (*kinds, route.exhaustion_check_by)
    return _orgs_of_kinds(kinds)


_NO_REGIONS = ("mlob:Capacity", "mlob:AccessToken", "mlob:Subscription")


def scope_regions(subject: Any) -> tuple[str, ...]:
    """The regions whose safety region a subject lies within: a request's and an incident's
    regions; none for a capacity (its home region does not make its bookings the region's)."""
    if getattr(type(subject), "TOPIC", "") in _NO_REGIONS:
        return ()
    return tuple(subject.regions_concerned())


# --- messages ----------------------------------------------------------------------------


#: The threading fields of an event that name other messages (EDXL-RM's conversation), and
#: where the message they name is given as ``{org, message_id}``.
THREAD_FIELDS = (("causation_id", "causation"), ("correlation_id", "correlation"))


def name_threads(
    body: dict[str, Any], facts: Mapping[str, Sequence[MessageFact]], reader_level: int
) -> None:
    """Name the messages an event's threading fields point at as ``{org, message_id}``
    (messages are each organisation's own) when a step of the event's own stream carries it
    (one the reader sees the subject of); a message of that stream above the reader's clearance
    is never named: both fields are null for it. A message of another stream (a booking
    answers its request's message; a client may name any id as its correlation) is given
    unresolved (``org`` null), and null when any step carrying that id lies above the reader's
    clearance (never a hidden message's id; a client-chosen correlation can still probe
    whether such an id exists: see the README)."""
    stream = body["stream_id"]
    for field, named in THREAD_FIELDS:
        message_id = body.get(field)
        if message_id is None:
            body[named] = None
            continue
        found = facts.get(message_id, [])
        fact = next((f for f in found if f.stream_id == stream), None)
        if fact is None:
            hidden = any(f.level > reader_level for f in found)
            body[field] = None if hidden else message_id
            body[named] = None if hidden else {"org": None, "message_id": message_id}
            continue
        if fact.level > reader_level:
            body[field] = body[named] = None
        else:
            body[named] = {"org": fact.org, "message_id": message_id}


# --- rights beside reading ---------------------------------------------------------------------


def may_read_audit(reader: Reader) -> bool:
    """History and statistics (each within the reader's scope and clearance)."""
    return reader.role in AUDIT_ROLES


def may_read_rejections(reader: Reader) -> bool:
    return reader.role in REJECTION_ROLES


def may_acknowledge(reader: Reader) -> bool:
    return reader.role in ACK_ROLES


def may_read_access_log(reader: Reader) -> bool:
    """The read-access log: auditors of national organisations only."""
    return reader.role == "auditor" and is_national(reader)


def may_manage_tokens_of(reader: Reader, org: str) -> bool:
    """Administrators manage their own organisation's tokens; LOCC's, who run the
    installation, every organisation's."""
    return reader.role == "admin" and (org == reader.org or reader.org in INSTALLATION_ORGS)


def may_subscribe(reader: Reader, channel: str) -> bool:
    """Whether a feed channel is open to the reader (its frames are still filtered per item)."""
    if len(channel) > MAX_CHANNEL_LENGTH:
        return False
    kind, _, value = channel.partition(":")
    if kind not in CHANNEL_KINDS or (bool(value) == (kind in ("national", "views"))):
        return False
    scope = scope_of(reader)
    if scope.kind is ScopeKind.NATIONAL:
        return True
    if kind == "region":
        return value == scope.region
    if kind == "provider":
        return value == reader.org
    return True  # the rest is filtered per item by what the reader may see


# --- tokens ------------------------------------------------------------------------------------

#: Roles every organisation may hold.
COMMON_ROLES = frozenset({"operator", "coordinator", "viewer", "admin"})
#: The refusals of :func:`issue_refusal`, with why (each a stable error code).
#: The codes of a refused token step (their texts: ``<code>.token`` in domain/refusals.py).
TOKEN_REFUSALS = ("admin_only", "not_own_organisation", "clearance_above_own", "role_not_held")


def roles_for(org: str) -> frozenset[str]:
    """The roles an organisation's tokens may carry.

    Every organisation may hold ``operator``, ``coordinator``, ``viewer`` and ``admin`` (the
    rights table still decides which steps its operators and coordinators may record).
    ``auditor`` only the national organisations (:data:`NATIONAL_ORGS`, the two auditing
    bodies among them) and the safety regions, which oversee what is in their scope; other
    organisations' audit trails are read by the national auditors. An organisation the
    reference data does not know holds no role.
    """
    if org in NATIONAL_ORGS:
        return frozenset(ROLES)
    try:
        known = organisation(org)
    except KeyError:
        return frozenset()
    if known.kind is OrgKind.SAFETY_REGION:
        return frozenset(ROLES)
    return COMMON_ROLES


def may_manage_token(reader: Reader, org: str, clearance: Classification | str) -> bool:
    """Whether the reader may see (list) and revoke a token of ``org`` at ``clearance``: an
    administrator of that organisation (LOCC's: of any) cleared at least as high. Any other
    token does not exist for the reader."""
    return may_manage_tokens_of(reader, org) and cleared(reader, clearance)


def may_see_token(reader: Reader, org: str, clearance: Classification | str) -> bool:
    """A token's issuing and revocation, in the history: for whoever may manage it, and for
    the national auditors cleared for it (who could act when is audited)."""
    return may_manage_token(reader, org, clearance) or audits_settings(reader, clearance)


def audits_settings(reader: Reader, clearance: Classification | str) -> bool:
    """The national auditors cleared for it see who could act or was told what, when: the
    history of tokens and subscriptions, which only their managers see otherwise."""
    return reader.role == "auditor" and is_national(reader) and cleared(reader, clearance)


def issue_refusal(
    reader: Reader, org: str, role: str, clearance: Classification | str
) -> str | None:
    """Why the reader may not issue a token for ``org`` with ``role`` and ``clearance`` (a key
    of :data:`TOKEN_REFUSALS`), or None when it may: an administrator issues tokens only for
    its own organisation (LOCC's for any), never cleared above itself, and only with a role
    the organisation may hold (:func:`roles_for`)."""
    if reader.role != "admin":
        return "admin_only"
    if not may_manage_tokens_of(reader, org):
        return "not_own_organisation"
    if not cleared(reader, clearance):
        return "clearance_above_own"
    if role not in roles_for(org):
        return "role_not_held"
    return None


# --- subscriptions (issue 24) ------------------------------------------------------------------

#: Who manages an organisation's subscriptions (signed webhooks): its administrators and its
#: operators (the desk that runs its systems).
SUBSCRIPTION_ROLES = frozenset({"admin", "operator"})
#: The refusals of :func:`subscription_refusal`, with why (each a stable error code).
#: The codes of a refused subscription step (their texts: ``<code>.subscription`` in
#: domain/refusals.py).
SUBSCRIPTION_REFUSALS = ("role_not_permitted", "clearance_above_own")


def may_manage_subscription(reader: Reader, org: str, clearance: Classification | str) -> bool:
    """Whether the reader may see, change and delete a subscription of ``org`` at
    ``clearance``: an administrator or operator of that organisation cleared at least as high.
    Any other subscription does not exist for the reader."""
    return reader.role in SUBSCRIPTION_ROLES and org == reader.org and cleared(reader, clearance)


def may_see_subscription(reader: Reader, org: str, clearance: Classification | str) -> bool:
    """A subscription's steps, in the history: for whoever may manage it, and for the national
    auditors cleared for it (who was told what, from when, is audited)."""
    return may_manage_subscription(reader, org, clearance) or audits_settings(reader, clearance)


def subscription_refusal(reader: Reader, org: str, clearance: Classification | str) -> str | None:
    """Why the reader may not make a subscription for ``org`` at ``clearance`` (a key of
    :data:`SUBSCRIPTION_REFUSALS`), or None: its own organisation's, as an administrator or
    operator, never cleared above the reader's token."""
    if reader.role not in SUBSCRIPTION_ROLES or org != reader.org:
        return "role_not_permitted"
    if not cleared(reader, clearance):
        return "clearance_above_own"
    return None


# --- feed limits -------------------------------------------------------------------------------

#: Channels one feed connection may hold in total (every subscription together); a name is at
#: most :data:`MAX_CHANNEL_LENGTH` characters.
MAX_CHANNELS = 100
