"""The desk's other steps in a real headless Chromium against ``mlob serve --demo`` (issue 22,
"what each party can do from it"), through the generated forms only (no JSON, no id typed):
a region opens an incident and reports its situation, and voids that report with a reason; a
provider registers a capacity and marks part of it unavailable (a refused field showing its own
Dutch message); a police unit appeals the
korpschef's refusal; the Minister decides a priority; LOCC records a duty to inform done; a
provider extends its deployment. The request walk itself is test_desk.py's."""

from __future__ import annotations

import contextlib
import time
import uuid
from typing import TYPE_CHECKING, Any

from tests.e2e.screen.conftest import DemoServer, post
from tests.e2e.screen.test_desk import (
    act,
    choose,
    field,
    form,
    on_timeline,
    open_desk,
    open_request,
    record,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

with contextlib.suppress(ImportError):
    from playwright.sync_api import expect

NIJMEGEN = {"body": "mayor", "of": "Nijmegen"}


def create(page: Page, type_name: str) -> None:
    page.click(f'#create button[data-create="{type_name}"]')
    expect(form(page)).to_be_visible()


def test_incidents_capacities_corrections_and_appeals_from_the_desk(
    browser: Browser, demo: DemoServer
) -> None:
    started = time.monotonic()
    refused = refused_police_request(demo)
    region, provider, police, minister = (
        open_desk(browser, demo, org) for org in ("VR08", "VR07", "POL-ON", "JV-MIN")
    )

    # A region opens an incident from the top of its desk and lands on its page ...
    title = f"Dijkdoorbraak Ooij {uuid.uuid4().hex[:4]}"
    create(region, "incident.opened")
    field(region, "Titel").fill(title)
    form(region).get_by_label("VR08", exact=False).first.check()
    field(region, "GRIP-niveau").select_option("2")
    record(region)
    expect(region.locator("article.incident h2")).to_contain_text(title)
    expect(region.locator("#incident-list")).to_contain_text(title)
    # ... reports the situation (a step the incident's open_steps offers) ...
    act(region, "report")
    field(region, "Situatiebeeld").fill("Water stijgt; evacuatie Ooij begonnen")
    record(region)
    expect(region.locator("article.incident .report")).to_contain_text("evacuatie Ooij")
    on_timeline(region, "situatierapport")
    # ... and voids it, with a reason: the version it names is the desk's, never typed.
    act(region, "void")
    field(region, "Reden").fill("verkeerd incident")
    record(region)
    on_timeline(region, "stap vervallen")
    expect(region.locator("article.incident .report")).to_have_count(0)

    # A provider registers a capacity and marks one of the three unavailable.
    create(provider, "capacity.registered")
    choose(field(provider, "Capaciteit"), "FIRE_WATER_SUPPLY")
    field(provider, "Aantal").fill("3")
    field(provider, "Naam").fill("Pompen Tiel")
    record(provider)
    expect(provider.locator("article.capacity h2")).to_contain_text("Pompen Tiel")
    expect(provider.locator("article.capacity .meta")).to_contain_text("beschikbaar 3 van 3")
    act(provider, "change_availability")
    field(provider, "Niet beschikbaar").fill("1")
    field(provider, "Reden").fill("onderhoud")
    # A refusal of a field's schema check: its own Dutch message is shown at the field.
    refusal = {
        "status": 422,
        "code": "invalid_data",
        "reason": "De gegevens voldoen niet aan het type capacity.availability_changed.",
        "source": "mlob API",
        "details": [
            {
                "loc": ["unavailable"],
                "pointer": "/data/unavailable",
                "msg": "Mag hoogstens 3 zijn.",
                "type": "less_than_equal",
            }
        ],
    }
    provider.route("**/v1/events", lambda route: route.fulfill(status=422, json={"error": refusal}))
    form(provider).get_by_role("button", name="Vastleggen").click()
    at_field = form(provider).locator('[data-pointer="/data/unavailable"] .refusal')
    expect(at_field).to_contain_text("Mag hoogstens 3 zijn.")
    expect(at_field).to_contain_text("De gegevens voldoen niet aan het type")
    provider.unroute("**/v1/events")
    record(provider)
    expect(provider.locator("article.capacity .meta")).to_contain_text(
        "beschikbaar 2 van 3", timeout=10_000
    )
    on_timeline(provider, "inzetbaarheid gewijzigd")
    expect(provider.locator("#capacity-list")).to_contain_text("Pompen Tiel")

    # The police unit appeals the korpschef's refusal, signed by the mayor it chooses.
    police.goto(f"{demo.url}/desk#/r/{refused}")
    act(police, "appeal")
    expect(field(police, "Gezag")).to_have_value("mayor")
    choose(field(police, "Van"), "Nijmegen")
    field(police, "Gronden").fill("openbare orde in gevaar")
    record(police)
    on_timeline(police, "beroep ingesteld")

    # The Minister decides a priority under scarcity on a request the demo has open.
    open_request(minister, "Evacuation transport Venlo")
    act(minister, "decide_priority")
    choose(field(minister, "Capaciteit"), "DEF_EVACUATION_TRANSPORT")
    field(minister, "Rang").fill("1")
    field(minister, "Redenen").fill("levensreddend")
    record(minister)
    on_timeline(minister, "prioriteit besloten")

    # LOCC records a duty to inform done: the duty and its addressee chosen from lists.
    locc = open_desk(browser, demo, "LOCC")
    open_request(locc, "KMar for traffic control Venlo")
    act(locc, "inform")
    choose(field(locc, "Informatieplicht"), "locc_informs_korpschef")
    choose(field(locc, "Aan"), "POL-LE")
    record(locc)
    on_timeline(locc, "geïnformeerd")

    # A provider extends its deployment: its booking by name, the new end by the calendar.
    defence = open_desk(browser, demo, "DEF-DOPS")
    open_request(defence, "Evacuation transport Beuningen")
    act(defence, "extend")
    choose(field(defence, "Boeking"), "DEF-DOPS")
    field(defence, "Tot").fill("2026-12-31T12:00")
    field(defence, "Reden").fill("evacuatie duurt langer")
    record(defence)
    on_timeline(defence, "inzet verlengd")

    took = time.monotonic() - started
    print(f"the steps took {took:.1f} s")
    assert took <= 60
    for page in (region, provider, police, minister, locc, defence):
        assert page.errors == []  # type: ignore[attr-defined]
        page.context.close()


def refused_police_request(demo: DemoServer) -> str:
    """A request of POL-ON for mobile units the korpschef (LE) refused, posted from outside
    the page: the precondition of an appeal (art. 56(4) Politiewet 2012)."""
    subject = uuid.uuid4()
    line = {
        "line_id": "L1",
        "capability": "POLICE_ME",
        "quantity": 1,
        "effect": "evacuatieroutes openhouden",
        "municipality": "Nijmegen",
    }
    steps: list[tuple[str, str, dict[str, Any], dict[str, str] | None]] = [
        (
            "POL-ON",
            "request.drafted",
            {
                "kind": "police_art56_public_order",
                "title": "ME Ooij",
                "lines": [line],
                "justifications": {
                    "own_capacity_insufficient": "alle ME ingezet",
                    "region_mayor_view": "eens",
                },
            },
            NIJMEGEN,
        ),
        ("POL-ON", "request.submitted", {}, NIJMEGEN),
        ("POL-LE", "request.received", {}, None),
        ("POL-LE", "request.assessed", {"forward": True, "findings": "nodig"}, None),
        ("POL-LE", "request.forwarded", {"to": ["POL-MN"]}, None),
        ("POL-LE", "request.decided", {"outcome": "refused", "reasons": "geen ME vrij"}, None),
    ]
    for org, type_name, data, authority in steps:
        post(demo, org, type_name, subject, data, **({"authority": authority} if authority else {}))
    return str(subject)
