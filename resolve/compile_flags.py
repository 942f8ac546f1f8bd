"""The flags pip-compile and ``uv pip compile`` users type every day, as one click decorator
for ``resolve``: what the lock pins (``--no-deps``), how a requirements lock is laid out
(:class:`resolve.lock.writers.LockStyle`), and ``--check`` for CI. The defaults are uv's: the
header, split ``# via`` annotations, extras stripped from the pins, no index lines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from resolve.clikit import fail

__all__ = ["check_target", "compile_options", "report_check"]

F = TypeVar("F", bound=Callable[..., object])

_OPTIONS = (
    click.option(
        "--no-deps",
        is_flag=True,
        help="Pin only the requirements themselves, not what they depend on (hashes stay).",
    ),
    click.option(
        "--no-header",
        is_flag=True,
        help="Leave out the lock's comment header; a requirements lock keeps its snapshot and "
        "target lines (`mirror download` reads them). pylock: comments only; JSON: no effect.",
    ),
    click.option("--no-annotate", is_flag=True, help="Leave out the `# via` annotations."),
    click.option(
        "--annotation-style",
        type=click.Choice(["split", "line"]),
        help="`# via` one asker a line (split, the default) or all on one line.",
    ),
    click.option(
        "--strip-extras/--no-strip-extras",
        default=True,
        show_default=True,
        help="Pin `name==V` (the extras' requirements are pinned anyway) or `name[extra]==V`.",
    ),
    click.option(
        "--emit-index-url",
        is_flag=True,
        help="Open a requirements lock with --index-url / --extra-index-url (--find-links) "
        "lines for the indexes that supplied its pins; credentials are never written.",
    ),
    click.option(
        "--generate-hashes",
        is_flag=True,
        expose_value=False,
        help="Accepted for pip-compile; does nothing: every lock is hashed.",
    ),
    click.option(
        "--check",
        is_flag=True,
        help="Write nothing; exit 0 if the -o lock is byte-identical to what would be "
        "written, else 1, with the changed pins on stdout.",
    ),
)


def compile_options(command: F) -> F:
    """Add the options above to ``command``, in this order in ``--help``."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


def check_target(options: Mapping[str, Any]) -> Path | None:
    """With ``--check``, the lock it compares with (``-o``, which must exist); else None."""
    if not options["check"]:
        return None
    # Imported here for start-up time: only --check reads a lock back and diffs it.
    from resolve.lock.check import checked_path

    return checked_path(options["output_file"])


def report_check(path: Path, text: str, *, quiet: bool) -> int:
    """``--check``'s outcome: the pin diff on stdout, one line on stderr; exit 1 (an
    ``error:`` with a hint) when the lock would change."""
    from resolve.lock.check import check_lock  # for start-up time, as in check_target

    result = check_lock(path, text)
    for line in result.diff:
        click.echo(line)
    if not result.up_to_date:
        fail(result.summary(path), hint="run the command without --check to update it", code=1)
    if not quiet:
        click.echo(result.summary(path), err=True)
    return 0
