"""What the sync asks of an index, whatever it is: an HTTP Simple API, a ``file://`` simple
index, or a flat directory of distributions. Implementations: ``mirror.sources.http`` and
``mirror.sources.local``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from db.records import DistFile, FetchedPage, PreviousPage
from mirror.metadata.fetch import MetadataOutcome

__all__ = ["IndexSource", "NotModified"]


@dataclass(frozen=True, slots=True)
class NotModified:
    """The index confirmed the stored page is current (HTTP 304)."""

    etag: str | None
    last_modified: str | None


class IndexSource(Protocol):
    async def fetch_page(
        self, project: str, previous: PreviousPage | None
    ) -> FetchedPage | NotModified: ...

    async def fetch_metadata(self, dist: DistFile) -> MetadataOutcome: ...
