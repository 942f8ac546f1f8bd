"""A universal lock, evaluated for any single target, is a lock for that target: at most one
version of each project, every root requirement in force met, every requirement in force of
every pinned version met. And it never depends on the order the snapshot's rows come in.

The snapshot is in memory (as in ``test_precedence_properties``), so hypothesis can try many
graphs; the lock is the one ``resolve --universal`` writes (``pipeline.resolve_universal``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from types import SimpleNamespace

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from db.index_config import IndexConfig
from db.read.snapshot_reader import PageRecord, ProjectRecord
from resolve.candidates.judge import BinaryPolicy
from resolve.inputs.requirements import parse_requirement
from resolve.rules.model import IndexRule, RuleSet
from resolve.universal.environment import Universal, environment_marker
from resolve.universal.resolution import resolve_universal
from tests.resolve.records import pure_wheel

INDEX = IndexConfig(1, "pypi", "http://127.0.0.1:1/simple/", "simple", 0, True, False, (), None)
RULES = RuleSet(indexes=(IndexRule(INDEX.name, INDEX.url, True),))
NAMES = ["p0", "p1", "p2", "p3"]
VERSIONS = ["1.0", "1.1", "2.0", "3.0"]
SPECS = ["", ">=1.1", "<2", "==1.0", ">=2", "!=2.0"]
MARKERS = [
    "",
    "python_version < '3.11'",
    "python_version >= '3.11'",
    "sys_platform == 'win32'",
    "sys_platform != 'win32'",
    "sys_platform == 'linux' and python_version >= '3.12'",
]
TARGETS = [
    {"python_version": f"3.{minor}", "python_full_version": f"3.{minor}.0", "sys_platform": p}
    for minor, p in itertools.product(range(10, 14), ("linux", "win32", "darwin"))
]

Graph = dict[str, dict[str, list[str]]]


@st.composite
def requirement(draw: st.DrawFn, names: list[str]) -> str:
    marker = draw(st.sampled_from(MARKERS))
    text = draw(st.sampled_from(names)) + draw(st.sampled_from(SPECS))
    return f"{text} ; {marker}" if marker else text


@st.composite
def requirements(draw: st.DrawFn, names: list[str]) -> list[str]:
    """Requirements, often a pair on one project that forks (other versions under markers
    that cannot hold together)."""
    found = draw(st.lists(requirement(names), max_size=2))
    if draw(st.booleans()):
        name = draw(st.sampled_from(names))
        low, high = draw(st.sampled_from([("<2", ">=2"), ("==1.0", "==1.1"), ("<3", ">=3")]))
        below, above = draw(
            st.sampled_from(
                [
                    ("python_version < '3.11'", "python_version >= '3.11'"),
                    ("sys_platform == 'win32'", "sys_platform != 'win32'"),
                ]
            )
        )
        found += [f"{name}{low} ; {below}", f"{name}{high} ; {above}"]
    return found


@st.composite
def graphs(draw: st.DrawFn) -> tuple[Graph, list[str]]:
    graph: Graph = {}
    for position, name in enumerate(NAMES):
        later = NAMES[position + 1 :]
        versions = draw(st.lists(st.sampled_from(VERSIONS), min_size=1, max_size=3, unique=True))
        graph[name] = {v: draw(requirements(later)) if later else [] for v in versions}
    roots = draw(requirements(NAMES)) or [draw(requirement(NAMES))]
    return graph, roots


@dataclass
class Reader:
    """The three things the pipeline asks a snapshot reader, over a graph in memory."""

    graph: Graph
    reverse: bool = False
    snapshot = SimpleNamespace(given_name="memory", digest="0" * 64)

    def indexes(self) -> list[IndexConfig]:
        return [INDEX]

    def project(self, name: str, *, lazy_files: bool = False) -> ProjectRecord:
        releases = self.graph.get(name)
        files = [pure_wheel(name, v, r) for v, r in sorted((releases or {}).items())]
        if self.reverse:
            files.reverse()
        page = PageRecord(INDEX, 200 if releases is not None else 404, False, None, tuple(files))
        return ProjectRecord(name, True, (page,))


def _lock(graph: Graph, roots: list[str], reverse: bool = False) -> list[tuple[str, str, str]]:
    universal = Universal(environment_marker([">=3.10"], None, ()))
    ordered = list(reversed(roots)) if reverse else roots
    outcome = resolve_universal(
        Reader(graph, reverse),  # type: ignore[arg-type]
        RULES,
        BinaryPolicy(),
        universal,
        [parse_requirement(r) for r in ordered],
    )
    if outcome.lock is None:
        return []
    return [(p.name, str(p.version), p.marker or "") for p in outcome.lock.packages]


def _in_force(text: str, target: dict[str, str]) -> Requirement | None:
    requirement = Requirement(text)
    if requirement.marker is None or requirement.marker.evaluate({**target, "extra": ""}):
        return requirement
    return None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_the_lock_serves_every_target(case: tuple[Graph, list[str]]) -> None:
    graph, roots = case
    lock = _lock(graph, roots)
    event(f"solved: {bool(lock)}")
    if not lock:
        return  # no solution for some fork: nothing to check here
    for target in TARGETS:
        pinned: dict[str, str] = {}
        for name, version, marker in lock:
            if not marker or Marker(marker).evaluate(target):
                assert name not in pinned, (target, lock)
                pinned[name] = version
        wanted = [r for r in map(lambda t: _in_force(t, target), roots) if r]
        for name, version in pinned.items():
            wanted += [r for t in graph[name][version] if (r := _in_force(t, target))]
        for requirement in wanted:
            name = canonicalize_name(requirement.name)
            assert name in pinned, (target, requirement, lock)
            assert requirement.specifier.contains(pinned[name]), (target, requirement, lock)
        # Nothing else: every pin in force is asked for by a requirement in force.
        assert set(pinned) == {canonicalize_name(r.name) for r in wanted}, (target, lock)
    event(f"forked: {len({name for name, _, _ in lock}) < len(lock)}")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_row_and_input_order_never_show(case: tuple[Graph, list[str]]) -> None:
    graph, roots = case
    assert _lock(graph, roots) == _lock(graph, roots, reverse=True)
