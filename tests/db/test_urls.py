"""Credentials out of URL text (db.urls): the stored form strips them, the shown form masks
them as pip does; neither ever lets a password through."""

from __future__ import annotations

import pytest

from db.urls import redact_credentials, strip_credentials


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://index.example/simple/", "https://index.example/simple/"),
        ("https://u:p@index.example:8443/simple/", "https://index.example:8443/simple/"),
        ("https://tok@index.example/simple/", "https://index.example/simple/"),
        ("https://u:p@ss@index.example/s/", "https://index.example/s/"),
        ("https://index.example/s/?next=a@b", "https://index.example/s/?next=a@b"),
        (
            "https://index.example/s/?next=http://u:p@x/",
            "https://index.example/s/?next=http://u:p@x/",
        ),
        ("//u:p@index.example/x", "//index.example/x"),
        ("/relative@path", "/relative@path"),
        ("http://u:p@[::1]:8080/", "http://[::1]:8080/"),
        ("HTTPS://U:P@Host.Example:443/s/", "HTTPS://Host.Example:443/s/"),  # byte-for-byte
    ],
)
def test_strip_credentials(url: str, expected: str) -> None:
    assert strip_credentials(url) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://index.example/simple/", "https://index.example/simple/"),
        ("https://me:secret@index.example/s/", "https://me:****@index.example/s/"),
        ("https://token@index.example/s/", "https://****@index.example/s/"),
        ("https://me:p@ss@index.example/s/", "https://me:****@index.example/s/"),
        ("https://me:@index.example/s/", "https://me:****@index.example/s/"),
        ("http://me:my secret@127.0.0.1/s/", "http://me:****@127.0.0.1/s/"),  # a malformed URL
        (
            "--extra-index-url http://me:pw@127.0.0.1:9/simple/",
            "--extra-index-url http://me:****@127.0.0.1:9/simple/",
        ),
        ("--index-url=git+https://tok@h/x", "--index-url=git+https://****@h/x"),
        (
            "-f http://a:b@h/one/ -f http://c:d@h/two/",
            "-f http://a:****@h/one/ -f http://c:****@h/two/",
        ),
        ("https://index.example/s/?next=a@b", "https://index.example/s/?next=a@b"),
    ],
)
def test_redact_credentials(text: str, expected: str) -> None:
    assert redact_credentials(text) == expected
