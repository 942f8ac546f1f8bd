"""Cumulative snapshots (MIRROR.md, "Sync behaviour"): a sync starts from the newest complete
snapshot, refreshes what it names and carries every other project over unchanged — the same
page rows and core metadata links, nothing fetched; `--fresh` holds exactly what it names."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import BOTH_ENGINES, Mirror, Serve
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.mirror.synctools import metadata, pages
from tests.mirror.test_sync_resume import COMMIT_EACH_RECORD, mirror_process
from tests.resolve.endtoend import resolved

pytestmark = BOTH_ENGINES


def projects(mirror: Mirror, snapshot: str | None = None) -> set[str]:
    return {p.project for p in pages(mirror, snapshot)}


def page_ids(mirror: Mirror, snapshot: str) -> dict[tuple[str, str], int]:
    return {(p.index, p.project): p.id for p in pages(mirror, snapshot)}


def changes(mirror: Mirror, old: str, new: str) -> dict[str, list[str]]:
    """The non-empty sections of `mirror snapshot diff OLD NEW --json`."""
    diff: dict[str, list[str]] = mirror.json("snapshot", "diff", old, new)
    return {key: items for key, items in diff.items() if items}


@pytest.fixture
def index(mirror: Mirror, serve: Serve) -> FixtureIndex:
    index = FixtureIndex()
    make_project(index, "a", ["1.0"], deps=["b"])
    make_project(index, "b", ["1.0", "2.0"])
    make_project(index, "c", ["1.0"])
    mirror.add_index("one", serve(index))
    return index


def test_a_sync_of_one_project_keeps_the_others(mirror: Mirror, index: FixtureIndex) -> None:
    mirror.sync("a", "b", "--name", "base")
    index.recorder.clear()

    summary = mirror.sync("c", "--name", "next")

    assert projects(mirror, "next") == {"a", "b", "c"}
    assert mirror.json("snapshot", "show", "latest")["name"] == "next"
    # Carried over, not fetched: neither their pages nor their core metadata were asked for,
    # and the new snapshot links the very page rows and metadata links the base has.
    assert [r.path for r in index.recorder.matching()] == [
        "/simple/c/",
        "/files/c-1.0-py3-none-any.whl.metadata",
    ]
    base_ids = page_ids(mirror, "base")
    assert {k: v for k, v in page_ids(mirror, "next").items() if k[1] != "c"} == base_ids
    assert mirror.scalar("SELECT count(*) FROM page") == 3
    carried_meta = {k: m for k, m in metadata(mirror, "next").items() if not k.startswith("c-")}
    assert carried_meta == metadata(mirror, "base")
    assert summary["projects"] == 1
    assert summary["carried"] == {
        "base": "base",
        "projects": 2,
        "pages": 2,
        "metadata": 3,
        "removed_indexes": {},
    }
    assert mirror.json("snapshot", "show", "next")["summary"]["carried"] == summary["carried"]
    # `resolve` against latest finds what an earlier sync brought as well as the new project.
    lock = resolved(mirror, "a", "c")
    assert {"a==1.0", "b==2.0", "c==1.0"} <= {line.split()[0] for line in lock.splitlines()}
    # The diff from the base shows only what the run changed.
    assert changes(mirror, "base", "next") == {
        "projects_added": ["c (one)"],
        "files_added": ["c-1.0-py3-none-any.whl (one)"],
        "versions_added": ["c 1.0 (one)"],
    }


def test_the_text_summary_says_what_was_carried(mirror: Mirror, index: FixtureIndex) -> None:
    mirror.sync("a", "b", "--name", "base")

    result = mirror.run("sync", "c")

    assert "1 projects fetched, 2 carried over from base;" in result.stderr


def test_fresh_holds_exactly_what_the_run_names(mirror: Mirror, index: FixtureIndex) -> None:
    mirror.sync("a", "b", "--name", "base")

    summary = mirror.sync("c", "--fresh", "--name", "fresh")

    assert projects(mirror, "fresh") == {"c"}
    assert summary["carried"]["base"] is None and summary["carried"]["projects"] == 0
    assert "carried" not in mirror.run("sync", "c", "--fresh").stderr


def test_a_refreshed_project_is_fetched_again_and_the_rest_carried(
    mirror: Mirror, index: FixtureIndex
) -> None:
    mirror.sync("a", "b", "--name", "base")
    make_project(index, "a", ["1.0", "1.1"], deps=["b"])
    index.recorder.clear()

    summary = mirror.sync("a", "--name", "next")

    assert index.recorder.count("/simple/a/") == 1 and index.recorder.count("/simple/b/") == 0
    assert summary["pages"]["fetched"] == 1 and summary["carried"]["projects"] == 1
    ids = page_ids(mirror, "next")
    assert ids[("one", "b")] == page_ids(mirror, "base")[("one", "b")]
    assert ids[("one", "a")] != page_ids(mirror, "base")[("one", "a")]
    assert changes(mirror, "base", "next") == {
        "files_added": ["a-1.1-py3-none-any.whl (one)"],
        "versions_added": ["a 1.1 (one)"],
    }


def test_a_closure_sync_refreshes_what_it_reaches(mirror: Mirror, index: FixtureIndex) -> None:
    mirror.sync("b", "c", "--name", "base")
    make_project(index, "b", ["1.0", "2.0", "3.0"])
    index.recorder.clear()

    summary = mirror.sync("a", "--closure", "--name", "next")

    # b is reached through a's Requires-Dist: fetched again, never taken from the base; c is
    # not reached and is carried.
    assert index.recorder.count("/simple/b/") == 1 and index.recorder.count("/simple/c/") == 0
    assert summary["projects"] == 2 and summary["carried"]["projects"] == 1
    assert changes(mirror, "base", "next")["versions_added"] == ["a 1.0 (one)", "b 3.0 (one)"]


def test_an_unchanged_resync_of_a_subset_has_the_base_digest(
    mirror: Mirror, index: FixtureIndex
) -> None:
    base = mirror.sync("a", "b", "--name", "base")

    again = mirror.sync("a", "--name", "again")

    assert again["pages"]["not_modified"] == 1 and again["carried"]["projects"] == 1
    assert again["digest"] == base["digest"]
    assert changes(mirror, "base", "again") == {}


def test_pages_of_a_removed_index_are_not_carried(mirror: Mirror, serve: Serve) -> None:
    one, two = FixtureIndex(), FixtureIndex()
    for index in (one, two):
        make_project(index, "a", ["1.0"])
        make_project(index, "b", ["1.0"])
    make_project(one, "c", ["1.0"])
    mirror.add_index("one", serve(one))
    mirror.add_index("two", serve(two))
    mirror.sync("a", "b", "--name", "base")
    mirror.run("index", "remove", "two")

    summary = mirror.sync("c", "--name", "next")

    assert {(p.index, p.project) for p in pages(mirror, "next")} == {
        ("one", "a"),
        ("one", "b"),
        ("one", "c"),
    }
    assert {m.index for m in metadata(mirror, "next").values()} == {"one"}
    assert summary["carried"]["pages"] == 2
    assert summary["carried"]["removed_indexes"] == {"two": 2}
    assert changes(mirror, "base", "next")["projects_removed"] == ["a (two)", "b (two)"]
    result = mirror.run("sync", "c")
    assert "not carried over from next" not in result.stderr  # nothing of two is left to drop


def test_the_text_summary_names_a_removed_index(mirror: Mirror, serve: Serve) -> None:
    one, two = FixtureIndex(), FixtureIndex()
    for index in (one, two):
        make_project(index, "a", ["1.0"])
    mirror.add_index("one", serve(one))
    mirror.add_index("two", serve(two))
    mirror.sync("a", "--name", "base")
    mirror.run("index", "remove", "two")

    result = mirror.run("sync", "b")

    assert "not carried over from base: 1 page(s) of index two" in result.stderr


@pytest.mark.slow
def test_an_interrupted_cumulative_sync_resumes_to_the_same_digest(
    mirror: Mirror, serve: Serve, tmp_path: Path
) -> None:
    index = FixtureIndex()
    later = [f"p{n}" for n in range(4)]
    for name in ["a", "b", *later]:
        make_project(index, name, ["1.0"])
    url = serve(index)
    mirror.add_index("one", url)
    mirror.sync("a", "b", "--name", "base")
    command = ("sync", *later, "--concurrency", "1", "--name", "after", "--quiet")

    # Killed when the third page is asked for: two projects are stored, nothing is carried.
    index.stall_pages_after = 2
    process = mirror_process(mirror, *command, program=COMMIT_EACH_RECORD)
    try:
        assert index.stalled.wait(timeout=60), "the sync never reached the third page"
    finally:
        process.kill()
        process.wait()
    assert projects(mirror, "after") == {"p0", "p1"}
    index.stall_pages_after = None
    index.unstall.set()
    resumed = mirror_process(mirror, *command)
    _, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err.decode()
    after = mirror.json("snapshot", "show", "after")
    assert projects(mirror, "after") == {"a", "b", *later}
    assert after["summary"]["carried"]["projects"] == 2

    # The same two syncs, uninterrupted, in another database on the same index.
    other = Mirror(tmp_path / "other.db", mirror.env)
    other.add_index("one", url)
    other.sync("a", "b")
    assert other.sync(*later)["digest"] == after["digest"]
