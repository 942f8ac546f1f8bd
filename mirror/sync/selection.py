"""Which files of a project page get their core metadata fetched.

The resolver needs one core metadata file per (index, version) (MIRROR.md, "Core metadata" 4:
metadata is assumed consistent across a release's wheels). Which versions: all of them, or the
newest N plus every version an exact pin names. An sdist never borrows a wheel's metadata
(SEMANTICS §5), so a pinned version's sdist gets its own fetched too: a pin is how
``resolve`` asks for the metadata a target without a fitting wheel needs (the hint of an
incomplete snapshot, and ``mirror sync --closure``'s further rounds).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from packaging.version import Version

from db.records import DistFile
from db.versions import parse_version

__all__ = ["VersionPolicy", "choose_metadata_files", "parse_version_policy"]


@dataclass(frozen=True, slots=True)
class VersionPolicy:
    """``latest`` None means every version."""

    latest: int | None = 5

    def describe(self) -> str:
        return "all" if self.latest is None else f"latest:{self.latest}"


def parse_version_policy(text: str) -> VersionPolicy:
    """``all`` or ``latest:N`` (N ≥ 1)."""
    if text == "all":
        return VersionPolicy(None)
    prefix, _, count = text.partition(":")
    if prefix == "latest" and count.isdigit() and int(count) >= 1:
        return VersionPolicy(int(count))
    raise ValueError(f"invalid --versions value {text!r}: expected 'all' or 'latest:N'")


def _file_preference(dist: DistFile) -> tuple[int, int, str]:
    # A wheel with a PEP 658 file costs one small request; a wheel costs a few range requests;
    # an sdist costs a whole download and may still need a build.
    if dist.is_wheel and dist.core_metadata is not None:
        rank = 0
    elif dist.is_wheel:
        rank = 1
    else:
        rank = 2
    return (rank, int(dist.yanked), dist.filename)


def choose_metadata_files(
    files: Sequence[DistFile], policy: VersionPolicy, pinned: Iterable[str] = ()
) -> list[DistFile]:
    """One file per selected version, best source first, and a pinned version's sdist
    besides; versions newest first."""
    by_version: dict[Version, list[DistFile]] = {}
    for dist in files:
        version = parse_version(dist.version) if dist.version_valid else None
        if version is not None:
            by_version.setdefault(version, []).append(dist)
    ordered = sorted(by_version, reverse=True)
    wanted = set(ordered if policy.latest is None else ordered[: policy.latest])
    pinned_versions: set[Version] = set()
    for pin in pinned:
        version = parse_version(pin)
        if version is None:
            continue
        # `==1.2.3` also matches local versions `1.2.3+cu121` (PEP 440, local version rules).
        pinned_versions.update(v for v in ordered if v == version or v.public == str(version))
    wanted |= pinned_versions
    chosen: list[DistFile] = []
    for version in ordered:
        if version not in wanted:
            continue
        best = min(by_version[version], key=_file_preference)
        chosen.append(best)
        if version in pinned_versions and best.is_wheel:
            sdists = [d for d in by_version[version] if not d.is_wheel]
            if sdists:
                chosen.append(min(sdists, key=_file_preference))
    return chosen
