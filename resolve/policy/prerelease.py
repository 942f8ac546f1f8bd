"""Pre-release policy (SEMANTICS §3) and version choice, shared by every provider.

Version sets say which candidates a requirement *matches*; these functions decide which of
the currently allowed candidates may be *picked*, and in which order. They are pure, so the
in-memory provider used by the tests and the snapshot provider apply the same rules.

Modes:

- ``if-necessary`` (default): per package, the best stable candidate in the allowed set;
  a pre-release only when the allowed set holds no stable one.
- ``allow``: pre-releases compete with stable releases.
- ``disallow``: never a pre-release.
- ``explicit``: pre-releases only for packages whose root requirement names one (``!=``
  does not count); there they compete as under ``allow``.
- ``pep440``: pip's behaviour: each specifier admits pre-releases when it names one, or when
  no final release matches it. That is a property of each requirement, so it is applied when
  the requirement is turned into a set (:func:`requirement_mask`), not at decision time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from resolve.solver.versionset import Universe, VersionSet

__all__ = [
    "PrereleaseMode",
    "PrereleasePolicy",
    "choose_version",
    "names_prerelease",
    "requirement_mask",
]


class PrereleaseMode(StrEnum):
    IF_NECESSARY = "if-necessary"
    ALLOW = "allow"
    DISALLOW = "disallow"
    EXPLICIT = "explicit"
    PEP440 = "pep440"


def names_prerelease(spec: SpecifierSet | str) -> bool:
    """Whether a specifier mentions a pre-release, ignoring ``!=`` (SEMANTICS §2)."""
    specs = SpecifierSet(spec) if isinstance(spec, str) else spec
    for one in specs:
        if one.operator == "!=" or one.version.endswith(".*"):
            continue
        if one.operator == "===":
            continue
        if Version(one.version).is_prerelease:
            return True
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


def requirement_mask(mode: PrereleaseMode, universe: Universe, spec: SpecifierSet | str) -> int:
    """The set a requirement contributes to the solver under ``mode``.

    Only ``pep440`` differs from plain matching: it drops pre-releases unless the specifier
    names one or no final release matches (``SpecifierSet.filter`` with no explicit flag).
    """
    mask = universe.mask(spec)
    if mode is not PrereleaseMode.PEP440 or not mask & universe.prereleases:
        return mask
    if names_prerelease(spec):
        return mask
    finals = mask & ~universe.prereleases
    return finals if finals else mask


def _pick(mask: int, universe: Universe, lowest: bool) -> Version | None:
    if not mask:
        return None
    i = (mask & -mask).bit_length() - 1 if lowest else mask.bit_length() - 1
    return universe.versions[i]


def choose_version(
    mode: PrereleaseMode,
    allowed: VersionSet,
    *,
    lowest: bool = False,
    preferred: Version | None = None,
) -> Version | None:
    """Pick from ``allowed`` under ``mode`` (already resolved with ``effective``).

    ``preferred`` (from an existing lock) wins whenever it is allowed and the mode admits
    pre-releases at all. Returns None when the mode admits nothing in ``allowed``; the
    solver records that as "no versions of P match S", and the caller's hints explain why.
    """
    universe = allowed.universe
    mask = allowed.mask
    competes = mode is PrereleaseMode.ALLOW or mode is PrereleaseMode.PEP440
    if (
        preferred is not None
        and preferred in allowed
        and (not preferred.is_prerelease or competes or mode is PrereleaseMode.IF_NECESSARY)
    ):
        return preferred
    if competes:
        # pep440 sets were filtered when the requirements were read (requirement_mask).
        return _pick(mask, universe, lowest)
    # Scan from the preferred end: the first stable candidate is usually the first one
    # looked at, so no per-universe pre-release mask is needed.
    for version in allowed if lowest else allowed.descending():
        if not version.is_prerelease:
            return version
    if mode is PrereleaseMode.IF_NECESSARY:
        return _pick(mask, universe, lowest)
    return None
