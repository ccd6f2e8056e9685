"""Take docs/screen.png: the coordination-centre screen on the demo, as the LOCC coordinator,
at 1920x1080 in Debian's headless Chromium (``make screenshot``); and docs/desk.png: the desk
(``/desk``) as LOCC, on the demo's urgent pump request with its assessment form open."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from tests.servers import Server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


def desk(page: Page, url: str, token: str, target: Path) -> None:
    page.goto(f"{url}/desk")
    page.fill("#token", token)
    page.click("#signin-button")
    page.wait_for_selector("#connection.live")
    page.click('#request-list a:has-text("Pumps for \'s-Hertogenbosch")')
    page.click('.actions button[data-step="assess"]')
    page.wait_for_selector("form.step-form")
    page.wait_for_timeout(500)
    page.screenshot(path=str(target))


def main(
    target: Path = ROOT / "docs" / "screen.png", desk_target: Path = ROOT / "docs" / "desk.png"
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(
            f"sqlite:///{Path(tmp) / 'mlob.sqlite3'}",
            args=["--demo"],
            output=Path(tmp) / "serve.log",
        ).start()
        try:
            token = server.demo_tokens()["LOCC"]
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1920, "height": 1080})
                page.goto(server.url)
                page.fill("#token", token)
                page.click("#signin-button")
                page.wait_for_selector("#board tr[data-id]")
                page.wait_for_selector("#connection.live")
                page.wait_for_timeout(500)
                page.screenshot(path=str(target))
                desk(
                    browser.new_page(viewport={"width": 1600, "height": 1000}),
                    server.url,
                    token,
                    desk_target,
                )
                browser.close()
        finally:
            server.kill()
    print(f"wrote {target.relative_to(ROOT)} and {desk_target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
