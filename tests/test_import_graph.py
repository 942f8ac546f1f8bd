"""The layering rules of ARCHITECTURE.md, checked on the import graph of every module of
``db``, ``mirror`` and ``resolve``: imports at module level, inside functions and under
``TYPE_CHECKING`` all count, so a cycle cannot hide behind a deferred import."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("db", "mirror", "resolve")
# What resolve may take from db: the one read interface, the plain values and errors, and the
# text every layer reads alike (version text, URL text).
RESOLVE_MAY_READ = ("db.read", "db.records", "db.errors", "db.paths", "db.versions", "db.urls")
RESOLVE_NEVER = ("mirror", "aiohttp", "sqlalchemy", "alembic", "rich")
MAX_LINES = 450


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[str]:
    """Every module ``name`` imports (of any package), wherever the import statement is."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = name.split(".")
                parent = parent if is_package else parent[:-1]
                parent = parent[: len(parent) - (node.level - 1)]
                base = ".".join([*parent, *([base] if base else [])])
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield submodule if submodule in MODULES else base


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        targets = set()
        for imported in _imports(name, path):
            # Importing a.b.c also runs a/__init__ and a/b/__init__.
            parts = imported.split(".")
            targets.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
        graph[name] = {t for t in targets if t in MODULES and t != name}
    return graph


def _all_imports() -> dict[str, set[str]]:
    return {name: set(_imports(name, path)) for name, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _package_cycle_free(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The graph without the edges from a package's ``__init__`` to its own modules (an
    ``__init__`` that re-exports is not a cycle with the modules it names)."""
    return {
        name: {t for t in targets if not t.startswith(name + ".")}
        for name, targets in graph.items()
    }


def test_the_graph_sees_every_kind_of_import() -> None:
    """The walker finds module-level, function-level and TYPE_CHECKING imports alike."""
    assert "db.records" in _graph()["db.digests"]
    assert any(name.startswith("mirror.cli.") for name in MODULES)


def test_no_import_cycles() -> None:
    cycles = _cycles(_package_cycle_free(_graph()))
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_db_imports_neither_mirror_nor_resolve() -> None:
    wrong = sorted(
        f"{name} imports {target}"
        for name, targets in _all_imports().items()
        if name.split(".")[0] == "db"
        for target in targets
        if target.split(".")[0] in ("mirror", "resolve")
    )
    assert not wrong, "\n".join(wrong)


def test_resolve_reaches_the_database_only_through_the_reader() -> None:
    wrong = sorted(
        f"{name} imports {target}"
        for name, targets in _all_imports().items()
        if name.split(".")[0] == "resolve"
        for target in targets
        if target.split(".")[0] in RESOLVE_NEVER
        or (target.split(".")[0] == "db" and not target.startswith(RESOLVE_MAY_READ))
    )
    assert not wrong, "\n".join(wrong)


def test_the_solver_is_pure() -> None:
    """resolve.solver imports nothing of the project outside itself."""
    wrong = sorted(
        f"{name} imports {target}"
        for name, targets in _all_imports().items()
        if name.startswith("resolve.solver")
        for target in targets
        if target.split(".")[0] in PACKAGES and not target.startswith("resolve.solver")
    )
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_small(name: str) -> None:
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines; split it by concern"


def test_a_cycle_is_found() -> None:
    """The cycle finder itself, on a graph with one cycle and one chain."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
