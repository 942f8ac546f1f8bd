"""Content digests: the same content gives the same digest on every machine.

A page state's digest leaves out row ids, fetch times and caching headers; a snapshot's digest
is taken over its sorted pages and metadata links, named by index URL rather than by local
index name or id.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from db.blobs import sha256_hex
from db.canonical import canonical_json
from db.records import FetchedPage
from db.schema import index, page, snapshot_metadata, snapshot_page

__all__ = ["content_digest", "now_utc", "page_digest"]


def now_utc() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def page_digest(index_id: int, project: str, fetched: FetchedPage, blob_sha: str | None) -> str:
    parsed = fetched.parsed
    state = {
        "status": fetched.status,
        "error": fetched.error,
        "content_type": fetched.content_type,
        "blob": blob_sha,
        "final_url": fetched.final_url,
        "serial": parsed.last_serial if parsed else None,
    }
    return sha256_hex(canonical_json(state).encode())


def content_digest(conn: Connection, snapshot_id: int) -> str:
    """sha256 over the snapshot's content, independent of row ids, names and fetch times:
    each page as (index URL, project, page state digest) and each metadata link as
    (index URL, filename, source, metadata sha256), sorted."""
    lines: list[str] = []
    pages = conn.execute(
        select(index.c.url, snapshot_page.c.project, page.c.digest)
        .join(page, page.c.id == snapshot_page.c.page_id)
        .join(index, index.c.id == snapshot_page.c.index_id)
        .where(snapshot_page.c.snapshot_id == snapshot_id)
    )
    lines += [f"page\t{r.url}\t{r.project}\t{r.digest}" for r in pages]
    metas = conn.execute(
        select(
            index.c.url,
            snapshot_metadata.c.filename,
            snapshot_metadata.c.source,
            snapshot_metadata.c.metadata_sha256,
        )
        .join(index, index.c.id == snapshot_metadata.c.index_id)
        .where(snapshot_metadata.c.snapshot_id == snapshot_id)
    )
    lines += [f"meta\t{r.url}\t{r.filename}\t{r.source}\t{r.metadata_sha256}" for r in metas]
    return hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()
