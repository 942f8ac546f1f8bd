"""Click plumbing shared by ``resolve`` and ``mirror``: errors as ``error:`` / ``hint:``, a
reader that closed stdout early (``resolve --explain x | head -1``) as a quiet exit 141, and
Ctrl-C or SIGTERM as one line and exit 130 or 143 (:mod:`resolve.interrupts`).

Every error, warning and JSON document leaves through here with the passwords of the URLs in
it masked (:func:`db.urls.redact_credentials`): a database or index URL can reach a message
from anywhere, the text of a library's exception included, and messages end up in CI logs.

It lives on the resolve side because ``mirror`` may import ``resolve`` but not the other
way round, and it imports nothing heavier than click, so ``resolve`` starts fast.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from typing import IO, Any, NoReturn, TypeVar

import click

from db.urls import redact_credentials
from resolve.interrupts import handling_interrupts
from resolve.limits import DEFAULT_LIMITS, Limits, describe_limits, parse_limit

__all__ = [
    "CLOSED_PIPE_EXIT",
    "ErrorRenderingCommand",
    "ErrorRenderingGroup",
    "LimitsParam",
    "echo_json",
    "exit_closed_pipe",
    "fail",
    "limit_option",
    "render_error",
    "version_option",
    "version_text",
    "warn",
]

#: 128 + SIGPIPE: what a shell reports for a program the closed pipe killed, as it would have
#: without Python (which ignores SIGPIPE and raises BrokenPipeError instead).
CLOSED_PIPE_EXIT = 141


def render_error(message: str, hint: str | None) -> str:
    """DESIGN.md "Conventions": ``error: …``, a blank line, then ``hint: …``."""
    text = f"error: {message}"
    if hint:
        text += f"\n\nhint: {hint}"
    return redact_credentials(text)


def fail(message: str, *, hint: str | None = None, code: int = 2) -> NoReturn:
    click.echo(render_error(message, hint), err=True)
    sys.exit(code)


def warn(message: str) -> None:
    click.echo(redact_credentials(f"warning: {message}"), err=True)


def echo_json(value: object, *, err: bool = False) -> None:
    """``value`` as JSON on stdout (stderr with ``err``), every string in it with URL
    passwords masked."""
    click.echo(json.dumps(_redacted(value), indent=2, sort_keys=True), err=err)


def _redacted(value: object) -> object:
    # String by string: masking the serialised text could join two strings into one "URL".
    if isinstance(value, str):
        return redact_credentials(value)
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item) for item in value]
    return value


def exit_closed_pipe() -> NoReturn:
    """The reader of stdout has gone: stop quietly with :data:`CLOSED_PIPE_EXIT`.

    What is still buffered for stdout would fail again when the interpreter flushes it on the
    way out ("Exception ignored … BrokenPipeError", exit 120), so stdout is pointed at
    os.devnull first (the Python documentation's "Note on SIGPIPE"). Nothing goes to stderr:
    the reader stopping early is what `| head` asks for, not an error.
    """
    with contextlib.suppress(OSError, ValueError):  # ValueError: not a real file (CliRunner)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    sys.exit(CLOSED_PIPE_EXIT)


@contextlib.contextmanager
def _closed_pipe() -> Iterator[None]:
    # Every BrokenPipeError that reaches the top-level command, from click's own output (help,
    # version) or from a command's, ends here; the commands' catch-alls let it through.
    try:
        try:
            yield
        finally:
            # What stdout still buffers must reach the reader while this can catch a failure,
            # also when the command ends with sys.exit().
            sys.stdout.flush()
    except BrokenPipeError:
        exit_closed_pipe()


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
    # The top-level command's make_context (its --help, --version) and invoke (every
    # subcommand's parsing, help and run) hold all the CLI's output, so the closed pipe is
    # handled here once; click's own handling of it (exit 1) is further out and never runs.
    # So are interrupts: click would turn them into "Aborted!" and exit 1; main() catches
    # those that land in click's own steps around these two.
    def main(self, *args: Any, **kwargs: Any) -> Any:
        with handling_interrupts():
            return super().main(*args, **kwargs)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        with handling_interrupts(), _closed_pipe(), _usage_errors():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with handling_interrupts(), _closed_pipe(), _usage_errors(ctx):
            return super().invoke(ctx)


class ErrorRenderingCommand(_RendersErrors):
    """A top-level command whose click errors are rendered as ``error:`` / ``hint:``."""


class ErrorRenderingGroup(_RendersErrors, click.Group):
    """A top-level group: every click error below it is rendered as ``error:``/``hint:``."""


class LimitsParam(click.ParamType[tuple[str, int]]):
    """``NAME=VALUE`` → one ``(field, number)`` pair; the option callback folds them into a
    :class:`~resolve.limits.Limits` once, at the edge."""

    name = "NAME=VALUE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        try:
            return parse_limit(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def _fold_limits(
    ctx: click.Context, param: click.Parameter, value: tuple[tuple[str, int], ...]
) -> Limits:
    return DEFAULT_LIMITS.with_overrides(dict(value))


#: ``--limit NAME=VALUE`` (repeatable) on every command that reads untrusted bytes; the command
#: receives a :class:`~resolve.limits.Limits` as ``limits``.
limit_option = click.option(
    "--limit",
    "limits",
    type=LimitsParam(),
    multiple=True,
    callback=_fold_limits,
    metavar="NAME=VALUE",
    help=(
        "Raise (or lower) a bound on untrusted input, e.g. --limit page-bytes=256MiB. "
        "Names (defaults): " + describe_limits() + "."
    ),
)


_F = TypeVar("_F", bound=Callable[..., Any])


def version_text(program: str) -> str:
    """``resolve 0.1.0 (PEP 440 semantics: pep440/1)``: the distribution's version and the
    matching rules every lock records on its ``semantics:`` line, which decide its pins
    (:data:`resolve.solver.pep440.SEMANTICS`; the installed ``packaging`` does not)."""
    # Imported when asked, for start-up time: `mirror` starts without the packaging import
    # the first brings, and both commands without importlib.metadata's ~20 ms.
    import importlib.metadata

    from resolve.solver.pep440 import SEMANTICS

    try:
        version = importlib.metadata.version("sneakernet")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout, never installed
        version = "(not installed)"
    return f"{program} {version} (PEP 440 semantics: {SEMANTICS})"


def version_option(program: str) -> Callable[[_F], _F]:
    """``--version`` on a top-level command: :func:`version_text`, then exit 0."""

    def show(ctx: click.Context, param: click.Parameter, value: bool) -> None:
        if value and not ctx.resilient_parsing:
            click.echo(version_text(program))
            ctx.exit()

    return click.option(
        "--version",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=show,
        help="Show the version and the PEP 440 semantics of the locks, then exit.",
    )
