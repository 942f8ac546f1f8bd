"""``resolve -o PATH`` writes the lock where it is told without breaking what is there: a device
or a FIFO is written in place (never replaced by a regular file, never read as an old lock), a
regular file is replaced atomically and keeps its permission bits, and a new lock's bits are
those of any new file (``0o666`` less the umask). The command runs in real subprocesses."""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from db.errors import SneakernetError
from resolve.lock.files import is_regular_file, write_lock
from tests.conftest import Mirror
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.resolve.endtoend import TARGET, pins, source_command, source_env, sync_snapshot

# No test here may hang on a FIFO nobody opens: a subprocess that waits this long has failed.
TIMEOUT = 120


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Mirror:
    """a 1.0 needing b; b 1.0 and 2.0; synced into a snapshot."""
    index = FixtureIndex()
    make_project(index, "a", ["1.0"], deps=["b"])
    make_project(index, "b", ["1.0", "2.0"])
    return sync_snapshot(tmp_path_factory.mktemp("locks"), {"pypi": index})[0]


def resolve_to(
    mirror: Mirror, output: str | Path, *args: str, cwd: Path, umask: int = 0o022
) -> subprocess.CompletedProcess[str]:
    """``resolve --db DB a TARGET -o OUTPUT ARGS…`` in a subprocess with this umask."""
    words = ["--db", str(mirror.db), "a", *TARGET, "-o", str(output), *args]
    run = subprocess.run(
        [*source_command("resolve"), *words],
        cwd=cwd,
        env=source_env(mirror),
        umask=umask,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert "Traceback" not in run.stderr, run.stderr
    return run


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _leftovers(directory: Path, name: str) -> list[str]:
    """Temporary siblings of NAME that a write left behind."""
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(f".{name}."))


@contextlib.contextmanager
def _dev_null_kept() -> Iterator[None]:
    """Fail the test if /dev/null stops being the null device, and put the device back (we may
    be root: a regression here would break every other program on the machine)."""
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    try:
        yield
    finally:
        if not stat.S_ISCHR(os.lstat(os.devnull).st_mode):
            os.unlink(os.devnull)
            os.mknod(os.devnull, stat.S_IFCHR | 0o666, os.makedev(1, 3))
            os.chmod(os.devnull, 0o666)
            pytest.fail("-o /dev/null replaced the device with a regular file")


# -- devices and FIFOs: written in place ------------------------------------------------------


def test_dev_null_stays_a_device(snapshot: Mirror, tmp_path: Path) -> None:
    with _dev_null_kept():
        run = resolve_to(snapshot, os.devnull, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout == ""
    assert "Resolved 2 packages" in run.stderr
    assert _leftovers(Path(os.devnull).parent, Path(os.devnull).name) == []


def test_a_fifo_gets_the_lock_and_stays_a_fifo(snapshot: Mirror, tmp_path: Path) -> None:
    fifo = tmp_path / "lock.fifo"
    os.mkfifo(fifo)
    received: list[str] = []

    def read() -> None:
        with open(fifo, encoding="utf-8") as handle:  # waits for the writer
            received.append(handle.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        # The FIFO is not read for an old lock's pins: that open would wait for a writer forever.
        run = resolve_to(snapshot, fifo, cwd=tmp_path)
    finally:
        if reader.is_alive():
            # The command never opened the FIFO: open it once so the reader sees end of file.
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(timeout=TIMEOUT)
    assert run.returncode == 0, run.stderr
    assert len(received) == 1
    assert pins(received[0]) == {"a": "1.0", "b": "2.0"}
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert _leftovers(tmp_path, fifo.name) == []


# -- regular files: replaced atomically, with the right mode ----------------------------------


@pytest.mark.parametrize(
    ("umask", "expected"),
    [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)],
    ids=lambda mode: f"{mode:03o}",
)
def test_a_new_lock_is_created_like_any_new_file(
    snapshot: Mirror, tmp_path: Path, umask: int, expected: int
) -> None:
    run = resolve_to(snapshot, "requirements.txt", cwd=tmp_path, umask=umask)
    assert run.returncode == 0, run.stderr
    lock = tmp_path / "requirements.txt"
    assert pins(lock.read_text()) == {"a": "1.0", "b": "2.0"}
    assert oct(_mode(lock)) == oct(expected)
    assert _leftovers(tmp_path, lock.name) == []


def test_an_existing_lock_keeps_its_mode(snapshot: Mirror, tmp_path: Path) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text("a==1.0\nb==1.0\n")  # an older lock: its pins are kept as preferences
    lock.chmod(0o640)
    before = lock.stat().st_ino
    run = resolve_to(snapshot, lock.name, cwd=tmp_path, umask=0o022)
    assert run.returncode == 0, run.stderr
    assert pins(lock.read_text()) == {"a": "1.0", "b": "1.0"}
    assert oct(_mode(lock)) == oct(0o640)
    assert lock.stat().st_ino != before  # replaced by a rename, not rewritten in place
    assert _leftovers(tmp_path, lock.name) == []


# -- write_lock itself -------------------------------------------------------------------------


def test_write_lock_replaces_a_regular_file_and_keeps_odd_modes(tmp_path: Path) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_text("old\n")
    lock.chmod(0o604)
    write_lock(lock, "new\n")
    assert lock.read_text() == "new\n"
    assert oct(_mode(lock)) == oct(0o604)
    assert _leftovers(tmp_path, lock.name) == []


def test_write_lock_into_a_missing_directory_names_the_lock(tmp_path: Path) -> None:
    lock = tmp_path / "no" / "such" / "requirements.txt"
    with pytest.raises(SneakernetError, match=r"cannot write the lock .*requirements\.txt"):
        write_lock(lock, "a==1.0\n")
    assert not lock.parent.exists()


def test_only_a_regular_file_is_an_old_lock(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    (tmp_path / "file").write_text("")
    (tmp_path / "link").symlink_to(tmp_path / "file")
    assert is_regular_file(tmp_path / "file")
    assert is_regular_file(tmp_path / "link")
    assert not is_regular_file(fifo)
    assert not is_regular_file(Path(os.devnull))
    assert not is_regular_file(tmp_path)
    assert not is_regular_file(tmp_path / "absent")
