"""The narrow interface between the solver and the world (resolvelib's habit).

The solver treats package names as opaque strings. Everything the ecosystem adds on top —
canonical names, extras as virtual packages ``name[extra]``, markers, constraints,
overrides, indexes, yanks, pre-release and resolution policy — is the provider's job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeAlias

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from resolve.solver.versionset import VersionSet

__all__ = [
    "Dependencies",
    "Narrowed",
    "Provider",
    "Requirement",
    "Unavailable",
]


@dataclass(frozen=True, slots=True)
class Narrowed:
    """A requirement whose set the provider narrowed by policy: the versions it admits, the
    requirement's own text, and a note on what the policy kept out, for the report ("2.0b1
    is a pre-release, not allowed by policy `if-necessary`")."""

    versions: VersionSet
    text: str
    note: str


#: What a dependency may be constrained to:
#:
#: - ``SpecifierSet`` or its ``str`` form: the candidates it matches (``prereleases=True``
#:   semantics; masks are cached per package and specifier string);
#: - ``Version``: exactly that candidate, local label included (how ``name[extra]`` pins its
#:   base package to its own version);
#: - ``VersionSet``: a set the provider computed itself over the same candidate list, e.g.
#:   with a pre-release filter (see :func:`resolve.policy.prerelease.requirement_mask`);
#: - ``Narrowed``: such a set with the requirement's text and why it is narrower.
Requirement: TypeAlias = SpecifierSet | str | Version | VersionSet | Narrowed

#: Dependencies of one version: package -> requirement. Order does not matter; the solver
#: sorts by package name. One entry per package: the provider intersects repeated
#: requirements (``SpecifierSet & SpecifierSet``, or ``VersionSet``s).
Dependencies: TypeAlias = Mapping[str, Requirement]


@dataclass(frozen=True, slots=True)
class Unavailable:
    """A version that exists but cannot be used, with a reason phrase for the report.

    The report prints it in parentheses: "a==1.0 is unavailable (metadata needs a build)",
    so a short noun phrase reads best ("no wheel for the target platform").
    """

    reason: str


class Provider(Protocol):
    """What the solver asks about packages. Every answer must be deterministic.

    ``versions(package)``
        Every candidate, ascending and unique. Called once per package. Returning a
        :class:`~resolve.solver.versionset.Universe` lets ``VersionSet`` requirements built by the
        provider share the solver's specifier cache.
    ``dependencies(package, version)``
        The requirements of one candidate, or ``Unavailable``. Called at most once per
        candidate, for the root too (with the root version passed to ``solve``).
    ``choose(package, allowed)``
        The decision heuristic: pick one version from ``allowed`` (never empty), or None if
        policy admits none of them. Resolution mode (highest/lowest), lock preferences and
        pre-release policy live here. ``allowed`` iterates lazily, ``descending()`` too.
    """

    def versions(self, package: str) -> Sequence[Version]: ...

    def dependencies(self, package: str, version: Version) -> Dependencies | Unavailable: ...

    def choose(self, package: str, allowed: VersionSet) -> Version | None: ...
