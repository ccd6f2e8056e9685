"""The base of mlob's aggregates: every event carries an :class:`Envelope`."""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate

from domain.envelope import Envelope


class MlobAggregate(Aggregate):
    """An event-sourced aggregate whose events all carry the envelope of their step.

    Subclasses set an explicit ``TOPIC`` on themselves and on every event class, so that
    renaming a class never breaks stored history.
    """

    class Event(Aggregate.Event):
        envelope: Envelope

    class Created(Event, Aggregate.Created):
        pass

    def regions_concerned(self) -> tuple[str, ...]:
        """Safety-region codes this aggregate concerns (for the event index and feeds)."""
        return ()

    def emit(self, event_class: type[Aggregate.Event], envelope: Envelope, **kwargs: Any) -> None:
        """Record that ``event_class`` happened: the rules were checked by the caller."""
        self.trigger_event(event_class, envelope=envelope, **kwargs)
