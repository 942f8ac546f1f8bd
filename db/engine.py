"""Open the snapshot database: URL → engine, SQLite pragmas, and migrate-on-open.

A database is upgraded to the code's schema when opened for writing; one whose schema is newer
than the code, or a file that is not a sneakernet database, is refused with a clear message and
left untouched.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError

from db.errors import DatabaseError
from db.paths import (
    DEFAULT_DB,
    HEAD_REVISION,
    check_file,
    database_path,
    database_url,
    schema_revision,
    shown_database,
)
from db.urls import redact_credentials

__all__ = [
    "DEFAULT_DB",
    "HEAD_REVISION",
    "database_path",
    "database_url",
    "open_engine",
    "schema_revision",
]


def _check_url(url: str) -> None:
    """Refuse a URL that does not name an SQLite database: the store writes SQLite dialect
    statements (upserts), so another backend would fail half-way through a command."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        raise DatabaseError(
            f"invalid database URL {redact_credentials(url)!r}",
            hint="pass a file path, or an SQLite URL such as sqlite:///mirror.db, with --db",
        ) from exc
    if parsed.get_backend_name() != "sqlite":
        raise DatabaseError(
            f"unsupported database URL {redact_credentials(url)!r}: snapshots are stored in SQLite",
            hint="pass a file path, or an SQLite URL such as sqlite:///mirror.db, with --db",
        )


def _set_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets `resolve` read while a sync writes; NORMAL sync is durable at checkpoints and
    # is the documented pairing for WAL. busy_timeout covers brief writer overlap.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def open_engine(url: str, *, create: bool = True, upgrade: bool = True) -> Engine:
    """An engine on ``url`` whose schema is at HEAD_REVISION, upgrading it when allowed."""
    _check_url(url)
    path = database_path(url)
    if path is not None:
        check_file(path, create=create)
    try:
        engine = create_engine(url)
    except ArgumentError as exc:  # NoSuchModuleError too: an unknown driver (sqlite+nope://)
        raise DatabaseError(
            f"unusable database URL {redact_credentials(url)!r}: {exc}",
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
            f"the database {shown_database(url)} has schema revision {revision}, "
            "newer than this version of sneakernet knows",
            hint="upgrade sneakernet, or use the database with the version that wrote it",
        )
    if not upgrade:
        engine.dispose()
        raise DatabaseError(
            f"the database {shown_database(url)} needs a schema upgrade",
            hint="run `mirror db upgrade`",
        )
    upgrade_to_head(engine)
    return engine
