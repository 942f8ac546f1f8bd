"""The `mirror` command: the connected side of sneakernet."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import IO, Any

import click

from mirror.commands.common import AppContext, render_error
from mirror.commands.database import db_group
from mirror.commands.index import index_group
from mirror.commands.snapshot import snapshot_group
from mirror.commands.sync import sync_command

__all__ = ["main"]


def _sentence(message: str) -> str:
    """click's "Invalid value…" / "No such option…" in the lower case of our other errors."""
    if len(message) > 1 and message[0].isupper() and message[1].islower():
        return message[0].lower() + message[1:]
    return message


class _UsageError(click.UsageError):
    """A click usage error (bad option, bad value, unknown command) shown the way every other
    error is (DESIGN.md, "Conventions"): ``error:``, a blank line, ``hint:``; exit code 2."""

    def show(self, file: IO[Any] | None = None) -> None:
        command = self.ctx.command_path if self.ctx is not None else "mirror"
        hint = f"see `{command} --help`"
        click.echo(render_error(_sentence(self.format_message()), hint), file=file, err=True)


@contextlib.contextmanager
def _usage_errors(ctx: click.Context | None = None) -> Iterator[None]:
    try:
        yield
    except (click.exceptions.NoArgsIsHelpError, _UsageError):
        raise  # the first prints the help text, as asked; the second is already converted
    except click.ClickException as exc:
        raise _UsageError(exc.format_message(), getattr(exc, "ctx", None) or ctx) from exc


class _MirrorGroup(click.Group):
    """The top-level group: every click error below it is rendered as ``error:``/``hint:``."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        with _usage_errors():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with _usage_errors(ctx):
            return super().invoke(ctx)


@click.group(cls=_MirrorGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
