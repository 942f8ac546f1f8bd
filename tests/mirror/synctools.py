"""Reading a sync's results back out of the database, for the end-to-end sync tests.

Every helper takes the snapshot by name and defaults to the newest snapshot (complete or not),
so a test states what it expects of one sync at a time.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass

import zstandard

from tests.conftest import Mirror

__all__ = [
    "FileRow",
    "MetaRow",
    "PageRow",
    "all_text",
    "files",
    "metadata",
    "page",
    "pages",
]


@dataclass(frozen=True)
class PageRow:
    id: int
    index: str
    project: str
    status: int
    error: str | None
    content_type: str | None
    final_url: str | None
    serial: int | None
    project_status: str | None
    project_status_reason: str | None
    api_version: str | None


@dataclass(frozen=True)
class FileRow:
    filename: str
    url: str
    version: str
    version_valid: bool
    is_wheel: bool
    tags: str
    requires_python: str | None
    yanked: bool
    yanked_reason: str | None
    upload_time: str | None
    size: int | None
    sha256: str | None
    hashes: dict[str, str]
    core_metadata: dict[str, str] | None


@dataclass(frozen=True)
class MetaRow:
    index: str
    filename: str
    source: str
    error: str | None
    name: str | None
    version: str | None
    requires_dist: list[str] | None


def _snapshot_id(mirror: Mirror, snapshot: str | None) -> int:
    if snapshot is None:
        return int(mirror.scalar("SELECT max(id) FROM snapshot"))
    return int(mirror.scalar("SELECT id FROM snapshot WHERE name = ?", (snapshot,)))


def pages(mirror: Mirror, snapshot: str | None = None) -> list[PageRow]:
    """The pages a snapshot holds, by (index, project)."""
    rows = mirror.sql(
        """SELECT p.id, i.name, sp.project, p.status, p.error, p.content_type, p.final_url,
                  p.serial, p.project_status, p.project_status_reason, p.api_version
           FROM snapshot_page sp JOIN page p ON p.id = sp.page_id
           JOIN "index" i ON i.id = sp.index_id
           WHERE sp.snapshot_id = ? ORDER BY i.name, sp.project""",
        (_snapshot_id(mirror, snapshot),),
    )
    return [PageRow(*row) for row in rows]


def page(mirror: Mirror, index: str, project: str, snapshot: str | None = None) -> PageRow:
    (found,) = [p for p in pages(mirror, snapshot) if (p.index, p.project) == (index, project)]
    return found


def files(mirror: Mirror, index: str, project: str, snapshot: str | None = None) -> list[FileRow]:
    """The files of the page a snapshot holds for (index, project), in page order."""
    rows = mirror.sql(
        """SELECT f.filename, f.url, f.version, f.version_valid, f.is_wheel, f.tags,
                  f.requires_python, f.yanked, f.yanked_reason, f.upload_time, f.size, f.sha256,
                  f.hashes, f.core_metadata
           FROM file f JOIN snapshot_page sp ON sp.page_id = f.page_id
           JOIN "index" i ON i.id = sp.index_id
           WHERE sp.snapshot_id = ? AND i.name = ? AND sp.project = ? ORDER BY f.position""",
        (_snapshot_id(mirror, snapshot), index, project),
    )
    out = []
    for row in rows:
        *head, others, core = row
        head[3], head[4], head[7] = bool(head[3]), bool(head[4]), bool(head[7])
        # The hashes column holds those other than sha256, which has a column of its own.
        hashes = json.loads(others) if others else {}
        if head[11]:
            hashes["sha256"] = head[11]
        out.append(FileRow(*head, hashes, None if core is None else json.loads(core)))
    return out


def metadata(mirror: Mirror, snapshot: str | None = None) -> dict[str, MetaRow]:
    """The core metadata a snapshot knows, by filename (one index) or ``index:filename``."""
    rows = mirror.sql(
        """SELECT i.name, sm.filename, sm.source, sm.error, m.name, m.version, m.requires_dist
           FROM snapshot_metadata sm JOIN "index" i ON i.id = sm.index_id
           LEFT JOIN metadata m ON m.sha256 = sm.metadata_sha256
           WHERE sm.snapshot_id = ? ORDER BY i.name, sm.filename""",
        (_snapshot_id(mirror, snapshot),),
    )
    found = [MetaRow(*r[:6], None if r[6] is None else json.loads(r[6])) for r in rows]
    several = len({m.index for m in found}) > 1
    return {(f"{m.index}:{m.filename}" if several else m.filename): m for m in found}


def all_text(mirror: Mirror) -> list[tuple[str, str, str]]:
    """(table, column, value) of every stored value of every table, as text; blobs are
    decompressed first, so a page or metadata payload is searched as well."""
    out: list[tuple[str, str, str]] = []
    decompressor = zstandard.ZstdDecompressor()
    for table, columns in _tables(mirror).items():
        for row in mirror.sql(f'SELECT * FROM "{table}"'):
            for column, value in zip(columns, row, strict=True):
                if isinstance(value, bytes):
                    with contextlib.suppress(zstandard.ZstdError):
                        value = decompressor.decompress(value)
                    value = value.decode("utf-8", "replace")
                if value is not None:
                    out.append((table, column, str(value)))
    return out


def _tables(mirror: Mirror) -> dict[str, list[str]]:
    """Every table of the database and its columns, in order, on either engine."""
    if mirror.engine == "sqlite":
        names = [r[0] for r in mirror.sql("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: [r[1] for r in mirror.sql(f'PRAGMA table_info("{t}")')] for t in names}
    rows = mirror.sql(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
    )
    tables: dict[str, list[str]] = {}
    for table, column in rows:
        tables.setdefault(table, []).append(column)
    return tables
