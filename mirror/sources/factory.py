"""One source per configured index, sharing one HTTP client for the run."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from db.indexes import IndexConfig
from db.urls import strip_credentials
from mirror.http.client import IndexClient
from mirror.pipconfig import pip_indexes
from mirror.sources.http import HttpFlatSource, HttpSimpleSource
from mirror.sources.local import LocalFlatSource, LocalSimpleSource
from mirror.sources.protocol import IndexSource

__all__ = ["open_sources", "runtime_url", "with_pip_credentials"]


def runtime_url(index: IndexConfig, pip_urls: Sequence[str]) -> str:
    """The index URL to use now: with credentials when pip's configuration gives them for the
    same index (they are never stored; MIRROR.md, "Auth")."""
    return with_pip_credentials(index.url, pip_urls)


def with_pip_credentials(url: str, pip_urls: Sequence[str]) -> str:
    """``url``, or the one of ``pip_urls`` that is the same URL with credentials."""
    for candidate in pip_urls:
        if "@" in candidate and strip_credentials(candidate).rstrip("/") == url.rstrip("/"):
            return candidate
    return url


@asynccontextmanager
async def open_sources(
    indexes: Sequence[IndexConfig], *, client: IndexClient
) -> AsyncIterator[dict[int, IndexSource]]:
    """A source per index; the HTTP ones share ``client``, which the caller opens and closes
    (and reads the traffic of afterwards)."""
    pip_urls = (
        [p.url for p in pip_indexes()] if any(i.url.startswith("http") for i in indexes) else []
    )
    sources: dict[int, IndexSource] = {}
    for index in indexes:
        if index.url.startswith("file:"):
            limits = client.config.limits  # the same bounds as a page over HTTP
            sources[index.id] = (
                LocalFlatSource(index.url, limits)
                if index.format == "flat"
                else LocalSimpleSource(index.url, limits)
            )
            continue
        url = client.add_index(runtime_url(index, pip_urls), name=index.name)
        sources[index.id] = (
            HttpFlatSource(client, index, url)
            if index.format == "flat"
            else HttpSimpleSource(client, index, url)
        )
    yield sources
