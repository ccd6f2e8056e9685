"""The desk's page and what its generated forms need from the event types' schemas (no browser
needed): ``/desk`` without a token from this server only, every field of every postable type
with a Dutch title and help text, every ``x-mlob-choices`` a list the desk resolves, and no
field that would make a person type an id."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from api.screen import STATIC
from tests.integration.api.conftest import Api


def test_the_desk_page_needs_no_token_and_loads_its_modules_from_here(api: Api) -> None:
    page = api.client.get("/desk")
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert '<script type="module" src="/screen/desk.js">' in page.text
    for path in re.findall(r'(?:href|src)="(/screen/[^"]+)"', page.text):
        assert api.client.get(path).status_code == 200, path
    desk = (STATIC / "desk.js").read_text()
    # Built from the wall screen's modules: the feed, the model, the markings.
    for module in ("./feed.js", "./model.js", "./render.js", "./form.js"):
        assert f'from "{module}"' in desk
    assert '"Accept-Language": "nl"' in desk
    assert "/desk" not in api.client.get("/openapi.json").json()["paths"]


def _fields(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, field in schema.get("properties", {}).items():
        yield name, field
    for model, sub in schema.get("$defs", {}).items():
        for name, field in sub.get("properties", {}).items():
            yield f"{model}.{name}", field


def _resolved_lists() -> set[str]:
    """The choice lists the desk resolves (desk.js) or fills in itself (form.js)."""
    desk = (STATIC / "desk.js").read_text()
    form = (STATIC / "form.js").read_text()
    hidden = re.search(r"const HIDDEN = new Set\(\[(.*?)\]\)", form, re.S)
    assert hidden
    return set(re.findall(r'case "([a-z_]+)":', desk)) | set(re.findall(r'"([a-z_]+)"', hidden[1]))


def test_every_field_has_a_dutch_label_help_and_a_list_the_desk_knows(api: Api) -> None:
    types = api.client.get("/v1/event-types", headers=api.headers("LOCC")).json()
    known = _resolved_lists()
    seen: set[str] = set()
    for item in (t for t in types if t["postable"]):
        for name, field in _fields(item["schema"]):
            where = f"{item['type']}: {name}"
            # pydantic's own titles are the field name capitalised ("Line Id"): not Dutch.
            assert field.get("title") and field.get("description"), where
            assert field["title"] != name.split(".")[-1].replace("_", " ").title(), where
            choices = field.get("x-mlob-choices")
            if choices is not None:
                assert choices in known, f"{where}: the desk does not know {choices}"
                seen.add(choices)
            # An id is never typed: each is chosen from a list or made by the desk.
            branches = field.get("anyOf", [field])
            if any(b.get("format") == "uuid" for b in branches):
                assert choices, f"{where}: an id without a list to choose it from"
            if name.endswith("target_version"):
                assert choices == "latest_version", where
    # The lists the brief names are all in use.
    assert {"regions", "capabilities", "providers", "request_kinds", "own_capacities"} <= seen
    assert {"request_lines", "bookings", "new_id", "booking_capacity"} <= seen
