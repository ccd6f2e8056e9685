"""The one sender thread (issue 24): every lane is a task on one asyncio loop, its HTTP/1.1
connection written by hand and its answers read with httptools' parser. Here the sender
against raw receivers on loopback that answer as real servers may (chunked, closed without a
length, an interim 100, a kept-alive connection closed while idle, garbage, silence), and the
runner: no thread per subscription, and its clock's tick while events keep coming."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from mlob.runners import webhooks
from mlob.runners.hookstore import PENDING, Delivery
from mlob.runners.webhooks import Sender
from tests.integration.webhooks.conftest import Hooked, Receiver

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

#: A receiver's handling of one connection: it reads requests with ``read`` and answers.
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def delivery(n: int = 1) -> Delivery:
    return Delivery(
        id=n,
        subscription_id=str(uuid.uuid4()),
        webhook_id=f"msg_{n}",
        position=n,
        alert_id=None,
        type="incident.opened",
        body=f'{{"type":"incident.opened","data":{{"n":{n}}}}}',
        state=PENDING,
        attempts=0,
        created_at=time.time(),
        first_attempt_at=None,
        next_attempt_at=None,
        last_status=None,
        last_latency_ms=None,
        last_error=None,
        delivered_at=None,
    )


async def read_request(reader: asyncio.StreamReader) -> tuple[dict[str, str], bytes] | None:
    """One request's headers and body (None: the connection closed)."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if line)}
    body = await reader.readexactly(int(headers["content-length"]))
    return headers, body


def exchange(handler: Handler, posts: int, timeout: float = 2.0) -> tuple[list[Any], int]:
    """``posts`` deliveries through one Sender to a receiver running ``handler`` per
    connection: what each post gave (its status or the error it raised), and the connections
    the receiver accepted."""
    accepted = 0

    async def main() -> list[Any]:
        async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal accepted
            accepted += 1
            try:
                await handler(reader, writer)
            finally:
                writer.close()

        server = await asyncio.start_server(on_connection, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        sender = Sender(timeout)
        got: list[Any] = []
        for n in range(1, posts + 1):
            try:
                url = f"http://127.0.0.1:{port}/hook?n={n}"
                got.append(await sender.post(url, ["127.0.0.1"], delivery(n), Webhook(SECRET)))
            except OSError as exc:
                got.append(exc)
            await asyncio.sleep(0.05)
        sender.close()
        server.close()
        return got

    return asyncio.run(main()), accepted


def test_kept_alive_chunked_answers_and_a_signed_request() -> None:
    seen: list[tuple[dict[str, str], bytes]] = []

    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (request := await read_request(reader)) is not None:
            seen.append(request)
            writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
            writer.write(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
            await writer.drain()

    got, connections = exchange(chunked, 3)
    assert got == [200, 200, 200]
    assert connections == 1, "one kept-alive connection: the chunked answer was read to its end"
    headers, body = seen[0]
    Webhook(SECRET).verify(body, headers)  # raises unless signed by the scheme
    assert headers["webhook-id"] == "msg_1"
    assert headers["host"].startswith("127.0.0.1:")
    assert headers["content-type"] == "application/json"


def test_an_answer_ended_by_closing_and_an_interim_100() -> None:
    async def unsized(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        writer.write(b"HTTP/1.1 202 Accepted\r\nconnection: close\r\n\r\naccepted, thanks")
        await writer.drain()

    got, connections = exchange(unsized, 2)
    assert got == [202, 202]
    assert connections == 2, "the receiver closes: the next delivery opens another connection"


def test_a_kept_alive_connection_the_receiver_closed_while_idle_is_opened_again() -> None:
    """Closed between two deliveries (a receiver's idle timeout): the next one goes over a
    new connection at its first attempt, not a failed attempt on the dead one."""

    async def once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await writer.drain()  # then closes, without saying so in the answer

    got, connections = exchange(once, 3)
    assert got == [204, 204, 204]
    assert connections == 3


def test_garbage_and_silence_are_failed_attempts() -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"SPAM 42\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(1)

    got, _ = exchange(garbage, 1)
    assert isinstance(got[0], OSError) and "not an HTTP answer" in str(got[0])

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await read_request(reader) is not None:
            pass

    started = time.monotonic()
    got, connections = exchange(silent, 2, timeout=0.2)
    assert all(isinstance(g, TimeoutError) and "timeout" in str(g) for g in got), got
    assert time.monotonic() - started < 2.0
    assert connections == 2, "a connection that timed out is not used again"


def test_no_thread_per_subscription(hooked: Hooked, receivers: Any) -> None:
    """Six subscriptions' lanes are tasks on the one sender thread, not a thread each (a
    thread per lane cost ~0.5 ms of CPU per delivery and ~180,000 context switches in 20 s
    at the bench's 400 deliveries/s, taken from the cores the posts run on)."""
    from tests.integration.webhooks.test_delivery import positions, request

    made = []
    for _ in range(6):
        receiver: Receiver = receivers(keep_alive=True)
        made.append(
            (receiver, hooked.subscribe("VR08", url=receiver.url, channels=["region:VR08"]))
        )
    mine = request(hooked)
    for receiver, sub in made:
        receiver.wait_for(len(mine))
        assert positions(receiver.verified(sub["secret"])) == mine
    names = [t.name for t in threading.enumerate() if t.name.startswith("mlob-webhook")]
    assert "mlob-webhook-send" in names
    for _, sub in made:  # the lanes linger (LINGER s): a thread of theirs would still be here
        assert f"mlob-webhook-{sub['id'][:8]}" not in names, names
    assert len(names) <= 2 + 1 + 4, names  # the runner, its delivered log, sender, io threads


def test_the_clock_ticks_while_events_keep_coming(
    hooked: Hooked, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A runner that finds events at every look still raises the alerts due each tick (it
    used to go on reading and reach the tick only once the events paused)."""
    runner = hooked.runner
    assert runner is not None
    ticks: list[float] = []
    raise_alerts = runner.raise_alerts

    def counted() -> int:
        ticks.append(time.monotonic())
        return raise_alerts()

    monkeypatch.setattr(runner, "run_once", lambda: 1)  # events at every look
    monkeypatch.setattr(runner, "raise_alerts", counted)
    time.sleep(0.2)
    ticks.clear()
    time.sleep(1.0)
    assert len(ticks) >= 3, f"{len(ticks)} ticks in 1 s (tick_every {runner.tick_every} s)"


def test_lanes_woken_in_one_batch_reach_the_loop_in_one_call() -> None:
    """The runner wakes many lanes per batch; the loop is told once for all of them."""
    senders = webhooks.Senders()
    senders.start()
    try:
        assert senders.loop is not None
        calls = 0
        real = senders.loop.call_soon_threadsafe

        def counting(*args: Any) -> Any:
            nonlocal calls
            calls += 1
            return real(*args)

        senders.loop.call_soon_threadsafe = counting  # type: ignore[method-assign]
        lanes = [webhooks.Lane(str(n), senders) for n in range(50)]
        woken: list[bool] = []

        async def waiting() -> None:
            found = await asyncio.gather(*(lane.wake.wait(5.0) for lane in lanes))
            woken.extend(found)

        done = asyncio.run_coroutine_threadsafe(waiting(), senders.loop)
        time.sleep(0.1)
        busy = threading.Event()
        real(busy.wait, 5.0)  # the loop is busy while the runner wakes the lanes
        time.sleep(0.05)
        calls = 0
        for lane in lanes:
            lane.wake.set()
        assert calls == 1, f"{calls} calls into the loop for 50 wakes"
        busy.set()
        done.result(5)
        assert woken == [True] * 50
    finally:
        senders.stop(1.0)


def test_an_address_that_drops_packets_does_not_take_the_whole_attempt() -> None:
    """Each of a host's checked addresses gets a share of the attempt's time: one that drops
    packets silently (here a port whose accept queue is full) does not leave the next,
    working one untried."""
    import socket

    async def main() -> tuple[Any, float]:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        hole = socket.socket()
        hole.bind(("127.0.0.2", port))
        hole.listen(0)  # never accepted: once its queue is full, connections hang
        fillers = []
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.2", port))
            fillers.append(filler)
        await asyncio.sleep(0.1)
        started = time.monotonic()
        try:
            got: Any = await Sender(2.0).post(
                f"http://hooks.test:{port}/in",
                ["127.0.0.2", "127.0.0.1"],
                delivery(),
                Webhook(SECRET),
            )
        except OSError as exc:
            got = exc
        took = time.monotonic() - started
        for s in (hole, *fillers):
            s.close()
        server.close()
        return got, took

    got, took = asyncio.run(main())
    assert got == 200, got
    assert took < 1.8, took


def test_a_receiver_whose_name_never_resolves_holds_up_only_its_own_lane(
    hooked: Hooked, receiver: Receiver
) -> None:
    """Look-ups run on a thread each, not on the few threads every lane shares for the store:
    six receivers whose name servers hang do not stop another subscription's deliveries."""
    from tests.integration.webhooks.test_delivery import positions, request

    runner = hooked.runner
    assert runner is not None
    release = threading.Event()

    def hanging(host: str) -> list[str]:
        if host.startswith("hang-"):
            release.wait(30)
        return ["93.184.216.34"]

    hooked.service.webhooks.resolver = lambda host: ["93.184.216.34"]  # the API's check
    runner.resolver = hanging
    try:
        for n in range(6):
            hooked.subscribe("VR08", url=f"https://hang-{n}.example/in", channels=["region:VR08"])
        request(hooked)
        time.sleep(0.5)  # the six lanes are waiting for their look-ups
        made = hooked.subscribe("VR08", url=receiver.url, channels=["region:VR08"])
        mine = request(hooked)
        receiver.wait_for(len(mine), timeout=5)
        assert positions(receiver.verified(made["secret"])) == mine
    finally:
        release.set()
