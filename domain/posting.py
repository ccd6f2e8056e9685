"""Running a post: each command, in order, on one unit of work.

Before a step's own rules, the caller's right to see what it acts on (domain/policy.py: acting
needs seeing) and EDXL-RM threading (correlation = the subject's first message, causation = the
message answered). A refusal names the item it refuses (``DomainError.at``); nothing of the
post is recorded then.
"""

from __future__ import annotations

from uuid import UUID

from domain import policy
from domain.commands import Command, Post, Unit
from domain.errors import Conflict, DomainError, NotFound
from domain.handlers import HANDLERS


def execute(post: Post, unit: Unit) -> None:
    """Run every command of ``post`` on ``unit``; raises the first refusal."""
    # Threads start afresh on every run: the writer may run the post again on fresh state.
    threads: dict[UUID, tuple[str, str | None]] = {}
    reader = post.reader
    unit.reader_level = policy.reader_level(reader)
    for command in post.commands:
        subject = command.subject
        if subject not in threads:
            # Message ids of the subject's first and latest steps (none yet: a new subject).
            existing = unit.peek(subject)
            threads[subject] = ("", None) if existing is None else existing.thread
            hidden(unit, command, reader)
        hidden_capacity(unit, command, reader)
        first, last = threads[subject]
        if not first and not command.creates:
            raise NotFound(
                "unknown_subject", "mlob API", subject_kind=command.subject_kind, subject=subject
            ).at(command.index)
        first = first or command.envelope.message_id
        envelope = command.envelope.threaded(command.envelope.correlation_id or first, last)
        try:
            HANDLERS[command.type](unit, envelope, subject, command.data, command.expected_version)
        except DomainError as exc:
            not_possible_now(unit, command, reader)
            raise exc.at(command.index) from None
        threads[subject] = (first, command.envelope.message_id)


def hidden(unit: Unit, command: Command, reader: policy.Reader) -> None:
    """A subject the caller may not see does not exist for the caller (acting needs seeing,
    domain/policy.py): the answer is the same 404 as for an unknown subject (no refusal code
    may reveal it). Decided on the subject as the caller's clearance shows it: a classified
    step that adds a region or an organisation does not let them act."""
    if unit.peek(command.subject) is None:
        return
    seen = unit.peek_at(command.subject, policy.reader_level(reader))
    if seen is None or not policy.may_see_subject(reader, seen):
        raise NotFound(
            "unknown_subject",
            "mlob API",
            subject_kind=command.subject_kind,
            subject=command.subject,
        ).at(command.index)


def hidden_capacity(unit: Unit, command: Command, reader: policy.Reader) -> None:
    """A capacity classified above the actor's clearance cannot be booked: 404 as unknown.
    (Capacities are not scoped: the national overview shows every provider's.)"""
    capacity_id = command.capacity_id
    if capacity_id is None:
        return
    capacity = unit.peek(capacity_id)
    if capacity is not None and not policy.cleared(reader, policy.classification_of(capacity)):
        # Word for word what an unknown capacity answers (the unit of work's get).
        raise NotFound(
            "unknown_subject", "mlob store", subject_kind="Capacity", subject=capacity_id
        ).at(command.index)


def not_possible_now(unit: Unit, command: Command, reader: policy.Reader) -> None:
    """A refusal on a subject (or the capacity it books) that has steps above the actor's
    clearance may rest on what the actor cannot see: it is answered without its reason."""
    involved = [command.subject]
    if command.capacity_id is not None:
        involved.append(command.capacity_id)
    for subject in involved:
        existing = unit.peek(subject)
        if existing is not None and not policy.cleared(reader, existing.top_level):
            raise Conflict("not_possible_now", policy.SOURCE).at(command.index)
