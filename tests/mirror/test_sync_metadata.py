"""Core metadata through `mirror sync` (MIRROR.md, "Core metadata"): PEP 658/714 files checked
and distrusted when wrong, ranged wheel reads, whole downloads from servers that ignore Range,
static and dynamic sdists. Each test reads back how the snapshot obtained the metadata."""

from __future__ import annotations

import hashlib

import pytest

from tests.conftest import BOTH_ENGINES, Mirror, Serve
from tests.fixtures.dists import build_metadata, build_sdist, build_wheel
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.mirror.synctools import files, metadata

pytestmark = BOTH_ENGINES

WHEEL = "foo-1.0-py3-none-any.whl"


def synced(mirror: Mirror, serve: Serve, index: FixtureIndex, *projects: str) -> dict[str, object]:
    mirror.add_index("one", serve(index))
    return mirror.sync(*(projects or ("foo",)))


def wheel_requests(index: FixtureIndex, filename: str = WHEEL) -> list[tuple[str, str | None]]:
    return [(r.method, r.range) for r in index.recorder.matching(f"/files/{filename}")]


def span(content_range: str) -> tuple[int, int]:
    """``bytes a-b/n`` → the slice bounds of the bytes a 206 carried."""
    first, _, last = content_range.removeprefix("bytes ").partition("/")[0].partition("-")
    return int(first), int(last) + 1


def test_pep658_metadata_with_a_matching_hash(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    make_project(index, "foo", ["1.0"], deps=["bar>=1", "baz; extra == 'x'"])

    summary = synced(mirror, serve, index)

    meta = metadata(mirror)[WHEEL]
    assert (meta.source, meta.error, meta.name, meta.version) == ("pep658", None, "foo", "1.0")
    assert meta.requires_dist == ["bar>=1", "baz; extra == 'x'"]
    assert index.recorder.count(f"/files/{WHEEL}.metadata") == 1
    assert wheel_requests(index) == []  # the wheel itself is never touched
    assert summary["metadata"] == {
        "already_known": 0,
        "failed": 0,
        "fetched": 1,
        "needs_build": 0,
        "built": 0,
        "build_failed": 0,
    }


@pytest.mark.parametrize(
    "problem",
    ["hash mismatch", "wrong dist", "wrong version", "missing file"],
)
def test_untrustworthy_pep658_metadata_falls_back_to_the_wheel(
    mirror: Mirror, serve: Serve, problem: str
) -> None:
    index = FixtureIndex()
    (entry,) = make_project(index, "foo", ["1.0"], deps=["bar>=1"]).files
    if problem == "hash mismatch":
        entry.metadata_hashes = {"sha256": "0" * 64}
    elif problem == "wrong dist":  # served with its own (matching) hash: only Name is wrong
        entry.metadata_body = build_metadata("other-dist", "1.0", requires_dist=["evil"])
    elif problem == "wrong version":
        entry.metadata_body = build_metadata("foo", "6.6.6", requires_dist=["evil"])
    else:
        entry.metadata_status = 404

    synced(mirror, serve, index)

    meta = metadata(mirror)[WHEEL]
    assert (meta.source, meta.name, meta.version) == ("range", "foo", "1.0")
    assert meta.requires_dist == ["bar>=1"]
    assert meta.error  # why the PEP 658 file was not used is kept
    assert mirror.scalar("SELECT count(*) FROM metadata") == 1  # nothing of the bad file
    assert all(method == "HEAD" or rng for method, rng in wheel_requests(index))


@pytest.mark.parametrize("page_format", ["json", "html"])
@pytest.mark.parametrize("key", ["core-metadata", "dist-info-metadata", "data-dist-info-metadata"])
def test_pep714_metadata_key_variants(
    mirror: Mirror, serve: Serve, page_format: str, key: str
) -> None:
    index = FixtureIndex()
    (entry,) = make_project(index, "foo", ["1.0"], format=page_format).files
    entry.metadata_keys = (key,)

    synced(mirror, serve, index)

    (stored,) = files(mirror, "one", "foo")
    assert stored.core_metadata == {"sha256": entry.dist.metadata_sha256}
    assert metadata(mirror)[WHEEL].source == "pep658"
    assert wheel_requests(index) == []


def test_no_pep658_reads_a_range_of_the_wheel(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    (entry,) = make_project(index, "foo", ["1.0"], deps=["bar"], padding=2_000_000).files
    entry.core_metadata = False

    summary = synced(mirror, serve, index)

    meta = metadata(mirror)[WHEEL]
    assert (meta.source, meta.requires_dist) == ("range", ["bar"])
    served = sum(
        len(entry.data[slice(*span(r.response_headers["content-range"]))])
        for r in index.recorder.matching(f"/files/{WHEEL}", method="GET")
    )
    assert len(entry.data) > 2_000_000
    assert 0 < served < 100_000
    assert summary["bytes_fetched"] < 100_000
    assert index.recorder.count(f"/files/{WHEEL}.metadata") == 0


@pytest.mark.parametrize("range_mode", ["ignore", "wrong"])
def test_a_server_without_ranges_gets_wheels_downloaded(
    mirror: Mirror, serve: Serve, range_mode: str
) -> None:
    index = FixtureIndex(range_mode=range_mode)  # type: ignore[arg-type]
    for name in ("a", "b"):
        # Larger than one tail read, so that a server answering the wrong range is caught.
        (entry,) = make_project(index, name, ["1.0"], deps=[f"{name}-dep"], padding=200_000).files
        entry.core_metadata = False

    summary = synced(mirror, serve, index, "a", "b", "--concurrency", "1")

    known = metadata(mirror)
    for name in ("a", "b"):
        meta = known[f"{name}-1.0-py3-none-any.whl"]
        assert (meta.source, meta.requires_dist) == ("download", [f"{name}-dep"])
    # Detected on the first wheel; the rest of the run downloads without trying ranges.
    assert all(r.range is None for r in index.recorder.matching("/files/b-1.0-py3-none-any.whl"))
    # The whole file a Range-ignoring server sends is used, not downloaded a second time.
    whole_bodies = [
        r
        for r in index.recorder.matching(prefix="/files/", method="GET")
        if r.status == 200 and r.path.endswith(".whl")
    ]
    assert len(whole_bodies) == 2
    assert summary["failures"] == []


@pytest.mark.parametrize(
    ("sdist", "wrong"),
    [(False, "sha256"), (False, "blake2b"), (True, "sha256")],
    ids=["wheel, wrong sha256", "wheel, right sha256 and wrong blake2b", "sdist, wrong sha256"],
)
def test_a_downloaded_file_must_match_every_hash_its_page_gives(
    mirror: Mirror, serve: Serve, sdist: bool, wrong: str
) -> None:
    """Read whole for its metadata (from an index that ignores Range, or an sdist), a file is
    checked against each digest the page gave, as its bytes arrived."""
    index = FixtureIndex(range_mode="ignore")
    dist = build_sdist("foo", "1.0") if sdist else build_wheel("foo", "1.0")
    hashes = {"sha256": dist.sha256, "blake2b": hashlib.blake2b(dist.data).hexdigest()}
    hashes[wrong] = "0" * len(hashes[wrong])
    index.add_project("foo").add(dist, core_metadata=False, hashes=hashes)

    synced(mirror, serve, index)

    meta = metadata(mirror)[dist.filename]
    actual = hashlib.new(wrong, dist.data).hexdigest()
    assert meta.source == "invalid"
    assert meta.error == f"{wrong} mismatch: expected {hashes[wrong]}, got {actual}"
    # One GET each: the page gives the size, so no HEAD; the whole wheel sent in answer to
    # the range request is the one checked, not fetched again.
    assert index.recorder.count(f"/files/{dist.filename}") == 1


def test_static_sdist_metadata(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    project = index.add_project("foo")
    project.add(
        build_sdist("foo", "1.0", requires_dist=["bar>=2"], requires_python=">=3.9"),
        core_metadata=False,
    )

    synced(mirror, serve, index)

    meta = metadata(mirror)["foo-1.0.tar.gz"]
    assert (meta.source, meta.requires_dist, meta.version) == ("sdist-static", ["bar>=2"], "1.0")
    assert mirror.scalar("SELECT requires_python FROM metadata") == ">=3.9"


@pytest.mark.parametrize("pep658", [False, True])
def test_old_pkg_info_with_a_static_pyproject_is_static(
    mirror: Mirror, serve: Serve, pep658: bool
) -> None:
    index = FixtureIndex()
    pyproject = '[project]\nname = "foo"\nversion = "1.0"\ndependencies = ["bar>=3"]\n'
    sdist = build_sdist("foo", "1.0", metadata_version="2.1", pyproject=pyproject)
    index.add_project("foo").add(sdist, core_metadata=pep658)

    synced(mirror, serve, index)

    meta = metadata(mirror)["foo-1.0.tar.gz"]
    assert (meta.source, meta.requires_dist) == ("sdist-static", ["bar>=3"])
    assert index.recorder.count("/files/foo-1.0.tar.gz") == 1


@pytest.mark.parametrize(
    ("options", "pep658"),
    [
        ({"dynamic": ["Requires-Dist"]}, False),
        ({"metadata_version": "2.1"}, False),
        ({"dynamic": ["Requires-Dist"]}, True),  # a PEP 658 file of an sdist is its PKG-INFO
        ({"metadata_version": "2.1"}, True),
    ],
)
def test_dynamic_sdist_metadata_needs_a_build(
    mirror: Mirror, serve: Serve, options: dict[str, object], pep658: bool
) -> None:
    index = FixtureIndex()
    project = index.add_project("foo")
    project.add(
        build_sdist("foo", "1.0", requires_dist=["bar"], **options),  # type: ignore[arg-type]
        core_metadata=pep658,
    )
    mirror.add_index("one", serve(index))

    summary = mirror.sync("foo", "--no-build")

    meta = metadata(mirror)["foo-1.0.tar.gz"]
    assert (meta.source, meta.requires_dist) == ("needs-build", None)
    assert summary["metadata"]["needs_build"] == 1
    assert mirror.scalar("SELECT count(*) FROM metadata") == 0


def test_one_metadata_file_per_version_preferring_wheels(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    project = make_project(index, "foo", ["1.0", "2.0"], sdist=True)
    project.add(build_wheel("foo", "2.0", tag="cp312-cp312-manylinux_2_17_x86_64"))

    summary = synced(mirror, serve, index)

    chosen = sorted(metadata(mirror))
    assert len(chosen) == 2 and all(name.endswith(".whl") for name in chosen)
    assert [name.split("-")[1] for name in chosen] == ["1.0", "2.0"]
    assert summary["metadata"]["fetched"] == 2
    assert index.recorder.count(prefix="/files/") == 2


def test_latest_versions_and_exact_pins_get_metadata(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    versions = [f"{n}.0" for n in range(1, 9)]
    make_project(index, "foo", versions)
    mirror.add_index("one", serve(index))

    mirror.sync("foo==2.0", "--versions", "latest:3")

    assert sorted(m.version or "" for m in metadata(mirror).values()) == [
        "2.0",
        "6.0",
        "7.0",
        "8.0",
    ]


def test_metadata_is_stored_once_per_sha256(mirror: Mirror, serve: Serve) -> None:
    first, second = FixtureIndex(), FixtureIndex()
    wheel = build_wheel("foo", "1.0", requires_dist=["bar"])
    first.add_project("foo").add(wheel)
    second.add_project("foo").add(wheel, core_metadata=False)
    mirror.add_index("first", serve(first))
    mirror.add_index("second", serve(second))

    mirror.sync("foo")

    known = metadata(mirror)
    assert known[f"first:{WHEEL}"].source == "pep658"
    assert known[f"second:{WHEEL}"].source == "range"
    assert mirror.scalar("SELECT count(*) FROM metadata") == 1


def test_known_metadata_is_not_fetched_again(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    project = make_project(index, "foo", ["1.0"])
    project.files[0].core_metadata = False
    mirror.add_index("one", serve(index))
    mirror.sync("foo")
    project.add(build_wheel("foo", "2.0"))  # the page changes: fetched again, not 304
    index.recorder.clear()

    summary = mirror.sync("foo")

    assert index.recorder.count("/simple/foo/") == 1
    assert index.recorder.matching(prefix="/files/foo-1.0") == []
    assert summary["metadata"]["already_known"] == 1 and summary["metadata"]["fetched"] == 1
    assert {m.filename: m.source for m in metadata(mirror).values()} == {
        "foo-1.0-py3-none-any.whl": "range",
        "foo-2.0-py3-none-any.whl": "pep658",
    }
