"""The dependency rule of DESIGN.md (and ARCHITECTURE.md's rooms), checked on the import graph of
every module of ``db``, ``mirror`` and ``resolve``.

Every import statement counts, wherever it stands: at module level, inside a function and under
``if TYPE_CHECKING:``, so a cycle cannot hide behind a deferred import. Relative imports are
resolved; ``from pkg import name`` counts as importing the module ``pkg.name`` when there is one;
importing ``a.b.c`` runs ``a/__init__`` and ``a/b/__init__`` first, so it counts as importing
those packages too (except the importer's own packages, which are already initialised by the time
it runs).
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("db", "mirror", "resolve")

# What resolve may import from db (DESIGN.md: "reaches the database only through one reader
# module"): the snapshot reader, and the plain modules every layer shares (canonical names,
# index policy, errors, version text, URL text). Exact module names, so a new dependency on db
# is a decision made here.
RESOLVE_MAY_IMPORT_FROM_DB = frozenset(
    {
        "db.read.snapshot_reader",
        "db.canonical",
        "db.index_config",
        "db.errors",
        "db.versions",
        "db.urls",
    }
)
# Top-level packages resolve never imports: the network side, the ORM and migrations, the
# terminal UI. resolve computes; mirror may use resolve, never the other way.
RESOLVE_NEVER = frozenset({"mirror", "aiohttp", "sqlalchemy", "alembic", "rich"})
MAX_LINES = 450


@dataclass(frozen=True, slots=True)
class Import:
    """One module named by one import statement: a module of ``modules`` when it is one,
    otherwise the dotted name as written (an outside package, or a name of a package)."""

    target: str
    line: int


def find_modules(root: Path, packages: Collection[str] = PACKAGES) -> dict[str, Path]:
    """``{dotted module name: file}`` of every ``.py`` file under the given packages."""
    found: dict[str, Path] = {}
    for package in sorted(packages):
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports_of(
    source: str, name: str, *, is_package: bool, modules: Collection[str]
) -> Iterator[Import]:
    """Every module the module ``name`` imports, wherever the import statement is."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (Import(alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                # `.` is the module's own package (the module itself for an __init__).
                package = name.split(".") if is_package else name.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, base] if base else package)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield Import(submodule if submodule in modules else base, node.lineno)


def _packages_of(name: str) -> list[str]:
    """``a.b.c`` → ``["a", "a.b"]``: the packages Python initialises before the module."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def build_graph(modules: Mapping[str, Path]) -> dict[str, dict[str, Import]]:
    """``{module: {imported module of ``modules``: the first import statement that loads it}}``."""
    graph: dict[str, dict[str, Import]] = {}
    for name, path in modules.items():
        own_packages = set(_packages_of(name))
        edges: dict[str, Import] = {}
        source = path.read_text(encoding="utf-8")
        imports = imports_of(source, name, is_package=path.name == "__init__.py", modules=modules)
        for found in sorted(imports, key=lambda i: i.line):
            implied = [p for p in _packages_of(found.target) if p not in own_packages]
            for target in [*implied, found.target]:
                if target in modules and target != name:
                    edges.setdefault(target, Import(target, found.line))
        graph[name] = edges
    return graph


def find_cycles(graph: Mapping[str, Collection[str]]) -> list[list[str]]:
    """Cycles ``[a, b, …, a]`` that cover every module in a cycle: the strongly connected
    components of more than one module (Tarjan's algorithm), and in each the shortest cycle
    through each module not yet shown (breadth-first search)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

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
            component: set[str] = set()
            while node not in component:
                top = stack.pop()
                on_stack.discard(top)
                component.add(top)
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    cycles = []
    for component in components:
        shown: set[str] = set()
        for start in sorted(component):
            if start not in shown:
                cycles.append(_shortest_cycle(graph, component, start))
                shown.update(cycles[-1])
    return sorted(cycles)


def _shortest_cycle(
    graph: Mapping[str, Collection[str]], component: set[str], start: str
) -> list[str]:
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in sorted(graph[node]):
            if target == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if target in component and target not in came_from:
                came_from[target] = node
                queue.append(target)
    raise AssertionError(f"no cycle through {start}")  # a component always has one


def describe_cycles(
    graph: Mapping[str, Mapping[str, Import]], modules: Mapping[str, Path], root: Path
) -> str:
    """Each cycle, then the import statements that close it (file and line), one per line."""
    lines = []
    for cycle in find_cycles(graph):
        lines.append(" -> ".join(cycle))
        for importer, imported in pairwise(cycle):
            where = f"{modules[importer].relative_to(root)}:{graph[importer][imported].line}"
            lines.append(f"    {where} imports {imported}")
    return "\n".join(lines)


def _explicit_imports(prefix: str) -> Iterator[tuple[str, Import]]:
    """``(file:line, import)`` of every import statement in the modules of ``prefix``."""
    for name, path in MODULES.items():
        if name == prefix or name.startswith(prefix + "."):
            source = path.read_text(encoding="utf-8")
            is_package = path.name == "__init__.py"
            for found in imports_of(source, name, is_package=is_package, modules=MODULES):
                yield f"{path.relative_to(ROOT)}:{found.line}", found


MODULES = find_modules(ROOT)


def test_no_import_cycles() -> None:
    graph = build_graph(MODULES)
    if find_cycles(graph):
        pytest.fail("import cycles:\n" + describe_cycles(graph, MODULES, ROOT), pytrace=False)


def test_db_imports_neither_mirror_nor_resolve() -> None:
    wrong = [
        f"{where} imports {found.target}"
        for where, found in _explicit_imports("db")
        if found.target.split(".")[0] in ("mirror", "resolve")
    ]
    assert not wrong, "\n".join(wrong)


def test_resolve_never_imports_the_network_the_orm_or_the_terminal() -> None:
    wrong = [
        f"{where} imports {found.target}"
        for where, found in _explicit_imports("resolve")
        if found.target.split(".")[0] in RESOLVE_NEVER
    ]
    assert not wrong, "\n".join(wrong)


def test_resolve_reaches_the_database_only_through_the_reader() -> None:
    wrong = [
        f"{where} imports {found.target}"
        for where, found in _explicit_imports("resolve")
        if found.target.split(".")[0] == "db" and found.target not in RESOLVE_MAY_IMPORT_FROM_DB
    ]
    assert not wrong, "\n".join(wrong)


def test_the_solver_is_pure() -> None:
    """resolve.solver imports nothing of the project outside itself."""
    wrong = [
        f"{where} imports {found.target}"
        for where, found in _explicit_imports("resolve.solver")
        if found.target.split(".")[0] in PACKAGES and not found.target.startswith("resolve.solver")
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_small(name: str) -> None:
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines; split it by concern"


# --- the graph itself ---------------------------------------------------------------------------


def test_every_kind_of_import_is_seen() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "import x.y\n"
        "from . import b\n"
        "from .c import f\n"
        "from .. import d\n"
        "if TYPE_CHECKING:\n"
        "    from p.q.e import T\n"
        "def g() -> None:\n"
        "    from r import s\n"
    )
    modules = {"p", "p.q", "p.q.a", "p.q.b", "p.q.c", "p.q.e", "p.d", "r", "r.s"}
    found = imports_of(source, "p.q.a", is_package=False, modules=modules)
    assert sorted((i.target, i.line) for i in found) == [
        ("p.d", 5),  # `from pkg import module` is the module
        ("p.q.b", 3),
        ("p.q.c", 4),  # `from .c import f`: f is not a module, so the module c
        ("p.q.e", 7),  # under TYPE_CHECKING
        ("r.s", 9),  # inside a function
        ("typing", 1),
        ("x.y", 2),
    ]


def test_relative_imports_in_a_package_start_from_the_package() -> None:
    found = imports_of("from . import a\nfrom .. import z\n", "p.q", is_package=True, modules={})
    assert [i.target for i in found] == ["p.q", "p"]


def _write(root: Path, files: Mapping[str, str]) -> dict[str, Path]:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return find_modules(root, {"p"})


def test_a_cycle_behind_deferred_imports_is_found(tmp_path: Path) -> None:
    modules = _write(
        tmp_path,
        {
            "p/__init__.py": "",
            "p/a.py": "import typing\nif typing.TYPE_CHECKING:\n    from p.b import B\n",
            "p/b.py": "def f() -> None:\n    from p.sub import c\n",
            "p/sub/__init__.py": "from p import a\n",
            "p/sub/c.py": "",
            "p/d.py": "import p.a\n",
        },
    )
    graph = build_graph(modules)
    assert find_cycles(graph) == [["p.a", "p.b", "p.sub", "p.a"]]  # p.sub/__init__ runs too
    assert describe_cycles(graph, modules, tmp_path).splitlines() == [
        "p.a -> p.b -> p.sub -> p.a",
        "    p/a.py:3 imports p.b",
        "    p/b.py:2 imports p.sub",
        "    p/sub/__init__.py:1 imports p.a",
    ]


def test_a_package_is_not_in_a_cycle_with_its_own_modules(tmp_path: Path) -> None:
    """A module does not import the packages that contain it (they are initialised before it
    runs), but an explicit ``from p import name`` does."""
    files = {"p/__init__.py": "from p.a import f\n", "p/a.py": "from p.b import g\n", "p/b.py": ""}
    assert find_cycles(build_graph(_write(tmp_path, files))) == []
    files = {"p/b.py": "from p import f\n"}
    assert find_cycles(build_graph(_write(tmp_path, files))) == [["p", "p.a", "p.b", "p"]]


def test_every_module_of_a_tangle_is_shown_in_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"a", "c"}, "c": {"b"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "a"], ["c", "b", "c"]]
