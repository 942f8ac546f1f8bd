"""One resolution from start to finish: snapshot + rules + request → a lock or a failure.

The CLI and ``mirror sync --closure`` both go through :func:`resolve_once`, so the closure
crawl asks the snapshot exactly the questions an offline ``resolve`` will ask later. A failure
stays data (:class:`Failure`: the derivation tree and the hints) until the command line
renders it, as text or as JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial

from packaging.version import Version

from db.read.snapshot_reader import SnapshotReader
from resolve.candidates.fetching import Fetcher
from resolve.candidates.judge import Target
from resolve.candidates.provider import Request, ResolutionMode, SnapshotProvider
from resolve.inputs.requirements import InputRequirement, ParsedInputs
from resolve.options import ResolveRequest
from resolve.outcome import (
    Failure,
    ForkView,
    Incomplete,
    Outcome,
    failed,
    incomplete_of,
    lock_of,
    source_label,
)
from resolve.report.kept_pins import unkept_pins
from resolve.rules.model import RuleSet
from resolve.solver.incompatibility import NoSolution
from resolve.solver.names import ROOT
from resolve.solver.reporter import Reporter
from resolve.solver.solve import solve

# Failure, ForkView, Incomplete, Outcome and source_label live in resolve.outcome (the
# universal resolution builds them too); callers keep importing them from here.
__all__ = [
    "Failure",
    "ForkView",
    "Incomplete",
    "Outcome",
    "Session",
    "resolve_once",
    "source_label",
    "stored_rules",
]


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
            # Imported here: keeps the universal resolution out of the plain path's start-up.
            from resolve.universal.resolution import resolve_universal

            return resolve_universal(
                self.reader,
                self.rules,
                request.target.binary,
                request.universal,
                inputs.requirements,
                constraints=inputs.constraints,
                overrides=request.overrides.requirements,
                preferences=request.preferences,
                fork_preferences=request.fork_preferences,
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
    fetcher: Fetcher | None = None,
) -> Outcome:
    """One resolution against an open snapshot. ``fetcher``: the sync that is building the
    snapshot fetches what the solver lacks as it asks (:mod:`resolve.candidates.fetching`)."""
    request = Request(
        requirements=tuple(r.requirement for r in requirements),
        constraints=tuple(r.requirement for r in constraints),
        overrides=tuple(r.requirement for r in overrides),
        preferences=dict(preferences or {}),
        resolution=resolution,
        no_deps=no_deps,
    )
    provider = SnapshotProvider(
        partial(reader.project, lazy_files=True), rules, target, request, fetcher
    )
    try:
        result = solve(provider, ROOT, reporter=reporter)
    except NoSolution as failure:
        return failed(provider, failure, rules, requirements, constraints, target_flags)
    incomplete = incomplete_of(provider, requirements, target_flags)
    lock, warnings = lock_of(reader, rules, target, provider, result, requirements, command)
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
