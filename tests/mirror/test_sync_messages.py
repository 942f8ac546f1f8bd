"""What `mirror sync` tells people on stderr, and the JSON summary's same facts: the progress
bar's project count, the indexes that refused or failed pages, the projects no index has, and
repeated file warnings counted in one line per kind."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time

from tests.conftest import BOTH_ENGINES, Mirror, Serve
from tests.fixtures.index_pages import login_page
from tests.fixtures.index_server import FixtureIndex, make_project

pytestmark = BOTH_ENGINES

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def on_a_terminal(mirror: Mirror, *args: str) -> tuple[int, str]:
    """`mirror sync ARGS…` as a process whose stderr is a terminal (a pseudo-terminal 200
    columns wide), so that it shows its live progress; returns the exit code and what the
    terminal received, escape sequences removed."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 200, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "mirror", "--db", str(mirror.db), "sync", *args],
        env=dict(os.environ),  # the test's clean environment (see the clean_env fixture)
        cwd=mirror.folder,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=slave,
    )
    os.close(slave)
    received = bytearray()
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if not select.select([master], [], [], 1)[0]:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the process closed the terminal (it ended)
                break
            if not chunk:
                break
            received += chunk
        code = process.wait(timeout=10)
    finally:
        process.kill()
        os.close(master)
    return code, ANSI.sub("", received.decode(errors="replace"))


def test_the_progress_bar_counts_every_project(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    names = [f"p{i}" for i in range(7)]
    for name in names:
        make_project(index, name)
    mirror.add_index("one", serve(index))

    code, terminal = on_a_terminal(mirror, *names)

    assert code == 0, terminal
    counts = re.findall(r"projects\b[^\n\r]*?(\d+)/(\d+)", terminal)
    assert counts, terminal
    assert counts[-1] == ("7", "7"), terminal  # the last frame drawn, before the bar goes
    assert "snapshot " in terminal and "7 projects fetched" in terminal


def refusing_indexes(mirror: Mirror, serve: Serve) -> None:
    """corp: 401 for `a`, 403 for `b`, a login page (failed) for `c` and `d`; main: `a` and `c`,
    404 for the rest. Only `ghost` is on neither: corp's 403 and failed page are no answer."""
    corp, main = FixtureIndex(), FixtureIndex()
    make_project(corp, "a", status=401)
    make_project(corp, "b", status=403)
    for name in ("c", "d"):
        make_project(corp, name, format="html").html_override = login_page()
    make_project(main, "a")
    make_project(main, "c")
    mirror.add_index("corp", serve(corp), check=False)
    mirror.add_index("main", serve(main), "--default")


def test_text_and_json_name_refusing_and_failing_indexes_and_missing_projects(
    mirror: Mirror, serve: Serve
) -> None:
    refusing_indexes(mirror, serve)
    projects = ("a", "b", "c", "d", "ghost")

    summary = mirror.sync(*projects, code=3)
    text = mirror.run("sync", *projects, code=3).stderr

    assert summary["unauthorized"] == {"corp": 1}
    assert summary["forbidden"] == {"corp": 1}
    assert summary["failed_pages"] == {"corp": 2}
    assert (summary["not_found"], summary["not_found_projects"]) == (1, ["ghost"])
    assert (
        "warning: index corp: 1 page answered 401 Unauthorized, 1 answered 403 Forbidden, "
        "2 failed" in text
    )
    assert "main:" not in text
    assert "warning: 1 project on no index (every index answered not found): ghost" in text
    assert "error: 2 page(s) or metadata file(s) failed" in text


def test_an_index_policy_status_is_not_a_refusal(mirror: Mirror, serve: Serve) -> None:
    corp, main = FixtureIndex(), FixtureIndex()
    make_project(corp, "a", status=403)
    make_project(main, "a", status=404)
    mirror.add_index("corp", serve(corp), "--not-here", "403", check=False)
    mirror.add_index("main", serve(main), "--default")

    summary = mirror.sync("a")
    text = mirror.run("sync", "a").stderr

    assert (summary["forbidden"], summary["not_found"]) == ({}, 1)
    assert "Forbidden" not in text
    assert "1 project on no index (every index answered not found): a" in text


def test_repeated_file_warnings_are_one_line_per_kind(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    foo = make_project(index, "foo", format="html")
    wheel = foo.files[0].filename
    ancient = [f"foo-0.{i}.win32.exe" for i in range(20)] + [
        f"foo-0.{i}-py2.7.egg" for i in range(10)
    ]
    others = [f"bar-{i}.0-py3-none-any.whl" for i in range(5)]
    short = [f"foo-0.9{i}.tar.gz#sha256=abc" for i in range(3)]
    links = [wheel, *ancient, *others, *short, "foo-0.8.tar.gz#sha256=" + "0" * 63]
    foo.html_override = (
        '<!DOCTYPE html><html><head><meta name="pypi:repository-version" content="1.0">'
        "</head><body>"
        + "".join(f'<a href="/files/{link}">{link.partition("#")[0]}</a>' for link in links)
        + "</body></html>"
    ).encode()
    url = serve(index)
    # Two databases: a second sync of one would get 304 Not Modified, and no page to warn of.
    other = Mirror(mirror.folder / "other.db", mirror.env)
    for each in (mirror, other):
        each.add_index("one", url)

    # Core metadata of 1.0 alone: the sdists are not served, which would add warnings.
    summary = mirror.sync("foo", "--versions", "latest:1")
    text = other.run("sync", "foo", "--versions", "latest:1").stderr

    assert summary["warning_kinds"] == {"ancient-format": 30, "bad-digest": 4, "other-project": 5}
    assert len(summary["warnings"]) == 39  # the JSON keeps every line
    assert sum(name in w for w in summary["warnings"] for name in ancient) == 30
    warnings = [line for line in text.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: 30 files in ancient formats (PEP 527: .egg, .exe, .msi, .rpm, .dmg) left out "
        "(e.g. foo-0.0-py2.7.egg, foo-0.0.win32.exe, foo-0.1-py2.7.egg, …)",
        "warning: 4 digests that are not digests (wrong length or not hex) ignored "
        "(e.g. foo-0.8.tar.gz, foo-0.90.tar.gz, foo-0.91.tar.gz, …)",
        "warning: 5 files of another project left out "
        "(e.g. bar-0.0-py3-none-any.whl, bar-1.0-py3-none-any.whl, bar-2.0-py3-none-any.whl, …)",
    ], text


def test_a_kind_seen_once_keeps_its_full_line(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    foo = make_project(index, "foo", format="html")
    links = [foo.files[0].filename, "foo-0.1.win32.exe"]
    foo.html_override = (
        '<meta name="pypi:repository-version" content="1.0">'
        + "".join(f'<a href="/files/{link}">{link}</a>' for link in links)
    ).encode()
    mirror.add_index("one", serve(index))

    text = mirror.run("sync", "foo").stderr

    assert "warning: foo on one: foo-0.1.win32.exe: skipped: '.exe' files are neither" in text
    assert "1 files" not in text
