"""Writing a lock to ``-o PATH``: never half a lock, and never a device replaced by a file.

A regular file (or a new one) is replaced atomically: the text goes to a sibling temporary
file that is then renamed over PATH, so a reader sees the old lock or the new one, never a
mixture, and a failure leaves the old lock as it was. Anything else that already exists at
PATH (``/dev/null``, ``/dev/stdout``, a FIFO another process reads, a socket) is written in
place, as a shell redirection would: renaming over it would put a regular file where the
device was (as root, a regular ``/dev/null`` for every other program on the machine).
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from db.errors import SneakernetError

__all__ = ["is_regular_file", "write_lock"]

# Permission bits of a new lock before the umask, as open() and a shell redirection use: a
# lock is shared text (committed, read by CI and by `mirror download`), not a secret.
_NEW_FILE_MODE = 0o666
# Tries at a free temporary name: 48 random bits each, so a collision means something else.
_TEMPORARY_ATTEMPTS = 16


def is_regular_file(path: Path) -> bool:
    """Whether PATH (through symbolic links) is a regular file: the only kind of file whose
    content can be read back as an existing lock without blocking (a FIFO) or reading
    nothing meaningful (a device)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):  # absent, unreachable, or a name the OS refuses
        return False


def write_lock(path: Path, text: str) -> None:
    """Write the lock TEXT to PATH: in place when PATH is an existing non-regular file,
    otherwise atomically; an existing regular file keeps its permission bits, a new one
    gets ``0o666`` less the umask."""
    try:
        mode: int | None = os.stat(path).st_mode
    except (OSError, ValueError):
        mode = None  # absent (or unreachable: creating the temporary file says why)
    if mode is not None and not stat.S_ISREG(mode):
        _write_in_place(path, text)
    else:
        _replace(path, text, None if mode is None else stat.S_IMODE(mode))


def _cannot_write(path: Path, exc: OSError) -> SneakernetError:
    return SneakernetError(
        f"cannot write the lock {path}: {exc.strerror or exc}",
        hint="create its directory, or pass another -o file",
    )


def _write_in_place(path: Path, text: str) -> None:
    # Opening a FIFO for writing waits for a reader, as `> fifo` in a shell does.
    try:
        handle = open(path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    with handle:
        handle.write(text)


def _replace(path: Path, text: str, keep_mode: int | None) -> None:
    directory = path.parent
    fd, temporary = _create_temporary(path, directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            if keep_mode is not None:
                # The rename replaces the inode, so the old lock's bits must be copied over;
                # a new lock keeps what the umask made of _NEW_FILE_MODE.
                os.fchmod(handle.fileno(), keep_mode)
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _create_temporary(path: Path, directory: Path) -> tuple[int, Path]:
    """A new, empty sibling of PATH, created with ``_NEW_FILE_MODE`` so the kernel applies the
    umask (tempfile.mkstemp would create it 0600, and reading the umask means changing it)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(_TEMPORARY_ATTEMPTS):
        temporary = directory / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(temporary, flags, _NEW_FILE_MODE), temporary
        except FileExistsError:
            continue
        except OSError as exc:
            raise _cannot_write(path, exc) from None
    raise _cannot_write(path, FileExistsError(f"no free temporary name in {directory}"))
