"""What a cumulative snapshot takes over from its base (MIRROR.md, "Sync behaviour").

A sync refreshes the projects it reaches; every other project of the base snapshot (the newest
complete one) is carried over unchanged: the new snapshot links the very same page rows, with
the caching headers and fetch times the base had, and the core metadata links of their files
(failed attempts included: unchanged means unchanged; syncing the project retries them).
Nothing is fetched and nothing but the links is written.

The carry runs inside the completing transaction (:meth:`SnapshotWriter.complete`), after
everything this run fetched is committed: a building snapshot holds only what was fetched, so
an interrupted sync resumes exactly as before, and the carried rows become visible together
with the snapshot, never half of them.

Only rows of indexes still configured are carried: an index removed since the base takes its
pages (and their metadata links) out of the new snapshot, and the summary says how many.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Select, Table, and_, func, literal, select

from db.schema import file, index, snapshot, snapshot_metadata, snapshot_page
from db.write.bulk import upsert

__all__ = ["Carried", "carry_over"]


@dataclass(frozen=True, slots=True)
class Carried:
    """What a snapshot took over from ``base`` (None: it started empty)."""

    base: str | None = None
    projects: int = 0
    pages: int = 0
    metadata: int = 0
    # Pages of the base left out because their index was removed since, per index name.
    removed_indexes: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {
            "base": self.base,
            "projects": self.projects,
            "pages": self.pages,
            "metadata": self.metadata,
            "removed_indexes": dict(sorted(self.removed_indexes.items())),
        }


def carry_over(conn: Connection, snapshot_id: int, base_id: int) -> Carried:
    """Link into ``snapshot_id`` every page of ``base_id`` whose project this snapshot does
    not hold and whose index is still configured, and the base's core metadata links for the
    files those pages list."""
    fetched = select(snapshot_page.c.project).where(snapshot_page.c.snapshot_id == snapshot_id)
    live = select(index.c.id).where(index.c.removed.is_(False))
    carried = (
        select(snapshot_page)
        .where(
            snapshot_page.c.snapshot_id == base_id,
            snapshot_page.c.project.not_in(fetched),
            snapshot_page.c.index_id.in_(live),
        )
        .subquery("carried")
    )
    # Metadata first: once the pages are linked, "projects this snapshot does not hold" no
    # longer tells carried pages apart. A filename listed twice (two carried pages of one
    # index) or already linked by this run keeps its first row.
    metadata_rows = (
        select(
            literal(snapshot_id),
            snapshot_metadata.c.index_id,
            snapshot_metadata.c.filename,
            snapshot_metadata.c.source,
            snapshot_metadata.c.metadata_sha256,
            snapshot_metadata.c.error,
            snapshot_metadata.c.build,
        )
        .select_from(carried)
        .join(file, file.c.page_id == carried.c.page_id)
        .join(
            snapshot_metadata,
            and_(
                snapshot_metadata.c.index_id == carried.c.index_id,
                snapshot_metadata.c.filename == file.c.filename,
            ),
        )
        # In the WHERE clause, not the join: SQLite reads `ON CONFLICT` after a SELECT with
        # no WHERE as the join's constraint (its documented upsert parsing ambiguity).
        .where(snapshot_metadata.c.snapshot_id == base_id)
    )
    metadata_count = _insert_from(conn, snapshot_metadata, metadata_rows, keep_existing=True)
    projects = conn.execute(select(func.count(carried.c.project.distinct()))).scalar_one()
    page_rows = select(
        literal(snapshot_id),
        carried.c.index_id,
        carried.c.project,
        carried.c.page_id,
        carried.c.etag,
        carried.c.last_modified,
        carried.c.fetched_at,
    )
    # No page conflicts: a carried project is one this snapshot holds no page of.
    page_count = _insert_from(conn, snapshot_page, page_rows, keep_existing=False)
    dropped = conn.execute(
        select(index.c.name, func.count())
        .join(snapshot_page, snapshot_page.c.index_id == index.c.id)
        .where(snapshot_page.c.snapshot_id == base_id, index.c.removed.is_(True))
        .group_by(index.c.name)
    )
    base_name = conn.execute(select(snapshot.c.name).where(snapshot.c.id == base_id)).scalar_one()
    return Carried(
        base=base_name,
        projects=int(projects),
        pages=page_count,
        metadata=metadata_count,
        removed_indexes={name: int(n) for name, n in dropped},
    )


def _insert_from(conn: Connection, table: Table, rows: Select[Any], *, keep_existing: bool) -> int:
    """INSERT … SELECT ``rows`` into ``table`` (columns in table order); with
    ``keep_existing``, a row already there stays. Returns the number of rows inserted."""
    statement = upsert(conn, table).from_select([c.name for c in table.columns], rows)
    if keep_existing:
        statement = statement.on_conflict_do_nothing()
    # Counted from RETURNING: psycopg reports no rowcount for an INSERT … SELECT.
    key = next(iter(table.primary_key.columns))
    return len(conn.execute(statement.returning(key)).all())
