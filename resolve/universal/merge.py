"""Forks' pins → one lock: each pinned version carries the marker of the environments that
need it.

Within a fork a package is needed where some path of requirements from the root reaches it:
the root holds in the whole fork, and each edge adds the marker under which the parent
requires the child (a fixed point, since requirement graphs may have cycles). Across forks the
markers of one version are joined. A version needed in every environment of the lock has no
marker; the others' markers are simplified within the lock's environment (the Python range
the whole lock already states is not repeated on every pin).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from packaging.version import Version

from resolve.lock.writers import LockedPackage
from resolve.solver.names import ROOT, split_extra
from resolve.solver.solve import Resolution
from resolve.universal.marker_algebra import FALSE, Expr
from resolve.universal.provider import UniversalProvider

__all__ = ["merge_packages", "pin_markers"]


def pin_markers(provider: UniversalProvider, result: Resolution) -> dict[str, Expr]:
    """Each pinned project (extras folded into their base) → where the fork needs it."""
    pins = dict(result.pins)
    version_of = {**pins, ROOT: Version("0")}
    reach: dict[str, Expr] = {ROOT: provider.fork}
    for _ in range(len(pins) + 1):
        changed = False
        for package in sorted(pins):
            found = FALSE
            for parent in result.via.get(package, ()):
                edges = provider.edges.get((parent, version_of[parent]), {})
                found |= reach.get(parent, FALSE) & edges.get(package, provider.fork)
            held = reach.get(package)
            if held is None or not found.within(held):
                reach[package] = found if held is None else held | found
                changed = True
        if not changed:
            break
    by_base: dict[str, Expr] = {}
    for package in sorted(pins):
        base, _ = split_extra(package)
        by_base[base] = by_base.get(base, FALSE) | reach.get(package, FALSE)
    return by_base


def merge_packages(
    forks: Iterable[tuple[Sequence[LockedPackage], dict[str, Expr]]],
    space: Expr,
) -> tuple[LockedPackage, ...]:
    """One entry per (name, version) across the forks, with its marker: none when every
    environment that can exist (``space``: the lock's, where the platform variables agree)
    needs it, else simplified within ``space``."""
    merged: dict[tuple[str, Version], tuple[LockedPackage, Expr]] = {}
    for packages, markers in forks:
        for package in packages:
            key = (package.name, package.version)
            marker = markers.get(package.name, FALSE)
            held = merged.get(key)
            if held is None:
                merged[key] = (package, marker)
                continue
            first, joined = held
            merged[key] = (
                replace(
                    first,
                    via=tuple(sorted({*first.via, *package.via})),
                    extras=tuple(sorted({*first.extras, *package.extras})),
                ),
                joined | marker,
            )
    found = []
    for key in sorted(merged):
        package, marker = merged[key]
        if space.within(marker):
            found.append(package)
        else:
            found.append(replace(package, marker=marker.simplified(space).text()))
    return tuple(found)
