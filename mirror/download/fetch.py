"""`mirror download`, fetching: the planned files into one directory, verified by sha256.

Every request goes through the run's :class:`mirror.http.client.IndexClient`, so downloads get what
every other request gets: the per-host cap, retries with backoff and ``Retry-After``, and the
per-hop ``Authorization`` decision (credentials go only to the origin of the index they belong
to). The client reads whole bodies, so a file is fetched as a run of byte ranges
(``CHUNK_SIZE`` each, RFC 9110 §14): memory stays bounded, and a leftover ``.NAME.part`` is
resumed where it stopped. A server that ignores ``Range`` answers 200 with the whole file: it is
written to the part file (restarted) as it arrives, never held in memory, and cut where it
passes the published size (or ``file-bytes`` when no size is known).

Nothing is written outside the directory: the target name is the lock's file name, checked when
the plan was made (:mod:`mirror.download.plan`); the URL never chooses a name. A file becomes
visible under its name only by ``os.replace`` after its sha256 matched.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from db.urls import strip_credentials
from mirror.download.plan import DownloadItem
from mirror.http.client import FetchFailed, IndexClient

__all__ = ["CHUNK_SIZE", "DownloadProgress", "DownloadResult", "Outcome", "download_all"]

CHUNK_SIZE = 8 * 1024 * 1024
_READ_SIZE = 1024 * 1024
# O_NOFOLLOW: a symlink planted at the ``.part`` name must not send our bytes elsewhere.
_OPEN_FLAGS = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)


class Outcome(StrEnum):
    DOWNLOADED = "downloaded"
    RESUMED = "resumed"
    PRESENT = "already present"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class DownloadResult:
    item: DownloadItem
    outcome: Outcome
    received: int = 0  # body bytes fetched by this run
    note: str | None = None
    error: str | None = None

    def as_json(self) -> dict[str, object]:
        item = self.item
        found = {"filename": item.filename, "pin": item.pin, "url": item.shown_url}
        return {**found, "sha256": item.sha256, "size": item.size, "outcome": str(self.outcome),
                "received": self.received, "note": self.note, "error": self.error}  # fmt: skip


class DownloadProgress:
    """No-op progress hooks (reporter pattern); the CLI supplies a live one on a TTY."""

    def started(self, files: int, total_bytes: int | None) -> None:
        pass

    def advanced(self, nbytes: int) -> None:
        pass

    def finished(self, result: DownloadResult) -> None:
        pass


async def download_all(
    items: Sequence[DownloadItem],
    directory: Path,
    client: IndexClient,
    *,
    progress: DownloadProgress | None = None,
    chunk_size: int = CHUNK_SIZE,
    max_files: int = 16,
) -> list[DownloadResult]:
    """Fetch ``items`` into ``directory`` concurrently; one result per item, in order.

    A failure is a result, never an exception: the other files are still fetched.
    """
    reporter = progress or DownloadProgress()
    sizes = [i.size for i in items]
    reporter.started(len(items), None if None in sizes else sum(s or 0 for s in sizes))
    fetcher = _Fetcher(client, directory, reporter, chunk_size, asyncio.Semaphore(max_files))
    return list(await asyncio.gather(*(fetcher.one(item) for item in items)))


@dataclass(slots=True)
class _Part:
    """The temporary file being filled, and the hash of what it holds so far."""

    file: BinaryIO
    hasher: hashlib._Hash = field(default_factory=hashlib.sha256)
    size: int = 0

    def append(self, data: bytes) -> None:
        self.file.write(data)
        self.hasher.update(data)
        self.size += len(data)

    def restart(self) -> None:
        self.file.seek(0)
        self.file.truncate()
        self.hasher, self.size = hashlib.sha256(), 0

    def load(self, limit: int | None) -> int:
        """Hash what a leftover part holds; discard it when longer than the file can be."""
        if limit is not None and self.file.seek(0, os.SEEK_END) > limit:
            self.restart()
        self.file.seek(0)
        self.size = _hash_into(self.hasher, self.file)
        return self.size


@dataclass(slots=True)
class _Fetcher:
    client: IndexClient
    directory: Path
    progress: DownloadProgress
    chunk_size: int
    slots: asyncio.Semaphore

    async def one(self, item: DownloadItem) -> DownloadResult:
        part = self.directory / f".{item.filename}.part"
        async with self.slots:
            try:
                result = await self._one(item, part)
            except (FetchFailed, OSError) as exc:
                result = DownloadResult(item, Outcome.FAILED, error=_error(item, exc))
                with contextlib.suppress(OSError):
                    if part.stat().st_size == 0:  # nothing worth resuming
                        part.unlink()
        self.progress.finished(result)
        return result

    async def _one(self, item: DownloadItem, part: Path) -> DownloadResult:
        target = self.directory / item.filename
        note = None
        if target.is_file():
            present = hashlib.sha256()
            with target.open("rb") as file:
                nbytes = await asyncio.to_thread(_hash_into, present, file)
            if present.hexdigest() == item.sha256:
                self.progress.advanced(nbytes)
                return DownloadResult(item, Outcome.PRESENT)
            note = (
                f"{item.filename} was present with sha256 {present.hexdigest()}, the lock says "
                f"{item.sha256}: downloaded again"
            )
            target.unlink()  # not the locked file: never leave it under the locked name
        received, resumed, actual_hash = await self._fetch(item, part)
        if actual_hash != item.sha256:
            part.unlink(missing_ok=True)
            error = (
                f"sha256 mismatch for {item.filename} from {item.shown_url}: expected "
                f"{item.sha256}, got {actual_hash}; the download was deleted"
            )
            return DownloadResult(item, Outcome.FAILED, received, note, error)
        os.replace(part, target)
        outcome = Outcome.RESUMED if resumed else Outcome.DOWNLOADED
        return DownloadResult(item, outcome, received, note)

    async def _fetch(self, item: DownloadItem, path: Path) -> tuple[int, bool, str]:
        """Fill ``path``: (bytes received, whether a leftover part was resumed, its sha256).

        A resumed part that does not match is fetched once more from the start: the leftover
        may come from another file that once had this name.
        """
        with os.fdopen(os.open(path, _OPEN_FLAGS, 0o644), "r+b") as file:
            part = _Part(file)
            kept = await asyncio.to_thread(part.load, item.size)
            self.progress.advanced(kept)
            received, restarted = await self._stream(item, part)
            resumed = kept > 0 and not restarted
            if resumed and part.hasher.hexdigest() != item.sha256:
                self.progress.advanced(-part.size)
                await asyncio.to_thread(part.restart)
                more, _ = await self._stream(item, part)
                received, resumed = received + more, False
            file.flush()
            os.fsync(file.fileno())
        return received, resumed, part.hasher.hexdigest()

    async def _stream(self, item: DownloadItem, part: _Part) -> tuple[int, bool]:
        """Append ranges from ``part.size`` to the end of the file: the bytes received, and
        whether the part was restarted from zero (Range ignored, or another range sent)."""
        received = 0
        while item.size is None or part.size < item.size:
            start = part.size
            end = start + self.chunk_size - 1
            if item.size is not None:
                end = min(end, item.size - 1)
            # No whole-request deadline: a slow file goes on while bytes keep arriving.
            response = await self.client.request_range(
                item.url,
                start,
                end,
                whole_size=item.size,
                sink=_PartSink(self, part),
                deadline=False,
            )
            span = response.content_range if response.status == 206 else None
            if span is not None and span[0] == start and len(response.body) == span[1] - start + 1:
                await self._append(part, response.body)
                received += len(response.body)
                if (span[2] is not None and part.size >= span[2]) or span[1] < end:
                    break  # the end of the file (a shorter answer than asked is the end, too)
                continue
            if response.status == 416 and start > 0:
                break  # the part already holds the whole file; its hash decides
            if response.status == 200:  # RFC 9110 §14.2: Range ignored; the sink holds the file
                return received + part.size, True
            if response.status != 206:
                reason = f"HTTP {response.status}"
                raise FetchFailed(response.final_url, reason, status=response.status)
            # A range other than the one asked for: the whole file once more.
            body = await self.client.fetch_bytes(item.url, expected_size=item.size)
            self.progress.advanced(-part.size)
            await asyncio.to_thread(part.restart)
            await self._append(part, body)
            return received + len(body), True
        return received, False

    async def _append(self, part: _Part, data: bytes) -> None:
        await asyncio.to_thread(part.append, data)
        self.progress.advanced(len(data))


@dataclass(frozen=True, slots=True)
class _PartSink:
    """A whole-file answer (Range ignored) goes straight into the part file, restarted."""

    fetcher: _Fetcher
    part: _Part

    async def begin(self) -> None:
        self.fetcher.progress.advanced(-self.part.size)
        await asyncio.to_thread(self.part.restart)

    async def write(self, chunk: bytes) -> None:
        await self.fetcher._append(self.part, chunk)


def _hash_into(hasher: hashlib._Hash, file: BinaryIO) -> int:
    """Feed the rest of ``file`` to ``hasher``; returns the number of bytes read."""
    count = 0
    while chunk := file.read(_READ_SIZE):
        hasher.update(chunk)
        count += len(chunk)
    return count


def _error(item: DownloadItem, exc: FetchFailed | OSError) -> str:
    if isinstance(exc, OSError):
        return f"{item.filename}: {exc.strerror or exc}: {exc.filename or item.filename}"
    text = f"{item.filename}: cannot fetch {strip_credentials(exc.url)}: {exc.reason}"
    if exc.status in (401, 403):
        where = f"index {item.index.name}" if item.index else "its index"
        text += f" (check the credentials for {where})"
    return text
