"""One universal lock, one wheelhouse, two targets: pip and uv install, on each target,
exactly the pins whose marker holds there, from `mirror serve` with ``--require-hashes``.

A loopback fixture index has a project with a different wheel per platform and Python
(``native``) and a dependency only Windows needs (``winonly ; sys_platform == 'win32'``);
`resolve --universal` locks it for Python 3.11 and later, `mirror download` fetches for
3.11 and 3.12 on Linux and Windows, and `mirror serve --files` serves that wheelhouse alone
(the origin index is gone by then). No second interpreter is at hand, so the installs are dry
runs for a target (``--python-version`` with pip's ``--platform``, uv's ``--python-platform``).

pip evaluates a requirement's marker against the interpreter running it, whatever
``--platform`` says ("Ignoring …: markers … don't match your environment"), so its two targets
differ in Python (and so in files), on this machine's platform; uv evaluates markers for
the target it is given, so its two targets are Linux and Windows.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from db.canonical import canonical_name
from tests.conftest import Mirror, clean_environment
from tests.fixtures.dists import build_wheel
from tests.fixtures.index_server import FixtureIndex, serve_in_thread
from tests.mirror.test_download import listing
from tests.mirror.test_install_clients import BIN, _client_env, _mirror_serve
from tests.scenarios.harness import run_resolve

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux", reason="pip's markers are this machine's"),
]

NATIVE_TAGS = {
    "cp311-cp311-manylinux_2_17_x86_64": "3.11 on Linux",
    "cp312-cp312-manylinux_2_17_x86_64": "3.12 on Linux",
    "cp311-cp311-win_amd64": "3.11 on Windows",
    "cp312-cp312-win_amd64": "3.12 on Windows",
    "cp312-cp312-macosx_11_0_arm64": "macOS, not downloaded",
}
LINUX = {"app": "1.0", "native": "1.0", "lib": "1.0"}
WINDOWS = {**LINUX, "winonly": "1.0"}


@dataclass(frozen=True)
class World:
    tmp: Path
    env: dict[str, str]
    url: str
    lock: Path
    wheelhouse: Path
    log: list[str]
    #: `mirror download` of the same lock as a pylock.toml, for this machine's Python.
    local: Path


def _index() -> FixtureIndex:
    index = FixtureIndex()
    requires = ["native", "lib", "winonly ; sys_platform == 'win32'"]
    index.add_project("app").add(build_wheel("app", "1.0", requires_dist=requires))
    native = index.add_project("native")
    for tag in NATIVE_TAGS:
        native.add(build_wheel("native", "1.0", tag=tag))
    index.add_project("lib").add(build_wheel("lib", "1.0"))
    index.add_project("winonly").add(build_wheel("winonly", "1.0"))
    return index


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("universal-clients")
    mirror = Mirror(tmp / "mirror.db", dict(clean_environment(tmp)))
    env = _client_env(tmp)
    lock = tmp / "requirements.txt"
    wheelhouse = tmp / "wheelhouse"
    with serve_in_thread(_index()) as origin:
        mirror.add_index("main", origin, "--default")
        mirror.sync("app", "native", "lib", "winonly", "--quiet")
        locked = run_resolve(
            mirror, "--universal", "--python-version", "3.11", "app", "-o", str(lock)
        )
        assert locked.exit_code == 0, locked.stderr
        targets = ("--python-version", "3.11", "--python-version", "3.12")
        targets += ("--python-platform", "linux", "--python-platform", "windows")
        mirror.run("download", str(lock), "-d", str(wheelhouse), "--quiet", *targets)
        pylock = tmp / "pylock.toml"
        locked = run_resolve(
            mirror, "--universal", "--python-version", "3.11", "app", "-o", str(pylock)
        )
        assert locked.exit_code == 0, locked.stderr
        local = tmp / "local"
        here = ("--python-version", "3.11", "--python-platform", "linux")
        mirror.run("download", str(pylock), "-d", str(local), "--quiet", *here)
    with _mirror_serve(mirror.db, wheelhouse, env) as (url, log):
        yield World(tmp, env, url, lock, wheelhouse, log, local / "pylock.toml")


def _run(command: list[str], world: World) -> str:
    done = subprocess.run(
        command,
        env=world.env,
        cwd=world.tmp,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_the_wheelhouse_holds_each_targets_files(world: World) -> None:
    wheels = [f"native-1.0-{tag}.whl" for tag, what in NATIVE_TAGS.items() if "not" not in what]
    common = ["app-1.0-py3-none-any.whl", "lib-1.0-py3-none-any.whl"]
    expected = [*common, *wheels, "winonly-1.0-py3-none-any.whl"]
    assert listing(world.wheelhouse) == sorted(expected)
    assert "winonly==1.0 ; sys_platform == 'win32' \\" in world.lock.read_text()


@pytest.mark.parametrize("python", ["3.11", "3.12"])
def test_pip_installs_each_targets_pins(world: World, python: str, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed"]
    command += ["--quiet", "--no-cache-dir", "--report", str(report), "--index-url", world.url]
    command += ["--only-binary", ":all:", "--python-version", python]
    # pip takes the platform tags given, no older manylinux among them (PEP 600's order).
    command += ["--platform", "manylinux_2_28_x86_64", "--platform", "manylinux_2_17_x86_64"]
    command += ["--target", str(tmp_path / "target")]
    _run([*command, "--require-hashes", "-r", str(world.lock)], world)
    installs = json.loads(report.read_text())["install"]
    pins = {canonical_name(i["metadata"]["name"]): i["metadata"]["version"] for i in installs}
    assert pins == LINUX
    native = next(i for i in installs if i["metadata"]["name"] == "native")
    digits = python.replace(".", "")
    assert native["download_info"]["url"].endswith(
        f"native-1.0-cp{digits}-cp{digits}-manylinux_2_17_x86_64.whl"
    )


@pytest.mark.parametrize(("platform", "expected"), [("linux", LINUX), ("windows", WINDOWS)])
def test_uv_installs_each_targets_pins(
    world: World, platform: str, expected: dict[str, str], tmp_path: Path
) -> None:
    command = [str(BIN / "uv"), "pip", "install", "--dry-run", "--no-cache"]
    command += ["--index-url", world.url, "--only-binary", ":all:"]
    command += ["--python", sys.executable, "--python-version", "3.12"]
    command += ["--python-platform", platform, "--target", str(tmp_path / "target")]
    output = _run([*command, "--require-hashes", "-r", str(world.lock)], world)
    pins = {}
    for line in output.splitlines():
        if line.startswith(" + "):
            name, _, version = line[3:].strip().partition("==")
            pins[canonical_name(name)] = version
    assert pins == expected, output


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="the local copy is for 3.11")
@pytest.mark.parametrize("client", ["pip", "uv"])
def test_the_local_pylock_installs_offline(world: World, client: str, tmp_path: Path) -> None:
    """The universal pylock's copy beside the files, installed for real on this machine
    with no index: winonly's entry (no file here) is skipped by its marker."""
    target = tmp_path / "target"
    if client == "pip":
        command = [sys.executable, "-m", "pip", "install", "--no-index", "--no-cache-dir"]
    else:
        command = [str(BIN / "uv"), "pip", "install", "--offline", "--no-cache"]
        command += ["--python", sys.executable]
    _run([*command, "--target", str(target), "-r", str(world.local)], world)
    installed = sorted(p.name for p in target.glob("*.dist-info"))
    assert installed == sorted(f"{name}-{version}.dist-info" for name, version in LINUX.items())
