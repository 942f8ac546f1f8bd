"""The first reading of a bundle (:mod:`db.bundle.merge`): every row checked before anything is
written — sections in :data:`~db.bundle.rows.TABLES` order, known columns, unique keys, every
reference to a row that came before, complete snapshots, payloads matching their sha256, each
page's files numbered 0, 1, … in listing order — and what the plan needs kept."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Table

from db.blobs import sha256_hex
from db.bundle.rows import DERIVED, NEWER_HINT, TABLES, BundleError, key_column, references
from db.schema import blob, file, index, page, rule_set, snapshot

__all__ = ["BundleContents", "Values"]

Values = dict[str, object]


def _check_columns(table: Table, columns: Sequence[str], raw: str | None) -> None:
    """Columns this schema knows; those it cannot fill in itself must be present."""
    known = {c.name for c in table.columns} - DERIVED.get(table.name, frozenset())
    unknown = sorted(set(columns) - known)
    if unknown or len(set(columns)) != len(columns):
        raise BundleError(
            f"its {table.name} rows have columns this version does not know "
            f"({', '.join(unknown) or 'repeated'})",
            hint=NEWER_HINT,
        )
    if (raw is not None) != (table is blob) or (raw is not None and raw != "size"):
        raise BundleError(f"its {table.name} rows are malformed", hint="export it again")
    missing = [
        c.name
        for c in table.columns
        if c.name not in columns
        and not c.nullable
        and c.server_default is None
        and not (table is blob and c.name == "data")
    ]
    if missing:
        raise BundleError(
            f"its {table.name} rows lack columns ({', '.join(missing)})",
            hint="export it again with this version of sneakernet",
        )


def _id(row: Values) -> int:
    value = row["id"]
    assert isinstance(value, int)  # checked by BundleContents.add
    return value


def _is_key(table: Table, value: object) -> bool:
    if key_column(table) == "id":
        return isinstance(value, int) and not isinstance(value, bool) and value > 0
    return isinstance(value, str) and len(value) == 64


@dataclass(slots=True)
class BundleContents:
    """What a first reading of a bundle found, checked row by row."""

    keys: dict[str, set[object]] = field(default_factory=dict)
    indexes: dict[object, Values] = field(default_factory=dict)
    snapshots: dict[int, Values] = field(default_factory=dict)
    rule_sets: dict[int, Values] = field(default_factory=dict)
    page_parts: dict[object, tuple[object, object]] = field(default_factory=dict)
    links: dict[object, set[tuple[object, object]]] = field(default_factory=dict)
    metas: dict[object, set[tuple[object, object]]] = field(default_factory=dict)
    _seen: set[tuple[object, ...]] = field(default_factory=set)
    # Each page's next file position: a page's files come 0, 1, … in listing order.
    _next_file: dict[object, int] = field(default_factory=dict)
    _position: int = 0

    def section(self, name: str, columns: Sequence[str], raw: str | None) -> Table:
        """The table of the next section, which must come in TABLES order."""
        if self._position >= len(TABLES) or TABLES[self._position].name != name:
            expected = TABLES[self._position].name if self._position < len(TABLES) else "none"
            raise BundleError(
                f"its sections are out of order ({name!r} where {expected!r} belongs)",
                hint="export it again with this version of sneakernet",
            )
        self._position += 1
        table = TABLES[self._position - 1]
        _check_columns(table, columns, raw)
        self._seen = set()
        self.keys[table.name] = set()
        return table

    def finish(self) -> None:
        if self._position != len(TABLES):
            raise BundleError(
                f"it lacks the {TABLES[self._position].name} rows",
                hint="export it again with this version of sneakernet",
            )

    def add(self, table: Table, row: Values, data: bytes | None) -> None:
        if any(isinstance(v, list | dict | float) for v in row.values()):
            raise BundleError(f"its {table.name} rows hold values of the wrong kind")
        key = key_column(table)
        primary = tuple(row.get(c.name) for c in table.primary_key.columns)
        if primary in self._seen or (key is not None and not _is_key(table, row.get(key))):
            raise BundleError(f"its {table.name} rows have a bad or repeated key {primary}")
        self._seen.add(primary)
        if key is not None:
            self.keys[table.name].add(row[key])
        for column, target in references(table).items():
            value = row.get(column)
            if value is None and table.c[column].nullable:
                continue
            if value not in self.keys[target]:
                raise BundleError(f"a {table.name} row refers to a missing {target} row")
        self._remember(table, row, data)

    def _remember(self, table: Table, row: Values, data: bytes | None) -> None:
        if table is blob:
            assert data is not None
            if sha256_hex(data) != row["sha256"]:
                raise BundleError(f"payload {row['sha256']} does not match its sha256")
        elif table is index:
            self.indexes[_id(row)] = row
        elif table is page:
            self.page_parts[row["id"]] = (row["index_id"], row.get("blob_sha256"))
        elif table is snapshot:
            if row.get("state") != "complete" or not isinstance(row.get("digest"), str):
                raise BundleError(f"its snapshot {row.get('name')!r} is not complete")
            self.snapshots[_id(row)] = row
        elif table is file:
            expected = self._next_file.get(row["page_id"], 0)
            if row.get("position") != expected:
                raise BundleError(
                    "its files of one page are not numbered 0, 1, … in listing order",
                    hint="export it again with this version of sneakernet",
                )
            self._next_file[row["page_id"]] = expected + 1
        elif table.name == "snapshot_page":
            if self.page_parts[row["page_id"]][0] != row["index_id"]:
                raise BundleError("a snapshot page is linked under another index than its own")
            self.links.setdefault(row["snapshot_id"], set()).add((row["index_id"], row["page_id"]))
        elif table.name == "snapshot_metadata":
            pair = (row["index_id"], row.get("metadata_sha256"))
            self.metas.setdefault(row["snapshot_id"], set()).add(pair)
        elif table is rule_set:
            self.rule_sets[_id(row)] = row
