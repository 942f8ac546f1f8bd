"""``resolve --universal``: the forks solved, their locks merged into one (see
:mod:`resolve.universal`), or the failure of the first fork without a solution, named.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import partial

from packaging.version import Version

from db.read.snapshot_reader import SnapshotReader
from resolve.candidates.judge import BinaryPolicy
from resolve.candidates.provider import Request, ResolutionMode
from resolve.inputs.requirements import InputRequirement
from resolve.outcome import ForkView, Outcome, failed, incomplete_of, lock_of
from resolve.rules.model import RuleSet
from resolve.solver.reporter import Reporter
from resolve.universal.environment import KNOWN_PLATFORMS, Universal
from resolve.universal.forks import ForkFailure, solve_forks
from resolve.universal.marker_algebra import Expr
from resolve.universal.merge import merge_packages, pin_markers

__all__ = ["resolve_universal"]


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
    fork_preferences: Mapping[str, tuple[tuple[str, Version], ...]] | None = None,
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
        fork_preferences=fork_preferences or {},
    )
    views = tuple(
        ForkView(_fork_label(f.fork, universal), f.provider, f.result.pins)
        for f in (forks if isinstance(forks, list) else [])
    )
    if isinstance(forks, ForkFailure):
        outcome = failed(
            forks.provider, forks.failure, rules, requirements, constraints, target_flags
        )
        assert outcome.failure is not None
        label = _fork_label(forks.fork, universal)
        named = replace(outcome.failure, environment=label)
        return replace(outcome, failure=named, forks=(ForkView(label, forks.provider, {}),))
    parts = []
    warnings: list[str] = []
    for fork in forks:
        lock, found = lock_of(
            reader, rules, fork.provider.target, fork.provider, fork.result, requirements, command
        )
        warnings += (w for w in found if w not in warnings)
        parts.append((lock.packages, pin_markers(fork.provider, fork.result)))
    lock = replace(
        lock,
        packages=merge_packages(parts, universal.space),
        target=universal.target(),
        environments=universal.environments(),
        requires_python=universal.requires_python(),
    )
    providers = [fork.provider for fork in forks]
    missing_projects = frozenset().union(*(p.missing_projects for p in providers))
    missing_metadata = frozenset().union(*(p.missing_metadata for p in providers))
    incomplete = next(
        (i for p in providers if (i := incomplete_of(p, requirements, target_flags))), None
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
