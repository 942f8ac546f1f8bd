"""`mirror download` of a universal lock: per target given, the pins whose marker holds there
and the files it installs; with no target, the files of every environment the lock declares."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from packaging.pylock import Pylock

from tests.conftest import Mirror, Serve
from tests.fixtures.dists import build_sdist, build_wheel
from tests.fixtures.index_server import FixtureIndex
from tests.mirror.test_download import listing
from tests.scenarios.harness import run_resolve

APP = "app-1.0-py3-none-any.whl"
WINONLY = "winonly-1.0-py3-none-any.whl"
SDIST = "native-1.0.tar.gz"


def native(tag: str) -> str:
    return f"native-1.0-{tag}.whl"


LIN312 = native("cp312-cp312-manylinux_2_17_x86_64")
WIN312 = native("cp312-cp312-win_amd64")
LIN313 = native("cp313-cp313-manylinux_2_17_x86_64")
WIN313 = native("cp313-cp313-win_amd64")
ABI3_MAC = native("cp39-abi3-macosx_11_0_arm64")
OLD = native("cp311-cp311-manylinux_2_17_x86_64")
PYPY = native("pp310-pypy310_pp73-manylinux_2_17_x86_64")


def _lock(mirror: Mirror, serve: Serve, tmp_path: Path, *args: str) -> Path:
    index = FixtureIndex()
    app = index.add_project("app")
    requires = ["native", "winonly ; sys_platform == 'win32'"]
    app.add(build_wheel("app", "1.0", requires_dist=requires), version="1.0")
    project = index.add_project("native")
    for filename in (LIN312, WIN312, LIN313, WIN313, ABI3_MAC, OLD, PYPY):
        tag = filename.removeprefix("native-1.0-").removesuffix(".whl")
        project.add(build_wheel("native", "1.0", tag=tag), version="1.0")
    project.add(build_sdist("native", "1.0"), version="1.0")
    index.add_project("winonly").add(build_wheel("winonly", "1.0"), version="1.0")
    mirror.add_index("one", serve(index))
    mirror.sync("app", "native", "winonly")
    lock = tmp_path / "requirements.txt"
    outcome = run_resolve(
        mirror, "--universal", "--python-version", "3.12", *args, "app", "-o", str(lock)
    )
    assert outcome.exit_code == 0, outcome.stderr
    return lock


def _download(mirror: Mirror, lock: Path, dest: Path, *args: str) -> list[str]:
    result = mirror.run("download", str(lock), "-d", str(dest), "--json", *args)
    fetched = sorted(f["filename"] for f in json.loads(result.stdout)["files"])
    assert [name for name in listing(dest) if name != "pylock.toml"] == fetched
    return fetched


def test_every_environment_the_lock_declares(mirror: Mirror, serve: Serve, tmp_path: Path) -> None:
    lock = _lock(mirror, serve, tmp_path)
    assert "#   target: universal: python_version >= '3.12'" in lock.read_text()
    fetched = _download(mirror, lock, tmp_path / "out")
    # Every wheel of a Python >= 3.12 on any platform (abi3 of 3.9 too), not 3.11's or PyPy's;
    # the sdist, since no wheel installs on Python 3.14; winonly, for Windows.
    expected = [APP, LIN312, WIN312, LIN313, WIN313, ABI3_MAC, SDIST, WINONLY]
    assert fetched == sorted(expected)
    # --all-files keeps every file the lock names.
    every = _download(mirror, lock, tmp_path / "all", "--all-files")
    assert every == sorted([*expected, OLD, PYPY])


def test_a_lock_restricted_to_linux(mirror: Mirror, serve: Serve, tmp_path: Path) -> None:
    lock = _lock(mirror, serve, tmp_path, "--environment", "sys_platform == 'linux'")
    fetched = _download(mirror, lock, tmp_path / "out")
    assert fetched == sorted([APP, LIN312, LIN313, SDIST])


def test_targets_given_take_their_pins_and_files(
    mirror: Mirror, serve: Serve, tmp_path: Path
) -> None:
    lock = _lock(mirror, serve, tmp_path)
    # A platform alone: the lock's lowest Python (3.12) there; winonly is Windows' only.
    linux = _download(mirror, lock, tmp_path / "linux", "--python-platform", "linux")
    assert linux == sorted([APP, LIN312])
    both = _download(
        mirror,
        lock,
        tmp_path / "both",
        *("--python-version", "3.13", "--python-platform", "linux"),
        *("--python-platform", "windows"),
    )
    assert both == sorted([APP, LIN313, WIN313, WINONLY])
    mac = _download(mirror, lock, tmp_path / "mac", "--python-platform", "macos")
    assert mac == sorted([APP, ABI3_MAC])


def test_the_local_pylock_of_a_universal_lock(mirror: Mirror, serve: Serve, tmp_path: Path) -> None:
    lock = _lock(mirror, serve, tmp_path, "--format", "pylock")
    lock = lock.rename(tmp_path / "pylock.toml")
    dest = tmp_path / "linux"
    assert _download(mirror, lock, dest, "--python-platform", "linux") == sorted([APP, LIN312])
    document = tomllib.loads((dest / "pylock.toml").read_text())
    Pylock.from_dict(document)  # a valid PEP 751 lock, as packaging (pip's reader) checks it
    packages = {p["name"]: p for p in document["packages"]}
    assert [w["path"] for w in packages["native"]["wheels"]] == [f"./{LIN312}"]
    # winonly is Windows' only: no file here, its entry as the lock has it (an installer on
    # Linux skips it by its marker; on Windows it would go to the URL, not leave it out).
    assert packages["winonly"]["marker"] == "sys_platform == 'win32'"
    assert [w["name"] for w in packages["winonly"]["wheels"]] == [WINONLY]
    assert "path" not in packages["winonly"]["wheels"][0]
