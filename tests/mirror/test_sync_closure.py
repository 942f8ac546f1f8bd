"""`mirror sync --closure`: following Requires-Dist with extras, markers for the targets, and
exact pins (MIRROR.md, "Sync behaviour", What to fetch)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Mirror, Serve
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.mirror.synctools import metadata, pages


def synced_projects(mirror: Mirror) -> set[str]:
    return {p.project for p in pages(mirror)}


@pytest.fixture
def index(mirror: Mirror, serve: Serve) -> FixtureIndex:
    index = FixtureIndex()
    make_project(
        index,
        "app",
        ["1.0"],
        deps=[
            "lib[fast]>=1",
            "winonly; sys_platform == 'win32'",
            "linuxonly; sys_platform == 'linux' and python_version >= '3.10'",
            "oldpy; python_version < '3.9'",
            "docs-tool; extra == 'docs'",
            "pinned==1.0",
        ],
    )
    make_project(
        index, "lib", ["1.0"], deps=["base", "speedup; extra == 'fast'", "slow; extra == 'slow'"]
    )
    for name in ("base", "speedup", "slow", "winonly", "linuxonly", "oldpy", "docs-tool", "deep"):
        make_project(index, name, ["1.0"])
    # Newest of seven is 7.0; latest:5 alone would never fetch 1.0's metadata.
    make_project(
        index,
        "pinned",
        [f"{n}.0" for n in range(1, 8)],
        deps={"1.0": ["deep"], **{f"{n}.0": [] for n in range(2, 8)}},
    )
    mirror.add_index("one", serve(index))
    return index


def test_closure_without_targets_follows_every_environment(
    mirror: Mirror, index: FixtureIndex
) -> None:
    summary = mirror.sync("app", "--closure")

    assert summary["failures"] == []
    assert synced_projects(mirror) == {
        "app", "lib", "base", "speedup", "winonly", "linuxonly", "oldpy", "pinned", "deep",
    }  # fmt: skip


def test_closure_for_a_linux_target(mirror: Mirror, index: FixtureIndex) -> None:
    mirror.sync("app", "--closure", "--python-version", "3.12", "--python-platform", "linux")

    assert synced_projects(mirror) == {
        "app",
        "lib",
        "base",
        "speedup",
        "linuxonly",
        "pinned",
        "deep",
    }
    assert index.recorder.count("/simple/winonly/") == 0


def test_closure_for_an_old_python_on_windows(mirror: Mirror, index: FixtureIndex) -> None:
    mirror.sync("app", "--closure", "--python-version", "3.8", "--python-platform", "windows")

    assert synced_projects(mirror) == {
        "app",
        "lib",
        "base",
        "speedup",
        "winonly",
        "oldpy",
        "pinned",
        "deep",
    }


def test_extras_requested_on_the_command_line(mirror: Mirror, index: FixtureIndex) -> None:
    mirror.sync("app[docs]", "lib[slow]", "--closure", "--python-platform", "linux")

    assert {"docs-tool", "slow", "speedup"} <= synced_projects(mirror)


def test_without_closure_only_the_named_projects(mirror: Mirror, index: FixtureIndex) -> None:
    mirror.sync("app", "lib")

    assert synced_projects(mirror) == {"app", "lib"}


def test_an_exact_pin_fetches_that_versions_metadata(mirror: Mirror, index: FixtureIndex) -> None:
    mirror.sync("app", "--closure", "--python-platform", "linux")

    pinned = sorted(m.version or "" for m in metadata(mirror).values() if m.name == "pinned")
    assert pinned == ["1.0", "3.0", "4.0", "5.0", "6.0", "7.0"]
    assert index.recorder.count("/files/pinned-2.0-py3-none-any.whl.metadata") == 0
    assert "deep" in synced_projects(mirror)  # followed from 1.0's own Requires-Dist


@pytest.mark.parametrize("concurrency", ["1", "8"])
def test_a_pin_found_after_the_project_was_synced(
    mirror: Mirror, index: FixtureIndex, concurrency: str
) -> None:
    # "pinned" is named directly (latest:5) and reached later through app's ==1.0.
    mirror.sync("pinned", "app", "--closure", "--concurrency", concurrency)

    pinned = {m.version for m in metadata(mirror).values() if m.name == "pinned"}
    assert "1.0" in pinned and "deep" in synced_projects(mirror)
    assert index.recorder.count("/simple/pinned/") == 1


def test_requirement_files(mirror: Mirror, index: FixtureIndex, tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.in"
    requirements.write_text("# tools\nlib[slow]\n--index-url http://127.0.0.1:9/simple/\n")

    result = mirror.run("sync", "-r", str(requirements), "--closure")

    assert synced_projects(mirror) == {"lib", "base", "slow"}
    assert "requirements.in:3" in result.stderr and "ignored" in result.stderr
