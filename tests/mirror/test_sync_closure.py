"""`mirror sync --closure`: following Requires-Dist with extras, markers for the targets, and
exact pins (MIRROR.md, "Sync behaviour", What to fetch)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import BOTH_ENGINES, Mirror, Serve
from tests.db import assert_error
from tests.fixtures.dists import build_wheel
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.mirror.synctools import metadata, pages

pytestmark = BOTH_ENGINES


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
    # Newest of seven is 7.0; the newest releases alone would never fetch 1.0's metadata.
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

    # The pin's version, which the resolution needs, and the newest release: nothing between.
    pinned = sorted(m.version or "" for m in metadata(mirror).values() if m.name == "pinned")
    assert pinned == ["1.0", "7.0"]
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


def test_closure_check_fetches_what_backtracking_needs(mirror: Mirror, serve: Serve) -> None:
    """The newest five releases of `top` need `mid>=2`, which does not exist; the resolver
    backtracks to `top` 2.0, whose metadata `--versions latest:5` never fetched, and 2.0
    needs `legacy`, which no newest release mentions. The closure check finds both."""
    index = FixtureIndex()
    make_project(
        index,
        "top",
        [f"{n}.0" for n in range(1, 8)],
        deps={"1.0": [], "2.0": ["legacy"], **{f"{n}.0": ["mid>=2"] for n in range(3, 8)}},
    )
    make_project(index, "mid", ["1.0"])
    make_project(index, "legacy", ["1.0"])
    mirror.add_index("one", serve(index), "--default")
    target = ("--python-version", "3.12", "--python-platform", "linux")

    summary = mirror.sync("top", "--closure", *target)

    # The solver asks for each release it tries, newest first, and stops at 2.0: 1.0's
    # metadata is never read; 7.0's came with the page (the newest release).
    added = summary["closure"]["metadata_added"]
    assert added == ["top==2.0", "top==3.0", "top==4.0", "top==5.0", "top==6.0"]
    assert index.recorder.count(prefix="/files/top-1.0") == 0
    assert "legacy" in synced_projects(mirror)
    assert summary["closure"]["unresolved"] == {}
    from tests.scenarios.harness import run_resolve

    outcome = run_resolve(mirror, "top", *target, "--format", "json")
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.pins == {"top": "2.0", "legacy": "1.0"}


def test_closure_check_stops_at_a_failure_that_is_not_missing_data(
    mirror: Mirror, serve: Serve
) -> None:
    index = FixtureIndex()
    make_project(index, "top", ["1.0"], deps=["mid>=2"])
    make_project(index, "mid", ["1.0"])
    mirror.add_index("one", serve(index), "--default")

    summary = mirror.sync("top", "--closure", "--python-version", "3.12", code=1)

    closure = summary["closure"]
    assert closure["metadata_added"] == []
    assert closure["rounds"] == 1
    (failure,) = closure["unresolved"].values()
    assert "mid" in failure
    # The snapshot is complete all the same, and the text says why the exit is 1.
    assert mirror.scalar("SELECT state FROM snapshot") == "complete"
    result = mirror.run("sync", "top", "--closure", "--python-version", "3.12", code=1)
    block = assert_error(result, 1, "the requirements have no solution for 1 target(s)", "mid")
    assert "hint: `resolve` with the same requirements" in result.stderr and block


def test_metadata_an_index_failed_to_give_is_missing_not_invalid(
    mirror: Mirror, serve: Serve
) -> None:
    """A 503 on a file read for its metadata says nothing of the metadata: the sync fails
    (exit 3, retried next time) and `resolve` stops with exit 4 instead of resolving past the
    version as if it were unusable."""
    index = FixtureIndex()
    make_project(index, "top", ["1.0"], deps=["mid"])
    index.add_project("mid").add(build_wheel("mid", "1.0"), metadata_status=503, fail_next=1000)
    mirror.add_index("one", serve(index), "--default")
    target = ("--python-version", "3.12", "--python-platform", "linux")

    summary = mirror.sync("top", "--closure", *target, code=3)
    assert any("mid-1.0-py3-none-any.whl on one: metadata:" in f for f in summary["failures"])
    from tests.scenarios.harness import run_resolve

    outcome = run_resolve(mirror, "top", *target)
    assert outcome.exit_code == 4, outcome.stderr
    assert "mid" in outcome.stderr and "mirror sync" in outcome.stderr

    # The index recovers; the same sync fetches it again, and the resolve works.
    index.projects["mid"].files[0].fail_next = 0
    index.projects["mid"].files[0].metadata_status = None
    mirror.sync("top", "--closure", *target)
    assert run_resolve(mirror, "top", *target).exit_code == 0


def test_exact_pins_beside_a_requirement_name_metadata_not_a_resolution(
    mirror: Mirror, serve: Serve
) -> None:
    """`resolve`'s hint asks for versions' metadata as `old<3 old==1.0 old==2.0`: the sync
    fetches them and resolves `old<3`, not the three at once (which nothing satisfies)."""
    index = FixtureIndex()
    make_project(index, "old", ["1.0", "2.0", "3.0"])
    mirror.add_index("one", serve(index), "--default")
    summary = mirror.sync("old<3", "old==1.0", "old==2.0", "--closure", "--python-version", "3.12")
    assert summary["closure"]["unresolved"] == {}
    known = {m.filename for m in metadata(mirror).values()}
    assert {"old-1.0-py3-none-any.whl", "old-2.0-py3-none-any.whl"} <= known
    # Exact pins alone, several of one project: they stand for the project.
    mirror.sync("old==1.0", "old==2.0", "--closure", "--python-version", "3.12")
