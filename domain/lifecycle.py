"""The lifecycle of a request, as data: which step may follow which status.

Every command of :class:`domain.request.AssistanceRequest` (and the booking steps in
:mod:`domain.services`) asks this table whether its step may follow the request's status, and
``open_steps`` offers a step only where this table, the rights table (:mod:`domain.rights`)
and the state the step needs all allow it: both run the same check,
``AssistanceRequest.check_step``. A new step is added here, and the property test in
``tests/domain/test_lifecycle.py`` covers it without being edited.

Decisions taken where the commands and the old ``open_steps`` disagreed (domain.md
§Lifecycle and its settled questions):

- **withdraw** follows every status in which the request is still pending, including an
  appeal; not a refused request (it has ended without a grant: the hub or the requester
  closes it, and its status keeps saying it was refused), nor a withdrawn, closed or
  evaluated one.
- **make_ready** is informal readiness (*gereedstelling*): it commits nothing, so a provider
  may make ready from submission until the request ends, also when it is approved (before
  committing in place) or under appeal.
- **formalise** records the signed form of a phoned-in request. The phone call happened; its
  form may arrive at any later moment, even after withdrawal, closing or evaluation, and the
  auditors check it then. So it follows every status but a draft, while the form is
  outstanding.
- **decide_priority**: the Minister decides priority "as soon as requests compete (from
  submission on)" (settled question) and while the request is still pending.
- **confirm_exhaustion** (art. 58) is LE Preparatie's permission before the request goes to
  LOCC: it is recorded on the draft, and an art. 58 draft is LE Preparatie's to act on from its
  drafting (the seeds have the unit's RCCB contact LE Preparatie before it drafts the form,
  factsheet-bijstand-politie §4, §8); submitting without it is refused.
- **advise** on an appealed request is DGPOL's advice to the Minister (art. 56(4)), which the
  Minister's decision on the appeal needs.
- **inform** records a duty to inform (domain/duties.py) once it has fallen due.
- **Shares** (issue 18): LOCC may forward parts of lines to several providers. Where the
  providers decide (the kind's deciders are ``provider``), each decides only its own share,
  the request is approved once any share is granted, and after a refusal or a partial grant
  LOCC may forward the remainder to another provider: ``forward`` follows ``approved`` and
  ``refused`` (the latter only after the providers refused), ``decide`` follows ``approved``.
  Where a sequence of deciders decides (CDS, DJZ then LOCC, the korpschef, ...), their decision
  settles every share and the providers deliver; LOCC may forward what they granted and no
  provider was asked for. A provider commits only within what was asked of it and granted.
- **Deployment** (commit, dispatch, arrive, extend, relieve) happens only after formal
  approval. What was committed goes on during an appeal of a partial grant (the grant stands
  until the Minister decides), but nothing new is committed then. Winding capacity down
  (release, return) is possible in every status in which a booking can still be active, so a
  refusal never strands made-ready capacity.
"""

from __future__ import annotations

from enum import Enum

from domain.rights import Step
from domain.stored import stored_as

LIFECYCLE = "domain.md §Lifecycle of a request"


@stored_as("mlob:RequestStatus")
class RequestStatus(str, Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RECEIVED = "received"
    ASSESSED = "assessed"
    FORWARDED = "forwarded"
    DECIDING = "deciding"  # some of the sequence of deciders have decided
    APPROVED = "approved"  # granted or partly granted by every decider
    REFUSED = "refused"
    APPEALED = "appealed"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"
    EVALUATED = "evaluated"


@stored_as("mlob:LineStep")
class LineStep(str, Enum):
    """Where one booking of a request line is (*inzet*)."""

    MADE_READY = "made_ready"
    COMMITTED = "committed"
    DISPATCHED = "dispatched"
    ARRIVED = "arrived"  # control handed over to the civil authority
    RELEASED = "released"
    RETURNED = "returned"
    CANCELLED = "cancelled"


#: Bookings that still hold capacity (a request with one is neither withdrawn nor closed).
ACTIVE_LINE_STEPS = frozenset(
    {
        LineStep.MADE_READY,
        LineStep.COMMITTED,
        LineStep.DISPATCHED,
        LineStep.ARRIVED,
        LineStep.RELEASED,
    }
)

_S = RequestStatus
#: Statuses in which the request is still pending: asked, and neither ended nor withdrawn.
_PENDING = (_S.SUBMITTED, _S.RECEIVED, _S.ASSESSED, _S.FORWARDED, _S.DECIDING, _S.APPROVED)
#: Statuses in which what a request wants counts as demand against supply
#: (AssistanceRequest.demanding adds the refused remainder where the providers decide).
PENDING_STATUSES = frozenset(_PENDING)
#: Statuses in which a booking can still be active (withdrawing and closing need none).
_MAY_HOLD_CAPACITY = (*_PENDING, _S.REFUSED, _S.APPEALED)
_EVERY = tuple(RequestStatus)

#: For each step, the statuses it may follow. Beyond the status, each step needs the state it
#: acts on (a form outstanding, a booking of the actor's, advice given, ...); those rules are in
#: ``AssistanceRequest.check_step``, which every command and ``open_steps`` share.
STEP_STATUSES: dict[Step, tuple[RequestStatus, ...]] = {
    Step.SUBMIT: (_S.DRAFT,),
    Step.FORMALISE: tuple(s for s in _EVERY if s is not _S.DRAFT),
    Step.AMEND: (_S.DRAFT, _S.SUBMITTED, _S.RECEIVED, _S.ASSESSED, _S.FORWARDED),
    Step.WITHDRAW: (_S.DRAFT, *_PENDING, _S.APPEALED),
    Step.RECEIVE: (_S.SUBMITTED,),
    # Art. 58: LE Preparatie confirms on the draft, before the request goes to LOCC (its
    # submission needs it); a phoned-in request has no draft, so it is confirmed afterwards.
    Step.CONFIRM_EXHAUSTION: (_S.DRAFT, _S.SUBMITTED, _S.RECEIVED, _S.ASSESSED),
    Step.ASSESS: (_S.RECEIVED,),
    # The remainder after a provider's refusal or partial grant goes to another provider
    # (shares, below): forward also follows approved and refused; decide follows approved
    # (each provider decides its own share, also once another's grant approved the request).
    Step.FORWARD: (_S.ASSESSED, _S.FORWARDED, _S.DECIDING, _S.APPROVED, _S.REFUSED),
    # ... and on an appeal, DGPOL advises the Minister (art. 56(4)).
    Step.ADVISE: (_S.FORWARDED, _S.DECIDING, _S.APPEALED),
    Step.DECIDE: (_S.FORWARDED, _S.DECIDING, _S.APPROVED),
    Step.DECIDE_PRIORITY: (*_PENDING, _S.APPEALED),
    Step.APPEAL: (_S.REFUSED, _S.APPROVED),  # a whole or a partial refusal
    Step.DECIDE_APPEAL: (_S.APPEALED,),
    Step.MAKE_READY: (*_PENDING, _S.APPEALED),
    Step.COMMIT: (_S.APPROVED,),
    Step.DISPATCH: (_S.APPROVED, _S.APPEALED),
    Step.ARRIVE: (_S.APPROVED, _S.APPEALED),
    Step.EXTEND: (_S.APPROVED, _S.APPEALED),
    Step.RELIEVE: (_S.APPROVED, _S.APPEALED),
    Step.RELEASE: _MAY_HOLD_CAPACITY,
    Step.RETURN: _MAY_HOLD_CAPACITY,
    Step.CLOSE: (_S.APPROVED, _S.REFUSED, _S.WITHDRAWN),
    Step.EVALUATE: (_S.CLOSED,),
    # A correction voids the latest step recorded in error, whatever the status it led to;
    # only its recorder voids it (AssistanceRequest.check_step: 403 not_own_step).
    Step.VOID: _EVERY,
    # A duty to inform falls due after a step of the procedure (domain/duties.py): a feedback
    # to IFV after closing too.
    Step.INFORM: tuple(s for s in _EVERY if s is not _S.DRAFT),
}

#: The lifecycle table read the other way: the steps that may follow each status.
NEXT_STEPS: dict[RequestStatus, tuple[Step, ...]] = {
    status: tuple(step for step, after in STEP_STATUSES.items() if status in after)
    for status in RequestStatus
}

#: Steps that create a request: they follow no status.
CREATING_STEPS = (Step.DRAFT, Step.PHONE_IN)

#: The booking steps: from which steps of a booking each may be taken.
BOOKING_STEPS: dict[Step, tuple[LineStep, ...]] = {
    Step.COMMIT: (LineStep.MADE_READY,),  # a booking made ready earlier is committed in place
    Step.DISPATCH: (LineStep.COMMITTED,),
    Step.ARRIVE: (LineStep.DISPATCHED,),
    Step.EXTEND: (LineStep.DISPATCHED, LineStep.ARRIVED),
    Step.RELIEVE: (LineStep.ARRIVED,),
    Step.RELEASE: (
        LineStep.MADE_READY,
        LineStep.COMMITTED,
        LineStep.DISPATCHED,
        LineStep.ARRIVED,
    ),
    Step.RETURN: (LineStep.RELEASED,),
}

#: Deployment happens only after formal approval: these steps refused for the request's status
#: answer ``not_approved`` (clients match on it), every other step ``out_of_order``.
DEPLOYMENT_STEPS = frozenset({Step.COMMIT, Step.DISPATCH, Step.ARRIVE, Step.EXTEND, Step.RELIEVE})

#: The posted API type of each request step (``api.commands`` registers its models under these
#: names; ``open_steps`` names them for the caller).
STEP_TYPES: dict[Step, str] = {
    Step.DRAFT: "request.drafted",
    Step.PHONE_IN: "request.phoned_in",
    Step.SUBMIT: "request.submitted",
    Step.FORMALISE: "request.formalised",
    Step.AMEND: "request.amended",
    Step.WITHDRAW: "request.withdrawn",
    Step.RECEIVE: "request.received",
    Step.CONFIRM_EXHAUSTION: "request.exhaustion_confirmed",
    Step.ASSESS: "request.assessed",
    Step.FORWARD: "request.forwarded",
    Step.ADVISE: "request.advised",
    Step.DECIDE: "request.decided",
    Step.DECIDE_PRIORITY: "request.priority_decided",
    Step.APPEAL: "request.appealed",
    Step.DECIDE_APPEAL: "request.appeal_decided",
    Step.MAKE_READY: "request.made_ready",
    Step.COMMIT: "request.committed",
    Step.DISPATCH: "request.dispatched",
    Step.ARRIVE: "request.arrived",
    Step.EXTEND: "request.extended",
    Step.RELIEVE: "request.relieved",
    Step.RELEASE: "request.released",
    Step.RETURN: "request.returned",
    Step.CLOSE: "request.closed",
    Step.EVALUATE: "request.evaluated",
    Step.VOID: "request.voided",
    Step.INFORM: "request.informed",
}

# --- what a refusal means ---------------------------------------------------------------------
# ``AssistanceRequest.check_step`` refuses only with the codes below (for an actor whose
# organisation is known, as every credential's is). A step it passes, the one ``open_steps``
# offers, is refused only for its data: the codes not listed here (a missing reason, a quantity
# above what was granted, a capacity already booked, an unknown recipient, ...), or one of
# these because the data names what is not the actor's: a booking or capacity of another
# provider (``not_own_capacity``), a line it does not provide (``not_a_provider_of_capability``)
# or was not asked for (``not_asked``), an authority that is not ``minister_jv`` for the
# Minister's decisions (``wrong_decider``), a step that is not the latest (``void_not_latest``).

#: Refusals for who the actor is: the rights table and the party a step belongs to.
RIGHTS_CODES = frozenset(
    {
        "read_only_role",
        "step_not_permitted",
        "not_own_request",
        "wrong_hub",
        "wrong_decider",
        "not_own_capacity",
        "not_a_provider_of_capability",
        "not_asked",
        "not_own_step",
    }
)

#: Refusals for where the request is: the lifecycle table and the state a step needs.
LIFECYCLE_CODES = frozenset(
    {
        "out_of_order",
        "not_approved",
        "nothing_to_formalise",
        "duplicate_step",
        "advice_missing",
        "nothing_to_commit",
        "active_bookings",
        "void_not_latest",
        "no_duty_outstanding",
        "nothing_to_forward",
    }
)
