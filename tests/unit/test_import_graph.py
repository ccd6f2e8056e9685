"""No import cycles among the project's modules, counting every import: at module level, inside
functions and under ``if TYPE_CHECKING:`` (import-linter sees only some of those)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests import ROOT

PACKAGES = ("domain", "projections", "api", "mlob")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(
    tree: ast.AST, module: str, is_package: bool, modules: frozenset[str] = frozenset()
) -> set[str]:
    """Every module an ``import`` or ``from`` statement anywhere in ``tree`` names."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against this module's package
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            names = [f"{target}.{alias.name}" for alias in node.names]
            # ``from package import module`` imports the module (as ``import package.module``
            # does: the package's own ``__init__`` runs first either way, and a submodule's
            # import of its siblings through it is no cycle); any other name is the target's.
            found.update(names)
            if not modules or not all(n in modules for n in names):
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(), str(path))
        targets = imported(tree, name, path.name == "__init__.py", frozenset(files))
        # A name imported from a module that is not itself a module is that module's.
        edges[name] = {
            t if t in files else t.rpartition(".")[0]
            for t in targets
            if t in files or t.rpartition(".")[0] in files
        } - {name}
    return edges


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


def test_the_graph_sees_every_kind_of_import() -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from mlob.config import StoreConfig\n"
        "def f():\n    import mlob.recent\n    from . import errors\n"
    )
    found = imported(tree, "domain.x", is_package=False)
    assert {"mlob.config", "mlob.recent", "domain.errors"} <= found


def test_no_import_cycles() -> None:
    edges = graph()
    assert len(edges) > 50
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_a_submodule_named_through_its_package_is_that_submodule() -> None:
    modules = frozenset({"pkg", "pkg.events", "pkg.aggregate"})
    sibling = imported(ast.parse("from pkg import events"), "pkg.aggregate", False, modules)
    assert sibling == {"pkg.events"}  # no edge to the package: a sibling, not a cycle
    name = imported(ast.parse("from pkg import thing"), "pkg.aggregate", False, modules)
    assert "pkg" in name  # a name the package's __init__ defines: an edge to the package
