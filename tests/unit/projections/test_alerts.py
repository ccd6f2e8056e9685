"""Alerts (issue 24): derived from the request board's own overdue rule, for the organisation
that must act and the requester, once per crossing, told only to readers the policy lets see
the request's row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.envelope import Classification
from domain.kinds import RequestKind as K
from projections.alerts import (
    alert_channels,
    alert_for,
    alerts,
    alerts_and_deadlines,
    crossings_to_come,
    parties,
)
from projections.readmodels import DEFAULT_TARGETS
from projections.specs import request_row
from tests.unit.domain.catalogue import CAP
from tests.unit.domain.helpers import chair, line, submitted, through_hub


@dataclass(frozen=True)
class Reader:
    org: str
    role: str
    clearance: Classification


def since(row: dict) -> datetime:
    return datetime.fromisoformat(row["status_since"])


def test_a_step_past_its_target_alerts_the_hub_and_the_requester_once() -> None:
    row = request_row(submitted("VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"], 5)))
    start = since(row)
    assert alerts({0: [row]}, start + timedelta(hours=3), DEFAULT_TARGETS) == []
    [alert] = alerts({0: [row]}, start + timedelta(hours=5), DEFAULT_TARGETS)
    assert (alert["step"], alert["body"]["alert"]) == ("overdue:submitted", "step_overdue")
    assert alert["body"]["must_act"] == ["LOCC"] and alert["orgs"] == ["LOCC", "VR08"]
    # Later ticks: the same crossing (its subject, step and when the wait began).
    [again] = alerts({0: [row]}, start + timedelta(days=2), DEFAULT_TARGETS)
    key = (alert["subject"], alert["step"], alert["crossing"])
    assert (again["subject"], again["step"], again["crossing"]) == key
    assert "region:VR08" in alert_channels({**alert, "id": 1})


def test_an_outstanding_decision_alerts_the_provider_asked() -> None:
    request = submitted("VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"], 5))
    row = request_row(through_hub(request, "LOCC", to=("VR07",)))
    [alert] = alerts({0: [row]}, since(row) + timedelta(days=3), DEFAULT_TARGETS)
    assert alert["body"]["alert"] == "decision_outstanding"
    assert alert["body"]["must_act"] == ["VR07"] and sorted(alert["orgs"]) == ["VR07", "VR08"]


def test_who_is_told_follows_the_policy() -> None:
    row = request_row(submitted("VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"], 5)))
    [alert] = alerts({0: [row]}, since(row) + timedelta(hours=5), DEFAULT_TARGETS)
    uncl = Classification.UNCLASSIFIED
    assert alert_for(Reader("VR08", "viewer", uncl), alert)
    assert alert_for(Reader("LOCC", "operator", uncl), alert)
    assert not alert_for(Reader("VR09", "operator", uncl), alert), "not its alert"
    classified = {**alert, "level": 3}
    assert not alert_for(Reader("VR08", "operator", uncl), classified), "not cleared"
    assert alert_for(Reader("VR08", "operator", Classification.STATE_SECRET_SECRET), classified)


def test_parties_name_organisations_of_a_kind_involved() -> None:
    row = {"involved": ["VR08", "LOCC", "DEF-DOPS"]}
    assert parties("jv_locc", row) == ["LOCC"]
    assert parties("VR07,LOCC", row) == ["VR07", "LOCC"]
    assert parties(None, row) == []


def test_parties_name_the_parties_of_the_route() -> None:
    """The board names some actors by their party in the rights table (an appeal with its
    advice in waits for ``minister_jv``; a fallback waits for ``provider``): an alert for
    them reaches the organisations of those kinds, involved ones first."""
    row = {"kind": "police_art56_public_order", "involved": ["POL-ON", "POL-LE", "LOCC"]}
    assert parties("minister_jv", row) == ["LOCC"]  # records the decision (was nobody)
    assert set(parties("minister_jv", {**row, "involved": ["JV-MIN"]})) == {"JV-MIN"}
    assert parties("hub", row) == ["POL-LE"]
    assert parties("provider", {"kind": "region_art51", "involved": ["VR08", "VR07"]})


def test_the_next_deadline_is_when_the_next_alert_falls_due() -> None:
    """What the runner's deadline queue keeps: the earliest deadline still to come (none once
    every one passed); and the crossings a row can still alert, which retention keeps."""
    row = request_row(submitted("VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"], 5)))
    start = since(row)
    due, deadlines = alerts_and_deadlines({0: [row]}, start, DEFAULT_TARGETS)
    assert due == [] and deadlines == {row["id"]: start + timedelta(hours=4)}
    assert alerts({0: [row]}, deadlines[row["id"]], DEFAULT_TARGETS) != []
    assert alerts({0: [row]}, deadlines[row["id"]] - timedelta(seconds=1), DEFAULT_TARGETS) == []
    due, deadlines = alerts_and_deadlines({0: [row]}, start + timedelta(hours=5), DEFAULT_TARGETS)
    assert len(due) == 1 and deadlines == {}
    [alert] = due
    to_come = crossings_to_come({0: [row]}, DEFAULT_TARGETS)
    assert (alert["subject"], alert["step"], alert["crossing"]) in to_come
    moved = request_row(
        through_hub(
            submitted("VR08", K.REGION_ART51, chair("VR08"), line(CAP["fire"], 5)),
            "LOCC",
            to=("VR07",),
        )
    )
    assert all(
        step != "overdue:submitted"
        for _, step, _ in crossings_to_come({0: [moved]}, DEFAULT_TARGETS)
    ), "left the step: that crossing cannot come again"
