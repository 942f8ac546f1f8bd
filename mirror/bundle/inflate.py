"""A bundle's zstd frame inflated within bounds: a small file must not become gigabytes.

A bundle's trailing digest proves only that the file is the one its writer made, not that the
writer was honest, so the inflated stream is counted as it is read: past ``bundle-bytes`` in
all, or past ``bundle-ratio`` inflated bytes per compressed byte read so far, reading stops with
:class:`~resolve.limits.LimitExceeded` naming the file. The first :data:`RATIO_FLOOR` bytes may
come at any ratio: a bundle of a few small snapshots compresses far better than a large one
(pages repeated across projects), and that little can do no harm.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import IO, Any, cast

import zstandard

from resolve.limits import LimitExceeded, Limits

__all__ = ["RATIO_FLOOR", "InflatedStream"]

RATIO_FLOOR = 16 << 20


class _Counted(io.RawIOBase):
    """The compressed file, counting the bytes the decompressor has taken from it."""

    def __init__(self, handle: IO[bytes]) -> None:
        super().__init__()
        self._handle = handle
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._handle.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)


class InflatedStream(io.RawIOBase):
    """The decompressed bytes of the zstd frame in ``handle``, within ``limits``."""

    def __init__(self, handle: IO[bytes], path: Path, limits: Limits) -> None:
        super().__init__()
        self._path = path
        self._limits = limits
        self._compressed = _Counted(handle)
        # A readable binary file in all but name: zstandard's stubs ask for IO[bytes].
        source = cast(IO[bytes], self._compressed)
        self._reader = zstandard.ZstdDecompressor().stream_reader(source, closefd=False)
        self.inflated = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count: int = self._reader.readinto(buffer)
        self.inflated += count
        limits = self._limits
        if self.inflated > limits.bundle_bytes:
            what = f"bundle {str(self._path)!r}, inflated,"
            raise LimitExceeded(what, "bundle-bytes", limits.bundle_bytes)
        if self.inflated > RATIO_FLOOR and self.inflated > limits.bundle_ratio * max(
            self._compressed.count, 1
        ):
            what = f"bundle {str(self._path)!r}, in bytes inflated per compressed byte,"
            raise LimitExceeded(what, "bundle-ratio", limits.bundle_ratio)
        return count
