"""Writing snapshots (used by `mirror sync`).

A sync opens a snapshot in state ``building``, records each page (sharing unchanged ones with
earlier snapshots) and each core metadata file as it arrives — committed in batches — and then
makes the snapshot ``complete`` in one final transaction. A crash leaves a ``building`` snapshot
that the next sync resumes from what was committed; readers never see it, and earlier snapshots
are never modified. Completion first carries over, from the newest complete snapshot, every
project this one did not fetch (:mod:`db.write.carry`), unless the sync asked for a fresh one.

This module only writes. The lookups a sync makes before fetching (what this snapshot and the
previous one already hold) live in :mod:`db.write.building_snapshot`, which ``SnapshotWriter``
extends.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from sqlalchemy import Connection, Engine, delete, select, text, update
from sqlalchemy.exc import IntegrityError

from db.blobs import blob_row
from db.canonical import canonical_json
from db.digests import content_digest, now_utc, page_digest
from db.engine import driver_rows
from db.errors import SneakernetError, UnknownSnapshot
from db.file_rows import file_row
from db.records import CoreMetadata, FetchedPage
from db.requirement_facts import split_json
from db.schema import blob, file, metadata, page, snapshot, snapshot_metadata, snapshot_page
from db.snapshot_names import made_up_name
from db.snapshot_ref import resolve_snapshot
from db.version_listing import listing_json, listing_of
from db.write.building_snapshot import BuildingSnapshot
from db.write.bulk import insert_or_find_id, insert_rows, select_one
from db.write.carry import Carried, carry_over
from db.write.commit_batches import BatchCommitter, RowInsert

__all__ = ["Completed", "SnapshotWriter"]


class Completed(NamedTuple):
    digest: str
    carried: Carried


# Tries at a free made-up name before giving up (each lost race moves one name on).
_NAME_ATTEMPTS = 20

# The PostgreSQL advisory lock key that orders snapshot completions (any fixed bigint).
_COMPLETION_LOCK = 0x736E6B6E6574 + 1


class SnapshotWriter(BuildingSnapshot):
    """Writes one snapshot. Records are buffered and committed together every
    ``FLUSH_SECONDS`` or ``FLUSH_ITEMS`` (see :mod:`db.write.commit_batches`); whatever was
    committed survives a crash and is not fetched again."""

    FLUSH_ITEMS = 500
    FLUSH_SECONDS = 0.5

    def __init__(self, engine: Engine, snapshot_id: int, previous_id: int | None) -> None:
        super().__init__(engine, snapshot_id, previous_id)
        self._batches = BatchCommitter(engine, items=self.FLUSH_ITEMS, seconds=self.FLUSH_SECONDS)

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def open(
        cls, engine: Engine, *, name: str | None, plan: Mapping[str, object]
    ) -> SnapshotWriter:
        """Resume the unfinished snapshot with the same plan, or start a new one."""
        plan_json = canonical_json(plan)
        # Two syncs started in the same second both make up the same name; the one whose
        # insert loses takes the next free one (db/snapshot_names.py) on the next attempt.
        for _attempt in range(_NAME_ATTEMPTS - 1):
            try:
                return cls._open(engine, name=name, plan_json=plan_json)
            except IntegrityError as exc:
                if name is not None:  # a given name taken since it was checked
                    raise _name_in_use(name, "building") from exc
        return cls._open(engine, name=name, plan_json=plan_json)

    @classmethod
    def _open(cls, engine: Engine, *, name: str | None, plan_json: str) -> SnapshotWriter:
        with engine.begin() as conn:
            previous_id = _latest_complete(conn)
            query = select(snapshot.c.id, snapshot.c.name).where(
                snapshot.c.state == "building", snapshot.c.plan == plan_json
            )
            if name is not None:
                query = query.where(snapshot.c.name == name)
            resumable = conn.execute(query.order_by(snapshot.c.id.desc())).first()
            if resumable is not None:
                return cls(engine, resumable.id, previous_id)
            created = now_utc()
            if name is None:
                name = made_up_name(created, lambda n: _name_taken(conn, n))
            else:
                taken = conn.execute(select(snapshot.c.state).where(snapshot.c.name == name))
                state = taken.scalar()
                if state is not None:
                    raise _name_in_use(name, state)
            new_id = conn.execute(
                snapshot.insert().values(
                    name=name, state="building", created_at=created, plan=plan_json
                )
            ).inserted_primary_key
            assert new_id is not None
            return cls(engine, int(new_id[0]), previous_id)

    # -- pages ------------------------------------------------------------------------------

    def record_page(self, index_id: int, project: str, fetched: FetchedPage) -> None:
        """Store a freshly fetched page (or find the identical stored state) for this snapshot.
        Buffered: it is committed by the next flush."""
        payload = None if fetched.body is None else blob_row(fetched.body)
        blob_sha = None if payload is None else str(payload["sha256"])
        self._batches.add(
            *([] if payload is None else [RowInsert(blob, payload, ("sha256",))]),
            write=lambda conn: self._store_page(conn, index_id, project, fetched, blob_sha),
        )

    def _store_page(
        self,
        conn: Connection,
        index_id: int,
        project: str,
        fetched: FetchedPage,
        blob_sha: str | None,
    ) -> None:
        digest = page_digest(index_id, project, fetched, blob_sha)
        found = select_one(
            conn, page, ("id",), {"index_id": index_id, "project": project, "digest": digest}
        )
        page_id = (
            int(found[0])
            if found is not None
            else self._insert_page(conn, index_id, project, fetched, blob_sha, digest)
        )
        self._link_page(conn, index_id, project, page_id, fetched.etag, fetched.last_modified)

    def reuse_page(
        self, index_id: int, project: str, page_id: int, etag: str | None, last_modified: str | None
    ) -> None:
        """A 304 (or a stale reply we refuse): this snapshot shares the stored page."""
        self._batches.add(
            write=lambda conn: self._link_page(
                conn, index_id, project, page_id, etag, last_modified
            )
        )

    def _insert_page(
        self,
        conn: Connection,
        index_id: int,
        project: str,
        fetched: FetchedPage,
        blob_sha: str | None,
        digest: str,
    ) -> int:
        parsed = fetched.parsed
        # Content-addressed: a page another sync stores at the same moment is shared, and its
        # files are that sync's to insert.
        page_id, inserted = insert_or_find_id(
            conn,
            page,
            {
                "index_id": index_id,
                "project": project,
                "status": fetched.status,
                "error": fetched.error,
                "content_type": fetched.content_type,
                "blob_sha256": blob_sha,
                "final_url": fetched.final_url,
                "display_name": parsed.name if parsed else None,
                "api_version": parsed.api_version if parsed else None,
                "serial": parsed.last_serial if parsed else None,
                "project_status": parsed.project_status if parsed else None,
                "project_status_reason": parsed.project_status_reason if parsed else None,
                "digest": digest,
                "listing": listing_json(
                    listing_of((d.version, d.version_valid) for d in parsed.files)
                    if parsed
                    else listing_of(())
                ),
            },
            ("index_id", "project", "digest"),
        )
        if inserted and parsed is not None and parsed.files:
            insert_rows(
                conn, file, [file_row(page_id, pos, dist) for pos, dist in enumerate(parsed.files)]
            )
        return page_id

    def _link_page(
        self,
        conn: Connection,
        index_id: int,
        project: str,
        page_id: int,
        etag: str | None,
        last_modified: str | None,
    ) -> None:
        insert_rows(
            conn,
            snapshot_page,
            [
                {
                    "snapshot_id": self.snapshot_id,
                    "index_id": index_id,
                    "project": project,
                    "page_id": page_id,
                    "etag": etag,
                    "last_modified": last_modified,
                    "fetched_at": now_utc(),
                }
            ],
            conflict_keys=("snapshot_id", "index_id", "project"),
            update=("page_id", "etag", "last_modified"),
        )
        self._carry_metadata(conn, index_id, page_id)

    def _carry_metadata(self, conn: Connection, index_id: int, page_id: int) -> None:
        """Core metadata known in the previous snapshot for files still listed is kept, so an
        unchanged file is never fetched twice. Failed attempts are not carried (retried)."""
        if self.previous_id is None:
            return
        listed = select(file.c.filename).where(file.c.page_id == page_id)
        rows = conn.execute(
            select(
                snapshot_metadata.c.filename,
                snapshot_metadata.c.source,
                snapshot_metadata.c.metadata_sha256,
                snapshot_metadata.c.error,
                snapshot_metadata.c.build,
            ).where(
                snapshot_metadata.c.snapshot_id == self.previous_id,
                snapshot_metadata.c.index_id == index_id,
                snapshot_metadata.c.source.notin_(self.retried),
                snapshot_metadata.c.filename.in_(listed),
            )
        ).all()
        if rows:
            insert_rows(
                conn,
                snapshot_metadata,
                [
                    {
                        "snapshot_id": self.snapshot_id,
                        "index_id": index_id,
                        "filename": r.filename,
                        "source": r.source,
                        "metadata_sha256": r.metadata_sha256,
                        "error": r.error,
                        "build": r.build,
                    }
                    for r in rows
                ],
                conflict_keys=("snapshot_id", "index_id", "filename"),
            )

    # -- core metadata ------------------------------------------------------------------------

    def record_metadata(
        self,
        index_id: int,
        filename: str,
        *,
        source: str,
        raw: bytes | None = None,
        parsed: CoreMetadata | None = None,
        error: str | None = None,
        build: str | None = None,
    ) -> None:
        """Store what was found for one file's core metadata in this snapshot; the file itself
        is kept when ``raw`` and ``parsed`` are given; ``build`` is a built one's provenance.
        Buffered: it is committed by the next flush."""
        inserts = []
        sha = None
        if raw is not None and parsed is not None:
            payload = blob_row(raw)
            sha = str(payload["sha256"])
            meta_row = {
                "sha256": sha,
                "name": parsed.name,
                "version": parsed.version,
                "metadata_version": parsed.metadata_version,
                "requires_dist": canonical_json(list(parsed.requires_dist)),
                "requires_python": parsed.requires_python,
                "provides_extra": canonical_json(list(parsed.provides_extra)),
                "dynamic": canonical_json(list(parsed.dynamic)),
                "requires_split": split_json(parsed.requires_dist),
            }
            inserts += [
                RowInsert(blob, payload, ("sha256",)),
                RowInsert(metadata, meta_row, ("sha256",)),
            ]
        link = {
            "snapshot_id": self.snapshot_id,
            "index_id": index_id,
            "filename": filename,
            "source": source,
            "metadata_sha256": sha,
            "error": error,
            "build": build,
        }
        update = ("source", "metadata_sha256", "error", "build")
        inserts.append(
            RowInsert(snapshot_metadata, link, ("snapshot_id", "index_id", "filename"), update)
        )
        self._batches.add(*inserts)

    # -- batching -------------------------------------------------------------------------------

    def flush(self) -> None:
        """Commit everything recorded so far and wait for it: the unit of resumption (what an
        interrupted sync does not fetch again)."""
        self._batches.flush()

    # -- finishing ----------------------------------------------------------------------------

    def complete(self, summary: Mapping[str, object], *, cumulative: bool) -> Completed:
        """Make the snapshot visible, in one transaction, and return its content digest and
        what it carried over. ``cumulative``: every project of the base (the newest complete
        snapshot at this moment) that this snapshot lacks is carried over first
        (:mod:`db.write.carry`); otherwise it holds exactly what was recorded."""
        self.flush()
        with self.engine.begin() as conn:
            # The completion time is written first: on SQLite that takes the database's write
            # lock, so no other sync completes between choosing the base and this snapshot
            # becoming `latest` — two syncs finishing together each keep the other's projects.
            # PostgreSQL locks rows, not the database: an advisory lock held to the end of the
            # transaction orders completions the same way.
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _COMPLETION_LOCK})
            conn.execute(
                update(snapshot)
                .where(snapshot.c.id == self.snapshot_id)
                .values(completed_at=now_utc())
            )
            base_id = _latest_complete(conn) if cumulative else None
            carried = Carried() if base_id is None else carry_over(conn, self.snapshot_id, base_id)
            digest = content_digest(conn, self.snapshot_id)
            conn.execute(
                update(snapshot)
                .where(snapshot.c.id == self.snapshot_id)
                .values(
                    state="complete",
                    digest=digest,
                    summary=canonical_json({**summary, "carried": carried.as_json()}),
                )
            )
            return Completed(digest, carried)

    def abandon(self) -> None:
        """Drop an unfinished snapshot's links (its shared pages and blobs stay)."""
        with self.engine.begin() as conn:
            conn.execute(delete(snapshot).where(snapshot.c.id == self.snapshot_id))


def _name_in_use(name: str, state: str) -> SneakernetError:
    return SneakernetError(
        f"a snapshot named {name!r} already exists ({state})",
        hint="pick another --name, or delete it with `mirror snapshot delete`",
    )


def _latest_complete(conn: Connection) -> int | None:
    """The newest complete snapshot's id (db/snapshot_ref.py's `latest`), None when none is."""
    try:
        return resolve_snapshot(lambda sql, params: driver_rows(conn, sql, params), "latest")[0]
    except UnknownSnapshot:
        return None


def _name_taken(conn: Connection, name: str) -> bool:
    return conn.execute(select(snapshot.c.id).where(snapshot.c.name == name)).first() is not None
