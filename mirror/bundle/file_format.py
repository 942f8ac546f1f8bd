"""The snapshot bundle file: rows in sections, a manifest, zstd, and a digest at the end.

Layout (all of it deterministic: the same sections give the same bytes)::

    zstd frame (fixed parameters, content size and checksum recorded), decompressing to:
        b"sneakernet-bundle 1\\n"
        manifest: canonical JSON, one line: format, payload {bytes, sha256}, rows per table,
                  and what the caller adds (schema revision, snapshots, rule sets)
        payload:  per table, a header line {"columns", "raw_length", "table"}, then one
                  canonical JSON array per row; with raw_length, each row line is followed
                  by that many raw bytes (the blob table: payloads, uncompressed)
    zstd skippable frame (RFC 8878 §3.1.2, ignored by `zstd -d`): b"sha256=" + the hex
        sha256 of the zstd frame before it

The trailing digest is checked before anything is decompressed, so a truncated file or a
flipped byte is refused whatever the compressed stream would have made of it; the manifest's
payload digest is checked again at the end of every read of the decompressed rows.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
import struct
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import zstandard

from db.bundle.rows import NEWER_HINT, BundleError, Row, Section
from db.canonical import canonical_json
from mirror.bundle.inflate import InflatedStream
from resolve.limits import LimitExceeded, Limits
from resolve.output import open_output

__all__ = ["FORMAT", "BundleFile", "open_bundle", "write_bundle"]

FORMAT = 1
_MAGIC_LINE = b"sneakernet-bundle 1\n"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_SKIPPABLE = struct.pack("<I", 0x184D2A5E)
_DIGEST_TAG = b"sha256="
_TRAILER_LEN = 8 + len(_DIGEST_TAG) + 64
# A line longer than this is damage, not data (the longest rows are a few kilobytes).
_MAX_LINE = 64 << 20
_CHUNK = 1 << 20


def _compressor() -> zstandard.ZstdCompressor:
    # Fixed parameters and one thread: multi-threaded zstd frames differ from single-threaded
    # ones. A 128 MiB window with long-distance matching finds pages repeated across
    # projects; it is the largest window `zstd -d` accepts without --long.
    params = zstandard.ZstdCompressionParameters.from_level(
        10, window_log=27, enable_ldm=1, write_checksum=1, write_content_size=1, threads=0
    )
    return zstandard.ZstdCompressor(compression_params=params)


def _damaged(what: str) -> BundleError:
    return BundleError(
        f"the bundle is damaged: {what}",
        hint="copy it again from where it was exported, and compare `sha256sum FILE` with "
        "the digest `mirror export` printed",
    )


@dataclass(frozen=True, slots=True)
class BundleFile:
    """A bundle whose trailing digest matched: its path, size and whole-file sha256."""

    path: Path
    sha256: str
    size: int

    @contextlib.contextmanager
    def read(self, limits: Limits) -> Iterator[BundleStream]:
        """The decompressed bundle, within ``limits``: its manifest, then
        :meth:`BundleStream.sections`."""
        with self.path.open("rb") as handle:
            inflated = InflatedStream(handle, self.path, limits)
            source = io.BufferedReader(inflated, _CHUNK)
            yield BundleStream(source, self.path, _payload_limit(limits))


def open_bundle(path: Path) -> BundleFile:
    """Check that ``path`` is a whole bundle: zstd, ending with the digest of what precedes."""
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise BundleError("it is a directory", hint="pass the file `mirror export` wrote")
        with path.open("rb") as handle:
            if handle.read(len(_ZSTD_MAGIC)) != _ZSTD_MAGIC:
                raise BundleError(
                    "it is not a sneakernet bundle (not zstd-compressed)",
                    hint="pass a file written by `mirror export`",
                )
            if size < len(_ZSTD_MAGIC) + _TRAILER_LEN:
                raise _damaged("it is truncated")
            handle.seek(0)
            frame, whole = hashlib.sha256(), hashlib.sha256()
            left = size - _TRAILER_LEN
            while left:
                chunk = handle.read(min(_CHUNK, left))
                if not chunk:
                    raise _damaged("it is truncated")
                frame.update(chunk)
                whole.update(chunk)
                left -= len(chunk)
            trailer = handle.read()
    except FileNotFoundError as exc:
        raise BundleError("no such file", hint="check the path") from exc
    except OSError as exc:
        raise BundleError(f"cannot read it: {exc.strerror}", hint="check the path") from exc
    whole.update(trailer)
    expected = struct.pack("<I", len(_DIGEST_TAG) + 64) + _DIGEST_TAG
    if len(trailer) != _TRAILER_LEN or trailer[: 8 + len(_DIGEST_TAG)] != _SKIPPABLE + expected:
        raise _damaged("it is truncated or was changed (the digest it ends with is missing)")
    if trailer[-64:] != frame.hexdigest().encode():
        raise _damaged("its content does not match the digest it ends with")
    return BundleFile(path, whole.hexdigest(), size)


def _payload_limit(limits: Limits) -> tuple[str, int]:
    """The largest payload a row may carry: a payload is a page or a core metadata file, as
    large as `mirror sync` accepts one (whichever limit is larger names the bound)."""
    return max(("page-bytes", limits.page_bytes), ("metadata-bytes", limits.metadata_bytes))


class BundleStream:
    """Reads the decompressed bundle line by line, hashing the payload as it goes."""

    def __init__(self, source: IO[bytes], path: Path, payload_limit: tuple[str, int]) -> None:
        self._source = source
        self._path = path
        self._payload_limit = payload_limit
        self._hash = hashlib.sha256()
        self._bytes = 0
        self._next: bytes | None = None
        if self._read(len(_MAGIC_LINE)) != _MAGIC_LINE:
            raise BundleError(
                "it is not a sneakernet bundle of a format this version reads",
                hint=NEWER_HINT,
            )
        self.manifest = self._manifest()

    def _read(self, size: int, *, line: bool = False) -> bytes:
        try:
            return self._source.readline(size) if line else self._source.read(size)
        except zstandard.ZstdError as exc:  # only without the trailing digest: never seen
            raise _damaged(f"zstd: {exc}") from exc

    def _line(self) -> bytes | None:
        data = self._read(_MAX_LINE, line=True)
        if not data:
            return None
        if not data.endswith(b"\n"):
            raise _damaged("a line is cut short")
        return data

    def _exact(self, size: int) -> bytes:
        # In chunks: the length is the file's word, and one read of it would allocate it all
        # before the inflated stream's bounds could say anything.
        data = bytearray()
        while len(data) < size:
            chunk = self._read(min(_CHUNK, size - len(data)))
            if not chunk:
                raise _damaged("a payload is cut short")
            data += chunk
        return bytes(data)

    def _payload(self, data: bytes) -> bytes:
        self._hash.update(data)
        self._bytes += len(data)
        return data

    def _manifest(self) -> dict[str, Any]:
        line = self._line()
        manifest: dict[str, Any] = _json(line, dict, "its manifest")
        assert line is not None
        if canonical_json(manifest).encode() + b"\n" != line:
            raise _damaged("its manifest is not in canonical form")
        if manifest.get("format") != FORMAT:
            raise BundleError(
                f"it is a bundle of format {manifest.get('format')!r}; this version reads {FORMAT}",
                hint=NEWER_HINT,
            )
        payload = manifest.get("payload")
        rows = manifest.get("rows")
        if not (
            isinstance(payload, dict)
            and isinstance(payload.get("bytes"), int)
            and isinstance(payload.get("sha256"), str)
            and isinstance(rows, dict)
        ):
            raise _damaged("its manifest lacks the payload digest or row counts")
        return manifest

    def sections(self) -> Iterator[Section]:
        """Each section as it comes; its rows must be read before the next section is asked
        for. The payload digest and row counts are checked once the last row is read."""
        counts: dict[str, int] = {}
        self._next = self._line()
        while self._next is not None:
            header = _json(self._payload(self._next), dict, "a section header")
            table, columns = header.get("table"), header.get("columns")
            raw = header.get("raw_length")
            if not (
                isinstance(table, str)
                and isinstance(columns, list)
                and all(isinstance(c, str) for c in columns)
                and (raw is None or raw in columns)
                and table not in counts
            ):
                raise _damaged("a section header is malformed")
            counts[table] = 0
            rows = self._rows(tuple(columns), raw, counts, table)
            yield Section(table, tuple(columns), rows, raw)
            for _ in rows:  # rows the caller left unread
                pass
        self._finish(counts)

    def _rows(
        self, columns: tuple[str, ...], raw: str | None, counts: dict[str, int], table: str
    ) -> Iterator[Row]:
        """The rows up to the next section header, which is left in ``_next``."""
        where = None if raw is None else columns.index(raw)
        while True:
            line = self._line()
            if line is None or line.startswith(b"{"):
                self._next = line
                return
            counts[table] += 1
            values = _json(self._payload(line), list, "a row")
            if len(values) != len(columns):
                raise _damaged("a row has the wrong number of values")
            if where is None:
                yield tuple(values)
                continue
            size = values[where]
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                raise _damaged("a payload length is not a number")
            name, limit = self._payload_limit
            if size > limit:
                what = f"a payload of {size} bytes in bundle {str(self._path)!r}"
                raise LimitExceeded(what, name, limit)
            yield (*values, self._payload(self._exact(size)))

    def _finish(self, counts: Mapping[str, int]) -> None:
        payload = self.manifest["payload"]
        if self._bytes != payload["bytes"] or self._hash.hexdigest() != payload["sha256"]:
            raise _damaged("its rows do not match the digest in its manifest")
        if counts != self.manifest["rows"]:
            raise _damaged("its row counts do not match its manifest")


def _json(line: bytes | None, kind: type[Any], what: str) -> Any:
    if line is None:
        raise _damaged(f"{what} is missing")
    try:
        value = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _damaged(f"{what} is not JSON ({exc})") from exc
    if not isinstance(value, kind):
        raise _damaged(f"{what} is not a JSON {kind.__name__}")
    return value


# -- writing ------------------------------------------------------------------------------------


class _Hashing(io.RawIOBase):
    """A write-only file that hashes and counts what passes through to ``target``."""

    def __init__(self, target: IO[bytes]) -> None:
        super().__init__()
        self.target = target
        self.hash = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = bytes(data)
        self.hash.update(view)
        self.size += len(view)
        return self.target.write(view)


def _write_payload(sections: Iterable[Section], out: _Hashing) -> dict[str, int]:
    counts: dict[str, int] = {}
    for section in sections:
        header = {"columns": list(section.columns), "raw_length": section.raw_length}
        out.write(canonical_json({**header, "table": section.table}).encode() + b"\n")
        count = 0
        for row in section.rows:
            values = row if section.raw_length is None else row[:-1]
            out.write(canonical_json(list(values)).encode() + b"\n")
            if section.raw_length is not None:
                data = row[-1]
                assert isinstance(data, bytes)
                out.write(data)
            count += 1
        counts[section.table] = count
    return counts


def write_bundle(
    path: Path,
    sections: Iterable[Section],
    describe: Callable[[], Mapping[str, object]],
) -> tuple[BundleFile, dict[str, Any]]:
    """Write the bundle of ``sections`` to ``path`` (:func:`resolve.output.open_output`: a
    regular file is replaced whole, never half-written; a device or FIFO is written in place);
    return it and its manifest.

    ``describe`` is called once the sections are consumed; what it returns joins the
    manifest."""
    # The manifest, first in the file, counts the rows: they wait in a spool (beside the
    # bundle, where there is room for it) until all are written.
    with (
        open_output(path, "the bundle") as output,
        tempfile.SpooledTemporaryFile(max_size=64 << 20, dir=output.scratch) as spool,
    ):
        payload = _Hashing(spool)
        counts = _write_payload(sections, payload)
        manifest: dict[str, Any] = {
            **describe(),
            "format": FORMAT,
            "payload": {"bytes": payload.size, "sha256": payload.hash.hexdigest()},
            "rows": counts,
        }
        head = _MAGIC_LINE + canonical_json(manifest).encode() + b"\n"
        spool.seek(0)
        frame = _Hashing(output.file)
        with _compressor().stream_writer(
            frame,  # type: ignore[arg-type]
            size=len(head) + payload.size,
            closefd=False,
        ) as writer:
            writer.write(head)
            shutil.copyfileobj(spool, writer, _CHUNK)
        trailer = _SKIPPABLE + struct.pack("<I", len(_DIGEST_TAG) + 64) + _DIGEST_TAG
        frame.write(trailer + frame.hash.hexdigest().encode())
    return BundleFile(path, frame.hash.hexdigest(), frame.size), manifest
