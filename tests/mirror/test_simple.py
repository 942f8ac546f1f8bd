"""Simple Repository API project pages: PEP 691 JSON and PEP 503 HTML, as indexes serve them."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db.records import DistFile, ProjectPage
from mirror.index_api.file_entries import normalise_upload_time
from mirror.index_api.file_warnings import FileWarning
from mirror.index_api.project_page import ACCEPT, PageError, parse_project_page

BASE = "https://index.example/simple/foo/"
JSON = "application/vnd.pypi.simple.v1+json"
HTML = "application/vnd.pypi.simple.v1+html"
WHEEL = "foo-1.0-py3-none-any.whl"
SDIST = "foo-1.0.tar.gz"
SHA = "ab" * 32


def json_page(*files: object, **top: Any) -> bytes:
    doc: dict[str, Any] = {"meta": {"api-version": "1.1"}, "name": "foo", "files": list(files)}
    doc.update(top)
    return json.dumps(doc).encode()


def json_file(filename: str = WHEEL, **fields: Any) -> dict[str, Any]:
    return {"filename": filename, "url": f"../../files/{filename}", "hashes": {}, **fields}


def html_page(*anchors: str, head: str = "") -> bytes:
    body = "\n".join(anchors)
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>".encode()


def parse_json(body: bytes) -> ProjectPage:
    return parse_project_page(body, JSON, BASE, "foo")


def parse_html(body: bytes, base: str = BASE) -> ProjectPage:
    return parse_project_page(body, "text/html; charset=utf-8", base, "foo")


def only(page: ProjectPage) -> DistFile:
    assert len(page.files) == 1, page
    return page.files[0]


def test_accept_header_prefers_json() -> None:
    assert ACCEPT == (
        "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
        "text/html;q=0.01"
    )


def test_json_and_html_forms_give_the_same_files() -> None:
    body_json = json_page(
        json_file(
            WHEEL,
            hashes={"sha256": SHA},
            **{"requires-python": ">=3.8", "upload-time": "2024-01-02T03:04:05.123456Z"},
            **{"core-metadata": {"sha256": "cd" * 32}, "provenance": "../../prov/1"},
        ),
        json_file(SDIST, yanked="broken build", hashes={"sha256": SHA}),
        json_file("foo-2.0a1.tar.gz", yanked=True),
    )
    body_html = html_page(
        f'<a href="../../files/{WHEEL}#sha256={SHA}" data-requires-python="&gt;=3.8"'
        f' data-core-metadata="sha256={"cd" * 32}" data-provenance="../../prov/1"'
        f' data-upload-time="2024-01-02T03:04:05.123456Z">{WHEEL}</a>',
        f'<a href="../../files/{SDIST}#sha256={SHA}" data-yanked="broken build">{SDIST}</a>',
        '<a href="../../files/foo-2.0a1.tar.gz" data-yanked>foo-2.0a1.tar.gz</a>',
    )
    from_json, from_html = parse_json(body_json), parse_html(body_html)
    assert from_json.files == from_html.files
    assert [f.filename for f in from_json.files] == [WHEEL, SDIST, "foo-2.0a1.tar.gz"]
    wheel = from_json.files[0]
    assert wheel.url == "https://index.example/files/" + WHEEL
    assert wheel.provenance == "https://index.example/prov/1"
    assert (wheel.is_wheel, wheel.tags, wheel.sha256) == (True, "py3-none-any", SHA)
    assert from_json.warnings == from_html.warnings == ()


# --- URLs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        (WHEEL, "https://index.example/simple/foo/" + WHEEL),
        ("../../files/" + WHEEL, "https://index.example/files/" + WHEEL),
        ("/packages/ab/" + WHEEL, "https://index.example/packages/ab/" + WHEEL),
        ("https://files.example/x/" + WHEEL, "https://files.example/x/" + WHEEL),
        ("//cdn.example/x/" + WHEEL, "https://cdn.example/x/" + WHEEL),
    ],
)
def test_relative_root_relative_and_absolute_urls(href: str, expected: str) -> None:
    assert only(parse_json(json_page({"filename": WHEEL, "url": href, "hashes": {}}))).url == (
        expected
    )
    assert only(parse_html(html_page(f'<a href="{href}">{WHEEL}</a>'))).url == expected


@pytest.mark.parametrize(
    ("base_href", "expected"),
    [
        ("/mirror/files/", "https://index.example/mirror/files/" + WHEEL),
        ("../../other/", "https://index.example/other/" + WHEEL),
        ("https://files.example/dl/", "https://files.example/dl/" + WHEEL),
    ],
)
def test_base_href_resolves_relative_urls(base_href: str, expected: str) -> None:
    # The first <base href> counts for the whole document, even for links before it.
    body = html_page(
        f'<a href="{WHEEL}">{WHEEL}</a>',
        f'<base href="{base_href}"><base href="/ignored/">',
        f'<a href="sub/{SDIST}">{SDIST}</a>',
    )
    page = parse_html(body)
    assert [f.url for f in page.files] == [expected, expected.replace(WHEEL, "sub/" + SDIST)]


def test_entities_uppercase_tags_and_unquoted_attributes() -> None:
    body = (
        "<HTML><BODY>"
        f"<A HREF=/dl/{WHEEL}?a=1&amp;b=2#SHA256={SHA.upper()} DATA-REQUIRES-PYTHON=&gt;=3.8>"
        f"{WHEEL}</A>"
        f"<a href='/dl/{SDIST}' data-requires-python='&gt;=3.7,&lt;4' data-yanked=\"&quot;x&quot;\""
        f">{SDIST}</a>"
        # some servers escape twice; '&' never belongs in a specifier
        f'<a href="/dl/foo-2.0.zip" data-requires-python="&amp;gt;=3.9">foo-2.0.zip</a>'
    ).encode()
    wheel, sdist, zipped = parse_html(body).files
    assert wheel.url == f"https://index.example/dl/{WHEEL}?a=1&b=2"
    assert wheel.hashes == (("sha256", SHA),)
    assert wheel.requires_python == ">=3.8"
    assert sdist.requires_python == ">=3.7,<4"
    assert (sdist.yanked, sdist.yanked_reason) == (True, '"x"')
    assert zipped.requires_python == ">=3.9"


@pytest.mark.parametrize(
    ("fragment", "hashes"),
    [
        ("", ()),
        (f"#sha256={SHA}", (("sha256", SHA),)),
        ("#md5=0123456789ABCDEF0123456789abcdef", (("md5", "0123456789abcdef" * 2),)),
        ("#sha512=" + "ef" * 64, (("sha512", "ef" * 64),)),
        ("#sha3_256=" + "01" * 32, (("sha3_256", "01" * 32),)),
        ("#egg=foo", ()),  # pip's legacy fragment, not a hash
        ("#blob", ()),
    ],
)
def test_hash_fragments(fragment: str, hashes: tuple[tuple[str, str], ...]) -> None:
    dist = only(parse_html(html_page(f'<a href="/f/{WHEEL}{fragment}">{WHEEL}</a>')))
    assert dist.hashes == hashes
    assert dist.url == "https://index.example/f/" + WHEEL  # fragment never stored
    json_dist = only(parse_json(json_page(json_file(url=f"/f/{WHEEL}{fragment}"))))
    assert json_dist.hashes == hashes


def test_json_hashes_win_over_fragment_and_bad_hashes_warn() -> None:
    entry = json_file(url=f"/f/{WHEEL}#sha256={'00' * 32}", hashes={"sha256": SHA, "md5": "zz"})
    page = parse_json(json_page(entry))
    assert only(page).hashes == (("sha256", SHA),)
    assert any("md5" in w for w in page.warnings)
    bad_fragment = parse_html(html_page(f'<a href="/f/{WHEEL}#sha256=xyz">{WHEEL}</a>'))
    assert only(bad_fragment).hashes == () and bad_fragment.warnings


@pytest.mark.parametrize(
    "anchor",
    [
        '<a href="/f/torch-2.3.0%2Bcpu-cp311-cp311-linux_x86_64.whl">'
        "torch-2.3.0+cpu-cp311-cp311-linux_x86_64.whl</a>",
        '<a href="/f/torch-2.3.0%2Bcpu-cp311-cp311-linux_x86_64.whl">'
        "torch-2.3.0%2Bcpu-cp311-cp311-linux_x86_64.whl</a>",
        '<a href="/f/torch-2.3.0%2Bcpu-cp311-cp311-linux_x86_64.whl">download</a>',
    ],
)
def test_quoted_local_versions(anchor: str) -> None:
    page = parse_project_page(html_page(anchor), "text/html", BASE, "torch")
    dist = only(page)
    assert dist.filename == "torch-2.3.0+cpu-cp311-cp311-linux_x86_64.whl"
    assert (dist.project, dist.version, dist.version_valid) == ("torch", "2.3.0+cpu", True)
    assert dist.url.endswith("/f/torch-2.3.0%2Bcpu-cp311-cp311-linux_x86_64.whl")


# --- PEP 592 yanking -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attribute", "expected"),
    [
        ("", (False, None)),
        (" data-yanked", (True, None)),
        (' data-yanked=""', (True, None)),
        (' data-yanked="security: CVE-2024-1"', (True, "security: CVE-2024-1")),
    ],
)
def test_data_yanked_variants(attribute: str, expected: tuple[bool, str | None]) -> None:
    dist = only(parse_html(html_page(f'<a href="{WHEEL}"{attribute}>{WHEEL}</a>')))
    assert (dist.yanked, dist.yanked_reason) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(False, (False, None)), (True, (True, None)), ("", (True, None)), ("why", (True, "why"))],
)
def test_json_yanked_variants(value: object, expected: tuple[bool, str | None]) -> None:
    dist = only(parse_json(json_page(json_file(yanked=value))))
    assert (dist.yanked, dist.yanked_reason) == expected


# --- PEP 658 / 714 core metadata -------------------------------------------------------------

_MD = {"sha256": "cd" * 32}
_MD_TUPLE = (("sha256", "cd" * 32),)


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({}, None),
        ({"core-metadata": True}, ()),
        ({"core-metadata": False}, None),
        ({"core-metadata": _MD}, _MD_TUPLE),
        ({"core-metadata": {}}, ()),
        ({"dist-info-metadata": _MD}, _MD_TUPLE),
        ({"data-dist-info-metadata": True}, ()),  # the buggy key some servers emit
        ({"core-metadata": _MD, "dist-info-metadata": True}, _MD_TUPLE),
        ({"core-metadata": False, "dist-info-metadata": _MD}, None),  # the new key wins
        (
            {"dist-info-metadata": True, "core-metadata": {"sha512": "EE" * 64}},
            (("sha512", "ee" * 64),),
        ),
    ],
)
def test_json_core_metadata_keys(keys: dict[str, Any], expected: object) -> None:
    assert only(parse_json(json_page(json_file(**keys)))).core_metadata == expected


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ("", None),
        (' data-core-metadata="true"', ()),
        (" data-core-metadata", ()),
        (f' data-core-metadata="sha256={"CD" * 32}"', _MD_TUPLE),
        (f' data-dist-info-metadata="sha256={"cd" * 32}"', _MD_TUPLE),
        (f' data-core-metadata="sha256={"cd" * 32}" data-dist-info-metadata="true"', _MD_TUPLE),
        (f' data-dist-info-metadata="sha256={"00" * 32}" data-core-metadata="true"', ()),
        (' data-core-metadata="false"', None),
        (' data-core-metadata="sha256=abc"', ()),  # the wrong length: offered, no hash
        (f' data-core-metadata="md5={"cd" * 32}"', ()),
    ],
)
def test_html_core_metadata_attributes(attributes: str, expected: object) -> None:
    dist = only(parse_html(html_page(f'<a href="{WHEEL}"{attributes}>{WHEEL}</a>')))
    assert dist.core_metadata == expected


def test_unreadable_core_metadata_is_offered_without_hash() -> None:
    page = parse_html(html_page(f'<a href="{WHEEL}" data-core-metadata="sha256:xx">{WHEEL}</a>'))
    assert only(page).core_metadata == ()
    assert page.warnings


# --- PEP 700 upload time ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("2024-01-02T03:04:05Z", "2024-01-02T03:04:05.000000Z"),
        ("2024-01-02T03:04:05.1Z", "2024-01-02T03:04:05.100000Z"),
        ("2024-01-02T03:04:05.12Z", "2024-01-02T03:04:05.120000Z"),
        ("2024-01-02T03:04:05.123Z", "2024-01-02T03:04:05.123000Z"),
        ("2024-01-02T03:04:05.1234Z", "2024-01-02T03:04:05.123400Z"),
        ("2024-01-02T03:04:05.12345Z", "2024-01-02T03:04:05.123450Z"),
        ("2024-01-02T03:04:05.123456Z", "2024-01-02T03:04:05.123456Z"),
        ("2024-01-02T03:04:05.123456789Z", "2024-01-02T03:04:05.123456Z"),
        ("2024-01-02T03:04:05+00:00", "2024-01-02T03:04:05.000000Z"),
        ("2024-01-02T03:04:05.5+00:00", "2024-01-02T03:04:05.500000Z"),
        ("2024-01-02 03:04:05", "2024-01-02T03:04:05.000000Z"),  # no zone: PEP 700 says UTC
        ("2024-01-02T01:30:00+02:00", "2024-01-01T23:30:00.000000Z"),
        ("2024-01-02T01:30:00-0130", "2024-01-02T03:00:00.000000Z"),
        ("2024-01-02T01:30:00+01", "2024-01-02T00:30:00.000000Z"),
    ],
)
def test_upload_time_normalised(raw: str, normalised: str) -> None:
    assert normalise_upload_time(raw) == normalised
    assert only(parse_json(json_page(json_file(**{"upload-time": raw})))).upload_time == normalised


@pytest.mark.parametrize("raw", ["yesterday", "2024-13-01T00:00:00Z", "2024-01-02", 1704164645])
def test_bad_upload_time_warns(raw: Any) -> None:
    page = parse_json(json_page(json_file(**{"upload-time": raw})))
    assert only(page).upload_time is None
    assert any("upload-time" in w for w in page.warnings)


def test_missing_upload_time_stays_unknown() -> None:
    assert only(parse_json(json_page(json_file()))).upload_time is None
    assert only(parse_html(html_page(f'<a href="{WHEEL}">{WHEEL}</a>'))).upload_time is None


# --- PEP 629 API version, PEP 792 status, serial, versions -----------------------------------


def test_api_version_absent_is_1_0_and_known_minor_is_silent() -> None:
    link = '<a href="foo-1.0.tar.gz">foo-1.0.tar.gz</a>'
    assert parse_html(html_page(link)).api_version == "1.0"
    assert parse_json(json.dumps({"files": [json_file()]}).encode()).api_version == "1.0"
    page = parse_json(json_page(meta={"api-version": "1.4"}))
    assert (page.api_version, page.warnings) == ("1.4", ())


def test_newer_minor_api_version_warns() -> None:
    page = parse_json(json_page(meta={"api-version": "1.9", "future-key": 1}, future=[1]))
    assert page.api_version == "1.9"
    assert page.warnings and "1.9" in page.warnings[0]
    head = '<meta name="pypi:repository-version" content="1.9">'
    assert parse_html(html_page(head=head)).warnings


@pytest.mark.parametrize("version", ["2.0", "0.9"])
def test_other_major_api_version_fails(version: str) -> None:
    with pytest.raises(
        PageError, match=re.escape(f"API version {version}; this tool supports 1.x")
    ):
        parse_json(json_page(meta={"api-version": version}))
    head = f'<META NAME="pypi:repository-version" CONTENT="{version}">'
    with pytest.raises(PageError, match=r"supports 1\.x"):
        parse_html(html_page(head=head))


def test_project_status_top_level_meta_and_html() -> None:
    status = {"status": "quarantined", "reason": "malware report"}
    for page in (
        parse_json(json_page(**{"project-status": status})),
        parse_json(json_page(meta={"api-version": "1.4", "project-status": status})),
        parse_html(
            html_page(
                head='<meta name="pypi:project-status" content="quarantined">'
                '<meta name="pypi:project-status-reason" content="malware report">'
            )
        ),
    ):
        assert (page.project_status, page.project_status_reason) == status_tuple(status)
    top = parse_json(
        json_page(meta={"project-status": {"status": "active"}}, **{"project-status": status})
    )
    assert top.project_status == "quarantined"
    odd = parse_json(json_page(**{"project-status": {"status": "paused"}}))
    assert odd.project_status == "paused" and odd.warnings


def status_tuple(status: dict[str, str]) -> tuple[str, str]:
    return status["status"], status["reason"]


def test_serial_versions_and_name() -> None:
    page = parse_json(
        json_page(
            json_file(),
            meta={"api-version": "1.1", "_last-serial": 42},
            versions=["1.0", "0.9", "2.0"],
            name="Foo",
        )
    )
    assert (page.last_serial, page.versions, page.name) == (42, ("1.0", "0.9", "2.0"), "Foo")
    nameless = parse_project_page(json_page(name=None), JSON, BASE, "Foo.Bar")
    assert (nameless.name, nameless.last_serial, nameless.versions) == ("Foo.Bar", None, ())
    html = parse_html(
        html_page(head=f"<title>Links for Foo</title>{VERSIONED}") + b"<!--SERIAL 7-->"
    )
    assert (html.name, html.last_serial) == ("Foo", 7)
    assert (
        parse_json(json_page(meta={"api-version": "1.0", "_last-serial": "x"})).last_serial is None
    )
    as_text = parse_json(json_page(meta={"api-version": "1.0", "_last-serial": "37059094"}))
    assert (as_text.last_serial, as_text.warnings) == (37059094, ())


# --- odd files -------------------------------------------------------------------------------


def test_invalid_versions_are_kept_with_a_warning() -> None:
    page = parse_html(
        html_page('<a href="foo-latest.tar.gz">foo-latest.tar.gz</a>', f'<a href="{SDIST}">x</a>')
    )
    odd, good = page.files
    assert (odd.version, odd.version_valid) == ("latest", False)
    assert good.version_valid
    assert len(page.warnings) == 1 and "latest" in page.warnings[0]


def test_unsupported_and_unusable_files_are_skipped_with_warnings() -> None:
    page = parse_html(
        html_page(
            '<a href="foo-1.0.zip.sig">foo-1.0.zip.sig</a>',
            f'<a href="{WHEEL}">{WHEEL}</a>',
            '<a href="../">parent</a>',
            '<a name="top">no href</a>',
            "<a href>empty</a>",
        )
    )
    assert [f.filename for f in page.files] == [WHEEL]
    assert len(page.warnings) == 3  # the anchor without href is not a file link


def test_retired_binary_formats_are_left_out_as_one_kind() -> None:
    # PEP 527 formats, as old releases list them by the thousand: pip and uv skip them quietly;
    # each is a warning of one kind, which the sync's summary counts in one line.
    legacy = ["foo-1.0-py2.7.egg", "foo-1.0.win32.exe", "foo-1.0.win-amd64-py2.7.msi"]
    page = parse_html(html_page(*(f'<a href="{name}">{name}</a>' for name in legacy)))
    assert page.files == ()
    assert [(w.kind, w.filename) for w in page.warnings if isinstance(w, FileWarning)] == [
        ("ancient-format", name) for name in legacy
    ]


def test_other_files_kept_in_page_order_with_malformed_values() -> None:
    page = parse_json(
        json_page(
            json_file("foo-3.0.tar.gz", **{"requires-python": ">=3.8,<<4"}),
            json_file("bar-1.0.tar.gz"),  # another project's: left out
            "not an object",
            {"filename": "foo-0.1.tar.gz"},  # no url
            json_file("foo-2.0.tar.gz", size=-1, hashes=[1]),
            json_file("foo-1.0.tar.gz", size=123, yanked=None, **{"requires-python": None}),
        )
    )
    assert [f.filename for f in page.files] == [
        "foo-3.0.tar.gz",
        "foo-2.0.tar.gz",
        "foo-1.0.tar.gz",
    ]
    assert page.files[0].requires_python == ">=3.8,<<4"  # kept raw
    assert page.files[1].size is None and page.files[2].size == 123
    assert page.files[2].requires_python is None and not page.files[2].yanked
    assert len(page.warnings) == 6


def test_filename_comes_from_url_when_missing_or_not_a_filename() -> None:
    entry = {"url": f"/f/{WHEEL}", "hashes": {}}
    assert only(parse_json(json_page(entry))).filename == WHEEL
    for text in ("1.0", "Download", "", "<b>wheel</b>"):
        page = parse_html(html_page(f'<a href="/f/{WHEEL}">{text}</a>'))
        assert (only(page).filename, page.warnings) == (WHEEL, ())


# --- page-level failures ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/xhtml+xml", "application/octet-stream", ""]
)
def test_unexpected_content_type_fails(content_type: str) -> None:
    with pytest.raises(PageError, match="Content-Type"):
        parse_project_page(b"<html>login</html>", content_type, BASE, "foo")


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "Application/VND.PyPI.Simple.V1+JSON; charset=utf-8"],
)
def test_json_content_type_variants(content_type: str) -> None:
    page = parse_project_page(json_page(json_file()), content_type, BASE, "foo")
    assert only(page).filename == WHEEL


@pytest.mark.parametrize("body", [b"", b"  \n", b'{"meta": {}, "files": []}', b"Forbidden"])
def test_html_without_markup_fails(body: bytes) -> None:
    # A JSON body or an error text labelled text/html must not read as "no files".
    with pytest.raises(PageError, match="no markup"):
        parse_html(body)


def test_login_page_served_as_html_fails() -> None:
    login = html_page(
        '<form method="post"><input name="username"><INPUT TYPE=password name=p></form>'
    )
    with pytest.raises(PageError, match="login"):
        parse_html(login)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"files": [', "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        (b"[]", "not an object"),
        (b'{"meta": {"api-version": "1.0"}, "projects": []}', "no 'files' list"),
        (b"[" * 100_000, "not valid JSON"),
    ],
)
def test_bad_json_fails(body: bytes, message: str) -> None:
    with pytest.raises(PageError, match=message):
        parse_json(body)


def test_malformed_html_keeps_what_it_can() -> None:
    body = (
        f'<html><body><a href="{WHEEL}">{WHEEL}'  # never closed
        f'<a href="{SDIST}" data-yanked>{SDIST}</b></i>'
        "<table><tr><td></p>"
        '<a href="foo-2.0.zip">foo-2.0.zip</a>'
        "<![ if ]]>"  # stops html.parser for good
        '<a href="foo-3.0.zip">foo-3.0.zip</a>'
    ).encode()
    page = parse_html(body)
    assert [f.filename for f in page.files] == [WHEEL, SDIST, "foo-2.0.zip"]
    assert page.files[1].yanked
    assert any("malformed" in w for w in page.warnings)
    truncated = parse_html(f'<a href="{WHEEL}">{WHEEL}</a><a href="foo-2.0.zi'.encode())
    assert [f.filename for f in truncated.files] == [WHEEL]


def test_non_utf8_charset() -> None:
    body = f'<a href="{WHEEL}" data-yanked="caf\xe9">{WHEEL}</a>'.encode("latin-1")
    page = parse_project_page(body, "text/html; charset=ISO-8859-1", BASE, "foo")
    assert only(page).yanked_reason == "café"
    unknown = parse_project_page(body, "text/html; charset=bogus", BASE, "foo")
    assert only(unknown).yanked_reason == "caf\ufffd"


@settings(max_examples=200)
@given(st.text(alphabet=st.sampled_from(list("<>/=\"' a-z!&;#[]?%"))) | st.text())
def test_arbitrary_html_never_crashes(text: str) -> None:
    try:
        page = parse_html(text.encode())
    except PageError:
        return
    assert all(isinstance(f, DistFile) for f in page.files)


@settings(max_examples=200)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=15,
    )
)
def test_arbitrary_file_entries_never_crash(entry: object) -> None:
    body = json.dumps({"files": [entry, json_file()]}).encode()
    assert parse_json(body).files[-1].filename == WHEEL


# --- credentials -----------------------------------------------------------------------------


def test_credentials_are_stripped_from_every_stored_url() -> None:
    base = "https://user:s3cr%40t@index.example/simple/foo/"
    html = html_page(
        f'<a href="../../f/{WHEEL}#sha256={SHA}" data-provenance="/prov">{WHEEL}</a>',
        f'<a href="https://u:p@files.example/{SDIST}">{SDIST}</a>',
    )
    page = parse_html(html, base)
    assert [f.url for f in page.files] == [
        f"https://index.example/f/{WHEEL}",
        f"https://files.example/{SDIST}",
    ]
    assert page.files[0].provenance == "https://index.example/prov"
    doc = json_page(json_file(url=f"https://tok@files.example/{WHEEL}"))
    page_json = parse_project_page(doc, JSON, base, "foo")
    assert only(page_json).url == f"https://files.example/{WHEEL}"
    assert "s3cr" not in repr(page) + repr(page_json)


def test_page_values_are_frozen() -> None:
    dist = only(parse_json(json_page(json_file())))
    with pytest.raises(dataclasses.FrozenInstanceError):
        dist.url = "x"  # type: ignore[misc]


# -- pages that lie -------------------------------------------------------------------------

VERSIONED = '<meta name="pypi:repository-version" content="1.0">'


@pytest.mark.parametrize(
    "body",
    [
        html_page(),  # no links at all
        html_page('<a href="/help">Help</a>', '<a href="/login">Sign in</a>'),  # a landing page
        html_page('<a href="bar-1.0.tar.gz">bar-1.0.tar.gz</a>'),  # only another project's
    ],
    ids=["no links", "landing page", "another project"],
)
def test_an_html_page_without_the_projects_files_nor_a_version_is_not_a_project_page(
    body: bytes,
) -> None:
    with pytest.raises(PageError, match="not a project page"):
        parse_html(body)


@pytest.mark.parametrize(
    "body",
    [
        b'{"files": []}',  # no PEP 691 meta.api-version
        b'{"meta": {}, "files": [{"filename": "bar-1.0.tar.gz", "url": "bar-1.0.tar.gz"}]}',
    ],
    ids=["no files", "another project"],
)
def test_a_json_page_without_the_projects_files_nor_a_version_is_not_a_project_page(
    body: bytes,
) -> None:
    with pytest.raises(PageError, match=r"no meta\.api-version \(PEP 691\): not a project page"):
        parse_json(body)


def test_an_empty_page_that_says_its_api_version_is_a_project_with_no_files() -> None:
    assert parse_html(html_page(head=VERSIONED)).files == ()
    assert parse_json(json_page()).files == ()
    legacy_only = parse_html(html_page('<a href="foo-1.0.win32.exe">foo-1.0.win32.exe</a>'))
    assert legacy_only.files == ()


def test_another_projects_file_is_left_out_with_a_warning() -> None:
    page = parse_html(
        html_page(
            '<a href="foo-1.0-py3-none-any.whl">foo-1.0-py3-none-any.whl</a>',
            '<a href="bar-9.9-py3-none-any.whl">bar-9.9-py3-none-any.whl</a>',
        )
    )
    assert [f.filename for f in page.files] == ["foo-1.0-py3-none-any.whl"]
    assert any("bar-9.9" in w and "skipped" in w for w in page.warnings)


@pytest.mark.parametrize(
    "digest",
    ["abc", "z" * 64, "a" * 63, "a" * 65, "A" * 64 + "-"],
)
def test_a_digest_of_the_wrong_length_or_alphabet_is_dropped(digest: str) -> None:
    good = "a" * 64
    for page in (
        parse_html(html_page(f'<a href="foo-1.0.tar.gz#sha256={digest}">foo-1.0.tar.gz</a>')),
        parse_json(
            json.dumps(
                {
                    "files": [
                        {
                            "filename": "foo-1.0.tar.gz",
                            "url": "foo-1.0.tar.gz",
                            "hashes": {"sha256": digest, "md5": "b" * 32},
                        }
                    ]
                }
            ).encode()
        ),
    ):
        assert dict(page.files[0].hashes).get("sha256") is None
        assert any("not a digest" in w for w in page.warnings)
    ok = parse_html(html_page(f'<a href="foo-1.0.tar.gz#sha256={good}">foo-1.0.tar.gz</a>'))
    assert dict(ok.files[0].hashes) == {"sha256": good}


def test_one_filename_twice_is_one_file_or_none() -> None:
    same = parse_html(
        html_page(
            f'<a href="a/foo-1.0.tar.gz#sha256={"a" * 64}">foo-1.0.tar.gz</a>',
            f'<a href="b/foo-1.0.tar.gz#sha256={"a" * 64}">foo-1.0.tar.gz</a>',
            head=VERSIONED,
        )
    )
    assert len(same.files) == 1 and same.warnings == ()
    differ = parse_html(
        html_page(
            f'<a href="a/foo-1.0.tar.gz#sha256={"a" * 64}">foo-1.0.tar.gz</a>',
            f'<a href="b/foo-1.0.tar.gz#sha256={"b" * 64}">foo-1.0.tar.gz</a>',
            '<a href="foo-2.0.tar.gz">foo-2.0.tar.gz</a>',
        )
    )
    assert [f.filename for f in differ.files] == ["foo-2.0.tar.gz"]
    assert any("different hashes" in w and "a" * 64 in w for w in differ.warnings)


@pytest.mark.parametrize(
    "name",
    [
        "..\\..\\foo-1.0-py3-none-any.whl",
        "/abs/foo-1.0-py3-none-any.whl",
        "..%2Ffoo-1.0.tar.gz",
        ".foo-1.0.tar.gz",
        "C:foo-1.0.tar.gz",
        "foo-1.0\x01.tar.gz",
    ],
)
def test_a_filename_that_is_not_a_plain_name_is_refused(name: str) -> None:
    page = parse_json(json_page({"filename": name, "url": "x/y", "hashes": {}}))
    assert page.files == ()
    assert page.warnings


def test_more_files_than_the_limit_fail_the_page() -> None:
    links = [f'<a href="foo-{n}.tar.gz">foo-{n}.tar.gz</a>' for n in range(11)]
    with pytest.raises(PageError, match="page-files=10"):
        parse_project_page(html_page(*links), "text/html", BASE, "foo", max_files=10)
    entries = [
        {"filename": f"foo-{n}.tar.gz", "url": f"foo-{n}.tar.gz", "hashes": {}} for n in range(11)
    ]
    with pytest.raises(PageError, match="--limit page-files="):
        parse_project_page(json.dumps({"files": entries}).encode(), JSON, BASE, "foo", max_files=10)
