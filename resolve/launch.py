"""The ``resolve`` command's entry point (and ``python -m resolve``'s).

Loading the CLI takes a fifth of a second; a Ctrl-C in that time must end the command as it
would once loaded (one line, exit 130), so the CLI is imported inside the interrupt edge. That
function-level import is the point of this module, not a way around an import cycle.
"""

from __future__ import annotations

from resolve.interrupts import handling_interrupts

__all__ = ["main"]


def main() -> None:
    with handling_interrupts():
        from resolve.cli import main as cli_main

        cli_main()
