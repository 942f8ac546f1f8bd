"""Byte ranges of one remote file, read through the run's :class:`IndexClient`.

:class:`ClientRangeFetcher` is the :class:`mirror.metadata.wheel_zip.RangeFetcher` used by
``mirror sync``
(MIRROR.md, "No PEP 658"). It makes no request of its own: every HEAD and ranged GET goes
through :class:`mirror.http.client.IndexClient`, so range reads get what every other request gets
(MIRROR.md, "Sync behaviour", HTTP):

- the per-host concurrency cap (``concurrency_per_host``), so many wheels read by ranges do
  not flood one server;
- the retries with backoff and ``Retry-After`` on 408, 429, 5xx and connection errors;
- the per-hop ``Authorization`` decision: credentials go only to the origin of the index
  they were registered for, never to a host a redirect leads to.
"""

from __future__ import annotations

from mirror.http.client import IndexClient
from mirror.http.responses import ByteResponse, FetchFailed
from mirror.metadata.spool import Spool
from mirror.metadata.wheel_zip import TAIL_SIZE, RangeNotSupported

__all__ = ["ClientRangeFetcher"]


class ClientRangeFetcher:
    """:class:`mirror.metadata.wheel_zip.RangeFetcher` over one URL, through an
    :class:`IndexClient`.

    Every request asks for ``Accept-Encoding: identity`` (the client does so for files and
    ranges): byte offsets are file offsets only when no content coding is applied; a coded
    answer raises :class:`RangeNotSupported`, as does an answer for another range than the one
    asked for. A server that ignores ``Range`` answers 200 with the whole file: it is written
    into the spool ``whole`` as it arrives (it may weigh up to ``file-bytes``), which is then
    marked complete so that the fallback does not download it again. A status other than
    200/206 (or 405/501 to HEAD) raises :class:`FetchFailed`. ``bytes_transferred`` counts the
    body bytes received, for the sync's report.
    """

    def __init__(
        self, client: IndexClient, url: str, whole: Spool, *, probe_size: int = TAIL_SIZE
    ) -> None:
        self._client = client
        self._url = url
        self._probe_size = probe_size
        self._size: int | None = None
        self._size_known = False
        self._probe: tuple[int, bytes] | None = None  # the suffix probe is the first tail read
        self.whole = whole
        self.bytes_transferred = 0

    async def size(self) -> int | None:
        if not self._size_known:
            self._size = await self._head()
            if self._size is None:
                self._size = await self._suffix_probe()
            self._size_known = True
        return self._size

    async def _head(self) -> int | None:
        response = await self._client.head(self._url)
        if response.status in (405, 501):  # HEAD not allowed: learn the size by a GET
            return None
        if response.status != 200:
            raise FetchFailed(self._url, f"HTTP {response.status} to HEAD", status=response.status)
        if response.headers.get("accept-ranges", "").strip().lower() == "none":
            raise RangeNotSupported(f"{self._url}: the server says Accept-Ranges: none")
        self._check_identity(response)
        return response.content_length

    async def _suffix_probe(self) -> int | None:
        tail = await self._client.request_tail(self._url, self._probe_size, sink=self.whole)
        response = self._partial(tail)
        if response.content_range is None:
            return None
        first, last, total = response.content_range
        if total is None:
            return None
        if last != total - 1 or first != max(0, total - self._probe_size):
            raise RangeNotSupported(
                f"{self._url}: asked for the last bytes, got bytes {first}-{last}/{total}"
            )
        self._probe = (first, self._body(response, last - first + 1))
        return total

    async def fetch(self, start: int, end: int) -> bytes:
        if self._probe is not None:
            base, data = self._probe
            if base <= start and end < base + len(data):
                return data[start - base : end + 1 - base]
        response = self._partial(
            await self._client.request_range(self._url, start, end, sink=self.whole)
        )
        span = response.content_range
        if span is None or span[:2] != (start, end):
            raise RangeNotSupported(
                f"{self._url}: asked for bytes {start}-{end}, "
                f"got Content-Range {response.headers.get('content-range')!r}"
            )
        return self._body(response, end - start + 1)

    def _partial(self, response: ByteResponse) -> ByteResponse:
        self.bytes_transferred += len(response.body)
        if response.status == 200:
            # RFC 9110 §14.2: a server may ignore Range and send the whole file, now in the spool.
            self.bytes_transferred += self.whole.size
            self.whole.complete = True
            raise RangeNotSupported(f"{self._url}: the server ignored Range (200, whole body)")
        if response.status != 206:
            raise FetchFailed(
                self._url, f"HTTP {response.status} to a range request", status=response.status
            )
        self._check_identity(response)
        return response

    def _check_identity(self, response: ByteResponse) -> None:
        coding = response.headers.get("content-encoding", "identity").strip().lower()
        if coding not in ("", "identity"):  # offsets into a coded body are not file offsets
            raise RangeNotSupported(f"{self._url}: the server applied Content-Encoding {coding}")

    def _body(self, response: ByteResponse, expected: int) -> bytes:
        if len(response.body) != expected:
            raise RangeNotSupported(
                f"{self._url}: expected {expected} bytes, got {len(response.body)}"
            )
        return response.body
