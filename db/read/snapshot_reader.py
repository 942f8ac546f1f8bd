"""Reading one snapshot for ``resolve``: read-only, fast to import, SQLite or PostgreSQL.

This is the one module through which the resolver sees a snapshot. It imports neither
SQLAlchemy nor alembic (``import sqlalchemy`` alone costs a quarter of a second), never writes
to the database, and returns plain frozen records whose order never depends on the order rows
come back from SQL. Its queries are written once and run on either engine through
:mod:`db.read.connection`.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from db.canonical import canonical_name
from db.errors import DatabaseError, UnknownSnapshot
from db.index_config import IndexConfig, not_here_statuses
from db.paths import HEAD_REVISION, KNOWN_REVISIONS, database_url
from db.read.connection import ReadConnection, connect
from db.read.file_list import FileList, FileLoader, FileMetadata, FileRecord
from db.requirement_facts import SplitRequirement, split_one
from db.rules.rows import rule_document as _rule_document
from db.snapshot_names import given_name
from db.snapshot_ref import resolve_snapshot
from db.version_listing import load_listing

__all__ = [
    "FileList",
    "FileMetadata",
    "FileRecord",
    "IndexConfig",
    "PageRecord",
    "ProjectRecord",
    "SnapshotReader",
    "SnapshotRef",
    "SplitRequirement",
    "split_one",
]


@dataclass(frozen=True, slots=True)
class SnapshotRef:
    name: str
    digest: str

    @property
    def given_name(self) -> str | None:
        """The name, when a user gave it; None for a made-up one (:mod:`db.snapshot_names`)."""
        return given_name(self.name)


@dataclass(frozen=True, slots=True)
class PageRecord:
    """One index's answer for the project: found (200), not here (404…), or failed."""

    index: IndexConfig
    status: int
    failed: bool
    error: str | None
    files: Sequence[FileRecord]
    # PEP 792: the index's status for the project (None when it gave none: active).
    project_status: str | None = None
    project_status_reason: str | None = None

    @property
    def found(self) -> bool:
        return self.status == 200 and not self.failed

    @property
    def not_here(self) -> bool:
        """The index said it does not have the project (404, 410, or its not-here list)."""
        return not self.failed and self.index.means_not_here(self.status)


@dataclass(frozen=True, slots=True)
class ProjectRecord:
    """A project in the snapshot. ``in_snapshot`` is False when no index was asked about it
    (unlike an index answering 404, which is a page saying the project is not there)."""

    name: str
    in_snapshot: bool
    pages: tuple[PageRecord, ...]


_PAGES_QUERY = """
SELECT sp.index_id, p.status, p.error, p.id, p.project_status, p.project_status_reason,
       p.listing
FROM snapshot_page AS sp
JOIN page AS p ON p.id = sp.page_id
WHERE sp.snapshot_id = ? AND sp.project = ?
"""

_METADATA_BLOB_QUERY = """
SELECT b.sha256, b.data
FROM snapshot_metadata AS sm
JOIN blob AS b ON b.sha256 = sm.metadata_sha256
WHERE sm.snapshot_id = ? AND sm.index_id = ? AND sm.filename = ?
"""

_INDEX_QUERY = """
SELECT id, name, url, format, priority, is_default, explicit, not_here, exclude_newer
FROM "index"
WHERE id IN (SELECT DISTINCT index_id FROM snapshot_page WHERE snapshot_id = ?)
"""


class SnapshotReader:
    """A read-only view of one complete snapshot. Use :meth:`open`; close it when done (or
    use it as a context manager)."""

    __slots__ = ("_conn", "_indexes", "_snapshot_id", "snapshot")

    def __init__(self, conn: ReadConnection, snapshot_id: int, snapshot: SnapshotRef) -> None:
        self._conn = conn
        self._snapshot_id = snapshot_id
        self.snapshot = snapshot
        self._indexes: tuple[IndexConfig, ...] | None = None

    @classmethod
    def open(
        cls, path_or_url: str | None, snapshot: str = "latest", *, long_lived: bool = False
    ) -> SnapshotReader:
        """The snapshot ``snapshot`` (a name, ``latest`` — the newest complete one — or a
        digest or digest prefix, see :mod:`db.snapshot_ref`) of the database named like
        ``--db``. ``long_lived`` (a server's reader): no transaction held open between
        queries, which on PostgreSQL would hold back vacuum for as long as the reader lives;
        a complete snapshot's rows never change, so nothing is lost."""

        def find(conn: ReadConnection) -> tuple[int, SnapshotRef]:
            return _find_snapshot(conn, snapshot)

        return cls._open(path_or_url, find, live=long_lived)

    @classmethod
    def open_building(cls, path_or_url: str | None, snapshot_id: int) -> SnapshotReader:
        """A snapshot still being written, as far as it has been committed: for the sync's
        closure check, which resolves against the snapshot it is building."""

        def find(conn: ReadConnection) -> tuple[int, SnapshotRef]:
            row = conn.execute("SELECT name FROM snapshot WHERE id = ?", (snapshot_id,)).fetchone()
            if row is None:
                raise UnknownSnapshot(f"no snapshot with id {snapshot_id}")
            return snapshot_id, SnapshotRef(name=row[0], digest="")

        return cls._open(path_or_url, find, live=True)

    @classmethod
    def _open(
        cls,
        path_or_url: str | None,
        find: Callable[[ReadConnection], tuple[int, SnapshotRef]],
        *,
        live: bool = False,
    ) -> SnapshotReader:
        conn = connect(database_url(path_or_url), live=live)
        try:
            _check_revision(conn)
            snapshot_id, ref = find(conn)
        except BaseException:
            conn.close()
            raise
        return cls(conn, snapshot_id, ref)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SnapshotReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def indexes(self) -> list[IndexConfig]:
        """The indexes that have pages in this snapshot, by priority."""
        if self._indexes is None:
            rows = self._conn.execute(_INDEX_QUERY, (self._snapshot_id,)).fetchall()
            configs = [
                IndexConfig(
                    id=int(r[0]),
                    name=str(r[1]),
                    url=str(r[2]),
                    format=str(r[3]),
                    priority=int(r[4]),
                    is_default=bool(r[5]),
                    explicit=bool(r[6]),
                    not_here=not_here_statuses(r[7]),
                    exclude_newer=r[8],
                )
                for r in rows
            ]
            self._indexes = tuple(sorted(configs, key=lambda i: (i.priority, i.id)))
        return list(self._indexes)

    def rule_document(self, digest: str | None = None) -> dict[str, Any]:
        """The current rules' document (``RuleSet.to_document()`` form), or the stored rule set
        named by ``digest`` (full, or a prefix of at least 8 hex digits; UnknownRules if none)."""
        return _rule_document(self._conn, digest)

    def project(self, name: str, *, lazy_files: bool = False) -> ProjectRecord:
        """Every index's page for ``name`` in this snapshot, with its files and their core
        metadata, in index priority order and then the order each page lists its files.

        With ``lazy_files``, each page's ``files`` is a :class:`FileList` whose records are
        read when first used (so only while the reader is open): resolving reads the full
        records of the few versions it judges."""
        project = canonical_name(name)
        pages = self._conn.execute(_PAGES_QUERY, (self._snapshot_id, project)).fetchall()
        if not pages:
            return ProjectRecord(name=project, in_snapshot=False, pages=())
        by_id = {i.id: i for i in self.indexes()}
        records = []
        for index_id, status, error, page_id, project_status, reason, listing in sorted(
            pages, key=lambda page: (by_id[page[0]].priority, page[0])
        ):
            loader = FileLoader(self._conn, self._snapshot_id, index_id, page_id)
            records.append(
                PageRecord(
                    index=by_id[index_id],
                    status=int(status),
                    failed=error is not None or status == 0,
                    error=error,
                    files=FileList(
                        loader.listing() if listing is None else load_listing(listing), loader
                    ),
                    project_status=project_status,
                    project_status_reason=reason,
                )
            )
        if not lazy_files:
            records = [replace(page, files=tuple(page.files)) for page in records]
        return ProjectRecord(name=project, in_snapshot=True, pages=tuple(records))

    def project_names(self) -> list[str]:
        """The canonical name of every project some index was asked about in this snapshot,
        sorted."""
        rows = self._conn.execute(
            "SELECT DISTINCT project FROM snapshot_page WHERE snapshot_id = ?",
            (self._snapshot_id,),
        ).fetchall()
        return sorted(str(r[0]) for r in rows)

    def metadata_bytes(self, index_id: int, filename: str) -> bytes | None:
        """The raw core metadata file (METADATA / PKG-INFO bytes) this snapshot holds for
        ``filename`` on index ``index_id``, or None when it holds none. Raises DatabaseError
        when the stored bytes are damaged."""
        row = self._conn.execute(_METADATA_BLOB_QUERY, (self._snapshot_id, index_id, filename))
        found = row.fetchone()
        if found is None:
            return None
        digest, packed = str(found[0]), found[1]
        import zstandard  # imported here: resolving never reads payloads

        try:
            data: bytes = zstandard.ZstdDecompressor().decompress(packed)
        except zstandard.ZstdError as exc:
            raise DatabaseError(
                f"metadata payload {digest} is corrupt: {exc}", hint="run `mirror db check`"
            ) from exc
        if hashlib.sha256(data).hexdigest() != digest:
            raise DatabaseError(
                f"metadata payload {digest} is corrupt", hint="run `mirror db check`"
            )
        return data


def _check_revision(conn: ReadConnection) -> None:
    revision = conn.revision()
    path = conn.shown
    if revision == HEAD_REVISION:
        return
    if revision is None:
        raise DatabaseError(
            f"the database {path} is empty",
            hint="run `mirror sync PROJECT…` to fill it",
        )
    if revision not in KNOWN_REVISIONS:
        raise DatabaseError(
            f"the database {path} has schema revision {revision}, "
            "newer than this version of sneakernet knows",
            hint="upgrade sneakernet, or use the database with the version that wrote it",
        )
    raise DatabaseError(
        f"the database {path} has schema revision {revision} and needs an upgrade",
        hint="run `mirror db upgrade`",
    )


def _find_snapshot(conn: ReadConnection, ref: str) -> tuple[int, SnapshotRef]:
    """The complete snapshot ``ref`` means (:func:`db.snapshot_ref.resolve_snapshot`)."""
    try:
        snap_id, name, _state, digest = resolve_snapshot(
            lambda sql, params: conn.execute(sql, tuple(params)).fetchall(), ref
        )
        return snap_id, SnapshotRef(name=name, digest=digest or "")
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(
            f"the database is damaged or not a database: {exc}",
            hint="restore it from a backup or an exported snapshot (`mirror import`)",
        ) from exc
