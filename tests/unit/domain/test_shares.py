"""Several providers cover one request (issue 18, point 1).

Source of every test here: domain.md §Settled questions (lines 127-130): "A request may be
covered partly by several providers; each requested line tracks how much is committed,
delivered and returned. LOCC may forward a request, or lines or quantities of it, to several
providers; each provider decides only its own share and commits only what it was asked for and
granted; after a refusal or a partial grant LOCC may forward the remainder elsewhere."
Each fails on the code before shares (72956bf): ``forward`` took no shares, a second provider's
decision was refused once the first made the request approved, and any provider of the
capability could commit to an approved request.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from domain.envelope import Authority
from domain.errors import Conflict, DomainError, NotPermitted
from domain.kinds import Justification as J
from domain.kinds import RequestKind as K
from domain.lifecycle import LIFECYCLE_CODES, RIGHTS_CODES, RequestStatus
from domain.policy import involved
from domain.request import AssistanceRequest, Outcome, Share, open_steps
from domain.services import commit, dispatch, make_ready
from tests.unit.domain.catalogue import CAP
from tests.unit.domain.helpers import (
    art58_drafted,
    art58_one_of_two_asked,
    book,
    capacity,
    chair,
    env,
    line,
    mayor,
    submitted,
)

SOURCE = "domain.md §Settled questions (lines 127-130): a request covered by several providers"


def steps(request: AssistanceRequest, org: str) -> list[str]:
    return [s["step"] for s in open_steps(request, org, "operator")]


def pumps_request(quantity: int = 5) -> AssistanceRequest:
    """VR08 asks for pumps (art. 51 Wvr), assessed by LOCC, not yet forwarded."""
    request = submitted("VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"], quantity))
    request.receive(env("LOCC"))
    request.assess(env("LOCC"), forward=True, findings="necessary; right authority")
    return request


def shared(*parts: tuple[str, int], line_id: str = "L1") -> tuple[Share, ...]:
    return tuple(Share(to, line_id, quantity) for to, quantity in parts)


def forwarded(*parts: tuple[str, int]) -> AssistanceRequest:
    request = pumps_request()
    request.forward(env("LOCC"), (), shares=shared(*parts))
    return request


def booked(request: AssistanceRequest, org: str, quantity: int, **kw: Any) -> None:
    commit(
        env(org),
        request,
        kw.pop("pumps", None) or capacity(org, CAP["fire"], 10),
        line_id="L1",
        quantity=quantity,
        booking_id=kw.pop("booking_id", uuid4()),
    )


def test_two_providers_each_decide_their_own_share() -> None:
    request = forwarded(("VR07", 3), ("VR09", 2))
    assert request.forwarded_to == ("VR07", "VR09")
    assert "decide" in steps(request, "VR07") and "decide" in steps(request, "VR09")
    request.decide(
        env("VR07"), outcome=Outcome.PARTLY_GRANTED, reasons="two at home", granted=(("L1", 1),)
    )
    # the partial grant approved the request; VR09's decision of its own share still counts
    assert request.status is RequestStatus.APPROVED
    assert "decide" in steps(request, "VR09") and "decide" not in steps(request, "VR07")
    with pytest.raises(DomainError) as exc:  # a provider decides its share once
        request.decide(env("VR07"), outcome=Outcome.GRANTED)
    assert exc.value.code == "duplicate_step" and exc.value.code in LIFECYCLE_CODES
    request.decide(env("VR09"), outcome=Outcome.GRANTED)
    assert request.granted == {"L1": 3}
    assert request.outcome is Outcome.PARTLY_GRANTED
    assert {(s.to, s.asked, s.granted) for s in request.shares.values()} == {
        ("VR07", 3, 1),
        ("VR09", 2, 2),
    }
    with pytest.raises(DomainError) as exc:  # every share decided: nobody decides now
        request.decide(env("VR07"), outcome=Outcome.GRANTED)
    assert exc.value.code in LIFECYCLE_CODES


def test_a_provider_not_asked_does_not_decide() -> None:
    request = forwarded(("VR07", 3))
    assert "decide" not in steps(request, "VR09")
    with pytest.raises(NotPermitted) as exc:
        request.decide(env("VR09"), outcome=Outcome.GRANTED)
    assert exc.value.code == "wrong_decider"


def test_approved_once_any_share_is_granted_while_another_waits() -> None:
    request = forwarded(("VR07", 3), ("VR09", 2))
    request.decide(env("VR07"), outcome=Outcome.GRANTED)
    assert request.status is RequestStatus.APPROVED
    assert [(s.to, s.asked) for s in request.waiting_shares()] == [("VR09", 2)]
    assert request.next_decider_kind() == "provider"
    booked(request, "VR07", 3)  # VR07 delivers while VR09 decides


def test_a_partial_grant_then_the_remainder_to_a_third_provider_who_grants() -> None:
    request = forwarded(("VR07", 3), ("VR09", 2))
    request.decide(
        env("VR07"), outcome=Outcome.PARTLY_GRANTED, reasons="one left", granted=(("L1", 1),)
    )
    request.decide(env("VR09"), outcome=Outcome.REFUSED, reasons="all in use")
    assert request.status is RequestStatus.APPROVED and request.granted == {"L1": 1}
    assert request.open_quantity("L1") == 4
    assert "forward" in steps(request, "LOCC")
    request.forward(env("LOCC"), (), shares=shared(("VR10", 4)))
    assert request.status is RequestStatus.APPROVED  # the grant stands meanwhile
    request.decide(env("VR10"), outcome=Outcome.GRANTED)
    assert request.granted == {"L1": 5}
    booked(request, "VR10", 4)
    booked(request, "VR07", 1)
    assert request.committed("L1") == 5


def test_after_a_whole_refusal_the_remainder_goes_to_another_provider() -> None:
    request = pumps_request(3)
    request.forward(env("LOCC"), ("VR07",))  # the whole request, as before shares
    request.decide(env("VR07"), outcome=Outcome.REFUSED, reasons="all pumps in use")
    assert request.status is RequestStatus.REFUSED
    assert "forward" in steps(request, "LOCC")
    with pytest.raises(DomainError) as exc:  # after a decision, only the remainder, as shares
        request.forward(env("LOCC"), ("VR09",))
    assert exc.value.code == "remainder_as_shares"
    request.forward(env("LOCC"), (), shares=shared(("VR09", 3)))
    assert request.status is RequestStatus.FORWARDED and request.outcome is None
    request.decide(env("VR09"), outcome=Outcome.GRANTED)
    assert request.status is RequestStatus.APPROVED and request.granted == {"L1": 3}


def test_nothing_to_forward_once_every_line_is_covered() -> None:
    request = forwarded(("VR07", 5))
    request.decide(env("VR07"), outcome=Outcome.GRANTED)
    assert "forward" not in steps(request, "LOCC")
    with pytest.raises(Conflict) as exc:
        request.forward(env("LOCC"), (), shares=shared(("VR09", 1)))
    assert exc.value.code == "nothing_to_forward"


def test_a_hub_refusal_leaves_nothing_to_forward() -> None:
    request = submitted("VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"], 3))
    request.receive(env("LOCC"))
    request.assess(env("LOCC"), forward=False, findings="no emergency")
    assert "forward" not in steps(request, "LOCC")
    with pytest.raises(Conflict) as exc:
        request.forward(env("LOCC"), (), shares=shared(("VR09", 3)))
    assert exc.value.code == "out_of_order"


def test_a_provider_never_asked_cannot_commit() -> None:
    request = forwarded(("VR07", 3), ("VR09", 2))
    request.decide(env("VR07"), outcome=Outcome.GRANTED)
    # VR10 provides pumps too, but was never asked: before shares it could commit
    assert "commit" not in steps(request, "VR10")
    with pytest.raises(NotPermitted) as exc:
        booked(request, "VR10", 1)
    assert exc.value.code == "not_asked" and exc.value.code in RIGHTS_CODES
    # VR09 was asked, but has not granted its share: nothing of it is granted to commit
    with pytest.raises(DomainError) as exc:
        booked(request, "VR09", 1)
    assert exc.value.code == "nothing_to_commit"


def test_a_provider_cannot_commit_more_than_granted_to_it() -> None:
    request = forwarded(("VR07", 3), ("VR09", 2))
    request.decide(
        env("VR07"), outcome=Outcome.PARTLY_GRANTED, reasons="one only", granted=(("L1", 1),)
    )
    request.decide(env("VR09"), outcome=Outcome.GRANTED)
    pumps = capacity("VR07", CAP["fire"], 10)
    with pytest.raises(Conflict) as exc:
        booked(request, "VR07", 2, pumps=pumps)
    assert exc.value.code == "exceeds_granted"
    booking = uuid4()
    booked(request, "VR07", 1, pumps=pumps, booking_id=booking)
    assert "commit" not in steps(request, "VR07") and "commit" in steps(request, "VR09")
    dispatch(env("VR07"), request, pumps, booking_id=booking)  # its own, as before


@pytest.mark.parametrize(
    ("parts", "code"),
    [
        ((Share("VR07", "L9", 1),), "unknown_line"),
        ((Share("VR07", "L1", 6),), "share_exceeds_remaining"),
        ((Share("VR07", "L1", 3), Share("VR09", "L1", 3)), "share_exceeds_remaining"),
        ((Share("IFV", "L1", 1),), "share_provider_mismatch"),
        ((Share("VR07", "L1", 1), Share("VR07", "L1", 1)), "duplicate_share"),
        ((Share("NOBODY", "L1", 1),), "unknown_organisation"),
        ((Share("VR07", "L1", 0),), "quantity_not_positive"),
    ],
)
def test_malformed_shares_are_refused_and_nothing_is_recorded(
    parts: tuple[Share, ...], code: str
) -> None:
    request = pumps_request()
    version = request.version
    with pytest.raises(DomainError) as exc:
        request.forward(env("LOCC"), (), shares=parts)
    assert exc.value.code == code and exc.value.status == 422
    assert request.version == version and request.shares == {}


def test_a_share_twice_to_the_same_provider_is_a_duplicate() -> None:
    request = forwarded(("VR07", 2))
    with pytest.raises(DomainError) as exc:
        request.forward(env("LOCC"), (), shares=shared(("VR07", 1)))
    assert exc.value.code == "duplicate_share"
    with pytest.raises(DomainError) as exc:  # asked whole and as a share in one forward
        request.forward(env("LOCC"), ("VR09",), shares=shared(("VR09", 1)))
    assert exc.value.code == "duplicate_share"


def test_the_whole_request_to_each_keeps_its_meaning() -> None:
    """``to`` without shares: the whole request to each, as stored before shares."""
    request = pumps_request(3)
    request.forward(env("LOCC"), ("VR07", "VR09", "IFV"))  # IFV provides no pumps
    assert {(s.to, s.asked, s.whole) for s in request.shares.values()} == {
        ("VR07", 3, True),
        ("VR09", 3, True),
    }
    request.decide(env("VR07"), outcome=Outcome.GRANTED)
    request.decide(env("VR09"), outcome=Outcome.GRANTED)  # refused before shares
    assert request.granted == {"L1": 3}  # capped at what was asked
    booked(request, "VR07", 2)
    with pytest.raises(Conflict) as exc:  # what the request still needs caps the total
        booked(request, "VR09", 2)
    assert exc.value.code == "exceeds_granted"
    booked(request, "VR09", 1)


def test_a_forwarded_event_stored_before_shares_reads_back_as_the_whole_request() -> None:
    """Stored events are decoded without calling their constructor (eventsourcing's mapper:
    ``object.__new__`` and the stored fields as ``__dict__``): ``shares`` is absent."""
    request = pumps_request(3)
    request.forward(env("LOCC"), ("VR07",))
    [event] = [e for e in request.collect_events() if type(e).__name__ == "Forwarded"]
    again = pumps_request(3)
    again.collect_events()
    state = {
        **vars(event),
        "originator_id": again.id,
        "originator_version": again.version + 1,
    }
    del state["shares"]
    old = object.__new__(type(event))
    object.__setattr__(old, "__dict__", state)
    old.mutate(again)
    assert again.forwarded_to == ("VR07",) and again.status is RequestStatus.FORWARDED
    assert [(s.to, s.asked) for s in again.shares.values()] == [("VR07", 3)]


# --- where a sequence of deciders decides (domain/kinds.py) -----------------------------------


def military51() -> AssistanceRequest:
    request = submitted("VR08", K.MILITARY_ART51, chair("VR08"), line(CAP["defence_transport"], 4))
    request.receive(env("LOCC"))
    request.assess(
        env("LOCC"),
        forward=True,
        findings="necessary",
        alternatives_checked="no region has fording trucks",
    )
    return request


def test_where_cds_decides_its_decision_settles_the_providers_share() -> None:
    """The provider's share is capacity to deliver, not a decision: CDS decides for the
    Minister of Defence (domain/kinds.py), and the share is granted within that decision."""
    request = military51()
    request.forward(env("LOCC"), ("DEF-DJZ",), shares=(Share("DEF-DOPS", "L1", 4),))
    request.advise(env("DEF-DOPS"), favourable=True, advice="feasible")
    request.advise(env("DEF-DJZ"), favourable=True, advice="art. 51 Wvr applies")
    assert "decide" not in steps(request, "DEF-DOPS")
    with pytest.raises(NotPermitted):
        request.decide(env("DEF-DOPS"), outcome=Outcome.GRANTED)
    assert [s.to for s in request.waiting_shares()] == ["DEF-DOPS"]
    request.decide(
        env("DEF-CDS"), outcome=Outcome.PARTLY_GRANTED, reasons="two trucks", granted=(("L1", 2),)
    )
    assert request.status is RequestStatus.APPROVED
    [share] = request.shares.values()
    assert (share.outcome, share.granted) == (Outcome.PARTLY_GRANTED, 2)
    trucks = capacity("DEF-DOPS", CAP["defence_transport"], 6)
    with pytest.raises(Conflict) as exc:
        commit(env("DEF-DOPS"), request, trucks, line_id="L1", quantity=3, booking_id=uuid4())
    assert exc.value.code == "exceeds_granted"
    commit(env("DEF-DOPS"), request, trucks, line_id="L1", quantity=2, booking_id=uuid4())


def test_art58_keeps_its_order_of_deciders_with_shares() -> None:
    """Art. 58: DJZ decides for Defence, then LOCC for J&V (police factsheet §4); the
    provider's share waits for both."""
    request = art58_drafted(quantity=2)
    request.confirm_exhaustion(env("POL-LE"), "no EOD at the police")  # on the draft (art. 58)
    request.submit(env(request.requester, request.authority))
    request.receive(env("LOCC"))
    request.assess(env("LOCC"), forward=True, findings="necessary")
    request.forward(env("LOCC"), ("DEF-DJZ",), shares=(Share("DEF-DOPS", "L1", 2),))
    with pytest.raises(NotPermitted) as exc:
        request.decide(env("LOCC"), outcome=Outcome.GRANTED)
    assert exc.value.code == "wrong_decider"
    request.decide(env("DEF-DJZ"), outcome=Outcome.GRANTED)
    assert request.status is RequestStatus.DECIDING
    assert [s.to for s in request.waiting_shares()] == ["DEF-DOPS"]
    request.decide(env("LOCC"), outcome=Outcome.GRANTED)
    assert request.status is RequestStatus.APPROVED and not request.waiting_shares()
    with pytest.raises(NotPermitted) as exc:  # the provider delivers; it does not decide
        request.decide(env("DEF-DOPS"), outcome=Outcome.GRANTED)
    assert exc.value.code in RIGHTS_CODES
    eod = capacity("DEF-DOPS", CAP["defence_specialist"], 2)
    commit(env("DEF-DOPS"), request, eod, line_id="L1", quantity=2, booking_id=uuid4())


def test_a_refusal_by_the_deciders_refuses_every_share_and_leaves_nothing_to_forward() -> None:
    request = military51()
    request.forward(env("LOCC"), (), shares=(Share("DEF-DOPS", "L1", 4),))
    request.advise(env("DEF-DOPS"), favourable=False, advice="not feasible")
    request.advise(env("DEF-DJZ"), favourable=True, advice="art. 51 Wvr applies")
    request.decide(env("DEF-CDS"), outcome=Outcome.REFUSED, reasons="no capacity")
    [share] = request.shares.values()
    assert share.outcome is Outcome.REFUSED
    assert "forward" not in steps(request, "LOCC")


def test_a_provider_forwarded_a_share_is_involved_and_sees_the_request() -> None:
    """Need to know (domain/policy.py): a provider sees what it was forwarded, a share too."""
    request = forwarded(("VR07", 3))
    assert "VR07" in involved(request) and "VR09" not in involved(request)
    request.forward(env("LOCC"), (), shares=shared(("VR09", 2)))
    assert "VR09" in involved(request)


@pytest.mark.parametrize(
    ("granted", "code", "status"),
    [
        ((("L2", 1),), "not_asked", 403),  # a line outside its share
        ((("L1", 4),), "granted_out_of_range", 422),  # more than it was asked
        ((("L1", 3),), "not_partial", 422),  # everything asked: a grant, not a partial one
        ((("L1", 3), ("L2", 1)), "not_asked", 403),
    ],
)
def test_a_providers_partial_grant_stays_within_its_own_share(
    granted: tuple[tuple[str, int], ...], code: str, status: int
) -> None:
    """Each provider decides only its own share (review of issue 18, defect 8): a partial
    grant naming another line, or more than asked, or nothing less than asked is refused and
    records nothing."""
    request = submitted(
        "VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"], 5), line(CAP["fire"], 2, "L2")
    )
    request.receive(env("LOCC"))
    request.assess(env("LOCC"), forward=True, findings="necessary")
    request.forward(env("LOCC"), (), shares=(Share("VR07", "L1", 3),))
    version = request.version
    with pytest.raises(DomainError) as exc:
        request.decide(env("VR07"), outcome=Outcome.PARTLY_GRANTED, reasons="x", granted=granted)
    assert (exc.value.code, exc.value.status) == (code, status)
    assert request.version == version and request.shares[("VR07", "L1")].outcome is None
    request.decide(env("VR07"), outcome=Outcome.PARTLY_GRANTED, reasons="x", granted=(("L1", 2),))
    assert request.shares[("VR07", "L1")].granted == 2 and request.granted == {"L1": 2}


def test_a_provider_not_asked_makes_nothing_ready_for_an_approved_request() -> None:
    """Approved, only what was asked and granted is delivered (review of issue 18, defect 7):
    a provider never asked, or not for that line, may not make capacity ready for it (403
    ``not_asked``, as ``commit``); before approval readiness stays open to every provider."""
    request = submitted(
        "VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"], 5), line(CAP["fire"], 2, "L2")
    )
    request.receive(env("LOCC"))
    request.assess(env("LOCC"), forward=True, findings="necessary")
    request.forward(env("LOCC"), (), shares=(Share("VR07", "L1", 3),))
    assert "make_ready" in steps(request, "VR10")  # not yet approved: readiness in advance
    request.decide(env("VR07"), outcome=Outcome.GRANTED)
    assert "make_ready" not in steps(request, "VR10") and "make_ready" in steps(request, "VR07")
    for org, line_id in (("VR10", "L1"), ("VR07", "L2")):
        pumps = capacity(org, CAP["fire"], 2)
        version = request.version
        with pytest.raises(NotPermitted) as exc:
            make_ready(env(org), request, pumps, line_id=line_id, quantity=1, booking_id=uuid4())
        assert exc.value.code == "not_asked" and exc.value.code in RIGHTS_CODES
        assert request.version == version and pumps.available == 2
    book(request, "VR07", CAP["fire"], 1, stock=3, step=make_ready)


def test_a_deciders_partial_grant_goes_to_the_shares_in_share_order() -> None:
    """What the korpschef grants of a line is shared in share order, first come first served
    (review of issue 18, defect 1): never granted twice; a share nothing is left for is
    refused, and an upheld appeal grants every share what it asked."""
    request = submitted(
        "POL-ON",
        K.POLICE_ART56_PUBLIC_ORDER,
        mayor("Nijmegen"),
        line(CAP["police_me"], 3),
        justifications={
            J.OWN_CAPACITY_INSUFFICIENT: "RCCB: all ME deployed",
            J.REGION_MAYOR_VIEW: "agrees",
        },
    )
    request.receive(env("POL-LE"))
    request.assess(env("POL-LE"), forward=True, findings="necessary")
    # POL-NN asked first, then POL-MN: the order LOCC asked them, not the alphabet
    request.forward(env("POL-LE"), (), shares=(Share("POL-NN", "L1", 2), Share("POL-MN", "L1", 1)))
    request.decide(
        env("POL-LE"), outcome=Outcome.PARTLY_GRANTED, reasons="two platoons", granted=(("L1", 2),)
    )
    assert {to: (s.outcome, s.granted) for (to, _), s in request.shares.items()} == {
        "POL-NN": (Outcome.GRANTED, 2),
        "POL-MN": (Outcome.REFUSED, 0),
    }
    assert request.open_quantity("L1") == 0 and "commit" not in steps(request, "POL-MN")
    request.inform(env("POL-LE"), duty="korpschef_refusal_to_dgpol", to="JV-DGPOL")
    request.appeal(env("POL-ON", mayor("Nijmegen")), grounds="riots spread")
    request.advise(env("JV-DGPOL"), favourable=True, advice="uphold")
    request.decide_appeal(
        env("JV-MIN", Authority("minister_jv", "JV-MIN")), upheld=True, reasons="instructed"
    )
    assert {to: s.granted for (to, _), s in request.shares.items()} == {"POL-NN": 2, "POL-MN": 1}


def test_where_the_deciders_decide_asking_a_provider_again_grows_its_share() -> None:
    """Art. 58: DJZ and LOCC grant 2 EOD teams while DOPS, Defence's only provider of them, was
    asked 1; LOCC asks DOPS for the rest and its share grows to 2 (review of issue 18, defect
    6; domain.md settled questions: LOCC may forward the remainder). Twice in one forward
    stays a duplicate."""
    request = art58_one_of_two_asked()
    with pytest.raises(DomainError) as exc:
        request.forward(env("LOCC"), (), shares=(Share("DEF-DOPS", "L1", 1),) * 2)
    assert exc.value.code == "duplicate_share"
    request.forward(env("LOCC"), (), shares=(Share("DEF-DOPS", "L1", 1),))
    share = request.shares[("DEF-DOPS", "L1")]
    assert (share.asked, share.granted, share.outcome) == (2, 2, Outcome.GRANTED)
    assert request.open_quantity("L1") == 0 and "forward" not in steps(request, "LOCC")
    book(request, "DEF-DOPS", CAP["defence_specialist"], 2)
