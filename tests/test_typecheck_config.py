"""mypy runs strict on all four packages (issue 17): ``make typecheck`` runs ``mypy`` with no
arguments, so pyproject's ``[tool.mypy]`` decides what is checked and how."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"domain", "projections", "api", "mlob"}


def mypy_config() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        config: dict[str, object] = tomllib.load(f)["tool"]["mypy"]
    return config


def test_mypy_checks_every_package_strictly() -> None:
    config = mypy_config()
    assert config.get("strict") is True
    files = config.get("files")
    assert isinstance(files, list) and set(files) >= PACKAGES, files


def test_make_typecheck_runs_mypy_on_the_pyproject_config() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\ntypecheck:", 1)[1].split("\n\n", 1)[0]
    assert "\t$(BIN)/mypy\n" in recipe + "\n", recipe  # no paths or flags of its own
