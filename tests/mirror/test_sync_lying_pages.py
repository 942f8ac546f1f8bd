"""Index pages that lie, end to end: a fixture index on 127.0.0.1 → `mirror sync` → the snapshot
→ `resolve`. A 200 that is not a project page fails (it must never read as "the project with no
files", which would hide the project on every later index); another project's files, digests
that are not digests, one filename with two hashes and names that leave their directory are
left out with a warning; page-files bounds a page (MIRROR.md, "Sync behaviour")."""

from __future__ import annotations

import json
from hashlib import sha256

import pytest
from sqlalchemy import text

from db import schema
from db.engine import open_engine
from tests.conftest import BOTH_ENGINES, Mirror, Serve
from tests.fixtures.dists import build_wheel
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.mirror.synctools import files, page
from tests.resolve.endtoend import add_indexes, invoke

pytestmark = BOTH_ENGINES

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
META = b'<meta name="pypi:repository-version" content="1.0">'


def two_indexes(mirror: Mirror, serve: Serve, corp: FixtureIndex) -> None:
    """``corp`` first in lookup order, ``main`` (the default, holding foo 1.0) after it."""
    main = FixtureIndex()
    make_project(main, "foo")
    add_indexes(mirror, serve, corp=corp, main=main)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (
            b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>"
            b'<p>Please <a href="/sso/start">sign in</a> to continue.</p></body></html>',
            "text/html",
        ),
        (b"<html><body><h1>Welcome to the artifact store</h1></body></html>", "text/html"),
        (b'{"error": "not found", "status": 200}', "application/json"),
        (b'{"files": []}', JSON_TYPE),
    ],
    ids=["login without a form", "html without links", "json error", "json without meta"],
)
def test_a_200_that_is_not_a_project_page_is_a_failed_page(
    mirror: Mirror, serve: Serve, body: bytes, content_type: str
) -> None:
    corp = FixtureIndex()
    corp.add_project("foo", raw_body=body, raw_content_type=content_type)
    two_indexes(mirror, serve, corp)

    result = mirror.run("sync", "foo", code=3)

    assert "foo on corp" in result.stderr and "project page" in result.stderr
    stored = page(mirror, "corp", "foo")
    assert stored.status == 200 and stored.error and "project page" in stored.error
    assert "has foo" not in result.stderr
    assert files(mirror, "corp", "foo") == []
    # The failed page never reads as "corp has foo with no files": resolve refuses to guess
    # rather than take foo from the next index, or report that it has no version.
    refused = invoke(mirror, "foo")
    assert refused.exit_code != 0 and refused.stdout == ""
    assert "corp" in refused.stderr and "Traceback" not in refused.stderr


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<!DOCTYPE html><html><head>" + META + b"</head><body></body></html>", "text/html"),
        (b'{"meta": {"api-version": "1.1"}, "name": "foo", "files": []}', JSON_TYPE),
    ],
    ids=["html", "json"],
)
def test_an_empty_page_that_says_its_api_version_is_the_project_with_no_files(
    mirror: Mirror, serve: Serve, body: bytes, content_type: str
) -> None:
    corp = FixtureIndex()
    corp.add_project("foo", raw_body=body, raw_content_type=content_type)
    two_indexes(mirror, serve, corp)

    summary = mirror.sync("foo")

    assert summary["failures"] == []
    assert page(mirror, "corp", "foo").error is None
    assert files(mirror, "corp", "foo") == []


def test_another_projects_file_never_becomes_the_project(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    foo = make_project(index, "foo")
    bar = foo.add(build_wheel("bar", "9.9"))
    add_indexes(mirror, serve, main=index)

    summary = mirror.sync("foo")

    assert summary["failures"] == []
    assert any(
        "foo on main: bar-9.9-py3-none-any.whl: names project 'bar', not 'foo'" in w
        for w in summary["warnings"]
    )
    assert [f.filename for f in files(mirror, "main", "foo")] == ["foo-1.0-py3-none-any.whl"]
    assert "foo==1.0" in invoke(mirror, "foo").stdout

    # A snapshot from elsewhere that holds the file anyway: the resolver refuses it too.
    columns = [c.name for c in schema.file.columns if c.name != "id"]
    copied = ", ".join(
        {"filename": ":name", "version": "'9.9'", "sha256": ":sha", "position": "position + 1"}.get(
            c, c
        )
        for c in columns
    )
    engine = open_engine(mirror.url)
    with engine.begin() as conn:
        conn.execute(
            text(
                f"INSERT INTO file ({', '.join(columns)}) SELECT {copied} FROM file "
                "WHERE filename = 'foo-1.0-py3-none-any.whl'"
            ),
            {"name": bar.filename, "sha": bar.published_hashes()["sha256"]},
        )
        # Stored before pages kept their version listing: the reader groups the rows itself.
        conn.execute(text("UPDATE page SET listing = NULL"))
    engine.dispose()
    lock = invoke(mirror, "foo")
    assert lock.exit_code == 0, lock.output
    assert "foo==1.0" in lock.stdout and "9.9" not in lock.stdout
    assert bar.published_hashes()["sha256"] not in lock.stdout
    explained = invoke(mirror, "--explain", "foo")
    assert "bar-9.9-py3-none-any.whl is not a file of foo" in explained.output


def test_a_digest_that_is_not_a_digest_is_dropped(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    foo = make_project(index, "foo", ["1.0", "2.0"], format="json")
    foo.files[0].hashes = {"sha256": "abc", "md5": "0" * 32}
    foo.files[1].hashes = {"sha512": "g" * 128, "sha256": sha256(foo.files[1].data).hexdigest()}
    add_indexes(mirror, serve, main=index)

    summary = mirror.sync("foo")

    one, two = files(mirror, "main", "foo")
    assert one.hashes == {"md5": "0" * 32} and one.sha256 is None
    assert set(two.hashes) == {"sha256"}
    warnings = "\n".join(summary["warnings"])
    assert "foo-1.0-py3-none-any.whl: hashes entry 'sha256': 'abc' is not a digest" in warnings
    assert "foo-2.0-py3-none-any.whl: hashes entry 'sha512'" in warnings
    assert "sha256:abc" not in invoke(mirror, "foo==1.0").stdout


def test_one_filename_twice_is_one_file_or_a_conflict(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    agree = make_project(index, "agree", format="json")
    agree.add(agree.files[0].dist)
    differ = make_project(index, "differ", ["1.0", "2.0"], format="json")
    wheel = differ.files[0]
    other = differ.add(wheel.dist, hashes={"sha256": "b" * 64})
    add_indexes(mirror, serve, main=index)

    summary = mirror.sync("agree", "differ")

    assert [f.filename for f in files(mirror, "main", "agree")] == ["agree-1.0-py3-none-any.whl"]
    assert not any(w.startswith("agree on main") for w in summary["warnings"])
    assert [f.filename for f in files(mirror, "main", "differ")] == ["differ-2.0-py3-none-any.whl"]
    (conflict,) = [w for w in summary["warnings"] if w.startswith("differ on main")]
    assert "differ-1.0-py3-none-any.whl: listed 2 times with different hashes" in conflict
    assert wheel.published_hashes()["sha256"] in conflict and other.hashes["sha256"] in conflict
    assert "differ==2.0" in invoke(mirror, "differ").stdout
    assert invoke(mirror, "differ==1.0").exit_code != 0


def test_a_name_that_is_not_a_plain_file_name_is_refused(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    foo = make_project(index, "foo", format="json")
    foo.json_override = json.dumps(
        {
            "meta": {"api-version": "1.1"},
            "name": "foo",
            "files": [
                {"filename": name, "url": f"/files/{i}", "hashes": {}}
                for i, name in enumerate(
                    [
                        "..\\..\\foo-6.6-py3-none-any.whl",
                        "/abs/foo-6.6-py3-none-any.whl",
                        "..%2F..%2Ffoo-6.6.tar.gz",
                        "foo-6.6\x00.tar.gz",
                        "foo\\6.6.tar.gz",
                    ]
                )
            ]
            + [{"filename": foo.files[0].filename, "url": "/files/" + foo.files[0].filename}],
        }
    ).encode()
    add_indexes(mirror, serve, main=index)

    summary = mirror.sync("foo")

    assert [f.filename for f in files(mirror, "main", "foo")] == ["foo-1.0-py3-none-any.whl"]
    refused = [w for w in summary["warnings"] if "not a plain file name" in w]
    assert len(refused) == 5, summary["warnings"]


def test_more_links_than_page_files_fail_the_page(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    make_project(index, "foo", ["1.0", "2.0", "3.0"], format="html")
    make_project(index, "bar", ["1.0", "2.0"], format="json")
    add_indexes(mirror, serve, main=index)

    result = mirror.run("sync", "foo", "bar", "--limit", "page-files=2", code=3)

    stored = page(mirror, "main", "foo")
    assert stored.error and "exceeds the limit page-files=2" in stored.error
    assert "--limit page-files=" in stored.error
    assert "foo on main" in result.stderr
    assert page(mirror, "main", "bar").error is None
    assert len(files(mirror, "main", "bar")) == 2


def test_an_index_that_answers_403_to_every_page_is_not_a_credentials_failure(
    mirror: Mirror, serve: Serve
) -> None:
    index = FixtureIndex()
    make_project(index, "foo", status=403)
    make_project(index, "bar", status=403)
    add_indexes(mirror, serve, main=index)

    result = mirror.run("sync", "foo", "bar")

    assert "Unauthorized" not in result.stderr and "credentials" not in result.stderr
