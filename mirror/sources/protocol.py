"""What the sync asks of an index, whatever it is: an HTTP Simple API, a ``file://`` simple
index, or a flat directory of distributions. Implementations: ``mirror.sources.http`` and
``mirror.sources.local``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from db.blobs import sha256_hex
from db.records import DistFile, FetchedPage, PreviousPage
from mirror.metadata.fetch import MetadataOutcome
from mirror.metadata.spool import Spool

__all__ = ["IndexSource", "NotModified", "same_body"]


@dataclass(frozen=True, slots=True)
class NotModified:
    """The stored page is current: the index said so (HTTP 304), or it sent the stored body
    again (``same_body``, ``nbytes`` long), which is then not parsed again."""

    etag: str | None
    last_modified: str | None
    same_body: bool = False
    nbytes: int = 0


def same_body(
    previous: PreviousPage | None,
    body: bytes,
    content_type: str | None,
    final_url: str,
    etag: str | None = None,
    last_modified: str | None = None,
) -> NotModified | None:
    """The stored page again, when ``body`` is the one it was parsed from (MIRROR.md: "a page
    whose body digest equals the stored one is not parsed again").

    Most mirrors and CDNs send no ETag or Last-Modified, so a 304 never comes; the digest of
    the body stands in for it. Parsing is a function of the body, its media type and the URL
    relative links resolve against (and the project), so when all three match a page that
    parsed cleanly, parsing again would give the stored page; a failed page is parsed again.
    """
    if previous is None or previous.status != 200 or previous.failed:
        return None
    stored = (previous.blob_sha256, previous.content_type, previous.final_url)
    if stored != (sha256_hex(body), content_type, final_url):
        return None
    return NotModified(etag, last_modified, same_body=True, nbytes=len(body))


class IndexSource(Protocol):
    async def fetch_page(
        self, project: str, previous: PreviousPage | None
    ) -> FetchedPage | NotModified: ...

    async def fetch_metadata(self, dist: DistFile) -> MetadataOutcome: ...

    async def fetch_file(self, dist: DistFile, into: Spool) -> None:
        """The whole distribution file into ``into``, within the file-bytes limit (an sdist
        to build, a build requirement's wheel)."""
        ...
