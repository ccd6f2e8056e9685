"""The subscription lists in pages (issue 21): ``{"items", "next"}``, the next page asked
with ``cursor=`` and the same filters, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from api import paging
from tests.conftest import on_both_stores
from tests.integration.webhooks.conftest import Hooked, Receiver, stored
from tests.integration.webhooks.test_delivery import delivered_log, request

pytestmark = on_both_stores


def walk(hooked: Hooked, path: str, headers: dict[str, str], **params: Any) -> list[Any]:
    found, cursor = [], None
    while True:
        asked = {**params, **({"cursor": cursor} if cursor else {})}
        response = hooked.client.get(path, params=asked, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"items", "next"}
        assert len(body["items"]) <= int(params.get("limit", paging.DEFAULT_LIMIT))
        found += body["items"]
        cursor = body["next"]
        if cursor is None:
            return found


def refused_cursor(hooked: Hooked, path: str, headers: dict[str, str], **params: Any) -> None:
    response = hooked.client.get(path, params=params, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_cursor"


def test_alerts_page_oldest_first_the_organisations_own(
    hooked: Hooked, monkeypatch: pytest.MonkeyPatch
) -> None:
    hooks = hooked.service.webhooks.hooks

    hooks.add_alerts([stored(org, n) for n in range(4) for org in ("VR08", "VR09")])
    vr08 = hooked.headers("VR08", "operator")
    every = walk(hooked, "/v1/alerts", vr08, limit=500)
    assert [a["subject"] for a in every] == [f"s-VR08-{n}" for n in range(4)]
    assert walk(hooked, "/v1/alerts", vr08, limit=1) == every
    assert walk(hooked, "/v1/alerts", vr08, limit=3, after=every[1]["id"]) == every[2:]
    first = hooked.client.get("/v1/alerts", params={"limit": 1}, headers=vr08).json()
    refused_cursor(hooked, "/v1/alerts", vr08, after=1, cursor=first["next"])
    monkeypatch.setattr(paging, "MAX_LIMIT", 3)  # the clamp, without 501 alerts
    clamped = hooked.client.get("/v1/alerts", params={"limit": 10_000}, headers=vr08).json()
    assert len(clamped["items"]) == 3 and clamped["next"] is not None


def test_subscriptions_and_their_deliveries_page(hooked: Hooked, receiver: Receiver) -> None:
    made = [
        hooked.subscribe("VR08", url=f"{receiver.url}/{n}", channels=["region:VR08"])
        for n in range(3)
    ]
    admin = hooked.headers("VR08", "admin")
    listed = walk(hooked, "/v1/subscriptions", admin, limit=1)
    assert [s["id"] for s in listed] == [s["id"] for s in made]
    assert walk(hooked, "/v1/subscriptions", hooked.headers("VR09", "admin"), limit=1) == []
    refused_cursor(hooked, "/v1/subscriptions", admin, cursor="bm90IGEgY3Vyc29y")

    request(hooked)
    request(hooked)
    log = delivered_log(hooked, made[0], 4)
    path = f"/v1/subscriptions/{made[0]['id']}/deliveries"
    assert len(log) >= 4
    paged = walk(hooked, path, admin, limit=1)
    assert [d["id"] for d in paged] == [d["id"] for d in log]
    assert walk(hooked, path, admin, limit=2, after=log[1]["id"])[0]["id"] == log[2]["id"]
    first = hooked.client.get(path, params={"limit": 1}, headers=admin).json()
    refused_cursor(hooked, path, admin, dead="true", cursor=first["next"])
    other = f"/v1/subscriptions/{made[1]['id']}/deliveries"
    refused_cursor(hooked, other, admin, cursor=first["next"])
