"""Buffered writes committed in batches.

A sync records thousands of small items (pages, file lists, core metadata). One transaction
per item would cost more than the network, so items wait in a batch that is committed every
``seconds`` or ``items``. A committed batch is the unit of resumption after a crash.

The commit runs inline, on the event loop's thread. Committing on a thread of its own was
tried and measured: SQLite and zstd do release the GIL, but the Python half of each write then
fights the event loop for it, and a 2,000-project sync got about 25% slower.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import NamedTuple

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.exc import OperationalError

from db.write.bulk import insert_rows

__all__ = ["BatchCommitter", "RowInsert", "Write"]

Write = Callable[[Connection], None]


class RowInsert(NamedTuple):
    table: Table
    row: Mapping[str, object]
    conflict_keys: tuple[str, ...] = ()
    update: tuple[str, ...] = ()


# Rows that need no reads (no ids, no lookups) are grouped by statement shape and inserted with
# one statement per shape and batch, tables in foreign-key order (a payload before the rows
# that refer to it), and before the writes that do need reads. Within a table, rows keep the
# order they were recorded in, which keeps large and small payloads interleaved in the file
# (grouping page payloads apart from metadata ones left 20% of the blob table's pages empty).
_Shape = tuple[Table, tuple[str, ...], tuple[str, ...], tuple[str, ...]]

# PostgreSQL's deadlock_detected: concurrent syncers waiting on each other's new pages; the
# server rolls one transaction back, and the batch, whole, is simply committed again.
_DEADLOCK = "40P01"
_DEADLOCK_ATTEMPTS = 5
_LAST = _DEADLOCK_ATTEMPTS - 1


class BatchCommitter:
    def __init__(self, engine: Engine, *, items: int, seconds: float) -> None:
        self.engine = engine
        self.items = items
        self.seconds = seconds
        self._pending: list[Write] = []
        self._rows: dict[_Shape, list[Mapping[str, object]]] = {}
        self._count = 0
        self._started_at = time.monotonic()

    def add(self, *inserts: RowInsert, write: Write | None = None) -> None:
        """Queue one record: plain row inserts (see :func:`db.write.bulk.insert_rows` for
        conflicts) and a ``write`` for what needs reads; commit the batch when it is due."""
        for insert in inserts:
            shape = (insert.table, tuple(insert.row), insert.conflict_keys, insert.update)
            self._rows.setdefault(shape, []).append(insert.row)
        if write is not None:
            self._pending.append(write)
        self._added()

    def _added(self) -> None:
        self._count += 1
        if self._count >= self.items or self._due():
            self.flush()

    def _due(self) -> bool:
        return time.monotonic() - self._started_at >= self.seconds

    def flush(self) -> None:
        """Commit everything recorded so far, in one transaction."""
        batch, self._pending = self._pending, []
        rows, self._rows = self._rows, {}
        self._count = 0
        self._started_at = time.monotonic()
        if not batch and not rows:
            return
        for attempt in range(_DEADLOCK_ATTEMPTS):
            try:
                self._commit(batch, rows)
                return
            except OperationalError as exc:
                if getattr(exc.orig, "sqlstate", None) != _DEADLOCK or attempt == _LAST:
                    raise

    def _commit(self, batch: list[Write], rows: dict[_Shape, list[Mapping[str, object]]]) -> None:
        with self.engine.begin() as conn:
            server = conn.dialect.name == "postgresql"
            for (table, _columns, conflict_keys, update), group in sorted(
                rows.items(), key=lambda item: _dependency_rank(item[0][0])
            ):
                if server and conflict_keys:
                    # Two syncers inserting the same payloads lock their keys in one order.
                    group = sorted(group, key=lambda row: tuple(str(row[k]) for k in conflict_keys))
                insert_rows(conn, table, group, conflict_keys=conflict_keys, update=update)
            for write in batch:
                write(conn)


def _dependency_rank(table: Table) -> int:
    return table.metadata.sorted_tables.index(table)
