"""`mirror download`, choosing files: of each pinned version, only those the lock's target
(or the targets given on the command line) can install (``--all-files`` keeps every one).

A lock pins every file of a version (any of them satisfies ``--require-hashes``), but an
installer on the target takes a wheel whose tags it supports (PEP 425) and builds the sdist
only when no wheel fits. So per pin: the wheels the target's tags accept, else its sdists.
The target is the lock header's ``CPython X.Y.Z on PLATFORM`` (resolve/lock/writers.py),
(for a universal lock given platforms only, its lowest Python; given versions only, this
machine's platform), read with the resolver's own tag logic
(resolve/targets/environment.py). Several targets (a wheelhouse for Linux and Windows, for
3.11 and 3.12) take, per pin, the union of what each would install.
"""

from __future__ import annotations

from collections.abc import Sequence

from mirror.download.plan import DownloadItem
from resolve.targets.environment import TargetEnvironment
from resolve.universal.environment import declared_environment

__all__ = ["download_targets", "target_environment", "target_files", "wheel_tags"]

_PREFIX = "CPython "


def target_environment(target: str) -> TargetEnvironment | None:
    """The environment a header's ``CPython 3.12.0 on x86_64-manylinux_2_28`` names; None
    when it is not in that form or names an unknown platform."""
    version, on, platform = target.removeprefix(_PREFIX).partition(" on ")
    if not target.startswith(_PREFIX) or not on:
        return None
    try:
        return TargetEnvironment.create(version.strip(), platform.strip())
    except ValueError:  # UnknownPlatform, InvalidPythonVersion
        return None


def download_targets(
    header: str | None, versions: Sequence[str], platforms: Sequence[str]
) -> list[TargetEnvironment]:
    """Every ``--python-version`` × ``--python-platform`` given, the half not given taken from
    the lock's header (else this interpreter's, as ``resolve`` does), through the resolver's
    own target parsing. ValueError (UnknownPlatform, InvalidPythonVersion) names a bad one."""
    own_version, own_platform = _header_parts(header)
    every_version: Sequence[str | None] = versions or [own_version]
    every_platform: Sequence[str | None] = platforms or [own_platform]
    return [
        TargetEnvironment.create(version, platform)
        for version in every_version
        for platform in every_platform
    ]


def _header_parts(header: str | None) -> tuple[str | None, str | None]:
    """The version and platform a lock's target names: a universal lock's lowest Python and
    no platform (this machine's); a lock for one target its own."""
    declared = declared_environment(header)
    lowest = declared.python().lowest() if declared is not None else None
    if lowest is not None:
        return ".".join(map(str, lowest)), None
    if header is None or target_environment(header) is None:
        return None, None
    version, _, platform = header.removeprefix(_PREFIX).partition(" on ")
    return version.strip(), platform.strip()


def target_files(
    items: Sequence[DownloadItem], targets: Sequence[TargetEnvironment]
) -> list[DownloadItem]:
    """Of each pin's files (in plan order), those any of ``targets`` would install: the wheels
    it supports, else the sdists, else (nothing fits) all of them."""
    by_pin: dict[str, list[DownloadItem]] = {}
    for item in items:
        by_pin.setdefault(item.pin, []).append(item)
    chosen: list[DownloadItem] = []
    for files in by_pin.values():
        wheels = [f for f in files if f.filename.endswith(".whl")]
        sdists = [f for f in files if not f.filename.endswith(".whl")]
        wanted: set[str] = set()
        for target in targets:
            fitting = [w for w in wheels if target.tag_rank(wheel_tags(w.filename)) is not None]
            # Nothing fits: every file, as with --all-files, rather than none of the pin's.
            wanted.update(f.filename for f in fitting or sdists or files)
        chosen += [f for f in files if f.filename in wanted]
    return chosen


def wheel_tags(filename: str) -> str:
    """``{python}-{abi}-{platform}``: the last three fields of a wheel name (PEP 427)."""
    return "-".join(filename.removesuffix(".whl").split("-")[-3:])
