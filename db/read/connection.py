"""One read-only connection to a snapshot database, SQLite or PostgreSQL, behind one Protocol.

The readers (:mod:`db.read.snapshot_reader`, :mod:`db.read.file_list`, :mod:`db.rules.rows`)
write each query once, in SQLite's spelling with ``?`` (or ``:name``) parameters, and run it
through :meth:`ReadConnection.execute`, which returns a DB-API cursor (``fetchall``,
``fetchone``, iteration). The PostgreSQL connection rewrites the parameter marks for psycopg
once per query text, so a new query needs no code for either engine. No SQLAlchemy here:
``resolve`` must start fast (stdlib ``sqlite3``; psycopg is imported only for a server URL).

A PostgreSQL reader runs in one read-only REPEATABLE READ transaction: every query of a
resolution sees the same committed state, so a snapshot that completes meanwhile (in one
transaction, :mod:`db.write.snapshot_writer`) is either wholly there or not at all. A *live*
reader (``connect(url, live=True)``) is the exception: the sync's resolver reads the snapshot
it is building and must see each batch the sync commits, so every query reads the latest
committed state, as an SQLite reader's does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from db.errors import DatabaseError
from db.paths import check_file, connect_read_only, database_path, revision_of
from db.urls import redact_credentials

__all__ = ["Cursor", "ReadConnection", "connect", "server_sql"]

Params = Sequence[object] | Mapping[str, object]


class Cursor(Protocol):
    """What a query returns: the DB-API cursor of either driver."""

    def fetchall(self) -> list[Any]: ...
    def fetchone(self) -> Any: ...
    def __iter__(self) -> Iterator[Any]: ...


class ReadConnection(Protocol):
    """A read-only connection; ``shown`` names the database in messages (no password)."""

    @property
    def shown(self) -> str: ...
    def execute(self, sql: str, params: Params = ()) -> Cursor: ...
    def revision(self) -> str | None: ...
    def close(self) -> None: ...


# How much of a snapshot file a short-lived reader maps (SQLite maps no more than the file).
_MMAP_BYTES = 1 << 30


class SqliteRead:
    """A snapshot file, opened read-only with stdlib sqlite3."""

    __slots__ = ("_conn", "path")

    def __init__(self, path: Path, *, mapped: bool = True) -> None:
        check_file(path, create=False)
        self.path = path
        self._conn = connect_read_only(path)
        if mapped:
            # Pages read through a memory map, not a read() call each: a resolution reads a
            # few thousand file records scattered over the file, a third faster so. Not for a
            # live reader (a server's, a sync's), which may outlast a VACUUM shrinking the file.
            self._conn.execute(f"PRAGMA mmap_size = {_MMAP_BYTES}")

    @property
    def shown(self) -> str:
        return str(self.path)

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        return self._conn.execute(sql, params)

    def revision(self) -> str | None:
        return revision_of(self._conn, self.path)

    def close(self) -> None:
        self._conn.close()


# Outside quoted text: a `?` mark, a `:name` mark (not PostgreSQL's `::` cast), a literal `%`.
_MARKS = re.compile(r"""('(?:[^']|'')*'|"[^"]*")|(?<!:):([A-Za-z_]\w*)|(\?)|(%)""")


@lru_cache(maxsize=256)
def server_sql(sql: str) -> str:
    """``sql`` in psycopg's spelling: ``?`` → ``%s``, ``:name`` → ``%(name)s``, ``%`` → ``%%``,
    and SQLite's byte-order ``COLLATE BINARY`` → PostgreSQL's ``COLLATE "C"`` (locale-free
    ordering on both engines, DESIGN.md "Determinism")."""

    def mark(found: re.Match[str]) -> str:
        quoted, name, question, _percent = found.groups()
        if quoted is not None:
            return quoted
        if name is not None:
            return f"%({name})s"
        return "%s" if question is not None else "%%"

    return _MARKS.sub(mark, sql).replace("COLLATE BINARY", 'COLLATE "C"')


class PostgresRead:
    """A PostgreSQL database through psycopg 3, in one read-only transaction."""

    __slots__ = ("_conn", "_errors", "shown")

    def __init__(self, url: str, *, live: bool = False) -> None:
        self.shown = redact_credentials(url)
        try:
            import psycopg  # imported here: the SQLite path never loads the driver
        except ImportError as exc:
            raise DatabaseError(
                f"cannot open {self.shown}: the PostgreSQL driver (psycopg) is not installed",
                hint="install it with: pip install 'sneakernet[postgres]'",
            ) from exc
        self._errors: type[Exception] = psycopg.Error
        # libpq reads the password from the URL, PGPASSWORD or ~/.pgpass; SQLAlchemy's driver
        # suffix is not libpq's.
        conninfo = "postgresql://" + url.split("://", 1)[1]
        try:
            self._conn = psycopg.connect(conninfo, autocommit=live)
            self._conn.read_only = True
            if not live:
                self._conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        except psycopg.Error as exc:
            raise DatabaseError(
                f"cannot connect to {self.shown}: {redact_credentials(str(exc)).strip()}",
                hint="check the server, the database name and the credentials (URL, "
                "PGPASSWORD or ~/.pgpass)",
            ) from exc

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        try:
            return self._conn.execute(server_sql(sql), params)
        except self._errors as exc:
            raise DatabaseError(
                f"cannot read {self.shown}: {str(exc).strip()}",
                hint="check that the role may read every table (GRANT SELECT), or restore "
                "the database",
            ) from exc

    def revision(self) -> str | None:
        if self.execute("SELECT to_regclass('alembic_version')").fetchone()[0] is None:
            return None
        found = self.execute("SELECT version_num FROM alembic_version").fetchone()
        return None if found is None else str(found[0])

    def close(self) -> None:
        self._conn.close()


def connect(url: str, *, live: bool = False) -> ReadConnection:
    """A read-only connection to the database ``url`` names (as ``--db`` does); ``live``: each
    query sees what was committed since the last (a snapshot being built)."""
    path = database_path(url)
    if path is not None:
        return SqliteRead(path, mapped=not live)
    if url.split("://", 1)[0] in ("postgresql", "postgresql+psycopg"):
        return PostgresRead(url, live=live)
    raise DatabaseError(
        f"cannot read snapshots from {redact_credentials(url)!r}: not an SQLite database file "
        "or a PostgreSQL URL",
        hint="pass a file path, an SQLite URL such as sqlite:///mirror.db, or a PostgreSQL URL "
        "such as postgresql://user@host/dbname, with --db",
    )
