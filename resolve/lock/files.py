"""A lock at ``-o PATH``: written through :mod:`resolve.output` (atomically for a regular file,
in place for a device or FIFO), and read back as an old lock only from a regular file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from resolve.output import open_output

__all__ = ["is_regular_file", "write_lock"]


def is_regular_file(path: Path) -> bool:
    """Whether PATH (through symbolic links) is a regular file: the only kind of file whose
    content can be read back as an existing lock without blocking (a FIFO) or reading
    nothing meaningful (a device)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):  # absent, unreachable, or a name the OS refuses
        return False


def write_lock(path: Path, text: str) -> None:
    """Write the lock TEXT to PATH (UTF-8, the line endings as they are)."""
    with open_output(path, "the lock") as output:
        output.file.write(text.encode("utf-8"))
