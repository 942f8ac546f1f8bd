"""Driver-level statements for the sync's hot path.

Building, caching and executing a SQLAlchemy statement costs tens of microseconds, more than
SQLite takes to store a row; a sync issues three to five statements per page and per core
metadata file. On SQLite these helpers hand plain SQL (built once per shape) straight to the
driver connection inside the caller's transaction. PostgreSQL takes the SQLAlchemy path.

Content-addressed rows (payloads, parsed metadata, pages by digest) go in with
``ON CONFLICT DO NOTHING`` on both engines, never check-then-insert: two syncers storing the same
payload at once both succeed, and it is stored once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, Table, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql.dml import Insert

__all__ = ["insert_or_find_id", "insert_rows", "select_one", "upsert"]


def upsert(conn: Connection, table: Table) -> sqlite.Insert:
    """An INSERT on ``table`` that can take an ON CONFLICT clause, in ``conn``'s dialect (both
    spell it the same way; SQLAlchemy builds it per dialect)."""
    if conn.dialect.name == "postgresql":
        # Imported here: SQLAlchemy's PostgreSQL dialects cost SQLite users ~50 ms at start.
        from sqlalchemy.dialects import postgresql

        found: Insert = postgresql.insert(table)
        return found  # type: ignore[return-value]
    return sqlite.insert(table)


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
    statement = upsert(conn, table)
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


def insert_or_find_id(
    conn: Connection, table: Table, row: Mapping[str, object], keys: tuple[str, ...]
) -> tuple[int, bool]:
    """The ``id`` of the row of ``table`` whose ``keys`` columns equal ``row``'s, inserting
    ``row`` when there is none; and whether it was inserted. An INSERT … ON CONFLICT DO NOTHING
    first, then a read: another writer storing the same row at the same moment makes this one
    wait for it and read its id, never fail on the unique key."""
    columns = tuple(row)
    driver = _sqlite(conn)
    if driver is not None:
        sql = _insert_sql(table, columns, _conflict_sql(keys, ())) + ' RETURNING "id"'
        inserted = driver.execute(sql, tuple(row[c] for c in columns)).fetchone()
    else:
        statement = upsert(conn, table).values(**row).on_conflict_do_nothing(index_elements=keys)
        inserted = conn.execute(statement.returning(table.c.id)).first()
    if inserted is not None:
        return int(inserted[0]), True
    found = select_one(conn, table, ("id",), {k: row[k] for k in keys})
    assert found is not None
    return int(found[0]), False


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
