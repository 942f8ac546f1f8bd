"""One resolution from start to finish: snapshot + rules + request → a lock or a failure.

The CLI and ``mirror sync --closure`` both go through :func:`resolve_once`, so the closure
crawl asks the snapshot exactly the questions an offline ``resolve`` will ask later. A failure
stays data (:class:`Failure`: the derivation tree and the hints) until the command line
renders it, as text or as JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial

from packaging.utils import canonicalize_name
from packaging.version import Version

from db.read.snapshot_reader import SnapshotReader
from resolve.candidates.judge import BinaryPolicy, Target
from resolve.candidates.project import WARNED_STATUSES
from resolve.candidates.provider import Request, ResolutionMode, SnapshotProvider
from resolve.inputs.requirements import InputRequirement, ParsedInputs
from resolve.lock.writers import Lock, LockedPackage, LockIndex
from resolve.options import ResolveRequest
from resolve.report.hints import (
    failure_hints,
    incomplete_hint,
    involved_packages,
    missing_data,
)
from resolve.report.kept_pins import unkept_pins
from resolve.rules.model import RuleSet
from resolve.solver.incompatibility import NoSolution
from resolve.solver.names import ROOT, split_extra
from resolve.solver.pep440 import SEMANTICS
from resolve.solver.reporter import Reporter
from resolve.solver.solve import Resolution, solve
from resolve.universal.environment import KNOWN_PLATFORMS, Universal
from resolve.universal.forks import ForkFailure, solve_forks
from resolve.universal.marker_algebra import Expr
from resolve.universal.merge import merge_packages, pin_markers

__all__ = [
    "Failure",
    "ForkView",
    "Incomplete",
    "Outcome",
    "Session",
    "resolve_once",
    "resolve_universal",
    "source_label",
    "stored_rules",
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
    environment: str
    provider: SnapshotProvider
    pins: Mapping[str, Version]


def stored_rules(reader: SnapshotReader, digest: str | None) -> RuleSet:
    """The rules stored in the database: the current version, or the one named by digest
    (a database with no stored version implies them from its indexes: db.rules.rows)."""
    return RuleSet.from_document(reader.rule_document(digest))


@dataclass(slots=True)
class Session:
    """One request with its snapshot open and its rules worked out (stored rules, then the
    command line's overrides)."""

    request: ResolveRequest
    reader: SnapshotReader
    rules: RuleSet

    @classmethod
    def open(cls, request: ResolveRequest) -> Session:
        reader = SnapshotReader.open(request.database, request.snapshot)
        try:
            rules = request.rule_overrides.apply(stored_rules(reader, request.rules_digest))
        except BaseException:
            reader.close()
            raise
        return cls(request, reader, rules)

    def close(self) -> None:
        self.reader.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def resolve(
        self, inputs: ParsedInputs | None = None, *, reporter: Reporter | None = None
    ) -> Outcome:
        """Resolve the request's inputs (or ``inputs``) against the open snapshot."""
        request = self.request
        inputs = request.inputs if inputs is None else inputs
        if request.universal is not None:
            return resolve_universal(
                self.reader,
                self.rules,
                request.target.binary,
                request.universal,
                inputs.requirements,
                constraints=inputs.constraints,
                overrides=request.overrides.requirements,
                preferences=request.preferences,
                resolution=request.resolution,
                no_deps=request.no_deps,
                command=request.command,
                target_flags=request.target_flags,
                reporter=reporter,
            )
        return resolve_once(
            self.reader,
            self.rules,
            request.target,
            inputs.requirements,
            constraints=inputs.constraints,
            overrides=request.overrides.requirements,
            preferences=request.preferences,
            resolution=request.resolution,
            no_deps=request.no_deps,
            command=request.command,
            target_flags=request.target_flags,
            reporter=reporter,
        )


def source_label(requirement: InputRequirement) -> str:
    """How ``# via`` names a root requirement's origin (pip-compile's ``-r file``)."""
    source = requirement.source
    if source.path is None:
        return "command line"
    if source.section:
        return f"{source.path} ({source.section})"
    return f"-r {source.path}"


def resolve_once(
    reader: SnapshotReader,
    rules: RuleSet,
    target: Target,
    requirements: Sequence[InputRequirement],
    *,
    constraints: Sequence[InputRequirement] = (),
    overrides: Sequence[InputRequirement] = (),
    preferences: Mapping[str, Version] | None = None,
    resolution: ResolutionMode = "highest",
    no_deps: bool = False,
    command: str = "resolve",
    target_flags: Sequence[str] = (),
    reporter: Reporter | None = None,
) -> Outcome:
    request = Request(
        requirements=tuple(r.requirement for r in requirements),
        constraints=tuple(r.requirement for r in constraints),
        overrides=tuple(r.requirement for r in overrides),
        preferences=dict(preferences or {}),
        resolution=resolution,
        no_deps=no_deps,
    )
    provider = SnapshotProvider(partial(reader.project, lazy_files=True), rules, target, request)
    try:
        result = solve(provider, ROOT, reporter=reporter)
    except NoSolution as failure:
        return _failed(provider, failure, rules, requirements, constraints, target_flags)
    incomplete = _incomplete(provider, requirements, target_flags)
    lock, warnings = _lock(reader, rules, target, provider, result, requirements, command)
    warnings += unkept_pins(
        request.preferences, result.pins, provider.projects, request.requirements
    )
    if incomplete is not None:
        lock = replace(lock, incomplete=incomplete.missing)
    return Outcome(
        lock=lock,
        failure=None,
        warnings=tuple(warnings),
        incomplete=incomplete,
        missing_projects=frozenset(provider.missing_projects),
        missing_metadata=frozenset(provider.missing_metadata),
        provider=provider,
    )


def _failed(
    provider: SnapshotProvider,
    failure: NoSolution,
    rules: RuleSet,
    requirements: Sequence[InputRequirement],
    constraints: Sequence[InputRequirement],
    target_flags: Sequence[str],
) -> Outcome:
    incomplete = _incomplete(provider, requirements, target_flags)
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


def resolve_universal(
    reader: SnapshotReader,
    rules: RuleSet,
    binary: BinaryPolicy,
    universal: Universal,
    requirements: Sequence[InputRequirement],
    *,
    constraints: Sequence[InputRequirement] = (),
    overrides: Sequence[InputRequirement] = (),
    preferences: Mapping[str, Version] | None = None,
    resolution: ResolutionMode = "highest",
    no_deps: bool = False,
    command: str = "resolve",
    target_flags: Sequence[str] = (),
    reporter: Reporter | None = None,
) -> Outcome:
    """One lock for every environment of ``universal`` (:mod:`resolve.universal`)."""
    request = Request(
        requirements=tuple(r.requirement for r in requirements),
        constraints=tuple(r.requirement for r in constraints),
        overrides=tuple(r.requirement for r in overrides),
        preferences=dict(preferences or {}),
        resolution=resolution,
        no_deps=no_deps,
    )
    load = partial(reader.project, lazy_files=True)
    environment = universal.environment
    forks = solve_forks(
        load,
        rules,
        binary,
        environment,
        universal.required,
        request,
        reporter,
        known=KNOWN_PLATFORMS,
    )
    views = tuple(
        ForkView(_fork_label(f.fork, universal), f.provider, f.result.pins)
        for f in (forks if isinstance(forks, list) else [])
    )
    if isinstance(forks, ForkFailure):
        outcome = _failed(
            forks.provider, forks.failure, rules, requirements, constraints, target_flags
        )
        assert outcome.failure is not None
        label = _fork_label(forks.fork, universal)
        named = replace(outcome.failure, environment=label)
        return replace(outcome, failure=named, forks=(ForkView(label, forks.provider, {}),))
    parts = []
    warnings: list[str] = []
    for fork in forks:
        lock, found = _lock(
            reader, rules, fork.provider.target, fork.provider, fork.result, requirements, command
        )
        warnings += (w for w in found if w not in warnings)
        parts.append((lock.packages, pin_markers(fork.provider, fork.result)))
    lock = replace(
        lock,
        packages=merge_packages(parts, universal.space),
        target=f"universal: {universal.environment.text() or 'every environment'}",
        environments=universal.environments(),
        requires_python=universal.requires_python(),
    )
    providers = [fork.provider for fork in forks]
    missing_projects = frozenset().union(*(p.missing_projects for p in providers))
    missing_metadata = frozenset().union(*(p.missing_metadata for p in providers))
    incomplete = next(
        (i for p in providers if (i := _incomplete(p, requirements, target_flags))), None
    )
    if incomplete is not None:
        lock = replace(lock, incomplete=incomplete.missing)
    return Outcome(
        lock=lock,
        failure=None,
        warnings=tuple(warnings),
        incomplete=incomplete,
        missing_projects=missing_projects,
        missing_metadata=missing_metadata,
        provider=providers[0],
        forks=views,
    )


def _fork_label(fork: Expr, universal: Universal) -> str:
    """A fork as the user reads it: its marker within the lock's environments."""
    where = fork.simplified(universal.space).text()
    return where or f"every environment ({universal.environment.text() or 'any Python'})"


def _incomplete(
    provider: SnapshotProvider,
    requirements: Sequence[InputRequirement],
    target_flags: Sequence[str],
) -> Incomplete | None:
    """What the solver asked the snapshot for and did not get, whatever the result: a lock
    found without it may differ from the one the indexes would have given."""
    projects, metadata = provider.missing_projects, provider.missing_metadata
    if not projects and not metadata:
        return None
    return Incomplete(
        tuple(missing_data(provider.projects, projects, metadata)),
        incomplete_hint(requirements, projects, metadata, target_flags),
    )


def _lock(
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
