"""Syncs after the first (MIRROR.md, "Incremental" and "History"): conditional requests and
304s, content-addressed pages, stale serials, and snapshots that keep what each sync saw."""

from __future__ import annotations

from typing import Any

from tests.conftest import BOTH_ENGINES, Mirror, Serve
from tests.fixtures.dists import build_wheel
from tests.fixtures.index_server import FixtureIndex, FixtureProject, make_project
from tests.mirror.synctools import files, metadata, page, pages

pytestmark = BOTH_ENGINES


def setup(mirror: Mirror, serve: Serve, index: FixtureIndex) -> None:
    mirror.add_index("one", serve(index))


def count(mirror: Mirror, table: str) -> int:
    return int(mirror.scalar(f'SELECT count(*) FROM "{table}"'))


def file_rows(mirror: Mirror) -> list[tuple[Any, ...]]:
    return mirror.sql("SELECT * FROM file ORDER BY id")


def changes(mirror: Mirror, old: str, new: str) -> dict[str, list[str]]:
    """The non-empty sections of `mirror snapshot diff OLD NEW --json`."""
    diff: dict[str, list[str]] = mirror.json("snapshot", "diff", old, new)
    return {key: items for key, items in diff.items() if items}


def test_304_reuses_the_stored_page(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    make_project(index, "foo", ["1.0", "2.0"])
    make_project(index, "bar", ["1.0"], etag=False, last_modified="Mon, 01 Jan 2024 00:00:00 GMT")
    setup(mirror, serve, index)
    mirror.sync("foo", "bar", "--name", "s1")
    first = {p.project: p.id for p in pages(mirror, "s1")}
    etag = index.recorder.matching("/simple/foo/")[0].response_headers["etag"]
    before = (count(mirror, "page"), count(mirror, "file"), count(mirror, "blob"))
    index.recorder.clear()

    summary = mirror.sync("foo", "bar", "--name", "s2")

    assert summary["pages"]["not_modified"] == 2 and summary["pages"]["fetched"] == 0
    (foo_request,) = index.recorder.matching("/simple/foo/")
    assert foo_request.headers["if-none-match"] == etag and foo_request.status == 304
    (bar_request,) = index.recorder.matching("/simple/bar/")
    assert bar_request.headers["if-modified-since"] == "Mon, 01 Jan 2024 00:00:00 GMT"
    assert bar_request.status == 304
    assert {p.project: p.id for p in pages(mirror, "s2")} == first
    assert (count(mirror, "page"), count(mirror, "file"), count(mirror, "blob")) == before
    # Core metadata is carried over, not fetched again.
    assert index.recorder.count(prefix="/files/") == 0
    assert summary["metadata"]["already_known"] == 3 and summary["metadata"]["fetched"] == 0
    assert metadata(mirror, "s2") == metadata(mirror, "s1")
    s1, s2 = (mirror.json("snapshot", "show", name) for name in ("s1", "s2"))
    assert s1["digest"] == s2["digest"]  # the same content gives the same digest


def test_same_body_with_a_new_etag_adds_no_page(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    project = make_project(index, "foo", ["1.0"])
    setup(mirror, serve, index)
    mirror.sync("foo", "--name", "s1")
    pages_before = count(mirror, "page")
    project.etag_salt = "rotated"  # the CDN node computes ETags differently
    index.recorder.clear()

    summary = mirror.sync("foo", "--name", "s2")

    assert [r.status for r in index.recorder.matching("/simple/foo/")] == [200]
    assert summary["pages"]["unchanged"] == 1 and summary["pages"]["fetched"] == 0
    assert count(mirror, "page") == pages_before
    assert page(mirror, "one", "foo", "s2").id == page(mirror, "one", "foo", "s1").id
    assert index.recorder.count(prefix="/files/") == 0
    # The new ETag is what the next sync sends.
    index.recorder.clear()
    assert mirror.sync("foo", "--name", "s3")["pages"]["not_modified"] == 1


def test_a_serial_regression_keeps_the_old_page(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    project = make_project(index, "foo", ["1.0"], last_serial=10)
    setup(mirror, serve, index)
    mirror.sync("foo", "--name", "s1")
    # A lagging CDN node: an older serial, and a page that differs (it lacks a later upload).
    project.last_serial = 9
    project.add(build_wheel("foo", "0.9"))

    summary = mirror.sync("foo", "--name", "s2")

    assert summary["pages"]["stale"] == 1
    assert any("foo on one" in w and "serial" in w for w in summary["warnings"])
    assert page(mirror, "one", "foo", "s2").id == page(mirror, "one", "foo", "s1").id
    assert page(mirror, "one", "foo", "s2").serial == 10
    assert [f.version for f in files(mirror, "one", "foo", "s2")] == ["1.0"]
    assert index.recorder.count("/files/foo-0.9-py3-none-any.whl.metadata") == 0


def test_a_stale_page_that_catches_up_on_retry_is_stored_with_its_metadata(
    mirror: Mirror, serve: Serve
) -> None:
    index = FixtureIndex()
    project = make_project(index, "foo", ["1.0"], deps=["bar"], last_serial=10)
    make_project(index, "bar", ["1.0"])
    make_project(index, "baz", ["1.0"])
    setup(mirror, serve, index)
    mirror.sync("foo", "--closure", "--name", "s1")
    project.last_serial = 9  # the first answer of the next sync comes from a lagging node
    answered: list[int] = []

    def catch_up_before_the_retry(project: FixtureProject) -> None:
        answered.append(1)
        if len(answered) == 2:
            project.last_serial = 11
            project.add(build_wheel("foo", "2.0", requires_dist=["baz"]))

    project.on_request = catch_up_before_the_retry

    summary = mirror.sync("foo", "--closure", "--name", "s2")

    assert summary["pages"]["stale"] == 0
    assert page(mirror, "one", "foo", "s2").serial == 11
    assert [f.version for f in files(mirror, "one", "foo", "s2")] == ["1.0", "2.0"]
    # The fresh page's new release has its metadata, and its dependencies are followed.
    assert metadata(mirror, "s2")["foo-2.0-py3-none-any.whl"].source == "pep658"
    assert {p.project for p in pages(mirror, "s2")} == {"foo", "bar", "baz"}


def test_a_stale_page_whose_retry_fails_keeps_the_old_page(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    project = make_project(index, "foo", ["1.0"], last_serial=10)
    setup(mirror, serve, index)
    mirror.sync("foo", "--name", "s1")
    project.last_serial = 9
    answered: list[int] = []

    def fail_the_retry(project: FixtureProject) -> None:
        answered.append(1)
        if len(answered) == 2:
            project.status, project.retry_after = 503, "0"

    project.on_request = fail_the_retry

    summary = mirror.sync("foo", "--name", "s2")

    assert index.recorder.matching("/simple/foo/")[-1].status == 503
    assert summary["pages"]["stale"] == 1 and summary["failures"] == []
    assert any("foo on one" in w and "serial" in w for w in summary["warnings"])
    kept = page(mirror, "one", "foo", "s2")
    assert (kept.id, kept.error) == (page(mirror, "one", "foo", "s1").id, None)


def test_yank_unyank_delete_and_new_versions_across_snapshots(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    project = make_project(index, "foo", ["1.0", "2.0"], sdist=True)
    setup(mirror, serve, index)
    mirror.sync("foo", "--name", "s1")
    s1_files = file_rows(mirror)
    s1_pages = [p.id for p in pages(mirror, "s1")]

    project.file("foo-1.0-py3-none-any.whl").yanked = "broken"
    mirror.sync("foo", "--name", "s2")
    project.file("foo-1.0-py3-none-any.whl").yanked = False
    project.remove("foo-2.0.tar.gz")
    project.add(build_wheel("foo", "3.0"))
    mirror.sync("foo", "--name", "s3")

    first, second = (changes(mirror, a, b) for a, b in (("s1", "s2"), ("s2", "s3")))
    assert first == {"yanked": ["foo-1.0-py3-none-any.whl (one)"]}
    assert second == {
        "versions_added": ["foo 3.0 (one)"],
        "files_added": ["foo-3.0-py3-none-any.whl (one)"],
        "files_removed": ["foo-2.0.tar.gz (one)"],
        "unyanked": ["foo-1.0-py3-none-any.whl (one)"],
    }
    # Earlier snapshots are never rewritten: s1's page and every row it lists are as they were.
    assert [p.id for p in pages(mirror, "s1")] == s1_pages
    assert file_rows(mirror)[: len(s1_files)] == s1_files
    assert [(f.filename, f.yanked) for f in files(mirror, "one", "foo", "s1")] == [
        ("foo-1.0-py3-none-any.whl", False),
        ("foo-1.0.tar.gz", False),
        ("foo-2.0-py3-none-any.whl", False),
        ("foo-2.0.tar.gz", False),
    ]
    yanked = {f.filename: f.yanked_reason for f in files(mirror, "one", "foo", "s2") if f.yanked}
    assert yanked == {"foo-1.0-py3-none-any.whl": "broken"}
    # s3 lists the unyanked file again: the same state as s1 for that file, a new page overall.
    assert len({p.id for name in ("s1", "s2", "s3") for p in pages(mirror, name)}) == 3


def test_project_status_is_kept_per_snapshot(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    project = make_project(index, "foo", ["1.0"])
    setup(mirror, serve, index)
    mirror.sync("foo", "--name", "s1")
    project.project_status, project.project_status_reason = "quarantined", "under review"
    mirror.sync("foo", "--name", "s2")
    project.project_status, project.project_status_reason = None, None

    mirror.sync("foo", "--name", "s3")

    statuses = [page(mirror, "one", "foo", s).project_status for s in ("s1", "s2", "s3")]
    assert statuses == [None, "quarantined", None]
    assert page(mirror, "one", "foo", "s2").project_status_reason == "under review"
    assert page(mirror, "one", "foo", "s3").id == page(mirror, "one", "foo", "s1").id


def test_a_page_that_failed_is_fetched_again_without_conditions(
    mirror: Mirror, serve: Serve
) -> None:
    index = FixtureIndex()
    project = make_project(index, "foo", ["1.0"], status=503, retry_after="0")
    setup(mirror, serve, index)
    mirror.sync("foo", "--name", "s1", code=3)
    project.status = None
    index.recorder.clear()

    summary = mirror.sync("foo", "--name", "s2")

    (request,) = index.recorder.matching("/simple/foo/")
    assert "if-none-match" not in request.headers and request.status == 200
    assert summary["pages"]["fetched"] == 1
    assert page(mirror, "one", "foo", "s2").error is None
    assert page(mirror, "one", "foo", "s1").error  # s1 still says what s1 saw
