"""The plan of a synthetic graph: its projects' version lines and who requires whom.

One concern, the dependency graph before anything is published: a :class:`Plan` is a project
as versions, a compatible release and extras; wiring gives it dependencies (a marker, an extra
and the releases each spans), and the roots and their closure follow. The specifiers a
requirement may carry live here too: they are what keeps every compatible release admitted,
so a solution exists. :mod:`bench.synthetic_graph` turns plans into releases and files.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from packaging.version import Version

from db.canonical import canonical_name

__all__ = ["EPOCH", "Plan", "closure", "lockstep", "plain", "plan_graph", "requirement"]

EPOCH = datetime(2012, 1, 1, tzinfo=UTC)  # the first upload of any project
_SYLLABLES = "ba co di fa go hu ki lo mu ne po ra si tu ve xo ya ze qua rin tel son dar"
_SUFFIXES = ("", "", "", "-core", "-utils", "-client", "-sdk", "_async", "-plugin", ".ext")
_EXTRAS = ("socks", "crypto", "async", "yaml", "cli", "http2", "postgres", "redis", "s3")
_DEV_EXTRAS = ("test", "docs", "dev")  # never requested: their dependencies stay unreachable
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


# -- version lines --------------------------------------------------------------------------


@dataclass(slots=True)
class Plan:
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
    # (first release, Requires-Dist line): written as it is from that release on
    fixed: list[tuple[int, str]] = field(default_factory=list)
    finals: list[int] = field(default_factory=list)  # plain final releases (no pre/post/local)

    def __post_init__(self) -> None:
        self.finals = [i for i, v in enumerate(self.parsed) if plain(v)]

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


def plain(v: Version) -> bool:
    """Whether ``v`` is a final release: no pre-, post- or local part."""
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
        day = EPOCH + timedelta(days=rng.randrange(2000))
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
    finals = [i for i, v in enumerate(parsed) if plain(v)]
    newest = finals[-1]
    if len(finals) >= 10 and rng.random() < 0.15:
        older = [i for i in finals if parsed[i].major < parsed[newest].major]
        if older:
            return older[-1]
    return newest


def _plan_project(rng: random.Random, name: str) -> Plan:
    versions = _versions(rng, _release_count(rng))
    parsed = [Version(v) for v in versions]
    if not any(plain(v) for v in parsed):
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
    return Plan(name, kind, versions, parsed, _compatible(rng, parsed), extras)


# -- requirements ---------------------------------------------------------------------------


def _lower(rng: random.Random, dep: Plan, age: float) -> str:
    """A lower bound at or below the compatible release; older dependents ask for less."""
    finals = dep.up_to_compatible
    pick = dep.parsed[finals[int(len(finals) * age * rng.uniform(0.2, 1.0) * 0.999)]]
    if len(pick.release) >= 3 and pick.release[2] == 0 and rng.random() < 0.5:
        return f">={pick.major}.{pick.minor}"
    return f">={pick}"


def _spec(rng: random.Random, dep: Plan, age: float, mode: str) -> str:
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


def requirement(rng: random.Random, template: str, dep: Plan, age: float, mode: str) -> str:
    """The Requires-Dist line of a dependency (``template`` as in :attr:`Plan.deps`) on
    ``dep``, for a dependent's release at ``age`` in ``mode`` (see :func:`_spec`)."""
    head, _, marker = template.partition("|")
    return head + _spec(rng, dep, age, mode) + (f"; {marker}" if marker else "")


def lockstep(dep: Plan, age: float) -> str:
    """``dep>=M.m,<M.m+1``: the minor series released at the same point in history; from
    the compatible release on, the compatible release's series."""
    finals = dep.up_to_compatible
    pick = dep.parsed[finals[min(len(finals) - 1, int(len(finals) * age))]]
    return f"{dep.name}<{pick.major}.{pick.minor + 1},>={pick.major}.{pick.minor}"


def _add_dependency(
    rng: random.Random, plan: Plan, rank: int, head: str, marker: str = "", since: int = -1
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


def _wire(rng: random.Random, plans: list[Plan], core: int) -> None:
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


def _roots(rng: random.Random, plans: list[Plan], core: int) -> list[str]:
    lines = []
    for plan in plans[core - _root_count(core) : core]:
        wanted = [e for e in plan.extras if e not in _DEV_EXTRAS]
        line = plan.name + (f"[{wanted[0]}]" if wanted and rng.random() < 0.3 else "")
        lines.append(line + (_lower(rng, plan, 0.5) if rng.random() < 0.5 else ""))
    return sorted(lines, key=str.lower)


def plan_graph(rng: random.Random, core: int) -> tuple[list[Plan], list[str]]:
    """Wired plans, the first ``core`` of them the projects the roots reach, and the root
    requirement lines (sorted)."""
    plans = [_plan_project(rng, name) for name in _names(rng, core + core // 8 + 10)]
    _wire(rng, plans, core)
    return plans, _roots(rng, plans, core)


def closure(plans: list[Plan], core: int) -> int:
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
