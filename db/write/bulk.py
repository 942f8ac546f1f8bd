"""Driver-level statements for the sync's hot path.

Building, caching and executing a SQLAlchemy statement costs tens of microseconds, more than
SQLite takes to store a row; a sync issues three to five statements per page and per core
metadata file. On SQLite these helpers hand plain SQL (built once per shape) straight to the
driver connection inside the caller's transaction. Other databases take the portable
SQLAlchemy path, so the callers stay portable.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, Table, select
from sqlalchemy.dialects.sqlite import insert

__all__ = ["insert_returning_id", "insert_rows", "select_one"]


def _sqlite(conn: Connection) -> sqlite3.Connection | None:
    if conn.dialect.name != "sqlite":
        return None
    driver = conn.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    return driver


@cache
def _insert_sql(table: Table, columns: tuple[str, ...], conflict: str) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    return f'INSERT INTO "{table.name}" ({names}) VALUES ({marks}) {conflict}'.rstrip()


@cache
def _conflict_sql(conflict_keys: tuple[str, ...], update: tuple[str, ...]) -> str:
    if not conflict_keys:
        return ""
    target = ", ".join(f'"{c}"' for c in conflict_keys)
    action = (
        "DO UPDATE SET " + ", ".join(f'"{c}" = excluded."{c}"' for c in update)
        if update
        else "DO NOTHING"
    )
    return f"ON CONFLICT ({target}) {action}"


@cache
def _select_sql(table: Table, wanted: tuple[str, ...], keys: tuple[str, ...]) -> str:
    columns = ", ".join(f'"{c}"' for c in wanted)
    where = " AND ".join(f'"{k}" = ?' for k in keys)
    return f'SELECT {columns} FROM "{table.name}" WHERE {where}'


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
    driver = _sqlite(conn)
    if driver is not None:
        sql = _insert_sql(table, columns, _conflict_sql(conflict_keys, update))
        driver.executemany(sql, [tuple(r[c] for c in columns) for r in rows])
        return
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


def insert_returning_id(conn: Connection, table: Table, row: Mapping[str, object]) -> int:
    """Insert one row into a table with an integer ``id`` key and return the new id."""
    columns = tuple(row)
    driver = _sqlite(conn)
    if driver is not None:
        cursor = driver.execute(_insert_sql(table, columns, ""), tuple(row[c] for c in columns))
        assert cursor.lastrowid is not None
        return cursor.lastrowid
    key = conn.execute(table.insert().values(**row)).inserted_primary_key
    assert key is not None
    return int(key[0])


def select_one(
    conn: Connection, table: Table, wanted: tuple[str, ...], where: Mapping[str, object]
) -> tuple[Any, ...] | None:
    """The ``wanted`` columns of the first row whose columns equal ``where``, or None."""
    keys = tuple(where)
    driver = _sqlite(conn)
    if driver is not None:
        found: tuple[Any, ...] | None = driver.execute(
            _select_sql(table, wanted, keys), tuple(where[k] for k in keys)
        ).fetchone()
        return found
    query = select(*(table.c[c] for c in wanted)).where(*(table.c[k] == where[k] for k in keys))
    row = conn.execute(query).first()
    return None if row is None else tuple(row)
