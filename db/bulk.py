"""Bulk inserts at driver level for the sync's hot path.

Building and compiling a SQLAlchemy statement per batch costs more than SQLite takes to store
the rows, so on SQLite the rows go straight to the driver's ``executemany`` in the caller's
transaction. Other databases take the portable SQLAlchemy path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache

from sqlalchemy import Connection, Table
from sqlalchemy.dialects.sqlite import insert

__all__ = ["insert_rows"]


@cache
def _sql(table: Table, columns: tuple[str, ...], conflict: str) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    return f'INSERT INTO "{table.name}" ({names}) VALUES ({marks}) {conflict}'.rstrip()


def insert_rows(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, object]],
    *,
    conflict_keys: tuple[str, ...] = (),
    update: tuple[str, ...] = (),
) -> None:
    """Insert ``rows`` (all with the same keys). With ``conflict_keys``, a conflicting row is
    ignored, or updates the ``update`` columns."""
    if not rows:
        return
    columns = tuple(rows[0])
    if conn.dialect.name != "sqlite":
        statement = insert(table)
        if conflict_keys:
            statement = (
                statement.on_conflict_do_update(
                    index_elements=list(conflict_keys),
                    set_={c: statement.excluded[c] for c in update},
                )
                if update
                else statement.on_conflict_do_nothing(index_elements=list(conflict_keys))
            )
        conn.execute(statement, [dict(r) for r in rows])
        return
    conflict = ""
    if conflict_keys:
        target = ", ".join(f'"{c}"' for c in conflict_keys)
        action = (
            "DO UPDATE SET " + ", ".join(f'"{c}" = excluded."{c}"' for c in update)
            if update
            else "DO NOTHING"
        )
        conflict = f"ON CONFLICT ({target}) {action}"
    conn.exec_driver_sql(
        _sql(table, columns, conflict), [tuple(r[c] for c in columns) for r in rows]
    )
