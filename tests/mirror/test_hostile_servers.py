"""Index servers that lie at the byte level cost `mirror sync` one failed page, never its
memory or its time: a 2 GiB Content-Length, a gzip bomb, a trickle, broken chunked framing, a
file server that ignores Range and never stops. `mirror download` from a server that ignores
Range writes the file as it arrives and stops at its published size. Each command runs as a
child process; the harness samples the child's peak RSS (``VmHWM``) and its wall time, and
bounds both."""

from __future__ import annotations

import hashlib
import json
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Mirror
from tests.fixtures.raw_server import (
    Behaviour,
    answer,
    bad_chunks,
    endless,
    gzip_bomb,
    lying_length,
    repeated,
    serve_raw,
    trickle,
)
from tests.mirror.test_download import pylock
from tests.resolve.endtoend import source_command, source_env

RSS_BOUND = 300 << 20  # bytes; a sync of one small project needs well under half of it
TIMEOUT = 3.0  # --timeout given to the sync
MARGIN = 30.0  # start-up, the retries' last backoff, a loaded CI machine
WHEEL = "foo-1.0-py3-none-any.whl"
PAGE = (
    '<html><head><meta name="pypi:repository-version" content="1.0"></head><body>'
    f'<a href="/files/{WHEEL}">{WHEEL}</a></body></html>'
).encode()
ROOT = b'<html><body><a href="foo/">foo</a></body></html>'  # what `index add` reads


def run_sync(
    mirror: Mirror, routes: dict[str, Behaviour], *args: str
) -> tuple[int, str, dict[str, object], int, float]:
    """``mirror sync foo --json ARGS`` against ``routes``: exit code, stderr, the JSON summary
    (or {}), the child's peak RSS in bytes and its wall time. A child still running
    after the bound is killed (and the test then fails on its exit code)."""
    with serve_raw({"/simple/": answer(ROOT), **routes}) as base:
        mirror.run("index", "add", "one", f"{base}/simple/", "--default")
        return run_child(
            mirror,
            *("sync", "foo", "--json", "--timeout", str(TIMEOUT), "--read-timeout", "2", *args),
        )


def run_child(mirror: Mirror, *args: str) -> tuple[int, str, dict[str, object], int, float]:
    """``mirror --db DB ARGS`` as a child: exit code, stderr, its JSON output (or {}), its
    peak RSS in bytes and its wall time; killed if still running after the bound."""
    command = [*source_command("mirror"), "--db", str(mirror.db), *args]
    out, err = mirror.folder / "stdout", mirror.folder / "stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        started = time.monotonic()
        child = subprocess.Popen(command, env=source_env(mirror), stdout=stdout, stderr=stderr)
        peak = _PeakRss(child.pid)
        peak.start()
        try:
            code = child.wait(timeout=TIMEOUT * 4 + MARGIN)
        except subprocess.TimeoutExpired:
            child.kill()
            code = child.wait()
        finally:
            peak.stop()
        seconds = time.monotonic() - started
    text = out.read_text()
    summary = json.loads(text) if text.strip() else {}
    return code, err.read_text(), summary, peak.bytes, seconds


class _PeakRss(threading.Thread):
    """The child's own high-water RSS (``VmHWM`` of /proc/PID/status), sampled every 10 ms.
    Not ``wait4``'s ``ru_maxrss``: that also counts the pytest process the child was forked
    from, before it exec'd, and made the bound depend on the size of the test run. VmHWM only
    rises, so a sample misses at most what the last 10 ms added."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.status = Path(f"/proc/{pid}/status")
        self.cmdline = Path(f"/proc/{pid}/cmdline")
        self.bytes = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.01):
            try:
                if b"-m\x00mirror\x00" not in self.cmdline.read_bytes():
                    continue  # not yet exec'd: still a copy of the pytest process
                text = self.status.read_text()
            except OSError:  # the child has exited
                return
            for line in text.splitlines():
                if line.startswith("VmHWM:"):
                    self.bytes = max(self.bytes, int(line.split()[1]) * 1024)

    def stop(self) -> None:
        self.done.set()
        self.join()


def assert_bounded(code: int, stderr: str, rss: int, seconds: float) -> None:
    assert rss > 0, "the child's RSS was never sampled"
    assert "Traceback" not in stderr, stderr
    assert rss < RSS_BOUND, f"peak RSS {rss >> 20} MiB"
    assert seconds < TIMEOUT * 4 + MARGIN, f"{seconds:.1f} s"
    assert code in (0, 3), (code, stderr)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("behaviour", "expected"),
    [
        (lying_length, "exceeds the limit page-bytes=64MiB"),
        (gzip_bomb, "exceeds the limit page-bytes=64MiB"),
        (lambda: trickle(PAGE), "timed out"),
        (bad_chunks, "foo on one"),
    ],
    ids=["2 GiB Content-Length", "gzip bomb", "trickle", "bad chunked framing"],
)
def test_a_lying_page_fails_within_bounds(
    mirror: Mirror, behaviour: Callable[[], Behaviour], expected: str
) -> None:
    code, stderr, summary, rss, seconds = run_sync(mirror, {"/simple/foo/": behaviour()})
    assert_bounded(code, stderr, rss, seconds)
    assert code == 3, stderr
    failures = summary["failures"]
    assert isinstance(failures, list) and expected in failures[0], failures


@pytest.mark.slow
def test_a_page_over_a_lowered_limit_names_it(mirror: Mirror) -> None:
    code, _, summary, _, _ = run_sync(
        mirror, {"/simple/foo/": answer(PAGE)}, "--limit", "page-bytes=100"
    )
    assert code == 3
    assert "--limit page-bytes=" in str(summary["failures"])


@pytest.mark.slow
def test_a_file_server_that_ignores_range_and_never_stops(mirror: Mirror) -> None:
    """The wheel's METADATA is wanted by range reads; the server answers every request with
    an endless 200. The sync reads no more than file-bytes of it, and says so."""
    routes = {"/simple/foo/": answer(PAGE), f"/files/{WHEEL}": endless()}
    code, stderr, summary, rss, seconds = run_sync(mirror, routes, "--limit", "file-bytes=32MiB")
    assert_bounded(code, stderr, rss, seconds)
    assert "file-bytes=32MiB" in json.dumps(summary), summary


def download(
    mirror: Mirror, tmp_path: Path, url: str, size: int, sha256: str, *args: str
) -> tuple[int, str, dict[str, object], int, float]:
    """``mirror download --json`` of a pylock naming one wheel at ``url``."""
    wheel = {"name": WHEEL, "url": url, "size": size, "hashes": {"sha256": sha256}}
    entry = {"name": "foo", "version": "1.0", "wheels": [wheel]}
    lock = tmp_path / "pylock.toml"
    lock.write_text(pylock([entry]))
    return run_child(mirror, "download", str(lock), "-d", str(tmp_path / "out"), "--json", *args)


@pytest.mark.slow
def test_a_large_file_from_a_server_that_ignores_range_goes_to_disk(
    mirror: Mirror, tmp_path: Path
) -> None:
    """Asked for 8 MiB ranges, the server sends the whole file, larger than the RSS bound:
    it is written as it arrives, not held, and verified."""
    block, count = bytes(range(256)) * 4096, 400  # 400 MiB
    digest = hashlib.sha256()
    for _ in range(count):
        digest.update(block)
    with serve_raw({f"/files/{WHEEL}": repeated(block, count)}) as base:
        size = len(block) * count
        code, stderr, summary, rss, seconds = download(
            mirror, tmp_path, f"{base}/files/{WHEEL}", size, digest.hexdigest()
        )
    assert_bounded(code, stderr, rss, seconds)
    assert code == 0, stderr
    assert (tmp_path / "out" / WHEEL).stat().st_size == size
    assert summary["files"][0]["outcome"] == "downloaded"  # type: ignore[index]


@pytest.mark.slow
def test_a_file_longer_than_published_is_cut_there(mirror: Mirror, tmp_path: Path) -> None:
    size = 1 << 20
    with serve_raw({f"/files/{WHEEL}": endless()}) as base:
        code, stderr, summary, rss, seconds = download(
            mirror, tmp_path, f"{base}/files/{WHEEL}", size, "0" * 64
        )
    assert_bounded(code, stderr, rss, seconds)
    assert code == 3, stderr
    error = summary["files"][0]["error"]  # type: ignore[index]
    assert f"got more than {size} bytes, the index says {size}" in error, error
    assert not (tmp_path / "out" / WHEEL).exists()


@pytest.mark.slow
def test_a_slow_download_outlives_the_page_timeout(mirror: Mirror, tmp_path: Path) -> None:
    """A file that keeps arriving is bounded only by --read-timeout (download has no
    whole-request --timeout: that bounds a page or metadata file of a sync)."""
    body = bytes(range(40))  # a byte every 0.1 s: 4 s, twice the read timeout
    with serve_raw({f"/files/{WHEEL}": trickle(body, every=0.1)}) as base:
        code, stderr, _, rss, seconds = download(
            mirror,
            tmp_path,
            f"{base}/files/{WHEEL}",
            len(body),
            hashlib.sha256(body).hexdigest(),
            *("--read-timeout", "2"),
        )
    assert_bounded(code, stderr, rss, seconds)
    assert code == 0, stderr
    assert (tmp_path / "out" / WHEEL).read_bytes() == body
