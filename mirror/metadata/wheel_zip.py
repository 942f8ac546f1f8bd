"""A wheel's ``*.dist-info/METADATA`` read with HTTP range requests (MIRROR.md, "No PEP 658").

A wheel is a zip (PEP 427), and a zip is read from its end: the End Of Central Directory
record (EOCD, APPNOTE.TXT §4.3.16) points at the central directory, which lists every member
with the offset of its local header. So two or three small ranged reads replace downloading a
wheel that may weigh hundreds of megabytes: the tail (usually holding the EOCD, the central
directory and, since ``.dist-info`` is written last, often METADATA itself), then the member.

The transport is a :class:`RangeFetcher` Protocol so this module does no I/O of its own; the
HTTP implementation is :class:`mirror.http.ranges.ClientRangeFetcher`. Anything the zip
structures say is checked before it is used to compute a range, and every failure is a
:class:`MetadataError` naming what was wrong, except :class:`RangeNotSupported`, which tells
the caller to fall back to downloading the whole file (:func:`metadata_from_wheel_file`).
"""

from __future__ import annotations

import lzma
import struct
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Protocol

from db.canonical import canonical_name
from mirror.metadata.core import MetadataError

__all__ = [
    "MAX_DIRECTORY",
    "MAX_METADATA",
    "TAIL_SIZE",
    "RangeFetcher",
    "RangeNotSupported",
    "ZipEntry",
    "metadata_from_wheel_file",
    "metadata_from_wheel_range",
    "parse_central_directory",
    "select_metadata_member",
]

TAIL_SIZE = 16 * 1024
"""Bytes read from the end first: the EOCD, for most wheels the whole central directory and,
since ``.dist-info`` is written last, often METADATA itself. Larger costs bytes on every small
wheel (one under this size is read whole); smaller costs a second request for the directory of
most wheels. 16 KiB is also the first read of other range-reading installers, so the two cost an
index alike."""
MAX_DIRECTORY = 64 * 1024 * 1024
"""Largest central directory we accept; a wheel with a million members is not a wheel."""
MAX_METADATA = 32 * 1024 * 1024
"""Largest METADATA we accept (long descriptions run to a few MB at most)."""


class RangeNotSupported(Exception):
    """The server does not serve byte ranges; download the whole file instead."""


class RangeFetcher(Protocol):
    """Byte-range access to one remote file."""

    async def size(self) -> int | None:
        """Total size in bytes, or None when the server will not say."""
        ...

    async def fetch(self, start: int, end: int) -> bytes:
        """Bytes ``start..end`` inclusive; RangeNotSupported if the server ignored Range."""
        ...


# Record layouts, APPNOTE.TXT §4.3.7 (local header), §4.3.12 (central header), §4.3.14-16.
_LOCAL = struct.Struct("<4s5H3I2H")
_CENTRAL = struct.Struct("<4s6H3I5H2I")
_EOCD = struct.Struct("<4s4H2IH")
_EOCD64_LOCATOR = struct.Struct("<4sIQI")
_EOCD64 = struct.Struct("<4sQ2H2I4Q")
_LOCAL_SIG = b"PK\x03\x04"
_CENTRAL_SIG = b"PK\x01\x02"
_EOCD_SIG = b"PK\x05\x06"
_EOCD64_LOCATOR_SIG = b"PK\x06\x07"
_EOCD64_SIG = b"PK\x06\x06"
_ZIP64_EXTRA = 0x0001
_MAX_COMMENT = 0xFFFF
_FLAG_ENCRYPTED = 0x0001
_FLAG_UTF8 = 0x0800  # APPNOTE §4.4.4 bit 11: names are UTF-8, otherwise cp437
_STORED, _DEFLATED = 0, 8
# Slack read after a member's data when fetching its local header, whose extra field may be
# longer than the central directory's copy: saves a second round trip.
_LOCAL_SLACK = 1024


@dataclass(frozen=True, slots=True)
class ZipEntry:
    """One central directory entry, with zip64 sizes and offset already resolved."""

    name: str
    raw_name: bytes
    flags: int
    method: int
    crc: int
    compressed_size: int
    size: int
    header_offset: int


# --- structures ------------------------------------------------------------------------------


def _find_eocd(tail: bytes) -> int | None:
    """Offset of the EOCD in ``tail``, or None.

    The EOCD is followed by a comment of its stated length and then, normally, the end of the
    file; a record whose comment ends exactly at the end wins over one that merely fits (the
    signature bytes can occur inside a comment or in trailing junk).
    """
    fallback: int | None = None
    stop = len(tail)
    while (pos := tail.rfind(_EOCD_SIG, 0, stop)) >= 0:
        stop = pos + len(_EOCD_SIG) - 1
        if pos + _EOCD.size > len(tail):
            continue
        (comment_length,) = struct.unpack_from("<H", tail, pos + _EOCD.size - 2)
        end = pos + _EOCD.size + comment_length
        if end == len(tail):
            return pos
        if end < len(tail) and fallback is None:
            fallback = pos
    return fallback


def _zip64_extra(extra: bytes, entry: list[int]) -> None:
    """Replace 0xFFFFFFFF placeholders in [size, compressed, offset] from the zip64 extra."""
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<2H", extra, pos)
        body = extra[pos + 4 : pos + 4 + length]
        pos += 4 + length
        if tag != _ZIP64_EXTRA:
            continue
        # APPNOTE §4.5.3: only the fields that overflowed are present, in this order.
        at = 0
        for index in range(3):
            if entry[index] == 0xFFFFFFFF:
                if at + 8 > len(body):
                    raise MetadataError("corrupt zip: short zip64 extra field")
                (entry[index],) = struct.unpack_from("<Q", body, at)
                at += 8
        return


def parse_central_directory(directory: bytes) -> list[ZipEntry]:
    """Every entry of a central directory held whole in ``directory``."""
    entries: list[ZipEntry] = []
    pos = 0
    while pos < len(directory):
        if pos + _CENTRAL.size > len(directory):
            raise MetadataError("corrupt zip: central directory ends mid-entry")
        fields = _CENTRAL.unpack_from(directory, pos)
        sig, flags, method, crc, csize, usize = fields[0], *fields[3:5], *fields[7:10]
        name_len, extra_len, comment_len, offset = *fields[10:13], fields[-1]
        if sig != _CENTRAL_SIG:
            raise MetadataError(f"corrupt zip: no central directory entry at +{pos}")
        start = pos + _CENTRAL.size
        pos = start + name_len + extra_len + comment_len
        if pos > len(directory):
            raise MetadataError("corrupt zip: central directory entry overruns the directory")
        raw_name = directory[start : start + name_len]
        numbers = [usize, csize, offset]
        _zip64_extra(directory[start + name_len : start + name_len + extra_len], numbers)
        encoding = "utf-8" if flags & _FLAG_UTF8 else "cp437"
        name = raw_name.decode(encoding, "replace")
        entries.append(
            ZipEntry(
                name=name,
                raw_name=raw_name,
                flags=flags,
                method=method,
                crc=crc,
                compressed_size=numbers[1],
                size=numbers[0],
                header_offset=numbers[2],
            )
        )
    return entries


def select_metadata_member(names: Iterable[str], project: str | None = None) -> str:
    """The path of ``<name>-<version>.dist-info/METADATA`` among a wheel's member names.

    PEP 427: a wheel has exactly one top-level ``.dist-info`` directory. As pip does, several
    are tolerated only if exactly one belongs to ``project`` (PEP 503 normalised).
    """
    names = list(names)
    dirs = sorted({n.split("/", 1)[0] for n in names if n.split("/", 1)[0].endswith(".dist-info")})
    if not dirs:
        raise MetadataError("not a wheel: no top-level .dist-info directory")
    if len(dirs) > 1 and project is not None:
        # "{distribution}-{version}.dist-info", with "-" escaped in both parts (PEP 427).
        wanted = canonical_name(project)
        mine = [
            d
            for d in dirs
            if canonical_name(d.removesuffix(".dist-info").split("-", 1)[0]) == wanted
        ]
        dirs = mine or dirs
    if len(dirs) > 1:
        raise MetadataError(f"not a wheel: several .dist-info directories: {', '.join(dirs)}")
    member = f"{dirs[0]}/METADATA"
    count = names.count(member)
    if count != 1:
        problem = "no" if count == 0 else "duplicate"
        raise MetadataError(f"not a wheel: {problem} {member} member")
    return member


def _inflate(entry: ZipEntry, raw: bytes) -> bytes:
    """The member's bytes, checked against the central directory's size and CRC-32."""
    if entry.flags & _FLAG_ENCRYPTED:
        raise MetadataError(f"{entry.name} is encrypted")
    if entry.method == _STORED:
        data = raw
    elif entry.method == _DEFLATED:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            # max_length bounds memory whatever the compressed stream claims (zip bombs).
            data = inflater.decompress(raw, entry.size + 1)
        except zlib.error as error:
            raise MetadataError(f"corrupt zip: cannot inflate {entry.name}: {error}") from None
    else:
        raise MetadataError(f"{entry.name}: unsupported compression method {entry.method}")
    if len(data) != entry.size:
        raise MetadataError(
            f"corrupt zip: {entry.name} is {len(data)} bytes, the directory says {entry.size}"
        )
    if zlib.crc32(data) != entry.crc:
        raise MetadataError(f"corrupt zip: CRC-32 mismatch for {entry.name}")
    return data


# --- reading remote ranges -------------------------------------------------------------------


class _Window:
    """Remembers the spans already fetched, so a read inside one costs no request."""

    def __init__(self, fetcher: RangeFetcher, size: int) -> None:
        self._fetcher = fetcher
        self._size = size
        self._spans: list[tuple[int, bytes]] = []

    async def read(self, start: int, length: int) -> bytes:
        end = start + length
        if start < 0 or length < 0 or end > self._size:
            raise MetadataError(f"corrupt zip: bytes {start}..{end} lie outside the file")
        for base, data in self._spans:
            if base <= start and end <= base + len(data):
                return data[start - base : end - base]
        # A span that starts inside the request (the tail, when the central directory begins
        # before it) supplies the end; fetch only the missing head.
        suffix = b""
        for base, data in self._spans:
            if start < base < end <= base + len(data):
                suffix = data[: end - base]
                end = base
                break
        if length == 0:
            return b""
        head = await self._fetcher.fetch(start, end - 1)
        if len(head) != end - start:
            raise RangeNotSupported(f"asked for {end - start} bytes at {start}, got {len(head)}")
        data = head + suffix
        self._spans.append((start, data))
        return data


async def _locate_directory(window: _Window, size: int, tail_size: int) -> tuple[int, int]:
    """(offset, size) of the central directory, from the EOCD and the zip64 EOCD if any."""
    tail_start = max(0, size - tail_size)
    tail = await window.read(tail_start, size - tail_start)
    pos = _find_eocd(tail)
    widest = _EOCD.size + _MAX_COMMENT + _EOCD64_LOCATOR.size
    if pos is None and tail_start > 0 and tail_size < widest:
        # A comment of up to 64 KiB may push the EOCD out of a small first read.
        return await _locate_directory(window, size, widest)
    if pos is None:
        raise MetadataError(
            "not a zip file, or truncated: no end-of-central-directory record "
            f"in the last {len(tail)} bytes"
        )
    _, disk, directory_disk, _, _, dir_size, dir_offset, _ = _EOCD.unpack_from(tail, pos)
    eocd_at = tail_start + pos
    if disk or directory_disk:
        raise MetadataError("spanned (multi-disk) zip archives are not wheels")
    directory_end = eocd_at
    locator_at = eocd_at - _EOCD64_LOCATOR.size
    if locator_at >= 0:
        locator = await window.read(locator_at, _EOCD64_LOCATOR.size)
        sig, _, record_at, _ = _EOCD64_LOCATOR.unpack(locator)
        if sig == _EOCD64_LOCATOR_SIG:
            if record_at + _EOCD64.size > locator_at:
                raise MetadataError("corrupt zip: zip64 end record points past its locator")
            record = await window.read(record_at, _EOCD64.size)
            fields = _EOCD64.unpack(record)
            if fields[0] != _EOCD64_SIG:
                raise MetadataError("corrupt zip: no zip64 end-of-central-directory record")
            dir_size, dir_offset = fields[-2], fields[-1]
            directory_end = record_at
    if dir_offset + dir_size > directory_end:
        raise MetadataError(
            f"corrupt or truncated zip: the central directory (offset {dir_offset}, "
            f"{dir_size} bytes) does not end before its end record (at {directory_end})"
        )
    return dir_offset, dir_size


async def metadata_from_wheel_range(
    fetcher: RangeFetcher,
    project: str | None = None,
    *,
    tail_size: int = TAIL_SIZE,
    max_directory: int = MAX_DIRECTORY,
    max_metadata: int = MAX_METADATA,
) -> bytes:
    """The METADATA bytes of a remote wheel, reading only the zip's tail and that member.

    Raises :class:`RangeNotSupported` when the server will not serve ranges (or not say the
    size), and :class:`MetadataError` when the file is not a well-formed wheel.
    """
    size = await fetcher.size()
    if size is None:
        raise RangeNotSupported("the server does not say how large the file is")
    if size < _EOCD.size:
        raise MetadataError(f"not a zip file: {size} bytes is too short")
    window = _Window(fetcher, size)
    dir_offset, dir_size = await _locate_directory(window, size, tail_size)
    if dir_size > max_directory:
        raise MetadataError(f"central directory of {dir_size} bytes exceeds {max_directory}")
    entries = parse_central_directory(await window.read(dir_offset, dir_size))
    member = select_metadata_member((e.name for e in entries), project)
    entry = next(e for e in entries if e.name == member)
    if entry.size > max_metadata:
        raise MetadataError(f"{member} is {entry.size} bytes, more than {max_metadata}")
    if entry.header_offset + _LOCAL.size > dir_offset:
        raise MetadataError(f"corrupt zip: {member}'s local header is not before the directory")
    # One read for header, name, extra and data, with slack for a longer local extra field.
    guess = _LOCAL.size + len(entry.raw_name) + entry.compressed_size + _LOCAL_SLACK
    await window.read(entry.header_offset, min(guess, dir_offset - entry.header_offset))
    header = await window.read(entry.header_offset, _LOCAL.size)
    sig, *_, name_len, extra_len = _LOCAL.unpack(header)
    if sig != _LOCAL_SIG:
        raise MetadataError(f"corrupt zip: no local header for {member} at {entry.header_offset}")
    name_at = entry.header_offset + _LOCAL.size
    if await window.read(name_at, name_len) != entry.raw_name:
        # The local and central names must agree, or the directory describes another file.
        raise MetadataError(f"corrupt zip: local header name differs from {member!r}")
    data_at = name_at + name_len + extra_len
    if data_at + entry.compressed_size > dir_offset:
        raise MetadataError(f"corrupt zip: {member}'s data runs into the central directory")
    return _inflate(entry, await window.read(data_at, entry.compressed_size))


def metadata_from_wheel_file(
    file: IO[bytes], project: str | None = None, *, max_metadata: int = MAX_METADATA
) -> bytes:
    """The METADATA bytes of a whole wheel, a seekable binary file (the no-ranges fallback:
    a spooled download or a local file); only its directory and that member are read."""
    try:
        with zipfile.ZipFile(file) as archive:
            member = select_metadata_member(archive.namelist(), project)
            info = archive.getinfo(member)
            if info.file_size > max_metadata:
                raise MetadataError(f"{member} is {info.file_size} bytes, more than {max_metadata}")
            with archive.open(info) as stream:
                return stream.read(max_metadata + 1)
    except MetadataError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as error:
        raise MetadataError(f"not a valid wheel: {error}") from None
    except (OSError, lzma.LZMAError) as error:
        # A damaged bzip2 or LZMA member (zip methods 12 and 14): bz2 says OSError.
        raise MetadataError(f"not a valid wheel: damaged compressed member ({error})") from None
    except (ValueError, OverflowError, struct.error) as error:
        # zipfile trusts the offsets it reads: damaged ones surface as seek and size errors.
        raise MetadataError(f"not a valid wheel: corrupt zip structure ({error})") from None
