"""A reader that stops early (``resolve --explain a | head -1``) ends either CLI quietly: exit 0
(nothing was written) or 141 (128 + SIGPIPE, what a shell reports for a program the closed pipe
killed), never a traceback or an "unexpected … this is a bug" report.

Every command and subcommand of both CLIs is run with ``--help``, and the commands that print
something real are run against a synced snapshot, each in a subprocess whose stdout is a pipe
whose read end is already closed: its first write fails with EPIPE at once.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from mirror.cli.common import handle_errors
from mirror.cli.main import main as mirror_main
from resolve.cli import command as resolve_command
from resolve.clikit import CLOSED_PIPE_EXIT, ErrorRenderingCommand
from tests.conftest import Mirror
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.resolve.endtoend import TARGET, source_command, source_env, sync_snapshot

TIMEOUT = 120


def _id(value: str | tuple[str, ...]) -> str:
    return value if isinstance(value, str) else " ".join(value) or "(top)"


def command_paths(group: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The words after the program name of every command below ``group``, itself included."""
    yield path
    if isinstance(group, click.Group):
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            sub = group.get_command(ctx, name)
            assert sub is not None, f"{' '.join(path)} lists {name} but cannot load it"
            yield from command_paths(sub, (*path, name))


HELP = [("resolve", path) for path in command_paths(resolve_command)] + [
    ("mirror", path) for path in command_paths(mirror_main)
]

OUTPUTS = [
    ("resolve", ("--explain", "a")),
    ("resolve", ("--explain", "a", "--json")),
    ("resolve", ("a", *TARGET)),
    ("resolve", ("a", *TARGET, "--format", "pylock")),
    ("resolve", ("a", *TARGET, "--format", "json")),
    # A failure in JSON: the report goes to stderr first, then the document to the closed pipe.
    ("resolve", ("a==9", *TARGET, "--format", "json")),
    ("mirror", ("--version",)),
    ("mirror", ("index", "list")),
    ("mirror", ("index", "list", "--json")),
    ("mirror", ("snapshot", "list")),
    ("mirror", ("snapshot", "list", "--json")),
    ("mirror", ("snapshot", "show", "latest")),
    ("mirror", ("snapshot", "show", "latest", "--json")),
    ("mirror", ("rules", "show")),
    ("mirror", ("rules", "show", "--json")),
    ("mirror", ("rules", "history")),
    ("mirror", ("rules", "history", "--json")),
    ("mirror", ("rules", "export")),
    ("mirror", ("db", "check")),
]


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Mirror:
    index = FixtureIndex()
    make_project(index, "a", ["1.0", "2.0"], deps=["b"])
    make_project(index, "b", ["1.0"])
    return sync_snapshot(tmp_path_factory.mktemp("pipe"), {"pypi": index})[0]


def run_into_closed_pipe(
    mirror: Mirror, program: str, args: tuple[str, ...], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the program writes anything
    try:
        return subprocess.run(
            [*source_command(program), "--db", str(mirror.db), *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=env,
            cwd=mirror.db.parent,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    finally:
        os.close(write_end)


def assert_quiet_exit(run: subprocess.CompletedProcess[str]) -> None:
    for word in ("Traceback", "unexpected", "this is a bug", "Exception ignored"):
        assert word not in run.stderr, run.stderr
    assert run.returncode in (0, CLOSED_PIPE_EXIT), (run.returncode, run.stderr)


@pytest.mark.parametrize(("program", "path"), HELP, ids=_id)
def test_help_into_a_closed_pipe(snapshot: Mirror, program: str, path: tuple[str, ...]) -> None:
    run = run_into_closed_pipe(snapshot, program, (*path, "--help"), source_env(snapshot))
    assert_quiet_exit(run)
    assert run.returncode == CLOSED_PIPE_EXIT  # the help text is always written
    assert run.stderr == ""


@pytest.mark.parametrize("debug", ["1", ""], ids=["debug", "no-debug"])
@pytest.mark.parametrize(("program", "args"), OUTPUTS, ids=_id)
def test_output_into_a_closed_pipe(
    snapshot: Mirror, program: str, args: tuple[str, ...], debug: str
) -> None:
    """With SNEAKERNET_DEBUG set, the catch-alls re-raise what they do not know; without it,
    they report a bug: neither may see a closed pipe."""
    env = source_env(snapshot, SNEAKERNET_DEBUG=debug)
    run = run_into_closed_pipe(snapshot, program, args, env)
    assert_quiet_exit(run)


def test_the_same_outputs_reach_an_open_pipe(snapshot: Mirror) -> None:
    """The commands above do print something when someone reads it (so the test above wrote
    into the closed pipe), and exit 0 (or 1 for the failed resolution)."""
    for program, args in OUTPUTS:
        run = subprocess.run(
            [*source_command(program), "--db", str(snapshot.db), *args],
            capture_output=True,
            env=source_env(snapshot),
            cwd=snapshot.db.parent,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        wrote = bool(run.stdout) or args == ("db", "check")  # db check reports on stderr
        assert wrote, (program, args, run.stderr)
        assert run.returncode == (1 if args[0] == "a==9" else 0), (program, args, run.stderr)


# -- the edge itself, in-process ---------------------------------------------------------------


@click.command(cls=ErrorRenderingCommand)
def _writes_into_a_closed_pipe() -> None:
    raise BrokenPipeError(32, "Broken pipe")


@click.command(cls=ErrorRenderingCommand)
@handle_errors
def _mirror_style_command() -> None:
    raise BrokenPipeError(32, "Broken pipe")


@pytest.mark.parametrize("command", [_writes_into_a_closed_pipe, _mirror_style_command])
@pytest.mark.parametrize("debug", ["1", None], ids=["debug", "no-debug"])
def test_a_closed_pipe_exits_141_quietly(command: click.Command, debug: str | None) -> None:
    result = CliRunner().invoke(command, [], env={"SNEAKERNET_DEBUG": debug})
    assert result.exit_code == CLOSED_PIPE_EXIT, result.output
    assert result.output == ""


# -- a reader that stops mid-output -------------------------------------------------------------

#: Indexes added to the big snapshot: its `snapshot show` runs past 200 KB, thrice a pipe's buffer.
MANY_INDEXES = 5000


@pytest.fixture(scope="module")
def big_snapshot(snapshot: Mirror, tmp_path_factory: pytest.TempPathFactory) -> Mirror:
    """The snapshot above with a page on each of MANY_INDEXES more indexes (rows written
    directly: syncing thousands of indexes would only make the test slow)."""
    copy = Mirror(tmp_path_factory.mktemp("big") / "mirror.db", snapshot.env)
    with (
        contextlib.closing(sqlite3.connect(snapshot.db)) as source,
        contextlib.closing(sqlite3.connect(copy.db)) as conn,
    ):
        source.backup(conn)  # with what the write-ahead log still holds
    with contextlib.closing(sqlite3.connect(copy.db)) as conn, conn:
        (page_id, fetched_at, created_at) = conn.execute(
            "SELECT sp.page_id, sp.fetched_at, s.created_at FROM snapshot_page sp "
            "JOIN snapshot s ON s.id = sp.snapshot_id LIMIT 1"
        ).fetchone()
        start = conn.execute('SELECT max(id) FROM "index"').fetchone()[0] + 1
        for n in range(start, start + MANY_INDEXES):
            conn.execute(
                'INSERT INTO "index" (id, name, url, priority, created_at) VALUES (?, ?, ?, ?, ?)',
                (n, f"index-with-a-long-name-{n:05d}", f"http://127.0.0.1:1/{n}/", n, created_at),
            )
            conn.execute(
                "INSERT INTO snapshot_page (snapshot_id, index_id, project, page_id, fetched_at) "
                "SELECT id, ?, 'a', ?, ? FROM snapshot",
                (n, page_id, fetched_at),
            )
    return copy


@pytest.mark.slow
@pytest.mark.parametrize("json", [False, True], ids=["text", "json"])
def test_snapshot_show_into_a_reader_that_stops_after_one_line(
    big_snapshot: Mirror, json: bool
) -> None:
    """``mirror snapshot show latest | head -1``, five times: the reader goes away while the
    command is still writing."""
    args = ["snapshot", "show", "latest", *(["--json"] if json else [])]
    env = source_env(big_snapshot, SNEAKERNET_DEBUG="")
    whole = subprocess.run(
        [*source_command("mirror"), "--db", str(big_snapshot.db), *args],
        env=env,
        capture_output=True,
        timeout=TIMEOUT,
        check=True,
    )
    assert len(whole.stdout) > 3 * 65536
    for _ in range(5):
        process = subprocess.Popen(
            [*source_command("mirror"), "--db", str(big_snapshot.db), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.readline()
        process.stdout.close()
        stderr = process.stderr.read()
        process.wait(timeout=TIMEOUT)
        assert_quiet_exit(subprocess.CompletedProcess(args, process.returncode, "", stderr))
        assert stderr == ""
