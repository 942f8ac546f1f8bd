"""PyPI-shaped synthetic projects and dependency graphs: a model, with no pages, HTTP or SQL.

``build_graph(size)`` makes ``size`` projects that its root requirements pull into a
resolution, plus some that only markers false on a current Linux CPython (backports,
Windows helpers) or extras nobody requests would pull in. The shapes follow PyPI:

- release counts are skewed (most 5–50, a few 500+), with pre-, post- and a few local
  versions, some yanked releases, and Requires-Python tightening over the years;
- files: pure wheels (``py3-none-any``, ``py2.py3-none-any``), binary wheels for a moving
  window of CPythons and platforms, abi3 wheels, and sdists whose PEP 643 metadata is static
  or declares its dependencies dynamic (needs a build);
- Requires-Dist: mostly lower bounds, some caps, ``!=``, ``~=`` and exact pins, extras
  (``extra == "x"``), environment markers, a few hubs most projects depend on, and pairs of
  big projects released in lockstep (one pins a minor series of the other).

Every project has a *compatible* release, and every requirement of a compatible release admits
the compatible release of what it names, so a solution always exists. Releases newer than the
compatible one sometimes need more than that and older ones sometimes cap below it, so the
solver still backtracks now and then. The same (size, seed) gives the same graph everywhere.

This module's concern is the published side: the model, and turning each plan of
:mod:`bench.synthetic_plan` (versions and who requires whom) into releases with upload times,
Requires-Python, Requires-Dist lines and distribution files.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench.synthetic_airflow import airflow_roots
from bench.synthetic_plan import EPOCH, Plan, closure, lockstep, plain, plan_graph, requirement
from db.canonical import canonical_name

__all__ = [
    "GENERATOR_VERSION",
    "SHAPES",
    "DistModel",
    "Graph",
    "Project",
    "Release",
    "build_graph",
    "parse_size",
]

# Part of every cache key: bump it whenever the same (size, seed) would give another graph.
GENERATOR_VERSION = 1
# The graphs there are: PyPI-shaped roots, or one hub asked for with its ``[all]`` extra (the
# shape of ``apache-airflow[all]``: :mod:`bench.synthetic_airflow`).
SHAPES = ("pypi", "airflow")

_LINUX = ("manylinux_2_17_x86_64.manylinux2014_x86_64", "manylinux_2_28_x86_64")
_OTHER_PLATFORMS = (
    "manylinux_2_17_aarch64.manylinux2014_aarch64",
    "musllinux_1_2_x86_64",
    "macosx_11_0_arm64",
    "macosx_10_9_x86_64",
    "win_amd64",
)
_SPAN_DAYS = (datetime(2025, 6, 1, tzinfo=UTC) - EPOCH).days


@dataclass(frozen=True, slots=True)
class DistModel:
    """One distribution file of a release; ``tags`` is empty for an sdist."""

    filename: str
    tags: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Release:
    version: str
    upload_time: str  # PEP 700, as stored: YYYY-MM-DDTHH:MM:SS.ffffffZ
    requires_python: str | None
    requires_dist: tuple[str, ...]
    provides_extra: tuple[str, ...]
    files: tuple[DistModel, ...]
    yanked: str | None = None  # the reason ("" for none given) when yanked
    sdist_dynamic: bool = False  # the sdist's metadata declares Requires-Dist dynamic


@dataclass(frozen=True, slots=True)
class Project:
    name: str  # display name; the canonical name is what pages are served under
    releases: tuple[Release, ...]  # in upload order
    compatible: int  # index of the release every dependent's requirement admits

    @property
    def canonical(self) -> str:
        return canonical_name(self.name)


@dataclass(frozen=True, slots=True)
class Graph:
    size: int
    seed: int
    projects: tuple[Project, ...]  # sorted by canonical name
    roots: tuple[str, ...]  # root requirement lines
    expected: int  # projects in the roots' closure over the newest releases
    shape: str = "pypi"

    @property
    def label(self) -> str:
        """The size as ``--sizes`` names it: ``700``, or ``airflow-700``."""
        return str(self.size) if self.shape == "pypi" else f"{self.shape}-{self.size}"

    @property
    def key(self) -> str:
        return f"graph-{self.label}-seed{self.seed}-v{GENERATOR_VERSION}"

    def requirements_in(self) -> str:
        return f"# synthetic {self.key}: {self.expected} projects\n" + "\n".join(self.roots) + "\n"


def parse_size(text: str) -> tuple[str, int]:
    """A ``--sizes`` entry: ``700`` (PyPI-shaped) or ``SHAPE-700`` → (shape, size)."""
    shape, _, size = text.strip().rpartition("-")
    shape = shape or "pypi"
    if shape not in SHAPES or not size.isdigit():
        raise SystemExit(f"bad size {text!r}: give N or SHAPE-N, SHAPE one of {SHAPES}")
    return shape, int(size)


def build_graph(size: int, *, seed: int = 0, shape: str = "pypi") -> Graph:
    """``size`` projects in the resolution of ``Graph.roots``, and some more around them."""
    tag = "" if shape == "pypi" else f"{shape}-"
    rng = random.Random(f"sneakernet-graph-{tag}{size}-{seed}-{GENERATOR_VERSION}")
    plans, roots = plan_graph(rng, size)
    if shape == "airflow":
        roots = airflow_roots(rng, plans, size)
    projects = sorted((_project(rng, plan, plans) for plan in plans), key=lambda p: p.canonical)
    expected = closure(plans, size) if shape == "pypi" else size
    return Graph(size, seed, tuple(projects), tuple(roots), expected, shape)


# -- releases and files ---------------------------------------------------------------------


def _requires_python(age: float, style: int) -> str | None:
    if age < 0.3:
        return (None, ">=2.7", "!=3.0.*,!=3.1.*,!=3.2.*,>=2.7")[style]
    return ">=3.6" if age < 0.6 else ">=3.8" if age < 0.85 else ">=3.9"


def _wheel_tags(rng: random.Random, kind: str, age: float) -> list[str]:
    if kind == "pure":
        return ["py3-none-any"]
    if kind == "universal":
        return ["py2.py3-none-any" if age < 0.5 else "py3-none-any"]
    if kind == "sdist-only":
        return []
    newest = 8 + round(age * 5)  # cp313 for the newest releases, cp38 for the oldest
    platforms = [rng.choice(_LINUX), *rng.sample(_OTHER_PLATFORMS, rng.randrange(1, 4))]
    if kind == "abi3":
        return [f"cp3{newest - 4}-abi3-{p}" for p in platforms]
    return [f"cp3{m}-cp3{m}-{p}" for m in range(newest - 4, newest + 1) for p in platforms]


def _dist(filename: str, tags: str, size: int) -> DistModel:
    return DistModel(filename, tags, size, hashlib.sha256(filename.encode()).hexdigest())


def _files(rng: random.Random, plan: Plan, version: str, age: float) -> list[DistModel]:
    stem = f"{plan.dist_name}-{version}"
    binary = plan.kind in ("binary", "abi3")
    files = []
    for tags in _wheel_tags(rng, plan.kind, age):
        size = int(10 ** rng.uniform(6, 7.5) if binary else 10 ** rng.uniform(3.7, 5.7))
        files.append(_dist(f"{stem}-{tags}.whl", tags, size))
    if plan.kind == "sdist-only" or rng.random() < 0.85:
        files.append(_dist(f"{stem}.tar.gz", "", int(10 ** rng.uniform(4, 7))))
    return files


def _usable(files: list[DistModel], dynamic: bool) -> bool:
    """Whether CPython 3.12 on x86_64 manylinux can use one of the files."""
    for f in files:
        if not f.tags:
            fits = not dynamic
        else:
            linux = "manylinux" in f.tags and "x86_64" in f.tags
            cpython = f.tags.startswith("cp312-cp312") or "-abi3-" in f.tags
            fits = f.tags.endswith("-none-any") or (linux and cpython)
        if fits:
            return True
    return False


def _project(rng: random.Random, plan: Plan, plans: list[Plan]) -> Project:
    count = len(plan.versions)
    style = rng.randrange(3)
    day = rng.randrange(_SPAN_DAYS // 2)
    step = (_SPAN_DAYS - day) / count
    held: dict[int, tuple[str, str]] = {}  # dependency → (requirement, mode): kept for a while
    releases = []
    for i, version in enumerate(plan.versions):
        age = i / max(1, count - 1)
        moment = EPOCH + timedelta(days=day + i * step, seconds=rng.randrange(86_400))
        requires_python = _requires_python(age, style)
        files = _files(rng, plan, version, age)
        dynamic = plan.kind in ("binary", "abi3") or (plan.kind == "sdist-only" and age < 0.4)
        if i == plan.compatible and not _usable(files, dynamic):
            # The compatible release must install on the benchmark's target.
            tags = "cp312-cp312-" + _LINUX[0]
            files.append(_dist(f"{plan.dist_name}-{version}-{tags}.whl", tags, 8_000_000))
        if i > plan.compatible and plan.compatible < count - 1 and rng.random() < 0.05:
            requires_python = ">=3.13"
        phase = "new" if i > plan.compatible else "old" if i < plan.compatible // 2 else ""
        requires = []
        for k, (start, template, until, rank) in enumerate(plan.deps):
            if not start <= i < until:
                continue
            text, mode = held.get(k, ("", "?"))
            if mode not in ("", phase) or rng.random() < 0.15:
                mode = phase if rng.random() < 0.2 else ""
                text = requirement(rng, template, plans[rank], age, mode)
                held[k] = (text, mode)
            requires.append(text)
        requires += [text for since, text in plan.fixed if i >= since]
        if plan.lockstep is not None and plain(plan.parsed[i]):
            requires.append(lockstep(plans[plan.lockstep], i / max(1, plan.compatible)))
        yanked = None
        if i != plan.compatible and rng.random() < 0.01:
            yanked = rng.choice(("", "broken build", "security issue"))
        releases.append(
            Release(
                version=version,
                upload_time=moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                requires_python=requires_python,
                requires_dist=tuple(requires),
                provides_extra=tuple(plan.extras),
                files=tuple(files),
                yanked=yanked,
                sdist_dynamic=dynamic,
            )
        )
    return Project(plan.name, tuple(releases), plan.compatible)
