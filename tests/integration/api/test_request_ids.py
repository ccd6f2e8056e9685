"""Request ids (api/logcontext.py): the client's plain id is kept; otherwise each request gets
a new one, unique within the process and across processes, forked ones included."""

from __future__ import annotations

import os

from api import logcontext


def test_a_plain_client_id_is_kept_and_others_are_replaced() -> None:
    assert logcontext.start("abc-123") == "abc-123"
    made = logcontext.start("not plain!")
    assert made != "not plain!" and len(made) == 16 and int(made, 16) >= 0


def test_new_ids_do_not_repeat() -> None:
    made = {logcontext.start() for _ in range(10_000)}
    assert len(made) == 10_000


def test_a_forked_process_makes_other_ids() -> None:
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        os.write(write, logcontext.start().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    theirs = os.read(read, 64).decode()
    os.close(read)
    ours = logcontext.start()
    assert theirs[:8] != ours[:8], "a forked worker shares the parent's prefix"
