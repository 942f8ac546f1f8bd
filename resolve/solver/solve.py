"""The resolver's entry point: ``solve(provider, root)`` -> ``Resolution`` or ``NoSolution``.

The algorithm lives in :mod:`resolve.solver.engine`; this module is the narrow public face the
CLI and the snapshot provider use. It imports only the standard library and ``packaging``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from packaging.version import Version

from resolve.solver.engine import Engine
from resolve.solver.incompatibility import Incompatibility, NoSolution, Term
from resolve.solver.provider import Dependencies, Provider, Requirement, Unavailable
from resolve.solver.reporter import BaseReporter, Reporter

__all__ = [
    "Dependencies",
    "Incompatibility",
    "NoSolution",
    "Provider",
    "Requirement",
    "Resolution",
    "Term",
    "Unavailable",
    "solve",
]


@dataclass(frozen=True, slots=True)
class Resolution:
    """The selected versions, and who asked for each.

    ``pins`` holds every selected package except the root, virtual ones (``a[x]``)
    included, in name order. ``via[p]`` lists, in name order, the selected packages (the
    root among them) whose selected version depends on ``p``: the ``# via`` annotations.
    """

    pins: Mapping[str, Version]
    via: Mapping[str, tuple[str, ...]]


def solve(
    provider: Provider,
    root: str,
    version: Version | None = None,
    *,
    reporter: Reporter | None = None,
) -> Resolution:
    """Resolve ``root``'s dependencies (``provider.dependencies(root, version)``).

    ``root`` is an opaque name that must not clash with a real package; ``version``
    defaults to ``0``. Raises ``NoSolution`` with the derivation tree when nothing works.
    ``reporter`` hears the start, every decision, rejection and backtrack, and the end.
    """
    reporter = BaseReporter() if reporter is None else reporter
    engine = Engine(provider, root, Version("0") if version is None else version, reporter)
    reporter.starting()
    try:
        decided = engine.run()
    finally:
        reporter.ending(engine.decisions, engine.backtracks)
    universes = engine.universes
    pins = {p: universes[p][decided[p]] for p in sorted(decided) if p != root}
    via: dict[str, list[str]] = {p: [] for p in pins}
    for package in sorted(decided):
        dependencies = engine.dependencies[(package, decided[package])]
        if isinstance(dependencies, Unavailable):  # pragma: no cover - never decided
            continue
        for name, *_ in dependencies:
            if name in via:
                via[name].append(package)
    return Resolution(pins, {p: tuple(v) for p, v in via.items()})
