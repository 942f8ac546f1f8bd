"""Pure parsers for Simple Repository API project pages: PEP 691 JSON and PEP 503 HTML.

Both forms are read into the same intermediate shape and validated by the same code, so a JSON
page and an HTML page listing the same files give the same :class:`~db.records.DistFile` values
(except for what only JSON can say: ``size``, ``versions``). Page-level problems (wrong content
type, a login form, unreadable JSON, an API major version we do not speak) raise
:class:`PageError`: such a page fails and is never recorded as "0 files". Per-file problems
never raise: the raw value is kept (or ``None``) and a line goes to ``ProjectPage.warnings``.
Nothing here does I/O. The HTML reading itself is in :mod:`mirror.index_api.html_page`, the
checks of each file entry in :mod:`mirror.index_api.file_entries`.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urljoin

from db.records import DistFile, ProjectPage
from mirror.index_api.file_entries import FileValidator
from mirror.index_api.html_page import html_charset, read_html
from mirror.index_api.raw import (
    HTML_TYPES,
    JSON_TYPES,
    SUPPORTED_API_VERSION,
    PageError,
    RawFile,
    api_version,
    json_object,
)
from resolve.limits import DEFAULT_LIMITS, LimitExceeded

__all__ = [
    "ACCEPT",
    "SUPPORTED_API_VERSION",
    "PageError",
    "parse_project_page",
]

# PEP 691 content negotiation: JSON preferred, then the versioned HTML, then legacy text/html.
ACCEPT = (
    "application/vnd.pypi.simple.v1+json, "
    "application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)
# PEP 792 statuses; an unknown one is kept raw with a warning.
_STATUSES = frozenset({"active", "archived", "quarantined", "deprecated"})
# PEP 691 (JSON): the current name first, then the legacy ones (PEP 714).
# ``data-dist-info-metadata`` as a JSON key is a bug of some servers, copied from the HTML name.
_JSON_METADATA_KEYS = ("core-metadata", "dist-info-metadata", "data-dist-info-metadata")


def parse_project_page(
    body: bytes,
    content_type: str,
    base_url: str,
    project: str,
    *,
    max_files: int = DEFAULT_LIMITS.page_files,
    listing: bool = False,
) -> ProjectPage:
    """Parse a project page by the ``Content-Type`` the server actually returned (PEP 691).

    ``base_url`` is the page's final URL (after redirects): relative file URLs resolve against
    it. ``project`` is the name that was asked for; it splits legacy sdist names and is the
    display name when the page gives none. Raises :class:`PageError` for an unreadable page,
    and for one listing more than ``max_files`` files (the ``page-files`` limit). With
    ``listing``, the page is a flat listing of many projects (pip's ``--find-links``): every
    project's files are kept, for the source to pick from.
    """
    media, _, params = content_type.partition(";")
    media = media.strip().lower()
    if media in JSON_TYPES:
        return _parse_json(body, FileValidator(base_url, project, listing=listing), max_files)
    if media in HTML_TYPES:
        return _parse_html(
            body, html_charset(params), FileValidator(base_url, project, listing=listing), max_files
        )
    if not media:
        raise PageError("the response has no Content-Type; expected a Simple API project page")
    raise PageError(
        f"unexpected Content-Type {content_type!r}: expected a Simple API project page "
        "(application/vnd.pypi.simple.v1+json or HTML); a login or error page?"
    )


def _status(value: object, files: FileValidator) -> tuple[str | None, str | None]:
    """PEP 792 ``project-status``: ``{"status": …, "reason": …}`` (a bare string tolerated)."""
    if value is None:
        return None, None
    if isinstance(value, Mapping):
        status, reason = value.get("status"), value.get("reason")
    else:
        status, reason = value, None
    if not isinstance(status, str) or not status.strip():
        files.warn(f"project-status {value!r} unreadable (ignored)")
        return None, None
    status = status.strip()
    if status not in _STATUSES:
        files.warn(f"unknown project status {status!r} (kept)")
    return status, reason if isinstance(reason, str) and reason else None


def _whose(files: FileValidator) -> str:
    """Whose files a page must link to: a flat listing's may be any project's."""
    return "a distribution file" if files.listing else f"a file of {files.project}"


def _check_count(count: int, max_files: int, project: str) -> None:
    if count > max_files:
        exceeded = LimitExceeded(f"the page of {project} ({count} files)", "page-files", max_files)
        raise PageError(f"{exceeded.message}; {exceeded.hint}")


def _one_per_filename(dists: list[DistFile], files: FileValidator) -> tuple[DistFile, ...]:
    """A filename listed twice is one file: kept once when both entries agree on their hashes,
    left out when they disagree (which one the index would serve cannot be known, and a lock
    holding the other hash would never install)."""
    by_name: dict[str, list[DistFile]] = {}
    for dist in dists:
        by_name.setdefault(dist.filename, []).append(dist)
    kept = []
    for dist in dists:
        same = by_name[dist.filename]
        if len(same) == 1:
            kept.append(dist)
            continue
        if dist is not same[0]:
            continue
        digests = sorted({"/".join(f"{a}={h}" for a, h in d.hashes) or "none" for d in same})
        if len(digests) == 1:
            kept.append(dist)
        else:
            files.warn(
                f"{dist.filename}: listed {len(same)} times with different hashes "
                f"({' vs '.join(digests)}): left out"
            )
    return tuple(kept)


def _parse_json(body: bytes, files: FileValidator, max_files: int) -> ProjectPage:
    project = files.project
    doc = json_object(body)
    meta = doc.get("meta")
    if not isinstance(meta, dict):
        if meta is not None:
            files.warn(f"'meta' is a {type(meta).__name__}, not an object (ignored)")
        meta = {}
    version = api_version(meta.get("api-version"), files.warn)
    entries = doc.get("files")
    if not isinstance(entries, list):
        raise PageError("the JSON page has no 'files' list: not a PEP 691 project page")
    _check_count(len(entries), max_files, project)
    dists = []
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict):
            files.warn(f"file #{position + 1}: not an object (skipped)")
            continue
        metadata = next((entry[k] for k in _JSON_METADATA_KEYS if entry.get(k) is not None), None)
        raw = RawFile(
            href=entry.get("url"),
            filename=entry.get("filename"),
            hashes=entry.get("hashes"),
            requires_python=entry.get("requires-python"),
            yanked=entry.get("yanked", False),
            size=entry.get("size"),
            upload_time=entry.get("upload-time"),
            core_metadata=metadata,
            provenance=entry.get("provenance"),
        )
        if (dist := files.build(raw, position)) is not None:
            dists.append(dist)
    # PEP 700 ``versions`` may name versions that have no files; keep the page's order.
    raw_versions = doc.get("versions", [])
    versions = (
        [v for v in raw_versions if isinstance(v, str)] if isinstance(raw_versions, list) else []
    )
    if versions != raw_versions:
        files.warn(f"'versions' is not a list of strings: {raw_versions!r:.80} (kept the strings)")
    status_value = doc.get("project-status", meta.get("project-status"))
    status, reason = _status(status_value, files)
    if meta.get("api-version") is None and status_value is None and not files.distribution_links:
        # PEP 691 makes ``meta.api-version`` required: without it (or a PEP 792 status), a JSON
        # body none of whose entries is one of this project's files (an API error, another
        # service's JSON) is not "the project with no files", which would hide later indexes.
        found = f"{len(entries)} entries, none {_whose(files)}" if entries else "no files"
        raise PageError(
            f"the JSON page has {found} and no meta.api-version (PEP 691): not a project page"
        )
    serial = meta.get("_last-serial")
    # Private key (PEP 691 leaves ``_``-names to the index): some indexes send the number as a
    # JSON string, which means the same serial.
    if isinstance(serial, str) and serial.isascii() and serial.isdigit():
        serial = int(serial)
    if serial is not None and (isinstance(serial, bool) or not isinstance(serial, int)):
        files.warn(f"_last-serial {serial!r} is not an integer (ignored)")
        serial = None
    name = doc.get("name")
    return ProjectPage(
        name=name.strip() if isinstance(name, str) and name.strip() else project,
        api_version=version,
        files=_one_per_filename(dists, files),
        versions=tuple(versions),
        project_status=status,
        project_status_reason=reason,
        last_serial=serial,
        warnings=tuple(files.warnings),
    )


def _parse_html(body: bytes, charset: str, files: FileValidator, max_files: int) -> ProjectPage:
    project, base_url = files.project, files.base_url
    page = read_html(body, charset)  # raises PageError for a login page or one with no markup
    _check_count(len(page.files), max_files, project)
    for warning in page.warnings:
        files.warn(warning)
    version = api_version(page.api_version, files.warn)
    if page.base_href is not None:
        # HTML: the first <base href> applies to the whole document, itself relative to the page.
        try:
            files.base_url = urljoin(base_url, page.base_href.strip())
        except ValueError:
            files.warn(f"unreadable <base href={page.base_href!r}> (ignored)")
    dists = []
    for position, raw in page.files:
        if (dist := files.build(raw, position)) is not None:
            dists.append(dist)
    if page.api_version is None and page.project_status is None and not files.distribution_links:
        # PEP 503 pages carry no marker of their own: without a PEP 629 version (or PEP 792
        # status) meta, a page none of whose links is one of this project's files is a login,
        # error or landing page that answered 200, not "the project with no files" (which
        # would hide other indexes).
        found = f"{len(page.files)} link(s), none to {_whose(files)}" if page.files else "no links"
        raise PageError(
            f"the HTML page has {found} and no pypi:repository-version meta (PEP 629): "
            "not a project page"
        )
    status, reason = _status(page.project_status, files)
    if status is not None:
        reason = page.project_status_reason
    return ProjectPage(
        name=page.name or project,
        api_version=version,
        files=_one_per_filename(dists, files),
        project_status=status,
        project_status_reason=reason,
        last_serial=page.serial,
        warnings=tuple(files.warnings),
    )
