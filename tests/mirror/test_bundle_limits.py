"""`mirror import` of a bundle that inflates without end: refused by a named limit, within
bounded memory and time, with the database unchanged.

The bombs are made from a real exported bundle: its magic line, manifest and section headers,
then blob rows whose payloads are runs of zeros written as zstd RLE blocks (RFC 8878 §3.1.1.2):
four bytes of file per 128 KiB inflated, all in the one frame the reader reads, and a trailing
digest that matches (the digest proves only who wrote the file, not that it is honest).
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import subprocess
from pathlib import Path

import pytest
import zstandard

from tests.conftest import Mirror, Serve
from tests.db import db_dump
from tests.fixtures.bounded_child import run_bounded
from tests.fixtures.index_server import FixtureIndex, make_project

TRAILER = 8 + len(b"sha256=") + 64
BLOCK = 128 << 10  # the largest zstd block
GIB = 1 << 30


@pytest.fixture
def bundle(mirror: Mirror, serve: Serve, tmp_path: Path) -> Path:
    index = FixtureIndex()
    make_project(index, "alpha", ["1.0", "2.0"])
    mirror.add_index("one", serve(index))
    mirror.sync("alpha", "--name", "s1")
    path = tmp_path / "real.snb"
    mirror.run("export", "s1", "-o", str(path))
    return path


def _block(kind: int, size: int, content: bytes, *, last: bool = False) -> bytes:
    header = int(last) | kind << 1 | size << 3
    return header.to_bytes(3, "little") + content


def _raw(data: bytes) -> bytes:
    return b"".join(
        _block(0, len(data[i : i + BLOCK]), data[i : i + BLOCK]) for i in range(0, len(data), BLOCK)
    )


def _zeros(size: int) -> bytes:
    whole, rest = divmod(size, BLOCK)
    run = _block(1, BLOCK, b"\0") * whole
    return run + (_block(1, rest, b"\0") if rest else b"")


def _zero_blobs(rows: int, payload: int) -> list[tuple[str, int]]:
    """``rows`` distinct blobs of zeros, ``payload`` bytes long or a few less, in key order,
    each with its true digest while it is small enough to be read (the longest is refused by
    its length first)."""
    if payload > 64 << 20:
        return [("0" * 64, payload)]
    sizes, blobs = [payload - n for n in range(rows)], []
    running = hashlib.sha256(bytes(sizes[-1]))
    for size in reversed(sizes):
        blobs.append((running.hexdigest(), size))
        running.update(b"\0")
    return sorted(blobs)


def bomb(real: Path, out: Path, *, rows: int, payload: int) -> Path:
    """``real``'s manifest and sections up to the blob table, then ``rows`` blob rows of
    ``payload`` zero bytes each, in one zstd frame with no content size."""
    inside = zstandard.ZstdDecompressor().decompress(real.read_bytes()[:-TRAILER])
    lines = inside.split(b"\n")
    at = next(n for n, line in enumerate(lines) if b'"table":"blob"' in line)
    header = json.loads(lines[at])
    columns = header["columns"]
    prefix = b"\n".join(lines[: at + 1]) + b"\n"
    # Frame header: no checksum, no content size, window 128 KiB (RFC 8878 §3.1.1.1).
    frame = struct.pack("<I", 0xFD2FB528) + bytes([0x00, 0x38]) + _raw(prefix)
    for digest, size in _zero_blobs(rows, payload):
        row = json.loads(lines[at + 1])
        row[columns.index("sha256")], row[columns.index(header["raw_length"])] = digest, size
        frame += _raw(json.dumps(row).encode() + b"\n") + _zeros(size)
    frame += _block(0, 0, b"", last=True)
    digest = hashlib.sha256(frame).hexdigest().encode()
    out.write_bytes(frame + struct.pack("<II", 0x184D2A5E, 71) + b"sha256=" + digest)
    return out


def import_bounded(mirror: Mirror, path: Path, *limits: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in mirror.env.items() if v is not None}
    env = {**os.environ, **env, "PYTHONPATH": str(Path.cwd())}
    env.pop("SNEAKERNET_DEBUG", None)
    args = ["--db", str(mirror.db), "import", str(path), *(f"--limit={x}" for x in limits)]
    return run_bounded("mirror", *args, env=env, cwd=path.parent, timeout=60)


def assert_refused(mirror: Mirror, path: Path, limit: str, *limits: str) -> None:
    before = db_dump(mirror.db)
    result = import_bounded(mirror, path, *limits)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"exceeds the limit {limit}=" in result.stderr, result.stderr
    assert f"hint: if the input is genuine, raise the limit: --limit {limit}=" in result.stderr
    assert str(path) in result.stderr
    assert db_dump(mirror.db) == before
    mirror.run("db", "check")


def test_a_zstd_bomb_is_refused_by_its_inflation_ratio(
    bundle: Path, mirror: Mirror, tmp_path: Path
) -> None:
    # 96 GiB inflated from about 3 MB: read whole it would take minutes, held whole all memory.
    path = bomb(bundle, tmp_path / "bomb.snb", rows=1536, payload=64 << 20)
    assert path.stat().st_size < 4 << 20
    assert_refused(mirror, path, "bundle-ratio")


def test_past_the_ratio_the_inflated_size_is_bounded_too(
    bundle: Path, mirror: Mirror, tmp_path: Path
) -> None:
    path = bomb(bundle, tmp_path / "bomb.snb", rows=64, payload=32 << 20)
    assert_refused(mirror, path, "bundle-bytes", "bundle-ratio=1000000", "bundle-bytes=256MiB")


def test_a_payload_longer_than_any_page_is_refused_before_it_is_read(
    bundle: Path, mirror: Mirror, tmp_path: Path
) -> None:
    # One row claiming 3 GiB, all of it present: read in one piece it would not fit the
    # child's address space, and the ratio alone would let 16 MiB through first.
    path = bomb(bundle, tmp_path / "long.snb", rows=1, payload=3 * GIB)
    assert_refused(mirror, path, "page-bytes", "bundle-ratio=1000000")


def test_a_real_bundle_imports_within_the_default_limits(
    bundle: Path, mirror: Mirror, tmp_path: Path
) -> None:
    other = Mirror(tmp_path / "other.db", mirror.env)
    result = import_bounded(other, bundle)
    assert result.returncode == 0, result.stderr
    assert other.scalar("SELECT count(*) FROM snapshot WHERE name = 's1'") == 1
