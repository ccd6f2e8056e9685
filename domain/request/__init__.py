"""Assistance requests (*bijstandsaanvragen*): the lifecycle and the rules of each step.

- :mod:`domain.request.events`: what a request's history is made of — the value types its
  events carry (:class:`RequestLine`, :class:`LineBooking`, :class:`Decision`,
  :class:`Outcome`, :class:`Share`, :class:`LineShare`) and the events, each with its stored
  topic and how it changes the state.
- :mod:`domain.request.rules`: the rules that need no request — the legal sources cited,
  which parties take which step, who provides a capability, and the checks of a step's data.
- :mod:`domain.request.aggregate`: :class:`AssistanceRequest` — its state, who may take which
  step now (``check_step``, :func:`open_steps`) and its commands, one method a step (the
  events are its nested classes, as eventsourcing records them).

Imports run one way: ``aggregate`` -> ``rules`` -> ``events``. Everyone else imports from
this package.
"""

from domain.request.aggregate import AssistanceRequest, open_steps
from domain.request.events import (
    Decision,
    LineBooking,
    LineShare,
    Outcome,
    RequestLine,
    Share,
    with_step,
)
from domain.request.rules import DEPLOYMENT

__all__ = [
    "DEPLOYMENT",
    "AssistanceRequest",
    "Decision",
    "LineBooking",
    "LineShare",
    "Outcome",
    "RequestLine",
    "Share",
    "open_steps",
    "with_step",
]
