"""Click plumbing shared by ``resolve`` and ``mirror``: errors as ``error:`` / ``hint:``.

It lives on the resolve side because ``mirror`` may import ``resolve`` but not the other
way round, and it imports nothing heavier than click, so ``resolve`` starts fast.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import IO, Any, NoReturn

import click

__all__ = ["ErrorRenderingCommand", "ErrorRenderingGroup", "fail", "render_error", "warn"]


def render_error(message: str, hint: str | None) -> str:
    """DESIGN.md "Conventions": ``error: …``, a blank line, then ``hint: …``."""
    text = f"error: {message}"
    if hint:
        text += f"\n\nhint: {hint}"
    return text


def fail(message: str, *, hint: str | None = None, code: int = 2) -> NoReturn:
    click.echo(render_error(message, hint), err=True)
    sys.exit(code)


def warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


def _sentence(message: str) -> str:
    """click's "Invalid value…" / "No such option…" in the lower case of our other errors."""
    if len(message) > 1 and message[0].isupper() and message[1].islower():
        return message[0].lower() + message[1:]
    return message


class _UsageError(click.UsageError):
    """A click usage error (bad option, bad value, unknown command) shown the way every other
    error is: ``error:``, a blank line, ``hint:``; exit code 2."""

    def show(self, file: IO[Any] | None = None) -> None:
        command = self.ctx.command_path if self.ctx is not None else "the command"
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


class _RendersErrors(click.Command):
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


class ErrorRenderingCommand(_RendersErrors):
    """A top-level command whose click errors are rendered as ``error:`` / ``hint:``."""


class ErrorRenderingGroup(_RendersErrors, click.Group):
    """A top-level group: every click error below it is rendered as ``error:``/``hint:``."""
