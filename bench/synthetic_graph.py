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
"""

from __future__ import annotations

import hashlib
import random
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from packaging.version import Version

from db.records import canonical_name

__all__ = ["GENERATOR_VERSION", "DistModel", "Graph", "Project", "Release", "build_graph"]

# Part of every cache key: bump it whenever the same (size, seed) would give another graph.
GENERATOR_VERSION = 1

_SYLLABLES = "ba co di fa go hu ki lo mu ne po ra si tu ve xo ya ze qua rin tel son dar"
_SUFFIXES = ("", "", "", "-core", "-utils", "-client", "-sdk", "_async", "-plugin", ".ext")
_EXTRAS = ("socks", "crypto", "async", "yaml", "cli", "http2", "postgres", "redis", "s3")
_DEV_EXTRAS = ("test", "docs", "dev")  # never requested: their dependencies stay unreachable
_LINUX = ("manylinux_2_17_x86_64.manylinux2014_x86_64", "manylinux_2_28_x86_64")
_OTHER_PLATFORMS = (
    "manylinux_2_17_aarch64.manylinux2014_aarch64",
    "musllinux_1_2_x86_64",
    "macosx_11_0_arm64",
    "macosx_10_9_x86_64",
    "win_amd64",
)
# (marker, true on CPython 3.12 / x86_64 Linux)
_MARKERS = (
    ('python_version >= "3.8"', True),
    ('sys_platform != "win32"', True),
    ('platform_machine == "x86_64"', True),
    ('python_version >= "3.9" and sys_platform == "linux"', True),
    ('python_version < "3.8"', False),
    ('sys_platform == "win32"', False),
    ('platform_system == "Windows"', False),
    ('implementation_name == "pypy"', False),
)
_EPOCH = datetime(2012, 1, 1, tzinfo=UTC)
_SPAN_DAYS = (datetime(2025, 6, 1, tzinfo=UTC) - _EPOCH).days


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

    @property
    def key(self) -> str:
        return f"graph-{self.size}-seed{self.seed}-v{GENERATOR_VERSION}"

    def requirements_in(self) -> str:
        return f"# synthetic {self.key}: {self.expected} projects\n" + "\n".join(self.roots) + "\n"


# -- releases -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Plan:
    """A project while its graph is being built: releases as versions, dependencies later."""

    name: str
    kind: str  # pure | universal | binary | abi3 | sdist-only
    versions: list[str]  # upload order
    parsed: list[Version]
    compatible: int  # index of the compatible release
    extras: list[str]
    # (first release, "Name[extra]|marker", release it was dropped at, rank of the dependency)
    deps: list[tuple[int, str, int, int]] = field(default_factory=list)
    lockstep: int | None = None  # rank of a project it pins a minor series of
    finals: list[int] = field(default_factory=list)  # plain final releases (no pre/post/local)

    def __post_init__(self) -> None:
        self.finals = [i for i, v in enumerate(self.parsed) if _plain(v)]

    @property
    def dist_name(self) -> str:
        """The normalised name in wheel and sdist filenames (binary distribution format)."""
        return canonical_name(self.name).replace("-", "_")

    @property
    def up_to_compatible(self) -> list[int]:
        return self.finals[: bisect_right(self.finals, self.compatible)]

    @property
    def above_compatible(self) -> list[int]:
        return self.finals[bisect_right(self.finals, self.compatible) :]


def _plain(v: Version) -> bool:
    return not (v.is_prerelease or v.is_postrelease or v.local)


def _release_count(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.02:
        return rng.randrange(500, 1200)
    if roll < 0.08:
        return rng.randrange(100, 300)
    return min(50, 5 + int(rng.expovariate(1 / 12)))


def _versions(rng: random.Random, count: int) -> list[str]:
    """``count`` releases in upload order: semantic, two-part or calendar versioning."""
    scheme = rng.choices(("semver", "two-part", "calver"), (80, 10, 10))[0]
    pre_habit = rng.random() < 0.2
    local_habit = rng.random() < 0.02 and scheme == "semver"
    out: list[str] = []
    if scheme == "calver":
        day = _EPOCH + timedelta(days=rng.randrange(2000))
        while len(out) < count:
            day += timedelta(days=1 + rng.randrange(40))
            out.append(f"{day.year}.{day.month}.{day.day}")
        return out
    major, minor, patch = rng.choice(((0, 1, 0), (1, 0, 0), (0, 4, 2)))
    p_major, p_minor = min(0.06, 3 / count), min(0.3, 25 / count)
    first = True
    while len(out) < count:
        if not first:
            roll = rng.random()
            if roll < p_major:
                major, minor, patch = major + 1, 0, 0
            elif roll < p_major + p_minor:
                minor, patch = minor + 1, 0
            else:
                patch += 1
        two_part = scheme == "two-part" and patch == 0
        base = f"{major}.{minor}" if two_part else f"{major}.{minor}.{patch}"
        if pre_habit and patch == 0 and not first:  # pre-releases before a new minor or major
            tags = rng.choice((["a1", "b1", "rc1"], ["rc1"], [".dev0"]))
            out += [f"{base}{tag}" for tag in tags]
        first = False
        out.append(base)
        if local_habit and rng.random() < 0.5:
            out += [f"{base}+cpu", f"{base}+cu121"]
        if rng.random() < 0.02:
            out.append(f"{base}.post1")
    return out[:count]


def _compatible(rng: random.Random, parsed: list[Version]) -> int:
    """The release every dependent's requirements admit: usually the newest final one; for
    some projects the last release before the newest major (the one everyone caps below)."""
    finals = [i for i, v in enumerate(parsed) if _plain(v)]
    newest = finals[-1]
    if len(finals) >= 10 and rng.random() < 0.15:
        older = [i for i in finals if parsed[i].major < parsed[newest].major]
        if older:
            return older[-1]
    return newest


def _plan_project(rng: random.Random, name: str) -> _Plan:
    versions = _versions(rng, _release_count(rng))
    parsed = [Version(v) for v in versions]
    if not any(_plain(v) for v in parsed):
        versions.append("1.0.0")
        parsed.append(Version("1.0.0"))
    kinds = ("pure", "universal", "binary", "abi3", "sdist-only")
    # Projects with hundreds of releases are mostly pure Python (cloud SDKs and the like).
    weights = (62, 15, 12, 4, 7) if len(versions) < 300 else (80, 12, 0, 8, 0)
    kind = rng.choices(kinds, weights)[0]
    extras: list[str] = []
    if rng.random() < 0.3:
        extras = sorted(rng.sample(_EXTRAS, rng.randrange(1, 4)))
        if rng.random() < 0.5:
            extras.append(rng.choice(_DEV_EXTRAS))
    return _Plan(name, kind, versions, parsed, _compatible(rng, parsed), extras)


# -- requirements ---------------------------------------------------------------------------


def _lower(rng: random.Random, dep: _Plan, age: float) -> str:
    """A lower bound at or below the compatible release; older dependents ask for less."""
    finals = dep.up_to_compatible
    pick = dep.parsed[finals[int(len(finals) * age * rng.uniform(0.2, 1.0) * 0.999)]]
    if len(pick.release) >= 3 and pick.release[2] == 0 and rng.random() < 0.5:
        return f">={pick.major}.{pick.minor}"
    return f">={pick}"


def _spec(rng: random.Random, dep: _Plan, age: float, mode: str) -> str:
    """Specifier text on ``dep`` for a release at ``age`` (0 oldest, 1 newest) of a dependent.

    ``mode`` "" admits dep's compatible release; ``old`` caps below it and ``new`` needs a
    release above it, where such releases exist."""
    star = dep.parsed[dep.compatible]
    first = dep.parsed[dep.finals[0]]
    if mode == "new" and dep.above_compatible:
        return f">={dep.parsed[rng.choice(dep.above_compatible)]}"
    if mode == "old" and first.major < star.major:
        return f"<{star.major},>={first}"
    roll = rng.random()
    if roll < 0.10:
        return ""
    if roll < 0.11:
        return f"=={star}"
    if roll < 0.16 and len(star.release) >= 2:
        return f"~={star.major}.{star.minor}"
    spec = _lower(rng, dep, age)
    roll = rng.random()
    if roll < 0.16:
        cap = f"<{star.major + 1}"
        spec = f"{cap},{spec}" if rng.random() < 0.5 else f"{spec},{cap}"
    elif roll < 0.20 and len(star.release) >= 2:
        spec += f",<{star.major}.{star.minor + 1}"
    elif roll < 0.25 and len(dep.finals) > 1:
        other = rng.choice(dep.finals)
        if other != dep.compatible:
            spec += f",!={dep.parsed[other]}"
    return spec


def _add_dependency(
    rng: random.Random, plan: _Plan, rank: int, head: str, marker: str = "", since: int = -1
) -> None:
    """One Requires-Dist entry, from release ``since`` on (by default an early one, never
    after the compatible release)."""
    count = len(plan.versions)
    start = min(plan.compatible, int(count * rng.random() ** 3)) if since < 0 else since
    plan.deps.append((start, f"{head}|{marker}", count, rank))


# -- the graph ------------------------------------------------------------------------------


def _names(rng: random.Random, count: int) -> list[str]:
    syllables = _SYLLABLES.split()
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        word = "".join(rng.choice(syllables) for _ in range(rng.randrange(2, 4)))
        name = word + rng.choice(_SUFFIXES)
        if rng.random() < 0.1:
            name = name.replace("-", "_").title()
        if canonical_name(name) not in seen:
            seen.add(canonical_name(name))
            names.append(name)
    return names


def _target(rng: random.Random, below: int) -> int:
    """A dependency's rank: hubs (low ranks) are popular, the rest uniformly likely."""
    if rng.random() < 0.6:
        return int(below * rng.random() ** 3)
    return rng.randrange(below)


def _root_count(core: int) -> int:
    return max(3, core // 25)


def _wire(rng: random.Random, plans: list[_Plan], core: int) -> None:
    """Dependencies: core projects depend on lower-ranked core projects, and each non-root
    core project gets one dependent above it (in all its releases), so the roots reach the
    whole core. Projects past ``core`` are reached only through false markers and
    development extras."""
    outliers = list(range(core, len(plans)))
    true_markers = [m for m, true in _MARKERS if true]
    false_markers = [m for m, true in _MARKERS if not true]
    named: list[set[int]] = [set() for _ in plans]  # one entry per dependency, as on PyPI
    for rank in range(core - _root_count(core)):
        parent = rng.randrange(rank + 1, core)
        named[parent].add(rank)
        _add_dependency(rng, plans[parent], rank, plans[rank].name, since=0)
    for rank in range(1, core):
        plan = plans[rank]
        for _ in range(min(rank, 40, int(rng.paretovariate(1.3)) - 1)):
            dep = _target(rng, rank)
            marker = ""
            roll = rng.random()
            if roll < 0.08:
                marker = rng.choice(true_markers)
            elif roll < 0.12:
                dep, marker = rng.choice(outliers), rng.choice(false_markers)
            if dep in named[rank]:
                continue
            named[rank].add(dep)
            head = plans[dep].name
            wanted = [e for e in plans[dep].extras if e not in _DEV_EXTRAS]
            if wanted and rng.random() < 0.1:
                head += f"[{rng.choice(wanted)}]"
            _add_dependency(rng, plan, dep, head, marker)
        if rng.random() < 0.03:  # a backport that only the oldest releases needed
            dep = rng.choice(outliers)
            cut = max(1, len(plan.versions) // 3)
            plan.deps.append((0, f'{plans[dep].name}|python_version < "3.8"', cut, dep))
        for extra in plan.extras:
            pool = outliers if extra in _DEV_EXTRAS else list(range(rank))
            for dep in rng.sample(pool, min(len(pool), rng.randrange(1, 5))):
                _add_dependency(rng, plan, dep, plans[dep].name, f'extra == "{extra}"')
    big = [r for r in range(core) if len(plans[r].finals) >= 300]
    for lower, upper in pairwise(big):
        plans[upper].lockstep = lower


def _roots(rng: random.Random, plans: list[_Plan], core: int) -> list[str]:
    lines = []
    for plan in plans[core - _root_count(core) : core]:
        wanted = [e for e in plan.extras if e not in _DEV_EXTRAS]
        line = plan.name + (f"[{wanted[0]}]" if wanted and rng.random() < 0.3 else "")
        lines.append(line + (_lower(rng, plan, 0.5) if rng.random() < 0.5 else ""))
    return sorted(lines, key=str.lower)


def _closure(plans: list[_Plan], core: int) -> int:
    """Projects the roots reach over the newest releases' requirements whose markers hold
    (extras aside: the requested ones only name core projects)."""
    truth = dict(_MARKERS)
    seen = set(range(core - _root_count(core), core))
    stack = sorted(seen)
    while stack:
        plan = plans[stack.pop()]
        for _start, template, until, rank in plan.deps:
            marker = template.partition("|")[2]
            live = until == len(plan.versions) and "extra" not in marker
            if live and truth.get(marker, True) and rank not in seen:
                seen.add(rank)
                stack.append(rank)
    return len(seen)


def build_graph(size: int, *, seed: int = 0) -> Graph:
    """``size`` projects in the resolution of ``Graph.roots``, and some more around them."""
    rng = random.Random(f"sneakernet-graph-{size}-{seed}-{GENERATOR_VERSION}")
    plans = [_plan_project(rng, name) for name in _names(rng, size + size // 8 + 10)]
    _wire(rng, plans, size)
    roots = _roots(rng, plans, size)
    projects = sorted((_project(rng, plan, plans) for plan in plans), key=lambda p: p.canonical)
    return Graph(size, seed, tuple(projects), tuple(roots), _closure(plans, size))


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


def _files(rng: random.Random, plan: _Plan, version: str, age: float) -> list[DistModel]:
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


def _project(rng: random.Random, plan: _Plan, plans: list[_Plan]) -> Project:
    count = len(plan.versions)
    style = rng.randrange(3)
    day = rng.randrange(_SPAN_DAYS // 2)
    step = (_SPAN_DAYS - day) / count
    held: dict[int, tuple[str, str]] = {}  # dependency → (requirement, mode): kept for a while
    releases = []
    for i, version in enumerate(plan.versions):
        age = i / max(1, count - 1)
        moment = _EPOCH + timedelta(days=day + i * step, seconds=rng.randrange(86_400))
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
                head, _, marker = template.partition("|")
                text = head + _spec(rng, plans[rank], age, mode) + (f"; {marker}" if marker else "")
                held[k] = (text, mode)
            requires.append(text)
        if plan.lockstep is not None and _plain(plan.parsed[i]):
            requires.append(_lockstep(plans[plan.lockstep], i / max(1, plan.compatible)))
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
    return Project(plan.name, tuple(releases))


def _lockstep(dep: _Plan, age: float) -> str:
    """``dep>=M.m,<M.m+1``: the minor series released at the same point in history; from
    the compatible release on, the compatible release's series."""
    finals = dep.up_to_compatible
    pick = dep.parsed[finals[min(len(finals) - 1, int(len(finals) * age))]]
    return f"{dep.name}<{pick.major}.{pick.minor + 1},>={pick.major}.{pick.minor}"
