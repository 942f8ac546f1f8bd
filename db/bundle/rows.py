"""Snapshot bundles at the row level: the rows that carry a set of snapshots, table by table.

A bundle holds, in :data:`TABLES` order (every row after the rows it refers to): the indexes
the snapshots reference, the payloads, core metadata, pages and files they use, the snapshots
with their page and metadata links, and every rule set with its rules. Columns are taken from
:mod:`db.schema` as they are, so a column added to a table travels without code here.

Rows are numbered by the bundle itself: a table with an integer ``id`` gets ids 1…n in the
order of its rows' content, and references are rewritten to those ids. Local row ids, and the
order SQL returns rows in, never reach the file, so the same snapshots give the same bundle.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Column, ColumnElement, Connection, RowMapping, Table, select, union

from db.blobs import get_blob
from db.errors import SneakernetError
from db.schema import (
    blob,
    file,
    index,
    metadata,
    page,
    rule,
    rule_set,
    snapshot,
    snapshot_metadata,
    snapshot_page,
)

__all__ = [
    "DERIVED",
    "NEWER_HINT",
    "TABLES",
    "BundleError",
    "Row",
    "Section",
    "export_sections",
    "key_column",
    "references",
    "sort_key",
]

TABLES: tuple[Table, ...] = (
    index,
    blob,
    metadata,
    page,
    file,
    snapshot,
    snapshot_page,
    snapshot_metadata,
    rule_set,
    rule,
)

Row = tuple[object, ...]

NEWER_HINT = "import it with the version of sneakernet that exported it, or a newer one"


class BundleError(SneakernetError):
    """A bundle that cannot be written, read or merged as asked."""


@dataclass(frozen=True, slots=True)
class Section:
    """One table's rows. With ``raw_length`` (the ``blob`` table), each row carries one more
    value after ``columns``: the payload bytes, as many as that column says."""

    table: str
    columns: tuple[str, ...]
    rows: Iterable[Row]
    raw_length: str | None = None

    def records(self) -> Iterator[tuple[dict[str, object], bytes | None]]:
        """Each row as column → value, with its payload bytes (``raw_length``) or None."""
        for row in self.rows:
            data = row[-1] if self.raw_length is not None else None
            assert data is None or isinstance(data, bytes)
            yield dict(zip(self.columns, row, strict=False)), data


def key_column(table: Table) -> str | None:
    """The single-column primary key rows are known by (``id``, or a content sha256)."""
    keys = list(table.primary_key.columns)
    return keys[0].name if len(keys) == 1 else None


def numbered(table: Table) -> bool:
    """Whether the table's rows are known by an integer ``id`` that the bundle renumbers."""
    return key_column(table) == "id"


def references(table: Table) -> dict[str, str]:
    """Column → the table it refers to, for every foreign key of ``table``."""
    return {
        column.name: fk.column.table.name for column in table.columns for fk in column.foreign_keys
    }


def sort_key(values: Iterable[object]) -> tuple[tuple[bool, object], ...]:
    """A total order over row values that puts NULL first, as SQLite does."""
    return tuple((False, 0) if v is None else (True, v) for v in values)


# Columns computed from the rows a bundle carries (page.listing, db/version_listing.py): left
# out of the file and recomputed by the importer, so a bundle can never make one disagree with
# the files it describes (the snapshot digest covers the files, not what is derived from them).
DERIVED: dict[str, frozenset[str]] = {page.name: frozenset({"listing"})}


def columns_of(table: Table, *, raw: str | None = None) -> tuple[str, ...]:
    derived = DERIVED.get(table.name, frozenset())
    return tuple(c.name for c in table.columns if c.name != raw and c.name not in derived)


_IdMaps = dict[str, dict[int, int]]


def _fetch(
    conn: Connection, table: Table, where: ColumnElement[bool] | None
) -> list[dict[str, object]]:
    query = select(table) if where is None else select(table).where(where)
    return [_plain(r._mapping) for r in conn.execute(query)]


def _plain(row: RowMapping) -> dict[str, object]:
    """A row's values as the bundle spells them on every engine: a boolean as 0 or 1 (what
    SQLite stores), so PostgreSQL's true/false give the same bytes."""
    return {k: int(v) if isinstance(v, bool) else v for k, v in row.items()}


def _remap(table: Table, rows: list[dict[str, object]], maps: _IdMaps) -> None:
    """Rewrite references to numbered tables from local ids to bundle ids."""
    for name, target in references(table).items():
        if target not in maps:
            continue
        ids = maps[target]
        for row in rows:
            value = row[name]
            if value is not None:
                if value not in ids:
                    raise BundleError(
                        f"{table.name} row refers to {target} id {value}, which is not exported",
                        hint="run `mirror db check`",
                    )
                row[name] = ids[value]


def _ordered(
    table: Table, rows: list[dict[str, object]], maps: _IdMaps, first: Sequence[str] = ()
) -> Section:
    """The rows sorted by content (``first`` columns first, ids left out) and, for a numbered
    table, given ids 1…n; the id map is recorded in ``maps`` for the tables that refer to
    this one."""
    _remap(table, rows, maps)
    columns = columns_of(table)
    rest = [*first, *(c for c in columns if c != "id" and c not in first)]
    rows.sort(key=lambda r: sort_key(r[c] for c in rest))
    if numbered(table):
        ids = maps[table.name] = {}
        for bundle_id, row in enumerate(rows, 1):
            local = row["id"]
            assert isinstance(local, int)
            ids[local] = bundle_id
            row["id"] = bundle_id
    return Section(table.name, columns, [tuple(r[c] for c in columns) for r in rows])


def _ranked(rows: list[dict[str, object]]) -> None:
    """Index priorities as ranks 1…n among the exported indexes: the order is the policy,
    the numbers are local."""
    ordered = sorted(rows, key=lambda r: sort_key((r["priority"], r["id"])))
    for rank, row in enumerate(ordered, 1):
        row["priority"] = rank


def _payloads(conn: Connection, digests: Sequence[str]) -> Iterator[Row]:
    for digest in digests:
        data = get_blob(conn, digest)  # decompressed and checked against its digest
        yield (digest, len(data), data)


def _files(conn: Connection, page_ids: Mapping[int, int]) -> Iterator[Row]:
    """File rows page by page in bundle page order, each page's in position order."""
    columns = columns_of(file)
    bundle_id = 0
    for local, mapped in sorted(page_ids.items(), key=lambda item: item[1]):
        query = select(file).where(file.c.page_id == local).order_by(file.c.position)
        for r in conn.execute(query):
            bundle_id += 1
            row = {**_plain(r._mapping), "id": bundle_id, "page_id": mapped}
            yield tuple(row[c] for c in columns)


def export_sections(
    conn: Connection, snapshot_ids: Sequence[int], *, every_index: bool = False
) -> Iterator[Section]:
    """The sections of a bundle of the given snapshots, in :data:`TABLES` order; with
    ``every_index``, every configured index, not only those the snapshots reference."""
    maps: _IdMaps = {}

    def chosen(column: Column[int]) -> ColumnElement[bool]:
        return column.in_(snapshot_ids)

    page_ids = select(snapshot_page.c.page_id).where(chosen(snapshot_page.c.snapshot_id))
    meta_shas = select(snapshot_metadata.c.metadata_sha256).where(
        chosen(snapshot_metadata.c.snapshot_id),
        snapshot_metadata.c.metadata_sha256.is_not(None),
    )
    index_ids = union(
        select(snapshot_page.c.index_id).where(chosen(snapshot_page.c.snapshot_id)),
        select(snapshot_metadata.c.index_id).where(chosen(snapshot_metadata.c.snapshot_id)),
    )

    indexes = _fetch(conn, index, None if every_index else index.c.id.in_(index_ids))
    _ranked(indexes)
    yield _ordered(index, indexes, maps)

    page_blobs = select(page.c.blob_sha256).where(
        page.c.id.in_(page_ids), page.c.blob_sha256.is_not(None)
    )
    digests = sorted({str(r[0]) for r in conn.execute(union(page_blobs, meta_shas))})
    yield Section(blob.name, columns_of(blob, raw="data"), _payloads(conn, digests), "size")

    yield _ordered(metadata, _fetch(conn, metadata, metadata.c.sha256.in_(meta_shas)), maps)
    yield _ordered(page, _fetch(conn, page, page.c.id.in_(page_ids)), maps)
    yield Section(file.name, columns_of(file), _files(conn, maps[page.name]))
    # Oldest first: imported in this order, they keep their order (and so which is `latest`).
    snaps = _fetch(conn, snapshot, chosen(snapshot.c.id))
    yield _ordered(snapshot, snaps, maps, first=("completed_at", "created_at"))
    for link in (snapshot_page, snapshot_metadata):
        yield _ordered(link, _fetch(conn, link, chosen(link.c.snapshot_id)), maps)
    # Rule sets are few, immutable and named by their digest: all of them travel, so that a
    # lock made before the bundle was exported can be reproduced where it is imported.
    yield _ordered(rule_set, _fetch(conn, rule_set, None), maps)
    yield _ordered(rule, _fetch(conn, rule, None), maps)
