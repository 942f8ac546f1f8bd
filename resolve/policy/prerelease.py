"""Pre-release policy (SEMANTICS §3), decided per requirement before solving.

Each requirement's set of versions is narrowed by the policy when the requirement is read
(:func:`requirement_set`), from its own specifier and the package's candidates for the target,
never from the set left after conflicts: backtracking never opens pre-releases, and the
solver only ever chooses among versions every requirement on a package allows.

Modes:

- ``if-necessary`` (default; uv's ``if-necessary-or-explicit`` is the same mode): a
  requirement admits its pre-releases when it names one, when the user's own requirements
  name one of the package (``named``), or when it matches no usable stable candidate.
- ``allow``: pre-releases compete with stable releases.
- ``disallow``: never a pre-release.
- ``explicit``: pre-releases only for packages whose root requirement names one (``!=``
  does not count); there they compete as under ``allow``.
- ``pep440``: pip's behaviour: every specifier on a package counts as one merged set, which
  admits pre-releases when any of them names one, or when it matches no final release. pip
  decides that when it picks a version, from the requirements it has seen; so does this
  mode (:func:`choose_version` with ``named``), and only this mode.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import islice

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from resolve.solver.provider import Narrowed
from resolve.solver.versionset import Universe, VersionSet

__all__ = [
    "MODE_NAMES",
    "PrereleaseMode",
    "PrereleasePolicy",
    "choose_version",
    "excluded_note",
    "names_prerelease",
    "requirement_mask",
    "requirement_set",
]

#: uv's name for ``if-necessary``, accepted wherever a mode is (flags, rules, uv config).
UV_IF_NECESSARY = "if-necessary-or-explicit"


class PrereleaseMode(StrEnum):
    IF_NECESSARY = "if-necessary"
    ALLOW = "allow"
    DISALLOW = "disallow"
    EXPLICIT = "explicit"
    PEP440 = "pep440"

    @classmethod
    def _missing_(cls, value: object) -> PrereleaseMode | None:
        return cls.IF_NECESSARY if value == UV_IF_NECESSARY else None


#: Every spelling a mode may be given in, for choices and messages.
MODE_NAMES = (*(m.value for m in PrereleaseMode), UV_IF_NECESSARY)


def names_prerelease(spec: SpecifierSet | str) -> bool:
    """Whether a specifier mentions a pre-release, ignoring ``!=`` and wildcards
    (SEMANTICS §2); ``===1.0a1`` names one when its text is a pre-release version."""
    specs = SpecifierSet(spec) if isinstance(spec, str) else spec
    for one in specs:
        if one.operator == "!=" or one.version.endswith(".*"):
            continue
        try:
            if Version(one.version).is_prerelease:
                return True
        except InvalidVersion:  # "===" compares text: "===foo" names no version at all
            continue
    return False


@dataclass(frozen=True, slots=True)
class PrereleasePolicy:
    """The global mode, per-package overrides, and the packages that opted in explicitly.

    ``explicit`` holds the packages whose root requirement names a pre-release; a provider
    fills it from the root requirements with :func:`names_prerelease`.
    """

    default: PrereleaseMode = PrereleaseMode.IF_NECESSARY
    overrides: Mapping[str, PrereleaseMode] = field(default_factory=dict)
    explicit: frozenset[str] = frozenset()

    def mode(self, package: str) -> PrereleaseMode:
        return self.overrides.get(package, self.default)

    def effective(self, package: str) -> PrereleaseMode:
        """The mode with ``explicit`` resolved to ``allow`` or ``disallow`` for ``package``."""
        mode = self.mode(package)
        if mode is PrereleaseMode.EXPLICIT:
            return PrereleaseMode.ALLOW if package in self.explicit else PrereleaseMode.DISALLOW
        return mode


def requirement_mask(
    mode: PrereleaseMode,
    universe: Universe,
    spec: SpecifierSet | str,
    *,
    named: bool = False,
    has_stable: Callable[[int], bool] = bool,
) -> int:
    """The versions a requirement admits under ``mode``: what ``spec`` matches, less the
    pre-releases the policy keeps out.

    ``named`` says that the user's requirements name a pre-release of the package (under
    ``explicit``: a root requirement does). ``has_stable(mask)`` says whether ``mask`` holds a
    stable candidate usable on the target; ``if-necessary`` admits pre-releases only when the
    requirement matches none. ``pep440`` narrows nothing here: its merged set is decided when
    a version is chosen.
    """
    mask = universe.mask(spec)
    pre = mask & universe.prereleases
    if not pre or mode is PrereleaseMode.ALLOW:
        return mask
    finals = mask & ~pre
    if mode is PrereleaseMode.DISALLOW:
        return finals
    if mode is PrereleaseMode.EXPLICIT:
        return mask if named else finals
    if mode is PrereleaseMode.PEP440 or named or names_prerelease(spec):
        return mask
    return finals if has_stable(finals) else mask


def requirement_set(
    mode: PrereleaseMode,
    universe: Universe,
    spec: str,
    *,
    named: bool = False,
    has_stable: Callable[[int], bool] = bool,
) -> str | Narrowed:
    """The solver requirement for ``spec``: its text when the policy keeps every version it
    matches (the solver's cached path), else the narrowed set with the text and a note that
    says which versions the policy kept out, for the report."""
    kept = requirement_mask(mode, universe, spec, named=named, has_stable=has_stable)
    matched = universe.mask(spec)
    if kept == matched:
        return spec
    note = excluded_note(mode, VersionSet(universe, matched & ~kept))
    return Narrowed(VersionSet(universe, kept), spec, note)


def excluded_note(mode: PrereleaseMode, excluded: VersionSet, listed: int = 3) -> str:
    """The report's note: "2.0b1 is a pre-release, not allowed by policy `if-necessary`"."""
    # Written for every narrowed requirement, read only by a failure's report: a project may
    # have hundreds of pre-releases, so only the newest few are formatted.
    count = excluded.mask.bit_count()
    newest = list(islice(excluded.descending(), listed))
    shown = ", ".join(str(v) for v in reversed(newest))
    if count > listed:  # the newest ones, as the hints list them
        shown += f" and {count - listed} older"
    what = "is a pre-release" if count == 1 else "are pre-releases"
    return f"{shown} {what}, not allowed by policy `{mode}`"


def choose_version(
    mode: PrereleaseMode,
    allowed: VersionSet,
    *,
    lowest: bool = False,
    preferred: Version | None = None,
    named: bool = False,
) -> Version | None:
    """Pick from ``allowed``: ``preferred`` (from an existing lock) when it is allowed, else
    the highest (or lowest) version, stable first under ``if-necessary`` (SEMANTICS D4, D5).

    Every requirement's set was narrowed by the policy already (:func:`requirement_set`), so
    a pre-release in ``allowed`` is one every requirement on the package admits; except under
    ``pep440``, where a pre-release is chosen only when a requirement seen on the package
    names one (``named``) or no final release is left, as pip does.
    """
    if preferred is not None and preferred in allowed:
        return preferred
    mask = allowed.mask
    if not mask:
        return None
    stable_first = mode is PrereleaseMode.IF_NECESSARY or (
        mode is PrereleaseMode.PEP440 and not named
    )
    if stable_first and mask & allowed.universe.prereleases:
        # Scan from the preferred end: the first stable one is usually the first looked at.
        for version in allowed if lowest else allowed.descending():
            if not version.is_prerelease:
                return version
    i = (mask & -mask).bit_length() - 1 if lowest else mask.bit_length() - 1
    return allowed.universe.versions[i]
