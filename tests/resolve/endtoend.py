"""Plumbing for the end-to-end tests of ``resolve``: fixture indexes on 127.0.0.1, a real
``mirror sync`` into a real snapshot, then the real command, in-process (click's CliRunner)
or as the installed console script in a subprocess.

Example::

    def test_something(mirror: Mirror, serve: Serve) -> None:
        index = FixtureIndex()
        make_project(index, "a", ["1.0"], deps=["b"])
        make_project(index, "b", ["1.0"])
        add_indexes(mirror, serve, pypi=index)  # the last one given is the default
        mirror.sync("a", "b", "--versions", "all", "--quiet")
        lock = read_lock(resolved(mirror, "a", *TARGET))
        assert lock["b"].via == ("a",)
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from tests.conftest import Mirror, Serve, clean_environment
from tests.fixtures.dists import build_sdist, build_wheel
from tests.fixtures.index_server import FixtureIndex, make_project, serve_in_thread
from tests.scenarios.harness import DEFAULT_TARGET

__all__ = [
    "CONSOLE",
    "SOURCE",
    "TARGET",
    "UPLOADED",
    "Pin",
    "add_indexes",
    "catalogue",
    "failed",
    "hint_lines",
    "invoke",
    "pins",
    "read_lock",
    "resolved",
    "run_console",
    "shop_index",
    "source_command",
    "source_env",
    "subprocess_env",
    "sync_snapshot",
    "write_dists",
]

#: CPython 3.12 on manylinux x86_64: a target that does not depend on the test machine.
TARGET = DEFAULT_TARGET
#: The installed ``resolve`` console script, next to the interpreter running the tests.
CONSOLE = Path(sys.executable).with_name("resolve")
#: The checkout these tests belong to (the folder holding resolve/, mirror/ and db/).
SOURCE = Path(__file__).resolve().parents[2]


#: The upload time of speedy 3.0's wheel in :func:`catalogue` (its sdist has none).
UPLOADED = "2024-05-06T07:08:09.123456Z"


def catalogue() -> FixtureIndex:
    """Names out of order, several files per version (other platforms, an sdist), and older
    versions whose files must not be hashed."""
    index = FixtureIndex()
    make_project(index, "Zeta_Pkg", ["1.0"], deps=["alpha", "mid[fast]"])
    make_project(index, "alpha", ["0.9", "1.0"], sdist=True)
    alpha = index.project("alpha")
    for tag in ("cp312-cp312-win_amd64", "cp312-cp312-macosx_11_0_arm64"):
        alpha.add(build_wheel("alpha", "1.0", tag=tag), version="1.0")
    make_project(index, "mid", ["2.0"], deps=['speedy; extra == "fast"', "alpha>=1"])
    speedy = index.add_project("speedy")
    speedy.add(build_wheel("speedy", "3.0"), version="3.0", upload_time=UPLOADED)
    speedy.add(build_sdist("speedy", "3.0"), version="3.0", upload_time=None)
    return index


def shop_index() -> FixtureIndex:
    """Extras, nested extras, target markers, and a transitive ``==`` pin."""
    index = FixtureIndex()
    make_project(
        index,
        "app",
        ["1.0"],
        deps=[
            'flask>=2; extra == "web"',
            'pywin; sys_platform == "win32"',
            'tomli; python_version < "3.11"',
            "attrs",
        ],
    )
    make_project(index, "flask", ["2.0", "3.0"], deps=["click>=7", 'blinker; extra == "signals"'])
    make_project(index, "click", ["7.0", "8.0", "8.1"])
    make_project(index, "blinker", ["1.0"])
    make_project(index, "pywin", ["1.0"])
    make_project(index, "tomli", ["2.0"])
    make_project(index, "attrs", ["22.0", "23.0"])
    make_project(index, "plugin", ["1.0"], deps=['flask[signals]; extra == "all"'])
    make_project(index, "legacy", ["1.0"], deps=["click==7.0"])
    make_project(index, "unrelated", ["1.0"])
    return index


def add_indexes(mirror: Mirror, serve: Serve, **indexes: FixtureIndex) -> dict[str, str]:
    """Serve each fixture index and add it, in priority order; the last is the default.
    Returns the base URL of each."""
    urls = {name: serve(index) for name, index in indexes.items()}
    last = list(urls)[-1]
    for name, url in urls.items():
        mirror.add_index(name, url, *(["--default"] if name == last else []))
    return urls


def sync_snapshot(
    home: Path, indexes: Mapping[str, FixtureIndex], *sync_args: str
) -> tuple[Mirror, dict[str, Any]]:
    """A new database in ``home`` with ``indexes`` (priority order, the last the default) and
    every version of every project synced, metadata included; the fixture servers stop once
    the sync is done. Returns the mirror and the sync's summary."""
    mirror = Mirror(home / "mirror.db", clean_environment(home))
    with contextlib.ExitStack() as stack:
        add_indexes(mirror, lambda index: stack.enter_context(serve_in_thread(index)), **indexes)
        projects = sorted({name for index in indexes.values() for name in index.projects})
        summary = mirror.sync(*projects, "--versions", "all", "--quiet", *sync_args)
    return mirror, summary


def invoke(mirror: Mirror, *args: str, env: Mapping[str, str | None] | None = None) -> Result:
    """``resolve --db DB ARGS…`` in-process; an unexpected exception fails the test."""
    from resolve.cli import command

    result = CliRunner().invoke(
        command, ["--db", str(mirror.db), *args], env={**mirror.env, **(env or {})}
    )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def resolved(mirror: Mirror, *args: str, env: Mapping[str, str | None] | None = None) -> str:
    """The lock ``resolve ARGS…`` prints, asserting it succeeded."""
    result = invoke(mirror, *args, env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def failed(mirror: Mirror, *args: str, code: int = 1) -> str:
    """The stderr of ``resolve ARGS…``, asserting it exited ``code`` with nothing on stdout."""
    result = invoke(mirror, *args)
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    return result.stderr


def hint_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("hint: ")]


@dataclass(frozen=True)
class Pin:
    """One entry of a requirements.txt lock."""

    version: str
    hashes: tuple[str, ...]
    via: tuple[str, ...]


def read_lock(text: str) -> dict[str, Pin]:
    """A requirements.txt lock as pip-compile lays it out → ``{name: Pin}``, in file order."""
    found: dict[str, Pin] = {}
    name = ""
    version = ""
    hashes: list[str] = []
    via: list[str] = []
    in_via = False

    def flush() -> None:
        if name:
            found[name] = Pin(version, tuple(hashes), tuple(via))

    for line in text.splitlines():
        stripped = line.strip().removesuffix("\\").strip()
        if line and not line[0].isspace() and not line.startswith("#"):
            flush()
            name, _, version = stripped.partition("==")
            hashes, via, in_via = [], [], False
        elif stripped.startswith("--hash=sha256:"):
            hashes.append(stripped.removeprefix("--hash=sha256:"))
        elif line.startswith("    # via"):
            rest = stripped.removeprefix("# via").strip()
            in_via = not rest
            via += [rest] if rest else []
        elif in_via and line.startswith("    #   "):
            via.append(stripped.removeprefix("#").strip())
    flush()
    return found


def pins(text: str) -> dict[str, str]:
    """``{name: version}`` of a requirements.txt lock."""
    return {name: pin.version for name, pin in read_lock(text).items()}


def subprocess_env(mirror: Mirror, **extra: str) -> dict[str, str]:
    """This process's environment with the mirror's isolation applied, plus ``extra``."""
    env = dict(os.environ)
    for key, value in mirror.env.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    env.update(extra)
    return env


def source_command(module: str) -> list[str]:
    """``python -m MODULE`` (``resolve`` or ``mirror``); with :func:`source_env`, the code of
    this checkout runs, whatever the installed console scripts point at."""
    return [sys.executable, "-m", module]


def source_env(mirror: Mirror, **extra: str) -> dict[str, str]:
    """:func:`subprocess_env` with this checkout first on ``PYTHONPATH``."""
    env = subprocess_env(mirror, **extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SOURCE), env.get("PYTHONPATH")]))
    return env


def start_serve(
    mirror: Mirror, database: str, *options: str, **extra_env: str
) -> tuple[subprocess.Popen[str], str]:
    """`mirror serve --port 0 OPTIONS` of this checkout on ``database``, started: the process
    (stderr piped, past its first line) and the base URL that line printed."""
    command = [*source_command("mirror"), "--db", database, "serve", "--port", "0", *options]
    process = subprocess.Popen(
        command,
        env=source_env(mirror, **extra_env),
        cwd=mirror.folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    first = process.stderr.readline()
    if not first.startswith("serving snapshot "):
        process.kill()
        process.wait()
        raise AssertionError(f"mirror serve did not start: {first}{process.stderr.read()}")
    return process, first.rsplit(" ", 1)[1].strip()


def run_console(
    mirror: Mirror, *args: str, cwd: Path, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    """The installed ``resolve`` script on the mirror's database, in a subprocess."""
    return subprocess.run(
        [str(CONSOLE), "--db", str(mirror.db), *args],
        cwd=cwd,
        env=subprocess_env(mirror, **extra_env),
        capture_output=True,
        text=True,
        check=False,
    )


def write_dists(index: FixtureIndex, directory: Path) -> None:
    """Every file the fixture index serves, as a flat directory (a ``--find-links`` target)."""
    directory.mkdir(parents=True, exist_ok=True)
    for project in index.projects.values():
        for entry in project.files:
            (directory / entry.filename).write_bytes(entry.data)
