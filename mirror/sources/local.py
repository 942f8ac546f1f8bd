"""Indexes on the local disk: ``file://`` simple-index directories and flat directories of
distributions (pip's ``--find-links``).

A directory listing has no page of its own, so one is made: the files found are written as a
PEP 691 JSON page (with sha256 hashes) and go through the same parser and store as any page
fetched over HTTP. A simple-index directory that has ``<project>/index.html`` is read as is.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

from db.canonical import canonical_name
from db.records import DistFile, FetchedPage, PreviousPage
from mirror.index_api.filenames import parse_filename
from mirror.index_api.project_page import PageError, parse_project_page
from mirror.index_api.urls import path_from_file_url
from mirror.metadata.fetch import MetadataOutcome, metadata_from_local_file
from mirror.metadata.spool import Spool
from mirror.sources.protocol import NotModified, same_body
from resolve.limits import DEFAULT_LIMITS, LimitExceeded, Limits

__all__ = ["LocalFlatSource", "LocalSimpleSource"]

_JSON = "application/vnd.pypi.simple.v1+json"


def _synthesized_page(project: str, paths: list[Path]) -> bytes:
    """A PEP 691 page for the given files, deterministic (sorted, no times)."""
    files = []
    for path in sorted(paths, key=lambda p: p.name):
        with path.open("rb") as file:  # hashed in chunks: a file may weigh up to file-bytes
            digest = hashlib.file_digest(file, "sha256").hexdigest()
            size = file.tell()
        entry: dict[str, object] = {
            "filename": path.name,
            "url": path.resolve().as_uri(),
            "hashes": {"sha256": digest},
            "size": size,
        }
        sidecar = path.with_name(path.name + ".metadata")
        if sidecar.is_file():
            entry["core-metadata"] = {"sha256": hashlib.sha256(sidecar.read_bytes()).hexdigest()}
        files.append(entry)
    page = {"meta": {"api-version": "1.1"}, "name": project, "files": files}
    return json.dumps(page, sort_keys=True, separators=(",", ":")).encode()


def _distributions(directory: Path, project: str, *, flat: bool = False) -> list[Path]:
    """The distributions of ``project`` in ``directory``.

    In a flat directory the files of many projects sit together, and a legacy sdist name is
    ambiguous (``foo-bar-4.0.tar.gz`` splits as foo ``bar-4.0`` or foo-bar ``4.0``): a file is
    ``project``'s there only when the split gives a valid version, as pip and uv read it.
    Otherwise a project would be "found" on the index through another project's file.
    """
    found = []
    for path in directory.iterdir():
        if not path.is_file() or path.name.endswith(".metadata"):
            continue
        parsed = parse_filename(path.name, project)
        if parsed is None or parsed.project != project:
            continue
        if flat and not (parsed.is_wheel or parsed.version_valid):
            continue
        found.append(path)
    return found


def _page(
    project: str,
    body: bytes,
    content_type: str,
    url: str,
    limits: Limits,
    previous: PreviousPage | None,
) -> FetchedPage | NotModified:
    again = same_body(previous, body, content_type, url)
    if again is not None:
        return again
    try:
        parsed = parse_project_page(body, content_type, url, project, max_files=limits.page_files)
    except PageError as exc:
        return FetchedPage(
            status=200, content_type=content_type, body=body, final_url=url, error=str(exc)
        )
    return FetchedPage(
        status=200, content_type=content_type, body=body, final_url=url, parsed=parsed
    )


class _LocalMetadata:
    limits: Limits

    async def fetch_metadata(self, dist: DistFile) -> MetadataOutcome:
        return await asyncio.to_thread(metadata_from_local_file, dist)

    async def fetch_file(self, dist: DistFile, into: Spool) -> None:
        path = path_from_file_url(dist.url)
        await into.begin()
        with path.open("rb") as file:  # within file-bytes, as over HTTP
            while chunk := await asyncio.to_thread(file.read, 1 << 20):
                if into.size + len(chunk) > self.limits.file_bytes:
                    error = LimitExceeded(
                        f"the file {dist.url}", "file-bytes", self.limits.file_bytes
                    )
                    raise OSError(f"{error.message} ({error.hint})")
                await into.write(chunk)
        into.complete = True


class LocalSimpleSource(_LocalMetadata):
    """``file:///…/simple/``: ``<project>/index.html`` or a directory of files per project."""

    def __init__(self, url: str, limits: Limits = DEFAULT_LIMITS) -> None:
        self.root = path_from_file_url(url)
        self.limits = limits

    async def fetch_page(
        self, project: str, previous: PreviousPage | None
    ) -> FetchedPage | NotModified:
        return await asyncio.to_thread(self._read, project, previous)

    def _read(self, project: str, previous: PreviousPage | None) -> FetchedPage | NotModified:
        directory = self.root / project
        index_html = directory / "index.html"
        if index_html.is_file():
            url = index_html.as_uri()
            with index_html.open("rb") as handle:  # within page-bytes, as over HTTP
                body = handle.read(self.limits.page_bytes + 1)
            if len(body) > self.limits.page_bytes:
                error = LimitExceeded(f"the page {url}", "page-bytes", self.limits.page_bytes)
                return FetchedPage(
                    status=200, final_url=url, error=f"{error.message} ({error.hint})"
                )
            return _page(project, body, "text/html", url, self.limits, previous)
        if directory.is_dir():
            body = _synthesized_page(project, _distributions(directory, project))
            return _page(project, body, _JSON, directory.as_uri() + "/", self.limits, previous)
        return FetchedPage(status=404)


class LocalFlatSource(_LocalMetadata):
    """A flat directory of distributions; a project is "here" when it has a file in it."""

    def __init__(self, url: str, limits: Limits = DEFAULT_LIMITS) -> None:
        self.root = path_from_file_url(url)
        self.limits = limits

    async def fetch_page(
        self, project: str, previous: PreviousPage | None
    ) -> FetchedPage | NotModified:
        return await asyncio.to_thread(self._read, canonical_name(project), previous)

    def _read(self, project: str, previous: PreviousPage | None) -> FetchedPage | NotModified:
        if not self.root.is_dir():
            return FetchedPage(status=0, error=f"directory {self.root} does not exist")
        paths = _distributions(self.root, project, flat=True)
        if not paths:
            return FetchedPage(status=404)
        body = _synthesized_page(project, paths)
        return _page(project, body, _JSON, self.root.as_uri() + "/", self.limits, previous)
