"""PubGrub version solving over finite bitmask version sets (pure: no I/O)."""

from __future__ import annotations

from resolve.pubgrub.core import Engine
from resolve.pubgrub.incompatibility import (
    Cause,
    Dependency,
    Derived,
    Incompatibility,
    NoSolution,
    NoVersions,
    Root,
    Term,
)
from resolve.pubgrub.provider import Dependencies, Prioritizer, Provider, Requirement, Unavailable

__all__ = [
    "Cause",
    "Dependencies",
    "Dependency",
    "Derived",
    "Engine",
    "Incompatibility",
    "NoSolution",
    "NoVersions",
    "Prioritizer",
    "Provider",
    "Requirement",
    "Root",
    "Term",
    "Unavailable",
]
