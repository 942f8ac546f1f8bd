"""Values exchanged by :mod:`mirror.http.client` and its callers: configuration, results, errors.

Kept apart from the client so that the sync, the metadata fetcher and the tests can build and
inspect them without an event loop. Everything here is re-exported by :mod:`mirror.http.client`.
"""

from __future__ import annotations

import email.utils
import importlib.metadata
import platform
import time
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

from resolve.limits import DEFAULT_LIMITS, Limits

__all__ = [
    "ByteResponse",
    "ClientConfig",
    "ClientStats",
    "FetchEvent",
    "FetchFailed",
    "PageResponse",
    "describe_failure",
    "media_type",
    "retry_after_seconds",
    "user_agent",
]


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """Tunables of one run. Timeouts are seconds; ``None`` disables that timeout."""

    concurrency_per_host: int = 8
    connect_timeout: float | None = 10.0
    #: No byte for this long fails the attempt (every request, downloads included).
    read_timeout: float | None = 30.0
    #: One page, metadata file or range, all its attempts and backoffs included: a server
    #: trickling a byte a second fails that page instead of holding the sync for good. Whole
    #: files (downloads) have only the read timeout: a slow but moving download goes on.
    total_timeout: float | None = 120.0
    max_attempts: int = 4
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    retry_after_cap: float = 120.0
    max_redirects: int = 10
    proxy: str | None = None
    limits: Limits = DEFAULT_LIMITS

    def __post_init__(self) -> None:
        if self.concurrency_per_host < 1 or self.max_attempts < 1 or self.max_redirects < 0:
            raise ValueError("need concurrency_per_host ≥ 1, max_attempts ≥ 1, max_redirects ≥ 0")


@dataclass(slots=True)
class ClientStats:
    """Running totals for progress display; ``bytes_received`` counts decoded body bytes."""

    requests: int = 0
    bytes_received: int = 0
    retries: int = 0
    not_modified: int = 0
    failures: int = 0


@dataclass(frozen=True, slots=True)
class FetchEvent:
    """Passed to the progress callback: ``kind`` is ``response``, ``retry`` or ``failed``."""

    kind: str
    url: str
    status: int | None
    nbytes: int = 0
    attempt: int = 1


class FetchFailed(Exception):
    """No usable response for ``url`` after the retries (or a non-200 from ``fetch_bytes``).

    ``status`` is the last HTTP status seen, or None when the failure was below HTTP. The URL in
    the message never contains credentials.
    """

    def __init__(
        self, url: str, reason: str, *, status: int | None = None, attempts: int = 1
    ) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status
        self.attempts = attempts


@dataclass(frozen=True, slots=True)
class PageResponse:
    """One project (or root) page fetch. ``not_modified`` is a 304: ``body`` is empty and the
    stored page is still current; ``etag``/``last_modified`` then fall back to the validators
    that were sent when the server omitted them."""

    url: str
    final_url: str
    status: int
    content_type: str | None
    body: bytes
    etag: str | None = None
    last_modified: str | None = None
    charset: str | None = None
    not_modified: bool = False
    error: str | None = None
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass(frozen=True, slots=True)
class ByteResponse:
    """A HEAD or ranged GET, for the range reader; header names are lower-case."""

    status: int
    final_url: str
    headers: Mapping[str, str]
    body: bytes

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("content-length", "")
        return int(value) if value.isdigit() else None

    @property
    def accepts_ranges(self) -> bool:
        return self.headers.get("accept-ranges", "").strip().lower() == "bytes"

    @property
    def content_range(self) -> tuple[int, int, int | None] | None:
        """``(first, last, total)`` of a ``bytes a-b/total`` Content-Range (RFC 9110 §14.4)."""
        unit, _, spec = self.headers.get("content-range", "").strip().partition(" ")
        span, _, total = spec.partition("/")
        first, _, last = span.partition("-")
        if unit.lower() != "bytes" or not (first.isdigit() and last.isdigit()):
            return None
        return int(first), int(last), int(total) if total.isdigit() else None


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds asked for by a ``Retry-After`` value: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def media_type(headers: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(type/subtype lower-cased without parameters, charset) of a Content-Type."""
    raw = headers.get("Content-Type")
    if not raw:
        return None, None
    kind, *params = (part.strip() for part in raw.split(";"))
    charset = None
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"') or None
    return kind.lower() or None, charset


def user_agent() -> str:
    """``sneakernet/<v> (+aiohttp/<v>; python/<v>)``: servers can tell who is calling."""
    try:
        version = importlib.metadata.version("sneakernet")
    except importlib.metadata.PackageNotFoundError:
        version = "0"
    return (
        f"sneakernet/{version} (+aiohttp/{aiohttp.__version__}; python/{platform.python_version()})"
    )


def describe_failure(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"
