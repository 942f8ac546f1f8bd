"""`mirror db upgrade|check`."""

from __future__ import annotations

import click
from sqlalchemy import text

from db.engine import HEAD_REVISION
from db.errors import DatabaseError
from mirror.commands.common import AppContext, handle_errors, pass_app

__all__ = ["db_group"]


@click.group("db")
def db_group() -> None:
    """Maintain the snapshot database.

    \b
    Example:
      mirror db upgrade
      mirror db check
    """


@db_group.command("upgrade")
@pass_app
@handle_errors
def db_upgrade(app: AppContext) -> None:
    """Create the database, or bring its schema up to this version's.

    \b
    Example:
      mirror --db /srv/mirror.db db upgrade
    """
    app.engine()
    click.echo(f"database {app.url} is at schema revision {HEAD_REVISION}", err=True)


@db_group.command("check")
@pass_app
@handle_errors
def db_check(app: AppContext) -> None:
    """Check the database's integrity: SQLite structure, foreign keys, and every payload's
    hash.

    \b
    Example:
      mirror db check
    """
    from db.blobs import get_blob
    from db.schema import blob

    with app.engine(create=False).connect() as conn:
        problems = [r[0] for r in conn.execute(text("PRAGMA integrity_check"))]
        problems = [p for p in problems if p != "ok"]
        problems += [
            f"foreign key: {tuple(r)}" for r in conn.execute(text("PRAGMA foreign_key_check"))
        ]
        count = 0
        for (digest,) in conn.execute(blob.select().with_only_columns(blob.c.sha256)):
            count += 1
            try:
                get_blob(conn, digest)
            except DatabaseError as exc:
                problems.append(exc.message)
    if problems:
        raise DatabaseError(
            f"{len(problems)} problem(s) in {app.url}: " + "; ".join(problems[:5]),
            hint="restore from a backup or re-import the snapshot file",
        )
    click.echo(f"ok: schema {HEAD_REVISION}, {count} payloads verified", err=True)
