"""Whether a page is what an index URL must name: a Simple API index's root, or a flat page
of distributions (pip's ``--find-links``).

``mirror index add`` reads the URL once before storing it, so a login page, a landing page, a
project's own page or an error page that answered 200 fails there, naming the URL, instead of
failing every page of every sync. The rules are the project page readers' (same media types,
same PEP 629 version check, same HTML reader), applied to the root:

- PEP 691 JSON: ``{"meta": {"api-version": "1.x"}, "projects": [{"name": …}, …]}``; the
  version is required, as it is of every JSON page;
- PEP 503 HTML: one anchor per project, its text the project's name and its link that
  project's ``…/<name>/`` URL. Plain HTML carries no marker, so a page with no such link needs
  PEP 629's ``pypi:repository-version`` meta to count (an index with no projects yet);
- a flat page is read exactly as the sync reads it (:func:`parse_project_page`, listing).

Nothing here does I/O.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from db.canonical import canonical_name
from mirror.index_api.filenames import parse_filename
from mirror.index_api.html_page import html_charset, read_html
from mirror.index_api.project_page import parse_project_page
from mirror.index_api.raw import (
    HTML_TYPES,
    JSON_TYPES,
    PageError,
    RawFile,
    api_version,
    json_object,
)

__all__ = ["check_index_root"]


def check_index_root(
    body: bytes, content_type: str, base_url: str, *, flat: bool, max_files: int
) -> None:
    """Raise :class:`PageError` saying why ``body`` is not an index root (with ``flat``: not
    a flat page of distributions). ``max_files`` is the ``page-files`` limit of flat pages."""
    if flat:
        parse_project_page(body, content_type, base_url, "", max_files=max_files, listing=True)
        return
    media, _, params = content_type.partition(";")
    media = media.strip().lower()
    if media in JSON_TYPES:
        _check_json(body)
    elif media in HTML_TYPES:
        _check_html(body, html_charset(params))
    elif not media:
        raise PageError("the response has no Content-Type; expected a Simple API index page")
    else:
        raise PageError(
            f"the Content-Type {content_type!r} is not a Simple API page's "
            "(application/vnd.pypi.simple.v1+json or HTML)"
        )


def _ignore(_warning: str) -> None:
    """Warnings (a newer minor API version) are the sync's to show, page by page."""


def _check_json(body: bytes) -> None:
    doc = json_object(body)
    if isinstance(doc.get("files"), list):
        raise PageError("the JSON page lists files, not projects: a project page, not the root")
    meta = doc.get("meta")
    if not isinstance(meta, dict) or meta.get("api-version") is None:
        raise PageError("the JSON page has no meta.api-version (PEP 691): not a Simple API page")
    api_version(meta["api-version"], _ignore)  # another major version fails here
    if not isinstance(doc.get("projects"), list):
        raise PageError("the JSON page has no 'projects' list (PEP 691): not an index root")


def _check_html(body: bytes, charset: str) -> None:
    page = read_html(body, charset)  # raises for a login page or one with no markup
    api_version(page.api_version, _ignore)
    files = projects = 0
    for _position, raw in page.files:
        text = raw.filename.strip() if isinstance(raw.filename, str) else ""
        if parse_filename(text) is not None:
            files += 1
        elif _project_link(raw, text):
            projects += 1
    if projects:
        return
    if files:
        raise PageError(
            f"the HTML page links {files} distribution file(s) and no project: a project page "
            "or a flat page of files, not an index root"
        )
    if page.api_version is None:
        found = f"{len(page.files)} link(s), none to a project" if page.files else "no links"
        raise PageError(
            f"the HTML page has {found} and no pypi:repository-version meta (PEP 629): "
            "not a Simple API index"
        )


def _project_link(raw: RawFile, text: str) -> bool:
    """PEP 503: the anchor's text is the project's name and it links to ``…/<name>/``."""
    if not text or not isinstance(raw.href, str):
        return False
    try:
        path = urlsplit(raw.href.strip()).path
    except ValueError:  # a malformed IPv6 host
        return False
    last = unquote(path.rstrip("/").rpartition("/")[2])
    return bool(last) and canonical_name(last) == canonical_name(text)
