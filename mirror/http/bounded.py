"""Reading a response body within its bound (MIRROR.md, "Sync behaviour"; the limits of
:mod:`resolve.limits`): a Content-Length over the bound is refused before a byte is read, and a
body that passes it (decoded: a gzip bomb inflates here) is dropped at that point, so a lying
server costs one failed request, never the memory of the machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import aiohttp

from resolve.limits import LimitExceeded

__all__ = ["BodySink", "Caps", "TooLarge", "check_length", "read_bounded"]

_CHUNK = 1 << 16


class TooLarge(Exception):
    """A body past its cap: never retried (the next answer would be as large)."""

    def __init__(self, what: str, limit: str | None, cap: int) -> None:
        if limit is None:  # the size the index published
            reason = f"got more than {cap} bytes, the index says {cap}"
        else:
            error = LimitExceeded(what, limit, cap)
            reason = f"{error.message} ({error.hint})"
        super().__init__(reason)
        self.reason = reason


class BodySink(Protocol):
    """Where a whole file's body goes instead of memory (a download's part file)."""

    async def begin(self) -> None:
        """A body starts: drop what an earlier attempt wrote."""

    async def write(self, chunk: bytes) -> None:
        """The next bytes of the body."""


@dataclass(frozen=True, slots=True)
class Caps:
    """Bounds on one request: the body of a 200 (``whole``) and of a 206 (``partial``), and
    whether the whole-request deadline applies (not to whole-file downloads). With a ``sink``,
    a 200's body is written there chunk by chunk and not kept (the body returned is empty)."""

    whole: tuple[int, str, str | None] | None  # (bytes, what, limit name or None: published)
    partial: int | None = None
    deadline: bool = True
    sink: BodySink | None = None


async def read_bounded(resp: aiohttp.ClientResponse, caps: Caps) -> tuple[bytes, int]:
    """The body and its size, read in chunks and never past its cap: a ``Content-Length`` over
    the cap is refused before reading, and a body (decoded: a gzip bomb inflates here) that
    passes it is dropped at that point."""
    name: str | None = None
    sink = None
    if resp.status == 206 and caps.partial is not None:
        cap, what, asked = caps.partial, f"the range answer from {resp.url}", True
    elif caps.whole is not None:
        (cap, what, name), asked = caps.whole, False
        sink = caps.sink if resp.status == 200 else None
    else:
        body = await resp.read()
        return body, len(body)
    declared = resp.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > cap and not asked:
        raise TooLarge(f"{what} (Content-Length {declared})", name, cap)
    if sink is not None:
        await sink.begin()
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(_CHUNK):
        size += len(chunk)
        if size > cap:
            if asked:  # more than the range asked for: a lie, read no further
                raise aiohttp.ClientPayloadError(f"{what}: more bytes than the range asked")
            raise TooLarge(what, name, cap)
        if sink is not None:
            await sink.write(chunk)
        else:
            chunks.append(chunk)
    return b"".join(chunks), size


def check_length(resp: aiohttp.ClientResponse, size: int, method: str) -> None:
    # aiohttp already rejects a body cut short; this also catches an over-long one. Only
    # meaningful when the bytes on the wire are the bytes we hold (no Content-Encoding).
    declared = resp.headers.get("Content-Length", "")
    if method == "HEAD" or resp.status in (204, 304) or not declared.isdigit():
        return
    if "Content-Encoding" in resp.headers and resp.headers["Content-Encoding"] != "identity":
        return
    if size != int(declared):
        raise aiohttp.ClientPayloadError(f"body is {size} bytes, Content-Length says {declared}")
