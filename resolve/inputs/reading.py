"""The one way a requirement input's bytes are read: whole, but never more than a bound.

Requirements files, constraints files, overrides files and ``pyproject.toml`` all come here,
whatever they are: a regular file, a FIFO, ``/dev/stdin``, or ``/dev/zero`` by mistake. At most
``limit + 1`` bytes are read, in chunks, so a file past the bound costs that much memory and
time and no more, and the error names the file and the ``--limit`` that raises the bound.
"""

from __future__ import annotations

from pathlib import Path

from resolve.limits import LimitExceeded

__all__ = ["read_bounded"]

_CHUNK = 1 << 20


def read_bounded(path: Path, *, limit: int, what: str) -> bytes:
    """The bytes of ``path`` (``OSError`` as ``open`` raises it), or :class:`LimitExceeded`
    for ``requirements-bytes`` naming ``what`` when there are more than ``limit``."""
    buffer = bytearray()
    # Unbuffered: each read asks the file for at most what is still allowed, so a device or
    # a pipe that never ends is read no further than one byte past the bound.
    with path.open("rb", buffering=0) as handle:
        while len(buffer) <= limit:
            chunk = handle.read(min(_CHUNK, limit + 1 - len(buffer)))
            if not chunk:
                return bytes(buffer)
            buffer += chunk
    raise LimitExceeded(what, "requirements-bytes", limit)
