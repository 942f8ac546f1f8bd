"""PubGrub over bitmask version sets: partial solution, unit propagation, decisions.

Conflict resolution is inherited from :mod:`resolve.solver.conflict`.

The algorithm is Natalie Weizenbaum's, as in Dart's pub, pubgrub-rs and uv; the comments
name the step each method implements. Terms are raw ints (see :mod:`resolve.solver.store`)
and the hot loops touch only dicts, lists and ints.
"""

from __future__ import annotations

from bisect import bisect_right, insort

from packaging.version import Version

from resolve.solver.conflict import Assignment, ConflictResolution
from resolve.solver.incompatibility import NoVersions, Root
from resolve.solver.names import split_extra
from resolve.solver.priority import DecisionQueue, Priorities
from resolve.solver.provider import Provider, Requirement, Unavailable
from resolve.solver.reporter import BaseReporter, Reporter
from resolve.solver.requirement_masks import pins_one_version, requirement_mask
from resolve.solver.store import Store
from resolve.solver.versionset import Universe, VersionSet

__all__ = ["Engine"]

# A dependency of one candidate: (package, allowed mask, requirement text, policy note,
# the negated term: the package's full mask without the allowed bits).
_Dep = tuple[str, int, str | None, str | None, int]


class Engine(ConflictResolution):
    """One resolution. ``run()`` returns the decisions or raises ``NoSolution``."""

    def __init__(
        self, provider: Provider, root: str, version: Version, reporter: Reporter | None = None
    ) -> None:
        self._provider = provider
        self._reporter: Reporter = BaseReporter() if reporter is None else reporter
        self.decisions = 0
        self.backtracks = 0
        self._root = root
        self._chosen = root  # the package last chosen: conflicts count against it
        self.store = Store()
        self.universes: dict[str, Universe] = {}
        self._full: dict[str, int] = {}  # candidate bits | absent bit
        self._absent: dict[str, int] = {}
        # Partial solution. ``acc[p]`` is the intersection of p's assignments (``full`` when
        # none): the only thing unit propagation needs to read.
        self.acc: dict[str, int] = {}
        self._history: dict[str, list[Assignment]] = {}
        self._trail: list[str] = []
        self._trail_level: list[int] = []
        self._level = 0
        self.decided: dict[str, int] = {}
        # Incompatibilities known to be contradicted, skipped by propagation until a
        # backtrack undoes the level they were found at (pubgrub-rs's
        # "contradicted_incompatibilities"); ``_marks[level]`` lists those found there.
        self._contradicted: set[int] = set()
        self._marks: list[list[int]] = [[]]
        # Watch-list entries taken out of ``store.index`` because they were contradicted,
        # per level, put back when that level is undone: propagation never rescans an
        # incompatibility that cannot fire, so walking down N versions costs O(N), not O(N²).
        # Per level: package -> the entries taken out of its list there.
        self._retired: list[dict[str, list[tuple[int, int]]]] = [{}]
        self.dependencies: dict[tuple[str, int], list[_Dep] | Unavailable] = {}
        # After a backjump the same packages are decided again, mostly over the same sets:
        # what was worked out for one candidate the first time is kept. ``_dependency_ids``
        # holds the store ids its dependencies got (an id stays right until the store
        # replaces it by a merged one), ``_choices`` the provider's choice per (package,
        # allowed mask), an index or -1 for none (the provider's answers are deterministic).
        self._dependency_ids: dict[tuple[str, int], list[int]] = {}
        self._choices: dict[tuple[str, int, int, int], int] = {}
        self._bases: dict[str, str] = {}  # package -> its base name if an extra, else ""
        self._priorities = Priorities(root)
        self._queue = DecisionQueue(self._priorities, self.acc, self._absent, self.decided)
        self._register(root, Universe([version]))

    # -- packages ---------------------------------------------------------------------

    def _register(self, package: str, universe: Universe) -> None:
        n = len(universe)
        self.universes[package] = universe
        self._absent[package] = 1 << n
        self._full[package] = self.acc[package] = (1 << (n + 1)) - 1
        self._history[package] = []
        self.store.index[package] = []

    def _universe(self, package: str) -> Universe:
        universe = self.universes.get(package)
        if universe is None:
            found = self._provider.versions(package)
            universe = found if isinstance(found, Universe) else Universe(found)
            self._register(package, universe)
        return universe

    def _requirement(
        self, package: str, requirement: Requirement
    ) -> tuple[int, str | None, str | None]:
        """(mask, requirement text, policy note) of one dependency; the package is discovered
        (queued behind those seen before it, or ahead of them if this pins one version)."""
        if self._priorities.discover(package, pinned=pins_one_version(requirement)):
            self._queue.requeue(package)
        return requirement_mask(package, self._universe(package), requirement)

    def _dependencies(self, package: str, index: int) -> list[_Dep] | Unavailable:
        key = (package, index)
        found = self.dependencies.get(key)
        if found is None:
            version = self.universes[package][index]
            raw = self._provider.dependencies(package, version)
            if isinstance(raw, Unavailable):
                found = raw
            else:
                found = []
                for name in sorted(raw):  # sorted: never depend on the provider's dict order
                    allowed, text, note = self._requirement(name, raw[name])
                    if name != package:
                        found.append((name, allowed, text, note, self._full[name] ^ allowed))
                    elif not allowed >> index & 1:
                        found = Unavailable(f"it depends on itself at {text or 'another version'}")
                        break
            self.dependencies[key] = found
        return found

    # -- partial solution -------------------------------------------------------------

    def _assign(self, package: str, term: int, cause: int) -> None:
        acc = self.acc[package] & term
        self.acc[package] = acc
        self._history[package].append((len(self._trail), self._level, term, acc, cause))
        self._trail.append(package)
        self._trail_level.append(self._level)
        if not acc & self._absent[package] and package not in self.decided:
            self._queue.push(package)

    def _decide(self, package: str, index: int) -> None:
        # ``_assign`` of the version's bit, inline: a decided package is never queued.
        self._level = level = self._level + 1
        self._marks.append([])
        self._retired.append({})
        self.decided[package] = index
        bit = 1 << index
        self.acc[package] = acc = self.acc[package] & bit
        self._history[package].append((len(self._trail), level, bit, acc, -1))
        self._trail.append(package)
        self._trail_level.append(level)
        self.decisions += 1
        if package != self._root:
            self._reporter.deciding(package, self.universes[package].versions[index], level)

    def _backtrack(self, level: int) -> None:
        trail, levels, acc, decided = self._trail, self._trail_level, self.acc, self.decided
        # Levels along the trail never decrease: everything past ``cut`` is undone, and each
        # package's history (in trail order too) loses its entries above ``level``.
        cut = bisect_right(levels, level)
        touched = dict.fromkeys(trail[cut:])
        del trail[cut:], levels[cut:]
        history_of, full, absent, push = self._history, self._full, self._absent, self._queue.push
        for package in touched:
            history = history_of[package]
            while history and history[-1][1] > level:
                if history.pop()[4] < 0:
                    del decided[package]
            acc[package] = mask = history[-1][3] if history else full[package]
            if not mask & absent[package] and package not in decided:
                push(package)  # required again, or still, and undecided
        self._level = level
        marks, contradicted = self._marks, self._contradicted
        replaced = self.store.replaced
        back: dict[str, list[tuple[int, int]]] = {}
        while len(marks) > level + 1:
            contradicted.difference_update(marks.pop())
            for package, gone in self._retired.pop().items():
                if package in back:
                    back[package] += gone
                elif gone:
                    back[package] = gone
        index = self.store.index
        for package, gone in back.items():
            entries = [entry for entry in gone if entry[0] not in replaced]
            # Back in id order: a few by bisection, many by one sort (ids are unique, and
            # the list plus the retired runs, each scanned in id order, merge in linear time).
            if len(entries) < 8:
                for entry in entries:
                    insort(index[package], entry)
            else:
                index[package].extend(entries)
                index[package].sort()

    # -- decisions --------------------------------------------------------------------

    def _reprioritize(self) -> None:
        """Apply what the conflicts of the last propagation taught (uv's reprioritisation):
        promoted packages move up the queue; a demoted one that is decided is undecided, so
        that the package it kept rejecting chooses first."""
        for package in self._priorities.promotions():
            self._queue.requeue(package)
        for package in self._priorities.demotions():
            self._queue.requeue(package)
            if package in self.decided:
                level = next(a[1] for a in reversed(self._history[package]) if a[4] < 0)
                self.backtracks += 1
                self._reporter.backtracking(package, level - 1)
                self._backtrack(level - 1)

    def run(self) -> dict[str, int]:
        root, store, priorities = self._root, self.store, self._priorities
        # The root must be selected: the incompatibility {not root}.
        fresh = [store.add(((root, self._absent[root]),), Root())]
        changed = root
        while True:
            self._propagate(changed, fresh)
            if priorities.moved():
                self._reprioritize()
            package = self._queue.next()
            if package is None:
                return self.decided
            changed = self._chosen = package
            allowed = self.acc[package]
            if package == root:
                index = 0
            else:
                found = self._with_base(package, allowed)
                if found is None:
                    found = self._choose(package, allowed)
                    if found < 0:
                        fresh = [store.add(((package, allowed),), NoVersions())]
                        continue
                index = found
            dependencies = self.dependencies.get((package, index))
            if dependencies is None:
                dependencies = self._dependencies(package, index)
            if isinstance(dependencies, Unavailable):
                version = self.universes[package][index]
                self._reporter.rejecting(package, version, dependencies.reason)
                fresh = [store.unavailable(package, 1 << index, dependencies)]
                continue
            fresh = self._add_dependencies(package, index, dependencies)
            if not fresh:
                self._decide(package, index)

    def _choose(self, package: str, allowed: int) -> int:
        """The index the provider chooses among ``allowed``, or -1 if none."""
        # An int hashes modulo 2**61 - 1, so the masks of a walk down a long candidate list
        # (2**k - 1, ...) would share a few hashes: their sizes keep the keys apart.
        key = (package, allowed.bit_length(), allowed.bit_count(), allowed)
        found = self._choices.get(key)
        if found is None:
            universe = self.universes[package]
            chosen = self._provider.choose(package, VersionSet(universe, allowed))
            if chosen is None:
                found = -1
            else:
                position = universe.position(chosen)
                if position is None or not allowed >> position & 1:
                    raise ValueError(f"provider chose {package} {chosen}, not allowed")
                found = position
            self._choices[key] = found
        return found

    def _with_base(self, package: str, allowed: int) -> int | None:
        """An extra ``a[x]`` takes the version its base ``a`` is decided at, if allowed: it
        must be that one, so walking down from the newest would only reject the others."""
        base = self._bases.get(package)
        if base is None:
            name, extra = split_extra(package)
            base = self._bases[package] = "" if extra is None else name
        if not base or base not in self.decided:
            return None
        found = self.universes[package].position(self.universes[base][self.decided[base]])
        return found if found is not None and allowed >> found & 1 else None

    def _add_dependencies(self, package: str, index: int, dependencies: list[_Dep]) -> list[int]:
        """Record the candidate's dependencies; if one is already ruled out, return them.

        As in pub: then the candidate is not decided; propagating its dependency
        incompatibilities excludes it and points the next choice elsewhere. The first one
        ruled out counts as a conflict for the priorities, as in uv.
        """
        acc, store, replaced = self.acc, self.store, self.store.replaced
        key = (package, index)
        ids = self._dependency_ids.get(key)
        if ids is None:
            ids = self._dependency_ids[key] = [-1] * len(dependencies)
        ruled_out = -1
        for k, (dependency, allowed, text, note, negated) in enumerate(dependencies):
            iid = ids[k]
            if iid < 0 or iid in replaced:
                bit = 1 << index
                iid = ids[k] = store.dependency(
                    package, bit, dependency, allowed, negated, text, note
                )
            mask = acc[dependency]
            if ruled_out < 0 and mask & negated == mask:
                ruled_out = iid
        if ruled_out < 0:
            return []
        self._priorities.conflict(package, package, (p for p, _ in store.terms[ruled_out]))
        return list(ids)

    # -- unit propagation -------------------------------------------------------------

    def _propagate(self, start: str, fresh: list[int]) -> None:
        """Derive everything that follows from ``start``'s change and the ``fresh`` ids.

        An incompatibility can only become almost satisfied or satisfied when one of its
        terms becomes satisfied, so a changed package's incompatibilities whose term for
        it is not satisfied are skipped without looking at their other terms (the idea
        behind SAT's watched literals). New incompatibilities (``fresh``) get a full look.
        """
        acc, full, contradicted = self.acc, self._full, self._contradicted
        index, terms_of, assign = self.store.index, self.store.terms, self._assign
        marks, retired = self._marks[-1], self._retired[-1]
        # Assignments at levels 0 and 1 (the root's) are never undone, so what they
        # contradict stays contradicted: drop it from the index for good.
        permanent = self._level <= 1
        # ``gone``: where ``package``'s retired entries go.
        if fresh:
            changed, package = [start], ""
            entries, gone = [(iid, -1) for iid in fresh], []
        else:  # a decision: nothing new to look at, start with the package's own list
            changed, package = [], start
            entries, gone = index[start], retired.setdefault(start, [])
        while True:
            conflict = -1
            own_acc = acc[package] if package else 0
            # Newest first: learned incompatibilities are the most informative. An entry
            # found contradicted is taken out of this package's list (``del entries[k]``,
            # safe going down), for good at the root's levels, else until a backtrack undoes
            # this level; ``contradicted`` makes the other packages' lists skip it meanwhile.
            for k in range(len(entries) - 1, -1, -1):
                entry = entries[k]
                iid, own = entry
                if iid in contradicted:
                    if package:
                        del entries[k]
                        if not permanent:
                            gone.append(entry)
                    continue
                if package:
                    if not own_acc & own:
                        # The changed package's own term is false: the usual case.
                        del entries[k]
                        if not permanent:
                            contradicted.add(iid)
                            marks.append(iid)
                            gone.append(entry)
                        continue
                    if own_acc & own != own_acc:
                        continue
                loose = ""
                loose_term = 0
                for name, term in terms_of[iid]:
                    mask = acc[name]
                    if mask & term == mask:
                        continue  # satisfied
                    if not mask & term:
                        loose = ""
                        break  # contradicted
                    if loose:
                        loose = "-"
                        break  # two undetermined terms: nothing to learn yet
                    loose, loose_term = name, term
                else:
                    if not loose:
                        conflict = iid
                        break
                    # Almost satisfied: the remaining term must be false.
                    assign(loose, full[loose] ^ loose_term, iid)
                    if loose not in changed:
                        changed.append(loose)
                if loose == "-":
                    continue
                contradicted.add(iid)
                marks.append(iid)
                if package:
                    del entries[k]
                    if not permanent:
                        gone.append(entry)
            if conflict >= 0:
                learned, name = self._resolve_conflict(conflict)
                self._priorities.conflict(name, self._chosen, (p for p, _ in terms_of[learned]))
                term = next(t for p, t in terms_of[learned] if p == name)
                self._assign(name, full[name] ^ term, learned)
                marks, retired = self._marks[-1], self._retired[-1]
                permanent = self._level <= 1
                contradicted.add(learned)
                marks.append(learned)
                changed = [name]
            if not changed:
                return
            package = changed.pop()
            entries = index[package]
            gone = retired.setdefault(package, [])
