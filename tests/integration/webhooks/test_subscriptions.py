"""``/v1/subscriptions`` (issue 24): made, read, paused, resumed, rotated and deleted by the
organisation's administrators and operators; the secret answered once and never recorded."""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import Any
from uuid import uuid4

import pytest
from standardwebhooks.webhooks import Webhook

from domain.envelope import Classification
from domain.errors import Conflict
from domain.subscription import Subscription, url_refusal
from mlob.runners.webhooks import resolve
from tests.conftest import pg_connect
from tests.integration.api.conftest import ADMIN, fire_request
from tests.integration.webhooks.conftest import KEY, Hooked, Receiver, hooked_api

SECRET = Classification.STATE_SECRET_SECRET


def refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code, response.text


def test_a_subscription_is_made_read_and_its_secret_shown_once(
    hooked: Hooked, receiver: Receiver
) -> None:
    hooked.headers("VR08", "admin")  # issuing a token is an event itself: do it first
    head = hooked.position()
    made = hooked.subscribe("VR08", url=receiver.url, channels=["region:VR08"])
    assert made["secret"].startswith("whsec_") and len(made["secret"]) == 6 + 44
    assert made["org"] == "VR08" and made["state"] == "active"
    assert made["after"] == head, "a new subscription starts at the head"
    assert made["clearance"] == "ongerubriceerd"
    headers = hooked.headers("VR08", "operator")
    listed = hooked.client.get("/v1/subscriptions", headers=headers).json()["items"]
    assert [s["id"] for s in listed] == [made["id"]]
    one = hooked.client.get(f"/v1/subscriptions/{made['id']}", headers=headers).json()
    assert "secret" not in one and "secret" not in listed[0]
    # Not in the history, nor anywhere in the store's events: only sealed, in its own table.
    history = hooked.client.get(
        "/v1/history", headers=hooked.headers("LOCC", "auditor", clearance=SECRET)
    ).text
    assert "subscription.created" in history
    assert made["secret"] not in history and made["secret"][6:] not in history
    stored = _store_text(hooked).lower()
    assert stored, "the store's text was read"
    # Events are stored as bytes (dumped as hex): the secret neither as text nor as bytes.
    assert made["secret"][6:].lower() not in stored
    assert made["secret"][6:].encode().hex() not in stored
    assert made["id"].encode().hex() in stored or made["id"] in stored  # the search works


def _store_text(hooked: Hooked) -> str:
    cfg = hooked.service.app.store
    if cfg.kind == "sqlite":
        assert cfg.sqlite_path is not None
        with sqlite3.connect(cfg.sqlite_path) as c:
            return "\n".join(c.iterdump())
    texts = []
    with pg_connect(cfg.schema) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (cfg.schema,),
        ).fetchall()
        for (table,) in tables:
            found = conn.execute(
                f"SELECT string_agg(t::text, E'\\n') FROM \"{table}\" t"
            ).fetchone()
            texts.append(str(found[0] if found else ""))
    return "\n".join(texts)


def test_only_admins_and_operators_of_the_organisation_manage_it(
    hooked: Hooked, receiver: Receiver
) -> None:
    body = {"url": receiver.url, "channels": ["region:VR08"]}
    for role in ("viewer", "coordinator"):
        refused(
            hooked.client.post(
                "/v1/subscriptions", json=body, headers=hooked.headers("VR08", role)
            ),
            403,
            "role_not_permitted",
        )
    refused(hooked.client.post("/v1/subscriptions", json=body), 401, "unauthenticated")
    made = hooked.subscribe("VR08", role="operator", **body)
    other = hooked.headers("VR09", "admin")
    for response in (
        hooked.client.get(f"/v1/subscriptions/{made['id']}", headers=other),
        hooked.client.patch(
            f"/v1/subscriptions/{made['id']}", json={"paused": True}, headers=other
        ),
        hooked.client.delete(f"/v1/subscriptions/{made['id']}", headers=other),
        hooked.client.get(f"/v1/subscriptions/{made['id']}/deliveries", headers=other),
        hooked.client.get(f"/v1/subscriptions/{uuid4()}", headers=other),
    ):
        refused(response, 404, "unknown_subscription")
    assert hooked.client.get("/v1/subscriptions", headers=other).json()["items"] == []
    # A viewer of its own organisation does not manage it either.
    refused(
        hooked.client.get(
            f"/v1/subscriptions/{made['id']}", headers=hooked.headers("VR08", "viewer")
        ),
        404,
        "unknown_subscription",
    )


def test_refusals_of_malformed_and_conflicting_input(hooked: Hooked, receiver: Receiver) -> None:
    headers = hooked.headers("VR08", "admin")

    def post(body: Any) -> Any:
        return hooked.client.post("/v1/subscriptions", json=body, headers=headers)

    before = hooked.position()
    refused(post({"channels": ["region:VR08"]}), 422, "invalid_request")
    refused(post({"url": receiver.url, "channels": []}), 422, "invalid_request")
    refused(
        post({"url": receiver.url, "channels": ["region:VR08"], "x": 1}), 422, "invalid_request"
    )
    refused(post({"url": receiver.url, "channels": ["region:VR09"]}), 403, "channel_not_permitted")
    refused(post({"url": receiver.url, "channels": ["nonsense"]}), 403, "channel_not_permitted")
    refused(
        post({"url": receiver.url, "channels": ["region:VR08"], "types": ["nope"]}),
        422,
        "unknown_type",
    )
    refused(
        post({"url": receiver.url, "channels": ["region:VR08"], "clearance": "stg_geheim"}),
        403,
        "clearance_above_own",
    )
    refused(post({"url": "ftp://example.org/", "channels": ["national"]}), 422, "invalid_url")
    # Unparsable: refused, never a 500 (it reached the resolver and raised).
    refused(post({"url": "http://[abc/x", "channels": ["national"]}), 422, "invalid_url")
    refused(
        post({"url": "http://example.org/", "channels": ["region:VR08"]}), 422, "https_required"
    )
    refused(
        post({"url": "https://10.0.0.1/x", "channels": ["region:VR08"]}), 422, "private_address"
    )
    refused(
        post({"url": "https://169.254.169.254/", "channels": ["region:VR08"]}),
        422,
        "private_address",
    )
    refused(
        hooked.client.post("/v1/subscriptions", content=b"{", headers=headers),
        422,
        "invalid_request",
    )
    assert hooked.position() == before, "a refused subscription recorded something"
    made = hooked.subscribe("VR08", url=receiver.url, channels=["region:VR08"])
    refused(post({"url": receiver.url, "channels": ["region:VR08"]}), 409, "duplicate_subscription")
    path = f"/v1/subscriptions/{made['id']}"
    refused(hooked.client.patch(path, json={}, headers=headers), 422, "nothing_to_change")
    refused(
        hooked.client.patch(path, json={"paused": "x"}, headers=headers), 422, "invalid_request"
    )
    refused(hooked.client.patch(path, json={"paused": False}, headers=headers), 409, "not_paused")
    assert hooked.client.patch(path, json={"paused": True}, headers=headers).json()["state"] == (
        "paused"
    )
    refused(
        hooked.client.patch(path, json={"paused": True}, headers=headers), 409, "already_paused"
    )
    assert hooked.client.patch(path, json={"paused": False}, headers=headers).json()["state"] == (
        "active"
    )
    rotated = hooked.client.patch(path, json={"rotate_secret": True}, headers=headers).json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != made["secret"]
    assert rotated["rotations"] == 1
    assert hooked.client.delete(path, headers=headers).status_code == 204
    refused(hooked.client.delete(path, headers=headers), 404, "unknown_subscription")
    refused(hooked.client.get(path, headers=headers), 404, "unknown_subscription")
    # A token that is revoked does not stop its organisation's subscription.
    kept = hooked.subscribe("VR08", url=receiver.url, channels=["national"], role="operator")
    token_id = hooked.service.authenticate(hooked.token("VR08", "operator"))
    assert token_id is not None and token_id.token_id is not None
    hooked.service.revoke_token(
        ADMIN,
        token_id.token_id,
        "gone",
    )
    again = hooked.client.get(f"/v1/subscriptions/{kept['id']}", headers=hooked.headers("VR08"))
    assert again.status_code == 401  # the token that made it is revoked
    fresh = hooked.service.issue_token(
        ADMIN,
        org="VR08",
        role="admin",
        clearance=Classification.UNCLASSIFIED,
    ).token
    seen = hooked.client.get(
        f"/v1/subscriptions/{kept['id']}", headers={"Authorization": f"Bearer {fresh}"}
    )
    assert seen.status_code == 200 and seen.json()["state"] == "active"


def test_without_a_webhook_key_no_subscription_is_made(
    store_config: Any, receiver: Receiver
) -> None:
    for api in hooked_api(store_config, key=None):
        response = api.client.post(
            "/v1/subscriptions",
            json={"url": receiver.url, "channels": ["region:VR08"]},
            headers=api.headers("VR08", "admin"),
        )
        refused(response, 409, "webhooks_not_configured")


def test_a_name_idna_cannot_encode_resolves_to_nothing() -> None:
    """(``a..b``, a label over 63 characters: getaddrinfo raised UnicodeError, a 500.)"""
    assert resolve("a..b") == [] and resolve("x" * 64 + ".org") == []


def test_url_rules() -> None:
    hosts = ("127.0.0.1", "localhost")
    open_, secret = Classification.UNCLASSIFIED, SECRET
    assert url_refusal("http://127.0.0.1:9/x", open_, hosts, []) is None
    assert url_refusal("http://localhost/x", open_, hosts, ["127.0.0.1"]) is None
    assert url_refusal("http://127.0.0.1/x", secret, hosts, []).code == "https_required"  # type: ignore[union-attr]
    assert url_refusal("https://127.0.0.1/x", secret, hosts, []) is None
    assert url_refusal("https://example.org/", open_, hosts, ["93.184.216.34"]) is None
    assert url_refusal("https://intra.example/", open_, hosts, ["192.168.1.4"]).code == (  # type: ignore[union-attr]
        "private_address"
    )
    assert url_refusal("https://[fe80::1]/", open_, hosts, []).code == "private_address"  # type: ignore[union-attr]
    assert url_refusal("https://intra.example/", open_, ("intra.example",), ["10.1.1.1"]) is None
    assert url_refusal("https://u:p@example.org/", open_, hosts, []).code == "invalid_url"  # type: ignore[union-attr]
    assert KEY  # the fixture's key is long enough for MLOB_WEBHOOK_KEY
    assert fire_request  # imported for the other tests' shapes


def test_the_delivery_log_and_redelivery_refuse_what_does_not_fit(
    hooked: Hooked, receiver: Receiver
) -> None:
    made = hooked.subscribe("VR08", url=receiver.url, channels=["region:VR08"])
    admin = hooked.headers("VR08", "admin")
    path = f"/v1/subscriptions/{made['id']}"
    refused(
        hooked.client.post(f"{path}/deliveries/x/redeliver", headers=admin), 422, "invalid_request"
    )
    refused(hooked.client.get(f"{path}/deliveries?limit=0", headers=admin), 422, "invalid_request")
    refused(hooked.client.get(f"{path}/deliveries?after=-1", headers=admin), 422, "invalid_request")
    refused(hooked.client.post(f"{path}/deliveries/1/redeliver"), 401, "unauthenticated")
    refused(
        hooked.client.post(f"{path}/deliveries/1/redeliver", headers=admin), 404, "unknown_delivery"
    )
    refused(
        hooked.client.post(f"/v1/subscriptions/{uuid4()}/deliveries/1/redeliver", headers=admin),
        404,
        "unknown_subscription",
    )
    assert hooked.client.get(f"{path}/deliveries", headers=admin).json()["items"] == []


def _runner_loads(hooked: Hooked, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The subscriptions the runner's thread loads from now on (their ids, in turn)."""
    app = hooked.service.app
    load = app.load
    loaded: list[str] = []

    def counting(cls: Any, stream_id: Any, *args: Any, **kw: Any) -> Any:
        if threading.current_thread().name == "mlob-webhooks" and cls is Subscription:
            loaded.append(str(stream_id))
        return load(cls, stream_id, *args, **kw)

    monkeypatch.setattr(app, "load", counting)
    return loaded


def _caught_up(hooked: Hooked) -> None:
    """Wait until the runner has read everything recorded, and a few of its rounds more."""
    assert hooked.runner is not None
    head = hooked.position()
    deadline = time.monotonic() + 10
    while (hooked.runner.hooks.cursor() or (0, 0))[0] < head:
        assert time.monotonic() < deadline, "the runner did not read the change"
        time.sleep(0.02)
    time.sleep(300 / 1000)  # its next rounds (poll 50 ms): a second reload would be in


def test_a_change_reloads_that_subscription_once(
    hooked: Hooked, receivers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pausing a subscription makes the runner load it once (the change's event), not every
    subscription again besides (the change's callback did, and then the event too)."""
    made = [
        hooked.subscribe("VR08", url=receivers().url, channels=["region:VR08"]) for _ in range(3)
    ]
    _caught_up(hooked)
    loaded = _runner_loads(hooked, monkeypatch)
    headers = hooked.headers("VR08", "admin")
    _caught_up(hooked)
    paused = hooked.client.patch(
        f"/v1/subscriptions/{made[1]['id']}", json={"paused": True}, headers=headers
    )
    assert paused.status_code == 200, paused.text
    _caught_up(hooked)
    assert loaded == [made[1]["id"]]
    assert hooked.runner is not None and hooked.runner.subscriptions[made[1]["id"]].paused


def _delivered_with(hooked: Hooked, receiver: Receiver, secret: str) -> None:
    """A request VR08 submits reaches ``receiver`` signed with ``secret``."""
    subject = uuid4()
    hooked.accepted("VR08", fire_request(subject))
    [got] = receiver.wait_for(1)
    Webhook(secret).verify(got.body, got.headers)  # raises unless signed with it


def test_a_refused_rotation_keeps_the_secret(
    hooked: Hooked, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rotation whose event is refused after the new secret was made changes nothing: the
    deliveries are signed with the secret known (the new one was stored first, and used)."""
    made = hooked.subscribe("VR08", url=receiver.url, channels=["region:VR08"])
    path = f"/v1/subscriptions/{made['id']}"

    def refuse(*args: Any, **kw: Any) -> None:
        raise Conflict("refused_for_the_test", "test")

    monkeypatch.setattr(Subscription, "rotate", refuse)
    answer = hooked.client.patch(
        path, json={"rotate_secret": True}, headers=hooked.headers("VR08", "admin")
    )
    refused(answer, 409, "refused_for_the_test")
    monkeypatch.undo()
    _delivered_with(hooked, receiver, made["secret"])
    seen = hooked.client.get(path, headers=hooked.headers("VR08", "admin")).json()
    assert seen["rotations"] == 0


def test_a_rotation_whose_answer_cannot_be_made_is_not_recorded(
    hooked: Hooked, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store failing while the rotation's answer is made: the rotation is not recorded
    and the secret stays (it was recorded, with a secret nobody was told)."""
    made = hooked.subscribe("VR08", url=receiver.url, channels=["region:VR08"])
    path = f"/v1/subscriptions/{made['id']}"
    hooks = hooked.service.webhooks.hooks

    def away() -> Any:
        raise sqlite3.OperationalError("the store is away (the test)")

    monkeypatch.setattr(hooks, "states", away)
    answer = hooked.client.patch(
        path, json={"rotate_secret": True}, headers=hooked.headers("VR08", "admin")
    )
    assert answer.status_code == 503, answer.text
    monkeypatch.undo()
    seen = hooked.client.get(path, headers=hooked.headers("VR08", "admin")).json()
    assert seen["rotations"] == 0
    _delivered_with(hooked, receiver, made["secret"])
    # A rotation that goes through answers the secret the deliveries are then signed with.
    rotated = hooked.client.patch(
        path, json={"rotate_secret": True}, headers=hooked.headers("VR08", "admin")
    )
    assert rotated.status_code == 200 and rotated.json()["rotations"] == 1
    receiver.requests.clear()
    _delivered_with(hooked, receiver, rotated.json()["secret"])


def test_the_list_reads_only_what_changed_since_the_last(
    hooked: Hooked, receivers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``GET /v1/subscriptions`` no longer loads every subscription's events on each call: a
    second call reads no event, one after a pause reads that pause alone; the answer stays
    what ``GET /v1/subscriptions/{id}`` says of each the caller manages, a deletion drops one,
    and another organisation's never shows."""
    mine = [
        hooked.subscribe("VR08", url=receivers().url, channels=["region:VR08"]) for _ in range(3)
    ]
    theirs = hooked.subscribe("VR09", url=receivers().url, channels=["region:VR09"])
    app = hooked.service.app
    read: list[int] = []
    select_after, load = app.recorder.select_after, app.load

    def counted(known: Any) -> Any:
        found = select_after(known)
        read.append(len(found))
        return found

    def not_loaded(*args: Any) -> Any:
        raise AssertionError("the list loaded a subscription")

    headers = hooked.headers("VR08", "admin")

    def listed() -> list[dict[str, Any]]:
        monkeypatch.setattr(app.recorder, "select_after", counted)
        monkeypatch.setattr(app, "load", not_loaded)
        try:
            answer = hooked.client.get("/v1/subscriptions", headers=headers)
        finally:
            monkeypatch.setattr(app.recorder, "select_after", select_after)
            monkeypatch.setattr(app, "load", load)
        assert answer.status_code == 200, answer.text
        items: list[dict[str, Any]] = answer.json()["items"]
        for item in items:
            one = hooked.client.get(f"/v1/subscriptions/{item['id']}", headers=headers)
            assert one.json() == item, "the same view as the subscription's own"
        return items

    first = listed()
    assert sorted(s["id"] for s in first) == sorted(s["id"] for s in mine)
    assert theirs["id"] not in {s["id"] for s in first}
    read.clear()
    assert listed() == first and read == [0], "nothing changed: no event read"
    paused = hooked.client.patch(
        f"/v1/subscriptions/{mine[1]['id']}", json={"paused": True}, headers=headers
    )
    assert paused.status_code == 200, paused.text
    read.clear()
    after_pause = listed()
    assert read == [1], "the pause alone"
    assert {s["id"]: s["state"] for s in after_pause}[mine[1]["id"]] == "paused"
    gone = hooked.client.request(
        "DELETE", f"/v1/subscriptions/{mine[0]['id']}", headers=headers, json={}
    )
    assert gone.status_code in (200, 204), gone.text
    assert sorted(s["id"] for s in listed()) == sorted([mine[1]["id"], mine[2]["id"]])
    assert [
        s["id"]
        for s in hooked.client.get(
            "/v1/subscriptions", headers=hooked.headers("VR09", "operator")
        ).json()["items"]
    ] == [theirs["id"]]


def test_a_rotated_subscription_stays_listed(hooked: Hooked, receiver: Receiver) -> None:
    """The list follows the secrets held; after a rotation the subscription's secret is kept
    under its rotation's key only, and the subscription is listed as before (it vanished)."""
    headers = hooked.headers("VR08", "admin")
    made = hooked.subscribe("VR08", url=receiver.url, channels=["region:VR08"])
    for _ in range(2):
        rotated = hooked.client.patch(
            f"/v1/subscriptions/{made['id']}", json={"rotate_secret": True}, headers=headers
        )
        assert rotated.status_code == 200, rotated.text
        listed = hooked.client.get("/v1/subscriptions", headers=headers).json()["items"]
        assert [s["id"] for s in listed] == [made["id"]]
        assert listed[0]["rotations"] == rotated.json()["rotations"]
