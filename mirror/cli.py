"""The `mirror` command: the connected side of sneakernet."""

from __future__ import annotations

import click

from mirror.commands.bundle import export_command, import_command
from mirror.commands.common import AppContext
from mirror.commands.database import db_group
from mirror.commands.download import download_command
from mirror.commands.index import index_group
from mirror.commands.rules import rules_group
from mirror.commands.serve import serve_command
from mirror.commands.snapshot import snapshot_group
from mirror.commands.sync import sync_command
from resolve.clikit import ErrorRenderingGroup

__all__ = ["main"]


@click.group(cls=ErrorRenderingGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="MIRROR_DB",
    metavar="URL",
    help="Snapshot database: a path or SQLAlchemy URL (default: ./mirror.db, or $MIRROR_DB).",
)
@click.version_option(package_name="sneakernet")
@click.pass_context
def main(ctx: click.Context, db: str | None) -> None:
    """Snapshot package indexes into one SQLite file, offline-ready.

    \b
    Example:
      mirror index add internal http://127.0.0.1:8080/simple/
      mirror sync requests rich -r requirements.in --closure
      mirror snapshot list
    """
    ctx.obj = AppContext(db=db)


main.add_command(index_group)
main.add_command(sync_command)
main.add_command(snapshot_group)
main.add_command(db_group)
main.add_command(rules_group)
main.add_command(download_command)
main.add_command(export_command)
main.add_command(import_command)
main.add_command(serve_command)
