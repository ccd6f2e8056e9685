"""Delivering webhooks (issue 24) to real receivers on loopback, on SQLite and PostgreSQL:
signed (checked with the standardwebhooks verifier), in position order, at least once with the
same webhook id on every retry, retried with backoff after 500s and timeouts, kept while the
receiver is down, only what the organisation may read, failing after the retry window and
resumed from there, and carried on by another process after the runner is killed mid-batch."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from domain.envelope import Classification
from mlob.config import StoreConfig
from mlob.runners import webhooks
from mlob.runners.webhooks import Retry
from tests import ROOT
from tests.integration.api.conftest import chair, fire_request, item
from tests.integration.audit.conftest import database_url
from tests.integration.webhooks.conftest import HANG, KEY, Hooked, Receiver, hooked_api

SECRET = Classification.STATE_SECRET_SECRET
TOWN = {"VR08": "Nijmegen", "VR09": "Utrecht"}


def request(hooked: Hooked, region: str = "VR08", **kw: Any) -> list[int]:
    """A request drafted and submitted by ``region``: the positions of its two steps."""
    subject = uuid4()
    body = fire_request(subject, region)
    body["data"]["lines"][0]["municipality"] = TOWN[region]
    drafted = hooked.accepted(region, body, **kw)
    submitted = hooked.accepted(
        region, item("request.submitted", subject, authority=chair(region)), **kw
    )
    return [drafted["events"][0]["position"], submitted["events"][0]["position"]]


def delivered_log(hooked: Hooked, made: dict[str, Any], count: int) -> list[dict[str, Any]]:
    """The delivery log once ``count`` deliveries are recorded delivered (the receiver may
    have answered a moment before the runner wrote it down)."""
    deadline = time.monotonic() + 10
    while True:
        log: list[dict[str, Any]] = hooked.client.get(
            f"/v1/subscriptions/{made['id']}/deliveries", headers=hooked.headers("VR08", "admin")
        ).json()["items"]
        done = [d for d in log if d["state"] == "delivered"]
        if len(done) >= count or time.monotonic() > deadline:
            return log
        time.sleep(0.02)


def positions(bodies: list[Any]) -> list[int]:
    return [b["data"]["position"] for b in bodies]


def test_signed_in_order_and_only_what_the_organisation_may_read(
    hooked: Hooked, receiver: Receiver
) -> None:
    hooked.headers("VR08", "operator", clearance=SECRET)
    made = hooked.subscribe("VR08", url=receiver.url, channels=["region:VR08", "national"])
    mine = request(hooked) + request(hooked)
    request(hooked, "VR09")  # another region's: VR08 may not read it
    # A classified step on VR08's own request: never to a subscription below its level.
    subject = uuid4()
    classified = hooked.accepted("VR08", fire_request(subject), clearance=SECRET)
    hooked.accepted(
        "VR08",
        item("request.submitted", subject, authority=chair("VR08"), classification="stg_geheim"),
        clearance=SECRET,
    )
    mine.append(classified["events"][0]["position"])
    got = receiver.wait_for(len(mine))
    time.sleep(0.5)  # nothing more comes
    bodies = receiver.verified(made["secret"])
    assert positions(bodies) == mine, "in position order, exactly what VR08 may read"
    assert len(receiver.accepted()) == len(mine)
    assert all(b["data"]["classification"] == "ongerubriceerd" for b in bodies)
    assert [b["type"] for b in bodies][:2] == ["request.drafted", "request.submitted"]
    assert len({r.webhook_id for r in got}) == len(got)
    # A tampered body does not verify.
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    with pytest.raises(WebhookVerificationError):
        Webhook(made["secret"]).verify(got[0].body + b" ", got[0].headers)
    log = delivered_log(hooked, made, len(mine))
    assert [d["position"] for d in log] == mine
    assert all(d["state"] == "delivered" and d["attempts"] == 1 for d in log)
    assert all(d["attempt_log"][0]["status"] == 204 for d in log)


def test_a_cleared_subscription_gets_the_classified_step(
    hooked: Hooked, receiver: Receiver
) -> None:
    """Cleared above ongerubriceerd, a subscription must use https (the loopback receivers
    speak http): what is queued for it shows what it gets, the classified step included."""
    cleared = hooked.headers("VR08", "admin", clearance=SECRET)
    hooked.headers("VR08", "operator", clearance=SECRET)
    over_http = hooked.client.post(
        "/v1/subscriptions",
        json={"url": receiver.url, "channels": ["region:VR08"], "clearance": "stg_geheim"},
        headers=cleared,
    )
    assert over_http.status_code == 422
    assert over_http.json()["error"]["code"] == "https_required"
    secret = hooked.subscribe(
        "VR08", url="https://127.0.0.1:9/hook", channels=["region:VR08"], clearance="stg_geheim"
    )
    open_ = hooked.subscribe("VR08", url=receiver.url, channels=["region:VR08"])
    subject = uuid4()
    body = fire_request(subject)
    drafted = hooked.accepted("VR08", body, clearance=SECRET)["events"][0]["position"]
    step = hooked.accepted(
        "VR08",
        item("request.submitted", subject, authority=chair("VR08"), classification="stg_geheim"),
        clearance=SECRET,
    )["events"][0]["position"]
    receiver.wait_for(1)

    def queued(made: dict[str, Any]) -> list[int]:
        deadline = time.monotonic() + 10
        while True:
            log = hooked.client.get(
                f"/v1/subscriptions/{made['id']}/deliveries", headers=cleared
            ).json()["items"]
            if len(log) >= 1 or time.monotonic() > deadline:
                return [d["position"] for d in log]
            time.sleep(0.05)

    deadline = time.monotonic() + 10
    while queued(secret) != [drafted, step] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert queued(secret) == [drafted, step]
    assert queued(open_) == [drafted], "the uncleared one never gets the classified step"
    assert positions(receiver.verified(open_["secret"])) == [drafted]


def test_retries_with_backoff_after_500s_and_a_timeout(hooked: Hooked, receiver: Receiver) -> None:
    receiver.answers = [500, 503, HANG, 500]
    made = hooked.subscribe("VR08", url=receiver.url, channels=["region:VR08"])
    mine = request(hooked)
    receiver.wait_for(2)
    assert positions(receiver.verified(made["secret"])) == mine
    with receiver.lock:
        first = [r for r in receiver.requests if r.json["data"]["position"] == mine[0]]
    assert len(first) == 5, "four failures, then delivered"
    assert len({r.webhook_id for r in first}) == 1, "the same webhook id on every retry"
    # Backoff: each retry waits at least the doubling delay after the attempt before it (a
    # lower bound only: a busy machine makes it later, never sooner).
    retry = hooked.runner.retry  # type: ignore[union-attr]
    for n, (before, after) in enumerate(pairwise(first), start=1):
        assert after.at - before.at >= retry.delay(n) * 0.9, f"retry {n} came too soon"
    assert [retry.delay(n) for n in (1, 2, 3, 4, 5)] == [0.02, 0.04, 0.08, 0.16, 0.2]
    log = delivered_log(hooked, made, 2)
    attempts = log[0]["attempt_log"]
    assert [a["status"] for a in attempts] == [500, 503, None, 500, 204]
    assert "timeout" in (attempts[2]["error"] or "").lower()
    assert log[0]["attempts"] == 5 and log[0]["state"] == "delivered"
    assert log[1]["attempts"] == 1, "the next waited its turn: order kept"


def test_a_receiver_down_for_a_while_gets_everything_in_order(
    hooked: Hooked, receiver: Receiver
) -> None:
    made = hooked.subscribe("VR08", url=receiver.url, channels=["region:VR08"])
    receiver.up = False
    mine: list[int] = []
    for _ in range(4):
        mine += request(hooked)
    time.sleep(1.0)
    assert receiver.accepted() == [] and len(receiver.requests) >= 2, "it was tried meanwhile"
    receiver.up = True
    receiver.wait_for(len(mine))
    assert positions(receiver.verified(made["secret"])) == mine


def test_failing_after_the_window_then_resumed_and_redelivered(
    store_config: StoreConfig, receiver: Receiver
) -> None:
    for hooked in hooked_api(store_config, retry=Retry(base=0.02, ceiling=0.05, window=0.3)):
        admin = hooked.headers("VR08", "admin")
        made = hooked.subscribe("VR08", url=receiver.url, channels=["region:VR08"])
        path = f"/v1/subscriptions/{made['id']}"
        receiver.up = False
        mine = request(hooked) + request(hooked)
        deadline = time.monotonic() + 10
        while hooked.client.get(path, headers=admin).json()["state"] != "failing":
            assert time.monotonic() < deadline, "never failing"
            time.sleep(0.05)
        dead = hooked.client.get(f"{path}/deliveries?dead=true", headers=admin).json()["items"]
        assert [d["position"] for d in dead] == mine[:1], "the head of the queue is the dead letter"
        waiting = hooked.client.get(f"{path}/deliveries", headers=admin).json()["items"]
        assert [d["position"] for d in waiting] == mine, "the backlog is kept"
        receiver.up = True
        time.sleep(0.3)
        assert receiver.accepted() == [], "a failing subscription waits to be resumed"
        resumed = hooked.client.patch(path, json={"paused": False}, headers=admin)
        assert resumed.status_code == 200, resumed.text
        receiver.wait_for(len(mine))
        assert positions(receiver.verified(made["secret"])) == mine
        assert hooked.client.get(path, headers=admin).json()["state"] == "active"
        # Redeliver a delivered one (once the log says so): the same webhook id, once more.
        first = delivered_log(hooked, made, len(mine))[0]
        assert first["state"] == "delivered"
        again = hooked.client.post(f"{path}/deliveries/{first['id']}/redeliver", headers=admin)
        assert again.status_code == 200, again.text
        got = receiver.wait_for(len(mine) + 1)
        assert got[-1].webhook_id == first["webhook_id"]
        missing = hooked.client.post(f"{path}/deliveries/999999/redeliver", headers=admin)
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "unknown_delivery"


def test_a_paused_subscription_gets_nothing_until_resumed(
    hooked: Hooked, receiver: Receiver
) -> None:
    admin = hooked.headers("VR08", "admin")
    made = hooked.subscribe("VR08", url=receiver.url, channels=["region:VR08"])
    path = f"/v1/subscriptions/{made['id']}"
    assert hooked.client.patch(path, json={"paused": True}, headers=admin).status_code == 200
    mine = request(hooked)
    time.sleep(0.5)
    assert receiver.requests == []
    assert hooked.client.patch(path, json={"paused": False}, headers=admin).status_code == 200
    later = request(hooked)
    receiver.wait_for(len(later))
    time.sleep(0.3)
    assert positions(receiver.verified(made["secret"])) == later
    assert mine, "what was recorded while paused is not delivered (it starts again from now)"


def test_the_runner_killed_mid_batch_resumes_without_loss(
    store_config: StoreConfig, receiver: Receiver
) -> None:
    """A worker process delivers (a slow receiver: a batch in flight), is killed with SIGKILL,
    and a second worker carries on: every event arrives, in order; a duplicate only with the
    webhook id of the first delivery of that event."""
    env = {
        **os.environ,
        "MLOB_DATABASE_URL": database_url(store_config),
        "MLOB_WEBHOOK_KEY": KEY,
        "PYTHONPATH": str(ROOT),
    }

    def worker() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "mlob.cli", "worker"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    for hooked in hooked_api(store_config):
        hooked.runner.stop()  # type: ignore[union-attr]  # the workers deliver
        made = hooked.subscribe("VR08", url=receiver.url, channels=["region:VR08"])
        receiver.delay = 0.1
        mine: list[int] = []
        for _ in range(8):
            mine += request(hooked)
        first = worker()
        try:
            receiver.wait_for(3, timeout=30)
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            before = len(receiver.requests)
            assert before < len(mine), "killed mid-batch"
            second = worker()
            try:
                got = receiver.wait_for(len(mine) + 0, timeout=60)
                deadline = time.monotonic() + 30
                while len({r.json["data"]["position"] for r in receiver.accepted()}) < len(mine):
                    assert time.monotonic() < deadline
                    time.sleep(0.05)
            finally:
                second.terminate()
                second.wait(10)
        finally:
            if first.poll() is None:
                first.kill()
        got = receiver.accepted()
        bodies = receiver.verified(made["secret"])
        seen = positions(bodies)
        assert sorted(set(seen)) == mine, "nothing lost"
        first_id: dict[int, str] = {}
        for body, received in zip(bodies, got, strict=True):
            first_id.setdefault(body["data"]["position"], received.webhook_id)
            assert first_id[body["data"]["position"]] == received.webhook_id
        # In order: a position comes again only as a resend of the batch in flight.
        deduplicated = list(dict.fromkeys(seen))
        assert deduplicated == mine


def test_a_name_that_resolves_to_a_private_address_later_is_not_sent_to(
    hooked: Hooked,
) -> None:
    """The URL rules hold at every delivery, not only when the subscription is made (a name
    may be pointed at an internal address afterwards: DNS rebinding)."""
    assert hooked.runner is not None
    hooked.service.webhooks.resolver = lambda host: ["93.184.216.34"]  # public when made
    made = hooked.subscribe("VR08", url="https://hooks.example/in", channels=["region:VR08"])
    hooked.runner.resolver = lambda host: ["10.1.2.3"]  # internal when sent
    request(hooked)
    deadline = time.monotonic() + 10
    while True:
        log = hooked.client.get(
            f"/v1/subscriptions/{made['id']}/deliveries", headers=hooked.headers("VR08", "admin")
        ).json()["items"]
        if log and log[0]["attempts"] >= 1:
            break
        assert time.monotonic() < deadline, "never attempted"
        time.sleep(0.05)
    assert log[0]["state"] == "pending" and log[0]["last_status"] is None
    assert "private_address" in log[0]["last_error"]


def test_a_long_answer_does_not_break_the_next_delivery(hooked: Hooked, receivers: Any) -> None:
    """A receiver answering 200 with a 100 KiB body on a kept-alive connection: the next
    deliveries on it go through at their first attempt (the rest of the body was once read
    as the next answer's status line: a failed attempt and a duplicate)."""
    receiver = receivers(keep_alive=True)
    receiver.answer_body = b"x" * (100 * 1024)
    made = hooked.subscribe("VR08", url=receiver.url, channels=["region:VR08"])
    mine = request(hooked) + request(hooked) + request(hooked)
    receiver.wait_for(len(mine))
    log = delivered_log(hooked, made, len(mine))
    assert positions(receiver.verified(made["secret"])) == mine
    assert [d["attempts"] for d in log] == [1] * len(mine), "no attempt failed"
    assert len(receiver.requests) == len(mine), "nothing sent twice"
    hosts = {r.headers["host"] for r in receiver.requests}
    assert len(hosts) == 1


def test_the_sender_connects_to_the_address_it_checked(hooked: Hooked, receivers: Any) -> None:
    """The host's name is resolved once, for the check, and the delivery goes to the address
    checked (a second resolution to connect could answer another, internal, address: DNS
    rebinding); the Host header is still the URL's host. The name here resolves only through
    the runner's resolver (``.test`` is reserved): resolving it again to connect fails."""
    assert hooked.runner is not None
    receiver = receivers()
    port = receiver.server.server_address[1]
    asked: list[str] = []

    def resolver(host: str) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"] if len(asked) == 1 else ["192.0.2.1"]

    hooked.service.webhooks.insecure_hosts += ("rebind.test",)
    hooked.runner.insecure_hosts += ("rebind.test",)
    hooked.runner.resolver = resolver
    made = hooked.subscribe("VR08", url=f"http://rebind.test:{port}/hook", channels=["region:VR08"])
    mine = request(hooked) + request(hooked)
    receiver.wait_for(len(mine))
    assert positions(receiver.verified(made["secret"])) == mine
    assert {r.headers["host"] for r in receiver.requests} == {f"rebind.test:{port}"}
    assert asked == ["rebind.test"], "resolved once (within RECHECK_URL)"


def test_a_catch_up_goes_in_bounded_rounds_and_keeps_the_order(
    hooked: Hooked, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A subscription made with ``after=0`` gets the history it may read, then what comes
    meanwhile, in position order, each once; read and queued ``CATCH_UP`` events at a time
    (its whole backlog went into one batch's transaction, with the live cursor's move)."""
    assert hooked.runner is not None
    monkeypatch.setattr(webhooks, "CATCH_UP", 3, raising=False)
    hooks = hooked.runner.hooks
    enqueue = hooks.enqueue
    sizes: list[int] = []

    def counting(deliveries: Any, *args: Any, **kw: Any) -> Any:
        sizes.append(len(deliveries))
        return enqueue(deliveries, *args, **kw)

    monkeypatch.setattr(hooks, "enqueue", counting)
    mine: list[int] = []
    for _ in range(5):
        mine += request(hooked)
    request(hooked, "VR09")  # not VR08's to read
    made = hooked.subscribe("VR08", url=receiver.url, channels=["region:VR08"], after=0)
    mine += request(hooked)
    receiver.wait_for(len(mine))
    time.sleep(300 / 1000)  # nothing more comes
    assert positions(receiver.verified(made["secret"])) == mine
    assert max(sizes) <= 3, "at most CATCH_UP events' deliveries per transaction"
    assert hooks.catching_up() == {}, "caught up: the live batches deliver to it"
    mine += request(hooked)
    receiver.wait_for(len(mine))
    assert positions(receiver.verified(made["secret"])) == mine


def test_a_lane_sends_what_it_is_handed_without_reading_its_queue(
    hooked: Hooked, receivers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deliveries queued batch after batch go out over one lane that reads its queue from
    the store once, when it starts: the runner hands it each batch's deliveries as it queues
    them (a read per delivery and one more per batch cost the database as much as the posts
    at 400 deliveries/s). What it delivered is written down: the log, the delivered position."""
    assert hooked.runner is not None
    receiver = receivers(keep_alive=True)
    hooks = hooked.runner.hooks
    reads: list[int] = []
    pending = hooks.pending

    def counting(*args: Any, **kw: Any) -> Any:
        found = pending(*args, **kw)
        reads.append(len(found))
        return found

    monkeypatch.setattr(hooks, "pending", counting)
    made = hooked.subscribe("VR08", url=receiver.url, channels=["region:VR08"])
    mine: list[int] = []
    for _ in range(5):
        mine += request(hooked)
        receiver.wait_for(len(mine))
    assert positions(receiver.verified(made["secret"])) == mine
    # One read when the lane starts; a look at the store's backlog each tick may make an idle
    # lane read again (a delivery sent a moment before is not written down yet).
    assert len(reads) <= len(mine) // 2, f"{len(reads)} reads for {len(mine)} deliveries"
    log = delivered_log(hooked, made, len(mine))
    assert [d["state"] for d in log] == ["delivered"] * len(mine)
    assert [d["attempts"] for d in log] == [1] * len(mine)
    path = f"/v1/subscriptions/{made['id']}"
    shown = hooked.client.get(path, headers=hooked.headers("VR08", "admin")).json()
    assert shown["delivered_position"] == mine[-1]


def test_a_redelivery_through_another_node_reaches_a_waiting_lane(
    hooked: Hooked, receiver: Receiver
) -> None:
    """A lane that has sent its queue waits for more (``LINGER``) knowing its whole queue;
    a redelivery written by another node's API (this runner is not told) is found by the
    runner's look at the store each tick, and the lane reads its queue again."""
    from mlob.runners.hookstore import HookStore

    made = hooked.subscribe("VR08", url=receiver.url, channels=["region:VR08"])
    mine = request(hooked)
    receiver.wait_for(len(mine))
    first = delivered_log(hooked, made, len(mine))[0]
    assert first["state"] == "delivered"
    other = HookStore(hooked.service.app.store, KEY)
    try:
        again = other.redeliver(made["id"], first["id"])
    finally:
        other.close()
    assert again is not None and again.state == "pending"
    got = receiver.wait_for(len(mine) + 1, timeout=webhooks.LINGER / 2)
    assert got[-1].webhook_id == first["webhook_id"]


def niceness(pid: int) -> dict[int, int]:
    """The niceness of each thread of process ``pid`` (Linux: /proc/<pid>/task/<tid>/stat)."""
    found = {}
    for task in (Path("/proc") / str(pid) / "task").iterdir():
        with contextlib.suppress(OSError):  # a thread that ended meanwhile
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            found[int(task.name)] = int(fields[16])  # field 19 of stat(5): nice
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a niceness per thread: Linux")
def test_the_delivery_threads_of_mlob_worker_run_at_a_lower_priority(
    store_config: StoreConfig,
) -> None:
    """``MLOB_WEBHOOK_NICE`` lowers the delivery threads' priority only: a busy receiver never
    slows the posts on a shared machine, and the worker's projections keep their priority (a
    whole worker at a lower priority let them fall behind under load)."""
    env = {
        **os.environ,
        "MLOB_DATABASE_URL": database_url(store_config),
        "MLOB_WEBHOOK_KEY": KEY,
        "MLOB_WEBHOOK_NICE": "7",
        "PYTHONPATH": str(ROOT),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "mlob.cli", "worker"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert worker.stdout is not None
        assert "projection worker" in worker.stdout.readline()
        base = os.nice(0)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            threads = niceness(worker.pid)
            if base + 7 in threads.values():
                break
            time.sleep(0.05)
        assert base + 7 in threads.values(), threads  # the delivery runner's loop
        assert threads[worker.pid] == base  # the process itself (and so its projections)
        assert list(threads.values()).count(base) >= 2, threads  # projection threads too
    finally:
        worker.terminate()
        worker.wait(10)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a niceness per thread: Linux")
def test_lower_thread_priority_lowers_only_the_calling_thread() -> None:
    """The thread's niceness is set from the process's, not added to its creator's: the
    lanes, started by the runner's lowered loop, would otherwise sit at twice the setting."""
    seen: dict[str, int] = {}

    def lowered(name: str, then: Callable[[], None] | None = None) -> None:
        webhooks.lower_thread_priority(5)
        seen[name] = niceness(os.getpid())[threading.get_native_id()]
        if then is not None:
            child = threading.Thread(target=then)
            child.start()
            child.join()

    base = os.nice(0)
    thread = threading.Thread(target=lowered, args=("parent", lambda: lowered("child")))
    thread.start()
    thread.join()
    assert seen == {"parent": base + 5, "child": base + 5}
    assert niceness(os.getpid())[threading.get_native_id()] == base  # this thread's: unchanged


def test_a_busy_lane_reads_its_queue_again_when_the_store_holds_one_it_was_not_handed(
    hooked: Hooked, receiver: Receiver
) -> None:
    """A lane kept busy with what it is handed never reads the store by itself: at the tick,
    a waiting delivery older than everything it holds (a redelivery, or one another node
    queued and did not send before this node took the lease) makes it read its queue again,
    or it would go out late and after newer ones; a lane still there when the runner takes
    the lease over reads its queue again too."""
    from mlob.runners.hookstore import HookStore

    made = hooked.subscribe("VR08", url=receiver.url, channels=["region:VR08"])
    mine = request(hooked)
    receiver.wait_for(len(mine))
    first = delivered_log(hooked, made, len(mine))[0]
    runner = webhooks.WebhookRunner(hooked.service, HookStore(hooked.service.app.store, KEY))
    try:
        runner.reload()
        busy = webhooks.Lane(made["id"])
        busy.sending, busy.next_up = True, first["id"] + 1000  # sending newer ones
        runner.lanes[made["id"]] = busy
        runner.start_lanes()
        assert not busy.resyncing, "nothing waits that it does not hold"
        again = runner.hooks.redeliver(made["id"], first["id"])
        assert again is not None
        assert runner.hooks.waiting_from([made["id"]]) == {made["id"]: again.id}
        runner.start_lanes()
        assert busy.resyncing and busy.wake.is_set()
        lingering = webhooks.Lane(made["id"])
        runner.lanes[made["id"]] = lingering
        runner._take_over()
        assert lingering.resyncing
    finally:
        runner.lanes.clear()
        runner.hooks.close()


def test_with_no_subscription_nothing_is_decoded_and_a_later_one_is_routed_in_full(
    hooked: Hooked, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A runner with no subscription reads only the index (no event decoded: a third of a
    worker's CPU); the first subscription after that is routed on what each stream concerns,
    learnt afresh from the projections' rows: a step of a request drafted before it still goes
    to the request's capability channel, which only the draft names."""
    runner = hooked.runner
    assert runner is not None
    decoded: list[int] = []
    logged_events = hooked.service.logged_events

    def counting(*args: Any, **kw: Any) -> Any:
        found = logged_events(*args, **kw)
        decoded.append(len(found))
        return found

    monkeypatch.setattr(hooked.service, "logged_events", counting)
    subject = uuid4()
    drafted = hooked.accepted("VR08", fire_request(subject))["events"][0]["position"]
    deadline = time.monotonic() + 10
    while (runner.hooks.cursor() or (0, 0))[0] < drafted and time.monotonic() < deadline:
        time.sleep(0.02)
    assert (runner.hooks.cursor() or (0, 0))[0] >= drafted
    assert sum(decoded) == 0, "events were decoded with no subscription to deliver to"
    made = hooked.subscribe("VR08", url=receiver.url, channels=["capability:FIRE_WATER_SUPPLY"])
    step = hooked.accepted("VR08", item("request.submitted", subject, authority=chair("VR08")))[
        "events"
    ][0]["position"]
    receiver.wait_for(1)
    assert positions(receiver.verified(made["secret"])) == [step]


def test_the_first_subscription_waits_for_projections_that_lag_before_routing(
    hooked: Hooked, receiver: Receiver
) -> None:
    """The routes the first subscription is routed on are seeded from the projections' rows
    once those hold every event the runner skipped: a request drafted while they lagged still
    has its capability channel, which only the draft names."""
    from mlob.bootstrap import open_projections

    runner, service = hooked.runner, hooked.service
    assert runner is not None and service.projections is not None
    service.projections.close()  # the read models stop: they lag from here
    subject = uuid4()
    drafted = hooked.accepted("VR08", fire_request(subject))["events"][0]["position"]
    deadline = time.monotonic() + 10
    while (runner.hooks.cursor() or (0, 0))[0] < drafted and time.monotonic() < deadline:
        time.sleep(0.02)
    threading.Timer(1.0, lambda: open_projections(service).start()).start()
    made = hooked.subscribe("VR08", url=receiver.url, channels=["capability:FIRE_WATER_SUPPLY"])
    step = hooked.accepted("VR08", item("request.submitted", subject, authority=chair("VR08")))[
        "events"
    ][0]["position"]
    receiver.wait_for(1)
    assert positions(receiver.verified(made["secret"])) == [step]
