"""The ``mirror`` command's entry point (and ``python -m mirror``'s): the CLI is loaded
inside the interrupt edge (:func:`resolve.interrupts.run_command`)."""

from __future__ import annotations

from resolve.interrupts import run_command

__all__ = ["main"]


def main() -> None:
    run_command("mirror.cli.main")
