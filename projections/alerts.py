"""Alerts: who must be told that a request waits too long (issue 24).

Derived from the request board (:func:`projections.readmodels.board`: the same targets and the
same overdue rule the board and the feed's clock use, never a second one): when a step passes
its target (a decision outstanding included: ``forwarded``, ``deciding``, ``appealed``), an
urgent request's signed form is overdue, or a duty to inform is overdue, the organisation that
must act and the requesting organisation each get an alert. An alert is one crossing: its
subject, its step and when the wait began (``crossing``); the same request entering the step
again later is a new crossing.

Each alert is computed from the request's row at one clearance level (projections/levels.py)
and carries that level and the row's concerns, so whoever is told of it is told through the
policy (``domain.policy.may_see_row``) exactly as a reader of that row would be.

Pure: no web, persistence or database code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from domain import policy
from domain.kinds import KIND_RULES, RequestKind
from domain.reference import organisation, organisations
from domain.rights import party_kinds
from projections.overdue import keep_earliest
from projections.readmodels import Targets, board

Row = dict[str, Any]

#: Steps whose outstanding work is a decision.
DECISIONS = frozenset({"forwarded", "deciding", "appealed"})


def parties(who: str | None, row: Row) -> list[str]:
    """The organisations a board's ``next_actor`` (or a duty's ``by``) names: organisation
    codes as they are; a party of the route (``hub``, ``provider``, ``minister_jv``: the
    rights table's names, domain.rights.party_kinds) or an organisation kind as the
    organisations of those kinds involved in the request (all of them when none is)."""
    found: list[str] = []
    involved = set(row.get("involved") or ())
    rule = KIND_RULES[RequestKind(row["kind"])] if row.get("kind") else None
    for part in filter(None, (p.strip() for p in (who or "").split(","))):
        try:
            found.append(organisation(part).code)
            continue
        except KeyError:
            pass
        try:
            kinds = set(party_kinds(rule, part)) if rule is not None else {part}
        except ValueError:  # not a party of the route: an organisation kind
            kinds = {part}
        of_kind = [o.code for o in organisations() if o.kind.value in kinds]
        found += [o for o in of_kind if o in involved] or of_kind
    return list(dict.fromkeys(found))


def _alert(
    row: Row, item: Row, level: int, step: str, crossing: str, kind: str, acting: list[str]
) -> Row:
    requester = item["requester"]
    orgs = list(dict.fromkeys([*acting, requester]))
    return {
        "subject": item["id"],
        "step": step,
        "crossing": crossing,
        "level": level,
        "orgs": orgs,
        "concerns": {
            "regions": list(row.get("regions") or ()),
            "involved": list(row.get("involved") or ()),
        },
        "body": {
            "alert": kind,
            "subject": item["id"],
            "step": step,
            "since": crossing,
            "must_act": acting,
            "requester": requester,
            "orgs": orgs,
            "request": {
                "id": item["id"],
                "kind": item["kind"],
                "title": item["title"],
                "regions": item["regions"],
                "urgent": item["urgent"],
                "status": item["status"],
                "step": item["step"],
                "next_actor": item["next_actor"],
                "due_at": item["due_at"],
                "formalisation_due_at": item["formalisation_due_at"],
            },
            "classification": item["classification"],
            "exercise": item["exercise"],
        },
    }


def alerts(
    rows_by_level: Mapping[int, Iterable[Row]], now: datetime, targets: Targets
) -> list[Row]:
    """Every alert due at ``now``: each (subject, step, crossing) once, from the lowest level
    whose row shows it (a reader cleared higher is told of it too, as it sees that row)."""
    return alerts_and_deadlines(rows_by_level, now, targets)[0]


def alerts_and_deadlines(
    rows_by_level: Mapping[int, Iterable[Row]], now: datetime, targets: Targets
) -> tuple[list[Row], dict[str, datetime]]:
    """:func:`alerts` due at ``now``, and when each request's next alert falls due (its rows'
    earliest deadline after ``now``, at any level, by :mod:`projections.overdue`'s rule; none:
    no alert is to come until the row changes). A caller need look at a request again only
    when it changes or at that moment."""
    found: dict[tuple[str, str, str], Row] = {}
    deadlines: dict[str, datetime] = {}
    for level in sorted(rows_by_level):
        rows = {r["id"]: r for r in rows_by_level[level]}
        for item in board(list(rows.values()), now, targets):
            row = rows[item["id"]]
            keep_earliest(deadlines, item)
            candidates = []
            if item["overdue"]:
                kind = "decision_outstanding" if item["step"] in DECISIONS else "step_overdue"
                candidates.append(
                    (
                        f"overdue:{item['step']}",
                        item["in_step_since"],
                        kind,
                        parties(item["next_actor"], row),
                    )
                )
            if item["formalisation_overdue"]:
                candidates.append(
                    (
                        "formalisation_overdue",
                        item["submitted_at"],
                        "formalisation_overdue",
                        [item["requester"]],
                    )
                )
            for duty in item["duties_outstanding"]:
                if duty["overdue"]:
                    candidates.append(
                        (
                            f"inform_overdue:{duty['duty']}",
                            duty["since"],
                            "inform_overdue",
                            parties(duty["by"], row),
                        )
                    )
            for step, crossing, kind, acting in candidates:
                key = (item["id"], step, crossing)
                if key not in found:
                    found[key] = _alert(row, item, level, step, crossing, kind, acting)
    return list(found.values()), deadlines


#: A moment after every deadline: what the rows could still alert, ever.
_EVER = datetime(9000, 1, 1, tzinfo=UTC)


def crossings_to_come(rows_by_level: Mapping[int, Iterable[Row]], targets: Targets) -> set[Any]:
    """The (subject, step, crossing) keys these rows could still alert, now or later (the
    alerts due after every deadline). A stored alert whose key is not among its request's is
    a crossing that cannot come again (the request left that step, or its wait ended):
    forgetting it cannot make it alert twice."""
    return {
        (a["subject"], a["step"], a["crossing"])
        for a in alerts_and_deadlines(rows_by_level, _EVER, targets)[0]
    }


def alert_visible(reader: Any, alert: Row) -> bool:
    """Whether a reader may see a stored alert: cleared for its level, and the request's row
    at that level within its scope (``domain.policy.may_see_row``, the rule every row read
    asks: the feed's rows and the lists)."""
    concerns = alert["concerns"]
    row = {
        "classification": policy.classification_at(alert["level"]).value,
        "regions": concerns["regions"],
        "involved": concerns["involved"],
    }
    return policy.may_see_row(reader, row)


def alert_for(reader: Any, alert: Row) -> bool:
    """An alert is for its organisations only, each within what it may see."""
    return reader.org in alert["orgs"] and alert_visible(reader, alert)


def alert_frame(alert: Row) -> Row:
    """An alert as the feed, the API and webhooks show it: ``{"type": "alert", ...}``."""
    return {"type": "alert", "id": alert["id"], **alert["body"]}


def alert_channels(alert: Row) -> frozenset[str]:
    """The feed channels an alert belongs to: the request's own, its regions', national, and
    the provider channel of each organisation it is for."""
    regions = alert["body"]["request"]["regions"]
    return frozenset(
        [
            "national",
            f"request:{alert['subject']}",
            *(f"region:{r}" for r in regions),
            *(f"provider:{o}" for o in alert["orgs"]),
        ]
    )
