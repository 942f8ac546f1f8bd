"""Version sets as text that means exactly them, over the package's candidates.

A report speaks of a set of versions (a bitmask over one package's candidate list, the
*universe*) by writing a PEP 440 specifier for it. A specifier read off the set's bounds is
not always the set: ``<2.0`` leaves out ``2.0a1`` (PEP 440, "Exclusive ordered comparison":
``<V`` excludes the pre-releases of V), and ``==1.0`` also matches ``1.0+cpu`` ("Local version
identifiers": a specifier without a label ignores the candidate's). So every specifier
written here is first evaluated against the universe with the project's own PEP 440 rules
(:meth:`resolve.solver.versionset.Universe.mask`, :mod:`resolve.solver.pep440`, the rules the
solver used to build the set) and kept only when it matches exactly the set. When none of the
forms tried does, the versions are listed (``{1.0, 2.0a1}``), or, for a large set, counted
(``(300 versions from 1.0 to 1.299)``): never a specifier that means something else.

Forms, in order of preference: ``""`` (every candidate), ``!=V`` (every candidate but one),
then of one specifier per run of consecutive candidates (``>=1.0,<2.0``, ``<=2.0a1``,
``==1.0``; several runs joined by `` | ``) and a range with a few exclusions
(``>=1.0,<2.0,!=1.5``) the one with fewer clauses, then the listing, then the count.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from packaging.version import Version

from resolve.solver.versionset import Universe, VersionSet, bit_range

__all__ = ["describe", "means", "specifier"]

#: A set of at most this many versions is listed when no specifier means it.
LISTED = 5
#: A range is written with at most this many ``!=`` exclusions.
EXCLUDED = 3
#: A set of more runs than this is not written as a union of ranges.
RUNS = 3


def means(universe: Universe, text: str, mask: int) -> bool:
    """Whether ``text`` (specifiers joined by `` | ``) matches exactly ``mask``'s candidates."""
    found = 0
    for part in text.split(" | "):
        found |= universe.mask(part)
    return found == mask


def specifier(versions: VersionSet) -> str | None:
    """A specifier that means exactly ``versions`` over its universe, or None.

    ``""`` means every candidate (the empty specifier set matches every version), except for
    a universe of one version, which is named (``==1.0``).
    """
    universe, mask = versions.universe, versions.mask
    if not mask:
        return None
    n = len(universe)
    if mask == universe.full and n > 1:
        return ""
    runs = list(versions.runs())
    if len(runs) == 2 and runs[0][0] == 0 and runs[1][1] == n and runs[1][0] - runs[0][1] == 1:
        # Every candidate but one: PEP 440 "Version exclusion".
        text = f"!={universe[runs[0][1]]}"
        if means(universe, text, mask):
            return text
    found: list[str] = []
    if len(runs) <= RUNS:
        parts = [_run(universe, lo, hi) for lo, hi in runs]
        if all(part is not None for part in parts):
            found.append(" | ".join(part for part in parts if part is not None))
    if len(runs) > 1:
        ranged = _range_with_exclusions(universe, mask, runs[0][0], runs[-1][1])
        if ranged is not None:
            found.append(ranged)
    # The fewest clauses reads best: ">=1.0,<2.0,!=1.5" rather than ">=1.0,<1.5 | >=1.6,<2.0",
    # "==0.9 | ==2.0" rather than "<=2.0,!=1.0,!=1.5"; on a tie, the runs.
    return min(found, key=_clauses, default=None)


def _clauses(text: str) -> int:
    return text.count(",") + text.count(" | ") + 1


def describe(versions: VersionSet) -> str:
    """What follows the package name: a specifier (``>=1.0``; ``""`` for every candidate), or
    when no specifier means the set, `` {1.0, 2.0a1}`` or `` (300 versions from X to Y)``
    (with a leading space). `` (no versions)`` for the empty set."""
    if not versions:
        return " (no versions)"
    text = specifier(versions)
    if text is not None:
        return text
    return f" {listing(versions)}"


def listing(versions: VersionSet) -> str:
    """The versions themselves: ``{1.0, 2.0a1}``, or ``(N versions from X to Y)`` when there
    are more than :data:`LISTED` (``from … to`` names the lowest and the highest, not a run:
    the count says how many there are)."""
    if len(versions) <= LISTED:
        return "{" + ", ".join(str(v) for v in versions) + "}"
    return f"({len(versions)} versions from {versions.lowest()} to {versions.highest()})"


def _public(version: Version) -> str:
    # Ordered comparisons take no local label (PEP 440, "Local version identifiers": not
    # permitted in ordered comparisons); whether dropping it changes the set is checked.
    return version.public


def _lower(vs: Sequence[Version], lo: int) -> Iterator[str]:
    """Lower bounds for a set starting at candidate ``lo``."""
    if lo == 0:
        yield ""
        return
    yield f">={_public(vs[lo])}"
    # ">V" skips V's post-releases and local builds ("Exclusive ordered comparison").
    yield f">{_public(vs[lo - 1])}"


def _upper(vs: Sequence[Version], hi: int) -> Iterator[str]:
    """Upper bounds for a set ending before candidate ``hi``."""
    if hi == len(vs):
        yield ""
        return
    # "<V" leaves out V's pre-releases, "<=V" admits V's local builds: either may be wrong.
    yield f"<{_public(vs[hi])}"
    yield f"<={_public(vs[hi - 1])}"


def _bounded(universe: Universe, lo: int, hi: int, mask: int, extra: str = "") -> str | None:
    """The first pair of bounds around ``[lo, hi)`` that, with ``extra``, means ``mask``."""
    for lower in _lower(universe.versions, lo):
        for upper in _upper(universe.versions, hi):
            text = ",".join(part for part in (lower, upper, extra) if part)
            if text and means(universe, text, mask):
                return text
    return None


def _run(universe: Universe, lo: int, hi: int) -> str | None:
    """A specifier for the consecutive candidates ``[lo, hi)`` alone, or None."""
    mask = bit_range(lo, hi)
    if hi - lo == 1:
        # PEP 440 "Version matching": ``==V+label`` compares the label, ``==V`` ignores it.
        text = f"=={universe[lo]}"
        if means(universe, text, mask):
            return text
    return _bounded(universe, lo, hi, mask)


def _range_with_exclusions(universe: Universe, mask: int, lo: int, hi: int) -> str | None:
    """``>=L,<U,!=X,…``: bounds around the set with its gaps excluded, at most
    :data:`EXCLUDED` of them. ``!=V`` excludes V's local builds too, ``!=V+label`` only that
    one (PEP 440 "Version exclusion"); whether the result is the set is checked."""
    vs = universe.versions
    excluded: list[str] = []
    for i in range(lo, hi):
        if mask >> i & 1:
            continue
        version = vs[i]
        if version.local is not None and f"!={version.public}" in excluded:
            continue
        excluded.append(f"!={version}")
        if len(excluded) > EXCLUDED:
            return None
    return _bounded(universe, lo, hi, mask, ",".join(excluded))
