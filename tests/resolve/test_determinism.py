"""The same snapshot, inputs and rules give a byte-identical lock (DESIGN.md "Determinism",
"Tests"): across interpreters with other hash seeds, and whatever order the rows and pages
come back in; and every lock satisfies what it was asked.

Three kinds of check:

- the installed ``resolve`` in subprocesses with different ``PYTHONHASHSEED`` values;
- hypothesis properties over one synced snapshot whose reader hands the provider its pages and
  files shuffled, and over the same projects synced from fixture indexes listing them in other
  orders;
- hypothesis properties over random small problems (the in-memory ones of
  ``test_solver_properties``, with target markers on the edges) published on a fixture index,
  synced and resolved: the lock satisfies every requirement in force, holds nothing else, and
  agrees with the in-memory solver; removing a dependency never makes it unsolvable.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import random
import sqlite3
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from db.read.snapshot_reader import IndexConfig, ProjectRecord, SnapshotReader
from resolve.solver.solve import NoSolution
from tests.conftest import Mirror, clean_environment
from tests.fixtures.dists import build_wheel
from tests.fixtures.index_server import FixtureIndex, make_project, serve_in_thread
from tests.resolve.endtoend import (
    TARGET,
    add_indexes,
    catalogue,
    invoke,
    run_console,
    shop_index,
    sync_snapshot,
)
from tests.resolve.memory import MemoryProvider, Release, split_extra
from tests.resolve.test_solver_properties import Index, problems

PROPERTIES = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def two_indexes() -> dict[str, FixtureIndex]:
    """Every shared fixture project on the default index, and an earlier index holding some
    of the same names (other versions, other bytes) plus a project of its own."""
    pypi = shop_index()
    pypi.projects.update(catalogue().projects)
    extra = FixtureIndex()
    make_project(extra, "attrs", ["21.0", "23.0"], padding=32)
    make_project(extra, "blinker", ["2.0"], tag="cp312-cp312-win_amd64")
    make_project(extra, "private", ["0.1"], deps=["attrs>=22", "zeta-pkg"])
    return {"extra": extra, "pypi": pypi}


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Mirror:
    return sync_snapshot(tmp_path_factory.mktemp("determinism"), two_indexes())[0]


# Requirement sets that succeed and fail; blinker 2.0 (on the first index) fits Windows only.
REQUESTS = [
    ("private", "app[web]"),
    ("plugin[all]", "legacy"),
    ("legacy", "click>=8.1"),
    ("zeta-pkg", "attrs<23", "flask<3"),
    ("private", "not-synced"),
    ("blinker>=2",),
]
FORMATS = ["requirements", "pylock", "json"]
STRATEGIES = ["first-index", "unsafe-first-match", "unsafe-best-match"]


def outcome(mirror: Mirror, *args: str) -> tuple[int, str, str]:
    result = invoke(mirror, *args, "--quiet")
    return result.exit_code, result.stdout, result.stderr


@contextlib.contextmanager
def shuffled_rows(rng: random.Random) -> Iterator[None]:
    """The reader returns indexes, pages and files in a random order, as SQL may."""
    project, indexes = SnapshotReader.project, SnapshotReader.indexes

    def shuffled_project(self: SnapshotReader, name: str, **options: bool) -> ProjectRecord:
        record = project(self, name, **options)
        pages = [
            dataclasses.replace(page, files=tuple(rng.sample(page.files, len(page.files))))
            for page in record.pages
        ]
        rng.shuffle(pages)
        return dataclasses.replace(record, pages=tuple(pages))

    def shuffled_indexes(self: SnapshotReader) -> list[IndexConfig]:
        found = indexes(self)
        rng.shuffle(found)
        return found

    with (
        mock.patch.object(SnapshotReader, "project", shuffled_project),
        mock.patch.object(SnapshotReader, "indexes", shuffled_indexes),
    ):
        yield


_BASELINES: dict[tuple[str, ...], tuple[int, str, str]] = {}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(REQUESTS),
    st.sampled_from(FORMATS),
    st.sampled_from(STRATEGIES),
    st.randoms(use_true_random=False),
)
def test_row_order_never_shows(
    snapshot: Mirror,
    request: tuple[str, ...],
    format_: str,
    strategy: str,
    rng: random.Random,
) -> None:
    args = (*request, *TARGET, "--format", format_, "--index-strategy", strategy)
    key = (str(snapshot.db), *args)
    if key not in _BASELINES:
        _BASELINES[key] = outcome(snapshot, *args)
    with shuffled_rows(rng):
        assert outcome(snapshot, *args) == _BASELINES[key]


def test_the_requests_cover_both_outcomes(snapshot: Mirror) -> None:
    """The property above compares successes, failures and incomplete snapshots alike."""
    codes = {outcome(snapshot, *request, *TARGET)[0] for request in REQUESTS}
    assert codes == {0, 1, 4}


@pytest.mark.slow
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False))
def test_fixture_order_never_shows(rng: random.Random) -> None:
    """The same projects listed by the index in another order, synced into another database:
    the same lock, but for the snapshot's digest (its pages differ byte for byte)."""
    # Built once: the bytes of a fixture sdist depend on the clock (its gzip header).
    projects = two_indexes()["pypi"].projects
    served = FixtureIndex()
    locks = []
    with serve_in_thread(served) as url, tempfile.TemporaryDirectory() as directory:
        for attempt in ("a", "b"):
            names = rng.sample(sorted(projects), len(projects))
            served.projects = {name: projects[name] for name in names}
            for project in served.projects.values():
                project.files = rng.sample(project.files, len(project.files))
            home = Path(directory) / attempt
            home.mkdir()
            mirror = Mirror(home / "mirror.db", clean_environment(home))
            mirror.add_index("pypi", url, "--default")
            mirror.sync(*names, "--versions", "all", "--quiet", "--name", "same")
            code, stdout, stderr = outcome(
                mirror, "zeta-pkg", "app[web]", "plugin[all]", *TARGET, "--format", "json"
            )
            assert code == 0, stderr
            lock = json.loads(stdout)
            del lock["snapshot"]["digest"]
            locks.append(lock)
    assert locks[0] == locks[1]


@pytest.mark.parametrize(
    ("request_", "format_", "code"),
    [
        (("private", "app[web]", "plugin[all]"), "requirements", 0),
        (("private", "app[web]", "plugin[all]"), "pylock", 0),
        (("private", "app[web]", "plugin[all]"), "json", 0),
        (("legacy", "click>=8.1"), "requirements", 1),
    ],
)
def test_hash_seed_never_shows(
    snapshot: Mirror, tmp_path: Path, request_: tuple[str, ...], format_: str, code: int
) -> None:
    """The installed command, in fresh interpreters with different hash seeds."""
    args = (*request_, *TARGET, "--format", format_, "--index-strategy", "unsafe-best-match")
    runs = set()
    for seed in ("0", "4242"):
        run = run_console(snapshot, *args, "-q", cwd=tmp_path, PYTHONHASHSEED=seed)
        runs.add((run.returncode, run.stdout, run.stderr))
    assert len(runs) == 1, runs
    assert runs.pop()[0] == code


# -- random problems, published and synced -------------------------------------------------------

# Edge markers: two true and two false for the target (CPython 3.12 on linux).
MARKERS = [
    None,
    'sys_platform == "linux"',
    'sys_platform == "win32"',
    'python_version >= "3.10"',
    'python_version < "3.10"',
]
TARGET_MARKERS = {"sys_platform": "linux", "python_version": "3.12"}
OTHER_PLATFORM = "cp312-cp312-win_amd64"  # "unavailable" becomes "no wheel for the target"


@dataclasses.dataclass(frozen=True)
class Published:
    """A random problem as metadata: Requires-Dist lines per (project, version), the root
    requirements, and the versions whose only file is for another platform."""

    requires_dist: Mapping[str, Mapping[str, tuple[str, ...]]]
    roots: tuple[str, ...]
    unavailable: frozenset[tuple[str, str]]

    def index(self) -> FixtureIndex:
        index = FixtureIndex()
        for name, versions in self.requires_dist.items():
            project = index.add_project(name)
            for version, lines in versions.items():
                tag = OTHER_PLATFORM if (name, version) in self.unavailable else "py3-none-any"
                project.add(build_wheel(name, version, tag=tag, requires_dist=lines))
        return index

    def memory(self) -> tuple[Index, dict[str, str]]:
        """The same problem for the in-memory solver: only the edges in force for the target."""
        index: Index = {}
        for name, versions in self.requires_dist.items():
            index[name] = {}
            for version, lines in versions.items():
                requires: dict[str, str] = {}
                extras: dict[str, dict[str, str]] = {}
                for line in lines:
                    requirement = Requirement(line)
                    key = _key(requirement)
                    if applies(requirement.marker, ""):
                        requires[key] = str(requirement.specifier)
                    elif applies(requirement.marker, "x"):
                        extras.setdefault("x", {})[key] = str(requirement.specifier)
                broken = "no wheel" if (name, version) in self.unavailable else None
                index[name][version] = Release(requires, extras, broken)
        roots = {
            _key(r): str(r.specifier) for r in map(Requirement, self.roots) if applies(r.marker, "")
        }
        return index, roots

    def without(self, edge: tuple[str, str, int]) -> Published:
        name, version, position = edge
        lines = list(self.requires_dist[name][version])
        del lines[position]
        versions = {**self.requires_dist[name], version: tuple(lines)}
        return dataclasses.replace(self, requires_dist={**self.requires_dist, name: versions})


def _key(requirement: Requirement) -> str:
    extras = "".join(f"[{e}]" for e in sorted(requirement.extras))
    return requirement.name + extras


def applies(marker: Marker | None, extra: str) -> bool:
    return marker is None or marker.evaluate({**TARGET_MARKERS, "extra": extra})


def _line(dependency: str, specifier: str, marker: str | None, extra: str | None) -> str:
    markers = [f"({marker})" if marker else "", f'extra == "{extra}"' if extra else ""]
    joined = " and ".join(m for m in markers if m)
    return f"{dependency}{specifier}" + (f"; {joined}" if joined else "")


@st.composite
def published(draw: st.DrawFn) -> Published:
    index, roots = draw(problems())
    requires_dist: dict[str, dict[str, tuple[str, ...]]] = {}
    unavailable = set()
    for name, versions in index.items():
        requires_dist[name] = {}
        for version, release in versions.items():
            lines = [
                _line(dep, spec, draw(st.sampled_from(MARKERS)), None)
                for dep, spec in release.requires.items()
            ]
            lines += [
                _line(dep, spec, draw(st.sampled_from(MARKERS)), extra)
                for extra, deps in release.extras.items()
                for dep, spec in deps.items()
            ]
            requires_dist[name][version] = tuple(lines)
            if release.unavailable is not None:
                unavailable.add((name, version))
    root_lines = tuple(
        _line(dep, spec, draw(st.sampled_from(MARKERS)), None) for dep, spec in roots.items()
    )
    return Published(requires_dist, root_lines, frozenset(unavailable))


class PublishingIndex:
    """One fixture index served for a whole property test; each example replaces what it
    publishes and syncs it into a database of its own."""

    def __init__(self, url: str, served: FixtureIndex, directory: Path) -> None:
        self.url = url
        self.served = served
        self.directory = directory
        self.count = 0

    def lock(self, problem: Published) -> dict[str, str] | None:
        """The pins of ``resolve`` (by canonical name), or None when it finds no solution."""
        self.served.projects.clear()
        self.served.projects.update(problem.index().projects)
        self.count += 1
        home = self.directory / str(self.count)
        home.mkdir()
        mirror = Mirror(home / "mirror.db", clean_environment(home))
        add_indexes(mirror, lambda _: self.url, pypi=self.served)
        mirror.sync(*sorted(self.served.projects), "--versions", "all", "--quiet")
        code, stdout, stderr = outcome(mirror, *problem.roots, *TARGET, "--format", "json")
        assert code in (0, 1), stderr
        if code == 1:
            assert "unsatisfiable" in stderr
            return None
        return {p["name"]: p["version"] for p in json.loads(stdout)["packages"]}


@pytest.fixture(scope="module")
def publishing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PublishingIndex]:
    served = FixtureIndex()
    with serve_in_thread(served) as url:
        yield PublishingIndex(url, served, tmp_path_factory.mktemp("published"))


def unmet(problem: Published, pins: Mapping[str, str]) -> list[str]:
    """Requirements in force (the roots, and every edge of a pinned version whose marker
    applies, extras included) that the pins do not satisfy; and pins nothing asked for."""
    pending = [r for r in map(Requirement, problem.roots) if applies(r.marker, "")]
    for name, version in pins.items():
        lines = problem.requires_dist[name][version]
        pending += [r for r in map(Requirement, lines) if applies(r.marker, "")]
    problems_found: list[str] = []
    reached: set[str] = set()
    extras_done: set[tuple[str, str]] = set()
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        reached.add(name)
        locked = pins.get(name)
        if locked is None or not requirement.specifier.contains(Version(locked), True):
            problems_found.append(f"{requirement} (locked: {locked})")
            continue
        for extra in requirement.extras:
            if (name, extra) not in extras_done:
                extras_done.add((name, extra))
                lines = problem.requires_dist[name][locked]
                pending += [
                    r
                    for r in map(Requirement, lines)
                    if applies(r.marker, extra) and not applies(r.marker, "")
                ]
    problems_found += [f"{name} is locked but not required" for name in set(pins) - reached]
    problems_found += [
        f"{n}=={v} is unavailable" for n, v in pins.items() if (n, v) in problem.unavailable
    ]
    return problems_found


def memory_pins(problem: Published) -> dict[str, str] | None:
    index, roots = problem.memory()
    try:
        result = MemoryProvider(index, roots).solve()
    except NoSolution:
        return None
    return {n: str(v) for n, v in result.pins.items() if split_extra(n)[1] is None}


@pytest.mark.slow
@PROPERTIES
@given(published())
def test_locks_satisfy_every_requirement_in_force(
    publishing: PublishingIndex, problem: Published
) -> None:
    pins = publishing.lock(problem)
    event("solved" if pins is not None else "no solution")
    assert pins == memory_pins(problem)  # the snapshot path and the in-memory solver agree
    if pins is not None:
        assert unmet(problem, pins) == []


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(published(), st.data())
def test_removing_a_dependency_keeps_a_lock_possible(
    publishing: PublishingIndex, problem: Published, data: st.DataObject
) -> None:
    edges = [
        (name, version, position)
        for name, versions in problem.requires_dist.items()
        for version, lines in versions.items()
        for position in range(len(lines))
    ]
    if not edges or memory_pins(problem) is None:
        return
    reduced = problem.without(data.draw(st.sampled_from(edges)))
    if publishing.lock(problem) is not None:
        assert publishing.lock(reduced) is not None


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(REQUESTS[:4]), st.randoms(use_true_random=False), st.floats(0.05, 0.6))
def test_deleted_metadata_gives_the_same_lock_or_exit_4(
    snapshot: Mirror, request: tuple[str, ...], rng: random.Random, share: float
) -> None:
    """SEMANTICS §7: delete random core metadata rows from the complete snapshot; `resolve`
    gives the complete snapshot's answer (lock or report) or exit 4, never a third answer."""
    args = (*request, *TARGET, "--format", "json")
    complete = outcome(snapshot, *args)
    with tempfile.TemporaryDirectory() as home:
        damaged = Mirror(Path(home) / "mirror.db", snapshot.env)
        # SQLite's backup API, not a file copy: the source may hold pages in its WAL file.
        with (
            contextlib.closing(sqlite3.connect(snapshot.db)) as source,
            contextlib.closing(sqlite3.connect(damaged.db)) as copy,
        ):
            source.backup(copy)
        with contextlib.closing(sqlite3.connect(damaged.db)) as db, db:
            keys = "snapshot_id, index_id, filename"
            rows = list(db.execute(f"SELECT {keys} FROM snapshot_metadata ORDER BY {keys}"))
            gone = [r for r in rows if rng.random() < share]
            db.executemany(
                "DELETE FROM snapshot_metadata "
                "WHERE snapshot_id = ? AND index_id = ? AND filename = ?",
                gone,
            )
        code, stdout, stderr = outcome(damaged, *args)
    event(f"exit {code}")
    if code == 4:
        assert "error: the snapshot lacks data this resolution needs: " in stderr
        assert json.loads(stdout)["missing"]
    else:
        assert (code, stdout) == complete[:2], stderr
