"""The ``resolve`` command's entry point (and ``python -m resolve``'s): the CLI is loaded
inside the interrupt edge (:func:`resolve.interrupts.run_command`)."""

from __future__ import annotations

from resolve.interrupts import run_command

__all__ = ["main"]


def main() -> None:
    run_command("resolve.cli")
