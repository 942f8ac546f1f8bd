"""What the sync asks of an index, whatever it is: an HTTP Simple API, a ``file://`` simple
index, or a flat directory of distributions. Implementations: ``mirror.sources.http`` and
``mirror.sources.local``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from db.records import CoreMetadata, DistFile, FetchedPage, PreviousPage

__all__ = ["IndexSource", "MetadataOutcome", "NotModified"]


@dataclass(frozen=True, slots=True)
class NotModified:
    """The index confirmed the stored page is current (HTTP 304)."""

    etag: str | None
    last_modified: str | None


@dataclass(frozen=True, slots=True)
class MetadataOutcome:
    """Core metadata for one file, or why there is none.

    ``source``: pep658 | range | download | sdist-static when ``parsed`` is set;
    needs-build (an sdist whose dependencies are dynamic) or invalid (with ``error``) otherwise.
    """

    source: str
    raw: bytes | None = None
    parsed: CoreMetadata | None = None
    error: str | None = None
    bytes_fetched: int = 0


class IndexSource(Protocol):
    async def fetch_page(
        self, project: str, previous: PreviousPage | None
    ) -> FetchedPage | NotModified: ...

    async def fetch_metadata(self, dist: DistFile) -> MetadataOutcome: ...
