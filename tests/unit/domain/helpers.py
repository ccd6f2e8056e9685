"""Small builders for domain tests: envelopes for organisations, lines, and walking a request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from domain.capacity import Capacity, CapacityClass
from domain.envelope import Actor, Authority, Envelope, SigningCapacity
from domain.kinds import Justification, RequestKind
from domain.request import AssistanceRequest, Outcome, RequestLine
from tests.unit.domain.catalogue import CAP


def env(
    org: str, authority: Authority | None = None, *, role: str = "operator", **kw: Any
) -> Envelope:
    return Envelope(
        actor=Actor(org=org, role=role),
        occurred_at=kw.pop("occurred_at", datetime.now(UTC)),
        message_id=str(uuid4()),
        authority=authority,
        **kw,
    )


def chair(region: str) -> Authority:
    return Authority(body="chair_safety_region", of=region, capacity=SigningCapacity.ON_BEHALF_OF)


def mayor(municipality: str) -> Authority:
    return Authority(body="mayor", of=municipality)


def prosecutor(office: str, body: str = "public_prosecutor") -> Authority:
    return Authority(body=body, of=office)


def line(capability: str, quantity: int = 2, line_id: str = "L1", **kw: Any) -> RequestLine:
    return RequestLine(
        line_id=line_id,
        capability=capability,
        quantity=quantity,
        effect=kw.pop("effect", "evacuate residents of the flooded polder"),
        location=kw.pop("location", "Beuningen"),
        **kw,
    )


def drafted(
    org: str,
    kind: RequestKind,
    authority: Authority | None,
    *lines: RequestLine,
    justifications: dict[Justification, str] | None = None,
    urgent: bool = False,
    exercise: bool = False,
) -> AssistanceRequest:
    request = AssistanceRequest.draft(
        env(org, authority, exercise=exercise),
        uuid4(),
        kind=kind,
        lines=lines,
        urgent=urgent,
        justifications=tuple((justifications or {}).items()),
        title=f"{kind.value} test",
    )
    request.collect_events()
    return request


def submitted(*args: Any, **kwargs: Any) -> AssistanceRequest:
    request = drafted(*args, **kwargs)
    request.submit(env(request.requester, request.authority, exercise=request.exercise))
    return request


#: What an art. 56 request states (both, unless urgent: domain/kinds.py).
ART56 = {
    Justification.OWN_CAPACITY_INSUFFICIENT: "RCCB: all ME deployed",
    Justification.REGION_MAYOR_VIEW: "agrees",
}


def art56(
    build: Callable[..., AssistanceRequest] = submitted, platoons: int = 2, **kw: Any
) -> AssistanceRequest:
    """Nijmegen's mayor asks for POL-ON's ME platoons (art. 56): submitted (``build``: or
    drafted), stating ``justifications`` (:data:`ART56` unless given)."""
    kw.setdefault("justifications", ART56)
    police_me = line(CAP["police_me"], platoons)
    return build(
        "POL-ON", RequestKind.POLICE_ART56_PUBLIC_ORDER, mayor("Nijmegen"), police_me, **kw
    )


def art56_criminal(
    build: Callable[..., AssistanceRequest] = drafted, authority: Authority | None = None, **kw: Any
) -> AssistanceRequest:
    """POL-ON asks for police specialists for a criminal investigation (art. 56(2)): drafted
    unsigned (``build``, ``authority``: or submitted, signed), stating ``justifications``
    (:data:`ART56` unless given)."""
    kw.setdefault("justifications", ART56)
    kind = RequestKind.POLICE_ART56_CRIMINAL
    return build("POL-ON", kind, authority, line(CAP["police_specialist"]), **kw)


def art56_received(platoons: int = 2) -> AssistanceRequest:
    """Nijmegen's mayor asks for POL-ON's ME platoons (art. 56); LE Preparatie has received it."""
    request = art56(platoons=platoons)
    request.receive(env("POL-LE"))
    return request


def through_hub(
    request: AssistanceRequest, hub: str, to: tuple[str, ...], **assess: Any
) -> AssistanceRequest:
    # Every step says what its subject is, exercise or real (domain/exercise.py).
    flag = request.exercise
    request.receive(env(hub, exercise=flag))
    request.assess(
        env(hub, exercise=flag), forward=True, findings="necessary; right authority", **assess
    )
    request.forward(env(hub, exercise=flag), to=to)
    return request


def granted(request: AssistanceRequest, *deciders: str) -> AssistanceRequest:
    for decider in deciders:
        request.decide(env(decider, exercise=request.exercise), outcome=Outcome.GRANTED)
    return request


def capacity(provider: str, capability: str, quantity: int = 4, **kw: Any) -> Capacity:
    registered = Capacity.register(
        env(provider),
        kw.pop("subject", uuid4()),
        capability_code=capability,
        quantity=quantity,
        capacity_class=kw.pop("capacity_class", CapacityClass.GUARANTEED),
        **kw,
    )
    registered.collect_events()
    return registered


def new_id() -> UUID:
    return uuid4()


#: Art. 58's justification: the police are exhausted or lack the specialism (EOD here).
EOD = "EOD specialism only in Defence"


def art58_drafted(quantity: int = 1, justified: bool = True) -> AssistanceRequest:
    """POL-ON's art. 58 public-order request for Defence's EOD specialists, drafted (stating
    why the police cannot, unless not ``justified``)."""
    return drafted(
        "POL-ON",
        RequestKind.MILITARY_ART58_PUBLIC_ORDER,
        mayor("Nijmegen"),
        line(CAP["defence_specialist"], quantity),
        justifications={Justification.POLICE_EXHAUSTED_OR_SPECIALISM: EOD} if justified else None,
    )


def art58_phoned_in() -> AssistanceRequest:
    """The same request phoned in to LOCC (urgent): there is no draft to confirm on."""
    return AssistanceRequest.phone_in(
        env("LOCC", mayor("Nijmegen")),
        uuid4(),
        kind=RequestKind.MILITARY_ART58_PUBLIC_ORDER,
        requester="POL-ON",
        lines=(line(CAP["defence_specialist"], 1),),
        justifications=((Justification.POLICE_EXHAUSTED_OR_SPECIALISM, EOD),),
    )


def book(request: AssistanceRequest, org: str, capability: str, quantity: int, **kw: Any) -> None:
    """``org`` registers ``stock`` (default: ``quantity``) of a capability and books
    ``quantity`` of it for line ``line_id`` (default L1) with ``step``: domain.services.commit
    (default) or make_ready."""
    from domain.services import commit

    booking = {"line_id": kw.get("line_id", "L1"), "quantity": quantity, "booking_id": uuid4()}
    stock = capacity(org, capability, kw.get("stock", quantity))
    kw.get("step", commit)(env(org), request, stock, **booking)


def art58_one_of_two_asked() -> AssistanceRequest:
    """An art. 58 request for 2 EOD specialists of which LOCC asked DOPS for 1; DJZ and LOCC
    then granted both (the rest may be asked of DOPS too)."""
    from domain.request import Share

    request = art58_drafted(quantity=2)
    request.confirm_exhaustion(env("POL-LE"), finding="no police EOD")
    request.submit(env("POL-ON", mayor("Nijmegen")))
    request.receive(env("LOCC"))
    request.assess(env("LOCC"), forward=True, findings="specialism")
    request.forward(env("LOCC"), (), shares=(Share("DEF-DOPS", "L1", 1),))
    request.decide(env("DEF-DJZ"), outcome=Outcome.GRANTED)
    request.decide(env("LOCC"), outcome=Outcome.GRANTED)
    return request


def phoned_in_by_locc(region: str = "VR08") -> AssistanceRequest:
    """An urgent art. 51 request phoned in to LOCC on the chair's authority (form to follow)."""
    lines = (line(CAP["fire"]),)
    created = env("LOCC", chair(region))
    return AssistanceRequest.phone_in(
        created, uuid4(), kind=RequestKind.REGION_ART51, requester=region, lines=lines
    )
