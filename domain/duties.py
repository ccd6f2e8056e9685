"""Duties to inform (*informatieplichten*), per kind of request: who owes it, to whom, after
which step it falls due, and its legal source. Data beside the rights table
(:mod:`domain.rights` derives who may record ``request.informed`` from it); the request
(:mod:`domain.request`) keeps which duties fell due and which were done.

A duty falls due when the step named by ``after`` is recorded with one of ``outcomes`` (none:
any): for ``assess`` the outcome is ``forwarded`` or ``refused``, for ``decide`` the decision's
outcome (an appeal the Minister upholds counts as ``decide`` ``granted``: it instructs the
korpschef to deliver what was refused, art. 56(4)), for ``close`` the request's outcome. It
is done by the owner's ``request.informed`` step (``data: {duty, to}``). LOCC's recording in
its own overviews is what the projections do already: not a duty here.

Pure: imports only the kinds table and the reference data (not the rights table, which reads
this one).
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.kinds import POLICE_FACTSHEET, POPULATION_CARE_FACTSHEET, RequestKind
from domain.reference import organisations

#: ``Duty.to`` naming the requesting organisation rather than an organisation kind.
REQUESTER = "requester"

_K = RequestKind
_ART56 = (_K.POLICE_ART56_PUBLIC_ORDER, _K.POLICE_ART56_CRIMINAL)
_MILITARY_DOPS = (_K.MILITARY_ART51, _K.MSOB)
_GRANTED = ("granted", "partly_granted")


@dataclass(frozen=True)
class Duty:
    code: str
    kinds: tuple[RequestKind, ...]
    #: The organisation kind that owes it.
    by: str
    #: The organisation kind it is owed to, or :data:`REQUESTER`.
    to: str
    #: The step (a :class:`domain.rights.Step` value) after which it falls due.
    after: str
    source: str
    summary: str
    #: Only after these outcomes of that step (empty: after any).
    outcomes: tuple[str, ...] = ()
    #: Only for requests asking one of these capabilities (empty: any request of the kinds).
    capabilities: tuple[str, ...] = ()


DUTIES: dict[str, Duty] = {
    duty.code: duty
    for duty in (
        Duty(
            "police_le_informs_locc",
            _ART56,
            by="police_le",
            to="jv_locc",
            after="decide",
            outcomes=_GRANTED,
            source=f"art. 56 Politiewet 2012; {POLICE_FACTSHEET} §1, §6 (Preparatie en "
            "Operationeel Beheer informeert het LOCC over de wijze waarop de bijstand geleverd "
            "wordt)",
            summary="LE Preparatie informs LOCC how the assistance is delivered",
        ),
        Duty(
            "korpschef_refusal_to_dgpol",
            _ART56,
            by="police_le",
            to="jv_dgpol",
            after="decide",
            outcomes=("refused", "partly_granted"),
            source=f"art. 56(4) Politiewet 2012; {POLICE_FACTSHEET} §9 (een afschrift van deze "
            "afwijzing wordt gelijktijdig gezonden aan DGPOL)",
            summary="the korpschef's (partial) refusal, with reasons, is copied to DGPOL",
        ),
        Duty(
            "locc_informs_korpschef",
            (_K.KMAR_ART57_PUBLIC_ORDER, _K.MILITARY_ART58_PUBLIC_ORDER),
            by="jv_locc",
            to="police_le",
            after="assess",
            outcomes=("forwarded",),
            source=f"art. 57(1), 58(1) Politiewet 2012; {POLICE_FACTSHEET} §3, §4 (het LOCC "
            "informeert de korpschef van politie, door tussenkomst van de afdeling preparatie)",
            summary="LOCC informs the korpschef, through LE Preparatie",
        ),
        Duty(
            "dops_informs_locc",
            _MILITARY_DOPS,
            by="defence_dops",
            to="jv_locc",
            after="decide",
            source=f"art. 51 Wvr; {POPULATION_CARE_FACTSHEET} §B.5, §B.6 (DOPS NATOPS "
            "informeert het LOCC over het genomen besluit)",
            summary="DOPS informs LOCC of the CDS decision",
        ),
        Duty(
            "locc_informs_region",
            _MILITARY_DOPS,
            by="jv_locc",
            to=REQUESTER,
            after="decide",
            source=f"art. 51 Wvr; {POPULATION_CARE_FACTSHEET} §B.5, §B.6 (het LOCC informeert "
            "de algemeen commandant bevolkingszorg)",
            summary="LOCC informs the requesting region of the CDS decision",
        ),
        Duty(
            "locc_feeds_back_ifv",
            (_K.SUPPORT,),
            by="jv_locc",
            to="ifv",
            after="close",
            outcomes=_GRANTED,
            capabilities=("SIS", "BTC"),
            source=f"{POPULATION_CARE_FACTSHEET}, Tot slot (het IFV krijgt als beheerder van SIS "
            "en het bovenregionaal team crisiscommunicatie een terugkoppeling over de inzet)",
            summary="LOCC feeds the SIS or BTC deployment back to IFV, for its evaluation",
        ),
    )
}


def duties_of(kind: RequestKind, capabilities: frozenset[str] | None = None) -> tuple[Duty, ...]:
    """The duties of a request of ``kind`` asking ``capabilities`` (None: of any request of the
    kind, as the rights table needs them)."""
    return tuple(
        duty
        for duty in DUTIES.values()
        if kind in duty.kinds
        and (capabilities is None or not duty.capabilities or capabilities & set(duty.capabilities))
    )


def owner_kinds(kind: RequestKind) -> tuple[str, ...]:
    """The organisation kinds that owe a duty on some request of ``kind`` (the rights table's
    *informer*)."""
    return tuple(dict.fromkeys(duty.by for duty in duties_of(kind)))


def organisation_of_kind(kind: str) -> str | None:
    """The one organisation of an organisation kind that owes or is owed a duty (LOCC, LE
    Preparatie, DOPS, DGPOL, IFV); None if the reference data has none."""
    return next((o.code for o in organisations() if o.kind.value == kind), None)


def party(role: str, requester: str) -> str | None:
    """The organisation a duty's ``by`` or ``to`` names for a request of ``requester``."""
    return requester if role == REQUESTER else organisation_of_kind(role)
