"""``--python PATH``: the target environment an installed interpreter reports (markers and
wheel tags), on ``resolve`` and ``mirror sync``; and the interpreters it refuses."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.tags import sys_tags

from tests.conftest import Mirror, Serve
from tests.db import assert_error
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.mirror.synctools import pages
from tests.resolve.endtoend import add_indexes, invoke, pins, resolved, shop_index

#: The interpreter of the project's shared environment, and the one running the tests.
VENV_PYTHON = Path("/work/main/.venv/bin/python")
INTERPRETERS = [sys.executable, *([str(VENV_PYTHON)] if VENV_PYTHON.exists() else [])]

_GLIBC = os.confstr("CS_GNU_LIBC_VERSION") if hasattr(os, "confstr") else None
pytestmark = pytest.mark.skipif(
    not (sys.platform == "linux" and _GLIBC), reason="the flags spelled here are glibc Linux's"
)


WINDOWS = ("--python-platform", "windows")


def this_machine() -> tuple[str, ...]:
    """The flags that describe the running interpreter: its full version and its platform in
    a ``--python-platform`` spelling (glibc 2.NN on this architecture)."""
    assert _GLIBC is not None
    minor = int(_GLIBC.split()[1].split(".")[1])
    version = ".".join(map(str, sys.version_info[:3]))
    machine = os.uname().machine
    return ("--python-version", version, "--python-platform", f"{machine}-manylinux_2_{minor}")


def without_command(lock: str) -> str:
    """The lock without its regenerating command line (it names the flags given)."""
    return "\n".join(line for line in lock.splitlines() if not line.startswith("#    resolve "))


@pytest.fixture
def shop(mirror: Mirror, serve: Serve) -> Mirror:
    """The shop index, plus ``native``: one wheel, built for this interpreter only (the first
    tag it supports), so that only a target with its tags resolves it."""
    index = shop_index()
    native = str(next(iter(sys_tags())))
    make_project(index, "native", ["1.0"], tag=native, deps=["attrs"])
    add_indexes(mirror, serve, pypi=index)
    mirror.sync(*sorted(index.projects), "--versions", "all", "--quiet")
    return mirror


@pytest.mark.parametrize("python", INTERPRETERS)
def test_an_interpreter_is_its_version_and_platform(shop: Mirror, python: str) -> None:
    by_interpreter = resolved(shop, "app[web]", "native", "--python", python)
    by_flags = resolved(shop, "app[web]", "native", *this_machine())

    assert without_command(by_interpreter) == without_command(by_flags)
    version, platform = this_machine()[1], this_machine()[3]
    assert f"#   target: CPython {version} on {platform}\n" in by_interpreter
    assert f"#    resolve 'app[web]' native --python {python}\n" in by_interpreter
    assert pins(by_interpreter)["native"] == "1.0"
    # Markers are the interpreter's: no win32-only pywin; tomli only before 3.11.
    assert "pywin" not in pins(by_interpreter)
    assert ("tomli" in pins(by_interpreter)) == (sys.version_info < (3, 11))


def test_its_markers_and_tags_are_what_packaging_sees_inside_it() -> None:
    from resolve.targets.interpreter import interpreter_target

    target = interpreter_target(sys.executable)

    assert target.markers == default_environment()
    assert set(target.tags) == set(sys_tags())


def test_a_name_on_path(shop: Mirror) -> None:
    folder = Path(sys.executable).parent
    path = f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"
    name = Path(sys.executable).name

    lock = resolved(shop, "native", "--python", name, env={"PATH": path})

    assert pins(lock)["native"] == "1.0"


def test_version_and_platform_flags_replace_those_parts(shop: Mirror) -> None:
    older = resolved(shop, "app", "--python", sys.executable, "--python-version", "3.10")
    assert "#   target: CPython 3.10.0 on " in older
    assert "tomli" in pins(older)  # python_version < "3.11" under the replaced version

    windows = resolved(
        shop, "app", "--python", sys.executable, "--python-platform", "x86_64-pc-windows-msvc"
    )
    version = ".".join(map(str, sys.version_info[:3]))
    assert f"#   target: CPython {version} on x86_64-pc-windows-msvc" in windows
    assert "pywin" in pins(windows)
    # A wheel for this machine does not fit Windows, and `native` has nothing else.
    assert invoke(shop, "native", "--python", sys.executable, *WINDOWS).exit_code == 1


def _script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def _refused(mirror: Mirror, python: str) -> str:
    """``resolve --python PYTHON``'s error: exit 2, naming the path, with a hint."""
    return assert_error(invoke(mirror, "anything", "--python", python), 2, f"--python {python}")


def test_what_is_not_a_usable_python_is_a_usage_error(mirror: Mirror, tmp_path: Path) -> None:
    assert "is not a Python interpreter" in _refused(mirror, "/bin/true")
    garbage = _script(tmp_path, "garbage", "echo '{not json'\n")
    assert "is not a Python interpreter" in _refused(mirror, garbage)
    failing = _script(tmp_path, "failing", "echo 'broken interpreter' >&2; exit 3\n")
    assert "exited with status 3 (broken interpreter)" in _refused(mirror, failing)
    traceback = _script(
        tmp_path,
        "traceback",
        "printf 'Traceback (most recent call last):\\n  ...\\nOSError: x\\n' >&2\nexit 1\n",
    )
    assert "exited with status 1 (OSError: x)" in _refused(mirror, traceback)
    assert "no such file" in _refused(mirror, str(tmp_path / "missing" / "python"))
    assert "no such command on PATH" in _refused(mirror, "python-of-no-such-name")
    plain = tmp_path / "plain"
    plain.write_text("print(1)\n")
    assert "not an executable file" in _refused(mirror, str(plain))
    flood = _script(tmp_path, "flood", "yes\n")
    assert "printed more than 64 KiB" in _refused(mirror, flood)


def test_an_old_python_is_refused(mirror: Mirror, tmp_path: Path) -> None:
    """A 3.7 that reports itself (as a real one would, the report being Python-2-safe)."""
    markers = dict(default_environment(), python_full_version="3.7.9", python_version="3.7")
    report = {
        "sneakernet-probe": 1,
        "version": [3, 7, 9],
        "markers": markers,
    }
    old = _script(tmp_path, "python3.7", f"echo '{json.dumps(report)}'\n")

    stderr = _refused(mirror, old)

    assert "is CPython 3.7.9; the resolver targets Python 3.8 or later" in stderr


def test_an_interpreter_that_hangs_is_stopped(tmp_path: Path) -> None:
    """Killed at its timeout with what it started (a child holding the pipe open)."""
    from resolve.targets.interpreter import InterpreterError, probe

    hangs = _script(tmp_path, "hangs", "sleep 300 &\nsleep 300\n")
    started = time.monotonic()
    with pytest.raises(InterpreterError, match="no answer within 1 s"):
        probe(hangs, timeout=1)
    assert time.monotonic() - started < 1 + 10


def test_mirror_sync_follows_an_interpreters_markers(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    make_project(
        index,
        "app",
        ["1.0"],
        deps=["winonly; sys_platform == 'win32'", "oldpy; python_version < '3.9'", "base"],
    )
    for name in ("winonly", "oldpy", "base"):
        make_project(index, name, ["1.0"])
    mirror.add_index("one", serve(index))

    summary = mirror.sync("app", "--closure", "--python", sys.executable)

    assert summary["failures"] == []
    assert {page.project for page in pages(mirror)} == {"app", "base"}
    assert index.recorder.count("/simple/winonly/") == 0


def test_mirror_sync_refuses_a_non_python(mirror: Mirror) -> None:
    result = mirror.run("sync", "app", "--python", "/bin/true", code=None)
    assert_error(result, 2, "--python /bin/true: is not a Python interpreter")


def test_the_lock_reads_back_for_mirror_download() -> None:
    """The target line names a platform `mirror download` understands, with the same tags."""
    from mirror.download.target_files import target_environment
    from resolve.targets.interpreter import interpreter_target

    target = interpreter_target(sys.executable)
    again = target_environment(str(target))

    assert again is not None
    assert again.tags == target.tags


def test_a_requires_python_the_interpreter_is_outside_of(
    shop: Mirror, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "me"\nversion = "0"\nrequires-python = "<3.8"\n'
        'dependencies = ["attrs"]\n'
    )
    version = ".".join(map(str, sys.version_info[:3]))

    stderr = assert_error(
        invoke(shop, "-r", "pyproject.toml", "--python", sys.executable),
        2,
        f"--python {sys.executable} ({version}) is outside the project's requires-python",
    )

    assert stderr.startswith("error: pyproject.toml:4: ")
