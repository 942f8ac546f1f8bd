"""Reader for PEP 503 HTML project pages (with PEP 592, 629, 658, 714, 740 and 792 attributes).

PEP 503 (https://peps.python.org/pep-0503/) pages list one ``<a>`` per file. :func:`read_html` turns
such a body into :class:`~mirror.index_api.raw.RawFile` values (HTML attributes mapped onto the JSON
form's meaning) plus the page-level facts; :mod:`mirror.index_api.project_page` validates them
exactly as it does the JSON form. Page-level problems (a login page, a body with no markup) raise
:class:`~mirror.index_api.raw.PageError`. Nothing here does I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from mirror.index_api.raw import PageError, RawFile

__all__ = ["HtmlPage", "html_charset", "read_html"]

_SERIAL_COMMENT = re.compile(r"\s*SERIAL\s+(\d+)\s*")  # PyPI's <!--SERIAL n--> in HTML pages
# PEP 658: the current name first, then the legacy one (PEP 714).
_HTML_METADATA_ATTRS = ("data-core-metadata", "data-dist-info-metadata")


def html_charset(params: str) -> str:
    """The ``charset`` of a ``Content-Type``'s parameters (after the ``;``); UTF-8 if none."""
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip(" \"'"):
            return value.strip(" \"'")
    return "utf-8"  # PEP 503 pages are UTF-8


_Attrs = dict[str, str | None]


class _PageHTML(HTMLParser):
    """Collects anchors, ``<base>``, ``<meta>``, the title and the serial comment.

    HTMLParser already lower-cases tag and attribute names, accepts unquoted values and
    decodes entities in attribute values and (``convert_charrefs``) in text.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[tuple[_Attrs, str]] = []
        self.base_href: str | None = None
        self.meta: dict[str, str] = {}
        self.title = ""
        self.serial: int | None = None
        self.password_field = False
        self.tags = 0
        self._anchor: _Attrs | None = None
        self._text: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags += 1
        found: _Attrs = {}
        for key, value in attrs:  # the first of repeated attributes wins, as in browsers
            found.setdefault(key, value)
        if tag == "a":
            self.flush()  # an unclosed <a> ends where the next one starts
            self._anchor, self._text = found, []
        elif tag == "base" and self.base_href is None and found.get("href"):
            self.base_href = found["href"]
        elif tag == "meta" and found.get("name") and found.get("content") is not None:
            self.meta.setdefault(str(found["name"]).lower(), str(found["content"]))
        elif tag == "input" and (found.get("type") or "").lower() == "password":
            self.password_field = True
        elif tag == "title":
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self.flush()
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._anchor is not None:
            self._text.append(data)
        if self._in_title:
            self.title += data

    def handle_comment(self, data: str) -> None:
        if (match := _SERIAL_COMMENT.fullmatch(data)) is not None:
            self.serial = int(match[1])

    def close(self) -> None:
        super().close()
        self.flush()

    def flush(self) -> None:
        """End the open anchor, if any (at the next anchor, at the end, or after an error)."""
        if self._anchor is not None:
            self.anchors.append((self._anchor, "".join(self._text)))
            self._anchor = None


@dataclass(frozen=True, slots=True)
class HtmlPage:
    """What an HTML project page states, before validation.

    ``files`` pairs each linked file with its anchor's position on the page (named anchors
    count), so warnings number files as the page does. ``warnings`` are page-level notes.
    """

    files: tuple[tuple[int, RawFile], ...]
    api_version: str | None
    base_href: str | None
    project_status: str | None
    project_status_reason: str | None
    name: str
    serial: int | None
    warnings: tuple[str, ...]


def read_html(body: bytes, charset: str) -> HtmlPage:
    """Read a PEP 503 page's anchors and page-level facts; raises :class:`PageError`."""
    try:
        text = body.decode(charset, errors="replace")
    except LookupError:  # an unknown charset label
        text = body.decode("utf-8", errors="replace")
    parser = _PageHTML()
    warnings: list[str] = []
    try:
        parser.feed(text)
        parser.close()
    except (AssertionError, ValueError) as exc:  # html.parser's rare hard stops (``<![ x``)
        warnings.append(f"the HTML is malformed ({exc}); kept the links read before that point")
        parser.flush()
    if parser.password_field:
        raise PageError("the HTML page has a password field: a login page, not a Simple API page")
    if parser.tags == 0:
        # JSON or plain text mislabelled as HTML would otherwise read as a page with no files.
        raise PageError(
            f"the {len(body)}-byte HTML page has no markup at all: not a Simple API page"
        )
    files: list[tuple[int, RawFile]] = []
    for position, (attrs, anchor_text) in enumerate(parser.anchors):
        if "href" not in attrs:
            continue  # a named anchor, not a link
        metadata = next((attrs[k] or True for k in _HTML_METADATA_ATTRS if k in attrs), None)
        raw = RawFile(
            href=attrs["href"],
            filename=anchor_text,  # PEP 503: the text is the filename
            # PEP 592: present means yanked; the value, if any, is the reason.
            yanked=False if "data-yanked" not in attrs else (attrs["data-yanked"] or True),
            requires_python=attrs.get("data-requires-python"),
            upload_time=attrs.get("data-upload-time"),  # non-standard, emitted by some indexes
            core_metadata=metadata,
            provenance=attrs.get("data-provenance"),
        )
        files.append((position, raw))
    title = parser.title.strip()
    name = title.removeprefix("Links for ").strip() if title.startswith("Links for ") else ""
    return HtmlPage(
        files=tuple(files),
        api_version=parser.meta.get("pypi:repository-version"),
        base_href=parser.base_href,
        project_status=parser.meta.get("pypi:project-status"),
        project_status_reason=parser.meta.get("pypi:project-status-reason") or None,
        name=name,
        serial=parser.serial,
        warnings=tuple(warnings),
    )
