"""What the solver tells an observer while it works (resolvelib's reporter habit).

The engine calls these hooks at its decisions and backtracks; :class:`Reporter` does nothing,
so a resolution nobody watches pays one method call per event. ``resolve -v`` passes one that
prints them.
"""

from __future__ import annotations

from packaging.version import Version

__all__ = ["Reporter"]


class Reporter:
    """No-op hooks; subclass and override the ones you need."""

    def deciding(self, package: str, version: Version, level: int) -> None:
        """``package`` is decided at ``version``, opening decision level ``level``."""

    def rejecting(self, package: str, version: Version, reason: str) -> None:
        """``version`` of ``package`` was chosen but cannot be used (``reason``)."""

    def backtracking(self, package: str, level: int) -> None:
        """A conflict on ``package`` sends the solver back to decision level ``level``."""

    def ending(self, decisions: int, backtracks: int) -> None:
        """The resolution is over (solved or not)."""
