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
from resolve.universal.marker_parse import parse_text, python_range

__all__ = ["file_marker", "platform_marker", "wheel_marker"]

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


def wheel_marker(filename_tags: str) -> Expr:
    """The CPython environments a wheel's ``{python}-{abi}-{platform}`` tags install on, its
    Python tags read too (for a download, where a wheel for a Python outside the lock is not
    wanted): ``cp312-cp312`` is 3.12 only, ``cp39-abi3`` 3.9 and later (PEP 384), ``py3X``
    3.X and later and ``py3`` every Python 3 (the order of ``packaging.tags.compatible_tags``);
    another implementation's tag (``pp310``) is false. False when the tags are malformed."""
    try:
        tags = parse_tag(filename_tags)
    except ValueError:
        return FALSE
    found = FALSE
    for tag in sorted(tags, key=str):
        found |= _python_marker(tag.interpreter, tag.abi) & platform_marker(tag.platform)
    return found


def _python_marker(interpreter: str, abi: str) -> Expr:
    kind, digits = interpreter[:2], interpreter[2:]
    if kind not in ("cp", "py") or not digits.isdigit() or digits[0] != "3":
        return FALSE
    if len(digits) == 1:
        return TRUE if kind == "py" else python_range((3, 0, 0))
    lowest = (3, int(digits[1:]), 0)
    if kind == "py" or abi == "abi3":
        return python_range(lowest)
    return python_range(lowest, (3, lowest[1] + 1, 0))
