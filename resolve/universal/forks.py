"""Solving a universal resolution fork by fork, with the existing PubGrub solver.

The first forks are the whole environment, split on the markers of index pins if any. When a
fork's provider finds requirements that one assignment cannot serve
(:class:`resolve.universal.provider.ForkNeeded`), the fork is split into the pieces the
markers cut it into (each piece inside or outside every marker, and possible: see
``known``) and each piece is solved from the start. Forks are taken in a fixed order (lowest
Python first, then marker text), so the outcome never depends on hash seeds or the order rows
come in. The first fork without a solution ends the resolution: the lock must serve every
environment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from packaging.version import Version

from db.read.snapshot_reader import ProjectRecord
from resolve.candidates.judge import BinaryPolicy, Target
from resolve.candidates.provider import Request
from resolve.rules.model import RuleSet
from resolve.solver.incompatibility import NoSolution
from resolve.solver.names import ROOT
from resolve.solver.reporter import Reporter
from resolve.solver.solve import Resolution, solve
from resolve.universal.environment import UniversalEnvironment
from resolve.universal.marker_algebra import TRUE, Expr
from resolve.universal.marker_parse import parse_text
from resolve.universal.provider import ForkNeeded, UniversalProvider

__all__ = ["ForkFailure", "Solved", "fork_key", "solve_forks", "split"]


@dataclass(frozen=True, slots=True)
class Solved:
    fork: Expr
    provider: UniversalProvider
    result: Resolution


@dataclass(frozen=True, slots=True)
class ForkFailure:
    fork: Expr
    provider: UniversalProvider
    failure: NoSolution


def fork_key(fork: Expr) -> tuple[tuple[int, int, int], str]:
    return (fork.python().lowest() or (0, 0, 0), fork.text())


def split(fork: Expr, markers: Sequence[Expr], known: Expr = TRUE) -> list[Expr]:
    """The pieces of ``fork`` that lie inside or outside each of ``markers`` and hold in
    some environment that can exist (``known``)."""
    pieces = [fork]
    for marker in markers:
        pieces = [
            piece
            for whole in pieces
            for piece in (whole & marker, whole & ~marker)
            if not (piece & known).is_empty()
        ]
    return sorted(pieces, key=fork_key)


def solve_forks(
    load: Callable[[str], ProjectRecord],
    rules: RuleSet,
    binary: BinaryPolicy,
    environment: Expr,
    required: tuple[Expr, ...],
    request: Request,
    reporter: Reporter | None = None,
    known: Expr = TRUE,
    fork_preferences: Mapping[str, tuple[tuple[str, Version], ...]] | None = None,
) -> list[Solved] | ForkFailure:
    """Solve ``environment``, split into forks where the provider asks; ``known`` is where
    the environments can exist (markers that hold only outside it never apply);
    ``fork_preferences`` are the existing lock's versions of a project pinned at several,
    each with its marker: a fork prefers the one (the highest) whose marker it meets."""
    marked = {
        name: [(parse_text(marker), version) for marker, version in locked]
        for name, locked in sorted((fork_preferences or {}).items())
    }
    # An index pin with a marker (SEMANTICS B5) sends a package to other indexes in other
    # environments: the forks start split on every such marker, so that each pin holds
    # throughout a fork or nowhere in it.
    pins = sorted({pin.marker for pin in rules.pins if pin.marker})
    pending = split(environment, [parse_text(marker) for marker in pins], known)
    solved: list[Solved] = []
    while pending:
        fork = pending.pop(0)
        label = fork.simplified(environment & known).text() or "every environment"
        target = Target(UniversalEnvironment.of(fork, label), binary)
        preferred = dict(request.preferences)
        for name, locked in marked.items():
            met = [v for where, v in locked if not (where & fork & known).is_empty()]
            if met:
                preferred[name] = max(met)
        own = replace(request, preferences=preferred) if marked else request
        provider = UniversalProvider(
            load, rules, target, own, fork=fork, required=required, known=known
        )
        try:
            result = solve(provider, ROOT, reporter=reporter)
        except ForkNeeded as needed:
            pending = sorted([*pending, *split(fork, needed.markers, known)], key=fork_key)
            continue
        except NoSolution as failure:
            return ForkFailure(fork, provider, failure)
        solved.append(Solved(fork, provider, result))
    return solved
