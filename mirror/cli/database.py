"""`mirror db upgrade|check|copy`."""

from __future__ import annotations

import click
from sqlalchemy import exc as sa_exc
from sqlalchemy import select, text

from db.blobs import get_blob
from db.bundle.copy import CopyResult, copy_database
from db.engine import HEAD_REVISION, open_engine
from db.errors import DatabaseError
from db.listing_rows import listing_problems
from db.paths import database_path, database_url, shown_database
from db.schema import blob
from mirror.cli.common import AppContext, echo_json, handle_errors, json_option, pass_app

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
    """Check the database's integrity: SQLite structure, foreign keys, each page's version
    listing against its files, and every payload's hash.

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
            problems += listing_problems(conn)
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


def _same_database(a: str, b: str) -> bool:
    path_a, path_b = database_path(a), database_path(b)
    if path_a is not None and path_b is not None:
        return path_a.resolve() == path_b.resolve()
    return a == b


@db_group.command("copy")
@click.argument("target", metavar="TARGET")
@json_option
@pass_app
@handle_errors
def db_copy(app: AppContext, target: str, as_json: bool) -> None:
    """Copy every complete snapshot, configured index and rule set into TARGET (a path or a
    database URL, as --db takes), SQLite or PostgreSQL, either way.

    TARGET is created or upgraded first. Rows merge by content, as `mirror import` merges a
    bundle: snapshots already there are kept, and each copied snapshot's digest is checked
    in TARGET before the one transaction commits. A TARGET with no rule history of its own
    takes the whole history, so its current rules are the source's. Snapshots still
    building are not copied.

    \b
    Example:
      mirror --db mirror.db db copy postgresql://mirror@db.internal/sneakernet
      mirror --db postgresql://mirror@db.internal/sneakernet db copy team-copy.db
    """
    target_url = database_url(target)
    if _same_database(app.url, target_url):
        raise DatabaseError(
            f"{shown_database(target_url)} is the database being copied",
            hint="name another database as TARGET (a path or a URL)",
        )
    source = app.engine(create=False)
    destination = open_engine(target_url)
    try:
        result = copy_database(source, destination)
    finally:
        destination.dispose()
    if as_json:
        echo_json({"target": shown_database(target_url), **result.as_json()})
    else:
        _print_copy(result, shown_database(target_url))


def _print_copy(result: CopyResult, target: str) -> None:
    def say(line: str) -> None:
        click.echo(line, err=True)

    say(f"copied {len(result.copied)} snapshot(s) to {target}: {', '.join(result.copied) or '-'}")
    if result.present:
        say(f"already there (same digest): {', '.join(result.present)}")
    if result.indexes_created:
        say(f"indexes created: {', '.join(result.indexes_created)}")
    if result.rule_sets_added:
        say(f"rule sets added: {len(result.rule_sets_added)}")
    if result.history_copied:
        say(f"rule history copied: {result.history_copied} change(s)")
    if result.building:
        say(
            f"warning: not copied, still building: {', '.join(result.building)} "
            "(finish them with `mirror sync`, then copy again)"
        )
