"""A command's output at ``-o PATH`` (a lock, a rule file, a bundle): never half a file, and
never a device replaced by a file.

What is at PATH decides, its symbolic links followed:

- a regular file, or nothing yet: the bytes go to a temporary file beside the file the links
  lead to, which is then renamed over it. A reader sees the old content or the new, never a
  mixture; a failure (or Ctrl-C) leaves the old file as it was. A symbolic link stays a link
  and its target gets the new content, as ``cp`` and a shell's ``>`` leave it, and as
  pip-compile's atomic writes (click's ``atomic=True``) do. The file keeps its permission bits;
  a new one gets ``0o666`` less the umask, as ``open()`` gives.
- anything else (``/dev/null``, a FIFO another process reads, a terminal), or a name for an
  open file of this process rather than a place (``/dev/stdout``, ``/dev/fd/1``,
  ``/proc/self/fd/1``: links into ``/proc``, whatever the file they reach): written in place,
  as a shell redirection would. Renaming over it would put a regular file where the device
  was (as root, a regular ``/dev/null`` for every program on the machine), or put a new file
  where the shell's redirection points, apart from what the shell holds open.

The content is streamed into :attr:`Output.file`, so a large bundle never sits in memory.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from db.errors import SneakernetError

__all__ = ["Output", "OutputError", "open_output", "writes_to_stdout"]

# Permission bits of a new file before the umask, as open() and a shell redirection use: the
# outputs are shared files (locks are committed, bundles carried), not secrets.
_NEW_FILE_MODE = 0o666
# Tries at a free temporary name: 48 random bits each, so a collision means something else.
_TEMPORARY_ATTEMPTS = 16
# Symbolic links followed before giving up, as the kernel's ELOOP limit (Linux: 40).
_MAX_LINKS = 40


class OutputError(SneakernetError):
    """The output cannot be written: its directory is missing, or the system refused."""


@dataclass(frozen=True, slots=True)
class Output:
    """Where to write: ``file``, opened for binary writing, and ``scratch``, a directory for
    large temporary files on the same file system as the destination (None: the system's
    temporary directory, for an output written in place; a string, as tempfile takes it)."""

    file: BinaryIO
    scratch: str | None


@contextlib.contextmanager
def open_output(path: Path, what: str) -> Iterator[Output]:
    """The output for ``-o PATH``; what is written reaches PATH when the block ends without
    an error. ``what`` names it in errors ("the lock", "the bundle"), which an OSError in the
    block (a full disk) becomes too."""
    destination = _destination(path)
    if destination is not None and not destination.parent.is_dir():
        raise OutputError(
            f"cannot write {what} {path}: directory {destination.parent} does not exist",
            hint="create the directory, or pass another -o file",
        )
    try:
        if destination is None:
            with _in_place(path) as output:
                yield output
        else:
            with _replacing(destination) as output:
                yield output
    except BrokenPipeError:
        raise  # a FIFO's or stdout's reader has gone: the CLI's edge ends quietly
    except OSError as exc:
        raise OutputError(
            f"cannot write {what} {path}: {exc.strerror or exc}",
            hint="check the permissions and the free disk space, or pass another -o file",
        ) from None


def writes_to_stdout(path: Path) -> bool:
    """Whether PATH is the file this process's stdout is (``-o /dev/stdout``, ``-o -`` spelt
    as a path): then nothing else may be printed there."""
    with contextlib.suppress(OSError, ValueError):  # ValueError: no real stdout (CliRunner)
        return os.path.samestat(os.stat(path), os.fstat(sys.stdout.fileno()))
    return False


def _destination(path: Path) -> Path | None:
    """The regular file to replace for PATH (PATH itself, or where its links lead), or None
    to write in place."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        mode = None  # absent, a dangling link, or unreachable: creating the file says why
    if mode is not None and not stat.S_ISREG(mode):
        return None
    # Not os.path.abspath: "link/../x" is where the kernel's walk goes, not "x".
    return _follow_links(path)


def _follow_links(path: Path) -> Path | None:
    """Where the symbolic links from PATH lead (through its directories' links too), or None
    for a link into ``/proc``: ``/proc/self/fd/N`` is one of this process's open files, which
    ``/dev/stdout`` and ``/dev/fd/N`` lead to."""
    current = path
    for _ in range(_MAX_LINKS):
        directory = Path(os.path.realpath(current.parent))
        if directory.parts[1:2] == ("proc",):
            return None
        current = directory / current.name
        try:
            target = os.readlink(current)
        except OSError:  # not a link (EINVAL), or nothing there yet: the file itself
            return current
        current = directory / target  # an absolute target replaces the directory
    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(path))


@contextlib.contextmanager
def _in_place(path: Path) -> Iterator[Output]:
    # Opening a FIFO for writing waits for a reader, as `> fifo` in a shell does.
    with open(path, "wb") as handle:
        yield Output(handle, None)


@contextlib.contextmanager
def _replacing(destination: Path) -> Iterator[Output]:
    try:
        keep_mode: int | None = stat.S_IMODE(os.stat(destination).st_mode)
    except OSError:
        keep_mode = None  # a new file: what the umask makes of _NEW_FILE_MODE
    fd, temporary = _create_temporary(destination)
    try:
        with os.fdopen(fd, "wb") as handle:
            if keep_mode is not None:
                # The rename replaces the inode, so the old file's bits are copied over.
                os.fchmod(handle.fileno(), keep_mode)
            yield Output(handle, str(destination.parent))
            handle.flush()
            # On disk before the rename makes it the file: a crash leaves old or new, whole.
            os.fsync(handle.fileno())
        os.replace(temporary, destination)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _create_temporary(destination: Path) -> tuple[int, Path]:
    """A new, empty sibling of DESTINATION, created with ``_NEW_FILE_MODE`` so the kernel
    applies the umask (tempfile.mkstemp would create it 0600, and reading the umask means
    changing it)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(_TEMPORARY_ATTEMPTS):
        # os.urandom, not secrets: the name need only be unlikely to clash (and secrets costs
        # the start-up its hmac and random imports).
        temporary = destination.with_name(f".{destination.name}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(temporary, flags, _NEW_FILE_MODE), temporary
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, f"no free temporary name in {destination.parent}")
