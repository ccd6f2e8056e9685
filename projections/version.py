"""The version of derived data: one hash of the code that shapes it.

Rows of the read models and the aggregates' states in picture checkpoints are computed by the
modules of ``projections/`` and the ``domain/`` modules they import (followed transitively),
with the reference data those read (``domain/data``). :data:`CODE_VERSION` hashes exactly
that, so nobody bumps a version by hand and nobody keeps a list of files: a change that can
change a row changes the version, and derived data of another version is rebuilt
(mlob/runners/projector.py, mlob/read/pictures.py).

Each module is hashed as its syntax tree (``ast.dump`` without positions) with docstrings
removed, so comments, docstrings, blank lines and formatting never force a rebuild; JSON data
is hashed in a canonical form for the same reason. The tree's dump depends on the Python
version, so an upgrade of Python rebuilds too (all processes of a deployment run one image).

Reads source files and hashes them (keeping the answer beside Python's own compiled files);
no store, no clock.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

#: The packages whose imports are followed (others, the standard library and third parties,
#: are pinned by the deployment, not by this hash).
FOLLOWED = ("projections", "domain")
#: Where a followed package keeps data its modules read (``importlib.resources``).
DATA_FOLDER = "data"
#: The repository root: the folder holding the ``projections`` package.
ROOT = Path(__file__).resolve().parent.parent


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    """The tree without docstrings (a body left empty gets a ``pass``, still valid)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                node.body = body[1:] or [ast.Pass()]
    return tree


@functools.cache
def normalised(source: str) -> str:
    """A module's code as it runs: its syntax tree without positions and docstrings (comments
    are not in the tree at all). Kept per source: a process hashes the domain's modules for
    more than one version (mlob/read/pictures.py)."""
    return ast.dump(_strip_docstrings(ast.parse(source)), include_attributes=False)


@functools.cache
def _imports_of(module: str, is_package: bool, source: str) -> frozenset[str]:
    return frozenset(_imported(module, is_package, ast.parse(source)))


def _canonical_data(name: str, content: bytes) -> bytes:
    if name.endswith(".json"):
        return json.dumps(json.loads(content), sort_keys=True, separators=(",", ":")).encode()
    return content


def version_of(sources: Mapping[str, str], data: Mapping[str, bytes] | None = None) -> str:
    """The version of these modules (name -> source) and data files (name -> content)."""
    digest = hashlib.sha256(b"mlob derived data\0")
    for name in sorted(sources):
        digest.update(f"module {name}\0".encode())
        digest.update(normalised(sources[name]).encode())
        digest.update(b"\0")
    for name in sorted(data or {}):
        digest.update(f"data {name}\0".encode())
        digest.update(_canonical_data(name, (data or {})[name]))
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def _module_file(root: Path, module: str) -> Path | None:
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported(module: str, is_package: bool, tree: ast.AST) -> set[str]:
    """The modules an import statement of ``module`` may load: each named module, its parent
    packages, and for ``from x import y`` also ``x.y`` (a submodule if there is one)."""
    names: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's own package upwards
                parts = package.split(".")
                base_parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*base_parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    found: set[str] = set()
    for name in names:
        parts = name.split(".")
        found.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return found


def sources_of(
    root: Path = ROOT, start: Iterable[str] = ("projections",), follow: Iterable[str] = FOLLOWED
) -> tuple[dict[str, str], dict[str, bytes]]:
    """Every module of the ``start`` packages (or modules) and, transitively, every module of
    a ``follow`` package they import, with the data folders of the packages reached."""
    followed = set(follow)
    todo: list[str] = []
    for name in start:
        folder = root.joinpath(*name.split("."))
        if folder.is_dir():
            for path in sorted(folder.rglob("*.py")):
                relative = path.relative_to(root).with_suffix("")
                parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
                todo.append(".".join(parts))
        else:
            todo.append(name)
    followed |= {name.split(".")[0] for name in todo}
    sources: dict[str, str] = {}
    packages: set[str] = set()
    while todo:
        module = todo.pop()
        if module in sources or module.split(".")[0] not in followed:
            continue
        file = _module_file(root, module)
        if file is None:  # a name imported from a module, not a module itself
            continue
        sources[module] = file.read_text(encoding="utf-8")
        if file.name == "__init__.py":
            packages.add(module)
        todo.extend(_imports_of(module, module in packages, sources[module]) - sources.keys())
    data: dict[str, bytes] = {}
    for package in sorted(packages):
        folder = root.joinpath(*package.split(".")) / DATA_FOLDER
        if folder.is_dir():
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                data[path.relative_to(root).as_posix()] = path.read_bytes()
    return sources, data


def code_version(
    root: Path = ROOT, start: Iterable[str] = ("projections",), follow: Iterable[str] = FOLLOWED
) -> str:
    """The version of the code under ``root`` that shapes derived data (see the module).

    Hashing the syntax trees takes a few tenths of a second, in every process that starts (a
    server, a worker, each ``mlob`` command); the answer is kept in ``__pycache__`` under a
    digest of every file it could depend on, byte for byte, and of the Python version, so a
    kept answer is only ever read for exactly the files and Python that computed it."""
    start, follow = tuple(start), tuple(follow)
    kept = _kept_file(root, start, follow)
    try:
        return kept.read_text(encoding="ascii").strip()
    except (OSError, ValueError):
        pass
    version = version_of(*sources_of(root, start, follow))
    try:  # a read-only install computes it each time
        kept.parent.mkdir(exist_ok=True)
        partial = kept.with_suffix(f".{os.getpid()}")
        partial.write_text(version, encoding="ascii")
        partial.replace(kept)
    except OSError:
        pass
    return version


def _kept_file(root: Path, start: tuple[str, ...], follow: tuple[str, ...]) -> Path:
    """Where the version of these files is kept: named by a digest of the bytes of every file
    of every package the hash may follow (a superset of what it reads)."""
    digest = hashlib.sha256(f"{sys.version}\0{start}\0{follow}\0".encode())
    for package in sorted({*follow, *(name.split(".")[0] for name in start)}):
        folder = root / package
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(f"{path.relative_to(root).as_posix()}\0".encode())
                digest.update(path.read_bytes())
                digest.update(b"\0")
    return root / "projections" / "__pycache__" / f"code-version-{digest.hexdigest()[:32]}.txt"


#: The version of every projection's rows and of the picture checkpoints' states.
CODE_VERSION = code_version()
