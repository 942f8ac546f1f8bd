"""The HTTP client of ``mirror sync``: one aiohttp session, per-host limits, retries, auth.

MIRROR.md, "Sync behaviour" (HTTP, statuses, auth) and "Protocol" (content negotiation). The
rules this module keeps:

- One :class:`aiohttp.ClientSession` per run, and at most ``concurrency_per_host`` requests in
  flight per host (an :class:`asyncio.Semaphore` per host, held while the body is read, never
  while sleeping before a retry).
- Statuses are data. A 404/401/403/410 page comes back as a :class:`PageResponse`; so does a
  408/429/5xx once the retries are spent (with ``error`` set), so the sync records a *failed*
  page, never an absent one. Only when no HTTP status exists at all (connection refused, reset,
  timed out, truncated body, too many redirects) is :class:`FetchFailed` raised.
- Retries: 408, 429, 5xx and connection/payload errors, up to ``max_attempts`` in total, with
  capped exponential backoff and full jitter, except that a ``Retry-After`` (seconds or an HTTP
  date, RFC 9110 §10.2.3) is honoured up to ``retry_after_cap``.
- Redirects are followed here, not by aiohttp, so every hop is checked: the ``Authorization``
  header is built per request and only for an origin the credentials belong to; a redirect to
  another host never carries it. URLs returned never contain credentials.
- Pages accept gzip/deflate (aiohttp decodes; the body returned is the decoded one, which is
  what gets hashed). Files and ranges ask for ``Accept-Encoding: identity``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType, TracebackType

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from mirror.http.auth import CredentialTable, find_credentials, split_credentials
from mirror.http.bounded import BodySink, Caps, TooLarge, check_length, read_bounded
from mirror.http.responses import (
    ByteResponse,
    ClientConfig,
    ClientStats,
    FetchEvent,
    FetchFailed,
    PageResponse,
    describe_failure,
    media_type,
    retry_after_seconds,
    user_agent,
)
from mirror.http.traffic import Traffic
from mirror.index_api.project_page import ACCEPT

__all__ = [
    "ACCEPT",
    "ACCEPT_HTML",
    "ByteResponse",
    "ClientConfig",
    "ClientStats",
    "FetchEvent",
    "FetchFailed",
    "IndexClient",
    "PageResponse",
    "retry_after_seconds",
    "user_agent",
]

# ACCEPT (mirror.index_api.project_page) prefers PEP 691 JSON; after a 406 we ask for HTML
# only (MIRROR.md).
ACCEPT_HTML = "application/vnd.pypi.simple.v1+html, text/html;q=0.01"

_RETRY_STATUSES = frozenset({408, 429})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})

SleepFn = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class _Raw:
    status: int
    url: URL
    headers: CIMultiDictProxy[str]
    body: bytes
    attempts: int
    size: int  # of the body received: len(body), unless it went to a sink


class IndexClient:
    """The async HTTP client for one sync run. Use as ``async with IndexClient() as client``.

    ``sleep`` and ``rand`` are injectable so tests see the backoff delays without waiting;
    ``progress`` receives a :class:`FetchEvent` per response, retry and failure.
    """

    def __init__(
        self,
        config: ClientConfig | None = None,
        *,
        sleep: SleepFn = asyncio.sleep,
        rand: Callable[[], float] = random.random,
        progress: Callable[[FetchEvent], None] | None = None,
        environ: Mapping[str, str] | None = None,
        netrc_path: str | None = None,
    ) -> None:
        self.config = config or ClientConfig()
        self.stats = ClientStats()
        self.traffic = Traffic()  # per index, for the sync's summary
        self.user_agent = user_agent()
        self._sleep = sleep
        self._rand = rand
        self._progress = progress
        self._environ = environ
        self._netrc_path = netrc_path
        self._session: aiohttp.ClientSession | None = None
        self._limits: dict[tuple[str, int | None], asyncio.Semaphore] = {}
        self._auth = CredentialTable()

    async def __aenter__(self) -> IndexClient:
        cfg = self.config
        timeout = aiohttp.ClientTimeout(
            total=cfg.total_timeout, sock_connect=cfg.connect_timeout, sock_read=cfg.read_timeout
        )
        # No cookie jar: a sync is stateless, and cookies must not travel between indexes.
        # trust_env=False: aiohttp would otherwise attach netrc credentials to *any* host.
        self._session = aiohttp.ClientSession(
            timeout=timeout,
            headers={"User-Agent": self.user_agent},
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """The run's session, for modules that need a request shape not offered here."""
        if self._session is None:
            raise RuntimeError("IndexClient is not open; use `async with IndexClient()`")
        return self._session

    # --- credentials ---------------------------------------------------------------------

    def add_index(self, url: str, *, name: str | None = None) -> str:
        """Register an index; returns its URL without credentials (the one to store).

        Credentials are looked up as :mod:`mirror.http.auth` documents and are sent only to this
        URL's origin. With several indexes on one origin, the longest matching path wins.
        """
        clean, creds = find_credentials(
            url, index_name=name, environ=self._environ, netrc_path=self._netrc_path
        )
        if creds is not None:
            self._auth.register(clean, creds)
        return clean

    def headers_for(self, url: str) -> dict[str, str]:
        """Headers for a file/range request to ``url`` made through :attr:`session`."""
        headers = {"User-Agent": self.user_agent, "Accept-Encoding": "identity"}
        creds = self._auth.lookup(URL(url))
        if creds is not None:
            headers["Authorization"] = creds.authorization()
        return headers

    def _prepare(self, url: str) -> URL:
        clean, creds = split_credentials(url)
        if creds is not None:  # ad-hoc credentials in a URL apply to its origin, as add_index
            self._auth.register(clean, creds)
        return URL(clean).with_fragment(None)

    # --- public requests -----------------------------------------------------------------

    async def fetch_page(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> PageResponse:
        """GET a Simple API page with PEP 691 negotiation and conditional headers."""
        target = self._prepare(url)
        headers = {"Accept": ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        caps = Caps((self.config.limits.page_bytes, f"the page {target}", "page-bytes"))
        try:
            raw = await self._exchange("GET", target, headers, caps)
            if raw.status == 406:  # PEP 691: the server has no JSON; ask for HTML once
                raw = await self._exchange("GET", target, {**headers, "Accept": ACCEPT_HTML}, caps)
        except TooLarge as exc:
            self._failed(target, 200, 1)
            return PageResponse(
                url=str(target),
                final_url=str(target),
                status=200,
                content_type=None,
                body=b"",
                error=exc.reason,
            )
        content_type, charset = media_type(raw.headers)
        not_modified = raw.status == 304
        if not_modified:
            self.stats.not_modified += 1
        error = None
        if raw.status in _RETRY_STATUSES or raw.status >= 500:
            error = f"HTTP {raw.status} after {raw.attempts} attempt(s)"
            self._failed(target, raw.status, raw.attempts)
        return PageResponse(
            url=str(target),
            final_url=str(raw.url),
            status=raw.status,
            content_type=None if not_modified else content_type,
            body=raw.body,
            etag=raw.headers.get("ETag") or (etag if not_modified else None),
            last_modified=raw.headers.get("Last-Modified")
            or (last_modified if not_modified else None),
            charset=charset,
            not_modified=not_modified,
            error=error,
            attempts=raw.attempts,
        )

    async def fetch_bytes(
        self,
        url: str,
        *,
        expected_size: int | None = None,
        metadata: bool = False,
        sink: BodySink | None = None,
    ) -> bytes:
        """GET a whole file (a ``.metadata`` file or a wheel) byte for byte, or into ``sink``
        as it arrives (the bytes returned are then empty). Raises :class:`FetchFailed` for any
        status but 200, for a body shorter or longer than its Content-Length or than
        ``expected_size`` (the size the index published), and for one past its limit:
        ``metadata-bytes`` for a metadata file, else ``file-bytes``."""
        target = self._prepare(url)
        limits = self.config.limits
        name, cap = ("metadata-bytes", limits.metadata_bytes)
        if not metadata:
            name, cap = ("file-bytes", limits.file_bytes)
        caps = Caps((cap, f"the file {target}", name), deadline=metadata, sink=sink)
        if expected_size is not None and expected_size <= cap:
            # More than the index said is a lie: stop reading there.
            caps = Caps((expected_size, f"the file {target}", None), deadline=metadata, sink=sink)
        raw = await self._exchange_or_fail(target, {"Accept-Encoding": "identity"}, caps)
        if raw.status != 200:
            self._failed(target, raw.status, raw.attempts)
            raise FetchFailed(
                str(target), f"HTTP {raw.status}", status=raw.status, attempts=raw.attempts
            )
        if expected_size is not None and raw.size != expected_size:
            self._failed(target, raw.status, raw.attempts)
            raise FetchFailed(
                str(target),
                f"got {raw.size} bytes, the index says {expected_size}",
                status=raw.status,
                attempts=raw.attempts,
            )
        return raw.body

    async def head(self, url: str) -> ByteResponse:
        """HEAD ``url`` with identity encoding (size and ``Accept-Ranges`` for range reads)."""
        return await self._bytes("HEAD", url, {}, None)

    async def request_range(
        self,
        url: str,
        start: int,
        end: int | None = None,
        *,
        whole_size: int | None = None,
        sink: BodySink | None = None,
        deadline: bool = True,
    ) -> ByteResponse:
        """GET ``bytes=start-end`` (``end`` inclusive, None for "to the end"), as data.

        The caller checks ``status == 206`` and :attr:`ByteResponse.content_range`. A 206 is
        read up to the length asked for; a 200 (Range ignored: the whole file) up to
        ``whole_size`` (the published size) or ``file-bytes``, into ``sink`` when given (the
        body returned is then empty). Past either, :class:`FetchFailed`. Without ``deadline``
        (a download) only the read timeout applies, not the whole-request one."""
        spec = f"bytes={start}-{'' if end is None else end}"
        asked = None if end is None else end - start + 1
        return await self._bytes("GET", url, {"Range": spec}, asked, whole_size, sink, deadline)

    async def request_tail(
        self, url: str, length: int, *, sink: BodySink, whole_size: int | None = None
    ) -> ByteResponse:
        """GET the last ``length`` bytes (``bytes=-length``, RFC 9110 §14.1.2 suffix range);
        a whole file sent instead goes into ``sink``, within ``whole_size`` if known."""
        spec = {"Range": f"bytes=-{length}"}
        return await self._bytes("GET", url, spec, length, whole_size, sink)

    async def _bytes(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        asked: int | None,
        whole_size: int | None = None,
        sink: BodySink | None = None,
        deadline: bool = True,
    ) -> ByteResponse:
        target = self._prepare(url)
        cap = self.config.limits.file_bytes
        limit: str | None = "file-bytes"
        if whole_size is not None and whole_size <= cap:
            cap, limit = whole_size, None  # the published size
        caps = Caps((cap, f"the file {target}", limit), partial=asked, deadline=deadline, sink=sink)
        raw = await self._exchange_or_fail(
            target, {**headers, "Accept-Encoding": "identity"}, caps, method
        )
        lowered = {k.lower(): v for k, v in raw.headers.items()}
        return ByteResponse(raw.status, str(raw.url), MappingProxyType(lowered), raw.body)

    # --- machinery -----------------------------------------------------------------------

    async def _exchange_or_fail(
        self, url: URL, headers: Mapping[str, str], caps: Caps, method: str = "GET"
    ) -> _Raw:
        try:
            return await self._exchange(method, url, headers, caps)
        except TooLarge as exc:
            self._failed(url, 200, 1)
            raise FetchFailed(str(url), exc.reason, status=200) from None

    async def _exchange(
        self, method: str, url: URL, headers: Mapping[str, str], caps: Caps
    ) -> _Raw:
        """Follow redirects by hand so each hop gets its own Authorization decision."""
        attempts = 0
        for _hop in range(self.config.max_redirects + 1):
            raw = await self._with_retries(method, url, headers, caps)
            attempts += raw.attempts
            location = raw.headers.get("Location")
            if raw.status not in _REDIRECTS or not location:
                return dataclasses.replace(raw, attempts=attempts)
            nxt = url.join(URL(location))
            if nxt.scheme not in ("http", "https"):
                self._failed(url, raw.status, attempts)
                raise FetchFailed(str(url), f"redirect to unsupported URL {nxt.scheme}:…")
            # Userinfo in a Location is never honoured nor kept (MIRROR.md, Auth).
            url = nxt.with_user(None).with_fragment(None)
            if raw.status == 303 and method != "HEAD":
                method = "GET"
        self._failed(url, None, attempts)
        raise FetchFailed(str(url), f"more than {self.config.max_redirects} redirects")

    async def _with_retries(
        self, method: str, url: URL, headers: Mapping[str, str], caps: Caps
    ) -> _Raw:
        cfg = self.config
        loop = asyncio.get_running_loop()
        deadline = None
        if caps.deadline and cfg.total_timeout is not None:
            deadline = loop.time() + cfg.total_timeout
        for attempt in range(1, cfg.max_attempts + 1):
            last = attempt == cfg.max_attempts
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                self._failed(url, None, attempt - 1)
                reason = f"timed out: no complete answer in {cfg.total_timeout:g} s"
                raise FetchFailed(str(url), f"{reason} (after {attempt - 1} attempt(s))")
            try:
                raw = await self._send(method, url, headers, attempt, caps, left)
            except (aiohttp.InvalidURL, aiohttp.ClientSSLError) as exc:
                self._failed(url, None, attempt)
                raise FetchFailed(str(url), describe_failure(exc), attempts=attempt) from exc
            except (TimeoutError, aiohttp.ClientError) as exc:
                if last:
                    self._failed(url, None, attempt)
                    msg = f"{describe_failure(exc)} (after {attempt} attempt(s))"
                    raise FetchFailed(str(url), msg, attempts=attempt) from exc
                await self._backoff(url, None, attempt, None)
                continue
            if last or not (raw.status in _RETRY_STATUSES or raw.status >= 500):
                return raw
            await self._backoff(url, raw.status, attempt, raw.headers.get("Retry-After"))
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _send(
        self,
        method: str,
        url: URL,
        headers: Mapping[str, str],
        attempt: int,
        caps: Caps,
        left: float | None,
    ) -> _Raw:
        request_headers = dict(headers)
        creds = self._auth.lookup(url)
        if creds is not None:
            request_headers["Authorization"] = creds.authorization()
        key = (url.host or "", url.port)
        limit = self._limits.get(key)
        if limit is None:
            limit = self._limits[key] = asyncio.Semaphore(self.config.concurrency_per_host)
        async with limit:
            self.traffic.sent()  # an attempt that fails below was still a request made
            async with self.session.request(
                method,
                url,
                headers=request_headers,
                allow_redirects=False,
                proxy=self.config.proxy,
                timeout=self._timeout(left),
            ) as resp:
                body, size = (b"", 0) if method == "HEAD" else await read_bounded(resp, caps)
                check_length(resp, size, method)
        self.traffic.received(size)
        self.stats.requests += 1
        self.stats.bytes_received += size
        if self._progress is not None:
            self._progress(FetchEvent("response", str(url), resp.status, size, attempt))
        return _Raw(resp.status, url, resp.headers, body, attempt, size)

    def _timeout(self, left: float | None) -> aiohttp.ClientTimeout:
        cfg = self.config
        return aiohttp.ClientTimeout(
            total=left, sock_connect=cfg.connect_timeout, sock_read=cfg.read_timeout
        )

    async def _backoff(
        self, url: URL, status: int | None, attempt: int, retry_after: str | None
    ) -> None:
        cfg = self.config
        asked = retry_after_seconds(retry_after)
        if asked is not None:
            delay = min(asked, cfg.retry_after_cap)
        else:  # "full jitter": uniform in [0, min(cap, base·2^(n-1))]
            delay = self._rand() * min(cfg.backoff_cap, cfg.backoff_base * 2 ** (attempt - 1))
        self.stats.retries += 1
        if self._progress is not None:
            self._progress(FetchEvent("retry", str(url), status, 0, attempt))
        await self._sleep(delay)

    def _failed(self, url: URL, status: int | None, attempt: int) -> None:
        self.stats.failures += 1
        if self._progress is not None:
            self._progress(FetchEvent("failed", str(url), status, 0, attempt))
