"""The environments a universal resolution serves, as one marker, and each fork's target.

The Python range comes from the project's ``requires-python`` (PEP 621), or from
``--python-version`` as its lower bound (uv's rule), or else from the running Python's minor
series; ``--environment MARKER`` (repeatable, uv's ``environments``) restricts it to the union
of the markers given. A fork is judged as a :class:`UniversalEnvironment`: files are checked
against the fork's lowest Python (uv checks a version's ``requires-python`` against the lower
bound of the range), and every well-formed wheel counts, since some environment of the fork may
install it; wheel coverage of required environments is the provider's check.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

from packaging.markers import InvalidMarker, Marker
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import parse_tag

from resolve.inputs.requirements import InputError
from resolve.targets.environment import TargetEnvironment, TargetPlatform
from resolve.universal.marker_algebra import FALSE, TRUE, Expr
from resolve.universal.marker_parse import parse, parse_text, python_range

__all__ = [
    "KNOWN_PLATFORMS",
    "Universal",
    "UniversalEnvironment",
    "declared_environment",
    "environment_marker",
    "parse_markers",
    "universal_of",
]


# The platform variables move together (PEP 508's values on each system): without this, the
# independent variables of the algebra would let `platform_system == 'Windows'` and
# `sys_platform != 'win32'` hold at once, and requirements split on them would not fork.
KNOWN_PLATFORMS = parse_text(
    "sys_platform == 'win32' and platform_system == 'Windows' and os_name == 'nt'"
    " or sys_platform == 'linux' and platform_system == 'Linux' and os_name == 'posix'"
    " or sys_platform == 'darwin' and platform_system == 'Darwin' and os_name == 'posix'"
    " or sys_platform != 'win32' and sys_platform != 'linux' and sys_platform != 'darwin'"
    " and platform_system != 'Windows' and platform_system != 'Linux'"
    " and platform_system != 'Darwin'"
)


_TARGET_PREFIX = "universal: "
_EVERY = "every environment"


def declared_environment(target: str | None) -> Expr | None:
    """The environments a universal lock's ``target`` (:meth:`Universal.target`) declares;
    None for a lock with one target, or none."""
    if target is None or not target.startswith(_TARGET_PREFIX):
        return None
    text = target.removeprefix(_TARGET_PREFIX).strip()
    try:
        return TRUE if text == _EVERY else parse(Marker(text))
    except InvalidMarker:
        return None


@dataclass(frozen=True, slots=True)
class Universal:
    """A universal resolution's environments, and those that need a usable file of every
    pinned version (``--required-environment``, uv's ``required-environments``)."""

    environment: Expr
    required: tuple[Expr, ...] = ()
    #: The ``--environment`` markers as given (none: every platform of the Python range).
    given: tuple[Expr, ...] = ()

    @property
    def space(self) -> Expr:
        """The environments that can exist: ``environment`` where the platform variables
        agree. Whether a marker can hold is asked within it; markers are written without
        it, in the variables their requirements used."""
        return self.environment & KNOWN_PLATFORMS

    def target(self) -> str:
        """The lock's ``target`` (header line, ``[tool.sneakernet]``, JSON), which
        :func:`declared_environment` reads back: every environment of the lock, as a marker."""
        return f"{_TARGET_PREFIX}{self.environment.text() or _EVERY}"

    def environments(self) -> tuple[str, ...]:
        """PEP 751 ``environments``: the markers the lock is for."""
        return tuple(e.text() for e in self.given) or (self.environment.text(),)

    def requires_python(self) -> str:
        """The lock's Python range as a PEP 440 specifier (its hull, if it has gaps)."""
        python = self.environment.python()
        low, high = python.intervals[0][0], python.intervals[-1][1]
        parts = [f">={_release(low)}"] if low is not None else []
        parts += [f"<{_release(high)}"] if high is not None else []
        return ",".join(parts)


_ANY_PLATFORM = TargetPlatform(
    name="any platform",
    sys_platform="",
    platform_system="",
    platform_machine="",
    os_name="",
    platform_tags=(),
)


@dataclass(frozen=True, slots=True)
class UniversalEnvironment(TargetEnvironment):
    """One fork as a target: its lowest Python, any platform, named by its marker."""

    label: str = ""
    #: Marker values of one environment of the fork (:meth:`Expr.point`): the fork is split
    #: on every marker of an index pin, so a pin's marker is the same across it.
    point: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, fork: Expr, label: str) -> UniversalEnvironment:
        lowest = fork.python().lowest()
        assert lowest is not None  # the environment always has a lower bound
        point = tuple(sorted((fork & KNOWN_PLATFORMS).point().items()))
        return cls(lowest, _ANY_PLATFORM, label=label, point=point)

    def __str__(self) -> str:
        return self.label

    @property
    def markers(self) -> dict[str, str]:
        major, minor, micro = self.python_version
        found = {
            "implementation_name": "cpython",
            "implementation_version": f"{major}.{minor}.{micro}",
            "os_name": "",
            "platform_machine": "",
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_system": "",
            "platform_version": "",
            "python_full_version": f"{major}.{minor}.{micro}",
            "python_version": f"{major}.{minor}",
            "sys_platform": "",
        }
        found.update(self.point)
        return found

    def tag_rank(self, filename_tags: str) -> int | None:
        try:
            parse_tag(filename_tags)
        except ValueError:
            return None
        return 0


def parse_markers(values: Sequence[str], option: str) -> tuple[Expr, ...]:
    """``--environment`` / ``--required-environment`` values, each a PEP 508 marker."""
    found = []
    for value in values:
        try:
            found.append(parse(Marker(value)))
        except InvalidMarker as exc:
            raise InputError(f"{option} {value!r}: not a valid marker ({exc})") from exc
    return tuple(found)


def environment_marker(
    requires_python: Sequence[str],
    python_version: tuple[int, int, int] | None,
    environments: Sequence[Expr],
) -> Expr:
    """The marker of every environment the lock serves."""
    marker = TRUE
    for text in requires_python:
        try:
            spec = SpecifierSet(text)
        except InvalidSpecifier:
            continue  # checked when the project was read
        for one in spec:
            marker &= parse_text(f"python_full_version {one.operator} '{one.version}'")
    if python_version is not None:
        marker &= python_range(python_version)
    elif not requires_python:
        marker &= python_range((sys.version_info.major, sys.version_info.minor, 0))
    if marker.python().lowest() is None:  # requires-python with no lower bound
        marker &= python_range((3, 0, 0))
    if environments:
        union = FALSE
        for environment in environments:
            union |= environment
        marker &= union
    if marker.is_empty():
        raise InputError(
            "the environments given do not meet the project's Python range",
            hint="check --environment against requires-python and --python-version",
        )
    return marker


def universal_of(
    universal: bool,
    environments: Sequence[str],
    required: Sequence[str],
    *,
    python_platform: str | None,
    python_version: tuple[int, int, int] | None,
    requires_python: Sequence[str],
) -> Universal | None:
    """``--universal`` and its environments, or None; the environment flags without it, or
    it with a platform target, are a usage error."""
    if not universal:
        if environments or required:
            raise InputError("--environment and --required-environment need --universal")
        return None
    if python_platform:
        raise InputError(
            "--python-platform and --universal cannot be combined",
            hint="restrict a universal lock's platforms with --environment MARKER",
        )
    environment = environment_marker(
        requires_python, python_version, parse_markers(environments, "--environment")
    )
    given = parse_markers(environments, "--environment")
    return Universal(environment, parse_markers(required, "--required-environment"), given)


def _release(release: tuple[int, int, int]) -> str:
    """``(3, 10, 0)`` -> ``3.10``; ``(3, 10, 2)`` -> ``3.10.2``."""
    return ".".join(map(str, release[:2] if release[2] == 0 else release))
