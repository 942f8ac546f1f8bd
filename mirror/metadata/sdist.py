"""Core metadata of distribution files: PEP 658 files, ranged wheel reads, static sdists.

MIRROR.md, "Core metadata". This module holds the part that touches real bytes from the
outside world, :func:`sdist_metadata` (PKG-INFO / pyproject.toml out of an archive), and
re-exports the pure parsing of :mod:`mirror.metadata.core` and the zip reading of
:mod:`mirror.metadata.wheel_zip`, so callers import from one place. HTTP byte ranges for
:mod:`mirror.metadata.wheel_zip` are read by :class:`mirror.http.ranges.ClientRangeFetcher`.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import tarfile
import tomllib
import zipfile
import zlib
from pathlib import Path
from typing import IO

from db.canonical import canonical_name
from db.records import CoreMetadata
from mirror.metadata.core import (
    MetadataError,
    check_matches,
    declares_dynamic,
    is_static,
    metadata_from_pyproject,
    parse_core_metadata,
    verify_hash,
)
from mirror.metadata.wheel_zip import (
    RangeFetcher,
    RangeNotSupported,
    metadata_from_wheel_file,
    metadata_from_wheel_range,
)

__all__ = [
    "MetadataError",
    "RangeFetcher",
    "RangeNotSupported",
    "check_matches",
    "declares_dynamic",
    "is_static",
    "metadata_from_pyproject",
    "metadata_from_wheel_file",
    "metadata_from_wheel_range",
    "parse_core_metadata",
    "sdist_metadata",
    "unpack_sdist",
    "verify_hash",
]


# --- sdists (PEP 643 PKG-INFO, PEP 621 pyproject.toml) ---------------------------------------

MAX_PKG_INFO = 16 * 1024 * 1024
MAX_PYPROJECT = 1024 * 1024
MAX_UNPACKED = 1024 * 1024 * 1024
"""Decompressed bytes scanned in a tar sdist before giving up (a gzip bomb costs no more)."""

_WANTED = {"PKG-INFO": MAX_PKG_INFO, "pyproject.toml": MAX_PYPROJECT}
_SDIST_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar", ".zip")


class _Capped(io.RawIOBase):
    """A read-only stream that fails once more than ``cap`` bytes have come through."""

    def __init__(self, stream: IO[bytes] | io.BufferedIOBase, cap: int) -> None:
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


def _scan_zip(file: IO[bytes]) -> dict[tuple[str, str], list[bytes]]:
    found: dict[tuple[str, str], list[bytes]] = {}
    with zipfile.ZipFile(file) as archive:
        for info in archive.infolist():
            key = _member_key(info.filename)
            if key is None or info.is_dir():
                continue
            if info.file_size > _WANTED[key[1]]:
                raise MetadataError(f"sdist member {info.filename} is {info.file_size} bytes")
            with archive.open(info) as member:
                _add(found, key, member.read(_WANTED[key[1]] + 1))
    return found


def _scan(file: IO[bytes]) -> dict[tuple[str, str], list[bytes]]:
    """The candidate members, by the archive's magic bytes rather than its (fallible) name."""
    if _is_zip(file):
        return _scan_zip(file)
    with contextlib.ExitStack() as stack:
        return _scan_tar(_tar_stream(file, stack))


def _is_zip(file: IO[bytes]) -> bool:
    """Whether ``file`` (left where it stands) is a zip archive, by its magic bytes."""
    start = file.tell()
    magic = file.read(4)
    file.seek(start)
    return magic in (b"PK\x03\x04", b"PK\x05\x06")


def _tar_stream(file: IO[bytes], stack: contextlib.ExitStack) -> IO[bytes]:
    """The decompressed tar stream of ``file`` (by its magic bytes), failing past
    :data:`MAX_UNPACKED` bytes."""
    start = file.tell()
    magic = file.read(6)
    file.seek(start)
    raw: IO[bytes] | io.BufferedIOBase = file
    if magic.startswith(b"\x1f\x8b"):
        raw = stack.enter_context(gzip.GzipFile(fileobj=file, mode="rb"))
    elif magic.startswith(b"BZh"):
        raw = stack.enter_context(bz2.BZ2File(file))
    elif magic.startswith(b"\xfd7zXZ\x00"):
        raw = stack.enter_context(lzma.LZMAFile(file))  # noqa: SIM115 - closed by the caller's stack
    return io.BufferedReader(_Capped(raw, MAX_UNPACKED))


def _stem(filename: str) -> str:
    lowered = filename.lower()
    for suffix in _SDIST_SUFFIXES:
        if lowered.endswith(suffix):
            return filename[: -len(suffix)]
    return filename


def sdist_metadata(file: IO[bytes], filename: str) -> CoreMetadata | None:
    """Core metadata of an sdist, a seekable binary file read from where it stands (a
    spooled download or a local file), if it is static; None if it needs a build to know.

    Static (MIRROR.md, "Core metadata" 3): a PKG-INFO with Metadata-Version 2.2 or later whose
    Requires-Dist, Requires-Python and Provides-Extra are not ``Dynamic`` (PEP 643); or, when
    PKG-INFO predates PEP 643, a static ``[project]`` table (PEP 621). A 2.2+ PKG-INFO that
    marks them dynamic is believed: the backend has said a build may change them. Only
    ``<root>/PKG-INFO`` and ``<root>/pyproject.toml`` are read, ``<root>`` being the
    directory named like the file (``name-1.0``) or else the only one holding them.
    """
    try:
        found = _scan(file)
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


# --- unpacking an sdist to build it ----------------------------------------------------------

MAX_MEMBERS = 100_000
"""Members unpacked from one sdist before giving up (a million empty files cost no bytes)."""


def _safe_name(name: str) -> str:
    """``name`` if it stays inside the directory it is unpacked into, else MetadataError."""
    parts = name.replace("\\", "/").split("/")
    if name.startswith("/") or ".." in parts or ":" in parts[0]:
        raise MetadataError(f"sdist member {name!r} would land outside its directory")
    return name


def _unpack_tar(stream: IO[bytes], into: Path) -> None:
    # Stream mode, through the same cap on decompressed bytes as the metadata scan; tarfile's
    # "data" filter (PEP 706) refuses absolute names, "..", links out and special files.
    with tarfile.open(fileobj=stream, mode="r|") as archive:
        for count, member in enumerate(archive):
            if count >= MAX_MEMBERS:
                raise MetadataError(f"sdist has more than {MAX_MEMBERS} members")
            _safe_name(member.name)
            archive.extract(member, into, filter="data")


def _unpack_zip(file: IO[bytes], into: Path) -> None:
    with zipfile.ZipFile(file) as archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise MetadataError(f"sdist has more than {MAX_MEMBERS} members")
        if sum(i.file_size for i in infos) > MAX_UNPACKED:
            raise MetadataError("sdist unpacks to more than the allowed size")
        for info in infos:
            _safe_name(info.filename)
        archive.extractall(into)  # sizes and names checked above (zipfile never follows links)


def unpack_sdist(file: IO[bytes], filename: str, into: Path) -> Path:
    """Unpack the sdist ``file`` (seekable, read from where it stands) into the empty
    directory ``into`` under the scan's guards (:data:`MAX_UNPACKED` decompressed bytes, no
    member outside ``into``); return its source tree: the top directory named like the file,
    or else the only one (PEP 625: ``{name}-{version}/``)."""
    try:
        if _is_zip(file):
            _unpack_zip(file, into)
        else:
            with contextlib.ExitStack() as stack:
                _unpack_tar(_tar_stream(file, stack), into)
    except MetadataError:
        raise
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError, lzma.LZMAError) as error:
        raise MetadataError(f"{filename}: cannot unpack the sdist: {error}") from None
    except zlib.error as error:
        raise MetadataError(f"{filename}: corrupt compressed data: {error}") from None
    tops = sorted(p for p in into.iterdir() if p.is_dir())
    stem = into / _stem(filename)
    if stem in tops:
        return stem
    if len(tops) == 1:
        return tops[0]
    raise MetadataError(f"{filename}: no single top directory to build from")
