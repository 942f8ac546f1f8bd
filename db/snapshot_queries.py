"""Reading snapshots for people: list, show, diff, delete (with garbage collection)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Connection, Select, delete, func, select

from db.engine import driver_rows
from db.errors import UnknownSnapshot
from db.index_config import means_not_here, not_here_statuses
from db.schema import (
    blob,
    file,
    index,
    metadata,
    page,
    snapshot,
    snapshot_metadata,
    snapshot_page,
)
from db.snapshot_ref import resolve_snapshot

__all__ = [
    "MetadataChange",
    "SnapshotDiff",
    "SnapshotInfo",
    "UnknownSnapshot",
    "delete_snapshot",
    "diff_snapshots",
    "find_snapshot",
    "list_snapshots",
    "snapshot_details",
]


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    id: int
    name: str
    state: str
    created_at: str
    completed_at: str | None
    digest: str | None
    pages: int
    summary: dict[str, object]

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "state": self.state,
            "created_at": self.created_at,
            "completed_at": self.completed_at,
            "digest": self.digest,
            "pages": self.pages,
            "summary": self.summary,
        }


def _info_query() -> Select[Any]:
    pages = (
        select(func.count()).where(snapshot_page.c.snapshot_id == snapshot.c.id).scalar_subquery()
    )
    return select(snapshot, pages.label("pages"))


def _to_info(row: object) -> SnapshotInfo:
    r = row._mapping  # type: ignore[attr-defined]
    return SnapshotInfo(
        id=r["id"],
        name=r["name"],
        state=r["state"],
        created_at=r["created_at"],
        completed_at=r["completed_at"],
        digest=r["digest"],
        pages=r["pages"],
        summary=json.loads(r["summary"] or "{}"),
    )


def list_snapshots(conn: Connection) -> list[SnapshotInfo]:
    return [_to_info(r) for r in conn.execute(_info_query().order_by(snapshot.c.id))]


def find_snapshot(conn: Connection, ref: str, *, complete_only: bool = True) -> SnapshotInfo:
    """The snapshot ``ref`` means: a name, ``latest`` or a digest (prefix); see
    :mod:`db.snapshot_ref`."""
    snap_id = resolve_snapshot(
        lambda sql, params: driver_rows(conn, sql, params),
        ref,
        complete_only=complete_only,
    )[0]
    return _to_info(conn.execute(_info_query().where(snapshot.c.id == snap_id)).one())


def snapshot_details(conn: Connection, snap: SnapshotInfo) -> dict[str, object]:
    """Per index: projects by outcome, files, and core metadata coverage."""
    per_index: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    failed = page.c.error.is_not(None).label("failed")
    rows = conn.execute(
        select(index.c.name, page.c.status, failed, func.count().label("n"))
        .select_from(snapshot_page)
        .join(page, page.c.id == snapshot_page.c.page_id)
        .join(index, index.c.id == snapshot_page.c.index_id)
        .where(snapshot_page.c.snapshot_id == snap.id)
        .group_by(index.c.name, page.c.status, failed)
    )
    for r in rows:
        outcome = "failed" if r.failed else ("found" if r.status == 200 else f"status {r.status}")
        per_index[r.name][outcome] += r.n
    files = conn.execute(
        select(index.c.name, func.count().label("n"))
        .select_from(snapshot_page)
        .join(file, file.c.page_id == snapshot_page.c.page_id)
        .join(index, index.c.id == snapshot_page.c.index_id)
        .where(snapshot_page.c.snapshot_id == snap.id)
        .group_by(index.c.name)
    )
    for r in files:
        per_index[r.name]["files"] = r.n
    metas = conn.execute(
        select(index.c.name, snapshot_metadata.c.source, func.count().label("n"))
        .join(index, index.c.id == snapshot_metadata.c.index_id)
        .where(snapshot_metadata.c.snapshot_id == snap.id)
        .group_by(index.c.name, snapshot_metadata.c.source)
    )
    for r in metas:
        per_index[r.name][f"metadata {r.source}"] = r.n
    return {
        **snap.as_json(),
        "indexes": {name: dict(sorted(v.items())) for name, v in sorted(per_index.items())},
    }


@dataclass(slots=True)
class SnapshotDiff:
    projects_added: list[str] = field(default_factory=list)
    projects_removed: list[str] = field(default_factory=list)
    versions_added: list[str] = field(default_factory=list)
    versions_removed: list[str] = field(default_factory=list)
    files_added: list[str] = field(default_factory=list)
    files_removed: list[str] = field(default_factory=list)
    yanked: list[str] = field(default_factory=list)
    unyanked: list[str] = field(default_factory=list)
    # Pages that failed (or answered an ambiguous status) in either snapshot: what changed there
    # is not known, and a failed page is never reported as the project having gone.
    unknown: list[str] = field(default_factory=list)
    # Versions in both snapshots whose core metadata differs: what the resolver reads changed.
    metadata: list[MetadataChange] = field(default_factory=list)

    def as_json(self) -> dict[str, list[Any]]:
        return asdict(self)

    @property
    def empty(self) -> bool:
        return not any(self.as_json().values())


@dataclass(frozen=True, slots=True)
class MetadataChange:
    """One version's core metadata in each snapshot: the distinct (Requires-Dist,
    Requires-Python, Provides-Extra) of its files, usually one; none when the snapshot has no
    usable metadata for the version."""

    project: str
    version: str
    index: str
    old: list[dict[str, Any]]
    new: list[dict[str, Any]]

    def describe(self) -> str:
        """``requires-dist [a>=1] → [a>=2]; requires-python >=3.8 → >=3.9``, or missing."""
        if not self.old or not self.new:
            return "missing → present" if not self.old else "present → missing"
        parts = []
        for key in _METADATA_FIELDS:
            was, now = _field_text(self.old, key), _field_text(self.new, key)
            if was != now:
                parts.append(f"{key.replace('_', '-')} {was} → {now}")
        return "; ".join(parts)


_METADATA_FIELDS = ("requires_dist", "requires_python", "provides_extra")


def _field_text(metas: list[dict[str, Any]], key: str) -> str:
    values = dict.fromkeys(
        "[" + ", ".join(m[key]) + "]" if isinstance(m[key], list) else str(m[key] or "none")
        for m in metas
    )
    return " | ".join(values)


_PageKey = tuple[str, str]  # (index name, project)
_PageFiles = dict[_PageKey, dict[str, tuple[str, bool]]]


def _files_by_page(conn: Connection, snap_id: int) -> tuple[_PageFiles, set[_PageKey]]:
    """(index name, project) → {filename: (version, yanked)} for the pages found (HTTP 200),
    and the keys whose page failed or whose status the index's policy does not explain.
    Pages that say "not here" (404, 410, or a status in the index's not-here list) are in
    neither: the project is absent from that index."""
    out: _PageFiles = {}
    unknown: set[_PageKey] = set()
    pages = conn.execute(
        select(
            index.c.name,
            index.c.not_here,
            snapshot_page.c.project,
            page.c.id,
            page.c.status,
            page.c.error,
        )
        .join(page, page.c.id == snapshot_page.c.page_id)
        .join(index, index.c.id == snapshot_page.c.index_id)
        .where(snapshot_page.c.snapshot_id == snap_id)
    )
    page_keys: dict[int, _PageKey] = {}
    for p in pages:
        key = (p.name, p.project)
        if p.error is None and p.status == 200:
            page_keys[p.id] = key
            out[key] = {}
        elif p.error is not None or not means_not_here(p.status, not_here_statuses(p.not_here)):
            unknown.add(key)
    rows = conn.execute(
        select(file.c.page_id, file.c.filename, file.c.version, file.c.yanked)
        .join(snapshot_page, snapshot_page.c.page_id == file.c.page_id)
        .where(snapshot_page.c.snapshot_id == snap_id)
    )
    for r in rows:
        if r.page_id in page_keys:
            out[page_keys[r.page_id]][r.filename] = (r.version, bool(r.yanked))
    return out, unknown


_VersionMetadata = dict[tuple[str, str, str], list[dict[str, Any]]]


def _metadata_by_version(conn: Connection, snap_id: int) -> _VersionMetadata:
    """(index name, project, version) → the distinct core metadata of its files, in order."""
    rows = conn.execute(
        select(
            index.c.name,
            snapshot_page.c.project,
            file.c.version,
            metadata.c.requires_dist,
            metadata.c.requires_python,
            metadata.c.provides_extra,
        )
        .select_from(snapshot_metadata)
        .join(metadata, metadata.c.sha256 == snapshot_metadata.c.metadata_sha256)
        .join(index, index.c.id == snapshot_metadata.c.index_id)
        .join(
            snapshot_page,
            (snapshot_page.c.snapshot_id == snapshot_metadata.c.snapshot_id)
            & (snapshot_page.c.index_id == snapshot_metadata.c.index_id),
        )
        .join(
            file,
            (file.c.page_id == snapshot_page.c.page_id)
            & (file.c.filename == snapshot_metadata.c.filename),
        )
        .where(snapshot_metadata.c.snapshot_id == snap_id)
    )
    out: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
    for r in rows:
        meta = {
            "requires_dist": json.loads(r.requires_dist),
            "requires_python": r.requires_python,
            "provides_extra": json.loads(r.provides_extra),
        }
        out[(r.name, r.project, r.version)][json.dumps(meta, sort_keys=True)] = meta
    return {key: [found[k] for k in sorted(found)] for key, found in out.items()}


def _metadata_changes(
    conn: Connection, old: SnapshotInfo, new: SnapshotInfo, versions: set[tuple[str, str, str]]
) -> list[MetadataChange]:
    before, after = _metadata_by_version(conn, old.id), _metadata_by_version(conn, new.id)
    changes = []
    for key in sorted(versions):
        was, now = before.get(key, []), after.get(key, [])
        if was != now:
            name, project, version = key
            changes.append(MetadataChange(project, version, name, was, now))
    return changes


def diff_snapshots(conn: Connection, old: SnapshotInfo, new: SnapshotInfo) -> SnapshotDiff:
    (before, old_unknown), (after, new_unknown) = (
        _files_by_page(conn, old.id),
        _files_by_page(conn, new.id),
    )
    unknown = old_unknown | new_unknown
    diff = SnapshotDiff(unknown=[f"{project} ({name})" for name, project in sorted(unknown)])
    in_both: set[tuple[str, str, str]] = set()
    for key in sorted((before.keys() | after.keys()) - unknown):
        label = f"{key[1]} ({key[0]})"
        if key not in before:
            diff.projects_added.append(label)
        elif key not in after:
            diff.projects_removed.append(label)
        old_files, new_files = before.get(key, {}), after.get(key, {})
        old_versions = {v for v, _ in old_files.values()}
        new_versions = {v for v, _ in new_files.values()}
        diff.versions_added += [
            f"{key[1]} {v} ({key[0]})" for v in sorted(new_versions - old_versions)
        ]
        diff.versions_removed += [
            f"{key[1]} {v} ({key[0]})" for v in sorted(old_versions - new_versions)
        ]
        in_both.update((*key, v) for v in old_versions & new_versions)
        for name in sorted(new_files.keys() - old_files.keys()):
            diff.files_added.append(f"{name} ({key[0]})")
        for name in sorted(old_files.keys() - new_files.keys()):
            diff.files_removed.append(f"{name} ({key[0]})")
        for name in sorted(old_files.keys() & new_files.keys()):
            was, now = old_files[name][1], new_files[name][1]
            if was != now:
                (diff.yanked if now else diff.unyanked).append(f"{name} ({key[0]})")
    diff.metadata = _metadata_changes(conn, old, new, in_both)
    return diff


def delete_snapshot(conn: Connection, snap: SnapshotInfo) -> dict[str, int]:
    """Delete a snapshot, then every page, file, metadata row and blob no snapshot uses."""
    conn.execute(delete(snapshot).where(snapshot.c.id == snap.id))
    used_pages = select(snapshot_page.c.page_id)
    orphan_pages = select(page.c.id).where(page.c.id.not_in(used_pages))
    files_removed = conn.execute(delete(file).where(file.c.page_id.in_(orphan_pages))).rowcount
    pages_removed = conn.execute(delete(page).where(page.c.id.not_in(used_pages))).rowcount
    used_meta = select(snapshot_metadata.c.metadata_sha256).where(
        snapshot_metadata.c.metadata_sha256.is_not(None)
    )
    conn.execute(delete(metadata).where(metadata.c.sha256.not_in(used_meta)))
    used_blobs = (
        select(page.c.blob_sha256)
        .where(page.c.blob_sha256.is_not(None))
        .union(select(metadata.c.sha256))
    )
    blobs_removed = conn.execute(delete(blob).where(blob.c.sha256.not_in(used_blobs))).rowcount
    return {"pages": pages_removed, "files": files_removed, "blobs": blobs_removed}
