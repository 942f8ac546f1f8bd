"""What an index URL must name (mirror/index_api/index_root.py): a Simple API root, PEP 691
JSON or PEP 503 HTML, or with --flat a page of distributions; anything else, and why."""

from __future__ import annotations

import re

import pytest

from mirror.index_api.index_root import check_index_root
from mirror.index_api.raw import PageError

JSON = "application/vnd.pypi.simple.v1+json"
HTML = "text/html; charset=utf-8"
BASE = "http://127.0.0.1:8080/simple/"


def check(body: bytes, content_type: str = HTML, *, flat: bool = False) -> None:
    check_index_root(body, content_type, BASE, flat=flat, max_files=10)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"meta": {"api-version": "1.4", "_last-serial": 7}, "projects": [{"name": "a"}]}', JSON),
        (b'{"meta": {"api-version": "1.9"}, "projects": []}', "application/json"),
        (b'<a href="/simple/zope-interface/">Zope.Interface</a>', HTML),
        (b'<a href="https://mirror.example/simple/foo/">foo</a>', HTML),
        (b'<a href="foo">foo</a><a href="../">Parent Directory</a>', HTML),
        (b'<a href="bar%2Dbaz/">bar_baz</a>', HTML),
        (b'<meta name="pypi:repository-version" content="1.0"><p>empty</p>', HTML),
    ],
    ids=["json", "json-newer-minor", "html", "absolute", "with-other-links", "quoted", "empty"],
)
def test_index_roots(body: bytes, content_type: str) -> None:
    check(body, content_type)


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b'{"projects": []}', JSON, "no meta.api-version (PEP 691)"),
        (b'{"meta": {"api-version": "2.0"}, "projects": []}', JSON, "supports 1.x"),
        (b'{"meta": {"api-version": "1.1"}, "files": []}', JSON, "a project page"),
        (b'{"meta": {"api-version": "1.1"}}', JSON, "no 'projects' list"),
        (b"[1, 2]", JSON, "a list, not an object"),
        (b"{not json", JSON, "not valid JSON"),
        (b'<form><input type="password" name="pw"></form>', HTML, "a login page"),
        (b"plain words", HTML, "no markup"),
        (b'<a href="/">Home</a><a href="/docs/">Manual</a>', HTML, "2 link(s), none to a project"),
        (b"<html><title>Welcome</title></html>", HTML, "no links"),
        (b'<a href="foo-1.0.tar.gz#sha256=00">foo-1.0.tar.gz</a>', HTML, "1 distribution file"),
        (b'<meta name="pypi:repository-version" content="3.0">', HTML, "supports 1.x"),
        (b"a,b", "text/csv", "'text/csv' is not a Simple API page's"),
        (b"<a href='a/'>a</a>", "", "no Content-Type"),
    ],
    ids=[
        "json-no-version",
        "json-major-2",
        "json-project-page",
        "json-no-projects",
        "json-list",
        "broken-json",
        "login",
        "no-markup",
        "landing",
        "no-links",
        "project-page",
        "html-major-3",
        "csv",
        "no-type",
    ],
)
def test_not_index_roots(body: bytes, content_type: str, reason: str) -> None:
    with pytest.raises(PageError, match=re.escape(reason)):
        check(body, content_type)


def test_a_flat_page_is_read_as_the_sync_reads_it() -> None:
    files = (
        b'<a href="/f/foo-1.0-py3-none-any.whl">x</a><a href="bar-2.0.tar.gz">bar-2.0.tar.gz</a>'
    )
    check(files, flat=True)
    with pytest.raises(PageError, match="none to a distribution file"):
        check(b'<a href="/simple/foo/">foo</a>', flat=True)
    with pytest.raises(PageError, match="page-files"):
        check(b"".join(b'<a href="a-%d.0.tar.gz">a</a>' % n for n in range(11)), flat=True)
