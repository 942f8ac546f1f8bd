"""The fast file-link join agrees with urljoin on every input, including the ones it hands
back to urljoin."""

from __future__ import annotations

from urllib.parse import urljoin

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from mirror.index_api.urls import join_url, strip_credentials

_PIECES = [
    "/",
    "//",
    ".",
    "..",
    "a",
    "B9",
    "%2B",
    "-",
    "_",
    "~",
    "@",
    ":",
    ";",
    "?",
    "#",
    "=",
    "[",
    "]",
    "::1",
    " ",
    "files",
    "x.whl",
    "http:",
    "https:",
    "HTTP:",
    "file:",
    "user@",
]
_BASES = [
    "http://127.0.0.1:8080/simple/foo/",
    "https://index.example/simple/foo/",
    "https://user:pw@index.example/simple/foo",
    "http://h/",
    "http://[::1]:80/simple/foo/",
    "https://index.example",
    "file:///srv/simple/foo/",
    "",
]


def _join_or_error(base: str, href: str) -> str:
    try:
        return urljoin(base, href)
    except ValueError:
        return "ValueError"


def _fast_or_error(base: str, href: str) -> str:
    try:
        return join_url(base, href)
    except ValueError:
        return "ValueError"


@given(base=st.sampled_from(_BASES), href=st.lists(st.sampled_from(_PIECES)).map("".join))
@example(base=_BASES[0], href="/files/foo-1.0-py3-none-any.whl")
@example(base=_BASES[0], href="https://files.example/packages/ab/cd/foo-1.0.tar.gz")
@example(base=_BASES[0], href="/a//b")
@example(base=_BASES[0], href="http://[::1/x")
def test_join_url_is_urljoin(base: str, href: str) -> None:
    assert _fast_or_error(base, href) == _join_or_error(base, href)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://index.example/simple/", "https://index.example/simple/"),
        ("https://u:p@index.example:8443/simple/", "https://index.example:8443/simple/"),
        ("https://tok@index.example/simple/", "https://index.example/simple/"),
        ("https://u:p@ss@index.example/s/", "https://index.example/s/"),
        ("https://index.example/s/?next=a@b", "https://index.example/s/?next=a@b"),
        ("//u:p@index.example/x", "//index.example/x"),
        ("/relative@path", "/relative@path"),
        ("http://u:p@[::1]:8080/", "http://[::1]:8080/"),
    ],
)
def test_strip_credentials(url: str, expected: str) -> None:
    assert strip_credentials(url) == expected
