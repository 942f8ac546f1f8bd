"""The solver's view of one fork of a universal resolution.

A fork is a marker (:mod:`resolve.universal.marker_algebra`): the environments it solves
for. A requirement applies in the fork when its marker can hold in one of them (it is kept
with its marker, not evaluated against one machine). Two requirements of one package on the
same dependency with different specifiers and markers that cannot hold together (``a<2 ;
python_version < '3.10'`` and ``a>=2 ; python_version >= '3.10'``) cannot be served by one
assignment: the provider stops the solve with :class:`ForkNeeded`, naming the markers to split
the fork on (uv's forking, in its documentation on universal resolution).

The provider also records, for every version the solver asked about, the marker under which it
requires each dependency: :mod:`resolve.universal.merge` turns those edges into the marker of
every pin.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from packaging.version import Version

from db.read.snapshot_reader import ProjectRecord, SplitRequirement
from resolve.candidates.project import Target
from resolve.candidates.provider import Request, SnapshotProvider
from resolve.rules.model import RuleSet
from resolve.solver.names import ROOT, split_extra, virtual
from resolve.solver.provider import Dependencies, Unavailable
from resolve.solver.provider import Requirement as SolverRequirement
from resolve.universal.marker_algebra import FALSE, TRUE, Expr
from resolve.universal.marker_parse import parse_text
from resolve.universal.wheel_markers import file_marker

__all__ = ["ForkNeeded", "UniversalProvider"]


class ForkNeeded(Exception):
    """The fork must split on ``markers`` (each a marker within the fork)."""

    def __init__(self, package: str, markers: tuple[Expr, ...]) -> None:
        super().__init__(package)
        self.package = package
        self.markers = markers


class UniversalProvider(SnapshotProvider):
    """A :class:`SnapshotProvider` whose markers are kept for the environments of ``fork``."""

    def __init__(
        self,
        load: Callable[[str], ProjectRecord],
        rules: RuleSet,
        target: Target,
        request: Request,
        *,
        fork: Expr,
        required: tuple[Expr, ...] = (),
        known: Expr = TRUE,
    ) -> None:
        # Set before the base class reads the roots through `_applies`.
        self.fork = fork
        #: The fork's environments that can exist: whether markers hold is asked within it.
        self.space = fork & known
        self.required = tuple(r & fork for r in required if not (r & self.space).is_empty())
        self._exprs: dict[tuple[str, str], Expr] = {}
        self._held: dict[tuple[str | None, str], bool] = {}
        self._asker: tuple[str, Version] = (ROOT, Version("0"))
        #: (package, version) -> dependency -> the marker under which it is required.
        self.edges: dict[tuple[str, Version], dict[str, Expr]] = {}
        super().__init__(load, rules, target, request)

    def expr(self, marker: str | None, extra: str) -> Expr:
        """The marker (its text) within the fork, for the extra being resolved (``""``:
        none)."""
        if marker is None:
            return self.fork
        found = self._exprs.get((marker, extra))
        if found is None:
            expr = parse_text(marker).restrict("extra", extra) & self.fork
            found = self._exprs[(marker, extra)] = expr
        return found

    def _applies(self, marker: str | None, extra: str) -> bool:
        # Asked for every requirement of every version read: the same few thousand markers.
        held = self._held.get((marker, extra))
        if held is None:
            held = self._held[(marker, extra)] = not (
                self.expr(marker, extra) & self.space
            ).is_empty()
        return held

    def dependencies(self, package: str, version: Version) -> Dependencies | Unavailable:
        self._asker = (package, version)
        if package != ROOT and self.required:
            base, _ = split_extra(package)
            uncovered = self._uncovered(base, version)
            if uncovered is not None:
                where = uncovered.simplified(self.space).text() or str(self.target.environment)
                return Unavailable(f"no wheel or usable sdist for {where}")
        found = super().dependencies(package, version)
        if not isinstance(found, Unavailable):
            edges = self.edges.setdefault((package, version), {})
            for name in found:
                edges.setdefault(name, self.fork)  # a pin of `a[x]`'s base holds everywhere
        return found

    def _requirements(
        self, requirements: Iterable[SplitRequirement], *, extra: str | None, root: bool = False
    ) -> dict[str, SolverRequirement] | Unavailable:
        requirements = list(requirements)
        self._check_forks(requirements, extra or "")
        found = super()._requirements(requirements, extra=extra, root=root)
        if isinstance(found, Unavailable):
            return found
        edges = self.edges.setdefault(self._asker, {})
        for requirement in requirements:
            marker = self.expr(requirement.marker, extra or "")
            name = requirement.name  # split names and extras are canonical already
            extras = [virtual(name, e) for e in requirement.extras]
            for package in extras or [name]:
                edges[package] = edges.get(package, FALSE) | marker
        return found

    def _check_forks(self, requirements: list[SplitRequirement], extra: str) -> None:
        """Raise :class:`ForkNeeded` when requirements on one package differ in specifier
        under markers that cannot hold together."""
        grouped: dict[str, list[tuple[Expr, str]]] = {}
        for requirement in requirements:
            spec = requirement.direct or requirement.specifier
            marker = self.expr(requirement.marker, extra)
            grouped.setdefault(requirement.name, []).append((marker, spec))
        for name in sorted(grouped):
            group = grouped[name]
            splits: list[Expr] = []
            for i, (marker, spec) in enumerate(group):
                for other, other_spec in group[i + 1 :]:
                    if spec != other_spec and (marker & self.space).disjoint(other):
                        splits += [m for m in (marker, other) if m not in splits]
            if splits:
                raise ForkNeeded(name, tuple(splits))

    def _uncovered(self, base: str, version: Version) -> Expr | None:
        """The first required environment (in the fork) that no usable file of the version
        installs on, or None (SEMANTICS §5: a required environment must have a wheel or a
        usable sdist)."""
        versions = self.project(base).versions
        if version not in versions or versions[version].unavailable is not None:
            return None
        candidate = versions[version]
        covered = FALSE
        for f in candidate.files:
            covered |= file_marker(base, f, self.target)
        for environment in self.required:
            if not (environment & self.space).within(covered):
                return environment
        return None
