"""Where the database is, and which schema it has: stdlib only (no SQLAlchemy, no alembic).

``resolve`` reads snapshots through :mod:`db.read.snapshot_reader`, which must start fast;
these helpers are shared by it and by :mod:`db.engine`.
"""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path
from urllib.parse import quote, unquote

from db.errors import DatabaseError
from db.urls import redact_credentials

__all__ = [
    "DEFAULT_DB",
    "HEAD_REVISION",
    "KNOWN_REVISIONS",
    "SQLITE_MAGIC",
    "check_file",
    "connect_read_only",
    "database_path",
    "database_url",
    "read_only_uri",
    "revision_of",
    "schema_revision",
    "shown_database",
]

DEFAULT_DB = "mirror.db"

# The alembic head this code was written for; tests/db/test_schema.py proves it is the head of
# alembic/versions. Kept as a constant so that opening a database never has to import alembic.
HEAD_REVISION = "0005"

# Every alembic revision up to HEAD_REVISION (test_schema.py checks it against alembic/versions):
# a stored revision outside it is newer than this code.
KNOWN_REVISIONS = frozenset({"0001", "0002", "0003", "0004", "0005"})

SQLITE_MAGIC = b"SQLite format 3\x00"

# The URL grammar of sqlalchemy.engine.url.make_url, so that both read a URL the same way.
_URL = re.compile(
    r"""
        (?P<name>[\w\+]+)://
        (?:
            (?P<username>[^:/]*)
            (?::(?P<password>[^@]*))?
        @)?
        (?:
            (?:
                \[(?P<ipv6host>[^/\?]+)\] |
                (?P<ipv4host>[^/:\?]+)
            )?
            (?::(?P<port>[^/\?]*))?
        )?
        (?:/(?P<database>[^\?]*))?
        (?:\?(?P<query>.*))?
    """,
    re.X,
)


def database_url(value: str | None = None) -> str:
    """``--db`` value, else ``$MIRROR_DB``, else ``./mirror.db``; a bare path means SQLite."""
    raw = value or os.environ.get("MIRROR_DB") or DEFAULT_DB
    if "://" in raw:
        return raw
    # Quote what a URL would misread in a file name ("?", "#", "%"), as sqlalchemy's URL does.
    return "sqlite:///" + quote(str(Path(raw).expanduser()), safe=" +/")


def database_path(url: str) -> Path | None:
    """The file behind an SQLite URL, or None for an in-memory or non-SQLite database."""
    match = _URL.match(url)
    if match is None:
        return None
    # The query string stays apart (sqlite:///x.db?timeout=5) and driver spellings
    # (sqlite+pysqlite:///x.db) are accepted: both still name the file x.db.
    backend = match["name"].split("+", 1)[0]
    database = match["database"]
    if backend != "sqlite" or database is None:
        return None
    database = unquote(database)
    if database in ("", ":memory:"):
        return None
    return Path(database)


def shown_database(url: str) -> str:
    """The database as a message names it: its file, else its URL with the password masked
    (a server URL's password is the user's secret; DESIGN.md "Data model")."""
    path = database_path(url)
    return str(path) if path is not None else redact_credentials(url)


def check_file(path: Path, *, create: bool) -> None:
    """Refuse a path that is missing (unless ``create``), a directory, or not SQLite."""
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
        head = handle.read(len(SQLITE_MAGIC))
    if head and head != SQLITE_MAGIC:
        raise DatabaseError(
            f"{path} is not an SQLite database",
            hint="pass the path of a sneakernet database with --db or $MIRROR_DB",
        )


def read_only_uri(path: Path) -> str:
    """An sqlite3 URI that opens ``path`` read-only and never leaves files behind.

    Without a WAL file beside it, the main file holds every committed transaction: read it as
    immutable, so that reading never creates -wal/-shm files. With one, a writer may be
    active: read through it, as any reader does.
    """
    mode = "ro" if Path(f"{path}-wal").exists() else "ro&immutable=1"
    return f"{path.resolve().as_uri()}?mode={mode}"


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A read-only sqlite3 connection to ``path`` (never creates or changes the file)."""
    try:
        return sqlite3.connect(read_only_uri(path), uri=True)
    except sqlite3.Error as exc:
        raise DatabaseError(
            f"cannot open {path}: {exc}", hint="check the path and its permissions"
        ) from exc


def schema_revision(path: Path) -> str | None:
    """The alembic revision stored in the file, read with sqlite3 alone (fast and read-only).

    Returns None for an empty database. Raises DatabaseError for a foreign or broken file.
    """
    conn = connect_read_only(path)
    try:
        return revision_of(conn, path)
    finally:
        conn.close()


def revision_of(conn: sqlite3.Connection, path: Path) -> str | None:
    """:func:`schema_revision` on an open connection."""
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
