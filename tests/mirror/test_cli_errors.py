"""Bad input at the `mirror` command line: one ``error:`` line, a blank line, ``hint:``; the
documented exit code (2 usage or input, 3 network or index); no traceback; and nothing
stored changes. Also the conventions every command follows (an example in each --help)."""

from __future__ import annotations

import functools
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from mirror.cli.main import main
from mirror.http.client import ClientConfig
from tests.conftest import Mirror
from tests.db import (
    assert_error,
    db_dump,
    file_state,
    new_engine,
    run_mirror,
    wheel,
    write_snapshot,
)
from tests.fixtures.index_server import FixtureIndex, serve_in_thread
from tests.resolve.endtoend import invoke


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database with one index and one snapshot, so "nothing changed" means something."""
    path = tmp_path / "mirror.db"
    engine = new_engine(path)
    write_snapshot(engine, "first", {("main", "alpha"): [wheel("alpha", "1.0")]})
    engine.dispose()
    return path


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real retry loop, with backoff delays of about a millisecond."""
    fast = functools.partial(ClientConfig, backoff_base=0.001, backoff_cap=0.001)
    monkeypatch.setattr("mirror.cli.common.ClientConfig", fast)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _rows(db: Path, query: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(query).fetchall()
    finally:
        conn.close()


# -- network and index errors: exit 3 ------------------------------------------------------


def test_unreachable_index(tmp_path: Path, fast_retries: None) -> None:
    db = tmp_path / "mirror.db"
    port = _closed_port()
    url = f"http://127.0.0.1:{port}/simple/"
    added = run_mirror("--db", str(db), "index", "add", "dead", url, "--no-check")
    assert added.exit_code == 0, added.output
    result = run_mirror("--db", str(db), "sync", "foo", "--quiet")
    block = assert_error(result, 3, "foo on dead", f"127.0.0.1:{port}")
    assert "1 page(s) or metadata file(s) failed" in block
    # Recorded as failed, never as "not on this index".
    assert _rows(db, "SELECT project, status, error IS NOT NULL FROM page") == [("foo", 0, 1)]


def test_login_page_is_a_failed_page(tmp_path: Path) -> None:
    db = tmp_path / "mirror.db"
    index = FixtureIndex()
    index.add_project("foo", format="login")
    with serve_in_thread(index) as url:
        assert run_mirror("--db", str(db), "index", "add", "corp", url).exit_code == 0
        result = run_mirror("--db", str(db), "sync", "foo", "--quiet")
    assert_error(result, 3, "foo on corp", "login page")
    ((status, error, files),) = _rows(
        db, "SELECT status, error, (SELECT count(*) FROM file) FROM page"
    )
    assert status == 200 and error and "login" in error and files == 0
    shown = run_mirror("--db", str(db), "snapshot", "show", "latest")
    assert "index corp: failed 1" in shown.stdout


# -- input errors: exit 2, nothing stored changes ------------------------------------------


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("htp:/x", "neither a URL nor a directory"),
        ("http://", "malformed index URL 'http://'"),
        ("http://127.0.0.1:99999/", "Port out of range"),
        ("http://[::1/simple/", "malformed index URL"),
        ("ftp://127.0.0.1/simple/", "unsupported scheme"),
        ("http:///simple/", "no host"),
        ("file://", "no path"),
        ("http://127.0.0.1/my index/", "spaces"),
        ("http://user:hunter2@127.0.0.1:70000/", "malformed index URL 'http://user:****@127.0.0.1"),
    ],
)
def test_malformed_index_url(db: Path, url: str, needle: str) -> None:
    before = db_dump(db)
    result = run_mirror("--db", str(db), "index", "add", "new", url)
    assert_error(result, 2, needle)
    assert "hunter2" not in result.output
    assert db_dump(db) == before


def _foreign(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.commit()
    conn.close()


def _truncated(path: Path) -> None:
    engine = new_engine(path)
    write_snapshot(engine, "s", {("main", f"p{n}"): [wheel(f"p{n}", "1.0")] for n in range(30)})
    engine.dispose()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (_foreign, "not a sneakernet one"),
        (_truncated, "damaged or not a database"),
        (lambda p: p.write_bytes(os.urandom(3000)), "not an SQLite database"),
        (lambda p: p.write_text("name,url\nmain,http://x/\n"), "not an SQLite database"),
    ],
    ids=["foreign", "truncated", "random", "text"],
)
@pytest.mark.parametrize(
    "command",
    [("index", "list"), ("index", "add", "x", "http://127.0.0.1:1/"), ("snapshot", "list")],
    ids=["list", "add", "snapshots"],
)
def test_unusable_database_file(
    tmp_path: Path, make: object, needle: str, command: tuple[str, ...]
) -> None:
    path = tmp_path / "given.db"
    make(path)  # type: ignore[operator]
    before = file_state(path)
    result = run_mirror("--db", str(path), *command)
    assert_error(result, 2, needle, str(path))
    assert file_state(path) == before


def test_newer_database_is_refused(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("UPDATE alembic_version SET version_num = 'ffff'")
    conn.commit()
    conn.close()
    before = file_state(db)
    result = run_mirror("--db", str(db), "index", "list")
    assert_error(result, 2, "newer", "ffff")
    assert "upgrade sneakernet" in result.stderr
    assert file_state(db) == before


def _garble_table(db: Path, table: str) -> None:
    """Overwrite one table's root page: the schema still reads, the table does not."""
    conn = sqlite3.connect(db)
    (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    (page_size,) = conn.execute("PRAGMA page_size").fetchone()
    conn.close()
    with db.open("r+b") as handle:
        handle.seek((root - 1) * page_size)
        handle.write(b"\xee" * page_size)


def test_damage_found_while_reading(db: Path) -> None:
    _garble_table(db, "snapshot")
    before = file_state(db)
    result = run_mirror("--db", str(db), "snapshot", "list")
    assert_error(result, 2, f"cannot use the database {db}", "malformed")
    assert "mirror db check" in result.stderr
    assert file_state(db)[0] == before[0]
    check = run_mirror("--db", str(db), "db", "check")
    assert_error(check, 2, "problem(s) in", "malformed")


def test_db_check_reports_corrupt_payload(db: Path) -> None:
    ok = run_mirror("--db", str(db), "db", "check")
    assert ok.exit_code == 0, ok.output
    assert "payloads verified" in ok.stderr
    ((digest,),) = _rows(db, "SELECT blob_sha256 FROM page")
    conn = sqlite3.connect(db)
    conn.execute("UPDATE blob SET data = ? WHERE sha256 = ?", (b"\x28\xb5\x2f\xfd junk", digest))
    conn.commit()
    conn.close()
    result = run_mirror("--db", str(db), "db", "check")
    assert_error(result, 2, "1 problem(s)", f"payload {digest} is corrupt")


@pytest.mark.parametrize(
    "url", ["postgresql://user:hunter2@127.0.0.1/mirror", "nosuchdialect://x", "sqlite+nope:///x"]
)
def test_non_sqlite_database_url(tmp_path: Path, url: str) -> None:
    result = run_mirror("--db", url, "index", "list")
    assert_error(result, 2)
    assert "hunter2" not in result.output


@pytest.mark.parametrize(
    "command",
    [
        ("index", "list"),
        ("index", "remove", "x"),
        ("snapshot", "list"),
        ("snapshot", "show", "latest"),
        ("snapshot", "diff", "a", "b"),
        ("snapshot", "delete", "a"),
        ("db", "check"),
    ],
    ids=" ".join,
)
def test_reading_a_missing_database_does_not_create_it(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    # A mistyped --db must not leave an empty database behind and report "nothing there".
    result = run_mirror("--db", str(tmp_path / "typo.db"), *command)
    assert_error(result, 2, f"no database at {tmp_path / 'typo.db'}")
    assert os.listdir(tmp_path) == []


def test_database_in_missing_directory(tmp_path: Path) -> None:
    result = run_mirror("--db", str(tmp_path / "nope" / "m.db"), "db", "upgrade")
    assert_error(result, 2, "does not exist")
    assert not (tmp_path / "nope").exists()


def test_unknown_snapshot(db: Path) -> None:
    before = db_dump(db)
    assert_error(run_mirror("--db", str(db), "snapshot", "show", "nosuch"), 2, "'nosuch'")
    assert db_dump(db) == before


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("sync",), ("nothing to sync",)),
        (("sync", "foo>=>1"), ("'foo>=>1'", "^")),
        (("sync", "--versions", "bogus", "foo"), ("--versions", "'bogus'")),
        (("sync", "--concurrency", "0", "foo"), ("--concurrency",)),
        (("sync", "-r", "missing-requirements.txt"), ("missing-requirements.txt",)),
        (("sync", "--python-version", "banana", "foo"), ("banana",)),
        (("index", "add", "x", "http://127.0.0.1:1/", "--not-here", "200"), ("--not-here",)),
        (("index", "add", "only-a-name"), ("missing argument 'URL'",)),
        (("snapshot", "diff", "first"), ("missing argument 'NEW'",)),
        (("--no-such-option", "index", "list"), ("--no-such-option",)),
        (("nosuchcommand",), ("nosuchcommand",)),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else v,
)
def test_usage_and_input_errors(
    db: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    needles: tuple[str, ...],
) -> None:
    monkeypatch.chdir(tmp_path)
    before = db_dump(db)
    result = run_mirror("--db", str(db), *args)
    assert_error(result, 2, *needles)
    assert "Usage:" not in result.output and "Try '" not in result.output
    assert db_dump(db) == before
    assert sorted(os.listdir(tmp_path)) == sorted(["mirror.db", *_sidecars(db)])


def _sidecars(db: Path) -> list[str]:
    return [p.name for p in db.parent.iterdir() if p.name.startswith(db.name + "-")]


def test_invalid_requirement_points_at_the_token(tmp_path: Path) -> None:
    result = run_mirror("--db", str(tmp_path / "m.db"), "sync", "foo>=>1")
    block = assert_error(result, 2, "invalid requirement 'foo>=>1'")
    lines = block.splitlines()
    caret = next(line for line in lines if line.strip() and set(line.strip()) == {"^"})
    text = next(line for line in lines if line.strip() == "foo>=>1")
    assert text.index("foo") + 3 == caret.index("^")  # from the first unexpected character
    resolved = subprocess.run(
        [sys.executable, "-m", "resolve", "--db", str(tmp_path / "m.db"), "foo>=>1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert block.split("\n\nhint:")[0] in resolved.stderr  # one parser, one message
    assert not (tmp_path / "m.db").exists()  # nothing was created for a command that failed


# -- conventions ---------------------------------------------------------------------------


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name)


def test_every_help_has_an_example() -> None:
    commands = list(_commands(main))
    assert ("index", "add") in commands and ("sync",) in commands and ("db", "check") in commands
    for path in commands:
        result = run_mirror(*path, "--help")
        assert result.exit_code == 0, (path, result.output)
        assert "Example" in result.stdout, path


@pytest.mark.parametrize("requirement", ["pkg @ not-a-url", "pkg @ https://example.invalid/p.whl"])
def test_sync_refuses_what_resolve_refuses(mirror: Mirror, requirement: str) -> None:
    """One parser: a requirement `resolve` refuses is never synced as another project."""
    result = mirror.run("sync", requirement, code=2)
    assert result.stderr.startswith(f"error: direct reference {requirement!r}")
    assert "not supported offline" in result.stderr
    assert not mirror.db.exists() or mirror.sql("SELECT count(*) FROM page") == [(0,)]
    refused = invoke(mirror, requirement)
    assert refused.exit_code == 2
    assert refused.stderr.partition("\n\nhint:")[0] == result.stderr.partition("\n\nhint:")[0]
