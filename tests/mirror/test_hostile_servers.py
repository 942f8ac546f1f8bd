"""Index servers that lie at the byte level cost `mirror sync` one failed page, never its
memory or its time: a 2 GiB Content-Length, a gzip bomb, a trickle, broken chunked framing, a
file server that ignores Range and never stops. Each sync runs as a child process; the harness
reads the child's peak RSS (``wait4``) and its wall time, and bounds both."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Callable

import pytest

from tests.conftest import Mirror
from tests.fixtures.raw_server import (
    Behaviour,
    answer,
    bad_chunks,
    endless,
    gzip_bomb,
    lying_length,
    serve_raw,
    trickle,
)
from tests.resolve.endtoend import source_command, source_env

RSS_BOUND = 300 << 20  # bytes; a sync of one small project needs well under half of it
TIMEOUT = 3.0  # --timeout given to the sync
MARGIN = 30.0  # start-up, the retries' last backoff, a loaded CI machine
WHEEL = "foo-1.0-py3-none-any.whl"
PAGE = (
    '<html><head><meta name="pypi:repository-version" content="1.0"></head><body>'
    f'<a href="/files/{WHEEL}">{WHEEL}</a></body></html>'
).encode()


def run_sync(
    mirror: Mirror, routes: dict[str, Behaviour], *args: str
) -> tuple[int, str, dict[str, object], int, float]:
    """``mirror sync foo --json ARGS`` against ``routes``: exit code, stderr, the JSON summary
    (or {}), the child's peak RSS in bytes (``wait4``) and its wall time. A child still running
    after the bound is killed (and the test then fails on its exit code)."""
    with serve_raw(routes) as base:
        mirror.run("index", "add", "one", f"{base}/simple/", "--default")
        command = [
            *source_command("mirror"),
            *("--db", str(mirror.db), "sync", "foo", "--json"),
            *("--timeout", str(TIMEOUT), "--read-timeout", "2", *args),
        ]
        out, err = mirror.db.parent / "stdout", mirror.db.parent / "stderr"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            started = time.monotonic()
            child = subprocess.Popen(command, env=source_env(mirror), stdout=stdout, stderr=stderr)
            killer = threading.Timer(TIMEOUT * 4 + MARGIN, child.kill)
            killer.start()
            try:
                _, status, usage = os.wait4(child.pid, 0)
            finally:
                killer.cancel()
            seconds = time.monotonic() - started
    code = os.waitstatus_to_exitcode(status)
    text = out.read_text()
    summary = json.loads(text) if text.strip() else {}
    return code, err.read_text(), summary, usage.ru_maxrss * 1024, seconds


def assert_bounded(code: int, stderr: str, rss: int, seconds: float) -> None:
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
