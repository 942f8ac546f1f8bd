"""Ctrl-C (SIGINT) and SIGTERM end any command of either CLI the same way: one line on stderr
saying what was kept, and exit 130 (128 + SIGINT) or 143 (128 + SIGTERM), as a shell reports
a program the signal ended. Never a traceback, never click's "Aborted!" (exit 1).

- The edge (:func:`handling_interrupts`) catches the KeyboardInterrupt once: around the whole
  click command (parsing included), and in ``python -m resolve|mirror`` around the imports
  that load it.
- SIGTERM is handled as SIGINT is, by whatever handles SIGINT at the moment: inside
  ``asyncio.Runner`` (uvloop or not) its handler cancels the main task, so the coroutines
  unwind through their ``finally`` blocks and the runner raises KeyboardInterrupt; elsewhere
  Python's handler raises it where the code is. An SQLite transaction it lands in is rolled
  back by its ``with`` block.
- A command that leaves something behind says so with :func:`keeping` ("the building snapshot
  … is kept"); any other says nothing was changed.

Standard library only: ``python -m`` imports it before click and the rest of the CLI.
"""

from __future__ import annotations

import contextlib
import importlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import NoReturn

__all__ = [
    "INTERRUPTED_EXIT",
    "TERMINATED_EXIT",
    "Interrupted",
    "handling_interrupts",
    "keeping",
    "run_command",
]

INTERRUPTED_EXIT = 128 + signal.SIGINT
TERMINATED_EXIT = 128 + signal.SIGTERM

_NOTHING_KEPT = "nothing was changed"


class Interrupted(KeyboardInterrupt):
    """An interrupt that knows what the interrupted command keeps."""

    def __init__(self, kept: str) -> None:
        super().__init__(kept)
        self.kept = kept


@contextlib.contextmanager
def keeping(kept: str) -> Iterator[None]:
    """An interrupt inside the block reports ``kept`` (what stays behind, and how to go on)
    instead of "nothing was changed"."""
    try:
        yield
    except Interrupted:
        raise
    except KeyboardInterrupt:
        raise Interrupted(kept) from None


class _Signals:
    """Which signal the KeyboardInterrupt stands for, while the edge listens."""

    def __init__(self) -> None:
        self.depth = 0
        self.terminated = False

    def on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        self.terminated = True
        on_sigint = signal.getsignal(signal.SIGINT)
        if callable(on_sigint):
            on_sigint(signal.SIGINT, frame)  # asyncio.Runner's, or Python's: raises
        else:
            raise KeyboardInterrupt  # SIGINT ignored (a background job): SIGTERM still ends it


_SIGNALS = _Signals()


@contextlib.contextmanager
def handling_interrupts() -> Iterator[None]:
    """Ctrl-C or SIGTERM inside the block ends the process (one line, exit 130 or 143); the
    SIGTERM handler is installed for the block (from the main thread; others cannot)."""
    restore = _listen()
    try:
        yield
    except KeyboardInterrupt as exc:
        _exit(exc)
    finally:
        restore()


def _listen() -> Callable[[], None]:
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    if _SIGNALS.depth == 0:
        _SIGNALS.terminated = False
    _SIGNALS.depth += 1
    previous = signal.signal(signal.SIGTERM, _SIGNALS.on_sigterm)

    def restore() -> None:
        _SIGNALS.depth -= 1
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)

    return restore


def _exit(exc: KeyboardInterrupt) -> NoReturn:
    kept = exc.kept if isinstance(exc, Interrupted) else _NOTHING_KEPT
    word, code = (
        ("terminated", TERMINATED_EXIT)
        if _SIGNALS.terminated
        else ("interrupted", INTERRUPTED_EXIT)
    )
    with contextlib.suppress(OSError, ValueError):  # stderr closed: the exit status says it
        sys.stderr.write(f"{word}: {kept}\n")
        sys.stderr.flush()
    # CPython marks a KeyboardInterrupt that ended code run from a *string* (the functions
    # dataclasses and namedtuple build while a module loads) as unhandled, even once caught;
    # under `python -m` the interpreter then dies by SIGINT instead of exiting with ``code``.
    # Each string evaluation clears that mark first, so one that completes clears it for good.
    exec("")  # an empty string: nothing runs, only the mark is cleared
    sys.exit(code)


def run_command(module: str) -> None:
    """Import ``module`` (a CLI, a fifth of a second of imports) and run its ``main`` inside
    :func:`handling_interrupts`: a Ctrl-C while it loads ends as it would once loaded. The
    console scripts and ``python -m`` of both CLIs start here."""
    with handling_interrupts():
        importlib.import_module(module).main()
