"""Properties of the solver on random small problems (pubgrub-rs's habit).

1. A solution satisfies every requirement of the root and of every selected version; and
   when the solver finds none, exhaustive search finds none either.
2. Determinism: the same problem written in a different order (dicts, hash seeds) gives
   the same pins and the same report.
3. Removing a dependency never turns a solvable problem into an unsolvable one.
"""

from __future__ import annotations

import itertools
import os
import random
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from resolve.policy.prerelease import names_prerelease
from resolve.report.derivation import render
from resolve.solver.solve import NoSolution
from tests.resolve.memory import MemoryProvider, Release, split_extra

Index = dict[str, dict[str, Release]]
Problem = tuple[Index, dict[str, str]]

VERSIONS = ["0.9", "1.0", "1.0+cpu", "1.1", "2.0a1", "2.0", "3.0"]
SPECS = ["", ">=1.0", "<2", ">=1.1,<3", "==1.0", "!=1.1", ">=2", "==2.0a1", "~=1.0", ">3"]
SPECS += ["==1.0+cpu", "<=1.0"]
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    names = [f"p{i}" for i in range(draw(st.integers(2, 4)))]

    def requirement() -> tuple[str, str]:
        name = draw(st.sampled_from(names))
        if draw(st.integers(0, 4)) == 0:
            name += "[x]"
        return name, draw(st.sampled_from(SPECS))

    index: Index = {}
    for name in names:
        index[name] = {}
        for version in draw(st.lists(st.sampled_from(VERSIONS), min_size=1, max_size=4)):
            requires = dict(requirement() for _ in range(draw(st.integers(0, 2))))
            requires.pop(name, None)
            extra = dict(requirement() for _ in range(draw(st.integers(0, 1))))
            unavailable = "broken" if draw(st.integers(0, 6)) == 0 else None
            index[name][version] = Release(requires, {"x": extra}, unavailable)
    root = dict(requirement() for _ in range(draw(st.integers(1, 3))))
    return index, root


def solve(problem: Problem) -> dict[str, str] | str:
    """Pins as strings, or the rendered failure."""
    index, requires = problem
    try:
        result = MemoryProvider(index, requires).solve()
    except NoSolution as failure:
        return render(failure)
    return {name: str(version) for name, version in result.pins.items()}


def admits(index: Index, roots: Mapping[str, str], base: str, spec: str, version: Version) -> bool:
    """Does one requirement admit ``version`` under ``if-necessary`` (SEMANTICS §3)? Its own
    matching, and a pre-release only when the requirement or a root requirement on the package
    names one, or when the requirement matches no usable stable version."""
    specifier = SpecifierSet(spec)
    if not specifier.contains(version, prereleases=True):
        return False
    if not version.is_prerelease or names_prerelease(spec):
        return True
    if any(split_extra(n)[0] == base and names_prerelease(s) for n, s in roots.items()):
        return True
    return not any(
        not Version(v).is_prerelease
        and release.unavailable is None
        and specifier.contains(Version(v), prereleases=True)
        for v, release in index[base].items()
    )


def satisfies(index: Index, requires: Mapping[str, str], chosen: Mapping[str, Version]) -> bool:
    """Does selecting ``chosen`` (base packages only) meet every requirement in force, under
    the default pre-release policy?"""
    pending = list(requires.items())
    for name, version in chosen.items():
        release = index[name].get(str(version))
        if release is None or release.unavailable is not None:
            return False
        pending += release.requires.items()
    extras_done: set[str] = set()
    while pending:
        name, spec = pending.pop()
        base, extra = split_extra(name)
        found = chosen.get(base)
        if found is None or not admits(index, requires, base, spec, found):
            return False
        if extra is not None and name not in extras_done:
            extras_done.add(name)
            pending += index[base][str(found)].extras.get(extra, {}).items()
    return True


def exists_solution(index: Index, requires: Mapping[str, str]) -> bool:
    names = sorted(index)
    choices = [[None, *(Version(v) for v in index[n])] for n in names]
    for combo in itertools.product(*choices):
        chosen = {n: v for n, v in zip(names, combo, strict=True) if v is not None}
        if satisfies(index, requires, chosen):
            return True
    return False


@SETTINGS
@given(problems())
def test_solutions_satisfy_every_requirement_and_failures_are_real(problem: Problem) -> None:
    index, requires = problem
    outcome = solve(problem)
    if isinstance(outcome, str):
        assert outcome.endswith("we can conclude that your requirements are unsatisfiable.")
        assert not exists_solution(index, requires)
        return
    chosen = {n: Version(v) for n, v in outcome.items() if split_extra(n)[1] is None}
    assert satisfies(index, requires, chosen)
    for name, version in outcome.items():
        base, extra = split_extra(name)
        if extra is not None:  # a virtual package is pinned to its base's version
            assert outcome[base] == version


def _reordered(problem: Problem, rng: random.Random) -> Problem:
    def shuffled(mapping: Mapping[str, object]) -> list[str]:
        keys = list(mapping)
        rng.shuffle(keys)
        return keys

    index, requires = problem
    copy: Index = {}
    for name in shuffled(index):
        copy[name] = {}
        for version in shuffled(index[name]):
            release = index[name][version]
            copy[name][version] = Release(
                {k: release.requires[k] for k in shuffled(release.requires)},
                {k: dict(release.extras[k]) for k in shuffled(release.extras)},
                release.unavailable,
            )
    return copy, {k: requires[k] for k in shuffled(requires)}


@SETTINGS
@given(problems(), st.randoms(use_true_random=False))
def test_same_problem_in_another_order_gives_the_same_output(
    problem: Problem, rng: random.Random
) -> None:
    assert solve(_reordered(problem, rng)) == solve(problem)


@SETTINGS
@given(problems(), st.data())
def test_removing_a_dependency_keeps_a_problem_solvable(
    problem: Problem, data: st.DataObject
) -> None:
    index, requires = problem
    if isinstance(solve(problem), str):
        return
    edges: list[tuple[str | None, str | None, str]] = [(None, None, n) for n in requires]
    for name, versions in index.items():
        edges += [(name, version, dep) for version, r in versions.items() for dep in r.requires]
    where, version, dep = data.draw(st.sampled_from(edges))
    if where is None:
        requires = {k: v for k, v in requires.items() if k != dep}
    else:
        assert version is not None
        release = index[where][version]
        reduced = {k: v for k, v in release.requires.items() if k != dep}
        index = {
            **index,
            where: {**index[where], version: Release(reduced, release.extras, release.unavailable)},
        }
    assert not isinstance(solve((index, requires)), str)


_HASH_PROGRAM = """
import random
from tests.resolve.memory import MemoryProvider
from resolve.solver.solve import NoSolution
rng = random.Random(7)
names = [f"pkg-{i}" for i in range(60)]
index = {}
for i, name in enumerate(names):
    index[name] = {}
    for v in range(1, 6):
        deps = {}
        for j in rng.sample(range(i + 1, len(names)), min(3, len(names) - i - 1)):
            deps[names[j]] = rng.choice(["", ">=2", "<4", "!=3.0", "==1.0"])
        index[name][f"{v}.0"] = deps
for requires in ({n: "" for n in names[:5]}, {"pkg-0": ">=5", "pkg-1": "==1.0"}):
    try:
        print(sorted(MemoryProvider(index, requires).solve().pins.items()))
    except NoSolution as failure:
        print(failure)
"""


def test_output_does_not_depend_on_the_hash_seed() -> None:
    root = Path(__file__).resolve().parents[2]
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(root)}
        run = subprocess.run(
            [sys.executable, "-c", _HASH_PROGRAM],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.add(run.stdout)
    assert len(outputs) == 1
    assert "Version" in next(iter(outputs))


@st.composite
def larger_problems(draw: st.DrawFn) -> Problem:
    """Up to 25 packages with ranges and upper bounds: real backtracking, no brute force."""
    count = draw(st.integers(8, 25))
    names = [f"pkg{i}" for i in range(count)]
    rng = random.Random(draw(st.integers(0, 2**32)))
    index: Index = {}
    for name in names:
        index[name] = {}
        for v in range(rng.randrange(1, 6)):
            requires = {}
            for _ in range(rng.randrange(0, 4)):
                dep = rng.choice(names)
                if dep != name:
                    low = rng.randrange(0, 5)
                    requires[dep] = rng.choice(["", f">={low}.0", f"<{low + 1}.0", f"=={low}.0"])
            index[name][f"{v}.0"] = Release(requires)
    root = {rng.choice(names): rng.choice(["", ">=1.0", "<3.0"]) for _ in range(3)}
    return index, root


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(larger_problems(), st.randoms(use_true_random=False))
def test_larger_problems_are_valid_and_deterministic(problem: Problem, rng: random.Random) -> None:
    index, requires = problem
    outcome = solve(problem)
    assert solve(_reordered(problem, rng)) == outcome
    if isinstance(outcome, dict):
        assert satisfies(index, requires, {n: Version(v) for n, v in outcome.items()})
