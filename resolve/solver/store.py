"""The incompatibility store: terms as raw masks, indexed by package, with merging.

Inside the solver a term is one ``int`` over its package's candidates plus one extra bit,
the *absent* bit (bit ``n`` for ``n`` candidates), meaning "the package is not selected".
A positive term "P in S" is ``S``; the negative term "not (P in S)" is its complement, which
includes the absent bit. Intersection, union and negation of terms are then ``&``, ``|`` and
``^ full``, and "assignment A satisfies term T" is ``A & T == A``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from typing import TypeAlias

from resolve.solver.incompatibility import (
    Dependency,
    Derived,
    Incompatibility,
    NoVersions,
    Root,
    Term,
)
from resolve.solver.provider import Unavailable
from resolve.solver.versionset import Universe, VersionSet

__all__ = ["InternalCause", "Store", "TermMasks"]

#: Internal causes: external ones as in the public tree; derived as two store ids.
InternalCause: TypeAlias = Root | NoVersions | Unavailable | Dependency | tuple[int, int]
TermMasks: TypeAlias = tuple[tuple[str, int], ...]


class Store:
    """Every incompatibility ever created, by id; ``index`` lists the live ones per package."""

    __slots__ = ("_deps", "_unavailable", "causes", "index", "replaced", "terms")

    def __init__(self) -> None:
        self.terms: list[TermMasks] = []
        self.causes: list[InternalCause] = []
        # package -> (id, that package's term) for each live incompatibility naming it, in id
        # order (ids only grow, and entries put back after a backtrack go back in place), so
        # one entry is found by bisection. Carrying the term lets propagation reject most
        # entries with one ``&``.
        self.index: dict[str, list[tuple[int, int]]] = {}
        # Ids replaced by a merged incompatibility: never put back into ``index``.
        self.replaced: set[int] = set()
        # Merge keys -> live id. Merging "a==1 depends on b>=2" and "a==2 depends on b>=2"
        # into "a in {1, 2} depends on b>=2" (pubgrub-rs does the same) lets one conflict rule
        # out many versions at once and reads better in reports.
        self._deps: dict[tuple[str, str, int, str | None, str | None], int] = {}
        self._unavailable: dict[tuple[str, Unavailable], int] = {}

    def add(self, terms: TermMasks, cause: InternalCause, *, attach: bool = True) -> int:
        iid = len(self.terms)
        self.terms.append(terms)
        self.causes.append(cause)
        if attach:
            self.attach(iid)
        return iid

    def attach(self, iid: int) -> None:
        index = self.index
        for package, term in self.terms[iid]:
            index[package].append((iid, term))

    def _replace(self, old: int, terms: TermMasks, cause: InternalCause) -> int:
        self.replaced.add(old)
        for package, _ in self.terms[old]:
            entries = self.index[package]
            at = bisect_left(entries, (old,))
            if at < len(entries) and entries[at][0] == old:  # propagation may have retired it
                del entries[at]
        return self.add(terms, cause)

    def dependency(
        self,
        package: str,
        bit: int,
        dependency: str,
        allowed: int,
        negated: int,
        text: str | None,
        note: str | None = None,
    ) -> int:
        """``package`` at the version ``bit`` depends on ``dependency`` in ``allowed``."""
        key = (package, dependency, allowed, text, note)
        old = self._deps.get(key)
        if old is None:
            cause = Dependency(package, dependency, text, note)
            # A requirement no candidate matches makes its term "any": drop it (pubgrub-rs).
            terms: TermMasks = (
                ((package, bit), (dependency, negated)) if allowed else ((package, bit),)
            )
            iid = self.add(terms, cause)
        else:
            first, *rest = self.terms[old]
            if first[1] & bit:
                return old  # the same candidate again, after a backtrack
            iid = self._replace(old, ((package, first[1] | bit), *rest), self.causes[old])
        self._deps[key] = iid
        return iid

    def unavailable(self, package: str, bit: int, cause: Unavailable) -> int:
        key = (package, cause)
        old = self._unavailable.get(key)
        if old is None:
            iid = self.add(((package, bit),), cause)
        elif self.terms[old][0][1] & bit:
            return old
        else:
            iid = self._replace(old, ((package, self.terms[old][0][1] | bit),), cause)
        self._unavailable[key] = iid
        return iid

    def public(self, top: int, universes: Mapping[str, Universe]) -> Incompatibility:
        """The derivation tree under ``top`` as public values, shared nodes kept shared."""
        done: dict[int, Incompatibility] = {}
        stack = [top]
        # Iterative post-order: derivation chains can be deeper than Python's recursion limit.
        while stack:
            iid = stack[-1]
            if iid in done:
                stack.pop()
                continue
            cause = self.causes[iid]
            if isinstance(cause, tuple):
                pending = [c for c in cause if c not in done]
                if pending:
                    stack.extend(pending)
                    continue
                public_cause: Root | NoVersions | Unavailable | Dependency | Derived = Derived(
                    done[cause[0]], done[cause[1]]
                )
            else:
                public_cause = cause
            terms = tuple(_term(p, t, universes[p]) for p, t in self.terms[iid])
            done[iid] = Incompatibility(terms, public_cause)
            stack.pop()
        return done[top]


def _term(package: str, mask: int, universe: Universe) -> Term:
    absent = 1 << len(universe)
    if mask & absent:
        return Term(package, VersionSet(universe, ~mask & universe.full), False)
    return Term(package, VersionSet(universe, mask), True)
