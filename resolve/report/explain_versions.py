"""``resolve --explain NAME``: every version of NAME on every index, and the verdict on it.

A verdict is ``picked`` (what this resolution selects), ``candidate`` (usable, not chosen) or
``excluded``, with the reason in the user's terms: the index rule or strategy, the pin, the
pre-release mode, the yank and its reason, Requires-Python, the wheel tags, the cutoff, the
missing metadata (DESIGN.md "The resolver").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from packaging.version import Version

from db.read.snapshot_reader import PageRecord
from db.versions import parse_version, version_sort_key
from resolve.candidates.project import (
    QUARANTINED,
    Exclusion,
    IndexStatus,
    Problem,
    ProjectCandidates,
    Reason,
)
from resolve.candidates.provider import SnapshotProvider
from resolve.inputs.requirements import InputRequirement, ParsedInputs, parse_requirement
from resolve.outcome import Failure, Outcome
from resolve.pipeline import Session
from resolve.policy.prerelease import PrereleaseMode

__all__ = ["Explanation", "Row", "explain_project", "explain_rows"]


@dataclass(frozen=True, slots=True)
class Row:
    index: str
    version: str
    files: int
    verdict: str  # picked | candidate | excluded | not-here | failed
    reason: str


@dataclass(frozen=True, slots=True)
class Explanation:
    """Every version of one project on every index, with the verdict of this resolution."""

    project: str
    snapshot: str
    rules: str
    strategy: str
    picked: str | None
    rows: tuple[Row, ...]
    failure: Failure | None
    # PEP 792 statuses other than active, per index consulted.
    statuses: tuple[IndexStatus, ...] = ()
    # A universal resolution's fork these verdicts are for (None: the one target).
    environment: str | None = None

    def as_json(self) -> dict[str, object]:
        """The document ``--explain NAME --json`` prints (the failure, if any, is left out)."""
        return {
            "project": self.project,
            "snapshot": self.snapshot,
            "rules": self.rules,
            "strategy": self.strategy,
            "picked": self.picked,
            "statuses": [asdict(s) for s in self.statuses],
            "versions": [asdict(r) for r in self.rows],
            **({"environment": self.environment} if self.environment is not None else {}),
        }

    def table(self) -> list[str]:
        """The rows as aligned text lines, under a title line."""
        lines = [f"{self.project} in snapshot {self.snapshot}, strategy {self.strategy}"]
        if self.environment is not None:
            lines[0] += f", for {self.environment}"
        lines += (
            f"  {s.status} on index {s.index}" + (f": {s.reason}" if s.reason else "")
            for s in self.statuses
        )
        if not self.rows:
            lines.append("  no index in the snapshot lists it")
        widths = [
            max((len(getattr(r, f)) for r in self.rows), default=0) for f in ("index", "version")
        ]
        for row in self.rows:
            lines.append(
                f"  {row.index.ljust(widths[0])}  {row.version.ljust(widths[1])}  "
                f"{row.verdict:<9}  {row.reason}".rstrip()
            )
        return lines


def explain_project(session: Session, name: str) -> list[Explanation]:
    """Resolve the session's inputs (or ``name`` alone when there are none) and judge every
    version of ``name`` the snapshot lists: for the target, or for each fork of a universal
    resolution (its verdicts per environment)."""
    inputs = session.request.inputs
    requirements: tuple[InputRequirement, ...] = inputs.requirements or (parse_requirement(name),)
    outcome = session.resolve(ParsedInputs(requirements, inputs.constraints, inputs.options))
    if outcome.forks:
        return [
            _explain(session, name, fork.provider, fork.pins.get(name), outcome, fork.environment)
            for fork in outcome.forks
        ]
    assert outcome.provider is not None
    picked = None
    if outcome.lock is not None:
        picked = next((p.version for p in outcome.lock.packages if p.name == name), None)
    return [_explain(session, name, outcome.provider, picked, outcome, None)]


def _explain(
    session: Session,
    name: str,
    provider: SnapshotProvider,
    picked: Version | None,
    outcome: Outcome,
    environment: str | None,
) -> Explanation:
    project = provider.project(name)
    mode = provider.policy.effective(name)
    pin = session.rules.pin_for(name, provider.markers)
    if pin is not None:
        kept_out = f"the pin `{pin.glob}` allows only index {', '.join(pin.indexes)}"
    else:
        kept_out = "the index is explicit: it serves only packages pinned to it"
    # --index (and the stored rules) decide which indexes this resolution consults; an index
    # left out of them has no say, so it has no row either.
    consulted = {rule.name for rule in session.rules.indexes}
    pages = tuple(p for p in session.reader.project(name).pages if p.index.name in consulted)
    rows = explain_rows(project, pages, picked, mode, kept_out)
    return Explanation(
        project=name,
        snapshot=session.reader.snapshot.name,
        rules=session.rules.digest,
        strategy=str(session.rules.strategy),
        picked=None if picked is None else str(picked),
        rows=tuple(rows),
        failure=outcome.failure,
        statuses=tuple(
            IndexStatus(p.index.name, p.project_status, p.project_status_reason)
            for p in pages
            if p.project_status and p.project_status != "active"
        ),
        environment=environment,
    )


def explain_rows(
    project: ProjectCandidates,
    pages: tuple[PageRecord, ...],
    picked: Version | None,
    mode: PrereleaseMode,
    kept_out: str = "a pin or an explicit index keeps this index from the project",
) -> list[Row]:
    """One row per (index, version) listed in the snapshot, newest first per index."""
    rows: list[Row] = []
    exclusions: dict[tuple[str, str], list[Exclusion]] = {}
    for exclusion in project.excluded:
        exclusions.setdefault((exclusion.index, exclusion.version), []).append(exclusion)
    for page in pages:
        index = page.index.name
        if not page.found:
            verdict = "failed" if page.failed else "not-here"
            rows.append(Row(index, "-", 0, verdict, page.error or f"HTTP {page.status}"))
            continue
        listed: dict[str, int] = {}
        for f in page.files:
            listed[f.version] = listed.get(f.version, 0) + 1
        for text in sorted(listed, key=version_sort_key, reverse=True):
            verdict, reason = _verdict(
                project, index, text, picked, mode, exclusions.get((index, text), []), kept_out
            )
            rows.append(Row(index, text, listed[text], verdict, reason))
    return rows


def _verdict(
    project: ProjectCandidates,
    index: str,
    text: str,
    picked: Version | None,
    mode: PrereleaseMode,
    excluded: list[Exclusion],
    kept_out: str,
) -> tuple[str, str]:
    version = parse_version(text)
    if version is None:
        return "excluded", "not a valid PEP 440 version"
    candidate = project.versions.get(version)
    if candidate is not None and candidate.index.name == index:
        if candidate.unavailable is not None:
            return "excluded", candidate.unavailable[1]
        # A built file's metadata says so, with its backend and build requirements.
        built = candidate.metadata.build if candidate.metadata is not None else None
        how = "" if built is None else f"; {built}"
        if version == picked:
            return "picked", "selected" + (" (yanked, pinned)" if candidate.yanked else "") + how
        if candidate.yanked is not None:
            return "excluded", "yanked" + (f": {candidate.yanked}" if candidate.yanked else "")
        if version.is_prerelease and mode in (PrereleaseMode.DISALLOW, PrereleaseMode.EXPLICIT):
            return "excluded", f"pre-release, and the pre-release mode is {mode}"
        return "candidate", "usable, not selected" + how
    if candidate is not None:
        return "excluded", f"supplied by index {candidate.index.name}"
    quarantined = [s.index for s in project.statuses if s.status == QUARANTINED]
    if index in quarantined:
        return "excluded", "the project is quarantined on this index (PEP 792)"
    reasons = {e.reason: e for e in excluded}
    if Reason.PIN in reasons:
        return "excluded", kept_out
    if project.problems:  # the search stopped at an earlier index: that is the reason
        return "excluded", _stopped(project.problems[0], project.name)
    if Reason.STRATEGY in reasons:
        if quarantined:
            return "excluded", f"strategy first-index: index {quarantined[0]} has it quarantined"
        first = f"index {project.supplying[0]}" if project.supplying else "an earlier index"
        return "excluded", f"strategy first-index: {first} supplies {project.name}"
    if Reason.CUTOFF in reasons:
        return "excluded", "uploaded after the cutoff"
    if excluded:
        return "excluded", excluded[0].detail or str(excluded[0].reason)
    return "excluded", "not consulted"


def _stopped(problem: Problem, name: str) -> str:
    """Why no later index was consulted for ``name`` (SEMANTICS A21: a failed or missing page
    never lets a later index supply the project)."""
    if problem.kind == "failed":
        return (
            f"index {problem.index} failed at sync time ({problem.detail}); a failed page "
            f"never lets a later index supply {name}"
        )
    if problem.kind == "not-synced":
        return (
            f"index {problem.index} comes first and was not asked for {name} in this "
            "snapshot; a later index never stands in for it"
        )
    return f"index {problem.index} refused ({problem.detail}); no later index is consulted"
