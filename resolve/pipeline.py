"""One resolution from start to finish: snapshot + rules + request → a lock or a report.

The CLI and ``mirror sync --closure`` both go through :func:`resolve_once`, so the closure
crawl asks the snapshot exactly the questions an offline ``resolve`` will ask later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

from packaging.utils import canonicalize_name
from packaging.version import Version

from db.read.snapshot_reader import SnapshotReader
from resolve.candidates.project import Target
from resolve.candidates.provider import Request, SnapshotProvider
from resolve.inputs.requirements import InputRequirement
from resolve.lock.writers import Lock, LockedPackage
from resolve.rules.model import IndexRule, RuleError, RuleSet
from resolve.solver.incompatibility import NoSolution
from resolve.solver.names import ROOT, split_extra
from resolve.solver.solve import Resolution, solve

__all__ = [
    "Outcome",
    "apply_index_flags",
    "resolve_once",
    "source_label",
]


@dataclass(frozen=True, slots=True)
class Outcome:
    """A lock, or the failure report (derivation tree, then ``hint:`` lines); and what the
    snapshot lacked either way (the closure check fetches it)."""

    lock: Lock | None
    failure: str | None
    warnings: tuple[str, ...] = ()
    missing_projects: frozenset[str] = frozenset()
    missing_metadata: frozenset[tuple[str, str]] = frozenset()
    provider: SnapshotProvider | None = field(default=None, compare=False)


def apply_index_flags(rules: RuleSet, indexes: Sequence[str], default_index: str | None) -> RuleSet:
    """``--index NAME…`` (only these, in this order) and ``--default-index NAME``."""
    known = {i.name: i for i in rules.indexes}
    for name in [*indexes, *([default_index] if default_index else [])]:
        if name not in known:
            raise RuleError(
                f"unknown index {name!r}",
                hint="known indexes: " + (", ".join(sorted(known)) or "none"),
            )
    chosen = [known[n] for n in dict.fromkeys(indexes)] if indexes else list(rules.indexes)
    if default_index is not None:
        if default_index not in {i.name for i in chosen}:
            chosen.append(known[default_index])
        chosen = [
            IndexRule(
                i.name, i.url, i.name == default_index, i.explicit, i.not_here, i.exclude_newer
            )
            for i in chosen
        ]
    return rules.with_changes(indexes=tuple(chosen))


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
    resolution: str = "highest",
    command: str = "resolve",
) -> Outcome:
    request = Request(
        requirements=tuple(r.requirement for r in requirements),
        constraints=tuple(r.requirement for r in constraints),
        overrides=tuple(r.requirement for r in overrides),
        preferences=dict(preferences or {}),
        resolution=resolution,  # type: ignore[arg-type]
    )
    provider = SnapshotProvider(partial(reader.project, lazy_files=True), rules, target, request)
    try:
        result = solve(provider, ROOT)
    except NoSolution as failure:
        # Imported here: only a failed resolution renders a report.
        from resolve.report.derivation import render
        from resolve.report.hints import failure_hints, involved_packages

        involved = involved_packages(failure.incompatibility)
        modes = {name: provider.policy.effective(name) for name in involved}
        hints = failure_hints(
            involved,
            provider.projects,
            rules,
            modes,
            needed_metadata=provider.missing_metadata,
            roots=requirements,
        )
        return Outcome(
            lock=None,
            failure=render(failure, hints=hints),
            missing_projects=frozenset(provider.missing_projects),
            missing_metadata=frozenset(provider.missing_metadata),
            provider=provider,
        )
    lock, warnings = _lock(reader, rules, target, provider, result, requirements, command)
    return Outcome(
        lock=lock,
        failure=None,
        warnings=tuple(warnings),
        missing_projects=frozenset(provider.missing_projects),
        missing_metadata=frozenset(provider.missing_metadata),
        provider=provider,
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
    for package, version in result.pins.items():
        if split_extra(package)[1] is not None:
            continue
        candidate = provider.project(package).versions[version]
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
            )
        )
    major, minor, micro = target.environment.python_version
    lock = Lock(
        packages=tuple(packages),
        snapshot_name=reader.snapshot.name,
        snapshot_digest=reader.snapshot.digest,
        rules_digest=rules.digest,
        command=command,
        target=str(target.environment),
        python_version=f"{major}.{minor}.{micro}",
    )
    return lock, warnings
