"""What one resolution gives, as data: a lock or a failure, what the snapshot lacked, and the
pieces both `resolve` and `resolve --universal` build them with (the lock of one solver
result, the failure with its hints).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from packaging.utils import canonicalize_name
from packaging.version import Version

from db.read.snapshot_reader import SnapshotReader
from resolve.candidates.judge import Target
from resolve.candidates.project import WARNED_STATUSES
from resolve.candidates.provider import SnapshotProvider
from resolve.inputs.requirements import InputRequirement
from resolve.lock.writers import Lock, LockedPackage, LockIndex
from resolve.rules.model import RuleSet
from resolve.solver.incompatibility import NoSolution
from resolve.solver.names import ROOT, split_extra
from resolve.solver.pep440 import SEMANTICS
from resolve.solver.solve import Resolution

__all__ = [
    "Failure",
    "ForkView",
    "Incomplete",
    "Outcome",
    "failed",
    "incomplete_of",
    "lock_of",
    "source_label",
]


@dataclass(frozen=True, slots=True)
class Failure:
    """No solution: the derivation tree (``no_solution``) and the ``hint:`` lines."""

    no_solution: NoSolution
    hints: tuple[str, ...] = ()
    #: A universal resolution's fork without a solution, as a marker (None: the target).
    environment: str | None = None


@dataclass(frozen=True, slots=True)
class Incomplete:
    """What the snapshot lacked that this resolution needed (SEMANTICS §7): one phrase per
    missing thing, and the ``hint:`` with the ``mirror sync`` that fetches it."""

    missing: tuple[str, ...]
    hint: str

    def message(self) -> str:
        return "the snapshot lacks data this resolution needs: " + "; ".join(self.missing)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A lock, or the failure; and what the snapshot lacked either way (``resolve`` stops on
    it unless told otherwise; the closure check fetches it)."""

    lock: Lock | None
    failure: Failure | None
    warnings: tuple[str, ...] = ()
    incomplete: Incomplete | None = None
    missing_projects: frozenset[str] = frozenset()
    missing_metadata: frozenset[tuple[str, str]] = frozenset()
    provider: SnapshotProvider | None = field(default=None, compare=False)
    #: A universal resolution's forks: each one's marker (within the lock's environments),
    #: provider and pins; the last one failed when ``failure`` is set.
    forks: tuple[ForkView, ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class ForkView:
    """One fork of a universal resolution: its marker, its provider and its pins."""

    environment: str
    provider: SnapshotProvider
    pins: Mapping[str, Version]


def source_label(requirement: InputRequirement) -> str:
    """How ``# via`` names a root requirement's origin (pip-compile's ``-r file``)."""
    source = requirement.source
    if source.path is None:
        return "command line"
    if source.section:
        return f"{source.path} ({source.section})"
    return f"-r {source.path}"


def failed(
    provider: SnapshotProvider,
    failure: NoSolution,
    rules: RuleSet,
    requirements: Sequence[InputRequirement],
    constraints: Sequence[InputRequirement],
    target_flags: Sequence[str],
) -> Outcome:
    # Imported here, as in incomplete_of: a lock found with every datum needs no hints.
    from resolve.report.hints import failure_hints, involved_packages

    incomplete = incomplete_of(provider, requirements, target_flags)
    involved = involved_packages(failure.incompatibility)
    modes = {name: provider.policy.effective(name) for name in involved}
    hints = failure_hints(
        involved,
        provider.projects,
        rules,
        modes,
        needed_metadata=provider.missing_metadata,
        roots=requirements,
        constraints=constraints,
        target_flags=target_flags,
        markers=provider.markers,
    )
    return Outcome(
        lock=None,
        failure=Failure(failure, tuple(hints)),
        incomplete=incomplete,
        missing_projects=frozenset(provider.missing_projects),
        missing_metadata=frozenset(provider.missing_metadata),
        provider=provider,
    )


def incomplete_of(
    provider: SnapshotProvider,
    requirements: Sequence[InputRequirement],
    target_flags: Sequence[str],
) -> Incomplete | None:
    """What the solver asked the snapshot for and did not get, whatever the result: a lock
    found without it may differ from the one the indexes would have given."""
    projects, metadata = provider.missing_projects, provider.missing_metadata
    if not projects and not metadata:
        return None
    # Imported here: keeps the hints out of the plain resolve path's start-up.
    from resolve.report.hints import incomplete_hint, missing_data

    return Incomplete(
        tuple(missing_data(provider.projects, projects, metadata)),
        incomplete_hint(requirements, projects, metadata, target_flags),
    )


def lock_of(
    reader: SnapshotReader,
    rules: RuleSet,
    target: Target,
    provider: SnapshotProvider,
    result: Resolution,
    requirements: Sequence[InputRequirement],
    command: str,
) -> tuple[Lock, list[str]]:
    roots: dict[str, set[str]] = {}
    for requirement in requirements:
        roots.setdefault(canonicalize_name(requirement.requirement.name), set()).add(
            source_label(requirement)
        )
    via: dict[str, set[str]] = {}
    for package, askers in result.via.items():
        base = split_extra(package)[0]
        found = via.setdefault(base, set())
        for asker in askers:
            if asker == ROOT:
                found.update(roots.get(base, ()))
            elif split_extra(asker)[0] != base:
                found.add(split_extra(asker)[0])
    packages: list[LockedPackage] = []
    warnings: list[str] = []
    extras: dict[str, list[str]] = {}
    statuses: list[str] = []  # PEP 792: installers may warn of these; resolve does
    for package, version in result.pins.items():
        base, extra = split_extra(package)
        if extra is not None:
            if (base, version, extra) in provider.unknown_extras:
                # pip's wording: the install goes on without the extra's requirements.
                warnings.append(f"{base} {version} does not provide the extra '{extra}'")
            else:
                extras.setdefault(base, []).append(extra)
    for package, version in result.pins.items():
        if split_extra(package)[1] is not None:
            continue
        candidate = provider.project(package).versions[version]
        statuses += (
            f"{package} is {status} on index {status.index}"
            for status in provider.project(package).statuses
            if status.status in WARNED_STATUSES and status.index == candidate.index.name
        )
        yanked = candidate.yanked
        if yanked is not None:
            why = f" ({yanked})" if yanked else ""
            warnings.append(f"{package} {version} is yanked{why}; it is used because it is pinned")
        if any(f.sha256 is None for f in candidate.files):
            warnings.append(
                f"{package} {version}: index {candidate.index.name} gave no sha256 for some "
                "files; pip's --require-hashes will refuse them"
            )
        packages.append(
            LockedPackage(
                name=package,
                version=version,
                index_name=candidate.index.name,
                index_url=candidate.index.url,
                files=candidate.files,
                via=tuple(sorted(via.get(package, ()))),
                yanked=yanked,
                extras=tuple(sorted(extras.get(package, ()))),
            )
        )
    warnings += sorted(statuses)
    used = {p.index_name for p in packages}
    flat = {i.name for i in reader.indexes() if i.format == "flat"}
    major, minor, micro = target.environment.python_version
    lock = Lock(
        packages=tuple(packages),
        snapshot_name=reader.snapshot.given_name,
        snapshot_digest=reader.snapshot.digest,
        rules_digest=rules.digest,
        command=command,
        target=str(target.environment),
        python_version=f"{major}.{minor}.{micro}",
        semantics=SEMANTICS,
        indexes=tuple(
            LockIndex(i.url, i.default, i.name in flat)
            for i in rules.lookup_order()
            if i.name in used
        ),
    )
    return lock, warnings
