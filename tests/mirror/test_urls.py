"""The fast file-link join agrees with urljoin on every input, including the ones it hands
back to urljoin; the client's credential-free URL is the stored one."""

from __future__ import annotations

from urllib.parse import urljoin

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from db.urls import strip_credentials
from mirror.http.auth import split_credentials
from mirror.index_api.urls import join_url

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
    "url",
    [
        "https://u:p%40ss@idx.test:8443/s/",
        "HTTPS://U:P@Idx.Test:443/s/",
        "https://tok@idx.test/s/",
        "https://@idx.test/s/",
        "https://idx.test/s/",
    ],
)
def test_split_credentials_keeps_the_stored_form(url: str) -> None:
    """The URL the client uses with the credentials removed is the one stored for the index."""
    clean, _ = split_credentials(url)
    assert clean == strip_credentials(url)
