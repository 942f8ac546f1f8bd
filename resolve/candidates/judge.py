"""Judging one version's files on one index for the target: upload-time cutoff,
Requires-Python, wheel tags, binary policy, core metadata, yank state (SEMANTICS.md §1, §4,
§5). Pure functions over snapshot rows; :mod:`resolve.candidates.project` decides which versions and
indexes are judged, and when.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from db.canonical import canonical_name
from db.read.snapshot_reader import FileMetadata, FileRecord
from resolve.rules.model import IndexRule
from resolve.targets.environment import TargetEnvironment

__all__ = [
    "BinaryPolicy",
    "Candidate",
    "Exclusion",
    "Reason",
    "Target",
    "judge_version",
    "metadata_wanted",
    "shown",
]


class Reason(StrEnum):
    """Why a file, a version or a whole index was left out."""

    CUTOFF = "cutoff"  # newer than the cutoff: invisible, never reported (SEMANTICS §5)
    NO_UPLOAD_TIME = "no-upload-time"  # unknown upload time under a cutoff: reported
    INVALID_VERSION = "invalid-version"
    REQUIRES_PYTHON = "requires-python"
    NO_WHEEL = "no-wheel"
    BINARY_POLICY = "binary-policy"
    METADATA_MISSING = "metadata-missing"
    NEEDS_BUILD = "needs-build"
    METADATA_INVALID = "metadata-invalid"
    YANKED = "yanked"
    OTHER_PROJECT = "other-project"  # the filename names another project (pip skips it)
    STRATEGY = "strategy"  # on an index the strategy does not consult for this project
    PIN = "pin"  # on an index a pin or an explicit flag keeps from this project


# When no file of a version is usable, the version's reason is that of the file that came
# closest: a missing metadata file (fixable by syncing) before a needed build, and both
# before the target-shaped reasons.
_REASON_ORDER = (
    Reason.METADATA_MISSING,
    Reason.METADATA_INVALID,
    Reason.NEEDS_BUILD,
    Reason.REQUIRES_PYTHON,
    Reason.BINARY_POLICY,
    Reason.NO_WHEEL,
    Reason.OTHER_PROJECT,
)


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A file or version left out, where, and why (for hints and ``--explain``)."""

    index: str
    version: str
    filename: str | None
    reason: Reason
    detail: str


@dataclass(frozen=True, slots=True)
class BinaryPolicy:
    """``--only-binary`` / ``--no-binary``: ``:all:``, ``:none:`` or canonical names."""

    only_binary: frozenset[str] = frozenset()
    no_binary: frozenset[str] = frozenset()

    def sdist_allowed(self, project: str) -> bool:
        if project in self.no_binary:
            return True
        return not (project in self.only_binary or ":all:" in self.only_binary)

    def wheel_allowed(self, project: str) -> bool:
        if project in self.only_binary:
            return True
        return not (project in self.no_binary or ":all:" in self.no_binary)


@dataclass(frozen=True, slots=True)
class Target:
    """What a file is judged against: the environment and the binary policy."""

    environment: TargetEnvironment
    binary: BinaryPolicy = BinaryPolicy()
    # Caches keyed by specifier text; not part of the value.
    _python: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    @property
    def python_version(self) -> Version:
        return Version(".".join(map(str, self.environment.python_version)))

    def python_fits(self, spec: str | None) -> bool:
        """Requires-Python, the whole specifier, pre-release Pythons included (PEP 345)."""
        if not spec:
            return True
        fits = self._python.get(spec)
        if fits is None:
            try:
                fits = SpecifierSet(spec).contains(self.python_version, prereleases=True)
            except InvalidSpecifier:
                fits = True  # pip ignores an unreadable Requires-Python; so do we
            self._python[spec] = fits
        return fits


@dataclass(frozen=True, slots=True)
class Candidate:
    """One version of a project as its origin index supplies it.

    ``files`` are every visible file of the version on that index (the lock hashes them all,
    as pip-compile does); ``metadata`` comes from the best usable one. ``unavailable`` says
    why nothing is usable; a yanked candidate is usable only when pinned exactly (PEP 592).
    """

    version: Version
    index: IndexRule
    rank: int  # the index's position in lookup order
    files: tuple[FileRecord, ...]
    metadata: FileMetadata | None
    unavailable: tuple[Reason, str] | None = None
    yanked: str | None = None  # the yank reason ("" when none was given) if all are yanked


def shown(upload_times: Iterable[str | None], cutoff: str | None) -> bool:
    """Whether :func:`judge_version` yields a candidate for files uploaded at these times:
    some file is not hidden by the cutoff (one without an upload time is reported, so it
    counts)."""
    if cutoff is None:
        return True
    return any(t is None or t <= cutoff for t in upload_times)


def judge_version(
    project: str,
    version: Version,
    files: list[FileRecord],
    rule: IndexRule,
    rank: int,
    cutoff: str | None,
    target: Target,
    excluded: list[Exclusion],
) -> Candidate | None:
    """One version on one index: None when every file is invisible under the cutoff."""
    visible: list[FileRecord] = []
    usable: list[tuple[int, FileRecord]] = []
    reasons: dict[Reason, str] = {}
    label = str(version)

    def exclude(f: FileRecord, reason: Reason, detail: str) -> None:
        reasons.setdefault(reason, detail)
        excluded.append(Exclusion(rule.name, label, f.filename, reason, detail))

    # One core metadata file stands for the whole release on its index (MIRROR.md "Core
    # metadata": metadata is assumed consistent across a release's wheels), so a wheel whose
    # own metadata was not fetched borrows it. An sdist never does (SEMANTICS §5): its
    # metadata may be dynamic, and installing it runs its own build.
    shared = next(
        (f.metadata for f in files if f.metadata is not None and f.metadata.available), None
    )
    for f in files:
        if cutoff is not None:
            if f.upload_time is None:
                exclude(f, Reason.NO_UPLOAD_TIME, f"no upload time, and a cutoff of {cutoff}")
                continue
            if f.upload_time > cutoff:
                excluded.append(Exclusion(rule.name, label, f.filename, Reason.CUTOFF, ""))
                continue
        visible.append(f)
        fit = _fit(project, f, target, shared)
        if isinstance(fit, tuple):
            exclude(f, *fit)
        else:
            usable.append((fit, f))
    if not visible:
        if reasons:  # only files without upload times: say so (SEMANTICS E7)
            why = (Reason.NO_UPLOAD_TIME, reasons[Reason.NO_UPLOAD_TIME])
            return Candidate(version, rule, rank, (), None, why)
        return None
    live = [(r, f) for r, f in usable if not f.yanked]
    pool = live or usable
    if not pool:
        reason = next(r for r in _REASON_ORDER if r in reasons)
        return Candidate(version, rule, rank, tuple(visible), None, (reason, reasons[reason]))
    best = min(pool, key=lambda pair: (pair[0], pair[1].filename))[1]
    yanked = None if live else (best.yanked_reason or "")
    metadata = best.metadata
    if best.is_wheel and (metadata is None or not metadata.available):
        metadata = shared
    if yanked is not None:
        for f in visible:
            if f.yanked:
                excluded.append(Exclusion(rule.name, label, f.filename, Reason.YANKED, yanked))
    return Candidate(version, rule, rank, tuple(visible), metadata, None, yanked)


_SDIST_RANK = 1 << 20


def _fit(
    project: str, f: FileRecord, target: Target, shared: FileMetadata | None
) -> int | tuple[Reason, str]:
    """The file's preference rank for the target (lower is better), or why it is unusable."""
    if not _names_project(f, project):
        return Reason.OTHER_PROJECT, f"{f.filename} is not a file of {project}"
    if not target.python_fits(f.requires_python):
        return Reason.REQUIRES_PYTHON, f"requires Python {f.requires_python}"
    if f.is_wheel:
        if not target.binary.wheel_allowed(project):
            return Reason.BINARY_POLICY, "wheels are excluded by --no-binary"
        rank = target.environment.tag_rank(f.tags)
        if rank is None:
            return Reason.NO_WHEEL, f"no wheel for {target.environment}"
    else:
        if not target.binary.sdist_allowed(project):
            return Reason.BINARY_POLICY, "sdists are excluded by --only-binary"
        rank = _SDIST_RANK
    metadata = f.metadata
    if f.is_wheel and shared is not None and (metadata is None or not metadata.available):
        metadata = shared
    if metadata is None:
        return Reason.METADATA_MISSING, "metadata not in the snapshot"
    if not metadata.available:
        if metadata.source == "needs-build":
            return Reason.NEEDS_BUILD, "metadata needs a build"
        if metadata.source == "failed":  # the index did not give it: not known to be bad
            return Reason.METADATA_MISSING, f"metadata not fetched ({metadata.error})"
        return Reason.METADATA_INVALID, f"invalid metadata ({metadata.error or 'unreadable'})"
    if not target.python_fits(metadata.requires_python):
        return Reason.REQUIRES_PYTHON, f"requires Python {metadata.requires_python}"
    return rank


def _names_project(f: FileRecord, project: str) -> bool:
    """Whether the filename names ``project`` (PEP 427 wheel / PEP 625 sdist names, normalised
    by PEP 503). The sync leaves other projects' files out already; this keeps a snapshot from
    elsewhere from putting one into a lock."""
    if f.is_wheel:
        name = f.filename.partition("-")[0]
    else:
        end = f.filename.rfind(f"-{f.version}.")
        name = f.filename[:end] if end > 0 else ""
    return canonical_name(name) == project


def metadata_wanted(project: str, candidate: Candidate, target: Target) -> FileRecord | None:
    """For a candidate unavailable for want of core metadata: the file whose metadata would
    make it usable if any would — the target's best file (not yanked first) that fits in every
    other way. One wheel's metadata stands for all of a release's wheels (see judge_version)."""
    wanted: tuple[bool, int, str, FileRecord] | None = None
    for f in candidate.files:
        fit = _fit(project, f, target, None)
        if not isinstance(fit, tuple) or fit[0] is not Reason.METADATA_MISSING:
            continue
        rank = target.environment.tag_rank(f.tags) if f.is_wheel else _SDIST_RANK
        key = (f.yanked, rank if rank is not None else _SDIST_RANK, f.filename, f)
        if wanted is None or key[:3] < wanted[:3]:
            wanted = key
    return None if wanted is None else wanted[3]
