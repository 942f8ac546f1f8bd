"""What the provider may ask of a sync that resolves while it fetches (``mirror sync
--closure``, MIRROR.md "Sync behaviour"): the narrow hook through which the resolver gets the
data a snapshot being built still lacks, without ``resolve`` knowing anything of the network.

The solver runs on a thread of its own; each blocking call returns once what it asked for is
committed to the snapshot being built, so the provider reads it back as an offline
``resolve`` will later. The ``prefetch_*`` calls return at once: they keep the network busy
with what the solver is likely to ask for next (uv's look-ahead: a dependency's page as soon
as it is seen, the metadata of the version it would choose).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

__all__ = ["Fetcher"]


class Fetcher(Protocol):
    def project(self, name: str) -> None:
        """Block until the snapshot holds every index's page for ``name``."""

    def prefetch_projects(self, names: Iterable[str]) -> None:
        """Start fetching these projects' pages."""

    def metadata(self, project: str, index: str, filename: str) -> None:
        """Block until the snapshot holds what index ``index`` gives of ``filename``'s core
        metadata (an answer saying why there is none counts), as far as this run can get it."""

    def prefetch_metadata(self, project: str, index: str, filename: str) -> None:
        """Start fetching that core metadata."""
