"""An in-memory provider: the offline index every solver test and benchmark runs against.

It models what the snapshot provider does, on plain data: extras as virtual packages
``name[extra]`` pinned to their base's version, unavailable versions, highest/lowest
resolution, lock preferences, and the pre-release modes of SEMANTICS §3 (through the same
functions in :mod:`resolve.policy.prerelease` the snapshot provider uses).

    index = {"a": {"1.0": {"b": ">=2"}}, "b": {"2.0": {}}}
    MemoryProvider(index, {"a": ""}).solve().pins  # {'a': <Version('1.0')>, 'b': ...}

``python -m bench.solver_bench`` times the solver alone on a synthetic graph through it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from packaging.version import Version

from resolve.policy.prerelease import (
    PrereleaseMode,
    PrereleasePolicy,
    choose_version,
    names_prerelease,
    requirement_set,
)
from resolve.solver.names import ROOT, pin_base, split_extra
from resolve.solver.provider import Dependencies, Requirement, Unavailable
from resolve.solver.solve import Resolution, solve
from resolve.solver.versionset import Universe, VersionSet

__all__ = ["ROOT", "MemoryProvider", "Release", "ResolutionMode", "split_extra"]

ResolutionMode = Literal["highest", "lowest", "lowest-direct"]


@dataclass(frozen=True, slots=True)
class Release:
    """One version of a package: its requirements, its extras', or why it is unusable."""

    requires: Mapping[str, str] = field(default_factory=dict)
    extras: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    unavailable: str | None = None


class MemoryProvider:
    """A ``Provider`` over ``{package: {version: Release | {dependency: specifier}}}``.

    ``requires`` are the root requirements (``{"a[x]": ">=1"}``); ``""`` means any version.
    """

    def __init__(
        self,
        index: Mapping[str, Mapping[str, Release | Mapping[str, str]]],
        requires: Mapping[str, str],
        *,
        prerelease: PrereleasePolicy | PrereleaseMode | str = PrereleaseMode.IF_NECESSARY,
        resolution: ResolutionMode = "highest",
        preferences: Mapping[str, str] | None = None,
    ) -> None:
        self._releases: dict[str, dict[Version, Release]] = {}
        for name, versions in index.items():
            self._releases[name] = {
                Version(v): r if isinstance(r, Release) else Release(requires=dict(r))
                for v, r in versions.items()
            }
        self.requires = dict(requires)
        if not isinstance(prerelease, PrereleasePolicy):
            prerelease = PrereleasePolicy(PrereleaseMode(prerelease))
        explicit = {
            split_extra(n)[0] for n, spec in self.requires.items() if names_prerelease(spec)
        }
        self.policy = PrereleasePolicy(
            prerelease.default, prerelease.overrides, frozenset(explicit)
        )
        self._named = set(explicit)
        self.resolution = resolution
        self._direct = {split_extra(n)[0] for n in self.requires}
        self._preferences = {n: Version(v) for n, v in (preferences or {}).items()}
        self._universes: dict[str, Universe] = {}

    def solve(self) -> Resolution:
        return solve(self, ROOT)

    # -- Provider -----------------------------------------------------------------------

    def versions(self, package: str) -> Universe:
        base, _ = split_extra(package)
        universe = self._universes.get(base)
        if universe is None:
            universe = Universe(self._releases.get(base, {}))
            self._universes[base] = universe
        return universe

    def dependencies(self, package: str, version: Version) -> Dependencies | Unavailable:
        if package == ROOT:
            return self._requirements(self.requires)
        base, extra = split_extra(package)
        release = self._releases[base][version]
        if release.unavailable is not None:
            return Unavailable(release.unavailable)
        if extra is None:
            return self._requirements(release.requires)
        # ``a[x]`` is ``a`` at the same version (local label included) plus the extra's
        # requirements, which may name ``a`` itself: one requirement per package, so the
        # two are intersected.
        found = self._requirements(release.extras.get(extra, {}))
        pin_base(found, self.versions(base), base, version)
        return found

    def choose(self, package: str, allowed: VersionSet) -> Version | None:
        base, _ = split_extra(package)
        lowest = self.resolution == "lowest" or (
            self.resolution == "lowest-direct" and base in self._direct
        )
        return choose_version(
            self.policy.mode(base),
            allowed,
            lowest=lowest,
            preferred=self._preferences.get(base),
            named=base in self._named,
        )

    def _has_usable(self, base: str) -> Callable[[int], bool]:
        """Whether a mask of ``base``'s versions holds one that is not unavailable."""
        universe, releases = self.versions(base), self._releases.get(base, {})
        return lambda mask: any(releases[v].unavailable is None for v in VersionSet(universe, mask))

    def _requirements(self, requires: Mapping[str, str]) -> dict[str, Requirement]:
        found: dict[str, Requirement] = {}
        for name, spec in requires.items():
            base = split_extra(name)[0]
            mode = self.policy.mode(base)
            if mode is PrereleaseMode.PEP440 and names_prerelease(spec):
                self._named.add(base)  # pip merges every specifier it has seen
            found[name] = requirement_set(
                mode,
                self.versions(name),
                spec,
                named=base in self.policy.explicit,
                has_stable=self._has_usable(base),
            )
        return found
