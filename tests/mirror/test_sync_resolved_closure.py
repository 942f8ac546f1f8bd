"""`mirror sync --closure` resolves while it syncs (MIRROR.md, "Sync behaviour"): it fetches
the core metadata the solver asks for plus each project's newest release, looks ahead only a
little past the resolution, and reaches its fixed point in one run."""

from __future__ import annotations

import pytest

from tests.conftest import Mirror, Serve
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.mirror.synctools import pages

TARGET = ("--python-version", "3.12", "--python-platform", "linux")


def metadata_reads(index: FixtureIndex) -> set[str]:
    """The files whose core metadata the sync read (PEP 658 files here), by filename."""
    return {
        r.path.removeprefix("/files/").removesuffix(".metadata")
        for r in index.recorder.matching(prefix="/files/")
        if r.path.endswith(".metadata")
    }


@pytest.fixture
def index(mirror: Mirror, serve: Serve) -> FixtureIndex:
    """`app` needs `lib` and `tool`; `tool` needs `lib<2`, so the solver takes lib 1.5 and
    never looks at lib 1.0 or 2.0. `top` 3.0 needs a `mid` that does not exist, so the solver
    backtracks to `top` 2.0; only `top` 1.0 needs `legacy`, which is never reached."""
    index = FixtureIndex()
    make_project(index, "app", ["1.0", "2.0"], deps=["lib", "tool"])
    make_project(index, "tool", ["1.0"], deps=["lib<2"])
    make_project(index, "lib", ["1.0", "1.5", "2.0", "3.0"])
    make_project(
        index,
        "top",
        ["1.0", "2.0", "3.0"],
        deps={"1.0": ["legacy"], "2.0": ["lib"], "3.0": ["mid>=2"]},
    )
    make_project(index, "mid", ["1.0"])
    make_project(index, "legacy", ["1.0"])
    mirror.add_index("one", serve(index), "--default")
    return index


def test_fetches_what_the_resolution_needs_and_the_newest_releases(
    mirror: Mirror, index: FixtureIndex
) -> None:
    summary = mirror.sync("app", "top", "--closure", *TARGET)

    assert summary["closure"]["unresolved"] == {}
    assert metadata_reads(index) == {
        "app-2.0-py3-none-any.whl",  # newest, and chosen
        "tool-1.0-py3-none-any.whl",
        "lib-1.5-py3-none-any.whl",  # chosen
        "lib-3.0-py3-none-any.whl",  # newest (and the look-ahead's first guess)
        "top-3.0-py3-none-any.whl",  # newest, tried: needs mid>=2
        "top-2.0-py3-none-any.whl",  # chosen after backtracking
        "mid-1.0-py3-none-any.whl",  # newest (its page says no version fits)
    }
    # Projects only an untried release needs are never fetched.
    assert {p.project for p in pages(mirror)} == {"app", "tool", "lib", "top", "mid"}
    assert index.recorder.count("/simple/legacy/") == 0
    from tests.scenarios.harness import run_resolve

    outcome = run_resolve(mirror, "app", "top", *TARGET, "--format", "json")
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.pins == {"app": "2.0", "tool": "1.0", "lib": "1.5", "top": "2.0"}


def test_look_ahead_stays_within_a_bound(mirror: Mirror, serve: Serve) -> None:
    """Each requirement seen starts at most one read ahead of the solver (the version it
    would choose): here twenty projects of twenty releases each, all pinned low by `cap`, cost
    the chosen release, the newest, and nothing else."""
    index = FixtureIndex()
    names = [f"dep{n}" for n in range(20)]
    versions = [f"{n}.0" for n in range(1, 21)]
    make_project(index, "root", ["1.0"], deps=[*names, "cap"])
    make_project(index, "cap", ["1.0"], deps=[f"{name}<2" for name in names])
    for name in names:
        make_project(index, name, versions)
    mirror.add_index("one", serve(index), "--default")

    mirror.sync("root", "--closure", *TARGET)

    reads = metadata_reads(index)
    for name in names:
        assert {r for r in reads if r.startswith(f"{name}-")} == {
            f"{name}-1.0-py3-none-any.whl",
            f"{name}-20.0-py3-none-any.whl",
        }
    assert len(reads) == 2 + 2 * len(names)


def test_two_runs_one_digest(mirror: Mirror, index: FixtureIndex) -> None:
    """The first run reaches the fixed point: the same sync against the unchanged index
    makes a snapshot with the same content digest, and reads no core metadata."""
    first = mirror.sync("app", "top", "--closure", *TARGET)
    index.recorder.clear()

    second = mirror.sync("app", "top", "--closure", *TARGET)

    assert second["digest"] == first["digest"]
    assert metadata_reads(index) == set()
    assert second["metadata"]["fetched"] == 0
    # A fresh snapshot of the same run holds the same content as the cumulative one.
    third = mirror.sync("app", "top", "--closure", *TARGET, "--fresh")
    assert third["digest"] == first["digest"]


def test_fixed_point_without_a_target(mirror: Mirror, index: FixtureIndex) -> None:
    """With no target, Requires-Dist is followed under every environment besides: the
    second run still fetches nothing the first did not."""
    first = mirror.sync("app", "top", "--closure")
    index.recorder.clear()
    second = mirror.sync("app", "top", "--closure")
    assert second["digest"] == first["digest"]
    assert metadata_reads(index) == set()


def test_a_page_asked_ahead_but_never_needed_is_not_recorded(mirror: Mirror, serve: Serve) -> None:
    """The newest release's dependencies are asked for ahead of the solver; `ghost`, which
    only the newest `app` needs (the solver takes app 1.0), and `winonly`, needed on another
    platform only, stay out of the snapshot, and the second run's digest is the first's."""
    index = FixtureIndex()
    make_project(
        index,
        "app",
        ["1.0", "2.0"],
        deps={"1.0": ["lib"], "2.0": ["ghost", "winonly; sys_platform == 'win32'"]},
    )
    make_project(index, "lib", ["1.0"])
    make_project(index, "ghost", ["1.0"], deps=["lib"])
    make_project(index, "winonly", ["1.0"])
    mirror.add_index("one", serve(index), "--default")

    first = mirror.sync("app<2", "--closure", *TARGET)
    second = mirror.sync("app<2", "--closure", *TARGET)

    assert first["closure"]["unresolved"] == {}
    assert {p.project for p in pages(mirror)} == {"app", "lib"}
    assert index.recorder.count("/simple/ghost/") >= 1  # asked ahead, in the second run
    assert index.recorder.count("/simple/winonly/") == 0  # its marker holds on no target
    assert second["digest"] == first["digest"]
