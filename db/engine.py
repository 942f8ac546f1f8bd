"""Open the snapshot database: URL → engine, SQLite pragmas, and migrate-on-open.

A database is upgraded to the code's schema when opened for writing; one whose schema is newer
than the code, or a file that is not a sneakernet database, is refused with a clear message and
left untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.exc import ArgumentError, OperationalError

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
from db.read.connection import server_sql
from db.urls import redact_credentials

__all__ = [
    "DEFAULT_DB",
    "HEAD_REVISION",
    "database_path",
    "database_url",
    "driver_rows",
    "engine_url",
    "open_engine",
    "schema_revision",
]


_URL_HINT = (
    "pass a file path, an SQLite URL such as sqlite:///mirror.db, or a PostgreSQL URL such as "
    "postgresql://user@host/dbname, with --db"
)


def engine_url(url: str) -> URL:
    """``url`` as SQLAlchemy opens it: SQLite, or PostgreSQL through psycopg 3 (the one driver
    the ``postgres`` extra brings; a plain ``postgresql://`` would mean psycopg2 to SQLAlchemy).
    Anything else is refused: the store's statements are written for these two engines."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        raise DatabaseError(
            f"invalid database URL {redact_credentials(url)!r}", hint=_URL_HINT
        ) from exc
    if parsed.drivername in ("postgresql", "postgresql+psycopg"):
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        raise DatabaseError(
            f"unsupported database URL {redact_credentials(url)!r}: snapshots are stored in "
            "SQLite or PostgreSQL (through psycopg)",
            hint=_URL_HINT,
        )
    return parsed


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
    parsed = engine_url(url)
    path = database_path(url)
    if path is not None:
        check_file(path, create=create)
    try:
        engine = create_engine(parsed)
    except ArgumentError as exc:  # NoSuchModuleError too: an unknown driver (sqlite+nope://)
        raise DatabaseError(
            f"unusable database URL {redact_credentials(url)!r}: {exc}", hint=_URL_HINT
        ) from exc
    except ImportError as exc:  # psycopg is an optional extra
        raise DatabaseError(
            f"cannot open {shown_database(url)}: the PostgreSQL driver (psycopg) is not installed",
            hint="install it with: pip install 'sneakernet[postgres]'",
        ) from exc
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _set_pragmas)
        revision = schema_revision(path) if path is not None and path.exists() else None
    else:
        revision = _server_revision(engine, url)
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


def _server_revision(engine: Engine, url: str) -> str | None:
    """The alembic revision of a server database (None when it has no tables yet); refuses
    one that cannot be reached or holds other tables than sneakernet's."""
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
            if not tables:
                return None
            if "alembic_version" not in tables:
                engine.dispose()
                raise DatabaseError(
                    f"{shown_database(url)} is a database but not a sneakernet one "
                    f"(tables: {', '.join(sorted(tables)[:5])})",
                    hint="pass the URL of a sneakernet database with --db or $MIRROR_DB",
                )
            found = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            return None if found is None else str(found)
    except OperationalError as exc:
        engine.dispose()
        raise DatabaseError(
            f"cannot connect to {shown_database(url)}: {redact_credentials(str(exc.orig))}",
            hint="check the server, the database name and the credentials (URL, PGPASSWORD "
            "or ~/.pgpass)",
        ) from exc


def driver_rows(conn: Connection, sql: str, params: Sequence[object]) -> list[Any]:
    """Rows of plain SQL written as the readers write it (``?`` marks, SQLite's spelling,
    :mod:`db.read.connection`), on a SQLAlchemy connection of either engine."""
    if conn.dialect.name == "postgresql":
        sql = server_sql(sql)
    return list(conn.exec_driver_sql(sql, tuple(params)).all())
