"""What a snapshot being built, and the latest complete one before it, already hold.

These are the lookups a sync makes to decide what to fetch: pages a resumed snapshot holds,
the previous pages' caching headers for conditional requests, a stored page's files, and the
core metadata already known. They only read; recording lives in :mod:`db.write.snapshot_writer`,
whose ``SnapshotWriter`` extends :class:`BuildingSnapshot` so that the sync keeps one object
and each lookup stays a direct method call.
"""

from __future__ import annotations

import json

from sqlalchemy import Engine, select

from db.file_rows import dist_from_row
from db.records import RETRIED_SOURCES, DistFile, PreviousPage
from db.schema import file, metadata, page, snapshot_metadata, snapshot_page

__all__ = ["BuildingSnapshot"]


class BuildingSnapshot:
    """Snapshot ``snapshot_id`` (state ``building``) and ``previous_id``, the latest complete
    snapshot when it was opened (None when there is none). Each lookup sees only what has
    been committed."""

    def __init__(self, engine: Engine, snapshot_id: int, previous_id: int | None) -> None:
        self.engine = engine
        self.snapshot_id = snapshot_id
        self.previous_id = previous_id
        # Metadata outcomes of the previous snapshot fetched again rather than carried (a sync
        # that builds adds needs-build: a build may now succeed where it was refused or failed).
        self.retried: tuple[str, ...] = RETRIED_SOURCES

    # -- pages ------------------------------------------------------------------------------

    @property
    def resumed_pages(self) -> set[tuple[int, str]]:
        """(index_id, project) pages this snapshot already holds (after an interruption)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(snapshot_page.c.index_id, snapshot_page.c.project).where(
                    snapshot_page.c.snapshot_id == self.snapshot_id
                )
            )
            return {(r.index_id, r.project) for r in rows}

    def previous_pages(self) -> dict[tuple[int, str], PreviousPage]:
        """Pages of the latest complete snapshot, keyed by (index_id, project)."""
        if self.previous_id is None:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    snapshot_page.c.index_id,
                    snapshot_page.c.project,
                    snapshot_page.c.etag,
                    snapshot_page.c.last_modified,
                    page.c.id,
                    page.c.status,
                    page.c.serial,
                    page.c.error,
                    page.c.blob_sha256,
                    page.c.content_type,
                    page.c.final_url,
                )
                .join(page, page.c.id == snapshot_page.c.page_id)
                .where(snapshot_page.c.snapshot_id == self.previous_id)
            )
            return {
                (r.index_id, r.project): PreviousPage(
                    page_id=r.id,
                    status=r.status,
                    etag=r.etag,
                    last_modified=r.last_modified,
                    serial=r.serial,
                    failed=r.error is not None,
                    blob_sha256=r.blob_sha256,
                    content_type=r.content_type,
                    final_url=r.final_url,
                )
                for r in rows
            }

    def page_files(self, page_id: int) -> list[DistFile]:
        """The files a stored page lists, in page order."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(file).where(file.c.page_id == page_id).order_by(file.c.position)
            )
            return [dist_from_row(r._mapping) for r in rows]

    def page_link(self, index_id: int, project: str) -> tuple[int, int, bool] | None:
        """(page_id, status, failed) of the page this snapshot holds for (index, project)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(page.c.id, page.c.status, page.c.error)
                .join(snapshot_page, snapshot_page.c.page_id == page.c.id)
                .where(
                    snapshot_page.c.snapshot_id == self.snapshot_id,
                    snapshot_page.c.index_id == index_id,
                    snapshot_page.c.project == project,
                )
            ).first()
            return None if row is None else (row.id, row.status, row.error is not None)

    # -- core metadata ------------------------------------------------------------------------

    def metadata_index(self, *, previous: bool) -> dict[tuple[int, str], list[str] | None]:
        """(index_id, filename) → Requires-Dist (None when there is no usable metadata) for
        the metadata rows of this snapshot, or of the previous one that will be carried over
        (failed attempts are not carried: they are tried again)."""
        snapshot_id = self.previous_id if previous else self.snapshot_id
        if snapshot_id is None:
            return {}
        query = (
            select(
                snapshot_metadata.c.index_id,
                snapshot_metadata.c.filename,
                metadata.c.requires_dist,
            )
            .outerjoin(metadata, metadata.c.sha256 == snapshot_metadata.c.metadata_sha256)
            .where(snapshot_metadata.c.snapshot_id == snapshot_id)
        )
        if previous:
            query = query.where(snapshot_metadata.c.source.notin_(self.retried))
        with self.engine.connect() as conn:
            return {
                (r.index_id, r.filename): (
                    None if r.requires_dist is None else json.loads(r.requires_dist)
                )
                for r in conn.execute(query)
            }
