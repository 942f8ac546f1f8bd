"""Where `mirror sync` gets its indexes and credentials from: basic auth from the environment,
netrc or pip's configuration (never stored), `file://` simple indexes, flat directories, and
pip's configuration when no index is configured (MIRROR.md, "Auth"; DESIGN.md, "Conventions")."""

from __future__ import annotations

import base64
import hashlib
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import BOTH_ENGINES, Mirror, Serve
from tests.db import assert_error
from tests.fixtures.dists import build_sdist, build_wheel
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.mirror.synctools import all_text, files, metadata, page, pages

pytestmark = BOTH_ENGINES

USER, PASSWORD = "sync-user-4b1d", "pw-7c3e-secret"
TOKEN = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def private_index() -> FixtureIndex:
    index = FixtureIndex(auth=(USER, PASSWORD))
    make_project(index, "foo", ["1.0", "2.0"], deps=["bar"])
    ranged = make_project(index, "bar", ["1.0"])
    ranged.files[0].core_metadata = False  # range reads carry the credentials too
    return index


def assert_no_credentials_stored(mirror: Mirror, *secrets: str) -> None:
    leaks = [
        (table, column)
        for table, column, value in all_text(mirror)
        for secret in secrets
        if secret in value
    ]
    assert leaks == []


def assert_synced_with_auth(mirror: Mirror, index: FixtureIndex) -> None:
    assert {(p.project, p.status, p.error) for p in pages(mirror)} == {
        ("foo", 200, None),
        ("bar", 200, None),
    }
    sources = {m.filename: m.source for m in metadata(mirror).values()}
    assert sources == {
        "foo-1.0-py3-none-any.whl": "pep658",
        "foo-2.0-py3-none-any.whl": "pep658",
        "bar-1.0-py3-none-any.whl": "range",
    }
    assert index.recorder.requests
    assert all(r.status in (200, 206) for r in index.recorder.requests)
    assert all(r.has_authorization for r in index.recorder.requests)


def test_basic_auth_from_the_environment_is_never_stored(mirror: Mirror, serve: Serve) -> None:
    index = private_index()
    env = {
        "SNEAKERNET_INDEX_CORP_PYPI_USERNAME": USER,
        "SNEAKERNET_INDEX_CORP_PYPI_PASSWORD": PASSWORD,
    }
    added = mirror.run("index", "add", "corp-pypi", serve(index), env=env)  # its root, read
    assert PASSWORD not in added.stdout + added.stderr

    result = mirror.run("sync", "foo", "bar", env=env)

    assert_synced_with_auth(mirror, index)
    assert PASSWORD not in result.stdout + result.stderr
    assert_no_credentials_stored(mirror, USER, PASSWORD, TOKEN)


def test_basic_auth_from_netrc(mirror: Mirror, serve: Serve, tmp_path: Path) -> None:
    index = private_index()
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1\n  login {USER}\n  password {PASSWORD}\n")
    netrc.chmod(0o600)
    mirror.run("index", "add", "private", serve(index), env={"NETRC": str(netrc)})

    mirror.run("sync", "foo", "bar", env={"NETRC": str(netrc)})

    assert_synced_with_auth(mirror, index)
    assert_no_credentials_stored(mirror, USER, PASSWORD, TOKEN)


def test_without_credentials_a_private_index_answers_401(mirror: Mirror, serve: Serve) -> None:
    index = private_index()
    mirror.add_index("private", serve(index), check=False)  # checked, it would answer 401

    summary = mirror.sync("foo", code=3)

    assert [(p.project, p.status, p.error) for p in pages(mirror)] == [("foo", 401, None)]
    assert not any(r.has_authorization for r in index.recorder.requests)
    assert summary["unauthorized"] == {"private": 1}
    stderr = mirror.run("sync", "foo", code=3).stderr
    assert "error: index private answered 401 Unauthorized to every page asked" in stderr
    assert "hint: give the index its credentials" in stderr


def test_credentials_in_an_added_url_are_stripped(mirror: Mirror, serve: Serve) -> None:
    index = private_index()
    url = serve(index).replace("http://", f"http://{USER}:{PASSWORD}@")

    added = mirror.run("index", "add", "private", url)
    listed = mirror.json("index", "list")
    env = {"SNEAKERNET_INDEX_PRIVATE_USERNAME": USER, "SNEAKERNET_INDEX_PRIVATE_PASSWORD": PASSWORD}
    mirror.run("sync", "foo", "bar", env=env)

    assert PASSWORD not in added.stdout + added.stderr
    (stored,) = listed
    assert stored["url"] == url.replace(f"{USER}:{PASSWORD}@", "")
    assert mirror.sql('SELECT url FROM "index"') == [(stored["url"],)]
    assert_synced_with_auth(mirror, index)
    assert_no_credentials_stored(mirror, USER, PASSWORD, TOKEN)


def test_pip_index_url_becomes_the_default_index(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    make_project(index, "foo")
    url = serve(index)

    result = mirror.run("sync", "foo", env={"PIP_INDEX_URL": url})

    assert f"added default (default) {url} from pip's index-url" in result.stderr
    (configured,) = mirror.json("index", "list")
    assert (configured["name"], configured["url"], configured["default"]) == ("default", url, True)
    assert page(mirror, "default", "foo").status == 200
    # The next sync uses the stored index; pip's configuration is not consulted again.
    again = mirror.run("sync", "foo", env={"PIP_INDEX_URL": url + "elsewhere/"})
    assert "added" not in again.stderr
    assert len(mirror.json("index", "list")) == 1


def test_a_malformed_pip_index_url_is_an_input_error_and_adds_nothing(
    mirror: Mirror, serve: Serve
) -> None:
    good = serve(private_index())
    env = {"PIP_INDEX_URL": "http://[::1/simple/", "PIP_EXTRA_INDEX_URL": good}
    result = mirror.run("sync", "foo", env=env, code=2)
    block = assert_error(result, 2, "pip's index-url: malformed index URL", "Invalid IPv6 URL")
    assert "added" not in result.stderr and "bug" not in block
    assert mirror.json("index", "list") == []


def test_pip_index_url_with_credentials(mirror: Mirror, serve: Serve) -> None:
    index = private_index()
    clean = serve(index)
    with_credentials = clean.replace("http://", f"http://{USER}:{PASSWORD}@")

    result = mirror.run("sync", "foo", "bar", env={"PIP_INDEX_URL": with_credentials})

    assert PASSWORD not in result.stdout + result.stderr
    assert mirror.json("index", "list")[0]["url"] == clean
    assert_synced_with_auth(mirror, index)
    assert_no_credentials_stored(mirror, USER, PASSWORD, TOKEN)


def test_no_index_and_no_pip_configuration_is_an_error_not_a_network_call(
    mirror: Mirror, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pip's built-in default would be used; make sure a test never reaches for it.
    monkeypatch.setattr("mirror.pipconfig.pip_builtin_index", lambda: None)

    result = mirror.run("sync", "foo", code=2)

    assert "no index is configured" in result.stderr
    assert mirror.sql("SELECT count(*) FROM snapshot") == [(0,)]


def test_pips_builtin_default_is_named_once(
    mirror: Mirror, serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no configuration at all, the sync says it adopted pip's built-in default, naming
    pip once."""
    index = FixtureIndex()
    make_project(index, "foo", ["1.0"])
    url = serve(index)
    monkeypatch.setattr("mirror.pipconfig.pip_builtin_index", lambda: url)

    result = mirror.run("sync", "foo", "--quiet")

    assert f"no index configured: added pypi (default) {url} from pip's built-in default\n" in (
        result.stderr
    )
    assert "pip's pip's" not in result.stderr


# --- indexes on the local disk ---------------------------------------------------------------


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def local_dists() -> dict[str, bytes]:
    wheel = build_wheel("foo", "1.0", requires_dist=["bar>=1"])
    newer = build_wheel("foo", "2.0", requires_dist=["bar>=2"])
    sdist = build_sdist("foo", "2.0", requires_dist=["bar>=2"])
    other = build_wheel("bar", "1.0")
    return {d.filename: d.data for d in (wheel, newer, sdist, other)}


def test_file_simple_index_with_index_html(
    mirror: Mirror, tmp_path: Path, local_dists: dict[str, bytes]
) -> None:
    root = tmp_path / "simple"
    metadata_file = build_wheel("foo", "2.0", requires_dist=["bar>=2"]).metadata
    links = []
    for name, data in local_dists.items():
        if name.startswith("foo"):
            write(root / "foo" / name, data)
            attrs = f'href="{name}#sha256={hashlib.sha256(data).hexdigest()}"'
            if name == "foo-2.0-py3-none-any.whl":
                write(root / "foo" / (name + ".metadata"), metadata_file)
                attrs += f' data-core-metadata="sha256={hashlib.sha256(metadata_file).hexdigest()}"'
            links.append(f"<a {attrs}>{name}</a>")
    write(
        root / "foo" / "index.html", ("<html><body>" + "".join(links) + "</body></html>").encode()
    )
    mirror.add_index("disk", root.as_uri() + "/")

    summary = mirror.sync("foo", "bar")

    assert summary["failures"] == []
    foo = page(mirror, "disk", "foo")
    assert (foo.status, foo.content_type) == (200, "text/html")
    assert page(mirror, "disk", "bar").status == 404
    stored = {f.filename: f for f in files(mirror, "disk", "foo")}
    assert sorted(stored) == [
        "foo-1.0-py3-none-any.whl",
        "foo-2.0-py3-none-any.whl",
        "foo-2.0.tar.gz",
    ]
    wheel = stored["foo-1.0-py3-none-any.whl"]
    assert wheel.url == (root / "foo" / wheel.filename).as_uri()
    assert wheel.sha256 == hashlib.sha256(local_dists[wheel.filename]).hexdigest()
    known = metadata(mirror)
    assert (
        known["foo-2.0-py3-none-any.whl"].source,
        known["foo-2.0-py3-none-any.whl"].requires_dist,
    ) == (
        "pep658",
        ["bar>=2"],
    )
    assert (
        known["foo-1.0-py3-none-any.whl"].source,
        known["foo-1.0-py3-none-any.whl"].requires_dist,
    ) == (
        "download",
        ["bar>=1"],
    )


def test_file_simple_index_of_plain_directories(
    mirror: Mirror, tmp_path: Path, local_dists: dict[str, bytes]
) -> None:
    root = tmp_path / "simple"
    for name, data in local_dists.items():
        write(root / name.split("-")[0] / name, data)
    write(root / "foo" / "README.txt", b"not a distribution")
    mirror.add_index("disk", str(root))  # a directory is taken as a file:// URL

    summary = mirror.sync("foo", "bar", "nope")

    assert summary["failures"] == []
    assert {(p.project, p.status) for p in pages(mirror)} == {
        ("foo", 200),
        ("bar", 200),
        ("nope", 404),
    }
    stored = {f.filename: f for f in files(mirror, "disk", "foo")}
    assert sorted(stored) == [
        "foo-1.0-py3-none-any.whl",
        "foo-2.0-py3-none-any.whl",
        "foo-2.0.tar.gz",
    ]
    assert all(f.sha256 == hashlib.sha256(local_dists[n]).hexdigest() for n, f in stored.items())
    assert stored["foo-2.0.tar.gz"].size == len(local_dists["foo-2.0.tar.gz"])
    known = metadata(mirror)
    assert {name: (m.source, m.requires_dist) for name, m in known.items()} == {
        "foo-1.0-py3-none-any.whl": ("download", ["bar>=1"]),
        "foo-2.0-py3-none-any.whl": ("download", ["bar>=2"]),
        "bar-1.0-py3-none-any.whl": ("download", []),
    }


def test_flat_directory(mirror: Mirror, tmp_path: Path, local_dists: dict[str, bytes]) -> None:
    links = tmp_path / "wheelhouse"
    for name, data in local_dists.items():
        write(links / name, data)
    shutil.copy(links / "foo-2.0.tar.gz", links / "unrelated-9.9.tar.gz")
    mirror.add_index("links", str(links), "--flat")
    assert mirror.json("index", "list")[0]["format"] == "flat"

    summary = mirror.sync("foo", "nope", "--versions", "all")

    assert summary["failures"] == []
    assert {(p.project, p.status) for p in pages(mirror)} == {("foo", 200), ("nope", 404)}
    assert sorted(f.filename for f in files(mirror, "links", "foo")) == [
        "foo-1.0-py3-none-any.whl",
        "foo-2.0-py3-none-any.whl",
        "foo-2.0.tar.gz",
    ]
    known = metadata(mirror)
    assert {name: m.requires_dist for name, m in known.items()} == {
        "foo-1.0-py3-none-any.whl": ["bar>=1"],
        "foo-2.0-py3-none-any.whl": ["bar>=2"],
    }


def test_flat_directory_attributes_legacy_sdist_names_to_the_right_project(
    mirror: Mirror, tmp_path: Path
) -> None:
    links = tmp_path / "wheelhouse"
    # A legacy sdist name with "-" in the project: "foo" + version "bar-4.0" would be a
    # (PEP 440-invalid) split for project foo; it is foo-bar's, as pip and uv read it.
    write(links / "foo-bar-4.0.tar.gz", build_sdist("foo-bar", "4.0").data)
    mirror.add_index("links", str(links), "--flat")

    mirror.sync("foo", "foo-bar")

    assert {(p.project, p.status) for p in pages(mirror)} == {("foo", 404), ("foo-bar", 200)}
    assert [(f.filename, f.version) for f in files(mirror, "links", "foo-bar")] == [
        ("foo-bar-4.0.tar.gz", "4.0")
    ]


def test_flat_page_over_http(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    foo = make_project(index, "foo", ["1.0", "2.0"], deps=["bar"])
    legacy = index.add_project("foo-bar")
    legacy_name = replace(build_sdist("foo-bar", "4.0"), filename="foo-bar-4.0.tar.gz")
    legacy.add(legacy_name, core_metadata=False)
    listed = [*foo.files, *legacy.files]
    anchors = "".join(f'<a href="/files/{e.filename}#sha256={e.dist.sha256}">x</a>' for e in listed)
    make_project(index, "links", raw_body=f"<html><body>{anchors}</body></html>".encode())
    for entry in foo.files:
        entry.core_metadata = False  # a flat page offers no PEP 658 files: ranges then
    mirror.add_index("links", serve(index) + "links/", "--flat")
    index.recorder.clear()  # `index add` read the page once; the sync's reads are counted

    summary = mirror.sync("foo", "foo-bar", "nope")

    assert summary["failures"] == []
    assert index.recorder.count("/simple/links/") == 1  # one listing for every project
    assert {(p.project, p.status) for p in pages(mirror)} == {
        ("foo", 200),
        ("foo-bar", 200),
        ("nope", 404),
    }
    assert [f.version for f in files(mirror, "links", "foo")] == ["1.0", "2.0"]
    assert [f.version for f in files(mirror, "links", "foo-bar")] == ["4.0"]
    assert {m.filename: (m.source, m.requires_dist) for m in metadata(mirror).values()} == {
        "foo-1.0-py3-none-any.whl": ("range", ["bar"]),
        "foo-2.0-py3-none-any.whl": ("range", ["bar"]),
        "foo-bar-4.0.tar.gz": ("sdist-static", []),
    }


def test_local_pages_are_read_within_the_page_limits(
    mirror: Mirror, tmp_path: Path, local_dists: dict[str, bytes]
) -> None:
    """A page on disk gets the bounds a page over HTTP gets: page-bytes and page-files."""
    root = tmp_path / "simple"
    links = "".join(f'<a href="{name}">{name}</a>' for name in local_dists if name[:3] == "bar")
    write(root / "bar" / "index.html", f"<html><body>{links}</body></html>".encode())
    for name, data in local_dists.items():
        write(root / name.split("-")[0] / name, data)  # foo: a plain directory of 3 files
    mirror.add_index("disk", root.as_uri() + "/")

    summary = mirror.sync("bar", "--limit", "page-bytes=64", code=3)
    assert "exceeds the limit page-bytes=64B" in summary["failures"][0]
    summary = mirror.sync("foo", "--limit", "page-files=2", code=3)
    assert "page-files=2" in summary["failures"][0]
    mirror.sync("foo", "bar")  # within the defaults
