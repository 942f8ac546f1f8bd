"""The proof: stock pip and uv install what `resolve` locks, from `mirror serve`.

Two loopback fixture indexes of real pure-Python wheels (`extra` first, `main` the default,
first-index, no pins) are synced into a snapshot; `resolve` locks a requirements.in;
`mirror download` fills a wheelhouse from the origin indexes; `mirror serve` runs as a real
process over the snapshot and the wheelhouse. Then pip and uv install the lock into fresh
virtual environments; and `uv pip compile` and pip's dry-run report against the server must
find the pins `resolve` finds, or differ only where their documented policy differs.

Nothing reaches beyond 127.0.0.1: the clients get only loopback URLs, read no configuration
(``PIP_CONFIG_FILE=/dev/null``, ``UV_NO_CONFIG=1``), use throwaway caches, never download a
Python, and install wheels only (so no build backend is ever looked for).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from db.canonical import canonical_name
from resolve.lock.reader import read_lock
from tests.conftest import Mirror, clean_environment
from tests.fixtures.dists import build_wheel
from tests.fixtures.index_server import FixtureIndex, make_project, serve_in_thread
from tests.scenarios.harness import run_resolve

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
TARGET = ("--python-version", "3.12", "--python-platform", "x86_64-manylinux_2_28")
# The install set: plain dependencies, an extra, a pre-release-only dependency, a yanked
# version to skip, and a local version that only the first index has.
INSTALL = ["app"]
EXPECTED = {
    "app": "1.0",
    "edge": "0.1b1",
    "kernel": "1.0+cpu",
    "lib": "1.0",
    "speedup": "0.1",
    "util": "1.0",
}
_STARTED = re.compile(r"serving snapshot \S+ on (http://127\.0\.0\.1:\d+/simple/)")


def _indexes() -> tuple[FixtureIndex, FixtureIndex]:
    extra, main = FixtureIndex(), FixtureIndex()
    make_project(extra, "kernel", ["1.0", "1.0+cpu"])
    make_project(main, "kernel", ["2.0"])  # hidden by first-index: extra has kernel
    make_project(main, "app", ["1.0"], deps=["lib>=1", "util[fast]", "edge", "kernel==1.0"])
    lib = make_project(main, "lib", ["1.0", "1.1", "2.0b1"])
    lib.file("lib-1.1-py3-none-any.whl").yanked = "broken"
    util = main.add_project("util")
    util.add(
        build_wheel(
            "util", "1.0", requires_dist=['speedup; extra == "fast"'], provides_extra=["fast"]
        )
    )
    make_project(main, "speedup", ["0.1"])
    make_project(main, "edge", ["0.1b1"])  # no final release at all
    make_project(main, "wants", ["1.0"], deps=["lib>1.5"])
    mix = make_project(main, "mix", ["1.0", "2.0", "3.0a1"])
    mix.file("mix-2.0-py3-none-any.whl").yanked = True
    return extra, main


def _client_env(tmp: Path) -> dict[str, str]:
    """The environment pip, uv and `mirror serve` run in: nothing of the developer's."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "UV_")) and not k.lower().endswith("_proxy")
    }
    for name, value in clean_environment(tmp).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    env.update(
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_INPUT="1",
        UV_NO_CONFIG="1",
        UV_CACHE_DIR=str(tmp / "uv-cache"),
        UV_PYTHON_DOWNLOADS="never",
        UV_NO_PROGRESS="1",
        NO_PROXY="127.0.0.1,localhost",
    )
    return env


@dataclass(frozen=True)
class World:
    mirror: Mirror
    tmp: Path
    env: dict[str, str]
    url: str  # http://127.0.0.1:PORT/simple/ of `mirror serve`
    lock: Path  # requirements.txt written by `resolve`
    log: list[str]  # the server's stderr (its access log)


@contextlib.contextmanager
def _mirror_serve(
    db: Path, wheelhouse: Path, env: dict[str, str]
) -> Iterator[tuple[str, list[str]]]:
    """`mirror serve` as a real process on a free port, with two workers (one port, two
    processes, as a site serves); yields its URL and its stderr lines. Stops it with SIGTERM
    and checks it stopped cleanly."""
    command = [str(BIN / "mirror"), "--db", str(db), "serve"]
    command += ["--files", str(wheelhouse), "--port", "0", "--workers", "2"]
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=db.parent,
    )
    assert process.stderr is not None and process.stdout is not None
    lines: list[str] = []
    started: queue.Queue[str | None] = queue.Queue()

    def drain(stream: Iterator[str]) -> None:
        for line in stream:
            lines.append(line)
            if (match := _STARTED.search(line)) is not None:
                started.put(match[1])
        started.put(None)

    reader = threading.Thread(target=drain, args=(process.stderr,), daemon=True)
    reader.start()
    try:
        url = started.get(timeout=60)
        assert url is not None, "mirror serve did not start:\n" + "".join(lines)
        yield url, lines
    finally:
        process.terminate()
        code = process.wait(timeout=60)
        reader.join(timeout=60)
        stdout = process.stdout.read()
    assert code == 0, "".join(lines)
    assert stdout == "", "mirror serve wrote to stdout"
    assert not any("Traceback" in line for line in lines), "".join(lines)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("clients")
    mirror = Mirror(tmp / "mirror.db", dict(clean_environment(tmp)))
    env = _client_env(tmp)
    with contextlib.ExitStack() as stack:
        extra, main = _indexes()
        mirror.add_index("extra", stack.enter_context(serve_in_thread(extra)))
        mirror.add_index("main", stack.enter_context(serve_in_thread(main)), "--default")
        projects = sorted({*extra.projects, *main.projects})
        mirror.sync(*projects, "--versions", "all", "--quiet")
        requirements = tmp / "requirements.in"
        requirements.write_text("\n".join(INSTALL) + "\n")
        lock = tmp / "requirements.txt"
        locked = run_resolve(mirror, "-r", str(requirements), "-o", str(lock), "--quiet")
        assert locked.exit_code == 0, locked.stderr
        wheelhouse = tmp / "wheelhouse"
        mirror.run("download", str(lock), "-d", str(wheelhouse), "--quiet")
    # The origin indexes are gone now: from here on only `mirror serve` answers.
    with _mirror_serve(mirror.db, wheelhouse, env) as (url, log):
        yield World(mirror, tmp, env, url, lock, log)


def _run(command: Sequence[str], world: World) -> subprocess.CompletedProcess[str]:
    # From the temporary directory: the checkout must not be on any sys.path.
    return subprocess.run(
        list(command),
        env=world.env,
        cwd=world.tmp,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def _fresh_venv(world: World, name: str) -> Path:
    path = world.tmp / name
    done = _run([sys.executable, "-m", "venv", "--without-pip", str(path)], world)
    assert done.returncode == 0, done.stderr
    return path / "bin" / "python"


def _installed(python: Path, world: World) -> dict[str, str]:
    """Distributions in the venv, and a check that each locked package imports as locked."""
    script = (
        "import importlib, importlib.metadata as m, json, sys\n"
        "found = {d.metadata['Name']: d.version for d in m.distributions()}\n"
        "for name in sys.argv[1:]:\n"
        "    assert importlib.import_module(name).__version__ == found[name], name\n"
        "print(json.dumps(found))\n"
    )
    done = _run([str(python), "-I", "-c", script, *EXPECTED], world)
    assert done.returncode == 0, done.stderr
    return {canonical_name(k): v for k, v in json.loads(done.stdout).items()}


def _lock_pins(lock: Path) -> dict[str, str]:
    return {pin.name: pin.version for pin in read_lock(lock).pins}


def test_the_lock_is_what_we_expect(world: World) -> None:
    assert _lock_pins(world.lock) == EXPECTED


def test_pip_installs_the_lock(world: World) -> None:
    python = _fresh_venv(world, "pip-venv")
    command = [sys.executable, "-m", "pip", "--python", str(python), "install"]
    command += ["--no-cache-dir", "--index-url", world.url, "--only-binary", ":all:"]
    command += ["--require-hashes", "-r", str(world.lock)]
    done = _run(command, world)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _installed(python, world) == EXPECTED
    served = "".join(world.log)
    assert "GET /simple/app/" in served
    assert "GET /files/kernel-1.0%2Bcpu-py3-none-any.whl" in served


def test_uv_installs_the_lock(world: World) -> None:
    python = _fresh_venv(world, "uv-venv")
    command = [str(BIN / "uv"), "pip", "install", "--python", str(python), "--no-cache"]
    command += ["--index-url", world.url, "--only-binary", ":all:"]
    command += ["--require-hashes", "-r", str(world.lock)]
    done = _run(command, world)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _installed(python, world) == EXPECTED


Pins = dict[str, str]


def _resolve(world: World, requirements: Path) -> Pins | None:
    """`resolve`'s pins for the target, or None when it finds no solution."""
    ours = run_resolve(world.mirror, "-r", str(requirements), *TARGET, "--format", "json")
    assert ours.exit_code in (0, 1), ours.stderr
    return ours.pins if ours.exit_code == 0 else None


def _uv_compile(world: World, requirements: Path) -> Pins | None:
    """`uv pip compile` against the server for the same target; None when it fails."""
    command = [str(BIN / "uv"), "pip", "compile", str(requirements), "--index-url", world.url]
    command += [*TARGET, "--python", sys.executable, "--no-header", "--no-annotate", "--no-cache"]
    done = _run(command, world)
    if done.returncode != 0:
        assert "No solution found" in done.stderr, done.stderr
        return None
    pins = {}
    for line in done.stdout.splitlines():
        name, _, version = line.split("#", 1)[0].strip().partition("==")
        if name:
            pins[canonical_name(name.split("[", 1)[0])] = version.split(";", 1)[0].strip()
    return pins


def _pip_dry_run(world: World, requirements: Path, tmp_path: Path) -> Pins | None:
    """What pip would install from the server for the same target (its ``--report``
    installation report); None when it finds nothing to install."""
    report = tmp_path / "pip-report.json"
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed"]
    command += ["--quiet", "--no-cache-dir", "--report", str(report), "--index-url", world.url]
    command += ["--only-binary", ":all:", "--python-version", "3.12"]
    command += ["--platform", "manylinux_2_28_x86_64", "--target", str(tmp_path / "target")]
    done = _run([*command, "-r", str(requirements)], world)
    if done.returncode != 0:
        assert "No matching distribution" in done.stderr, done.stderr
        return None
    installs = json.loads(report.read_text())["install"]
    return {canonical_name(i["metadata"]["name"]): i["metadata"]["version"] for i in installs}


@pytest.mark.parametrize(
    ("requirements", "expected"),
    [
        pytest.param(INSTALL, EXPECTED, id="plain-deps"),
        pytest.param(["edge"], {"edge": "0.1b1"}, id="prerelease-only"),
        # Only a pre-release satisfies `>1.5`: taken, directly and as a dependency.
        pytest.param(["lib>1.5"], {"lib": "2.0b1"}, id="prerelease-needed"),
        pytest.param(["wants"], {"wants": "1.0", "lib": "2.0b1"}, id="prerelease-needed-deep"),
        pytest.param(["lib"], {"lib": "1.0"}, id="yanked-skipped"),
        pytest.param(["lib==1.1"], {"lib": "1.1"}, id="yanked-pinned-exactly"),
        pytest.param(["lib>=1.1,<2"], None, id="yanked-only-match"),  # PEP 592: not taken
        pytest.param(["kernel==1.0"], {"kernel": "1.0+cpu"}, id="local-version"),
        pytest.param(["kernel>1.0"], None, id="local-not-greater"),  # PEP 440 exclusive >
        pytest.param(["kernel>=1"], {"kernel": "1.0+cpu"}, id="first-index"),
        pytest.param(["util[fast]"], {"util": "1.0", "speedup": "0.1"}, id="extras"),
    ],
)
def test_uv_and_pip_find_the_pins_resolve_finds(
    world: World, tmp_path: Path, requirements: list[str], expected: Pins | None
) -> None:
    source = tmp_path / "requirements.in"
    source.write_text("\n".join(requirements) + "\n")
    assert _resolve(world, source) == expected
    assert _uv_compile(world, source) == expected
    assert _pip_dry_run(world, source, tmp_path) == expected


def test_pip_lets_a_yanked_final_release_block_pre_releases(world: World, tmp_path: Path) -> None:
    """``mix>1.0`` with mix 1.0, 2.0 (yanked) and 3.0a1.

    Policy difference: pip decides whether pre-releases are admitted from every listed
    version, yanked ones included: the yanked 2.0 is a final release matching ``>1.0``, so
    3.0a1 is shut out, and then 2.0 itself is ignored for being yanked: no solution. `resolve`
    (``if-necessary``: a pre-release when the usable candidates hold no final release) and uv
    (its default, ``if-necessary-or-explicit``) both take 3.0a1.
    """
    source = tmp_path / "requirements.in"
    source.write_text("mix>1.0\n")
    assert _resolve(world, source) == {"mix": "3.0a1"}
    assert _uv_compile(world, source) == {"mix": "3.0a1"}
    assert _pip_dry_run(world, source, tmp_path) is None
