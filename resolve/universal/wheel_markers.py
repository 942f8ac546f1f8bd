"""Which environments a distribution file installs on, as a marker.

A wheel's platform tags (PEP 425, PEP 600, PEP 656, the macOS and Windows tags) name its
operating system; ``any`` installs everywhere. An sdist builds anywhere, so it covers every
environment when it is usable (its own metadata in the snapshot, SEMANTICS §5). Only the
operating system is read: a wheel's Python tags are not, because an open-ended Python range
(``requires-python >= 3.9``) is never covered by version-specific wheels, and judging it so
would reject every compiled package; its architecture is not, because a required environment
names an operating system far more often than a machine.
"""

from __future__ import annotations

from packaging.tags import parse_tag

from db.read.snapshot_reader import FileRecord
from resolve.candidates.judge import Target
from resolve.universal.marker_algebra import FALSE, TRUE, Expr
from resolve.universal.marker_parse import parse_text

__all__ = ["file_marker", "platform_marker"]

_PREFIXES = (
    ("win", "win32"),
    ("macosx_", "darwin"),
    ("manylinux", "linux"),
    ("musllinux_", "linux"),
    ("linux_", "linux"),
)


def platform_marker(platform_tag: str) -> Expr:
    """``win_amd64`` -> ``sys_platform == 'win32'``; ``any`` -> true; unknown -> false."""
    if platform_tag == "any":
        return TRUE
    for prefix, sys_platform in _PREFIXES:
        if platform_tag.startswith(prefix):
            return parse_text(f"sys_platform == '{sys_platform}'")
    return FALSE


def file_marker(project: str, f: FileRecord, target: Target) -> Expr:
    """The environments ``f`` installs on, under the target's binary policy and its lowest
    Python (false when it cannot be used at all)."""
    if f.yanked or not target.python_fits(f.requires_python):
        return FALSE
    if not f.is_wheel:
        usable = f.metadata is not None and f.metadata.available
        return TRUE if usable and target.binary.sdist_allowed(project) else FALSE
    if not target.binary.wheel_allowed(project):
        return FALSE
    try:
        tags = parse_tag(f.tags)
    except ValueError:
        return FALSE
    found = FALSE
    for platform in sorted({tag.platform for tag in tags}):
        found |= platform_marker(platform)
    return found
