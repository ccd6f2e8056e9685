"""The screen's page and assets as the server serves them (no browser needed): ``/`` without a
token, every asset it loads from this server only, ``/v1/whoami``, and the package data that
makes a non-editable install serve them too."""

from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatch

from api.screen import STATIC
from domain.envelope import Classification
from tests import ROOT
from tests.integration.api.conftest import Api


def test_the_page_needs_no_token_and_loads_nothing_from_elsewhere(api: Api) -> None:
    page = api.client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert '<script type="module" src="/screen/screen.js">' in page.text
    # Every asset the page and its modules name is served, from here.
    wanted = set(re.findall(r'(?:href|src)="(/screen/[^"]+)"', page.text))
    for module in STATIC.glob("*.js"):
        wanted |= {f"/screen/{m}" for m in re.findall(r'from "\./([^"]+)"', module.read_text())}
    assert {"/screen/screen.css", "/screen/model.js", "/screen/feed.js"} <= wanted
    for path in sorted(wanted):
        answer = api.client.get(path)
        assert answer.status_code == 200, path
        kind = "text/css" if path.endswith(".css") else "text/javascript"
        assert answer.headers["content-type"].startswith(kind), path
    # mlob's own assets name no other site (the vendored Swagger UI of /docs does, in code
    # paths /docs never takes; its page's CSP allows no other origin: test_strict_input.py).
    for asset in STATIC.iterdir():
        if asset.is_file():
            assert not re.search(r"https?://", asset.read_text()), f"{asset.name} names a site"
    assert api.client.get("/screen/nothing.js").status_code == 404
    assert "/" not in api.client.get("/openapi.json").json()["paths"]


def test_whoami_tells_the_token_its_own(api: Api) -> None:
    assert api.client.get("/v1/whoami").status_code == 401
    headers = api.headers("INSP-JENV", "auditor", clearance=Classification.STATE_SECRET_SECRET)
    me = api.client.get("/v1/whoami", headers=headers).json()
    assert me == {
        "org": "INSP-JENV",
        "role": "auditor",
        "clearance": Classification.STATE_SECRET_SECRET.value,
        "person": None,
    }


def test_a_non_editable_install_carries_every_asset() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["api"]
    for asset in (a for a in STATIC.rglob("*") if a.is_file()):
        relative = asset.relative_to(STATIC.parent).as_posix()
        assert any(fnmatch(relative, p) for p in patterns), f"{relative} is not package data"


def _js_strings(name: str) -> list[str]:
    """The strings of ``export const NAME = [...]`` (or ``new Set([...])``) in readmodels.js."""
    text = (STATIC / "readmodels.js").read_text()
    match = re.search(rf"export const {name} = (?:new Set\()?\[(.*?)\]", text, re.S)
    assert match, f"{name} not found in readmodels.js"
    return re.findall(r'"([^"]+)"', match.group(1))


def test_the_screen_states_the_servers_request_and_capacity_states() -> None:
    """The screen recomputes the board and the capacity figures from the feed: its lists of open
    request statuses and capacity states must be the server's (projections/readmodels.py)."""
    from projections.readmodels import CAPACITY_STATES, OPEN_VALUES

    assert set(_js_strings("OPEN")) == set(OPEN_VALUES)
    assert _js_strings("STATES") == list(CAPACITY_STATES)
