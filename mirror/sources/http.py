"""An index reached over HTTP: PEP 691/503 project pages and distribution files."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from db.indexes import IndexConfig
from db.records import DistFile, FetchedPage, PreviousPage, ProjectPage
from mirror.http.client import IndexClient
from mirror.http.ranges import ClientRangeFetcher
from mirror.http.responses import FetchFailed, PageResponse
from mirror.index_api.project_page import PageError, parse_project_page
from mirror.metadata.fetch import MetadataOutcome, metadata_from_remote
from mirror.metadata.sdist import RangeNotSupported, metadata_from_wheel_range
from mirror.metadata.spool import Spool
from mirror.sources.protocol import NotModified, same_body

__all__ = ["HttpFlatSource", "HttpSimpleSource"]


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return (parts.scheme, parts.hostname or "", parts.port)


class _HttpFiles:
    """Distribution files and their core metadata, through the shared client."""

    #: Whether a page lists many projects' files (a flat --find-links page).
    listing = False

    def __init__(self, client: IndexClient, index: IndexConfig) -> None:
        self.client = client
        self.index = index
        # Set once the index ignores Range: the rest of the run downloads wheels whole.
        self.no_ranges = False

    async def fetch_metadata(self, dist: DistFile) -> MetadataOutcome:
        with self.client.traffic.on_behalf_of(self.index.name):
            return await metadata_from_remote(dist, self)

    async def fetch_metadata_file(self, url: str) -> bytes:
        return await self.client.fetch_bytes(url, metadata=True)

    async def fetch_file(self, dist: DistFile, into: Spool) -> None:
        if into.complete and dist.size in (None, into.size):
            return  # sent whole in answer to a range request
        await self.client.fetch_bytes(dist.url, expected_size=dist.size, sink=into)

    async def wheel_metadata_by_range(
        self, dist: DistFile, whole: Spool
    ) -> tuple[bytes, int] | None:
        if self.no_ranges:
            return None
        fetcher = ClientRangeFetcher(self.client, dist.url, whole, size=dist.size)
        try:
            raw = await metadata_from_wheel_range(fetcher, dist.project)
        except RangeNotSupported:
            self.no_ranges = True
            return None
        return raw, fetcher.bytes_transferred

    @staticmethod
    def _same_body(resp: PageResponse, previous: PreviousPage | None) -> NotModified | None:
        """The stored page, when this 200 brought the body it was parsed from."""
        if resp.status != 200 or resp.error is not None:
            return None
        return same_body(
            previous, resp.body, resp.content_type, resp.final_url, resp.etag, resp.last_modified
        )

    def _page(self, project: str, resp: PageResponse) -> FetchedPage:
        final = resp.final_url
        if resp.error is not None:
            return FetchedPage(status=resp.status, final_url=final, error=resp.error)
        if resp.status != 200:
            # 404, 401, 403…: data, interpreted later under the index's policy (SEMANTICS §1).
            return FetchedPage(status=resp.status, final_url=final)
        if _origin(final) != _origin(self.index.url):
            # A page served by another host is not this index's answer (dependency confusion
            # through a redirect): record it as failed, never as this index's content.
            return FetchedPage(
                status=resp.status,
                final_url=final,
                error=f"redirected to another host ({urlsplit(final).netloc}); not trusted as "
                f"index {self.index.name}",
            )
        try:
            parsed: ProjectPage | None = parse_project_page(
                resp.body,
                resp.content_type or "",
                final,
                project,
                max_files=self.client.config.limits.page_files,
                listing=self.listing,
            )
            error = None
        except PageError as exc:
            parsed, error = None, str(exc)
        return FetchedPage(
            status=200,
            content_type=resp.content_type,
            body=resp.body,
            final_url=final,
            etag=resp.etag,
            last_modified=resp.last_modified,
            error=error,
            parsed=parsed,
        )


class HttpSimpleSource(_HttpFiles):
    """A PEP 503/691 index: one page per project at ``<index>/<project>/``."""

    def __init__(self, client: IndexClient, index: IndexConfig, base_url: str) -> None:
        super().__init__(client, index)
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"

    async def fetch_page(
        self, project: str, previous: PreviousPage | None
    ) -> FetchedPage | NotModified:
        with self.client.traffic.on_behalf_of(self.index.name):
            return await self._fetch_page(project, previous)

    async def _fetch_page(
        self, project: str, previous: PreviousPage | None
    ) -> FetchedPage | NotModified:
        usable = previous is not None and previous.status == 200 and not previous.failed
        try:
            resp = await self.client.fetch_page(
                self.base_url + project + "/",
                etag=previous.etag if usable and previous else None,
                last_modified=previous.last_modified if usable and previous else None,
            )
        except FetchFailed as exc:
            return FetchedPage(status=exc.status or 0, error=str(exc))
        if resp.not_modified and previous is not None:
            return NotModified(
                resp.etag or previous.etag, resp.last_modified or previous.last_modified
            )
        return self._same_body(resp, previous) or self._page(project, resp)


class HttpFlatSource(_HttpFiles):
    """One HTML page listing distributions of many projects (pip's --find-links URL).

    The page is fetched once per run; each project's "page" is that page, whose files are
    filtered to the project.
    """

    listing = True

    def __init__(self, client: IndexClient, index: IndexConfig, url: str) -> None:
        super().__init__(client, index)
        self.url = url
        self._listing: asyncio.Task[PageResponse | FetchFailed] | None = None

    async def _fetch_listing(self) -> PageResponse | FetchFailed:
        try:
            return await self.client.fetch_page(self.url)
        except FetchFailed as exc:
            return exc

    async def fetch_page(
        self, project: str, previous: PreviousPage | None
    ) -> FetchedPage | NotModified:
        if self._listing is None:
            with self.client.traffic.on_behalf_of(self.index.name):  # the task copies it
                self._listing = asyncio.ensure_future(self._fetch_listing())
        resp = await asyncio.shield(self._listing)
        if isinstance(resp, FetchFailed):
            return FetchedPage(status=resp.status or 0, error=str(resp))
        again = self._same_body(resp, previous)
        if again is not None:
            return again
        fetched = self._page(project, resp)
        if fetched.parsed is None:
            return fetched
        # Only files that are surely this project's: see local_source._distributions.
        files = tuple(
            f
            for f in fetched.parsed.files
            if f.project == project and (f.is_wheel or f.version_valid)
        )
        if not files:
            return FetchedPage(status=404, final_url=fetched.final_url)
        parsed = ProjectPage(name=project, api_version=fetched.parsed.api_version, files=files)
        return FetchedPage(
            status=200,
            content_type=fetched.content_type,
            body=fetched.body,
            final_url=fetched.final_url,
            parsed=parsed,
        )
