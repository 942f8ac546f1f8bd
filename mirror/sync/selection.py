"""Which files of a project page get their core metadata fetched.

The resolver needs one core metadata file per (index, version) (MIRROR.md, "Core metadata" 4:
metadata is assumed consistent across a release's files). Which versions: all of them, or the
newest N plus every version an exact pin names.
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
    """One file per selected version, best source first; versions newest first."""
    by_version: dict[Version, list[DistFile]] = {}
    for dist in files:
        version = parse_version(dist.version) if dist.version_valid else None
        if version is not None:
            by_version.setdefault(version, []).append(dist)
    ordered = sorted(by_version, reverse=True)
    wanted = set(ordered if policy.latest is None else ordered[: policy.latest])
    for pin in pinned:
        version = parse_version(pin)
        if version is None:
            continue
        # `==1.2.3` also matches local versions `1.2.3+cu121` (PEP 440, local version rules).
        wanted.update(v for v in ordered if v == version or v.public == str(version))
    return [min(by_version[v], key=_file_preference) for v in ordered if v in wanted]
