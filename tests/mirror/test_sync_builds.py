"""Metadata builds during `mirror sync` (MIRROR.md, "Core metadata"): an sdist whose metadata
is dynamic gets it from its PEP 517 backend in an isolated environment — an in-tree backend
with no network at all, a backend that is a build requirement installed offline from what the
sync fetched — and a build that fails or times out is reported, the snapshot complete."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator

import pytest

from tests.conftest import Mirror
from tests.fixtures.dists import BuiltDist, build_sdist, build_wheel
from tests.fixtures.index_server import FixtureIndex, serve_in_thread
from tests.mirror.synctools import metadata
from tests.scenarios.harness import run_resolve

pytestmark = pytest.mark.slow

# A PEP 517 backend: the metadata hook writes METADATA from the source tree's PKG-INFO (name,
# version) and requires.txt (Requires-Dist); behaviour.txt makes it fail or hang.
BACKEND = """\
import os
import time
import warnings


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    fields = {}
    for line in open("PKG-INFO", encoding="utf-8").read().splitlines():
        key, _, value = line.partition(": ")
        fields.setdefault(key, value)
    behaviour = open("behaviour.txt").read().strip() if os.path.exists("behaviour.txt") else ""
    if behaviour == "fail":
        raise RuntimeError("the backend refuses to build")
    if behaviour == "sleep":
        time.sleep(120)
    if behaviour == "warn":
        warnings.warn("the option 'tests_require' is deprecated")
    requires = open("requires.txt").read().split() if os.path.exists("requires.txt") else []
    name = fields["Name"].replace("-", "_") + "-" + fields["Version"] + ".dist-info"
    os.makedirs(os.path.join(metadata_directory, name))
    with open(os.path.join(metadata_directory, name, "METADATA"), "w", encoding="utf-8") as out:
        out.write("Metadata-Version: 2.1\\n")
        out.write("Name: %s\\nVersion: %s\\n" % (fields["Name"], fields["Version"]))
        for requirement in requires:
            out.write("Requires-Dist: %s\\n" % requirement)
    return name


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    raise RuntimeError("only metadata here")
"""

# A backend without the metadata hook: the metadata comes out of the wheel it builds.
WHEEL_ONLY_BACKEND = """\
import os
import zipfile


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    fields = {}
    for line in open("PKG-INFO", encoding="utf-8").read().splitlines():
        key, _, value = line.partition(": ")
        fields.setdefault(key, value)
    base = fields["Name"].replace("-", "_") + "-" + fields["Version"]
    wheel = base + "-py3-none-any.whl"
    metadata = "Metadata-Version: 2.1\\nName: %s\\nVersion: %s\\nRequires-Dist: bar\\n" % (
        fields["Name"], fields["Version"]
    )
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel), "w") as archive:
        archive.writestr(base + ".dist-info/METADATA", metadata)
        archive.writestr(base + ".dist-info/WHEEL", "Wheel-Version: 1.0\\nTag: py3-none-any\\n")
        archive.writestr(base + ".dist-info/RECORD", "")
    return wheel
"""

IN_TREE = """\
[build-system]
requires = []
build-backend = "backend"
backend-path = ["."]
"""

# Any index a build tool would reach for instead of the wheelhouse: nothing answers there.
NO_INDEX = "http://127.0.0.1:9/simple/"
OFFLINE_ENV = {"PIP_INDEX_URL": NO_INDEX, "UV_INDEX_URL": NO_INDEX, "UV_DEFAULT_INDEX": NO_INDEX}


def in_tree_sdist(name: str, requires: str = "", behaviour: str = "") -> BuiltDist:
    files = {"backend.py": BACKEND, "requires.txt": requires}
    if behaviour:
        files["behaviour.txt"] = behaviour
    return build_sdist(name, "1.0", dynamic=["Requires-Dist"], pyproject=IN_TREE, files=files)


@contextlib.contextmanager
def served(mirror: Mirror, index: FixtureIndex) -> Iterator[None]:
    with serve_in_thread(index) as url:
        mirror.add_index("one", url)
        yield


def test_an_in_tree_backend_builds_offline_and_resolve_uses_it(mirror: Mirror) -> None:
    index = FixtureIndex()
    index.add_project("foo").add(in_tree_sdist("foo", requires="bar>=1"))
    index.add_project("bar").add(build_wheel("bar", "1.0"))
    with served(mirror, index):
        summary = mirror.sync("foo", "--closure", env=OFFLINE_ENV)
    # The sdist once (its PEP 658 file said the build is needed); nothing else for the build.
    assert len(index.recorder.matching("/files/foo-1.0.tar.gz")) == 1
    assert {r.path for r in index.recorder.matching(prefix="/files/")} == {
        "/files/foo-1.0.tar.gz",
        "/files/foo-1.0.tar.gz.metadata",
        "/files/bar-1.0-py3-none-any.whl.metadata",
    }

    meta = metadata(mirror)["foo-1.0.tar.gz"]
    assert (meta.source, meta.requires_dist) == ("built", ["bar>=1"])
    assert summary["metadata"]["built"] == 1
    assert summary["metadata"]["build_failed"] == 0
    build = json.loads(mirror.scalar("SELECT build FROM snapshot_metadata WHERE source='built'"))
    assert build == {"backend": "backend", "requires": []}
    shown = mirror.json("snapshot", "show", "latest")
    assert shown["indexes"]["one"]["metadata built"] == 1

    # The servers are gone: the lock comes from the snapshot alone.
    locked = run_resolve(mirror, "foo")
    assert locked.exit_code == 0, locked.stderr
    assert "foo==1.0" in locked.stdout and "bar==1.0" in locked.stdout
    explained = run_resolve(mirror, "foo", "--explain", "foo")
    assert "metadata built by backend (no build requirements)" in explained.stdout


def test_without_the_metadata_hook_the_wheel_is_built_and_read(mirror: Mirror) -> None:
    index = FixtureIndex()
    sdist = build_sdist(
        "foo", "1.0", dynamic=["Requires-Dist"], pyproject=IN_TREE,
        files={"backend.py": WHEEL_ONLY_BACKEND},
    )  # fmt: skip
    index.add_project("foo").add(sdist)
    with served(mirror, index):
        summary = mirror.sync("foo", env=OFFLINE_ENV)
    meta = metadata(mirror)["foo-1.0.tar.gz"]
    assert (meta.source, meta.requires_dist) == ("built", ["bar"])
    assert summary["metadata"]["built"] == 1


def test_a_backend_from_the_index_is_resolved_fetched_and_installed_offline(
    mirror: Mirror,
) -> None:
    index = FixtureIndex()
    tinyback = build_wheel("tinyback", "1.0", files={"tinyback/__init__.py": BACKEND})
    index.add_project("tinyback").add(tinyback)
    pyproject = '[build-system]\nrequires = ["tinyback>=1"]\nbuild-backend = "tinyback"\n'
    sdist = build_sdist(
        "baz", "2.0", dynamic=["Requires-Dist"], pyproject=pyproject, files={"requires.txt": "qux"}
    )
    index.add_project("baz").add(sdist)
    with served(mirror, index):
        summary = mirror.sync("baz", env=OFFLINE_ENV)
    fetched = [r.path for r in index.recorder.matching(prefix="/files/") if r.method == "GET"]
    assert f"/files/{tinyback.filename}" in fetched

    meta = metadata(mirror)["baz-2.0.tar.gz"]
    assert (meta.source, meta.requires_dist) == ("built", ["qux"])
    assert summary["metadata"]["built"] == 1
    build = json.loads(mirror.scalar("SELECT build FROM snapshot_metadata WHERE source='built'"))
    assert build == {"backend": "tinyback", "requires": ["tinyback==1.0"]}
    # The build requirement's page and metadata are in the snapshot, like any project's.
    assert "tinyback-1.0-py3-none-any.whl" in metadata(mirror)


def test_a_failed_and_a_timed_out_build_are_reported_and_the_snapshot_completes(
    mirror: Mirror,
) -> None:
    index = FixtureIndex()
    index.add_project("bad").add(in_tree_sdist("bad", behaviour="fail"))
    index.add_project("slow").add(in_tree_sdist("slow", behaviour="sleep"))
    timeout = 3.0
    with served(mirror, index):
        started = time.monotonic()
        result = mirror.run("sync", "bad", "slow", "--build-timeout", str(timeout), "--json")
        elapsed = time.monotonic() - started
    assert elapsed < timeout + 60  # the hung backend was killed at its deadline
    summary = json.loads(result.stdout)
    assert summary["metadata"]["build_failed"] == 2
    assert summary["metadata"]["built"] == 0
    assert summary["metadata"]["needs_build"] == 2
    assert (
        "error: bad-1.0.tar.gz on one: metadata build failed: the backend's "
        "prepare_metadata_for_build_wheel exited with 1: RuntimeError: the backend refuses to "
        "build\n"
    ) in result.stderr
    assert (
        f"error: slow-1.0.tar.gz on one: metadata build failed: timed out after {timeout:g}s"
        in (result.stderr)
    )
    assert "hint: " in result.stderr

    assert mirror.scalar("SELECT state FROM snapshot") == "complete"
    rows = metadata(mirror)
    assert {rows[f].source for f in ("bad-1.0.tar.gz", "slow-1.0.tar.gz")} == {"needs-build"}
    assert mirror.scalar("SELECT count(*) FROM metadata") == 0
    assert mirror.scalar("SELECT count(*) FROM snapshot_metadata WHERE build IS NOT NULL") == 0
    mirror.run("db", "check")


def test_an_unbuildable_closure_exits_as_the_resolution_says(mirror: Mirror) -> None:
    """The only version is unavailable (SEMANTICS E12): the requirements have no solution."""
    index = FixtureIndex()
    index.add_project("bad").add(in_tree_sdist("bad", behaviour="fail"))
    with served(mirror, index):
        result = mirror.run("sync", "bad", "--closure", "--json", code=None)
    assert result.exit_code == 1, result.stderr
    assert "bad==1.0 is unavailable (metadata needs a build)" in result.stderr
    assert "error: bad-1.0.tar.gz on one: metadata build failed" in result.stderr
    assert mirror.scalar("SELECT state FROM snapshot") == "complete"


def test_no_build_records_that_a_build_is_needed(mirror: Mirror) -> None:
    index = FixtureIndex()
    index.add_project("foo").add(in_tree_sdist("foo"))
    with served(mirror, index):
        summary = mirror.sync("foo", "--no-build")
        meta = metadata(mirror)["foo-1.0.tar.gz"]
        assert (meta.source, meta.requires_dist) == ("needs-build", None)
        assert (summary["metadata"]["needs_build"], summary["metadata"]["built"]) == (1, 0)
        assert not index.recorder.matching("/files/foo-1.0.tar.gz")  # not even fetched

        refused = run_resolve(mirror, "foo")  # unavailable, with a hint (SEMANTICS E12)
        assert refused.exit_code == 1
        assert "hint: foo 1.0: only sdists whose metadata needs a build; `mirror sync` builds" in (
            refused.stderr
        )

        # A later sync that may build does: what could not be built before is tried again.
        summary = mirror.sync("foo")
    assert metadata(mirror)["foo-1.0.tar.gz"].source == "built"
    assert summary["metadata"]["built"] == 1
