"""A whole distribution file on its way to a metadata reader, never held in memory whole.

When core metadata must come from the distribution itself (no PEP 658 file, an index that
ignores ``Range``, an sdist; MIRROR.md, "Core metadata"), the file may weigh up to
``file-bytes`` and several are fetched at once. :class:`Spool` is the
:class:`mirror.http.bounded.BodySink` such a body is written into: the first
:data:`IN_MEMORY` bytes stay in memory, the rest go to a temporary file in the system's
temporary directory, deleted when the spool is closed. The digests the page gave are computed
as the bytes arrive, so checking them (PEP 503) costs no second pass; :func:`hash_file` does
the same for a local file read where it lies.
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from collections.abc import Mapping
from types import TracebackType
from typing import IO

from mirror.metadata.core import hashers_for

__all__ = ["IN_MEMORY", "Spool", "hash_file"]

IN_MEMORY = 8 * 1024 * 1024
"""Bytes a spool keeps in memory before it moves to a temporary file."""
_READ_SIZE = 1 << 20


class Spool:
    """One whole file body: written chunk by chunk, hashed as written, then read as a file.

    ``complete`` is set by the reader that saw the answer end well (a 200 to a range request:
    the whole file, RFC 9110 §14.2), so a spool written by an attempt that failed is never
    taken for the file; :meth:`begin` clears it along with the bytes.
    """

    def __init__(self, expected: Mapping[str, str] | None = None) -> None:
        self._expected = dict(expected or {})
        # Closed by close(): the spool outlives any one block.
        self.file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY)  # noqa: SIM115
        self.hashers = hashers_for(self._expected)
        self.size = 0
        self.complete = False

    async def begin(self) -> None:
        await asyncio.to_thread(self._truncate)
        self.hashers = hashers_for(self._expected)
        self.size = 0
        self.complete = False

    async def write(self, chunk: bytes) -> None:
        # A thread, as for a download's part file: a disk under writeback pressure may block,
        # and hashlib releases the GIL for chunks this size.
        await asyncio.to_thread(self._append, chunk)
        self.size += len(chunk)

    def rewound(self) -> IO[bytes]:
        """The file, positioned at its first byte for a reader."""
        self.file.seek(0)
        return self.file

    def _truncate(self) -> None:
        self.file.seek(0)
        self.file.truncate()

    def _append(self, chunk: bytes) -> None:
        for hasher in self.hashers.values():
            hasher.update(chunk)
        self.file.write(chunk)

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def hash_file(file: IO[bytes], expected: Mapping[str, str]) -> dict[str, hashlib._Hash]:
    """The digests of ``expected``'s algorithms over the rest of ``file``, read in chunks
    (and not read at all when there is nothing to check); the file is left where it was."""
    hashers = hashers_for(expected)
    if hashers:
        start = file.tell()
        while chunk := file.read(_READ_SIZE):
            for hasher in hashers.values():
                hasher.update(chunk)
        file.seek(start)
    return hashers
