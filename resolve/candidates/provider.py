"""The solver's view of a snapshot: ``Provider`` over candidates built from snapshot rows.

Everything ecosystem-specific happens here, between the snapshot and the pure solver:
markers are evaluated for the target, extras become virtual packages, constraints narrow and
overrides replace requirements wherever they appear, yanked versions are usable only when
pinned exactly or kept from a previous lock (PEP 592, SEMANTICS §4), and the decision order
follows the resolution mode, the lock's preferences, the pre-release policy and, under
``unsafe-first-match``, the index order.

The provider also records what the snapshot lacked (projects never synced, or whose page an
index was not asked for or failed to give at sync time; versions whose core metadata is
missing): ``resolve`` stops on it (SEMANTICS §7) and ``mirror sync --closure`` fetches it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from packaging.requirements import Requirement
from packaging.specifiers import Specifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from db.read.snapshot_reader import ProjectRecord, SplitRequirement, split_one
from resolve.candidates.fetching import Fetcher
from resolve.candidates.judge import Candidate, metadata_wanted
from resolve.candidates.marker_truth import MarkerTruth
from resolve.candidates.project import (
    INCOMPLETE,
    ProjectCandidates,
    Reason,
    Target,
    build_candidates,
)
from resolve.policy.prerelease import (
    PrereleaseMode,
    choose_version,
    names_prerelease,
    requirement_set,
)
from resolve.rules.model import IndexStrategy, RuleSet
from resolve.solver.names import ROOT, pin_base, split_extra, virtual
from resolve.solver.pep440 import contains
from resolve.solver.provider import Dependencies, Narrowed, Unavailable
from resolve.solver.provider import Requirement as SolverRequirement
from resolve.solver.versionset import Universe, VersionSet

__all__ = ["Request", "ResolutionMode", "SnapshotProvider"]

ResolutionMode = Literal["highest", "lowest", "lowest-direct"]


@dataclass(frozen=True, slots=True)
class Request:
    """What to resolve: root requirements (markers not yet evaluated), constraints and
    overrides by canonical name, and the previous lock's pins as preferences."""

    requirements: tuple[Requirement, ...]
    constraints: tuple[Requirement, ...] = ()
    overrides: tuple[Requirement, ...] = ()
    preferences: Mapping[str, Version] = field(default_factory=dict)
    resolution: ResolutionMode = "highest"
    #: uv's ``--no-deps``: the requirements' own dependencies are not resolved.
    no_deps: bool = False


class SnapshotProvider:
    """A :class:`resolve.solver.Provider` over ``load(name) -> ProjectRecord``."""

    def __init__(
        self,
        load: Callable[[str], ProjectRecord],
        rules: RuleSet,
        target: Target,
        request: Request,
        fetcher: Fetcher | None = None,
    ) -> None:
        self._load = load
        self._fetcher = fetcher
        self.rules = rules
        self.target = target
        self.request = request
        self.markers = target.environment.markers
        self.projects: dict[str, ProjectCandidates] = {}
        self._universes: dict[str, Universe] = {}
        self._ranks: dict[str, list[int]] = {}
        self._truth = MarkerTruth(self.markers)
        self._specifiers: dict[str, SpecifierSet] = {}
        #: (project, version) whose core metadata the solver needed but the snapshot lacks.
        self.missing_metadata: set[tuple[str, str]] = set()
        #: Projects the solver asked about whose pages the snapshot lacks (INCOMPLETE).
        self.missing_projects: set[str] = set()
        #: Yanked versions used anyway, with the yank reason (SEMANTICS E3, E5).
        self.yanked_used: dict[str, tuple[Version, str]] = {}
        #: (project, version, extra) asked for where that version does not provide the extra.
        self.unknown_extras: set[tuple[str, Version, str]] = set()

        roots = [r for r in request.requirements if self._applies(_marker_text(r), "")]
        self._roots = [split_one(r) for r in roots]
        constraints = _by_name(r for r in request.constraints if self._applies(_marker_text(r), ""))
        overrides = _by_name(r for r in request.overrides if self._applies(_marker_text(r), ""))
        self._constraints = {n: [split_one(r) for r in rs] for n, rs in constraints.items()}
        self._overrides = {n: [split_one(r) for r in rs] for n, rs in overrides.items()}
        explicit = frozenset(
            canonicalize_name(r.name) for r in roots if names_prerelease(r.specifier)
        )
        self.policy = rules.prerelease_policy(explicit)
        # Packages whose pre-releases the user's own requirements, constraints, overrides or
        # existing lock name (SEMANTICS §3; a kept pre-release pin is named by the lock). A
        # dependency's requirement that names one admits them in its own set only: what a
        # set admits never depends on the order requirements are read. Under pep440 (only)
        # the set grows as requirements are read, as pip's does.
        self._named = set(explicit) | {
            name
            for group in (constraints, overrides)
            for name, requirements in group.items()
            if any(names_prerelease(r.specifier) for r in requirements)
        }
        self._named.update(n for n, v in request.preferences.items() if v.is_prerelease)
        self._direct = {canonicalize_name(r.name) for r in roots}
        # Exact root pins admit a yanked version (PEP 592: "==" without a wildcard, "===").
        self._exact: dict[str, list[Specifier]] = {}
        for r in roots:
            for spec in r.specifier:
                if spec.operator == "===" or (
                    spec.operator == "==" and not spec.version.endswith(".*")
                ):
                    self._exact.setdefault(canonicalize_name(r.name), []).append(spec)

    # -- candidates ---------------------------------------------------------------------

    def project(self, name: str) -> ProjectCandidates:
        found = self.projects.get(name)
        if found is None:
            if self._fetcher is not None:
                self._fetcher.project(name)
            record = self._load(name)
            found = build_candidates(record, self.rules, self.target, self.markers)
            if any(problem.kind in INCOMPLETE for problem in found.problems):
                self.missing_projects.add(name)
            self.projects[name] = found
        return found

    # -- Provider -----------------------------------------------------------------------

    def versions(self, package: str) -> Universe:
        base, _ = split_extra(package)
        universe = self._universes.get(base)
        if universe is None:
            candidates = self.project(base)
            # Versions iterates ascending and without duplicates: no need to sort again.
            universe = Universe.ascending(tuple(candidates.versions))
            self._universes[base] = universe
        return universe

    def dependencies(self, package: str, version: Version) -> Dependencies | Unavailable:
        if package == ROOT:
            return self._requirements(self._roots, extra=None, root=True)
        base, extra = split_extra(package)
        candidate = self._candidate(base, version)
        if candidate.unavailable is not None:
            reason, detail = candidate.unavailable
            if reason is Reason.METADATA_MISSING:
                self.missing_metadata.add((base, str(version)))
            return Unavailable(detail)
        if candidate.yanked is not None:
            if not self._yank_allowed(base, version):
                return Unavailable(f"yanked: {candidate.yanked}" if candidate.yanked else "yanked")
            self.yanked_used[base] = (version, candidate.yanked)
        if self.request.no_deps:
            # A virtual ``a[x]`` still pins ``a``: the lock has one version of each project.
            pinned: dict[str, SolverRequirement] = {}
            if extra is not None:
                pin_base(pinned, self.versions(base), base, version)
            return pinned
        metadata = candidate.metadata
        assert metadata is not None  # usable candidates always carry metadata
        parsed = metadata.requirements
        for requirement in parsed:
            if requirement.error is not None:
                return Unavailable(f"its metadata has an invalid requirement ({requirement.error})")
        if extra is None:
            found = self._requirements(
                [r for r in parsed if self._applies(r.marker, "")], extra=None
            )
        else:
            if not _provides(metadata.provides_extra, parsed, extra):
                self.unknown_extras.add((base, version, extra))
            found = self._requirements(
                [
                    r
                    for r in parsed
                    if r.marker is not None
                    and self._applies(r.marker, extra)
                    and not self._applies(r.marker, "")
                ],
                extra=extra,
            )
            if not isinstance(found, Unavailable):
                pin_base(found, self.versions(base), base, version)
        return found

    def choose(self, package: str, allowed: VersionSet) -> Version | None:
        base, _ = split_extra(package)
        request = self.request
        lowest = request.resolution == "lowest" or (
            request.resolution == "lowest-direct" and base in self._direct
        )
        mode = self.policy.mode(base)
        preferred = request.preferences.get(base)
        named = base in self._named
        if self.rules.strategy is not IndexStrategy.UNSAFE_FIRST_MATCH:
            return choose_version(mode, allowed, lowest=lowest, preferred=preferred, named=named)
        # unsafe-first-match: every version of the first index before any of the next.
        if preferred is not None and preferred in allowed:
            return preferred
        ranks = self._ranks.get(base)
        if ranks is None:  # worked out only under this strategy
            ranks = self._ranks[base] = _rank_masks(self.versions(base), self.project(base))
        for rank_mask in ranks:
            group = allowed.mask & rank_mask
            if group:
                chosen = choose_version(
                    mode, VersionSet(allowed.universe, group), lowest=lowest, named=named
                )
                if chosen is not None:
                    return chosen
        return None

    # -- helpers ------------------------------------------------------------------------

    def _candidate(self, base: str, version: Version) -> Candidate:
        """The judged version; with a fetcher, its missing core metadata is fetched first (the
        file the judge lacks, one at a time, until it is usable or nothing new comes)."""
        versions = self.project(base).versions
        asked: set[tuple[str, str]] = set()
        while self._fetcher is not None:
            lacking = versions.lacking(version)
            wanted = None if lacking is None else metadata_wanted(base, lacking, self.target)
            if lacking is None or wanted is None or (lacking.index.name, wanted.filename) in asked:
                break  # nothing to ask, or asked and still missing: the index failed to give it
            asked.add((lacking.index.name, wanted.filename))
            self._fetcher.metadata(base, lacking.index.name, wanted.filename)
            versions.forget(version)
        return versions[version]

    def _look_ahead(self, found: Mapping[str, SolverRequirement]) -> None:
        """Start fetching the core metadata of the version each new requirement would have
        the solver choose, unless the snapshot has it (uv's prefetch of a package's best
        candidate when it is first seen)."""
        assert self._fetcher is not None
        for package, requirement in found.items():
            base, _ = split_extra(package)
            universe = self.versions(base)
            if isinstance(requirement, Narrowed):
                allowed = requirement.versions
            elif isinstance(requirement, str | SpecifierSet):
                allowed = VersionSet(universe, universe.mask(str(requirement)))
            else:
                continue
            if not allowed.mask:
                continue
            chosen = self.choose(base, allowed)
            if chosen is None:
                continue
            lacking = self.project(base).versions.lacking(chosen)
            wanted = None if lacking is None else metadata_wanted(base, lacking, self.target)
            if lacking is not None and wanted is not None:
                self._fetcher.prefetch_metadata(base, lacking.index.name, wanted.filename)

    def _yank_allowed(self, name: str, version: Version) -> bool:
        if self.request.preferences.get(name) == version:
            return True
        return any(contains(spec, version) for spec in self._exact.get(name, ()))

    def _applies(self, marker: str | None, extra: str) -> bool:
        """Whether a marker (its text) holds on the target with ``extra``."""
        return self._truth.holds(marker, extra)

    def _specifier(self, text: str) -> SpecifierSet:
        """The set a specifier's text means, parsed once per distinct text (sets are never
        changed in place: ``&`` makes a new one)."""
        found = self._specifiers.get(text)
        if found is None:
            found = self._specifiers[text] = SpecifierSet(text)
        return found

    def _requirements(
        self, requirements: Iterable[SplitRequirement], *, extra: str | None, root: bool = False
    ) -> dict[str, SolverRequirement] | Unavailable:
        """Requirements → one solver requirement per package (extras virtual), with
        overrides replacing, and constraints narrowing, every requirement on a package."""
        specs: dict[str, SpecifierSet] = {}
        for requirement in requirements:
            name = requirement.name
            replaced = self._overrides.get(name)
            for one in replaced if replaced is not None else (requirement,):
                if one.direct is not None:
                    return Unavailable(f"it needs a direct URL reference ({one.direct})")
                packages = [virtual(name, e) for e in one.extras]
                specifier = self._specifier(one.specifier)
                for package in packages or [name]:
                    held = specs.get(package)
                    # The first requirement's own set is used as it is, not copied.
                    specs[package] = specifier if held is None else held & specifier
        if self._fetcher is not None:  # every new page at once, not one per look-up
            self._fetcher.prefetch_projects(
                b for b in {split_extra(p)[0] for p in specs} if b not in self.projects
            )
        found: dict[str, SolverRequirement] = {}
        for package in sorted(specs):
            base, _ = split_extra(package)
            spec = specs[package]
            constraint = self._constraints.get(base)
            if constraint is not None:
                for one in constraint:
                    spec &= self._specifier(one.specifier)
            if self.policy.mode(base) is PrereleaseMode.PEP440 and names_prerelease(spec):
                self._named.add(base)  # pip merges every specifier it has seen on a package
            found[package] = self._policy_set(base, str(spec))
        if self._fetcher is not None:
            self._look_ahead(found)
        return found

    def _policy_set(self, base: str, spec: str) -> SolverRequirement:
        """One requirement's set under the package's pre-release mode (SEMANTICS §3)."""
        mode = self.policy.mode(base)
        if mode is PrereleaseMode.ALLOW:
            return spec
        named = base in (self.policy.explicit if mode is PrereleaseMode.EXPLICIT else self._named)
        return requirement_set(
            mode,
            self.versions(base),
            spec,
            named=named,
            has_stable=lambda mask: self._has_usable(base, mask),
        )

    def _has_usable(self, base: str, mask: int) -> bool:
        """Whether ``mask`` holds a version usable on the target: installable here and not
        yanked (unless pinned). A version whose metadata the snapshot lacks counts: it would
        be usable online, and resolving on past it is what SEMANTICS §7 forbids."""
        universe = self.versions(base)
        for version in VersionSet(universe, mask).descending():
            candidate = self._candidate(base, version)
            unavailable = candidate.unavailable
            if unavailable is not None and unavailable[0] is not Reason.METADATA_MISSING:
                continue
            if candidate.yanked is None or self._yank_allowed(base, version):
                return True
        return False


def _provides(
    declared: Iterable[str], requirements: Iterable[SplitRequirement], extra: str
) -> bool:
    """Whether a distribution provides ``extra``: its Provides-Extra (core metadata 2.1)
    names it (PEP 685: names compare normalised), or, in older metadata without the field, a
    requirement's marker mentions it."""
    names = {canonicalize_name(e) for e in declared}
    if names:
        return extra in names
    # A marker's quoted values are every other piece of its text (``extra == "socks"``).
    return any(
        r.marker is not None and extra in {canonicalize_name(w) for w in r.marker.split('"')[1::2]}
        for r in requirements
    )


def _marker_text(requirement: Requirement) -> str | None:
    return None if requirement.marker is None else str(requirement.marker)


def _by_name(requirements: Iterable[Requirement]) -> dict[str, list[Requirement]]:
    grouped: dict[str, list[Requirement]] = {}
    for r in requirements:
        grouped.setdefault(canonicalize_name(r.name), []).append(r)
    return grouped


def _rank_masks(universe: Universe, candidates: ProjectCandidates) -> list[int]:
    """One mask per index rank, in lookup order (unsafe-first-match's decision order)."""
    masks: dict[int, int] = {}
    for position, version in enumerate(universe):
        rank = candidates.versions.rank(version)
        masks[rank] = masks.get(rank, 0) | (1 << position)
    return [masks[r] for r in sorted(masks)]
