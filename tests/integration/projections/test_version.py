"""The version of derived data (projections/version.py): one hash over ``projections/`` and the
``domain/`` modules it imports, as syntax trees; comments, docstrings and formatting do not
count, code does."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlob.read import pictures as asof
from projections import version
from projections.specs import PROJECTIONS

MODULE = '''"""A module."""

def due(minutes: int) -> int:
    """When it is due."""
    return minutes * 60  # seconds
'''


#: Edits that leave the code as it was: the version stays.
SAME = (
    MODULE.replace("  # seconds", ""),
    MODULE.replace('    """When it is due."""\n', ""),
    MODULE.replace('"""A module."""', '"""Another text altogether."""'),
    MODULE.replace("minutes * 60", "(minutes  *  60)"),
    "# a comment first\n" + MODULE + "\n\n",
    MODULE.replace("def due(minutes: int) -> int:", "def due(\n    minutes: int,\n) -> int:"),
)
#: Edits of the code: the version changes.
CHANGED = (
    MODULE.replace("60", "61"),
    MODULE.replace("minutes * 60", "60 * minutes"),
    MODULE.replace("-> int", "-> float"),
    MODULE + "\nLIMIT = 3\n",
)


@pytest.mark.parametrize(
    ("edited", "counts"), [(s, False) for s in SAME] + [(c, True) for c in CHANGED]
)
def test_only_code_counts_not_comments_docstrings_or_formatting(edited: str, counts: bool) -> None:
    reference = version.version_of({"projections.x": MODULE})
    assert (version.version_of({"projections.x": edited}) != reference) is counts, edited
    # Where the code is counts too (a module moved is another module).
    assert version.version_of({"projections.y": MODULE}) != reference


def test_a_function_of_only_a_docstring_is_still_code() -> None:
    without = MODULE.replace(
        '    """When it is due."""\n    return minutes * 60  # seconds', "    pass"
    )
    only_doc = MODULE.replace("    return minutes * 60  # seconds\n", "")
    assert version.version_of({"m": only_doc}) == version.version_of({"m": without})


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The packages as they are, to be edited."""
    for package in ("projections", "domain"):
        shutil.copytree(version.ROOT / package, tmp_path / package)
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def _add_function(path: Path) -> None:
    path.write_text(path.read_text() + "\n\ndef added() -> int:\n    return 1\n")


def test_the_hash_covers_the_projections_and_the_domain_they_import(copy: Path) -> None:
    before = version.code_version(copy)
    assert before == version.CODE_VERSION, "the copy is the code"
    assert all(p.version == version.CODE_VERSION for p in PROJECTIONS), "one version for all"
    sources, data = version.sources_of(copy)
    # What the projections import, transitively; the domain's reference data.
    assert {"projections.specs", "domain.request", "domain.policy", "domain.reference"} <= set(
        sources
    )
    assert "domain.services" not in sources, "not imported by the projections"
    assert set(data) == {"domain/data/reference.json"}

    _edit(copy / "projections" / "specs.py", "def step(", "# a comment\ndef step(")
    _edit(copy / "domain" / "incident.py", '"""', '"""Reworded. ')
    _add_function(copy / "domain" / "services.py")
    assert version.code_version(copy) == before, "comments, docstrings, unimported code"

    _add_function(copy / "domain" / "policy.py")
    assert version.code_version(copy) != before, "a domain module the projections import"


def test_a_kept_version_is_read_only_for_the_very_files_that_made_it(copy: Path) -> None:
    """The answer is kept in ``__pycache__`` (a process start need not hash the trees again),
    under a digest of every file's bytes: any edit, even one the hash ignores, misses it."""
    before = version.code_version(copy)
    kept = version._kept_file(copy, ("projections",), version.FOLLOWED)
    assert kept.read_text() == before
    kept.write_text("kept-answer")
    assert version.code_version(copy) == "kept-answer", "read back, not recomputed"
    _edit(copy / "domain" / "incident.py", '"""', '"""Reworded. ')
    assert version.code_version(copy) == before, "another file's bytes: computed afresh"
    shutil.rmtree(kept.parent)
    kept.parent.write_text("not a folder")  # nowhere to keep it (as in a read-only install)
    _edit(copy / "domain" / "incident.py", '"""Reworded. ', '"""Reworded twice. ')
    assert version.code_version(copy) == before, "computed, not kept"


def test_a_change_in_a_projection_module_changes_the_version(copy: Path) -> None:
    before = version.code_version(copy)
    _edit(copy / "projections" / "specs.py", 'return "in_deployment"', 'return "deploying"')
    assert version.code_version(copy) != before


def test_the_picture_checkpoints_are_keyed_by_the_same_version(
    copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Their key is the version of derived data extended by their own layout and codec: a
    change of either code makes the stored checkpoints unusable (they are written afresh)."""
    shutil.copytree(version.ROOT / "mlob" / "store", copy / "mlob" / "store")
    shutil.copy(version.ROOT / "mlob" / "__init__.py", copy / "mlob")
    assert asof._code_version(copy) == asof.CODE_VERSION
    _add_function(copy / "projections" / "views.py")
    changed = asof._code_version(copy)
    assert changed != asof.CODE_VERSION
    _add_function(copy / "mlob" / "store" / "statecodec.py")
    assert asof._code_version(copy) not in (changed, asof.CODE_VERSION)
    monkeypatch.setattr(asof, "FORMAT", asof.FORMAT + "-next")
    assert asof._code_version() != asof.CODE_VERSION
