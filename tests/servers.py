"""Real ``mlob serve`` processes on one store, for the feed's many-node and backpressure tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx

from tests import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def issue_token(
    url: str,
    org: str = "LOCC",
    role: str = "coordinator",
    *more: str,
    env: dict[str, str] | None = None,
) -> str:
    """A token from ``mlob tokens issue`` (``more``: further options, e.g. ``--clearance``)."""
    out = subprocess.run(
        [sys.executable, "-m", "mlob.cli", "tokens", "issue", "--org", org, "--role", role, *more],
        env={**os.environ, **(env or {}), "MLOB_DATABASE_URL": url},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return out.stdout.strip().splitlines()[-1]


def incident_opened(title: str) -> dict[str, Any]:
    """A new incident in VR08, opened now: the step the load of the crash, failover and
    balancer tests is made of (read its ``message_id`` to match the answer)."""
    return {
        "type": "incident.opened",
        "subject": str(uuid4()),
        "message_id": str(uuid4()),
        "occurred_at": datetime.now(UTC).isoformat(),
        "data": {"title": title, "regions": ["VR08"], "grip": "1"},
    }


class Server:
    """``mlob serve`` in a subprocess; ``args`` are added to its command line (``--demo``),
    ``env`` to its environment, and its standard output goes to ``output`` when given (the demo
    tokens: :func:`demo_tokens`), its standard error (the log) to ``errors``."""

    def __init__(
        self,
        database_url: str,
        args: Sequence[str] = (),
        output: Path | None = None,
        errors: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.env = {**os.environ, **(env or {}), "MLOB_DATABASE_URL": database_url}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/v1/feed"
        self.proc: subprocess.Popen[bytes] | None = None
        self.args = tuple(args)
        self.output = output
        self.errors = errors

    def start(self) -> Server:
        command = [sys.executable, "-m", "mlob.cli", "serve", "--port", str(self.port)]
        with (
            open(self.output or os.devnull, "wb") as stdout,
            open(self.errors or os.devnull, "ab") as stderr,
        ):
            self.proc = subprocess.Popen(
                [*command, *self.args, "--log-level", "warning"],
                env=self.env,
                cwd=ROOT,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("server did not start")

    def demo_tokens(self) -> dict[str, str]:
        """The demo token per organisation (``--demo``; the admin token as ``LOCC/admin``)."""
        assert self.output is not None
        tokens = {}
        for line in self.output.read_text().splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[2].startswith("mlob_"):
                org, role, token = parts
                tokens[org if role != "admin" else f"{org}/admin"] = token
        return tokens

    def last_position(self) -> int:
        """The store's newest position as this server reads it (``GET /health``)."""
        return int(httpx.get(f"{self.url}/health", timeout=10).json()["last_position"])

    def rss_kib(self) -> int:
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def terminate(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=30)
        self.proc = None
        return code

    def kill(self) -> None:
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
            self.proc = None

    def stop(self) -> None:
        """Stop it gracefully if it still runs."""
        if self.proc is not None and self.proc.poll() is None:
            self.terminate()


class RawClient:
    """A minimal WebSocket client over a plain socket with a small receive buffer: it can stop
    reading for real (no library thread keeps draining the socket behind the test's back)."""

    def __init__(self, port: int, token: str, rcvbuf: int = 8192) -> None:
        import base64
        import os as _os
        import socket as _socket

        self.sock = _socket.socket()
        self.sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_RCVBUF, rcvbuf)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(_os.urandom(16)).decode()
        self.sock.sendall(
            (
                "GET /v1/feed HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n"
            ).encode()
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(4096)
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head

    def send(self, text: str) -> None:
        import os as _os
        import struct

        payload = text.encode()
        mask = _os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        if len(payload) < 126:
            header = struct.pack("!BB", 0x81, 0x80 | len(payload))
        else:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, len(payload))
        self.sock.sendall(header + mask + masked)

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def recv(self, timeout: float = 10) -> tuple[int, bytes]:
        """The next frame: (opcode, payload); 8 is a close frame."""
        import struct

        self.sock.settimeout(timeout)
        first, second = self._read(2)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._read(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._read(8))
        return first & 0x0F, self._read(length)

    def close(self) -> None:
        self.sock.close()
