"""``resolve -o PATH`` and ``mirror export -o PATH`` share one writer (resolve/output.py), so
both are tried on every kind of PATH: ``/dev/stdout`` into a pipe, a symbolic link to
``/proc/self/fd/1``, ``/dev/null``, a FIFO (written in place, never replaced by a regular
file), and a symbolic link to a regular file (its target replaced atomically, the link kept).
Each command runs in a real subprocess."""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mirror.bundle.transfer import verify_bundle
from resolve.limits import DEFAULT_LIMITS
from tests.conftest import Mirror
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.resolve.endtoend import TARGET, pins, source_command, source_env, sync_snapshot

# No test here may hang on a FIFO nobody opens: a subprocess that waits this long has failed.
TIMEOUT = 120

COMMANDS = {
    "resolve": ("resolve", "a", *TARGET),
    "export": ("mirror", "export", "latest"),
}


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Mirror:
    index = FixtureIndex()
    make_project(index, "a", ["1.0"], deps=["b"])
    make_project(index, "b", ["1.0", "2.0"])
    return sync_snapshot(tmp_path_factory.mktemp("outputs"), {"pypi": index})[0]


def write_to(
    mirror: Mirror, command: str, output: str | Path, cwd: Path
) -> subprocess.CompletedProcess[bytes]:
    """The command with ``-o OUTPUT``, its stdout a pipe read by this test."""
    program, *args = COMMANDS[command]
    run = subprocess.run(
        [*source_command(program), "--db", str(mirror.db), *args, "-o", str(output)],
        cwd=cwd,
        env=source_env(mirror),
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert b"Traceback" not in run.stderr, run.stderr.decode()
    assert run.returncode == 0, run.stderr.decode()
    return run


def check_content(command: str, data: bytes, scratch: Path) -> None:
    """DATA is the whole lock or bundle the command writes."""
    if command == "resolve":
        assert pins(data.decode()) == {"a": "1.0", "b": "2.0"}
    else:
        bundle = scratch / "check.snb"
        bundle.write_bytes(data)
        assert len(verify_bundle(bundle, DEFAULT_LIMITS).manifest["snapshots"]) == 1


def leftovers(directory: Path) -> list[str]:
    """Temporary files a write left behind."""
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture(autouse=True)
def devices_kept() -> Iterator[None]:
    """Fail the test if /dev/null stops being the null device or /dev/stdout the link to this
    process's stdout, and put them back (we may be root: a regression here would break every
    other program on the machine)."""
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    assert os.readlink("/dev/stdout") == "/proc/self/fd/1"
    try:
        yield
    finally:
        broken = []
        if not stat.S_ISCHR(os.lstat(os.devnull).st_mode):
            os.unlink(os.devnull)
            os.mknod(os.devnull, stat.S_IFCHR | 0o666, os.makedev(1, 3))
            os.chmod(os.devnull, 0o666)
            broken.append("/dev/null")
        if not os.path.islink("/dev/stdout"):
            os.unlink("/dev/stdout")
            os.symlink("/proc/self/fd/1", "/dev/stdout")
            broken.append("/dev/stdout")
        if broken:
            pytest.fail(f"-o replaced {' and '.join(broken)} with a regular file")


parametrize_commands = pytest.mark.parametrize("command", list(COMMANDS))


# -- written in place ---------------------------------------------------------------------------


@parametrize_commands
def test_dev_stdout_into_a_pipe(snapshot: Mirror, command: str, tmp_path: Path) -> None:
    """The content is all that reaches stdout: export's report goes to stderr instead."""
    run = write_to(snapshot, command, "/dev/stdout", tmp_path)
    check_content(command, run.stdout, tmp_path)
    assert leftovers(Path("/dev")) == []


@parametrize_commands
def test_a_link_to_proc_self_fd_1(snapshot: Mirror, command: str, tmp_path: Path) -> None:
    link = tmp_path / "out"
    link.symlink_to("/proc/self/fd/1")
    run = write_to(snapshot, command, link, tmp_path)
    check_content(command, run.stdout, tmp_path)
    assert os.readlink(link) == "/proc/self/fd/1"  # still the link
    assert leftovers(tmp_path) == []


@parametrize_commands
def test_dev_stdout_onto_a_regular_file_is_written_in_place(
    snapshot: Mirror, command: str, tmp_path: Path
) -> None:
    """``-o /dev/stdout > FILE``: the file the shell opened gets the content (renaming a new
    file over it would leave the shell's redirection pointing at the old one)."""
    target = tmp_path / "redirected"
    program, *args = COMMANDS[command]
    with target.open("wb") as stdout:
        run = subprocess.run(
            [*source_command(program), "--db", str(snapshot.db), *args, "-o", "/dev/stdout"],
            cwd=tmp_path,
            env=source_env(snapshot),
            stdout=stdout,
            stderr=subprocess.PIPE,
            timeout=TIMEOUT,
            check=False,
        )
        inode = os.fstat(stdout.fileno()).st_ino
    assert run.returncode == 0, run.stderr.decode()
    assert target.stat().st_ino == inode
    check_content(command, target.read_bytes(), tmp_path)


@parametrize_commands
def test_dev_null_stays_a_device(snapshot: Mirror, command: str, tmp_path: Path) -> None:
    write_to(snapshot, command, os.devnull, tmp_path)
    assert leftovers(Path(os.devnull).parent) == []


@parametrize_commands
def test_a_fifo_gets_the_content_and_stays_a_fifo(
    snapshot: Mirror, command: str, tmp_path: Path
) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as handle:  # waits for the writer
            received.append(handle.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        write_to(snapshot, command, fifo, tmp_path)
    finally:
        if reader.is_alive():
            # The command never opened the FIFO: open it once so the reader sees end of file.
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(timeout=TIMEOUT)
    assert len(received) == 1
    check_content(command, received[0], tmp_path)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert leftovers(tmp_path) == []


# -- replaced atomically ------------------------------------------------------------------------


@parametrize_commands
@pytest.mark.parametrize("absolute", [True, False], ids=["absolute", "relative"])
def test_a_link_to_a_regular_file_keeps_the_link(
    snapshot: Mirror, command: str, absolute: bool, tmp_path: Path
) -> None:
    """As `cp` and pip-compile leave it: the link stays, its target gets the new content by a
    rename (in the target's directory), with the target's permission bits."""
    real = tmp_path / "store" / "output"
    real.parent.mkdir()
    real.write_bytes(b"a==1.0\nb==2.0\n")  # an older lock, whose pins resolve keeps
    real.chmod(0o640)
    before = real.stat().st_ino
    links = tmp_path / "links"
    links.mkdir()
    link = links / "output"
    link.symlink_to(real if absolute else Path("../store/output"))
    write_to(snapshot, command, link, tmp_path)
    assert link.is_symlink()
    assert link.resolve() == real
    assert real.stat().st_ino != before
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    check_content(command, real.read_bytes(), tmp_path)
    assert leftovers(real.parent) == leftovers(links) == []


@parametrize_commands
def test_a_dangling_link_creates_its_target(snapshot: Mirror, command: str, tmp_path: Path) -> None:
    """As a shell's ``>`` does: the file the link names is created."""
    link = tmp_path / "output"
    link.symlink_to("new-output")
    write_to(snapshot, command, link, tmp_path)
    assert link.is_symlink()
    check_content(command, (tmp_path / "new-output").read_bytes(), tmp_path)
