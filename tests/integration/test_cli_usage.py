"""The command line's answer to a value it cannot read: exit code 2 and what to type instead,
before any store is opened (mlob/cli.py ``_parsed``); never a traceback."""

from __future__ import annotations

import pytest

from mlob import cli


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["audit", "timeline", "no-id"], "'no-id' is not an id"),
        (["tokens", "revoke", "no-id", "--reason", "x"], "'no-id' is not a token id"),
        (
            ["tokens", "issue", "--org", "VR08", "--role", "operator", "--expires", "soon"],
            "--expires 'soon': use e.g. 12h, 30d or an ISO time",
        ),
        (["audit", "picture", "--as-of", "noon"], "--as-of 'noon': use an ISO 8601 time"),
        (["audit", "stats", "--to", "2026-13-01"], "--to '2026-13-01': use an ISO 8601 time"),
        (["audit", "stats", "--from", "2026-12-01T10:00"], "give the time zone"),
    ],
)
def test_a_value_the_command_cannot_read_is_a_usage_error(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOB_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")  # never opened
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("mlob: ") and said in err, err
