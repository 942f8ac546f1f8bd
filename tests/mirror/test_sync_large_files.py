"""A distribution read whole for its core metadata (a wheel without a PEP 658 file from an
index that ignores Range, an sdist) goes to a temporary file as it arrives, never into memory:
`mirror sync` of a 300 MiB wheel or a 256 MiB sdist stays far below their size, stores the
metadata, and leaves no temporary file behind; a local file is read where it lies. Each sync
runs as a child process whose peak RSS (``VmHWM``) the harness samples."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import BOTH_ENGINES, Mirror
from tests.fixtures.dists import build_metadata
from tests.fixtures.raw_server import answer, from_file, serve_raw
from tests.mirror.synctools import metadata
from tests.mirror.test_hostile_servers import ROOT, run_child

pytestmark = BOTH_ENGINES

RSS_BOUND = 200 << 20  # bytes: below either file, and what a small sync needs, many times over
MIB = 1 << 20
JSON_TYPE = "application/vnd.pypi.simple.v1+json"
METADATA = build_metadata("foo", "1.0", requires_dist=["bar>=1"], metadata_version="2.2")


class _Zeros:
    """``size`` zero bytes as a readable stream, for tarfile to copy without holding them."""

    def __init__(self, size: int) -> None:
        self.left = size

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return bytes(n)


def big_wheel(path: Path, size: int) -> None:
    """A real wheel whose first member is ``size`` zero bytes, stored (not deflated), so the
    file is as large on the wire as on disk; the .dist-info comes last, as wheels have it."""
    with zipfile.ZipFile(path, "w") as archive:
        with archive.open("foo/data.bin", "w", force_zip64=True) as member:
            block = bytes(MIB)
            for _ in range(size // MIB):
                member.write(block)
        archive.writestr("foo-1.0.dist-info/METADATA", METADATA)
        archive.writestr("foo-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nTag: py3-none-any\n")
        archive.writestr("foo-1.0.dist-info/RECORD", "")


def big_sdist(path: Path, size: int) -> None:
    """A real .tar.gz sdist with a static PKG-INFO (Metadata-Version 2.2) after ``size`` zero
    bytes, gzipped at level 0 so the file is as large as what it holds."""
    with tarfile.open(path, "w:gz", compresslevel=0) as archive:
        data = tarfile.TarInfo("foo-1.0/data.bin")
        data.size = size
        archive.addfile(data, _Zeros(size))
        info = tarfile.TarInfo("foo-1.0/PKG-INFO")
        info.size = len(METADATA)
        archive.addfile(info, io.BytesIO(METADATA))


def project_page(filename: str, path: Path) -> bytes:
    """A PEP 691 page (api-version 1.1: sizes, PEP 700) with the file's true size and sha256,
    and no PEP 658 metadata."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(8 * MIB):
            digest.update(block)
    entry = {
        "filename": filename,
        "url": f"/files/{filename}",
        "hashes": {"sha256": digest.hexdigest()},
        "size": path.stat().st_size,
    }
    doc = {"meta": {"api-version": "1.1"}, "name": "foo", "files": [entry], "versions": ["1.0"]}
    return json.dumps(doc).encode()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("filename", "build", "size", "source"),
    [
        ("foo-1.0-py3-none-any.whl", big_wheel, 300 * MIB, "download"),
        ("foo-1.0.tar.gz", big_sdist, 256 * MIB, "sdist-static"),
    ],
    ids=["wheel from an index that ignores Range", "sdist"],
)
def test_a_large_file_read_for_its_metadata_is_not_held_in_memory(
    mirror: Mirror,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    filename: str,
    build: Callable[[Path, int], None],
    size: int,
    source: str,
) -> None:
    path = tmp_path / filename
    build(path, size)
    assert path.stat().st_size > size > RSS_BOUND
    spool = tmp_path / "tmp"
    spool.mkdir()
    monkeypatch.setenv("TMPDIR", str(spool))  # the child's temporary files, checked below
    routes = {
        "/simple/": answer(ROOT),  # what `index add` reads
        "/simple/foo/": answer(project_page(filename, path), JSON_TYPE),
        f"/files/{filename}": from_file(path),
    }
    with serve_raw(routes) as base:
        mirror.run("index", "add", "one", f"{base}/simple/", "--default")
        code, stderr, summary, rss, _ = run_child(mirror, "sync", "foo", "--json")
    assert "Traceback" not in stderr, stderr
    assert code == 0, (stderr, summary)
    assert 0 < rss < RSS_BOUND, f"peak RSS {rss >> 20} MiB for a {size >> 20} MiB file"
    found = metadata(mirror)[filename]
    assert (found.source, found.error) == (source, None)
    assert found.requires_dist == ["bar>=1"]
    assert list(spool.iterdir()) == []  # the spooled file is gone with the spool


@pytest.mark.slow
def test_a_large_local_file_is_read_where_it_lies(mirror: Mirror, tmp_path: Path) -> None:
    """A flat directory: the page made for it and the metadata read from the wheel alike
    read the file in pieces."""
    links = tmp_path / "wheelhouse"
    links.mkdir()
    filename = "foo-1.0-py3-none-any.whl"
    big_wheel(links / filename, 300 * MIB)
    mirror.add_index("links", str(links), "--flat")
    code, stderr, summary, rss, _ = run_child(mirror, "sync", "foo", "--json")
    assert "Traceback" not in stderr, stderr
    assert code == 0, (stderr, summary)
    assert 0 < rss < RSS_BOUND, f"peak RSS {rss >> 20} MiB for a 300 MiB file"
    found = metadata(mirror)[filename]
    assert (found.source, found.error, found.requires_dist) == ("download", None, ["bar>=1"])
