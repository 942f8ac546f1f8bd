"""Package names as the solver sees them: the root, and extras as virtual packages.

``a[x]`` stands for "``a`` with its extra ``x``": it depends on ``a`` at exactly its own
version plus the extra's requirements (PEP 508 extras; pubgrub-rs and uv model them so).
"""

from __future__ import annotations

from collections.abc import MutableMapping

from packaging.version import Version

from resolve.solver.provider import Narrowed, Requirement
from resolve.solver.versionset import Universe, VersionSet

__all__ = ["ROOT", "base_name", "pin_base", "split_extra", "virtual"]

#: The solver's root package: the user's requirements. Not a valid project name, so it can
#: never clash with one.
ROOT = "<root>"


def split_extra(package: str) -> tuple[str, str | None]:
    """``"a[x]"`` -> ``("a", "x")``; ``"a"`` -> ``("a", None)``."""
    if package.endswith("]") and "[" in package:
        base, _, extra = package[:-1].partition("[")
        return base, extra
    return package, None


def base_name(package: str) -> str:
    return split_extra(package)[0]


def virtual(name: str, extra: str) -> str:
    return f"{name}[{extra}]"


def pin_base(
    found: MutableMapping[str, Requirement],
    universe: Universe,
    base: str,
    version: Version,
) -> None:
    """Make ``a[x]``'s requirements (``found``) pin ``a`` to the same version, local label
    included. The extra's own requirement on ``a``, if any, is intersected with the pin:
    the solver takes one requirement per package."""
    own = found.get(base)
    if own is None:
        found[base] = version
        return
    if isinstance(own, Narrowed):
        own = own.versions
    mask = own.mask if isinstance(own, VersionSet) else universe.mask(str(own))
    found[base] = VersionSet(universe, mask & universe.pin(version))
