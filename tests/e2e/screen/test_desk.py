"""The desk in a real headless Chromium against a real ``mlob serve --demo``: one browser, one
context per organisation, every step recorded through forms generated from the event types'
schemas, and each step seen live (through the feed) on the other organisations' pages.

A region drafts and submits a request; LOCC receives it, assesses it (keyboard only) and
forwards it in shares to two providers; each provider decides (one first meets a refusal, shown
by the form), commits its own capacity (one registers it first, from the desk's top) and
dispatches it; the region reports arrival. No test types JSON or an id: codes are chosen from
lists, numbers and texts typed into their fields."""

from __future__ import annotations

import contextlib
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from api.commands import REGISTRY
from tests.e2e.screen.conftest import DemoServer, post

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

with contextlib.suppress(ImportError):
    from playwright.sync_api import expect

LIVE = "● LIVE"


def open_desk(browser: Browser, demo: DemoServer, org: str) -> Page:
    page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors  # type: ignore[attr-defined]
    page.goto(f"{demo.url}/desk")
    page.fill("#token", demo.tokens[org])
    page.click("#signin-button")
    expect(page.locator("#connection")).to_have_text(LIVE, timeout=15_000)
    return page


def form(page: Page) -> Locator:
    return page.locator("form.step-form")


def field(page: Page, label: str, nth: int = 0) -> Locator:
    """A form's control by its Dutch label (the schema's title)."""
    return form(page).get_by_label(label, exact=True).nth(nth)


def act(page: Page, step: str) -> None:
    """Open the form of a step open to the caller now (from ``open_steps``)."""
    button = page.locator(f'.actions button[data-step="{step}"]')
    expect(button).to_be_visible(timeout=10_000)
    button.click()
    expect(form(page)).to_be_visible()


def record(page: Page) -> None:
    form(page).get_by_role("button", name="Vastleggen").click()
    expect(page.locator(".recorded")).to_contain_text("Vastgelegd op positie", timeout=10_000)


def on_timeline(page: Page, label: str) -> None:
    expect(page.locator(".timeline li").filter(has_text=label).first).to_be_visible(timeout=10_000)


def choose(select: Locator, text: str) -> None:
    """Pick the option whose label contains ``text`` (as a person reads the list)."""
    select.select_option(label=select.locator("option", has_text=text).first.inner_text())


def open_request(page: Page, title: str) -> None:
    link = page.locator("#request-list a").filter(has_text=title)
    expect(link).to_be_visible(timeout=10_000)
    link.click()
    expect(page.locator("article.request h2")).to_contain_text(title)


def test_a_request_walks_through_the_desk(browser: Browser, demo: DemoServer) -> None:
    started = time.monotonic()
    title = f"Pompen Waal desk {uuid.uuid4().hex[:4]}"
    # A classified request LOCC phoned in for VR23 (posted from outside): its marking shows.
    secret = post_classified(demo)
    region, locc, vr07, vr09 = (
        open_desk(browser, demo, o) for o in ("VR08", "LOCC", "VR07", "VR09")
    )

    # VR07 has no pumps free: it registers two from the top of its desk.
    vr07.click('#create button[data-create="capacity.registered"]')
    choose(field(vr07, "Capaciteit"), "FIRE_WATER_SUPPLY")
    field(vr07, "Aantal").fill("2")
    field(vr07, "Naam").fill("Pompen VR07 reserve")
    record(vr07)

    # 1. The region drafts the request through the generated form, then submits it.
    region.click('#create button[data-create="request.drafted"]')
    field(region, "Soort aanvraag").select_option("region_art51")
    expect(field(region, "Gezag")).to_have_value("chair_safety_region")  # the kind's only one
    expect(field(region, "Van")).to_have_value("VR08")
    choose(field(region, "Capaciteit"), "FIRE_WATER_SUPPLY")
    field(region, "Aantal").fill("2")
    field(region, "Gewenst effect").fill("de polder droogpompen")
    field(region, "Titel").fill(title)
    record(region)
    expect(region.locator("article.request h2")).to_contain_text(title)
    act(region, "submit")
    region.keyboard.press("Escape")  # Esc cancels, and the step's button has the focus again
    expect(form(region)).to_have_count(0)
    assert region.evaluate("document.activeElement.dataset.step") == "submit"
    region.keyboard.press("Enter")
    expect(form(region)).to_be_visible()
    record(region)
    on_timeline(region, "ingediend")

    # 2. LOCC sees it arrive in its list, live, and receives it.
    open_request(locc, title)
    expect(locc.locator("#request-list")).to_contain_text("STG. CONFIDENTIEEL")
    expect(locc.locator("#marking-top")).to_have_text("STG. CONFIDENTIEEL")
    assert secret
    act(locc, "receive")
    record(locc)
    on_timeline(region, "ontvangen")

    # 3. LOCC assesses it with the keyboard alone: Tab to the step, Enter, fill, Enter.
    expect(locc.locator('.actions button[data-step="assess"]')).to_be_visible(timeout=10_000)
    locc.locator("body").focus()
    for _ in range(80):
        locc.keyboard.press("Tab")
        if locc.evaluate("document.activeElement.dataset.step") == "assess":
            break
    else:
        raise AssertionError("Tab never reached the assess step")
    locc.keyboard.press("Enter")
    expect(form(locc)).to_be_visible()
    assert locc.evaluate("document.activeElement.type") == "checkbox"  # Doorzetten
    locc.keyboard.press("Space")
    locc.keyboard.press("Tab")
    locc.keyboard.type("noodzakelijk en proportioneel")
    locc.keyboard.press("Enter")
    expect(locc.locator(".recorded")).to_contain_text("Vastgelegd op positie", timeout=10_000)
    on_timeline(region, "beoordeeld")

    # 4. LOCC forwards it in shares: one pump to VR07, one to VR09.
    act(locc, "forward")
    add = form(locc).get_by_role("button", name="+ Delen")
    for provider in ("VR07", "VR09"):
        add.click()
        row = form(locc).locator(".row").last
        row.get_by_label("Regel", exact=True).select_option("L1")
        choose(row.get_by_label("Leverancier", exact=True), provider)
        row.get_by_label("Aantal", exact=True).fill("1")
    record(locc)
    on_timeline(region, "doorgezet")

    # 5. Each provider decides, commits its own share and dispatches it. VR07 first forgets its
    # reasons for a refusal: the form shows the refusal, and the same form records the grant.
    free = {"VR07": "Pompen VR07 reserve — beschikbaar 2", "VR09": "beschikbaar 4"}
    for provider, page in (("VR07", vr07), ("VR09", vr09)):
        open_request(page, title)
        act(page, "decide")
        if provider == "VR07":
            field(page, "Besluit").select_option("refused")
            form(page).get_by_role("button", name="Vastleggen").click()
            refusal = form(page).locator(".refusal")
            expect(refusal).to_be_visible(timeout=10_000)
            expect(refusal).to_contain_text("reasons_required")
            # Issue 22, Dutch answers: the rules' own Dutch text, at the field it names.
            at_reasons = form(page).locator('[data-pointer="/data/reasons"] .refusal')
            expect(at_reasons).to_contain_text("Een (gedeeltelijke) weigering vermeldt de redenen.")
        field(page, "Besluit").select_option("granted")
        record(page)
        on_timeline(locc, f"besluit — {provider}")
        act(page, "commit")
        field(page, "Regel").select_option("L1")
        # its own capacity, by the name it has on the list (VR07's new one; VR09 has 4 free)
        choose(field(page, "Capaciteit"), free[provider])
        field(page, "Aantal").fill("1")
        record(page)
        on_timeline(region, f"toegezegd — {provider}")
        act(page, "dispatch")
        choose(field(page, "Boeking"), provider)  # its booking, as the list names it
        record(page)
        on_timeline(region, f"vertrokken — {provider}")

    # 6. The region reports both pumps on scene, per line (it knows no booking ids).
    act(region, "arrive")
    field(region, "Regel").select_option("L1")
    field(region, "Aantal").fill("2")
    record(region)
    for page in (locc, vr07, vr09):
        on_timeline(page, "ter plaatse")
    expect(region.locator("table.lines tbody td").nth(5)).to_have_text("2")

    took = time.monotonic() - started
    print(f"the whole walk took {took:.1f} s")
    assert took <= 90
    for page in (region, locc, vr07, vr09):
        assert page.errors == []  # type: ignore[attr-defined]
        page.context.close()


def post_classified(demo: DemoServer) -> str:
    """LOCC phones in a Stg. Confidentieel request for VR23 (from outside the page)."""
    data: dict[str, Any] = dict(REGISTRY["request.phoned_in"].example)
    data.update(requester="VR23", title="Vertrouwelijke bijstand Venlo")
    chair = {"body": "chair_safety_region", "of": "VR23", "capacity": "namens"}
    secret = {"authority": chair, "classification": "stg_confidentieel"}
    post(demo, "LOCC", "request.phoned_in", uuid.uuid4(), data, **secret)
    return str(data["title"])


def test_a_retry_sends_the_same_message_and_a_refusal_sits_at_its_field(
    browser: Browser, demo: DemoServer
) -> None:
    """The network drops the first post: the form says so, and its retry sends the same message
    id, subject and time. A refusal naming a field (``details[].pointer``) is shown at that
    field with its legal source. A paged list (``{"items", "next"}``) loads its next page."""
    page = open_desk(browser, demo, "VR08")
    sent: list[dict[str, Any]] = []
    answers = ["drop", "refuse", "pass"]

    def events(route: Any) -> None:
        sent.append(route.request.post_data_json)
        answer = answers.pop(0)
        if answer == "drop":
            route.abort()
        elif answer == "refuse":
            error = {
                "status": 422,
                "code": "exceeds_catalogue",
                "reason": "Zoveel pompen heeft geen enkele leverancier",
                "source": "art. 51 Wvr",
                "details": [{"pointer": "/data/lines/0/quantity"}],
            }
            route.fulfill(status=422, json={"error": error})
        else:
            route.continue_()

    page.route("**/v1/events", events)
    page.click('#create button[data-create="request.drafted"]')
    field(page, "Soort aanvraag").select_option("region_art51")
    choose(field(page, "Capaciteit"), "FIRE_WATER_SUPPLY")
    field(page, "Aantal").fill("900")
    field(page, "Gewenst effect").fill("de polder droogpompen")
    field(page, "Titel").fill("Pompen, opnieuw geprobeerd")
    submit = form(page).get_by_role("button", name="Vastleggen")
    submit.click()
    expect(form(page).locator(".form-status")).to_contain_text("Niet bevestigd")
    submit.click()
    at_field = form(page).locator('[data-pointer="/data/lines/0/quantity"] .refusal')
    expect(at_field).to_contain_text("Zoveel pompen heeft geen enkele leverancier")
    expect(at_field).to_contain_text("art. 51 Wvr")
    field(page, "Aantal").fill("2")
    submit.click()
    expect(page.locator(".recorded")).to_contain_text("Vastgelegd op positie", timeout=10_000)
    assert len(sent) == 3
    for key in ("message_id", "subject", "occurred_at"):
        assert sent[0][key] == sent[1][key] == sent[2][key], key
    assert sent[0]["data"] == sent[2]["data"] | {"lines": sent[0]["data"]["lines"]}
    expect(page.locator("article.request h2")).to_contain_text("Pompen, opnieuw geprobeerd")

    # A paged list: the first page, then the next one by its cursor.
    asked: list[str] = []

    def paged(route: Any) -> None:
        asked.append(route.request.url)
        first = "cursor=" not in route.request.url
        # The server's own first page, split in two: the fake cursor c2 names its second half.
        parts = urlsplit(route.request.url)
        query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "cursor"])
        answer = route.fetch(url=urlunsplit(parts._replace(query=query))).json()
        rows = answer["items"]
        route.fulfill(
            json={"items": rows[:2] if first else rows[2:], "next": "c2" if first else None}
        )

    page.route(lambda url: "/v1/requests?" in url, paged)  # the list, not a request's page
    page.fill("#search", "x")  # a change of the search box reads the list anew
    page.fill("#search", "")
    expect(page.locator("#more")).to_be_visible(timeout=10_000)
    expect(page.locator("#request-list li")).to_have_count(2)
    page.click("#more")
    expect(page.locator("#more")).to_be_hidden()
    assert page.locator("#request-list li").count() > 2
    assert any("cursor=c2" in url for url in asked)
    assert page.errors == []  # type: ignore[attr-defined]
    page.context.close()
