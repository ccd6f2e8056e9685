"""The ``mlob`` command line in a subprocess, as an operator runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping

from tests import ROOT


def run_cli(
    *args: str,
    url: str | None = None,
    env: Mapping[str, str | None] | None = None,
    timeout: float = 120,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """``mlob ARGS`` from the repository root, on the store at ``url`` (``MLOB_DATABASE_URL``)
    when given, in this process's environment changed by ``env`` (``None`` unsets a name)."""
    environ = dict(os.environ)
    changes = {**({} if url is None else {"MLOB_DATABASE_URL": url}), **(env or {})}
    for name, value in changes.items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    return subprocess.run(
        [sys.executable, "-m", "mlob.cli", *args],
        env=environ,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        input=input,
    )
