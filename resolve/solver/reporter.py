"""What the solver tells an observer while it works (resolvelib's reporter habit).

:class:`Reporter` is the seam: the hooks :func:`resolve.solver.solve.solve` and the engine call
at the start, at each decision, rejection and backtrack, and at the end. :class:`BaseReporter`
implements every hook as a no-op, so a resolution nobody watches pays one empty method call per
event, and an observer subclasses it to override only the hooks it needs. ``resolve -v`` passes
one that prints them.
"""

from __future__ import annotations

from typing import Protocol

from packaging.version import Version

__all__ = ["BaseReporter", "Reporter"]


class Reporter(Protocol):
    """The hooks of one resolution, in the order they can happen."""

    def starting(self) -> None:
        """The resolution begins."""

    def deciding(self, package: str, version: Version, level: int) -> None:
        """``package`` is decided at ``version``, opening decision level ``level``."""

    def rejecting(self, package: str, version: Version, reason: str) -> None:
        """``version`` of ``package`` was chosen but cannot be used (``reason``)."""

    def backtracking(self, package: str, level: int) -> None:
        """A conflict on ``package`` sends the solver back to decision level ``level``."""

    def ending(self, decisions: int, backtracks: int) -> None:
        """The resolution is over, solved or not (the root's own decision is counted)."""


class BaseReporter:
    """Every hook does nothing; the default when nobody watches."""

    def starting(self) -> None:
        pass

    def deciding(self, package: str, version: Version, level: int) -> None:
        pass

    def rejecting(self, package: str, version: Version, reason: str) -> None:
        pass

    def backtracking(self, package: str, level: int) -> None:
        pass

    def ending(self, decisions: int, backtracks: int) -> None:
        pass
