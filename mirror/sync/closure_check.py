"""Closure completeness: resolve against the snapshot being built, fetch what it lacked, repeat.

Following Requires-Dist of the newest few versions (:mod:`mirror.sync.closure`) reaches most of
what a resolution needs, but not what backtracking visits: an older version whose metadata
was never fetched, a project only an older release depends on. So ``mirror sync --closure``
ends by running the offline resolver itself, for every target, against the new snapshot, and
fetching exactly the projects and core metadata it reported missing, until a resolution
needs nothing more — it succeeds, or fails for a reason that is not missing data. Then
``resolve`` for those targets works with the network off, because it will ask the snapshot
the same questions.

The building snapshot holds only what this run fetched: the projects carried over from the
base join it at completion (:mod:`db.write.carry`). So a project the resolution reaches is
fetched again here, never taken unrefreshed from the base, and the completed snapshot (this
run's projects plus the carried ones) answers the same questions the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from db.read.snapshot_reader import SnapshotReader
from resolve.candidates.project import Target
from resolve.inputs.requirements import InputRequirement
from resolve.lock.writers import Lock
from resolve.pipeline import resolve_once, stored_rules
from resolve.report.derivation import sentences

__all__ = ["ClosureReport", "complete_closure"]

#: A safety net: every round fetches something new, so this is never reached in practice.
MAX_ROUNDS = 100


@dataclass(slots=True)
class ClosureReport:
    rounds: int = 0
    fetched_projects: set[str] = field(default_factory=set)
    fetched_metadata: set[tuple[str, str]] = field(default_factory=set)
    # Per target that does not resolve: the first line of the failure.
    unresolved: dict[str, str] = field(default_factory=dict)
    # What the last resolutions still lacked after it was asked for: the indexes do not have it
    # (or failed to give it).
    still_missing: list[str] = field(default_factory=list)
    # The last round's lock per target that resolves (a build's requirements are installed
    # from it: mirror.sync.build_requirements).
    locks: dict[str, Lock] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {
            "rounds": self.rounds,
            "projects_added": sorted(self.fetched_projects),
            "metadata_added": [f"{n}=={v}" for n, v in sorted(self.fetched_metadata)],
            "unresolved": dict(sorted(self.unresolved.items())),
            "still_missing": self.still_missing,
        }


Fetch = Callable[[set[str], set[tuple[str, str]]], Awaitable[None]]


async def complete_closure(
    database: str,
    snapshot_id: int,
    requirements: Sequence[InputRequirement],
    targets: Sequence[Target],
    fetch: Fetch,
    flush: Callable[[], None],
) -> ClosureReport:
    """Resolve ``requirements`` for every target against the building snapshot; hand what is
    missing to ``fetch`` (projects, (project, version) metadata) and go again."""
    report = ClosureReport()
    asked: tuple[frozenset[str], frozenset[tuple[str, str]]] | None = None
    for _ in range(MAX_ROUNDS):
        flush()
        report.rounds += 1
        missing_projects: set[str] = set()
        missing_metadata: set[tuple[str, str]] = set()
        report.unresolved.clear()
        report.locks.clear()
        with SnapshotReader.open_building(database, snapshot_id) as reader:
            rules = stored_rules(reader, None)
            for target in targets:
                outcome = resolve_once(reader, rules, target, requirements)
                missing_projects |= outcome.missing_projects
                missing_metadata |= outcome.missing_metadata
                if outcome.lock is not None:
                    report.locks[str(target.environment)] = outcome.lock
                if outcome.failure is not None:
                    first = sentences(outcome.failure.no_solution)[0]
                    report.unresolved[str(target.environment)] = first
        if not missing_projects and not missing_metadata:
            return report
        key = (frozenset(missing_projects), frozenset(missing_metadata))
        if key == asked:  # fetched already and still missing: the index has nothing more
            report.still_missing = sorted(missing_projects) + [
                f"{name}=={version} (core metadata)" for name, version in sorted(missing_metadata)
            ]
            return report
        asked = key
        report.fetched_projects |= missing_projects
        report.fetched_metadata |= missing_metadata
        await fetch(missing_projects, missing_metadata)
    return report
