"""The `mirror` command: the connected side of sneakernet."""

from __future__ import annotations

import importlib

import click

from mirror.cli.common import AppContext
from resolve.clikit import ErrorRenderingGroup, version_option

__all__ = ["main"]


# Each command is imported when it runs: `mirror sync` need not load the server, the bundle
# format or the resolver's lock writers (a fifth of a second on every invocation).
_COMMANDS = {
    "db": "mirror.cli.database:db_group",
    "download": "mirror.cli.download:download_command",
    "export": "mirror.cli.bundle:export_command",
    "import": "mirror.cli.bundle:import_command",
    "index": "mirror.cli.index:index_group",
    "rules": "mirror.cli.rules:rules_group",
    "serve": "mirror.cli.serve:serve_command",
    "snapshot": "mirror.cli.snapshot:snapshot_group",
    "sync": "mirror.cli.sync:sync_command",
}


_DB_HELP = (
    "Snapshot database: a path or SQLAlchemy URL (default: ./mirror.db, or $MIRROR_DB). "
    "Accepted before or after the subcommand; the one after it wins."
)


def _db_after_subcommand(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    # The group's callback has made the AppContext before a subcommand's options are parsed, so
    # a value given further right replaces the one given before (or $MIRROR_DB).
    if value is not None:
        ctx.ensure_object(AppContext).db = value


def _with_db_option(command: click.Command) -> click.Command:
    """``--db`` on ``command`` and every command below it (``mirror index list --db x.db``)."""
    if not any(param.name == "db" for param in command.params):
        command.params.append(
            click.Option(
                ["--db"],
                metavar="URL",
                expose_value=False,
                is_eager=True,
                callback=_db_after_subcommand,
                help=_DB_HELP,
            )
        )
    if isinstance(command, click.Group):
        for child in command.commands.values():
            _with_db_option(child)
    return command


class _LazyGroup(ErrorRenderingGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return _with_db_option(command)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="MIRROR_DB",
    metavar="URL",
    help=_DB_HELP,
)
@version_option("mirror")
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
