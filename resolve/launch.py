"""The ``resolve`` command's entry point (and ``python -m resolve``'s): the CLI is loaded
inside the interrupt edge (:func:`resolve.interrupts.run_command`)."""

from __future__ import annotations

import gc

from resolve.interrupts import run_command

__all__ = ["main"]


def main() -> None:
    # One resolution builds hundreds of thousands of objects that live until it ends (records,
    # versions, version sets) and next to no reference cycles: the cyclic collector's passes
    # over them took a tenth of a 700-package resolution and freed nothing (the peak RSS is
    # the same without them). The process ends when the lock is written.
    gc.disable()
    run_command("resolve.cli")
