"""Finite version sets over one package's candidate list, kept as bitmasks.

The snapshot lists every version a project can ever have, so a set of versions is a subset
of a known, finite, sorted list: bit ``i`` of an ``int`` stands for the ``i``-th candidate in
ascending PEP 440 order. Union, intersection and complement are then single integer
operations, which is what makes the PubGrub loop cheap in Python.

The set says which versions a specifier *matches*, by the project's own PEP 440 rules
(:mod:`resolve.solver.pep440`: local labels, ``<V`` and pre-releases of V, ``>V`` and
post-releases of V); whether a pre-release may be *chosen* is a policy applied at decision
time (see :mod:`resolve.policy.prerelease`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import overload

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from resolve.solver.pep440 import matches

__all__ = ["Universe", "VersionSet", "bit_range"]

# (epoch, release without trailing zeros): versions with equal keys form one contiguous
# "family" in sorted order (pre-, post-, dev- and local variants of one release).
_Family = tuple[int, tuple[int, ...]]


def bit_range(lo: int, hi: int) -> int:
    """The mask with bits ``lo`` (inclusive) to ``hi`` (exclusive) set."""
    return ((1 << (hi - lo)) - 1) << lo if hi > lo else 0


def _family(epoch: int, release: tuple[int, ...]) -> _Family:
    if release[-1] or len(release) == 1:
        return (epoch, release)
    end = len(release) - 1
    while end > 1 and release[end - 1] == 0:
        end -= 1
    return (epoch, release[:end])


class Universe(Sequence[Version]):
    """One package's candidate versions, ascending and unique, with a specifier cache.

    A provider may return a ``Universe`` from ``versions()`` so that the masks it builds
    itself (``VersionSet``) share the solver's cache; any other sequence is wrapped.
    """

    __slots__ = ("_masks", "_prereleases", "full", "versions")

    def __init__(self, versions: Iterable[Version]) -> None:
        # dict.fromkeys drops PEP 440 duplicates ("1.0" == "1.0.0") keeping the first;
        # sorted() is stable, so the result does not depend on hash order.
        self.versions: tuple[Version, ...] = tuple(sorted(dict.fromkeys(versions)))
        self.full: int = (1 << len(self.versions)) - 1
        self._prereleases: int | None = None
        self._masks: dict[str, int] = {}

    @classmethod
    def ascending(cls, versions: tuple[Version, ...]) -> Universe:
        """``versions`` already ascending and unique (as a ``Versions`` mapping iterates),
        taken as they are: re-sorting a project's versions costs a Python comparison each."""
        universe = cls(())
        universe.versions = versions
        universe.full = (1 << len(versions)) - 1
        return universe

    # -- Sequence ---------------------------------------------------------------------

    @overload
    def __getitem__(self, index: int) -> Version: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Version]: ...
    def __getitem__(self, index: int | slice) -> Version | Sequence[Version]:
        return self.versions[index]

    def __len__(self) -> int:
        return len(self.versions)

    def __iter__(self) -> Iterator[Version]:
        return iter(self.versions)

    def __repr__(self) -> str:
        return f"Universe({[str(v) for v in self.versions]!r})"

    # -- lookups ----------------------------------------------------------------------

    def position(self, version: Version) -> int | None:
        """Index of ``version`` (PEP 440 equality, local label included), or None."""
        vs = self.versions
        i = bisect_left(vs, version)
        return i if i < len(vs) and vs[i] == version else None

    def pin(self, version: Version) -> int:
        """Mask of exactly ``version`` (label-exact: ``1.0+a`` is not ``1.0``); 0 if absent."""
        i = self.position(version)
        return 0 if i is None else 1 << i

    @property
    def prereleases(self) -> int:
        """Mask of the candidates that are pre- or dev-releases."""
        if self._prereleases is None:
            mask = 0
            for i, v in enumerate(self.versions):
                if v.is_prerelease:
                    mask |= 1 << i
            self._prereleases = mask
        return self._prereleases

    def mask(self, spec: SpecifierSet | str) -> int:
        """The candidates matched by ``spec``; cached per specifier string."""
        key = spec if isinstance(spec, str) else str(spec)
        cached = self._masks.get(key)
        if cached is None:
            cached = self.full
            for one in _parse(key):
                cached &= self._specifier_mask(one)
                if not cached:
                    break
            self._masks[key] = cached
        return cached

    # -- specifier evaluation -----------------------------------------------------------

    def _window(self, lo: Version, hi: Version) -> int:
        return bit_range(bisect_left(self.versions, lo), bisect_left(self.versions, hi))

    def _specifier_mask(self, one: _Parsed) -> int:
        _, op, _, family, low, high = one
        vs = self.versions
        n = len(vs)
        if op == "===":
            # Arbitrary equality compares strings; rare enough to scan.
            return self._recheck(one, 0, n, 0)
        if op == "==*" or op == "!=*":
            assert high is not None
            window = self._window(low, high)
            return window if op == "==*" else self.full & ~window
        # ``family`` (epoch and release without trailing zeros) is a prefix of PEP 440's
        # sort key, so outside V's family every operator is a plain ordered comparison.
        # All of PEP 440's special cases (locals of V, pre-releases of V under ``<V``,
        # post-releases of V under ``>V``) live inside the family, which starts at
        # V's ``.dev0``, is short, and is re-checked clause by clause (resolve.solver.pep440),
        # at the cost of one bisection.
        lo = bisect_left(vs, low)
        hi = lo
        while hi < n and _family(vs[hi].epoch, vs[hi].release) == family:
            hi += 1
        if op == ">=" or op == ">":
            mask = bit_range(hi, n)
        elif op == "<" or op == "<=":
            mask = bit_range(0, lo)
        elif op == "==":
            mask = 0
        elif op == "!=":
            mask = self.full
        elif op == "~=":
            # ~=V is >=V together with ==prefix.* (PEP 440, "Compatible release").
            assert high is not None
            mask = bit_range(hi, n) & self._window(low, high)
        else:  # pragma: no cover - packaging rejects unknown operators
            raise ValueError(f"unknown operator {op!r}")
        return self._recheck(one, lo, hi, mask)

    def _recheck(self, one: _Parsed, lo: int, hi: int, mask: int) -> int:
        written, op, version = one[0], one[1], one[2]
        vs = self.versions
        for i in range(lo, hi):
            if matches(op, version, vs[i], written):
                mask |= 1 << i
            else:
                mask &= ~(1 << i)
        return mask


# (version text as written, operator, its version, the version's family, lower probe,
# upper probe): what ``Universe`` needs to evaluate one clause, see :func:`_parse`.
_Parsed = tuple[str, str, Version, _Family, Version, Version | None]


def _dev0(epoch: int, release: tuple[int, ...]) -> Version:
    """The smallest version whose release starts with ``release``."""
    return Version(f"{epoch}!{'.'.join(map(str, release))}.dev0")


def _prefix_probes(epoch: int, prefix: tuple[int, ...]) -> tuple[Version, Version]:
    """Bounds of what ``==prefix.*`` matches: [prefix.dev0, next prefix.dev0)."""
    return _dev0(epoch, prefix), _dev0(epoch, (*prefix[:-1], prefix[-1] + 1))


@lru_cache(maxsize=4096)
def _parse(text: str) -> tuple[_Parsed, ...]:
    """Specifier text -> what ``Universe`` needs to evaluate it, parsed once per process.

    Wildcards get the operators ``==*`` and ``!=*``; ``~=`` also carries its prefix window.
    """
    parsed: list[_Parsed] = []
    for spec in SpecifierSet(text):
        op, written = spec.operator, spec.version
        if op == "===":
            parsed.append((written, op, Version("0"), (0, ()), Version("0"), None))
            continue
        wildcard = written.endswith(".*")
        version = Version(written[:-2] if wildcard else written)
        family = _family(version.epoch, version.release)
        if wildcard:
            low, high = _prefix_probes(version.epoch, version.release)
            parsed.append((written, op + "*", version, family, low, high))
        elif op == "~=":
            _, high = _prefix_probes(version.epoch, version.release[:-1])
            parsed.append((written, op, version, family, _dev0(*family), high))
        else:
            parsed.append((written, op, version, family, _dev0(*family), None))
    return tuple(parsed)


@dataclass(frozen=True, slots=True)
class VersionSet:
    """A subset of one ``Universe``: an immutable value with set operators."""

    universe: Universe
    mask: int

    @classmethod
    def full(cls, universe: Universe) -> VersionSet:
        return cls(universe, universe.full)

    @classmethod
    def empty(cls, universe: Universe) -> VersionSet:
        return cls(universe, 0)

    @classmethod
    def of(cls, universe: Universe, versions: Iterable[Version]) -> VersionSet:
        mask = 0
        for v in versions:
            mask |= universe.pin(v)
        return cls(universe, mask)

    @classmethod
    def from_specifier(cls, universe: Universe, spec: SpecifierSet | str) -> VersionSet:
        return cls(universe, universe.mask(spec))

    def _other(self, other: VersionSet) -> int:
        if (
            other.universe is not self.universe
            and other.universe.versions != self.universe.versions
        ):
            raise ValueError("version sets over different candidate lists")
        return other.mask

    def __and__(self, other: VersionSet) -> VersionSet:
        return VersionSet(self.universe, self.mask & self._other(other))

    def __or__(self, other: VersionSet) -> VersionSet:
        return VersionSet(self.universe, self.mask | self._other(other))

    def __sub__(self, other: VersionSet) -> VersionSet:
        return VersionSet(self.universe, self.mask & ~self._other(other))

    def __invert__(self) -> VersionSet:
        return VersionSet(self.universe, self.universe.full & ~self.mask)

    def __contains__(self, version: object) -> bool:
        if not isinstance(version, Version):
            return False
        i = self.universe.position(version)
        return i is not None and bool(self.mask >> i & 1)

    def __len__(self) -> int:
        return self.mask.bit_count()

    def __bool__(self) -> bool:
        return self.mask != 0

    def __iter__(self) -> Iterator[Version]:
        """Ascending."""
        vs = self.universe.versions
        mask = self.mask
        while mask:
            low = mask & -mask
            yield vs[low.bit_length() - 1]
            mask ^= low

    def descending(self) -> Iterator[Version]:
        """Highest first, without materialising the set."""
        vs = self.universe.versions
        mask = self.mask
        while mask:
            i = mask.bit_length() - 1
            yield vs[i]
            mask ^= 1 << i

    def highest(self) -> Version | None:
        return self.universe.versions[self.mask.bit_length() - 1] if self.mask else None

    def lowest(self) -> Version | None:
        mask = self.mask
        return self.universe.versions[(mask & -mask).bit_length() - 1] if mask else None

    @property
    def is_full(self) -> bool:
        return self.mask == self.universe.full

    def runs(self) -> Iterator[tuple[int, int]]:
        """Maximal runs of consecutive candidates, as ``(first, last + 1)`` indices."""
        mask = self.mask
        base = 0
        while mask:
            skip = (mask & -mask).bit_length() - 1
            mask >>= skip
            base += skip
            # Adding 1 to a run of ones carries past it; the carry's position is its length.
            length = ((mask + 1) & ~mask).bit_length() - 1
            yield base, base + length
            mask >>= length
            base += length

    def __repr__(self) -> str:
        return f"VersionSet({[str(v) for v in self]!r})"
