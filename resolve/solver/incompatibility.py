"""Failure as a data structure: incompatibilities, their causes, and ``NoSolution``.

An incompatibility is a set of terms that cannot all hold at once. External ones come from
the problem (the root must be selected, a dependency, no matching versions, an unavailable
version); derived ones come from conflict resolution and point at the two incompatibilities
they were derived from, so the root failure is a derivation tree (a DAG: sub-derivations are
shared). Rendering that tree as text is :mod:`resolve.report.derivation`'s job, not this module's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from resolve.solver.provider import Unavailable
from resolve.solver.versionset import VersionSet

__all__ = [
    "Cause",
    "Dependency",
    "Derived",
    "Incompatibility",
    "NoSolution",
    "NoVersions",
    "Root",
    "Term",
    "Unavailable",
]


@dataclass(frozen=True, slots=True)
class Term:
    """``package`` is selected at a version in ``versions`` (positive), or it is not."""

    package: str
    versions: VersionSet
    positive: bool


@dataclass(frozen=True, slots=True)
class Root:
    """The root package must be selected."""


@dataclass(frozen=True, slots=True)
class NoVersions:
    """No candidate in the term's set could be chosen (none exist, or policy admits none)."""


@dataclass(frozen=True, slots=True)
class Dependency:
    """``package`` (at the versions of the first term) depends on ``dependency``.

    ``requirement`` is the specifier text as the provider gave it (``None`` for a set the
    provider computed itself, or one pinned candidate); reports prefer it, where it means the
    set, to a text derived from the bitmask.
    ``note`` says which matching versions policy kept out of the set, if any.
    When it matches no candidate the incompatibility has only the depender's term.
    """

    package: str
    dependency: str
    requirement: str | None
    note: str | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Derived:
    """Derived by resolution from ``conflict`` and ``other`` (PubGrub's "conflict cause")."""

    conflict: Incompatibility
    other: Incompatibility


Cause: TypeAlias = Root | NoVersions | Unavailable | Dependency | Derived


@dataclass(frozen=True, slots=True, eq=False)
class Incompatibility:
    """Terms that cannot all be true. Compared by identity: the tree shares nodes."""

    terms: tuple[Term, ...]
    cause: Cause

    def term(self, package: str) -> Term | None:
        for term in self.terms:
            if term.package == package:
                return term
        return None

    @property
    def derived(self) -> bool:
        return isinstance(self.cause, Derived)


class NoSolution(Exception):
    """No set of versions satisfies the root's requirements.

    ``incompatibility`` is the root of the derivation tree: it says the root package
    cannot be selected. :func:`resolve.report.derivation.render` writes it as sentences.
    """

    def __init__(self, root: str, incompatibility: Incompatibility) -> None:
        super().__init__(root, incompatibility)
        self.root = root
        self.incompatibility = incompatibility

    def __str__(self) -> str:
        # Data, not a report: resolve.report.derivation.render writes the sentences.
        return f"no solution: {self.root} cannot be selected"
