"""`mirror download` fetches, of each pinned version, only the files the lock's target can
install: the wheels whose tags it supports, else the sdist; `--all-files` fetches them all."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Mirror, Serve
from tests.db import assert_error
from tests.fixtures.dists import build_sdist, build_wheel
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.mirror.synctools import files
from tests.mirror.test_download import listing, requirements_lock

LINUX = "native-1.0-cp312-cp312-manylinux_2_17_x86_64.whl"
WINDOWS = "native-1.0-cp312-cp312-win_amd64.whl"
SDIST = "native-1.0.tar.gz"
ONLY_SDIST = "plain-2.0.tar.gz"


def _setup(mirror: Mirror, serve: Serve, tmp_path: Path) -> Path:
    index = FixtureIndex()
    native = index.add_project("native")
    for tag in ("cp312-cp312-manylinux_2_17_x86_64", "cp312-cp312-win_amd64"):
        native.add(build_wheel("native", "1.0", tag=tag), version="1.0")
    native.add(build_sdist("native", "1.0"), version="1.0")
    make_project(index, "plain", ["2.0"], wheel=False, sdist=True)
    make_project(index, "puzzle", ["3.0"], tag="cp312-cp312-macosx_11_0_arm64")
    mirror.add_index("one", serve(index))
    summary = mirror.sync("native", "plain", "puzzle")
    rows = [r for p in ("native", "plain", "puzzle") for r in files(mirror, "one", p)]
    pins: dict[str, list[str]] = {}
    for row in rows:
        assert row.sha256 is not None
        pins.setdefault(f"{row.filename.split('-')[0]}=={row.version}", []).append(row.sha256)
    lock = tmp_path / "requirements.txt"
    # The lock's target: CPython 3.12.0 on x86_64-manylinux_2_28 (see requirements_lock).
    lock.write_text(requirements_lock(summary, pins))
    return lock


def test_only_the_files_the_target_installs(mirror: Mirror, serve: Serve, tmp_path: Path) -> None:
    lock = _setup(mirror, serve, tmp_path)
    dest = tmp_path / "out"
    result = mirror.run("download", str(lock), "-d", str(dest), "--json")
    fetched = sorted(f["filename"] for f in json.loads(result.stdout)["files"])
    # native: the linux wheel only; plain: its sdist (no wheel); puzzle: no file fits the
    # target, so all of its files rather than none.
    assert fetched == sorted([LINUX, ONLY_SDIST, "puzzle-3.0-cp312-cp312-macosx_11_0_arm64.whl"])
    assert listing(dest) == fetched


def test_all_files_fetches_every_locked_file(mirror: Mirror, serve: Serve, tmp_path: Path) -> None:
    lock = _setup(mirror, serve, tmp_path)
    dest = tmp_path / "out"
    mirror.run("download", str(lock), "-d", str(dest), "--all-files")
    assert {LINUX, WINDOWS, SDIST, ONLY_SDIST} <= set(listing(dest))
    assert len(listing(dest)) == 5


def test_a_lock_without_a_target_gets_every_file(
    mirror: Mirror, serve: Serve, tmp_path: Path
) -> None:
    lock = _setup(mirror, serve, tmp_path)
    lock.write_text(
        "".join(line for line in lock.read_text().splitlines(True) if "target:" not in line)
    )
    dest = tmp_path / "out"
    result = mirror.run("download", str(lock), "-d", str(dest))
    assert "names no target; downloading every file it locks" in result.stderr
    assert len(listing(dest)) == 5


def test_several_targets_get_the_union_of_their_files(
    mirror: Mirror, serve: Serve, tmp_path: Path
) -> None:
    lock = _setup(mirror, serve, tmp_path)
    dest = tmp_path / "out"
    # The lock's Python (3.12) for two platforms: both wheels of native, and for plain and
    # puzzle what any of them takes.
    args = ("--python-platform", "linux", "--python-platform", "windows", "--json")
    result = mirror.run("download", str(lock), "-d", str(dest), *args)
    fetched = sorted(f["filename"] for f in json.loads(result.stdout)["files"])
    puzzle = "puzzle-3.0-cp312-cp312-macosx_11_0_arm64.whl"
    assert fetched == sorted([LINUX, WINDOWS, ONLY_SDIST, puzzle])
    # A Python no cp312 wheel fits: the sdist of native instead.
    again = tmp_path / "again"
    result = mirror.run("download", str(lock), "-d", str(again), "--python-version", "3.11")
    assert listing(again) == sorted([SDIST, ONLY_SDIST, puzzle])


def test_a_target_resolve_would_refuse_is_an_input_error(
    mirror: Mirror, serve: Serve, tmp_path: Path
) -> None:
    lock = _setup(mirror, serve, tmp_path)
    result = mirror.run(
        "download", str(lock), "-d", str(tmp_path / "out"), "--python-platform", "amiga", code=2
    )
    assert_error(result, 2, "unknown Python platform 'amiga'")
    assert "hint: spell targets as resolve does" in result.stderr
    assert not (tmp_path / "out").exists()
