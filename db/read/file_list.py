"""A snapshot page's files for :mod:`db.read.snapshot_reader`: their records, and :class:`FileList`,
which holds the page's version listing at once and reads each full record (core metadata
included) when first used."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, overload

from db.canonical import stored_hashes
from db.read.connection import ReadConnection
from db.requirement_facts import SplitRequirement, load_split, split_requirements
from db.version_listing import DamagedListing, Listing, listing_of

__all__ = ["BuildProvenance", "FileList", "FileLoader", "FileMetadata", "FileRecord"]


@dataclass(frozen=True, slots=True)
class FileMetadata:
    """What the snapshot knows of a file's core metadata.

    ``source`` is how it was obtained (pep658, range, download, sdist-static, built) — then
    the other fields hold it — or why not (needs-build, invalid, failed) — then ``error`` may
    say more and ``available`` is False.
    """

    source: str
    available: bool
    requires_dist: tuple[str, ...] = ()
    requires_python: str | None = None
    provides_extra: tuple[str, ...] = ()
    error: str | None = None
    # sha256 of the stored METADATA bytes (see SnapshotReader.metadata_bytes), when available.
    sha256: str | None = None
    # How it was built, when ``source`` is "built".
    build: BuildProvenance | None = None
    # ``requires_dist`` split as the snapshot stores it; None when it stores none (rows
    # written before it did, records built in memory): see :attr:`requirements`.
    split: tuple[SplitRequirement, ...] | None = None

    @property
    def requirements(self) -> tuple[SplitRequirement, ...]:
        """``requires_dist`` split (:mod:`db.requirement_facts`): as stored, else on the fly."""
        if self.split is not None:
            return self.split
        return split_requirements(self.requires_dist)


@dataclass(frozen=True, slots=True)
class BuildProvenance:
    """The PEP 517 backend (``module:object``) that prepared a file's metadata and the build
    requirements installed for it, as ``name==version``."""

    backend: str
    requires: tuple[str, ...]

    def __str__(self) -> str:
        used = ", ".join(self.requires) if self.requires else "no build requirements"
        return f"metadata built by {self.backend} ({used})"


@dataclass(frozen=True, slots=True)
class FileRecord:
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
    # Every hash the index gave, sha256 included, sorted by algorithm.
    hashes: tuple[tuple[str, str], ...]
    # None when the snapshot holds nothing about this file's core metadata.
    metadata: FileMetadata | None


_FILE_COLUMNS = """
SELECT f.position, f.filename, f.url, f.version, f.version_valid, f.is_wheel, f.tags,
       f.requires_python, f.yanked, f.yanked_reason, f.upload_time, f.size, f.sha256, f.hashes,
       sm.source, sm.error, m.sha256, m.requires_dist, m.requires_python, m.provides_extra,
       sm.build, m.requires_split
FROM file AS f
LEFT JOIN snapshot_metadata AS sm
       ON sm.snapshot_id = ? AND sm.index_id = ? AND sm.filename = f.filename
LEFT JOIN metadata AS m ON m.sha256 = sm.metadata_sha256
"""
_PAGE_FILES_QUERY = _FILE_COLUMNS + "WHERE f.page_id = ? ORDER BY f.position"
# The page's listing order, as the listing numbers the files.
_PAGE_UPLOAD_TIMES_QUERY = "SELECT upload_time FROM file WHERE page_id = ? ORDER BY position"
# What a page stored before ``page.listing`` existed is grouped from, in listing order.
_PAGE_HEADS_QUERY = """
SELECT version, version_valid FROM file WHERE page_id = ? ORDER BY position, filename COLLATE BINARY
"""
# Well under SQLite's smallest limit on query parameters (999).
_POSITIONS_PER_QUERY = 500


class FileList(Sequence[FileRecord]):
    """A page's files in listing order: their :class:`~db.version_listing.Listing` at once,
    each record read on first use (:meth:`take` for some, iteration for all) and kept. A file
    is named by its position, its index in listing order."""

    __slots__ = ("_load", "_records", "_upload_times", "listing")

    def __init__(self, listing: Listing, load: FileLoader | None = None) -> None:
        self.listing = listing
        self._load = load
        self._records: list[FileRecord | None] = [None] * listing.count
        self._upload_times: list[str | None] | None = None

    @classmethod
    def of(cls, files: Sequence[FileRecord]) -> FileList:
        """``files`` themselves, already read (for records built in memory)."""
        if isinstance(files, FileList):
            return files
        found = cls(listing_of((f.version, f.version_valid) for f in files))
        found._records = list(files)
        return found

    def take(self, positions: Sequence[int]) -> list[FileRecord]:
        """The records at ``positions``, reading those not read yet in one go."""
        records = self._records
        try:
            missing = [i for i in positions if records[i] is None]
            if missing:
                assert self._load is not None
                read = self._load.at(missing)
                for i in missing:
                    records[i] = read[i]
        except (IndexError, KeyError) as exc:  # the listing names a file the page lacks
            raise DamagedListing() from exc
        return [records[i] for i in positions]  # type: ignore[misc]

    def forget(self, positions: Sequence[int]) -> None:
        """Read the records at ``positions`` again on next use: a sync resolving against the
        snapshot it is building has added their core metadata since."""
        if self._load is not None:
            for i in positions:
                self._records[i] = None

    def upload_times(self) -> list[str | None]:
        """Each file's upload time, in listing order (read in one go on first use)."""
        if self._upload_times is None:
            if self._load is not None and None in self._records:
                self._upload_times = self._load.upload_times()
            else:
                self._upload_times = [f.upload_time for f in self._all()]
        return self._upload_times

    def _all(self) -> list[FileRecord]:
        if self._load is not None and None in self._records:
            self._records = list(self._load.page())
        return self._records  # type: ignore[return-value]

    @overload
    def __getitem__(self, index: int) -> FileRecord: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[FileRecord]: ...
    def __getitem__(self, index: int | slice) -> FileRecord | Sequence[FileRecord]:
        return self._all()[index]

    def __iter__(self) -> Iterator[FileRecord]:
        return iter(self._all())

    def __len__(self) -> int:
        return self.listing.count

    def __repr__(self) -> str:
        return f"FileList(versions={[text for text, _ in self.listing.versions]!r})"


class FileLoader:
    """Reads one snapshot page's files: the listing, for a page stored without one, and the
    full records."""

    __slots__ = ("_conn", "_index_id", "_page_id", "_snapshot_id")

    def __init__(self, conn: ReadConnection, snapshot_id: int, index_id: int, page_id: int) -> None:
        self._conn = conn
        self._snapshot_id = snapshot_id
        self._index_id = index_id
        self._page_id = page_id

    def listing(self) -> Listing:
        """The listing grouped from the file rows (a page stored before listings were)."""
        rows = self._conn.execute(_PAGE_HEADS_QUERY, (self._page_id,)).fetchall()
        return listing_of((text, bool(valid)) for text, valid in rows)

    def page(self) -> list[FileRecord]:
        query = (self._snapshot_id, self._index_id, self._page_id)
        return list(_file_records(self._conn.execute(_PAGE_FILES_QUERY, query)).values())

    def upload_times(self) -> list[str | None]:
        rows = self._conn.execute(_PAGE_UPLOAD_TIMES_QUERY, (self._page_id,))
        return [row[0] for row in rows]

    def at(self, positions: list[int]) -> dict[int, FileRecord]:
        """The records of the files at ``positions``, by position."""
        found: dict[int, FileRecord] = {}
        for start in range(0, len(positions), _POSITIONS_PER_QUERY):
            chunk = positions[start : start + _POSITIONS_PER_QUERY]
            marks = ",".join("?" * len(chunk))
            query = f"{_FILE_COLUMNS}WHERE f.page_id = ? AND f.position IN ({marks})"
            params = (self._snapshot_id, self._index_id, self._page_id, *chunk)
            found.update(_file_records(self._conn.execute(query, params)))
        return found


def _file_records(rows: Iterable[Any]) -> dict[int, FileRecord]:
    return {
        r[0]: FileRecord(
            filename=r[1],
            url=r[2],
            version=r[3],
            version_valid=bool(r[4]),
            is_wheel=bool(r[5]),
            tags=r[6],
            requires_python=r[7],
            yanked=bool(r[8]),
            yanked_reason=r[9],
            upload_time=r[10],
            size=r[11],
            sha256=r[12],
            hashes=_hashes(r[12], r[13]),
            metadata=_metadata(*r[14:22]),
        )
        for r in rows
    }


@lru_cache(maxsize=8192)
def _string_list(text: str | None) -> tuple[str, ...]:
    """A stored JSON list of strings. Consecutive releases of a project mostly repeat the
    same Requires-Dist, so each distinct text is decoded once (the tuples are immutable)."""
    return tuple(json.loads(text or "[]"))


def _hashes(sha256: str | None, others: str | None) -> tuple[tuple[str, str], ...]:
    """:func:`stored_hashes`, without its JSON and sorting for the usual sha256-only row."""
    if others:
        return stored_hashes(sha256, others)
    return (("sha256", sha256),) if sha256 else ()


def _metadata(
    source: str | None,
    error: str | None,
    sha: str | None,
    requires_dist: str | None,
    requires_python: str | None,
    provides_extra: str | None,
    build: str | None,
    requires_split: str | None,
) -> FileMetadata | None:
    if source is None:
        return None
    if sha is None:
        return FileMetadata(source=source, available=False, error=error)
    return FileMetadata(
        source=source,
        available=True,
        requires_dist=_string_list(requires_dist),
        requires_python=requires_python,
        provides_extra=_string_list(provides_extra),
        error=error,
        sha256=sha,
        build=_build(build),
        split=None if requires_split is None else load_split(requires_split),
    )


def _build(text: str | None) -> BuildProvenance | None:
    """A built file's provenance, from its canonical JSON (``snapshot_metadata.build``)."""
    if not text:
        return None
    value = json.loads(text)
    return BuildProvenance(str(value["backend"]), tuple(str(r) for r in value["requires"]))
