"""`mirror db upgrade|check`."""

from __future__ import annotations

import click
from sqlalchemy import exc as sa_exc
from sqlalchemy import select, text

from db.blobs import get_blob
from db.engine import HEAD_REVISION, database_url
from db.errors import DatabaseError
from db.paths import shown_database
from db.schema import blob
from mirror.bundle.copy import copy_database
from mirror.cli.common import AppContext, handle_errors, pass_app
from resolve.clikit import limit_option
from resolve.limits import Limits

__all__ = ["db_group"]


@click.group("db")
def db_group() -> None:
    """Maintain the snapshot database.

    \b
    Example:
      mirror db upgrade
      mirror db check
      mirror --db mirror.db db copy postgresql://mirror@db.internal/sneakernet
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
    shown = shown_database(app.url)
    click.echo(f"database {shown} is at schema revision {HEAD_REVISION}", err=True)


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
    problems: list[str] = []
    digests: list[str] = []
    with app.engine(create=False).connect() as conn:
        # A damaged file may fail the checks themselves rather than report through them.
        try:
            # A server enforces its own structure and foreign keys; an SQLite file is checked.
            if conn.dialect.name == "sqlite":
                problems += [
                    r[0] for r in conn.execute(text("PRAGMA integrity_check")) if r[0] != "ok"
                ]
                problems += [
                    f"foreign key: {tuple(r)}"
                    for r in conn.execute(text("PRAGMA foreign_key_check"))
                ]
            digests = list(conn.execute(select(blob.c.sha256).order_by(blob.c.sha256)).scalars())
        except sa_exc.DatabaseError as exc:
            problems.append(str(exc.orig))
        for digest in digests:
            try:
                get_blob(conn, digest)
            except DatabaseError as exc:
                problems.append(exc.message)
            except sa_exc.DatabaseError as exc:
                problems.append(f"payload {digest} is unreadable: {exc.orig}")
    if problems:
        shown = "".join(f"\n  {p}" for p in problems[:20])
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise DatabaseError(
            f"{len(problems)} problem(s) in {shown_database(app.url)}:{shown}{more}",
            hint="restore from a backup or re-import the snapshot file",
        )
    click.echo(f"ok: schema {HEAD_REVISION}, {len(digests)} payloads verified", err=True)


@db_group.command("copy")
@click.argument("target", metavar="TARGET_URL")
@limit_option
@pass_app
@handle_errors
def db_copy(app: AppContext, target: str, limits: Limits) -> None:
    """Copy every complete snapshot, with its pages, files, core metadata and payloads, and
    every rule set, into the database TARGET_URL (created or upgraded as needed).

    Moves a mirror between engines: an SQLite file to PostgreSQL, or back. The rows are
    checked as an imported bundle's are, and every snapshot's content digest must be complete
    in the target afterwards. Snapshots the target already holds are skipped.

    \b
    Example:
      mirror --db mirror.db db copy postgresql://mirror@db.internal/sneakernet
      mirror --db postgresql://mirror@db.internal/sneakernet db copy airgap.db
    """
    result = copy_database(app.engine(create=False), database_url(target), limits)
    copied = len(result.imported.imported)
    click.echo(
        f"copied {copied} snapshot(s) to {result.target}; "
        f"{len(result.digests)} snapshot digest(s) verified there",
        err=True,
    )
