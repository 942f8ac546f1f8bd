"""Open the snapshot database: URL → engine, SQLite pragmas, and migrate-on-open.

A database is upgraded to the code's schema when opened for writing; one whose schema is newer
than the code, or a file that is not a sneakernet database, is refused with a clear message and
left untouched.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError

from db.errors import DatabaseError

__all__ = [
    "DEFAULT_DB",
    "HEAD_REVISION",
    "database_path",
    "database_url",
    "open_engine",
    "schema_revision",
]

DEFAULT_DB = "mirror.db"

# The alembic head this code was written for; tests/db/test_schema.py proves it is the head of
# alembic/versions. Kept as a constant so that opening a database never has to import alembic.
HEAD_REVISION = "0001"

_SQLITE_MAGIC = b"SQLite format 3\x00"


def database_url(value: str | None = None) -> str:
    """``--db`` value, else ``$MIRROR_DB``, else ``./mirror.db``; a bare path means SQLite."""
    raw = value or os.environ.get("MIRROR_DB") or DEFAULT_DB
    if "://" in raw:
        return raw
    # URL.create quotes what a URL would misread in a file name ("?", "#", "%").
    return URL.create("sqlite", database=str(Path(raw).expanduser())).render_as_string()


def _parse_url(url: str) -> URL:
    """The URL, refused unless it names an SQLite database: the store writes SQLite dialect
    statements (upserts), so another backend would fail half-way through a command."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(
            f"invalid database URL {url!r}",
            hint="pass a file path, or an SQLite URL such as sqlite:///mirror.db, with --db",
        ) from exc
    if parsed.get_backend_name() != "sqlite":
        shown = parsed.render_as_string(hide_password=True)
        raise DatabaseError(
            f"unsupported database URL {shown!r}: snapshots are stored in SQLite",
            hint="pass a file path, or an SQLite URL such as sqlite:///mirror.db, with --db",
        )
    return parsed


def database_path(url: str) -> Path | None:
    """The file behind an SQLite URL, or None for an in-memory or non-SQLite database."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    # make_url keeps the query string apart (sqlite:///x.db?timeout=5) and accepts driver
    # spellings (sqlite+pysqlite:///x.db): both still name the file x.db.
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _set_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets `resolve` read while a sync writes; NORMAL sync is durable at checkpoints and
    # is the documented pairing for WAL. busy_timeout covers brief writer overlap.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _check_file(path: Path, *, create: bool) -> None:
    if not path.exists():
        if not create:
            raise DatabaseError(
                f"no database at {path}",
                hint="pass --db (or $MIRROR_DB) to use another one; `mirror index add`, "
                "`mirror sync` and `mirror db upgrade` create it",
            )
        if not path.parent.exists():
            raise DatabaseError(
                f"cannot create {path}: directory {path.parent} does not exist",
                hint="create the directory or pass another --db",
            )
        return
    if path.is_dir():
        raise DatabaseError(f"{path} is a directory", hint="pass the database file with --db")
    with path.open("rb") as handle:
        head = handle.read(len(_SQLITE_MAGIC))
    if head and head != _SQLITE_MAGIC:
        raise DatabaseError(
            f"{path} is not an SQLite database",
            hint="pass the path of a sneakernet database with --db or $MIRROR_DB",
        )


def schema_revision(path: Path) -> str | None:
    """The alembic revision stored in the file, read with sqlite3 alone (fast and read-only).

    Returns None for an empty database. Raises DatabaseError for a foreign or broken file.
    """
    # Without a WAL file beside it, the main file holds every committed transaction: read it as
    # immutable, so that probing (and refusing) a file never leaves -wal/-shm files behind.
    # With one, a writer may be active: read through it, as any reader does.
    mode = "ro" if Path(f"{path}-wal").exists() else "ro&immutable=1"
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True)
    except sqlite3.Error as exc:
        raise DatabaseError(
            f"cannot open {path}: {exc}", hint="check the path and its permissions"
        ) from exc
    try:
        listing = conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        tables = {row[0] for row in listing}
        if not tables:
            return None
        if "alembic_version" not in tables:
            raise DatabaseError(
                f"{path} is an SQLite database but not a sneakernet one "
                f"(tables: {', '.join(sorted(tables)[:5])})",
                hint="pass the path of a sneakernet database with --db or $MIRROR_DB",
            )
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return None if row is None else str(row[0])
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(
            f"{path} is damaged or not a database: {exc}",
            hint="restore it from a backup or an exported snapshot (`mirror import`)",
        ) from exc
    finally:
        conn.close()


def open_engine(url: str, *, create: bool = True, upgrade: bool = True) -> Engine:
    """An engine on ``url`` whose schema is at HEAD_REVISION, upgrading it when allowed."""
    parsed = _parse_url(url)
    path = database_path(url)
    if path is not None:
        _check_file(path, create=create)
    try:
        engine = create_engine(url)
    except ArgumentError as exc:  # NoSuchModuleError too: an unknown driver (sqlite+nope://)
        raise DatabaseError(
            f"unusable database URL {parsed.render_as_string(hide_password=True)!r}: {exc}",
            hint="pass a file path, or an SQLite URL such as sqlite:///mirror.db, with --db",
        ) from exc
    event.listen(engine, "connect", _set_pragmas)
    revision = schema_revision(path) if path is not None and path.exists() else None
    if revision == HEAD_REVISION:
        return engine
    from db.migrate import known_revisions, upgrade_to_head  # alembic is imported only here

    if revision is not None and revision not in known_revisions():
        engine.dispose()
        raise DatabaseError(
            f"the database {path or url} has schema revision {revision}, "
            "newer than this version of sneakernet knows",
            hint="upgrade sneakernet, or use the database with the version that wrote it",
        )
    if not upgrade:
        engine.dispose()
        raise DatabaseError(
            f"the database {path or url} needs a schema upgrade",
            hint="run `mirror db upgrade`",
        )
    upgrade_to_head(engine)
    return engine
