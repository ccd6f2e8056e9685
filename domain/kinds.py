"""The kinds of assistance request (*bijstandsaanvraag*) and the law behind each.

Who may request, what must be justified, who assesses and who decides, as data: the rules in
:mod:`domain.request` and the rights in :mod:`domain.rights` read this table, never literals.
Sources: ``../shared/seeds`` (factsheets, LOCC bijstandsloket) as summarised in domain.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from domain.stored import stored_as

POLICE_FACTSHEET = "factsheet-bijstand-politie"
POPULATION_CARE_FACTSHEET = "factsheet-bijstand-bevolkingszorg"


@stored_as("mlob:RequestKind")
class RequestKind(str, Enum):
    REGION_ART51 = "region_art51"
    MILITARY_ART51 = "military_art51"
    MSOB = "msob"
    SUPPORT = "support"
    POLICE_ART56_PUBLIC_ORDER = "police_art56_public_order"
    POLICE_ART56_CRIMINAL = "police_art56_criminal"
    KMAR_ART57_PUBLIC_ORDER = "kmar_art57_public_order"
    KMAR_ART57_CRIMINAL = "kmar_art57_criminal"
    MILITARY_ART58_PUBLIC_ORDER = "military_art58_public_order"
    MILITARY_ART58_CRIMINAL = "military_art58_criminal"
    JV_ASSET = "jv_asset"
    FOREIGN_POLICE = "foreign_police"


@stored_as("mlob:Justification")
class Justification(str, Enum):
    """Statements a kind of request must contain before it can be submitted."""

    #: MSOB: why no market party (and no civil means) can deliver, in time or sufficiently.
    NO_MARKET_ALTERNATIVE = "no_market_alternative"
    #: Art. 56: the own unit's capacity is insufficient (checked via RCCB).
    OWN_CAPACITY_INSUFFICIENT = "own_capacity_insufficient"
    #: Art. 58: police (and KMar) capacity is exhausted, or the specialism is missing there.
    POLICE_EXHAUSTED_OR_SPECIALISM = "police_exhausted_or_specialism"
    #: Art. 56: the region-mayor's view (*zienswijze regioburgemeester*), except when urgent.
    REGION_MAYOR_VIEW = "region_mayor_view"
    #: Automatic weapons under the Politiewet: the public prosecutor's permission.
    PROSECUTOR_PERMISSION = "prosecutor_permission"


@stored_as("mlob:Task")
class Task(str, Enum):
    """The task a request serves (domain.md, settled questions): crisis management (Wvr),
    public order or criminal justice (Politiewet), or a public-interest task (MSOB)."""

    CRISIS_MANAGEMENT = "crisis_management"
    PUBLIC_ORDER = "public_order"
    CRIMINAL_JUSTICE = "criminal_justice"
    PUBLIC_INTEREST = "public_interest"


#: The police's tasks: what the Politiewet 2012 governs (art. 56-58).
POLICE_TASKS = (Task.PUBLIC_ORDER, Task.CRIMINAL_JUSTICE)

#: MSOB is for public-interest tasks a market party could in principle do; a police task goes
#: via the Politiewet (police factsheet §11, lines 669-677; population-care factsheet note 8,
#: lines 433-435, and §1 lines 62-69: "niet zijnde een crisisbeheersingstaak").
MSOB_TASK_SOURCE = (
    "factsheet-bijstand-politie §11 (lines 669-677); "
    "factsheet-bijstand-bevolkingszorg note 8 (lines 433-435), lines 62-69"
)


@dataclass(frozen=True)
class AuthorityBody:
    """A competent body that signs (*door of namens*) and what its ``of`` names."""

    code: str
    dutch: str
    #: What ``Authority.of`` names: one of :data:`AUTHORITY_OF`.
    of: str
    source: str


#: What an authority's ``of`` may name.
AUTHORITY_OF = (
    "region",
    "municipality",
    "prosecutor_office",
    "ministry",
    "province",
    "water_board",
)

#: Every authority body a step may be signed by. Sources: the factsheets and the bijstandsloket
#: page (MSOB: "Minister, commissaris van de Koningin, burgemeester of dijkgraaf", line 63;
#: population-care factsheet line 95 and note 4, lines 137-138: any minister).
AUTHORITY_BODIES: dict[str, AuthorityBody] = {
    body.code: body
    for body in (
        AuthorityBody(
            "chair_safety_region",
            "voorzitter veiligheidsregio",
            "region",
            "art. 51 Wvr; factsheet-bijstand-bevolkingszorg line 81-83",
        ),
        AuthorityBody(
            "mayor",
            "burgemeester",
            "municipality",
            "art. 56(1), 57, 58 Politiewet 2012; factsheet-bijstand-bevolkingszorg line 94-95",
        ),
        AuthorityBody(
            "region_mayor",
            "regioburgemeester",
            "municipality",
            "factsheet-bijstand-politie §1, §3 (the region-mayor, a mayor in the unit's area)",
        ),
        AuthorityBody(
            "public_prosecutor",
            "officier van justitie",
            "prosecutor_office",
            "art. 56(2) Politiewet 2012; factsheet-bijstand-politie §6",
        ),
        AuthorityBody(
            "chief_public_prosecutor",
            "hoofdofficier van justitie",
            "prosecutor_office",
            "factsheet-bijstand-politie §7-§9",
        ),
        AuthorityBody(
            "kings_commissioner",
            "Commissaris van de Koning",
            "province",
            "locc-bijstandsloket line 63; factsheet-bijstand-bevolkingszorg note 4",
        ),
        AuthorityBody(
            "minister",
            "minister (elke minister)",
            "ministry",
            "locc-bijstandsloket line 63; factsheet-bijstand-bevolkingszorg note 4 (lines 137-138)",
        ),
        AuthorityBody(
            "minister_jv",
            "Minister van Justitie en Veiligheid",
            "ministry",
            "art. 56(4) Politiewet 2012; domain.md (priority under scarcity)",
        ),
        AuthorityBody("dike_reeve", "dijkgraaf", "water_board", "locc-bijstandsloket line 63"),
        AuthorityBody(
            "population_care_officer",
            "officier van dienst bevolkingszorg",
            "region",
            "factsheet-bijstand-bevolkingszorg §B.2",
        ),
        AuthorityBody(
            "general_commander_population_care",
            "algemeen commandant bevolkingszorg",
            "region",
            "factsheet-bijstand-bevolkingszorg §B.1-B.2",
        ),
        AuthorityBody(
            "head_crisis_communication",
            "hoofd taakorganisatie crisiscommunicatie",
            "region",
            "factsheet-bijstand-bevolkingszorg §B.3",
        ),
    )
}

#: The Minister of J&V's own decisions (priority under scarcity, an appeal under art. 56(4))
#: are signed by this body: the Minister, or LOCC on the Minister's authority.
MINISTER_JV = "minister_jv"

#: Armed deployment always needs a DJZ check, whatever the kind's route says
#: (eindmeting-icms-2013, lines ~1032-1047): on a request with an armed line these
#: organisation kinds advise too.
ARMED_CHECK_BY: tuple[str, ...] = ("defence_djz",)


@dataclass(frozen=True)
class Route:
    """Who receives and assesses (the hub), who must advise, and who decides, in order."""

    hub: tuple[str, ...]  # organisation kinds that receive, assess and forward
    deciders: tuple[str, ...]  # organisation kinds that decide, in sequence
    advisers: tuple[str, ...] = ()  # advice that must be recorded before the first decision
    exhaustion_check_by: str | None = None  # art. 58: LE Preparatie confirms before forwarding
    #: Art. 56(4): on an appeal these advise the Minister before the Minister decides.
    appeal_advisers: tuple[str, ...] = ()


@dataclass(frozen=True)
class KindRule:
    kind: RequestKind
    legal_basis: str
    source: str
    #: Authority bodies that may sign the request (*door of namens*).
    authorities: tuple[str, ...]
    #: Organisation kinds that record the request for that authority.
    requesters: tuple[str, ...]
    route: Route
    justifications: tuple[Justification, ...] = ()
    #: Authority bodies that may never request this kind, with the reason.
    forbidden_authorities: tuple[str, ...] = ()
    #: Whether a real deployment needs an authority on the form (an exercise does not).
    authority_optional_for_exercise: bool = False
    #: Art. 56(4): a refusal may be appealed to the Minister of J&V.
    appealable: bool = False
    #: Art. 56(4): who appeals: the mayor (56(1)) or the (chief) public prosecutor (56(2)).
    appeal_authorities: tuple[str, ...] = ()
    #: The tasks a request of this kind may serve; the first is its default (a stored request
    #: without a task reads back as it).
    tasks: tuple[Task, ...] = (Task.CRISIS_MANAGEMENT,)
    #: Whether ``data.task`` must be stated when the request is created.
    task_required: bool = False
    #: Where a police task must go instead, when this kind refuses one (MSOB).
    police_task_route: str = ""
    #: Urgent requests may skip the region-mayor's view.
    urgent_skips: tuple[Justification, ...] = ()
    #: Before forwarding, the hub records whether other regions' or civil means would achieve
    #: the effect (military assistance: factsheet-bijstand-bevolkingszorg §B.5-B.6).
    alternatives_checked_first: bool = False


MAYORS = ("mayor", "region_mayor")
PROSECUTORS = ("public_prosecutor", "chief_public_prosecutor")
DEFENCE_ADVICE = ("defence_djz",)
#: Art. 56: the own unit's capacity and the region-mayor's view (which an urgent request may
#: skip).
ART56_JUSTIFICATIONS = (Justification.OWN_CAPACITY_INSUFFICIENT, Justification.REGION_MAYOR_VIEW)


#: Where a kind serves several tasks (J&V assets, foreign police), who is competent for each:
#: the mayor has authority over the police for public order, the public prosecutor for
#: criminal justice (factsheet-bijstand-politie §2, lines 228-231: "onder gezag van de
#: burgemeester of de officier van justitie"; §1 and §6).
TASK_AUTHORITIES: dict[Task, tuple[str, ...]] = {
    Task.PUBLIC_ORDER: MAYORS,
    Task.CRIMINAL_JUSTICE: PROSECUTORS,
}


#: Art. 56: LE Preparatie coordinates, the korpschef decides; on an appeal DGPOL advises the
#: Minister of J&V (factsheet-bijstand-politie §9).
ART56_ROUTE = Route(hub=("police_le",), deciders=("police_le",), appeal_advisers=("jv_dgpol",))


def art58_route(hub: str) -> Route:
    """Art. 58: LE Preparatie confirms exhaustion; DJZ decides for Defence, the hub for J&V."""
    return Route(hub=(hub,), deciders=("defence_djz", hub), exhaustion_check_by="police_le")


KIND_RULES: dict[RequestKind, KindRule] = {
    rule.kind: rule
    for rule in (
        KindRule(
            RequestKind.REGION_ART51,
            "art. 51 Wvr",
            f"{POPULATION_CARE_FACTSHEET} §B.4; locc-bijstandsloket",
            authorities=("chair_safety_region",),
            requesters=("safety_region",),
            route=Route(hub=("jv_locc",), deciders=("provider",)),
        ),
        KindRule(
            RequestKind.MILITARY_ART51,
            "art. 51 Wvr",
            f"{POPULATION_CARE_FACTSHEET} §B.5",
            authorities=("chair_safety_region",),
            requesters=("safety_region",),
            # LOCC -> DOPS NATOPS (copy DOC, DJZ): DOPS checks feasibility, DJZ advises,
            # CDS decides for the Minister of Defence.
            route=Route(
                hub=("jv_locc",),
                deciders=("defence_cds",),
                advisers=("defence_dops", "defence_djz"),
            ),
            alternatives_checked_first=True,
        ),
        KindRule(
            RequestKind.MSOB,
            "Regeling militaire steunverlening in het openbaar belang",
            f"{POPULATION_CARE_FACTSHEET} §B.6; locc-bijstandsloket",
            authorities=(
                "mayor",
                "chair_safety_region",
                "kings_commissioner",
                "minister",
                "dike_reeve",
            ),
            requesters=("safety_region", "jv_locc"),
            route=Route(hub=("jv_locc",), deciders=("defence_cds",), advisers=("defence_dops",)),
            justifications=(Justification.NO_MARKET_ALTERNATIVE,),
            forbidden_authorities=PROSECUTORS,
            alternatives_checked_first=True,
            tasks=(Task.PUBLIC_INTEREST,),
            task_required=True,
            police_task_route=(
                "the Politiewet 2012: police_art56_public_order or police_art56_criminal, "
                "kmar_art57_public_order or kmar_art57_criminal, military_art58_public_order or "
                "military_art58_criminal"
            ),
        ),
        KindRule(
            RequestKind.SUPPORT,
            "none (voluntary ondersteuning)",
            f"{POPULATION_CARE_FACTSHEET} §B.1-B.3",
            authorities=(
                "population_care_officer",
                "general_commander_population_care",
                "head_crisis_communication",
            ),
            requesters=("safety_region",),
            # SIS and knowledge via LOCC; BTC via the NCC (see rules.hub_for).
            route=Route(hub=("jv_locc", "ncc"), deciders=("provider",)),
        ),
        KindRule(
            RequestKind.POLICE_ART56_PUBLIC_ORDER,
            "art. 56(1) Politiewet 2012",
            f"{POLICE_FACTSHEET} §1",
            authorities=("mayor",),
            requesters=("police_unit",),
            # The korpschef decides; LE Preparatie coordinates; LOCC is informed only.
            route=ART56_ROUTE,
            justifications=ART56_JUSTIFICATIONS,
            urgent_skips=(Justification.REGION_MAYOR_VIEW,),
            appealable=True,
            appeal_authorities=("mayor",),
            tasks=(Task.PUBLIC_ORDER,),
        ),
        KindRule(
            RequestKind.POLICE_ART56_CRIMINAL,
            "art. 56(2) Politiewet 2012",
            f"{POLICE_FACTSHEET} §6 (the prosecutor submits, domain.md settled questions)",
            authorities=("public_prosecutor",),
            requesters=("police_unit", "om_prosecutor"),
            route=ART56_ROUTE,
            justifications=ART56_JUSTIFICATIONS,
            urgent_skips=(Justification.REGION_MAYOR_VIEW,),
            appealable=True,
            appeal_authorities=PROSECUTORS,
            tasks=(Task.CRIMINAL_JUSTICE,),
        ),
        KindRule(
            RequestKind.KMAR_ART57_PUBLIC_ORDER,
            "art. 57(1) Politiewet 2012",
            f"{POLICE_FACTSHEET} §3",
            authorities=MAYORS,
            requesters=("police_unit",),
            # Police need not be exhausted. DJZ (for the SG) advises; LOCC decides for J&V.
            route=Route(hub=("jv_locc",), deciders=("jv_locc",), advisers=DEFENCE_ADVICE),
            tasks=(Task.PUBLIC_ORDER,),
        ),
        KindRule(
            RequestKind.KMAR_ART57_CRIMINAL,
            "art. 57(1) Politiewet 2012",
            f"{POLICE_FACTSHEET} §7",
            authorities=PROSECUTORS,
            requesters=("om_college",),
            route=Route(hub=("jv_ozi",), deciders=("jv_ozi",), advisers=DEFENCE_ADVICE),
            tasks=(Task.CRIMINAL_JUSTICE,),
        ),
        KindRule(
            RequestKind.MILITARY_ART58_PUBLIC_ORDER,
            "art. 58(1) Politiewet 2012",
            f"{POLICE_FACTSHEET} §4",
            authorities=MAYORS,
            requesters=("police_unit",),
            route=art58_route("jv_locc"),
            justifications=(Justification.POLICE_EXHAUSTED_OR_SPECIALISM,),
            tasks=(Task.PUBLIC_ORDER,),
        ),
        KindRule(
            RequestKind.MILITARY_ART58_CRIMINAL,
            "art. 58(1) Politiewet 2012",
            f"{POLICE_FACTSHEET} §8",
            authorities=PROSECUTORS,
            requesters=("om_college",),
            route=art58_route("jv_ozi"),
            justifications=(Justification.POLICE_EXHAUSTED_OR_SPECIALISM,),
            tasks=(Task.CRIMINAL_JUSTICE,),
        ),
        KindRule(
            RequestKind.JV_ASSET,
            "Politiewet 2012 (middelen Ministerie van J&V)",
            f"{POLICE_FACTSHEET} §2",
            authorities=("mayor", "public_prosecutor"),
            requesters=("police_unit",),
            # Water cannon: LOCC tests and coordinates; containers and VRT: NCTV DB3 permits.
            route=Route(hub=("jv_locc", "nctv_db3"), deciders=("hub",)),
            authority_optional_for_exercise=True,
            tasks=(Task.PUBLIC_ORDER, Task.CRIMINAL_JUSTICE),
            task_required=True,
        ),
        KindRule(
            RequestKind.FOREIGN_POLICE,
            "treaties (Benelux, Enschede, Prüm)",
            f"{POLICE_FACTSHEET} §5",
            authorities=("mayor", "public_prosecutor"),
            requesters=("police_le",),
            route=Route(hub=("jv_locc",), deciders=("jv_locc",)),
            tasks=(Task.PUBLIC_ORDER, Task.CRIMINAL_JUSTICE),
        ),
    )
}

#: Capabilities whose requests run through another hub than the kind's first one.
CAPABILITY_HUBS: dict[str, str] = {
    "BTC": "ncc",  # factsheet bevolkingszorg §B.3: BTC is requested through the NCC
    "JV_SURVEILLANCE_CONTAINER": "nctv_db3",  # factsheet politie §2: DB3 permits
    "JV_VRT_VEHICLE": "nctv_db3",
}
