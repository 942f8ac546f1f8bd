"""Core metadata of distribution files: PEP 658 files, ranged wheel reads, static sdists.

MIRROR.md, "Core metadata". This module holds the two parts that touch real bytes from the
outside world, :class:`AiohttpRangeFetcher` (HTTP byte ranges for :mod:`mirror.ranges`) and
:func:`sdist_metadata` (PKG-INFO / pyproject.toml out of an archive), and re-exports the pure
parsing of :mod:`mirror.coremeta` and the zip reading of :mod:`mirror.ranges`, so callers
import from one place.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import re
import tarfile
import tomllib
import zipfile
import zlib
from collections.abc import Mapping
from typing import IO

import aiohttp

from db.records import CoreMetadata, canonical_name
from mirror.coremeta import (
    MetadataError,
    check_matches,
    declares_dynamic,
    is_static,
    metadata_from_pyproject,
    parse_core_metadata,
    verify_hash,
)
from mirror.ranges import (
    TAIL_SIZE,
    RangeFetcher,
    RangeNotSupported,
    metadata_from_wheel_bytes,
    metadata_from_wheel_range,
)

__all__ = [
    "AiohttpRangeFetcher",
    "MetadataError",
    "RangeFetcher",
    "RangeNotSupported",
    "check_matches",
    "declares_dynamic",
    "is_static",
    "metadata_from_pyproject",
    "metadata_from_wheel_bytes",
    "metadata_from_wheel_range",
    "parse_core_metadata",
    "sdist_metadata",
    "verify_hash",
]


# --- HTTP byte ranges ------------------------------------------------------------------------

_CONTENT_RANGE = re.compile(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)
_CHUNK = 64 * 1024


class AiohttpRangeFetcher:
    """:class:`RangeFetcher` over one URL with an aiohttp session (RFC 9110 §14).

    Every request asks for ``Accept-Encoding: identity``: byte offsets are offsets into the
    file only when no content coding is applied. A server that ignores ``Range`` (a 200 with
    the whole body) or answers another range than asked raises :class:`RangeNotSupported`
    without reading the body; the caller marks the index "no ranges" and calls
    :meth:`fetch_all`. ``bytes_transferred`` counts the body bytes read, ``requests`` the
    requests made, for the sync's report.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        headers: Mapping[str, str] | None = None,
        *,
        probe_size: int = TAIL_SIZE,
    ) -> None:
        self._session = session
        self._url = url
        kept = {k: v for k, v in (headers or {}).items() if k.lower() != "accept-encoding"}
        self._headers = {**kept, "Accept-Encoding": "identity"}
        self._probe_size = probe_size
        self._size: int | None = None
        self._size_known = False
        # The suffix-range probe doubles as the first tail read.
        self._probe: tuple[int, bytes] | None = None
        self.bytes_transferred = 0
        self.requests = 0

    async def size(self) -> int | None:
        if not self._size_known:
            self._size = await self._head()
            if self._size is None:
                self._size = await self._suffix_probe()
            self._size_known = True
        return self._size

    async def _head(self) -> int | None:
        self.requests += 1
        # aiohttp does not follow redirects for HEAD unless asked; files often live elsewhere.
        head = self._session.head(self._url, headers=self._headers, allow_redirects=True)
        async with head as response:
            if response.status in (405, 501):  # HEAD not allowed: learn the size by a GET
                return None
            response.raise_for_status()
            if response.status != 200:  # only a 200's Content-Length is the file's size
                return None
            if response.headers.get("Accept-Ranges", "").strip().lower() == "none":
                raise RangeNotSupported(f"{self._url}: the server says Accept-Ranges: none")
            _check_identity(response, self._url)
            length = response.headers.get("Content-Length", "")
            return int(length) if length.isdigit() else None

    async def _suffix_probe(self) -> int | None:
        self.requests += 1
        headers = {**self._headers, "Range": f"bytes=-{self._probe_size}"}
        async with self._session.get(self._url, headers=headers) as response:
            _check_partial(response, self._url)
            match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
            if match is None or match[3] == "*":
                response.close()
                return None
            first, last, total = int(match[1]), int(match[2]), int(match[3])
            if last != total - 1 or first != max(0, total - self._probe_size):
                response.close()
                raise RangeNotSupported(f"{self._url}: asked for the last bytes, got {match[0]}")
            self._probe = (first, await self._read(response, last - first + 1))
            return total

    async def fetch(self, start: int, end: int) -> bytes:
        if self._probe is not None:
            base, data = self._probe
            if base <= start and end < base + len(data):
                return data[start - base : end + 1 - base]
        self.requests += 1
        headers = {**self._headers, "Range": f"bytes={start}-{end}"}
        async with self._session.get(self._url, headers=headers) as response:
            _check_partial(response, self._url)
            content_range = response.headers.get("Content-Range", "")
            match = _CONTENT_RANGE.match(content_range)
            if match is None or (int(match[1]), int(match[2])) != (start, end):
                response.close()
                raise RangeNotSupported(
                    f"{self._url}: asked for bytes {start}-{end}, "
                    f"got Content-Range {content_range!r}"
                )
            return await self._read(response, end - start + 1)

    async def fetch_all(self) -> bytes:
        self.requests += 1
        async with self._session.get(self._url, headers=self._headers) as response:
            response.raise_for_status()
            body = await response.read()
        self.bytes_transferred += len(body)
        return body

    async def _read(self, response: aiohttp.ClientResponse, expected: int) -> bytes:
        """Exactly ``expected`` body bytes; never more, whatever the server sends."""
        body = bytearray()
        async for chunk in response.content.iter_chunked(_CHUNK):
            body += chunk
            self.bytes_transferred += len(chunk)
            if len(body) > expected:
                response.close()
                break
        if len(body) != expected:
            raise RangeNotSupported(f"{self._url}: expected {expected} bytes, got {len(body)}")
        return bytes(body)


def _check_identity(response: aiohttp.ClientResponse, url: str) -> None:
    coding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if coding not in ("", "identity"):
        response.close()
        raise RangeNotSupported(f"{url}: the server applied Content-Encoding {coding}")


def _check_partial(response: aiohttp.ClientResponse, url: str) -> None:
    if response.status == 200:
        # RFC 9110 §14.2: a server may ignore Range. Do not read the body we did not ask for.
        response.close()
        raise RangeNotSupported(f"{url}: the server ignored Range (200 with the whole body)")
    if response.status != 206:
        response.raise_for_status()
        response.close()
        raise RangeNotSupported(f"{url}: unexpected status {response.status} for a range")
    _check_identity(response, url)


# --- sdists (PEP 643 PKG-INFO, PEP 621 pyproject.toml) ---------------------------------------

MAX_PKG_INFO = 16 * 1024 * 1024
MAX_PYPROJECT = 1024 * 1024
MAX_UNPACKED = 1024 * 1024 * 1024
"""Decompressed bytes scanned in a tar sdist before giving up (a gzip bomb costs no more)."""

_WANTED = {"PKG-INFO": MAX_PKG_INFO, "pyproject.toml": MAX_PYPROJECT}
_SDIST_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar", ".zip")


class _Capped(io.RawIOBase):
    """A read-only stream that fails once more than ``cap`` bytes have come through."""

    def __init__(self, stream: io.BufferedIOBase, cap: int) -> None:
        self._stream = stream
        self._left = cap

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._stream.read(len(buffer))
        self._left -= len(data)
        if self._left < 0:
            raise MetadataError("sdist unpacks to more than the allowed size")
        buffer[: len(data)] = data
        return len(data)


def _member_key(name: str) -> tuple[str, str] | None:
    """(root, file) for ``<root>/PKG-INFO`` or ``<root>/pyproject.toml``, else None.

    Only these two exact shapes count: no absolute paths, no ``..``, no deeper copies such as
    ``<root>/src/x.egg-info/PKG-INFO``, so a crafted member name cannot stand in for them.
    """
    parts = name.removeprefix("./").split("/")
    if len(parts) != 2 or parts[1] not in _WANTED:
        return None
    if parts[0] in ("", ".", "..") or "\\" in parts[0]:
        return None
    return parts[0], parts[1]


def _add(found: dict[tuple[str, str], list[bytes]], key: tuple[str, str], data: bytes) -> None:
    if len(data) > _WANTED[key[1]]:
        raise MetadataError(f"sdist member {key[0]}/{key[1]} is larger than {_WANTED[key[1]]}")
    found.setdefault(key, []).append(data)


def _scan_tar(stream: IO[bytes]) -> dict[tuple[str, str], list[bytes]]:
    found: dict[tuple[str, str], list[bytes]] = {}
    # Stream mode ("r|"): one pass, no seeking, so the cap on decompressed bytes holds.
    with tarfile.open(fileobj=stream, mode="r|") as archive:
        for member in archive:
            key = _member_key(member.name)
            if key is None:
                continue
            if not member.isreg():  # a symlink or hard link could point anywhere
                raise MetadataError(f"sdist member {member.name} is not a regular file")
            if member.size > _WANTED[key[1]]:
                raise MetadataError(f"sdist member {member.name} is {member.size} bytes")
            extracted = archive.extractfile(member)
            assert extracted is not None  # a regular file always has a stream
            _add(found, key, extracted.read())
    return found


def _scan_zip(data: bytes) -> dict[tuple[str, str], list[bytes]]:
    found: dict[tuple[str, str], list[bytes]] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            key = _member_key(info.filename)
            if key is None or info.is_dir():
                continue
            if info.file_size > _WANTED[key[1]]:
                raise MetadataError(f"sdist member {info.filename} is {info.file_size} bytes")
            with archive.open(info) as member:
                _add(found, key, member.read(_WANTED[key[1]] + 1))
    return found


def _scan(data: bytes) -> dict[tuple[str, str], list[bytes]]:
    """The candidate members, by the archive's magic bytes rather than its (fallible) name."""
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return _scan_zip(data)
    with contextlib.ExitStack() as stack:
        source = io.BytesIO(data)
        raw: io.BufferedIOBase = source
        if data.startswith(b"\x1f\x8b"):
            raw = stack.enter_context(gzip.GzipFile(fileobj=source))
        elif data.startswith(b"BZh"):
            raw = stack.enter_context(bz2.BZ2File(source))
        elif data.startswith(b"\xfd7zXZ\x00"):
            raw = stack.enter_context(lzma.LZMAFile(source))
        return _scan_tar(io.BufferedReader(_Capped(raw, MAX_UNPACKED)))


def _stem(filename: str) -> str:
    lowered = filename.lower()
    for suffix in _SDIST_SUFFIXES:
        if lowered.endswith(suffix):
            return filename[: -len(suffix)]
    return filename


def sdist_metadata(data: bytes, filename: str) -> CoreMetadata | None:
    """Core metadata of an sdist if it is static, None if it needs a build to know.

    Static (MIRROR.md, "Core metadata" 3): a PKG-INFO with Metadata-Version 2.2 or later whose
    Requires-Dist, Requires-Python and Provides-Extra are not ``Dynamic`` (PEP 643); or, when
    PKG-INFO predates PEP 643, a static ``[project]`` table (PEP 621). A 2.2+ PKG-INFO that
    marks them dynamic is believed: the backend has said a build may change them. Only
    ``<root>/PKG-INFO`` and ``<root>/pyproject.toml`` are read, ``<root>`` being the
    directory named like the file (``name-1.0``) or else the only one holding them.
    """
    try:
        found = _scan(data)
    except MetadataError:
        raise
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError, lzma.LZMAError) as error:
        raise MetadataError(f"{filename}: not a readable sdist archive: {error}") from None
    except zlib.error as error:
        raise MetadataError(f"{filename}: corrupt compressed data: {error}") from None
    duplicates = sorted(f"{root}/{leaf}" for (root, leaf), datas in found.items() if len(datas) > 1)
    if duplicates:
        raise MetadataError(f"{filename}: duplicate members {', '.join(duplicates)}")
    roots = sorted({root for root, _ in found})
    if not roots:
        return None
    stem = _stem(filename)
    if stem in roots:
        root = stem
    elif len(roots) == 1:
        root = roots[0]
    else:
        raise MetadataError(f"{filename}: metadata in several top directories: {roots}")
    pkg_info = found.get((root, "PKG-INFO"))
    meta = parse_core_metadata(pkg_info[0]) if pkg_info else None
    if meta is not None and is_static(meta):
        return meta
    if meta is not None and declares_dynamic(meta):
        return None
    pyproject = found.get((root, "pyproject.toml"))
    if pyproject is None:
        return None
    try:
        table = tomllib.loads(pyproject[0].decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None  # the build would fail on it too; that is the build's error to report
    result = metadata_from_pyproject(table, version=meta.version if meta else None)
    if result and meta and canonical_name(result.name) != canonical_name(meta.name):
        raise MetadataError(
            f"{filename}: PKG-INFO names {meta.name!r} but pyproject.toml {result.name!r}"
        )
    return result
