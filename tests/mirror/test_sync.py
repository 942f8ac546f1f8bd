"""`mirror sync` end to end: fixture indexes on 127.0.0.1 → the `mirror` CLI → the snapshot
database (MIRROR.md, "Protocol" and "Sync behaviour": what a page is stored as)."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.conftest import BOTH_ENGINES, Mirror, Serve
from tests.fixtures.dists import build_wheel
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.mirror.synctools import files, metadata, page, pages

pytestmark = BOTH_ENGINES

JSON_TYPE = "application/vnd.pypi.simple.v1+json"


def one_index(mirror: Mirror, serve: Serve, index: FixtureIndex, name: str = "one") -> str:
    url = serve(index)
    mirror.add_index(name, url)
    index.recorder.clear()  # the sync's requests only, not the root `index add` read
    return url.removesuffix("/simple/")


def show(mirror: Mirror, snapshot: str = "latest") -> dict[str, dict[str, int]]:
    details = mirror.json("snapshot", "show", snapshot)
    indexes: dict[str, dict[str, int]] = details["indexes"]
    return indexes


# --- JSON and HTML ---------------------------------------------------------------------------


def rich_project(index: FixtureIndex, page_format: str) -> None:
    """One project exercising what both page forms can say about a file."""
    project = make_project(
        index,
        "Foo.Bar",
        ["1.0", "2.0+cu121"],
        requires_python=">=3.8,<4",
        sdist=True,
        format=page_format,
        html_upload_time=True,
        last_serial=12,
    )
    project.files[0].yanked = "broken build"
    project.files[1].yanked = True
    project.files[1].hash_algorithms = ("sha512",)
    project.files[2].hash_algorithms = ()
    project.files[3].core_metadata = False
    project.files[2].metadata_hashes = {}


def test_json_and_html_pages_give_the_same_files(mirror: Mirror, serve: Serve) -> None:
    as_json, as_html = FixtureIndex(), FixtureIndex()
    rich_project(as_json, "json")
    rich_project(as_html, "html")
    json_origin = one_index(mirror, serve, as_json, "j")
    html_origin = one_index(mirror, serve, as_html, "h")

    summary = mirror.sync("foo-bar")

    assert summary["pages"]["fetched"] == 2 and summary["failures"] == []
    assert page(mirror, "j", "foo-bar").content_type == JSON_TYPE
    assert page(mirror, "h", "foo-bar").content_type == "text/html"
    from_json, from_html = files(mirror, "j", "foo-bar"), files(mirror, "h", "foo-bar")
    assert len(from_json) == 4
    # Only JSON publishes sizes (PEP 700); everything else must agree, URLs up to the origin.
    for j, h in zip(from_json, from_html, strict=True):
        assert j.url.removeprefix(json_origin) == h.url.removeprefix(html_origin)
        assert j.size is not None and h.size is None
        assert {**vars(j), "url": "", "size": None} == {**vars(h), "url": "", "size": None}
    wheel, yanked_sdist, cu_wheel, cu_sdist = from_json
    assert (wheel.yanked, wheel.yanked_reason) == (True, "broken build")
    assert (yanked_sdist.yanked, yanked_sdist.yanked_reason) == (True, None)
    assert set(yanked_sdist.hashes) == {"sha512"} and yanked_sdist.sha256 is None
    assert cu_wheel.hashes == {} and cu_wheel.core_metadata == {}
    assert cu_sdist.core_metadata is None
    assert wheel.requires_python == ">=3.8,<4"
    assert wheel.upload_time == "2024-01-01T00:00:00.000000Z"
    # PEP 503 normalised page, files of the local version parsed as such.
    assert cu_wheel.filename == "Foo_Bar-2.0+cu121-py3-none-any.whl"
    assert cu_wheel.version == "2.0+cu121"
    assert page(mirror, "j", "foo-bar").serial == page(mirror, "h", "foo-bar").serial == 12


def test_406_falls_back_to_html(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    make_project(index, "foo", ["1.0", "2.0"], format="no-json")
    one_index(mirror, serve, index)

    summary = mirror.sync("foo")

    assert summary["failures"] == []
    stored = page(mirror, "one", "foo")
    assert (stored.status, stored.error) == (200, None)
    assert stored.content_type in ("text/html", "application/vnd.pypi.simple.v1+html")
    assert [f.version for f in files(mirror, "one", "foo")] == ["1.0", "2.0"]
    asked = index.recorder.matching("/simple/foo/")
    assert [r.status for r in asked] == [406, 200]
    assert JSON_TYPE not in asked[1].headers["accept"]


def test_login_page_is_a_failed_page_never_zero_files(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    make_project(index, "foo", format="login")
    make_project(index, "bar")
    one_index(mirror, serve, index)

    result = mirror.run("sync", "foo", "bar", code=3)

    assert "foo on one" in result.stderr
    stored = page(mirror, "one", "foo")
    assert stored.status == 200 and stored.error
    assert files(mirror, "one", "foo") == []
    counts = show(mirror)["one"]
    assert (counts["failed"], counts["found"], counts["files"]) == (1, 1, 1)


@pytest.mark.parametrize("page_format", ["json", "html"])
def test_api_version_2_fails_the_page_and_1_9_warns(
    mirror: Mirror, serve: Serve, page_format: str
) -> None:
    index = FixtureIndex()
    make_project(index, "newer-major", api_version="2.0", format=page_format)
    make_project(index, "newer-minor", api_version="1.9", format=page_format)
    one_index(mirror, serve, index)

    summary = mirror.sync("newer-major", "newer-minor", code=3)

    major = page(mirror, "one", "newer-major")
    assert major.error and "2.0" in major.error
    assert files(mirror, "one", "newer-major") == []
    assert [f for f in summary["failures"] if f.startswith("newer-major on one")]
    minor = page(mirror, "one", "newer-minor")
    assert (minor.error, minor.api_version) == (None, "1.9")
    assert len(files(mirror, "one", "newer-minor")) == 1
    assert any(w.startswith("newer-minor on one") and "1.9" in w for w in summary["warnings"])
    assert not any(f.startswith("newer-minor") for f in summary["failures"])


# --- statuses are data -----------------------------------------------------------------------


def test_404_on_one_index_200_on_another(mirror: Mirror, serve: Serve) -> None:
    first, second = FixtureIndex(), FixtureIndex()
    make_project(second, "foo")
    one_index(mirror, serve, first, "first")
    one_index(mirror, serve, second, "second")

    summary = mirror.sync("foo")

    assert summary["failures"] == []
    missing, found = page(mirror, "first", "foo"), page(mirror, "second", "foo")
    assert (missing.status, missing.error) == (404, None)
    assert (found.status, found.error) == (200, None)
    counts = show(mirror)
    assert counts["first"]["status 404"] == 1
    assert "found" not in counts["first"] and "failed" not in counts["first"]
    assert (counts["second"]["found"], counts["second"]["files"]) == (1, 1)
    assert "failed" not in counts["second"]


def test_401_and_403_are_recorded_as_statuses(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    make_project(index, "locked", status=401)
    make_project(index, "forbidden", status=403)
    one_index(mirror, serve, index)

    # One 401 among other answers is a warning (an index may guard some projects only); a 403
    # is never taken for a credentials problem (some indexes answer it for projects they lack).
    result = mirror.run("sync", "locked", "forbidden")
    assert (
        "warning: index one: 1 page answered 401 Unauthorized, 1 answered 403 Forbidden"
        in result.stderr
    )

    statuses = {p.project: (p.status, p.error) for p in pages(mirror)}
    assert statuses == {"locked": (401, None), "forbidden": (403, None)}
    counts = show(mirror)["one"]
    assert (counts["status 401"], counts["status 403"]) == (1, 1)
    assert "failed" not in counts and "found" not in counts


def test_503_after_retries_is_a_failed_page_in_a_complete_snapshot(
    mirror: Mirror, serve: Serve
) -> None:
    index = FixtureIndex()
    # Retry-After: 0 keeps the real backoff of the CLI instant.
    make_project(index, "down", status=503, retry_after="0")
    make_project(index, "up")
    one_index(mirror, serve, index)

    result = mirror.run("sync", "down", "up", "--name", "s1", code=3)

    error_lines = [line for line in result.stderr.splitlines() if "down on one" in line]
    assert error_lines and "503" in error_lines[0]
    assert "\nerror: 1 page(s) or metadata file(s) failed" in result.stderr
    assert "\nhint: " in result.stderr
    assert index.recorder.count("/simple/down/") == 4  # the client's attempts, then failed
    stored = page(mirror, "one", "down")
    assert stored.status == 503 and stored.error and "503" in stored.error
    (snap,) = mirror.json("snapshot", "list")
    assert (snap["name"], snap["state"]) == ("s1", "complete")
    assert show(mirror, "s1")["one"]["failed"] == 1
    assert show(mirror, "s1")["one"]["found"] == 1


def test_quarantined_project_status_is_stored(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    for name, options in {
        "q-json": {"format": "json"},
        "q-html": {"format": "html"},
        "q-meta": {"format": "json", "status_in_meta": True},
    }.items():
        make_project(
            index,
            name,
            project_status="quarantined",
            project_status_reason="malware reported",
            **options,
        )
    make_project(index, "archived", project_status="archived")
    one_index(mirror, serve, index)

    mirror.sync("q-json", "q-html", "q-meta", "archived")

    statuses = {p.project: (p.project_status, p.project_status_reason) for p in pages(mirror)}
    assert statuses == {
        "archived": ("archived", None),
        "q-html": ("quarantined", "malware reported"),
        "q-json": ("quarantined", "malware reported"),
        "q-meta": ("quarantined", "malware reported"),
    }


# --- odd pages -------------------------------------------------------------------------------


def test_malformed_html_does_not_crash(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    project = make_project(index, "foo", ["1.0"])
    wheel = project.files[0]
    project.raw_body = (
        b"<HTML><BODY><H1>Links</h1><A HREF=../../files/foo-1.0-py3-none-any.whl#sha256="
        + wheel.dist.sha256.encode()
        + b" data-requires-python=&gt;=3.8>foo-1.0-py3-none-any.whl</A><br>"
        b"<a href='../../files/foo-2.0.tar.gz' data-yanked>foo-2.0.tar.gz<a href=\"foo-3.0"
    )
    make_project(index, "bar")
    one_index(mirror, serve, index)

    summary = mirror.sync("foo", "bar", code=None)

    assert "foo on one" not in " ".join(summary["failures"])
    found = {f.filename: f for f in files(mirror, "one", "foo")}
    assert found["foo-1.0-py3-none-any.whl"].sha256 == wheel.dist.sha256
    assert found["foo-1.0-py3-none-any.whl"].requires_python == ">=3.8"
    assert found["foo-2.0.tar.gz"].yanked
    assert metadata(mirror)["foo-1.0-py3-none-any.whl"].source == "range"
    assert len(files(mirror, "one", "bar")) == 1


@pytest.mark.parametrize("page_format", ["json", "html"])
def test_percent_encoded_local_versions_are_stored_decoded(
    mirror: Mirror, serve: Serve, page_format: str
) -> None:
    index = FixtureIndex()
    make_project(index, "torch", ["2.3.0+cu121", "2.3.0+cpu"], format=page_format)
    one_index(mirror, serve, index)

    mirror.sync("torch", "--versions", "all")

    stored = files(mirror, "one", "torch")
    assert [(f.filename, f.version) for f in stored] == [
        ("torch-2.3.0+cu121-py3-none-any.whl", "2.3.0+cu121"),
        ("torch-2.3.0+cpu-py3-none-any.whl", "2.3.0+cpu"),
    ]
    assert all("%2B" in f.url for f in stored)
    known = metadata(mirror)
    assert {known[f.filename].version for f in stored} == {"2.3.0+cu121", "2.3.0+cpu"}


def test_invalid_versions_and_missing_upload_times_are_kept_raw(
    mirror: Mirror, serve: Serve
) -> None:
    index = FixtureIndex()
    project = make_project(index, "foo", ["1.0", "2004d"])
    for entry in project.files:
        entry.upload_time = None
    one_index(mirror, serve, index)

    summary = mirror.sync("foo")

    assert summary["failures"] == []
    stored = {f.version: f for f in files(mirror, "one", "foo")}
    assert {v: f.version_valid for v, f in stored.items()} == {"1.0": True, "2004d": False}
    assert all(f.upload_time is None for f in stored.values())  # absent is NULL, never "now"
    assert any("2004d" in w for w in summary["warnings"])
    assert list(metadata(mirror)) == ["foo-1.0-py3-none-any.whl"]


def test_one_filename_with_different_hashes_on_two_indexes(mirror: Mirror, serve: Serve) -> None:
    first, second = FixtureIndex(), FixtureIndex()
    first.add_project("foo").add(build_wheel("foo", "1.0", requires_dist=["a"]))
    second.add_project("foo").add(build_wheel("foo", "1.0", requires_dist=["b"]))
    one_index(mirror, serve, first, "first")
    one_index(mirror, serve, second, "second")

    mirror.sync("foo")

    (a,), (b,) = files(mirror, "first", "foo"), files(mirror, "second", "foo")
    assert a.filename == b.filename and a.sha256 != b.sha256
    known = metadata(mirror)
    assert known["first:foo-1.0-py3-none-any.whl"].requires_dist == ["a"]
    assert known["second:foo-1.0-py3-none-any.whl"].requires_dist == ["b"]


def test_relative_urls_resolve_against_the_url_after_a_same_host_redirect(
    mirror: Mirror, serve: Serve
) -> None:
    index = FixtureIndex()
    # Served at /foo/, so the relative link is ../files/…: right against the final URL only
    # (against /simple/foo/ it would point into /simple/files/).
    make_project(index, "foo", ["1.0"], redirect_to="/foo/")
    origin = one_index(mirror, serve, index)

    summary = mirror.sync("foo")

    assert summary["failures"] == []
    stored = page(mirror, "one", "foo")
    assert stored.final_url == f"{origin}/foo/"
    (wheel,) = files(mirror, "one", "foo")
    assert wheel.url == f"{origin}/files/foo-1.0-py3-none-any.whl"
    assert metadata(mirror)[wheel.filename].source == "pep658"
    assert index.recorder.count("/files/foo-1.0-py3-none-any.whl.metadata") == 1


def test_cross_host_redirect_is_failed_not_attributed(mirror: Mirror, serve: Serve) -> None:
    elsewhere = FixtureIndex()
    make_project(elsewhere, "foo", ["6.6.6"])
    elsewhere_url = serve(elsewhere)
    private = FixtureIndex(auth=("ci-user", "ci-token-5d1f"))
    make_project(private, "foo", ["1.0"], redirect_to=elsewhere_url + "foo/")
    env = {
        "SNEAKERNET_INDEX_PRIVATE_USERNAME": "ci-user",
        "SNEAKERNET_INDEX_PRIVATE_PASSWORD": "ci-token-5d1f",
    }
    mirror.run("index", "add", "private", serve(private), env=env)

    result = mirror.run("sync", "foo", "--json", code=3, env=env)

    summary = json.loads(result.stdout)
    assert any(f.startswith("foo on private") for f in summary["failures"])
    stored = page(mirror, "private", "foo")
    assert stored.error and "another host" in stored.error
    assert files(mirror, "private", "foo") == []
    assert metadata(mirror) == {}
    # The credentials of the private index never travel to the other host.
    assert elsewhere.recorder.requests
    assert not any(r.has_authorization for r in elsewhere.recorder.requests)
    assert elsewhere.recorder.count(prefix="/files/") == 0


@pytest.mark.slow
def test_a_50_mb_page_syncs(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    project = make_project(index, "huge", ["100000.0", "100001.0"])
    real = [
        {
            "filename": f.filename,
            "url": f"../../files/{f.filename}",
            "hashes": {"sha256": f.dist.sha256},
            "core-metadata": {"sha256": f.dist.metadata_sha256},
        }
        for f in project.files
    ]
    reason = "superseded; " * 40
    fake = [
        {
            "filename": f"huge-{n}.0-cp312-cp312-manylinux_2_17_x86_64.whl",
            "url": f"https://files.invalid/{n:064x}/huge-{n}.0-cp312-cp312-manylinux_2_17_x86_64.whl",
            "hashes": {
                "sha256": hashlib.sha256(str(n).encode()).hexdigest(),
                "blake2b": hashlib.blake2b(str(n).encode()).hexdigest(),
            },
            "requires-python": ">=3.8",
            "yanked": reason,
            "size": n,
            "upload-time": "2024-01-01T00:00:00Z",
        }
        for n in range(50_000)
    ]
    body = json.dumps({"meta": {"api-version": "1.1"}, "name": "huge", "files": fake + real})
    assert len(body) > 50_000_000
    project.json_override = body.encode()
    one_index(mirror, serve, index)

    summary = mirror.sync("huge", "--versions", "latest:2")

    assert summary["failures"] == []
    assert mirror.scalar("SELECT count(*) FROM file") == 50_002
    assert summary["metadata"]["fetched"] == 2
    assert {m.source for m in metadata(mirror).values()} == {"pep658"}
    stored_size = mirror.scalar("SELECT size FROM blob b JOIN page p ON p.blob_sha256 = b.sha256")
    assert stored_size == len(body)


# --- the client as the server sees it ----------------------------------------------------------


def test_concurrency_cap_is_reached_and_user_agent_names_sneakernet(
    mirror: Mirror, serve: Serve
) -> None:
    # Page requests wait until two run at once: the cap is reached, not just respected. (Not
    # the root, which `index add` reads alone.)
    index = FixtureIndex(hold_until_in_flight=2, hold_prefix="/simple/p")
    for n in range(6):
        make_project(index, f"p{n}", ["1.0", "2.0"])
    one_index(mirror, serve, index)

    summary = mirror.sync(*(f"p{n}" for n in range(6)), "--concurrency", "2")

    assert summary["failures"] == [] and summary["metadata"]["fetched"] == 12
    assert index.recorder.max_in_flight() == 2
    agents = {r.user_agent.partition(" ")[0] for r in index.recorder.requests}
    assert len(agents) == 1 and agents.pop().startswith("sneakernet/")


def test_concurrency_cap_holds_for_range_reads(mirror: Mirror, serve: Serve) -> None:
    # File requests are held until three run at once, which a client keeping to its cap of
    # two never reaches: the gate then opens after hold_timeout. The verdict does not depend
    # on timing; a client over the cap reaches three at once, whatever the machine's speed.
    index = FixtureIndex(hold_until_in_flight=3, hold_prefix="/files/", hold_timeout=0.5)
    for n in range(4):
        project = make_project(index, f"p{n}", ["1.0", "2.0", "3.0"])
        for entry in project.files:
            entry.core_metadata = False  # read by HEAD and ranged GETs
    one_index(mirror, serve, index)

    summary = mirror.sync(*(f"p{n}" for n in range(4)), "--concurrency", "2")

    assert summary["failures"] == [] and summary["metadata"]["fetched"] == 12
    assert {m.source for m in metadata(mirror).values()} == {"range"}
    assert index.recorder.max_in_flight("/files/") <= 2
    assert index.recorder.max_in_flight() <= 2
    assert all(r.user_agent.startswith("sneakernet/") for r in index.recorder.requests)


def test_names_are_normalised_and_the_page_is_requested_at_the_normalised_url(
    mirror: Mirror, serve: Serve
) -> None:
    index = FixtureIndex()
    make_project(index, "Zope.Interface", ["6.0"])
    one_index(mirror, serve, index)

    mirror.sync("zope_interface", "ZOPE.interface")

    (stored,) = pages(mirror)
    assert stored.project == "zope-interface"
    assert index.recorder.count(prefix="/simple/") == 1
    assert index.recorder.count("/simple/zope-interface/") == 1
    assert files(mirror, "one", "zope-interface")[0].version == "6.0"


def test_a_new_wheel_between_syncs_is_found(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    project = make_project(index, "foo", ["1.0"])
    one_index(mirror, serve, index)
    mirror.sync("foo")
    project.add(build_wheel("foo", "1.1"))

    mirror.sync("foo")

    assert [f.version for f in files(mirror, "one", "foo")] == ["1.0", "1.1"]


# -- pages that lie ----------------------------------------------------------------------------


def test_a_200_that_is_not_a_project_page_is_a_failed_page(mirror: Mirror, serve: Serve) -> None:
    """A landing page answering 200 for every project must not pass for "foo has no files",
    which would hide every other index's foo."""
    index = FixtureIndex()
    landing = b"<html><head><title>Welcome</title></head><body><p>Sign in</p></body></html>"
    make_project(index, "foo", raw_body=landing)
    one_index(mirror, serve, index)

    summary = mirror.sync("foo", code=3)

    (row,) = pages(mirror)
    assert (row.status, row.error is not None) == (200, True)
    assert row.error is not None and "not a project page" in row.error
    assert summary["failures"] and "not a project page" in summary["failures"][0]


def test_another_projects_file_on_a_page_is_left_out(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    foo = make_project(index, "foo", ["1.0"])
    foo.add(build_wheel("bar", "9.9"))
    one_index(mirror, serve, index)

    summary = mirror.sync("foo")

    assert [f.filename for f in files(mirror, "one", "foo")] == ["foo-1.0-py3-none-any.whl"]
    assert any("bar-9.9-py3-none-any.whl" in w and "skipped" in w for w in summary["warnings"])
