"""One requirement as the solver holds it: a mask over the package's candidates.

A provider may state a requirement as specifier text, a ``SpecifierSet``, one exact
``Version``, a ``VersionSet`` it built, or a set its pre-release policy ``Narrowed``; the
solver only ever needs the mask, the text a report quotes, the policy's note, and whether the
requirement pins one version (which decides the package early: see
:mod:`resolve.solver.priority`).
"""

from __future__ import annotations

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from resolve.solver.provider import Narrowed, Requirement
from resolve.solver.versionset import Universe, VersionSet

__all__ = ["pins_one_version", "requirement_mask"]


def requirement_mask(
    package: str, universe: Universe, requirement: Requirement
) -> tuple[int, str | None, str | None]:
    """(mask, requirement text, policy note) of ``requirement`` on ``package``."""
    if isinstance(requirement, str):
        return universe.mask(requirement), requirement, None
    if isinstance(requirement, SpecifierSet):
        text = str(requirement)
        return universe.mask(text), text, None
    if isinstance(requirement, Version):
        # No text: "==V" also matches V's local builds (PEP 440, "Version matching").
        return universe.pin(requirement), None, None
    if isinstance(requirement, Narrowed):
        return _own_set(package, universe, requirement.versions), requirement.text, requirement.note
    if isinstance(requirement, VersionSet):
        return _own_set(package, universe, requirement), None, None
    raise TypeError(f"{package}: unsupported requirement {requirement!r}")


def _own_set(package: str, universe: Universe, versions: VersionSet) -> int:
    """The mask of a set the provider built, checked to be over the same candidates."""
    other = versions.universe
    if other is not universe and other.versions != universe.versions:
        raise ValueError(f"{package}: version set over a different candidate list")
    return versions.mask


def pins_one_version(requirement: Requirement) -> bool:
    """Whether ``requirement`` is one exact version: ``==V`` or ``===V`` (no wildcard)."""
    if isinstance(requirement, Version):
        return True
    if isinstance(requirement, Narrowed):
        text = requirement.text
    elif isinstance(requirement, (str, SpecifierSet)):
        text = str(requirement)
    else:
        return False
    text = text.strip()
    return text.startswith("==") and "," not in text and not text.endswith("*")
