"""mirror.metadata.build on its own: an sdist with an in-tree backend and no build
requirements is built with the network taken away from the process that makes the isolated
environment and runs the hooks (MIRROR.md, "Core metadata")."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import pytest

from mirror.metadata.build import (
    BuildFailed,
    BuildSettings,
    build_metadata,
    build_system,
    stop_running_builds,
)
from mirror.metadata.sdist import MetadataError, unpack_sdist
from tests.mirror.test_sync_builds import in_tree_sdist
from tests.resolve.test_offline import NO_NETWORK

pytestmark = pytest.mark.slow

BUILD = """
import sys
from pathlib import Path
from mirror.metadata.build import BuildSettings, build_metadata
sys.stdout.buffer.write(build_metadata(Path(sys.argv[1]), "foo", [], None, BuildSettings()))
"""


def _unpacked(tmp_path: Path, sdist_bytes: bytes, filename: str) -> Path:
    into = tmp_path / "src"
    into.mkdir()
    return unpack_sdist(io.BytesIO(sdist_bytes), filename, into)


def test_an_in_tree_backend_builds_with_no_network(tmp_path: Path) -> None:
    sdist = in_tree_sdist("foo", requires="bar>=1")
    source = _unpacked(tmp_path, sdist.data, sdist.filename)
    assert source.name == "foo-1.0"
    system = build_system(source)
    assert (system.backend, system.requires) == ("backend", ())

    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(NO_NETWORK)
    log = tmp_path / "network.log"
    path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, "NO_NETWORK_LOG": str(log)}
    run = subprocess.run(
        [sys.executable, "-c", BUILD, str(source)], env=env, capture_output=True, check=False
    )
    assert run.returncode == 0, run.stderr.decode()
    assert b"Requires-Dist: bar>=1" in run.stdout
    assert not log.exists()


def test_a_backends_warnings_are_not_passed_on(tmp_path: Path) -> None:
    """pyproject-hooks re-emits a hook's warnings in the caller: a sync building hundreds of
    sdists would print every backend's deprecation notices."""
    sdist = in_tree_sdist("foo", requires="bar>=1", behaviour="warn")
    source = _unpacked(tmp_path, sdist.data, sdist.filename)
    run = subprocess.run([sys.executable, "-c", BUILD, str(source)], capture_output=True)
    assert run.returncode == 0, run.stderr.decode()
    assert b"Requires-Dist: bar>=1" in run.stdout
    assert b"tests_require" not in run.stderr


def test_a_build_past_its_deadline_is_killed(tmp_path: Path) -> None:
    sdist = in_tree_sdist("foo", behaviour="sleep")
    source = _unpacked(tmp_path, sdist.data, sdist.filename)
    with pytest.raises(BuildFailed, match="timed out after 1s"):
        build_metadata(source, "foo", [], None, BuildSettings(timeout=1.0))


def test_unpacking_refuses_a_member_outside_its_directory(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("foo-1.0/../../evil.py")
        info.size = 1
        archive.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(MetadataError, match="outside its directory"):
        _unpacked(tmp_path, buffer.getvalue(), "foo-1.0.tar")
    assert not (tmp_path / "evil.py").exists()


def test_an_interrupted_sync_stops_its_builds(tmp_path: Path) -> None:
    sdist = in_tree_sdist("foo", behaviour="sleep")
    source = _unpacked(tmp_path, sdist.data, sdist.filename)
    errors: list[BaseException] = []

    def build() -> None:
        try:
            build_metadata(source, "foo", [], None, BuildSettings(timeout=120.0))
        except BuildFailed as exc:
            errors.append(exc)

    worker = threading.Thread(target=build)
    worker.start()
    deadline = time.monotonic() + 30
    while worker.is_alive() and time.monotonic() < deadline:
        stop_running_builds()  # whatever subprocess the build is in (none before the hook)
        worker.join(timeout=0.2)
    assert not worker.is_alive()  # well before the build's own 120 s deadline
    assert len(errors) == 1
