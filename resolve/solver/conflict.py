"""PubGrub's conflict resolution: from a satisfied incompatibility, learn one and backjump.

Split from :mod:`resolve.solver.engine`, which inherits it: the methods read the engine's
partial solution (each package's assignment history and the trail's levels) and call its
``_backtrack``.
"""

from __future__ import annotations

from resolve.solver.incompatibility import NoSolution
from resolve.solver.reporter import Reporter
from resolve.solver.store import Store, TermMasks
from resolve.solver.versionset import Universe

__all__ = ["Assignment", "ConflictResolution"]

# One entry of a package's assignment history:
# (position in the trail, decision level, term, accumulated intersection, cause id or -1).
Assignment = tuple[int, int, int, int, int]


class ConflictResolution:
    """The conflict-resolution half of the engine (pub's ``_resolveConflict``)."""

    store: Store
    universes: dict[str, Universe]
    backtracks: int
    _reporter: Reporter
    _root: str
    _full: dict[str, int]
    _absent: dict[str, int]
    _history: dict[str, list[Assignment]]
    _trail_level: list[int]

    def _backtrack(self, level: int) -> None:
        raise NotImplementedError

    def _terminal(self, terms: TermMasks) -> bool:
        if not terms:
            return True
        if len(terms) == 1:
            name, term = terms[0]
            return name == self._root and bool(term & 1)
        return False

    def _satisfied_at(self, name: str, term: int) -> tuple[int, int]:
        """(trail position, history index) of the earliest assignment satisfying ``term``."""
        if self._full[name] & term == self._full[name]:
            return -1, -1  # "any": satisfied before anything was assigned
        for k, assignment in enumerate(self._history[name]):
            if assignment[3] & term == assignment[3]:
                return assignment[0], k
        raise AssertionError(f"conflict term on {name} is not satisfied")

    def _resolve_conflict(self, conflict: int) -> tuple[int, str]:
        """Learn from a satisfied incompatibility and backtrack (pub's conflict resolution).

        Returns the learned incompatibility and the package whose term it will derive.
        """
        store = self.store
        current = conflict
        while True:
            terms = store.terms[current]
            if self._terminal(terms):
                raise NoSolution(self._root, store.public(current, self.universes))
            # The satisfier: the assignment after which the partial solution first
            # satisfies every term.
            found = [(*self._satisfied_at(name, term), name, term) for name, term in terms]
            _, k, name, term = max(found)
            previous = max((f[0] for f in found if f[2] != name), default=-1)
            history = self._history[name]
            _, level, assigned, _, cause = history[k]
            # The previous satisfier: the earliest assignment that, with the satisfier,
            # already satisfies the incompatibility.
            if assigned & term != assigned:
                for at, _, _, before, _ in history[:k]:
                    both = before & assigned
                    if both & term == both:
                        previous = max(previous, at)
                        break
            previous_level = max(self._trail_level[previous] if previous >= 0 else 0, 1)
            if cause < 0 or previous_level != level:
                if current != conflict:
                    store.attach(current)
                self.backtracks += 1
                self._reporter.backtracking(name, previous_level)
                self._backtrack(previous_level)
                return current, name
            current = self._prior_cause(current, cause, name)

    def _prior_cause(self, current: int, cause: int, name: str) -> int:
        """Resolve ``current`` with the satisfier's cause on ``name``.

        From {name: t1, R1} and {name: t2, R2} follows {name: t1 | t2, R1 & R2}.
        """
        merged: dict[str, int] = {}
        union = 0
        for package, term in (*self.store.terms[current], *self.store.terms[cause]):
            if package == name:
                union |= term
            elif package in merged:
                merged[package] &= term
            else:
                merged[package] = term
        if union != self._full[name]:
            merged[name] = union
        root = self._root
        # The root is always selected, so a positive root term adds nothing but noise to
        # reports; pub drops it too.
        if len(merged) > 1 and root in merged and not merged[root] & self._absent[root]:
            del merged[root]
        return self.store.add(tuple(merged.items()), (current, cause), attach=False)
