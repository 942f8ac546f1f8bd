"""What a sync costs the indexes (MIRROR.md, "Sync behaviour"): a page whose body is the stored
one is not parsed again, the summary counts requests and bytes per index as the servers saw
them, and one index is reached over a few kept-alive connections."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from mirror.http.client import ClientConfig
from tests.conftest import BOTH_ENGINES, Mirror, Serve
from tests.fixtures.dists import build_wheel
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.mirror.synctools import files, page, pages

pytestmark = BOTH_ENGINES

PROJECTS = [f"p{n}" for n in range(6)]


def count(mirror: Mirror, table: str) -> int:
    return int(mirror.scalar(f'SELECT count(*) FROM "{table}"'))


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real retry loop, with backoff delays of about a millisecond."""
    fast = functools.partial(ClientConfig, backoff_base=0.001, backoff_cap=0.001)
    monkeypatch.setattr("mirror.cli.common.ClientConfig", fast)


def test_the_same_body_without_caching_headers_is_not_parsed_again(
    mirror: Mirror, serve: Serve
) -> None:
    index = FixtureIndex()  # gzipped pages: the decoded body is what is compared
    for name in PROJECTS:
        # No ETag, no Last-Modified: a 304 can never come, as on most mirrors and CDNs.
        make_project(index, name, ["1.0"], etag=False, format="html" if name == "p0" else "json")
    make_project(index, "login", etag=False, format="login")  # a failed page is parsed again
    mirror.add_index("one", serve(index))
    mirror.sync(*PROJECTS, "login", "--name", "s1", code=3)
    rows = (count(mirror, "page"), count(mirror, "file"), count(mirror, "blob"))
    index.recorder.clear()

    summary = mirror.sync(*PROJECTS, "login", "--name", "s2", code=3)

    asked = index.recorder.matching(prefix="/simple/")
    assert sorted(r.status for r in asked) == [200] * (len(PROJECTS) + 1)
    assert not any("if-none-match" in r.headers or "if-modified-since" in r.headers for r in asked)
    expected = {"fetched": 0, "unchanged": len(PROJECTS), "not_modified": 0, "failed": 1}
    assert {k: summary["pages"][k] for k in expected} == expected
    assert {k: summary["indexes"]["one"]["pages"][k] for k in expected} == expected
    assert {p.project: p.id for p in pages(mirror, "s2")} == {
        p.project: p.id for p in pages(mirror, "s1")
    }
    assert (count(mirror, "page"), count(mirror, "file"), count(mirror, "blob")) == rows
    assert index.recorder.count(prefix="/files/") == 0  # the metadata is carried over

    # A changed body is parsed again; the others are still the stored pages.
    index.project("p1").add(build_wheel("p1", "2.0"))
    index.recorder.clear()
    summary = mirror.sync(*PROJECTS, "--name", "s3")

    assert (summary["pages"]["fetched"], summary["pages"]["unchanged"]) == (1, len(PROJECTS) - 1)
    assert [f.version for f in files(mirror, "one", "p1", "s3")] == ["1.0", "2.0"]
    assert page(mirror, "one", "p1", "s3").id != page(mirror, "one", "p1", "s1").id
    assert page(mirror, "one", "p2", "s3").id == page(mirror, "one", "p2", "s1").id


def test_a_flat_listing_sent_again_is_not_parsed_again(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    listed = [*make_project(index, "foo").files, *make_project(index, "bar").files]
    anchors = "".join(f'<a href="/files/{e.filename}">x</a>' for e in listed)
    make_project(index, "links", raw_body=anchors.encode(), etag=False)
    mirror.add_index("links", serve(index) + "links/", "--flat")
    mirror.sync("foo", "bar", "nope", "--name", "s1")

    summary = mirror.sync("foo", "bar", "nope", "--name", "s2")

    # foo and bar are the stored pages; "nope" was not in the listing (404) and is asked again.
    assert (summary["pages"]["unchanged"], summary["pages"]["fetched"]) == (2, 1)
    assert page(mirror, "links", "bar", "s2").id == page(mirror, "links", "bar", "s1").id


def test_a_local_directory_read_again_is_not_parsed_again(mirror: Mirror, tmp_path: Path) -> None:
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    first = build_wheel("foo", "1.0")
    (wheelhouse / first.filename).write_bytes(first.data)
    mirror.add_index("disk", str(wheelhouse), "--flat")
    mirror.sync("foo", "--name", "s1")

    assert mirror.sync("foo", "--name", "s2")["pages"]["unchanged"] == 1

    newer = build_wheel("foo", "2.0")
    (wheelhouse / newer.filename).write_bytes(newer.data)
    assert mirror.sync("foo", "--name", "s3")["pages"]["fetched"] == 1
    assert [f.version for f in files(mirror, "disk", "foo", "s3")] == ["1.0", "2.0"]


def test_requests_and_bytes_per_index_are_what_each_index_answered(
    mirror: Mirror, serve: Serve, fast_retries: None
) -> None:
    # Uncompressed pages: the summary counts decoded bytes, the server the bytes it sent.
    first, second = FixtureIndex(compress=False), FixtureIndex(compress=False)
    make_project(first, "foo", ["1.0", "2.0"])  # PEP 658 metadata files
    make_project(first, "bar", ["1.0"]).files[0].core_metadata = False  # range reads
    make_project(first, "baz", ["1.0"], fail_next=1)  # a 503, then the page: two requests
    make_project(second, "foo", ["1.0"])
    make_project(second, "qux", ["1.0"])
    mirror.add_index("first", serve(first))
    mirror.add_index("second", serve(second))
    # The second index's files are on another host (a CDN): still that index's requests.
    cdn = serve(second).removesuffix("/simple/")
    second.files_base_url = cdn
    first.recorder.clear()
    second.recorder.clear()

    summary = mirror.sync("foo", "bar", "baz", "qux")

    assert [r.status for r in first.recorder.matching("/simple/baz/")] == [503, 200]
    assert any(r.range for r in first.recorder.matching(prefix="/files/"))
    cdn_host = cdn.removeprefix("http://")
    assert any(r.headers["host"] == cdn_host for r in second.recorder.matching(prefix="/files/"))
    for name, index in (("first", first), ("second", second)):
        served = index.recorder.requests
        assert summary["indexes"][name]["requests"] == len(served), name
        assert summary["indexes"][name]["bytes"] == sum(r.body_bytes for r in served), name
    # Four pages asked of each (a 404 is a page fetched: "not here" is data).
    assert [summary["indexes"][name]["pages"]["fetched"] for name in ("first", "second")] == [4, 4]
    assert summary["indexes"]["first"]["requests"] > 4 + 1  # pages, a retry, metadata files


def test_one_index_is_reached_over_at_most_concurrency_connections(
    mirror: Mirror, serve: Serve
) -> None:
    index = FixtureIndex()
    names = [f"p{n}" for n in range(30)]
    for name in names:
        make_project(index, name, ["1.0"])
    mirror.add_index("one", serve(index))
    index.recorder.clear()

    mirror.sync(*names, "--concurrency", "3")

    served = index.recorder.requests
    assert len(served) >= 2 * len(names)  # every page and every metadata file
    # Keep-alive: the session's one connector hands each request a connection it already has.
    ports = {r.peer_port for r in served}
    assert None not in ports and len(ports) <= 3


def test_a_typical_wheel_costs_one_suffix_range_of_the_tail(mirror: Mirror, serve: Serve) -> None:
    # A pure-Python wheel of a few hundred KiB, with no PEP 658 file: its central directory
    # and its .dist-info (written last) lie in the last 16 KiB, so one suffix range (RFC 9110
    # §14.1.2) reads them, no HEAD first (the page gave the size) and no second read.
    index = FixtureIndex()
    wheel = make_project(index, "typical", ["1.0"], padding=300 * 1024, deps=["six"]).files[0]
    wheel.core_metadata = False
    mirror.add_index("one", serve(index))
    index.recorder.clear()

    summary = mirror.sync("typical")

    served = index.recorder.matching(prefix="/files/")
    assert [(r.method, r.range, r.status) for r in served] == [("GET", "bytes=-16384", 206)]
    assert sum(r.body_bytes for r in served) == 16 * 1024
    assert summary["metadata"]["fetched"] == 1


def test_a_wheel_whose_directory_outgrows_the_tail_reads_only_what_it_lacks(
    mirror: Mirror, serve: Serve
) -> None:
    # Many members: the central directory starts before the tail, so only its missing head is
    # asked for, then METADATA (before the long RECORD) by one more range; never the rest.
    index = FixtureIndex()
    members = {f"big/module_{n:04}.py": "" for n in range(400)}
    project = index.add_project("big")
    project.add(build_wheel("big", "1.0", files=members), core_metadata=False)
    mirror.add_index("one", serve(index))
    index.recorder.clear()

    mirror.sync("big")

    served = index.recorder.matching(prefix="/files/")
    size = len(project.files[0].dist.data)
    assert [r.method for r in served] == ["GET"] * 3
    assert served[0].range == "bytes=-16384"
    assert served[1].range is not None and served[1].range.endswith(f"-{size - 16384 - 1}")
    metadata = len(project.files[0].dist.metadata)  # stored: compressed size is at most this
    assert served[2].body_bytes < 30 + 100 + metadata + 1024  # header, name, data, slack
    assert sum(r.body_bytes for r in served) < size
