"""``mlob post``: one item or a batch from a file or standard input, over HTTP, as the token's
organisation; the receipt or the refusal printed; a retry of the same body recorded once
(issue 22, "mlob post")."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from uuid import uuid4

import httpx
import orjson
import pytest

from mlob import client
from tests.cli import run_cli
from tests.servers import Server, free_port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("post")
    served = Server(f"sqlite:///{tmp / 'mlob.sqlite3'}", ["--demo"], tmp / "serve.log").start()
    try:
        yield served
    finally:
        served.terminate()


def opened(title: str = "storm") -> dict[str, object]:
    """An incident opened by VR08, without a message id or a time (``mlob post`` adds them)."""
    data = {"title": title, "regions": ["VR08"], "grip": "1"}
    return {"type": "incident.opened", "subject": str(uuid4()), "data": data}


def post(server: Server, *args: str, token: str | None = None, stdin: str | None = None) -> object:
    env = {"MLOB_TOKEN": token, "MLOB_URL": server.url}
    return run_cli("post", *args, env=env, input=stdin, timeout=60)


def test_an_item_from_a_file_is_recorded_and_its_receipt_printed(
    server: Server, tmp_path: Path
) -> None:
    path = tmp_path / "item.json"
    path.write_text(json.dumps(opened()))
    done = post(server, str(path), token=server.demo_tokens()["VR08"])
    assert done.returncode == client.RECORDED, done.stderr  # type: ignore[attr-defined]
    receipt = json.loads(done.stdout)  # type: ignore[attr-defined]
    event = receipt["events"][0]
    assert event["type"] == "incident.opened" and event["position"] > 0
    history = httpx.get(
        f"{server.url}/v1/incidents/{event['stream_id']}",
        headers={"Authorization": f"Bearer {server.demo_tokens()['LOCC']}"},
    )
    assert history.status_code == 200 and history.json()["title"] == "storm"


def test_a_batch_from_standard_input(server: Server) -> None:
    batch = {"items": [opened("a"), opened("b")]}
    done = post(server, token=server.demo_tokens()["VR08"], stdin=json.dumps(batch))
    assert done.returncode == client.RECORDED, done.stderr  # type: ignore[attr-defined]
    assert len(json.loads(done.stdout)["events"]) == 2  # type: ignore[attr-defined]


def test_a_refusal_is_printed_on_stderr_with_exit_1_and_nothing_recorded(server: Server) -> None:
    before = httpx.get(f"{server.url}/health").json()["last_position"]
    closed = {"type": "incident.closed", "subject": str(uuid4()), "data": {"reason": "r"}}
    done = post(server, token=server.demo_tokens()["VR08"], stdin=json.dumps(closed))
    assert done.returncode == client.REFUSED  # type: ignore[attr-defined]
    assert done.stdout == ""  # type: ignore[attr-defined]
    error = json.loads(done.stderr)["error"]  # type: ignore[attr-defined]
    assert error["code"] and error["reason"] and 400 <= error["status"] < 500
    assert httpx.get(f"{server.url}/health").json()["last_position"] == before


def test_a_bad_token_is_a_refusal(server: Server) -> None:
    answer = client.post(server.url, "mlob_nothing", client.completed(orjson.dumps(opened())))
    assert answer.status == 401
    assert client.report(answer, io.StringIO(), io.StringIO()) == client.REFUSED


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"items": []}', "give one item"),
        (b'{"items": [{}, 3]}', "item 1 is not a JSON object"),
    ],
)
def test_unusable_input_is_named(raw: bytes, said: str) -> None:
    with pytest.raises(client.UnusableInput, match=said):
        client.completed(raw)


def test_unusable_input_exits_2_with_one_clear_line(server: Server) -> None:
    done = post(server, "/no/such/file.json", token=server.demo_tokens()["VR08"])
    assert done.returncode == client.UNUSABLE  # type: ignore[attr-defined]
    assert "No such file" in done.stderr  # type: ignore[attr-defined]
    assert done.stderr.count("\n") == 1  # type: ignore[attr-defined]


def test_without_a_token_it_says_how_to_give_one(server: Server) -> None:
    done = post(server, token=None, stdin=json.dumps(opened()))
    assert done.returncode == client.UNUSABLE  # type: ignore[attr-defined]
    assert "MLOB_TOKEN" in done.stderr  # type: ignore[attr-defined]


def test_no_answer_exits_3_and_prints_the_body_to_resend(server: Server) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    done = run_cli(
        "post",
        "--url",
        nobody,
        "--attempts",
        "1",
        env={"MLOB_TOKEN": server.demo_tokens()["VR08"]},
        input=json.dumps(opened()),
    )
    assert done.returncode == client.UNKNOWN
    body = orjson.loads(done.stderr.strip().splitlines()[-1])
    assert body["message_id"] and body["occurred_at"]  # resending this is recorded once


def test_the_same_body_sent_again_is_recorded_once(server: Server) -> None:
    """What a retry after 503/504 does: the completed body, with its ids, sent twice."""
    body = client.completed(orjson.dumps(opened()))
    token = server.demo_tokens()["VR08"]
    first = client.post(server.url, token, body, attempts=1)
    again = client.post(server.url, token, body, attempts=1)
    assert first.status == 201 and again.status in (200, 201)
    assert again.body["events"] == first.body["events"]


def test_retries_wait_as_retry_after_says() -> None:
    """Against a port where nothing listens: every attempt fails, with the backoff between."""
    waited: list[float] = []
    nobody = f"http://127.0.0.1:{free_port()}"
    answer = client.post(nobody, "t", b"{}", attempts=3, timeout=1, pause=waited.append)
    assert answer.status == 0 and waited == [1.0, 2.0]


def test_a_token_file_that_cannot_be_read_exits_2(server: Server, tmp_path: Path) -> None:
    done = run_cli("post", "--token-file", str(tmp_path / "none"), env={"MLOB_URL": server.url})
    assert done.returncode == client.UNUSABLE and "token file" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_answer_that_is_not_json_is_no_receipt() -> None:
    """A 200 from something in front of mlob (a proxy's page): not known to be recorded."""

    class Page(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<html>maintenance</html>")

        def log_message(self, *args: object) -> None:
            pass

    page = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=page.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{page.server_address[1]}"
        answer = client.post(url, "t", b"{}", attempts=2, pause=lambda _: None)
        assert answer.status == 0 and answer.body["error"]["code"] == "not_json"
        assert client.report(answer, io.StringIO(), io.StringIO()) == client.UNKNOWN
    finally:
        page.shutdown()
