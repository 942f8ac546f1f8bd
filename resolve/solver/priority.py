"""Which undecided package the solver decides next: uv's order, with its conflict statistics.

A package's priority is its *class*, then the order in which its name was discovered (as a
dependency of something decided), then the order of the (virtual) package itself, so a
package and its extras ``a[x]`` share one place in line and are decided together. Classes,
first decided first:

1. the root;
2. packages some requirement pins to one version (``==V``, ``===V``): nothing to choose;
3. packages promoted after being *affected* by conflicts (their chosen versions were often
   rejected) :data:`CONFLICT_THRESHOLD` times: deciding them earlier finds the conflict
   sooner (uv's "conflict early");
4. packages demoted after being the *culprit* of as many conflicts (their chosen version
   rejected others): decided after those (uv's "conflict late"), the solver backs out of the
   culprit's decision so that the rejected package chooses first;
5. everything else, in discovery order.

A class changes at most once into each conflict class, so the backtracks it causes are
finite; ``==`` never demotes a package from a conflict class (uv keeps those, to avoid
see-sawing). All of it is a deterministic function of the solver's own steps.
"""

from __future__ import annotations

from collections.abc import Iterable
from heapq import heappop, heappush

from resolve.solver.names import base_name

__all__ = ["CONFLICT_THRESHOLD", "DecisionQueue", "Priorities"]

ROOT, SINGLETON, CONFLICT_EARLY, CONFLICT_LATE, UNSPECIFIED = range(5)
#: Conflicts before a package is promoted or demoted (uv uses the same number).
CONFLICT_THRESHOLD = 5

Key = tuple[int, int, int]


class Priorities:
    """The priority of every package the solver has seen, and the conflict counts."""

    __slots__ = (
        "_affected",
        "_bases",
        "_class",
        "_culprit",
        "_demoted",
        "_keys",
        "_members",
        "_order",
        "_own",
        "_promoted",
        "_root",
    )

    def __init__(self, root: str) -> None:
        self._root = root
        self._class: dict[str, int] = {root: ROOT}  # by base name
        self._order: dict[str, int] = {root: 0}  # base name -> discovery index
        self._own: dict[str, int] = {root: 0}  # package -> discovery index
        self._members: dict[str, list[str]] = {root: [root]}  # base name -> its packages
        self._affected: dict[str, int] = {}
        self._culprit: dict[str, int] = {}
        self._promoted: list[str] = []
        self._demoted: list[str] = []
        # Asked for on every push and pop of the queue: kept, and dropped for a name's
        # packages when its class changes.
        self._keys: dict[str, Key] = {}
        self._bases: dict[str, str] = {}

    def key(self, package: str) -> Key:
        """The heap key: lower is decided first."""
        key = self._keys.get(package)
        if key is None:
            if package not in self._own:
                self.discover(package, pinned=False)
            base = self._base(package)
            key = self._keys[package] = (self._class[base], self._order[base], self._own[package])
        return key

    def _base(self, package: str) -> str:
        base = self._bases.get(package)
        if base is None:
            base = self._bases[package] = base_name(package)
        return base

    def members(self, package: str) -> list[str]:
        """The packages sharing ``package``'s base name (itself and its extras)."""
        return self._members[self._base(package)]

    def _set_class(self, base: str, target: int) -> None:
        self._class[base] = target
        for member in self._members.get(base, ()):
            self._keys.pop(member, None)

    def discover(self, package: str, *, pinned: bool) -> bool:
        """``package`` is required (at one version when ``pinned``); True when its base's
        class improved, so that the packages of that name must be queued again."""
        base = self._base(package)
        if package not in self._own:
            self._own[package] = len(self._own)
            self._members.setdefault(base, []).append(package)
        if base not in self._order:
            self._order[base] = len(self._order)
            self._class[base] = SINGLETON if pinned else UNSPECIFIED
            return False
        if pinned and self._class[base] > SINGLETON:
            self._set_class(base, SINGLETON)
            return True
        return False

    def conflict(self, affected: str, chosen: str, packages: Iterable[str]) -> None:
        """A conflict on ``affected`` was learned as an incompatibility over ``packages``
        while ``chosen`` was the package last chosen: the other packages (of another name)
        are its culprits, and ``chosen`` was affected."""
        affected_base = self._base(affected)
        real = False
        for package in packages:
            if package == self._root or self._base(package) == affected_base:
                continue  # an extra copying its base's obligations is no conflict
            real = True
            count = self._culprit[package] = self._culprit.get(package, 0) + 1
            if count == CONFLICT_THRESHOLD:
                self._demoted.append(package)
        if real and chosen != self._root:
            count = self._affected[chosen] = self._affected.get(chosen, 0) + 1
            if count == CONFLICT_THRESHOLD:
                self._promoted.append(chosen)

    def moved(self) -> bool:
        """Whether a conflict since the last calls asks for promotions or demotions."""
        return bool(self._promoted or self._demoted)

    def promotions(self) -> list[str]:
        """Packages moved into "conflict early" since the last call."""
        changed = [p for p in self._promoted if self._move(p, CONFLICT_EARLY, (CONFLICT_EARLY,))]
        self._promoted.clear()
        return changed

    def demotions(self) -> list[str]:
        """Packages moved into "conflict late" since the last call: the solver backs out of
        their decisions."""
        keep = (CONFLICT_EARLY, CONFLICT_LATE)
        changed = [p for p in self._demoted if self._move(p, CONFLICT_LATE, keep)]
        self._demoted.clear()
        return changed

    def _move(self, package: str, target: int, keep: tuple[int, ...]) -> bool:
        base = self._base(package)
        if self._class[base] in keep:
            return False
        self._set_class(base, target)
        return True


class DecisionQueue:
    """The undecided packages in priority order, over the engine's partial solution (its
    ``acc``, absent bits and decisions, shared, not copied).

    The heap is lazy: entries go stale when a package is decided, stops being required, or
    its priority changes (which pushes it again), and stale ones are dropped when met.
    ``_queued`` maps a package to the key of its entry still in the heap, if any: pushing
    the same entry again would only add a copy to pop later.
    """

    __slots__ = ("_absent", "_acc", "_decided", "_heap", "_queued", "priorities")

    def __init__(
        self,
        priorities: Priorities,
        acc: dict[str, int],
        absent: dict[str, int],
        decided: dict[str, int],
    ) -> None:
        self.priorities = priorities
        self._acc, self._absent, self._decided = acc, absent, decided
        self._heap: list[tuple[Key, str]] = []
        self._queued: dict[str, Key] = {}

    def push(self, package: str) -> None:
        key = self.priorities.key(package)
        if self._queued.get(package) != key:
            self._queued[package] = key
            heappush(self._heap, (key, package))

    def requeue(self, package: str) -> None:
        """Queue ``package``'s name (it and its extras) again after its priority changed."""
        acc, absent, decided = self._acc, self._absent, self._decided
        for member in self.priorities.members(package):
            if member in acc and member not in decided and not acc[member] & absent[member]:
                self.push(member)

    def next(self) -> str | None:
        """The undecided package, required by the partial solution, to decide next."""
        heap, acc, absent, decided = self._heap, self._acc, self._absent, self._decided
        key, queued = self.priorities.key, self._queued
        while heap:
            priority, package = heap[0]
            if package in decided or acc[package] & absent[package] or key(package) != priority:
                heappop(heap)
                if queued.get(package) == priority:
                    del queued[package]
                continue
            return package
        return None
