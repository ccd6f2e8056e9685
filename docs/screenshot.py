"""Take docs/screen.png: the coordination-centre screen on the demo, as the LOCC coordinator,
at 1920x1080 in Debian's headless Chromium (``make screenshot``)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.servers import Server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


def main(target: Path = ROOT / "docs" / "screen.png") -> None:
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
                browser.close()
        finally:
            server.kill()
    print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
