"""Snapshot rows → the candidates of one project under the rules, with a reason for every
file and version left out (DESIGN.md "The resolver"; SEMANTICS.md §1, §4, §5).

Two steps, both pure:

1. :func:`select_pages` applies index precedence: which indexes may supply the project (pins,
   explicit indexes, default last) and, under ``first-index``, which one does. A failed page
   or an authentication refusal stops the search: falling through could let a later index
   supply a look-alike package (dependency confusion).
2. :func:`build_candidates` turns the supplying pages' files into one :class:`Candidate` per
   version, judged for the target by :func:`resolve.candidates.judge.judge_version`.

The solver needs every project's version list up front but the verdict on only the few
versions it tries, so versions are grouped eagerly (dropping those the cutoff hides entirely)
and judged on first look-up; the exclusions, read only by failure hints and ``--explain``,
are worked out when first asked for.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from packaging.version import Version

from db.read.snapshot_reader import FileList, PageRecord, ProjectRecord
from db.versions import parse_version
from resolve.candidates.judge import (
    BinaryPolicy,
    Candidate,
    Exclusion,
    Reason,
    Target,
    judge_version,
    shown,
)
from resolve.rules.model import IndexRule, IndexStrategy, RuleSet

__all__ = [
    "INCOMPLETE",
    "QUARANTINED",
    "WARNED_STATUSES",
    "BinaryPolicy",
    "Candidate",
    "Exclusion",
    "IndexStatus",
    "Problem",
    "ProjectCandidates",
    "Reason",
    "Target",
    "Versions",
    "build_candidates",
    "select_pages",
]


#: PEP 792: an index offers no files of a quarantined project, and an installer uses none it
#: may still list; deprecated and archived projects stay usable, with a warning.
QUARANTINED = "quarantined"
WARNED_STATUSES = frozenset({"deprecated", "archived"})


@dataclass(frozen=True, slots=True)
class IndexStatus:
    """A PEP 792 status other than active that an index gave the project, and its reason."""

    index: str
    status: str
    reason: str | None

    def __str__(self) -> str:
        return self.status + (f" ({self.reason})" if self.reason else "")


#: The problems that mean the snapshot lacks the answer, not that an index gave one: the
#: project was never synced, an index was not asked about it, or its page failed. Resolving
#: past them could give another lock than the indexes would have (SEMANTICS §7).
INCOMPLETE = frozenset({"not-in-snapshot", "not-synced", "failed"})


@dataclass(frozen=True, slots=True)
class Problem:
    """An index answer that stops the search for a project: the sync must be redone, or
    credentials are needed, or the project is not in the snapshot at all."""

    kind: str  # not-in-snapshot | not-synced | failed | refused
    index: str | None
    detail: str


@dataclass(frozen=True, slots=True)
class _Supply:
    """One supplying page: the positions of its files grouped by version, ascending, and
    those of the files whose version is not valid PEP 440."""

    rank: int
    rule: IndexRule
    cutoff: str | None
    files: FileList
    groups: list[tuple[Version, list[int]]]
    invalid: list[int]

    def judge(
        self,
        project: str,
        version: Version,
        positions: list[int],
        target: Target,
        excluded: list[Exclusion],
    ) -> Candidate | None:
        files = self.files.take(positions)
        return judge_version(
            project, version, files, self.rule, self.rank, self.cutoff, target, excluded
        )


class _Offer(NamedTuple):
    """One version as one supplying page lists it (its own spelling of the version). A tuple:
    one is made per listed version of every project, and a frozen dataclass is slower."""

    version: Version
    supply: _Supply
    positions: list[int]


class Versions(Mapping[Version, Candidate]):
    """Version → :class:`Candidate`, ascending; a version is judged when first looked up.

    Iterating the keys, ``in`` and ``len`` judge nothing; ``values()`` and ``items()`` judge
    every version.
    """

    __slots__ = ("_best_match", "_judged", "_lacking", "_offers", "_project", "_target")

    def __init__(
        self,
        project: str,
        offers: dict[Version, list[_Offer]],
        target: Target,
        best_match: bool,
    ) -> None:
        self._project = project
        self._offers = offers
        self._target = target
        self._best_match = best_match
        self._judged: dict[Version, Candidate] = {}
        # Under unsafe-best-match: a version's candidate on an index before the one chosen,
        # passed over only for want of core metadata.
        self._lacking: dict[Version, Candidate] = {}

    def __getitem__(self, version: Version) -> Candidate:
        found = self._judged.get(version)
        if found is None:
            found = self._judge(self._offers[version])
            self._judged[version] = found
        return found

    def __contains__(self, version: object) -> bool:
        return version in self._offers

    def __iter__(self) -> Iterator[Version]:
        return iter(self._offers)

    def __len__(self) -> int:
        return len(self._offers)

    def lacking(self, version: Version) -> Candidate | None:
        """The candidate of ``version`` that lacks core metadata and whose metadata could
        change the judgement: the one chosen, or under ``unsafe-best-match`` one passed over
        on an index before it."""
        held = self[version]
        if held.unavailable is not None and held.unavailable[0] is Reason.METADATA_MISSING:
            return held
        return self._lacking.get(version)

    def forget(self, version: Version) -> None:
        """Judge ``version`` again, from its files read again, on next look-up (its core
        metadata was added to the snapshot since)."""
        self._judged.pop(version, None)
        self._lacking.pop(version, None)
        for offer in self._offers[version]:
            offer.supply.files.forget(offer.positions)

    def rank(self, version: Version) -> int:
        """The lookup-order rank of the index that supplies ``version``; judges it only when
        ``unsafe-best-match`` must choose between indexes."""
        offers = self._offers[version]
        if len(offers) == 1 or not self._best_match:
            return offers[0].supply.rank
        return self[version].rank

    def _judge(self, offers: list[_Offer]) -> Candidate:
        held: Candidate | None = None
        for offer in offers:
            candidate = offer.supply.judge(
                self._project, offer.version, offer.positions, self._target, []
            )
            assert candidate is not None  # offers hold only versions the cutoff leaves shown
            if (
                held is not None
                and held.unavailable is not None
                and held.unavailable[0] is Reason.METADATA_MISSING
                and candidate.unavailable is None
            ):
                self._lacking.setdefault(candidate.version, held)
            if held is None or (held.unavailable is not None and candidate.unavailable is None):
                # The first index, or under unsafe-best-match the first whose files fit the
                # target (A17).
                held = candidate
            if not self._best_match or held.unavailable is None:
                break
        assert held is not None
        return held


class ProjectCandidates:
    """A project's candidates (:class:`Versions`), the indexes that supplied them in lookup
    order, the problems that stopped the search, the indexes that said "not here" (index name
    → status), the PEP 792 statuses of the indexes chosen to supply it, and ``excluded``:
    every file and version left out, and why."""

    __slots__ = (
        "_excluded",
        "_passed_over",
        "_record",
        "_supplies",
        "_target",
        "name",
        "not_here",
        "problems",
        "statuses",
        "supplying",
        "versions",
    )

    def __init__(
        self,
        record: ProjectRecord,
        versions: Versions,
        supplies: list[_Supply],
        target: Target,
        problems: tuple[Problem, ...],
        not_here: Mapping[str, int],
        passed_over: list[tuple[str, Reason]],
        statuses: tuple[IndexStatus, ...] = (),
    ) -> None:
        self.name = record.name
        self.versions = versions
        self.supplying = tuple(dict.fromkeys(s.rule.name for s in supplies))
        self.problems = problems
        self.not_here = not_here
        self.statuses = statuses
        self._record = record
        self._supplies = supplies
        self._target = target
        self._passed_over = passed_over
        self._excluded: tuple[Exclusion, ...] | None = None

    @property
    def excluded(self) -> tuple[Exclusion, ...]:
        """Every file and version left out, page by page in lookup order (each page's invalid
        versions, then its versions ascending file by file), then the versions of the indexes
        passed over. Judges every version of every supplying page once."""
        if self._excluded is None:
            excluded: list[Exclusion] = []
            for supply in self._supplies:
                name = supply.rule.name
                excluded += (
                    Exclusion(name, f.version, f.filename, Reason.INVALID_VERSION, "")
                    for f in supply.files.take(supply.invalid)
                )
                for version, positions in supply.groups:
                    supply.judge(self.name, version, positions, self._target, excluded)
            passed = dict(self._passed_over)
            for page in self._record.pages:
                reason = passed.get(page.index.name)
                if reason is None:
                    continue
                for listed in FileList.of(page.files).listing.texts():
                    excluded.append(Exclusion(page.index.name, listed, None, reason, ""))
            self._excluded = tuple(excluded)
        return self._excluded


def select_pages(
    record: ProjectRecord, rules: RuleSet, markers: Mapping[str, str]
) -> tuple[list[tuple[int, IndexRule, PageRecord]], list[Problem], dict[str, int], list[str]]:
    """The pages that may supply ``record``, with their rank in lookup order; the problems
    that stop the search; the indexes that said "not here"; and the indexes that have the
    project but are passed over (by the strategy, a pin or an explicit flag)."""
    if not record.in_snapshot:
        return [], [Problem("not-in-snapshot", None, "not in the snapshot")], {}, []
    pages = {p.index.name: p for p in record.pages}
    allowed = rules.allowed_indexes(record.name, markers)
    order = rules.lookup_order()
    chosen: list[tuple[int, IndexRule, PageRecord]] = []
    problems: list[Problem] = []
    not_here: dict[str, int] = {}
    first_only = rules.strategy is IndexStrategy.FIRST_INDEX
    for rank, rule in enumerate(order):
        if rule not in allowed:
            continue
        page = pages.get(rule.name)
        if page is None:
            problems.append(Problem("not-synced", rule.name, "not asked in this snapshot"))
            break
        if page.failed:
            problems.append(Problem("failed", rule.name, page.error or f"HTTP {page.status}"))
            break
        if page.status == 200:
            chosen.append((rank, rule, page))
            if first_only:
                break
        elif rule.means_not_here(page.status):
            not_here[rule.name] = page.status
        elif first_only or page.status not in (401, 403):
            problems.append(Problem("refused", rule.name, f"HTTP {page.status}"))
            break
        else:  # the unsafe strategies pass over an index that refuses (SEMANTICS A13)
            not_here[rule.name] = page.status
    used = {rule.name for _, rule, _ in chosen}
    passed_over = [
        p.index.name for p in record.pages if p.found and p.files and p.index.name not in used
    ]
    return chosen, problems, not_here, passed_over


def build_candidates(
    record: ProjectRecord, rules: RuleSet, target: Target, markers: Mapping[str, str]
) -> ProjectCandidates:
    """Every version the rules let the project's indexes supply, to be judged for ``target``."""
    chosen, problems, not_here, passed_over = select_pages(record, rules, markers)
    if problems:
        chosen = []
    supplies: list[_Supply] = []
    offers: dict[Version, list[_Offer]] = {}
    statuses = tuple(
        IndexStatus(rule.name, page.project_status, page.project_status_reason)
        for _, rule, page in chosen
        if page.project_status and page.project_status != "active"
    )
    for rank, rule, page in chosen:
        if page.project_status == QUARANTINED:
            continue  # chosen all the same: under first-index it still stops the search
        cutoff = rules.cutoff(record.name, rule.name)
        files = FileList.of(page.files)
        groups, invalid = _versions(files)
        supply = _Supply(rank, rule, cutoff, files, groups, invalid)
        supplies.append(supply)
        if cutoff is None and not offers:  # the usual case: the first page, no cutoff
            offers = {v: [_Offer(v, supply, positions)] for v, positions in groups}
            continue
        times = None if cutoff is None else files.upload_times()
        for version, positions in groups:
            if times is None or shown((times[i] for i in positions), cutoff):
                offer = _Offer(version, supply, positions)
                listed = offers.get(version)
                if listed is None:
                    offers[version] = [offer]
                else:
                    listed.append(offer)
    allowed = {r.name for r in rules.allowed_indexes(record.name, markers)}
    passed = [(name, Reason.STRATEGY if name in allowed else Reason.PIN) for name in passed_over]
    best_match = rules.strategy is IndexStrategy.UNSAFE_BEST_MATCH
    if len(supplies) > 1:  # one page's groups come ascending already
        offers = {v: offers[v] for v in sorted(offers)}
    versions = Versions(record.name, offers, target, best_match)
    return ProjectCandidates(
        record, versions, supplies, target, tuple(problems), not_here, passed, statuses
    )


def _versions(files: FileList) -> tuple[list[tuple[Version, list[int]]], list[int]]:
    """The positions of a page's files grouped by version, ascending, and those of the files
    with an invalid version: from the listing stored with the page, sorted when it was."""
    listing = files.listing
    grouped: list[tuple[Version, list[int]]] = []
    invalid = [p for _, positions in listing.invalid for p in positions]
    for text, positions in listing.versions:
        version = parse_version(text)
        if version is None:  # not written by this version of the listing code
            invalid += positions
        else:
            grouped.append((version, positions))
    invalid.sort()
    return grouped, invalid
