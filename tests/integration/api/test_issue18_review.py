"""Review of the merged issue-18 result through the API: shares with corrections, access in
details, lists, the board and the feed (probes; defects are xfail strict)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.integration.api.conftest import Api, item
from tests.integration.api.test_shares import LOCC, capacity, committed, detail, pumps, shares
from tests.integration.feed.helpers import receive


def _get(api: Api, path: str, org: str, **params: object) -> Any:
    response = api.client.get(path, headers=api.headers(org, "coordinator"), params=params)
    assert response.status_code == 200, response.text
    return response.json()


def sees(api: Api, org: str, subject: UUID) -> int:
    return api.client.get(f"/v1/requests/{subject}", headers=api.headers(org)).status_code


def test_probe_access_of_share_provider_copied_and_lists_board(api: Api) -> None:
    subject = pumps(api)
    forward = {**shares(("VR07", 3), ("VR09", 2)), "copies": ["VR06"]}
    api.accepted(LOCC, item("request.forwarded", subject, forward))
    for org in ("VR07", "VR09", "VR06", "VR05"):
        listed = [r["id"] for r in _get(api, "/v1/requests", org)]
        board = _get(api, "/v1/board", org)
        on_board = [i["id"] for i in (board["items"] if isinstance(board, dict) else board)]
        print(org, sees(api, org, subject), str(subject) in listed, str(subject) in on_board)
    board = _get(api, "/v1/board", LOCC)
    [it] = [i for i in board["items"] if i["id"] == str(subject)]
    print({k: it[k] for k in ("status", "next_actor", "waiting_shares", "step")})


def test_probe_void_of_a_forward_with_shares_hides_the_request_again(api: Api) -> None:
    subject = pumps(api)
    api.accepted(LOCC, item("request.forwarded", subject, shares(("VR05", 2))))
    assert sees(api, "VR05", subject) == 200
    version = detail(api, subject)["version"]
    print("version", version, [s["step"] for s in detail(api, subject)["open_steps"]])
    api.accepted(
        LOCC, item("request.voided", subject, {"target_version": version, "reason": "wrong"})
    )
    print("after void VR05:", sees(api, "VR05", subject))
    view = detail(api, subject)
    print(view["status"], view["shares"], view["forwarded_to"])
    listed = [r["id"] for r in _get(api, "/v1/requests", "VR05")]
    print("listed", str(subject) in listed)


def test_probe_a_voided_forwards_provider_gets_no_more_live_frames(api: Api) -> None:
    subject = pumps(api)
    api.accepted(LOCC, item("request.forwarded", subject, shares(("VR05", 2))))
    version = detail(api, subject)["version"]
    api.accepted(
        LOCC, item("request.voided", subject, {"target_version": version, "reason": "wrong"})
    )
    assert sees(api, "VR05", subject) == 404
    with api.client.websocket_connect("/v1/feed", headers=api.headers("VR05")) as ws:
        receive(ws, "welcome")
        ws.send_text('{"subscribe": ["national"]}')
        receive(ws, "subscribed")
        api.accepted(LOCC, item("request.forwarded", subject, shares(("VR07", 2))))
        marker = capacity(api, "VR05")  # VR05's own step: it always sees it
        seen: list[str] = []
        while str(marker) not in seen:
            frame = receive(ws, "frame")
            seen += [e["stream_id"] for e in frame["events"]]
        assert str(subject) not in seen


def crisis(api: Api) -> tuple[UUID, dict[str, UUID]]:
    """5 pumps: VR07 3 (grants 1), VR09 2 (grants), the remainder 2 to VR10 (grants); all
    commit and dispatch; VR08 records 3 on scene, releases 1; the provider returns it."""
    subject = pumps(api)
    api.accepted(LOCC, item("request.forwarded", subject, shares(("VR07", 3), ("VR09", 2))))
    partly = {
        "outcome": "partly_granted",
        "reasons": "one",
        "granted": [{"line_id": "L1", "quantity": 1}],
    }
    api.accepted("VR07", item("request.decided", subject, partly))
    api.accepted("VR09", item("request.decided", subject, {"outcome": "granted"}))
    api.accepted(LOCC, item("request.forwarded", subject, shares(("VR10", 2))))
    api.accepted("VR10", item("request.decided", subject, {"outcome": "granted"}))
    caps: dict[str, UUID] = {}
    for org, quantity in (("VR07", 1), ("VR09", 2), ("VR10", 2)):
        caps[org] = capacity(api, org, 4)
        booking = uuid4()
        api.accepted(
            org, item("request.committed", subject, committed(caps[org], quantity, booking))
        )
        ids = {"capacity_id": str(caps[org]), "booking_id": str(booking)}
        api.accepted(org, item("request.dispatched", subject, ids))
    api.accepted("VR08", item("request.arrived", subject, {"line_id": "L1", "quantity": 3}))
    api.accepted("VR08", item("request.released", subject, {"line_id": "L1", "quantity": 1}))
    return subject, caps


def test_probe_crisis_figures_add_up_and_as_of_equals_live(api: Api) -> None:
    subject, caps = crisis(api)
    view = detail(api, subject)
    [line] = view["lines"]
    print({k: line[k] for k in ("granted", "committed", "delivered", "en_route", "on_scene")})
    print(line["providers"])
    print(
        [
            (
                s["to"],
                s["status"],
                s["granted"],
                s["committed"],
                s["en_route"],
                s["on_scene"],
                s["returned"],
                s["next_actor"],
            )
            for s in view["shares"]
        ]
    )
    for key in ("granted", "committed", "en_route", "on_scene"):
        assert sum(p[key] for p in line["providers"]) == line[key], key
    # who released? return it
    released = [b for b in view["bookings"] if b["step"] == "released"]
    print("released", released)
    org = released[0]["provider"]
    api.accepted(org, item("request.returned", subject, {"line_id": "L1", "quantity": 1}))
    view = detail(api, subject)
    print([(s["to"], s["status"], s["returned"], s["next_actor"]) for s in view["shares"]])
    print("steps", org, [s["step"] for s in detail(api, subject, org)["open_steps"]])
    now = _get(api, "/v1/capacity-overview", LOCC)
    import time
    from datetime import UTC, datetime

    time.sleep(0.02)
    then = datetime.now(UTC).isoformat()
    for path in ("/v1/capacity-overview", "/v1/picture", "/v1/board"):
        live = _get(api, path, LOCC)
        past = _get(api, path, LOCC, as_of=then)
        live.pop("as_of", None), past.pop("as_of", None)
        for k in ("generated_at", "at", "now"):
            live.pop(k, None), past.pop(k, None)
        if live != past:
            print("DIFF", path)
            for k in live:
                if live.get(k) != past.get(k):
                    print("  ", k, live.get(k), "\n   AS_OF", past.get(k))
    w = next(c for c in now["capabilities"] if c["capability"] == "FIRE_WATER_SUPPLY")
    print(w)
    assert (
        sum(
            w[s]
            for s in (
                "available",
                "reserved",
                "made_ready",
                "committed",
                "en_route",
                "on_scene",
                "returning",
                "unavailable",
                "abroad",
                "withheld",
            )
        )
        == w["exists"]
    )
    sc = _get(api, "/v1/scarcity", LOCC)
    print(sc)


@pytest.mark.xfail(
    strict=True,
    reason="a share whose capacity was released (on its way home, not yet returned) shows "
    "status 'committed' and no figure for it: per provider committed != en route + on scene "
    "+ returned, and the board/screen says the provider still has to dispatch",
)
def test_a_released_share_does_not_read_as_committed(api: Api) -> None:
    subject, _ = crisis(api)  # VR07's one pump arrived first and was released
    view = detail(api, subject)
    vr07 = next(s for s in view["shares"] if s["to"] == "VR07")
    assert [b["step"] for b in view["bookings"] if b["provider"] == "VR07"] == ["released"]
    assert vr07["status"] != "committed"


def test_probe_void_of_an_informed_step_and_the_feed(api: Api) -> None:
    from tests.integration.api.test_duties_api import NIJMEGEN, drafted

    subject = uuid4()
    drafted(api, subject, "kmar_art57_public_order", "KMAR_UNIT")
    api.accepted("POL-ON", item("request.submitted", subject, authority=NIJMEGEN))
    api.accepted("LOCC", item("request.received", subject))
    api.accepted(
        "LOCC", item("request.assessed", subject, {"forward": True, "findings": "necessary"})
    )
    inform = {"duty": "locc_informs_korpschef", "to": "POL-LE"}
    api.accepted("LOCC", item("request.informed", subject, inform))
    assert sees(api, "POL-LE", subject) == 200
    version = detail(api, subject)["version"]
    api.accepted(
        "LOCC", item("request.voided", subject, {"target_version": version, "reason": "wrong"})
    )
    print("after void POL-LE sees", sees(api, "POL-LE", subject))
    print("duties", detail(api, subject)["duties_outstanding"])
    with api.client.websocket_connect("/v1/feed", headers=api.headers("POL-LE")) as ws:
        receive(ws, "welcome")
        ws.send_text('{"subscribe": ["national"]}')
        receive(ws, "subscribed")
        api.accepted("LOCC", item("request.forwarded", subject, {"to": ["KMAR"]}))
        marker = uuid4()
        api.accepted(
            "POL-LE",
            item("capacity.registered", marker, {"capability": "POLICE_ME", "quantity": 1}),
        )
        seen: list[str] = []
        while str(marker) not in seen:
            frame = receive(ws, "frame")
            seen += [e["stream_id"] for e in frame["events"]]
        print("POL-LE got frames of the request after the void:", str(subject) in seen)
