"""Pure parsers for Simple Repository API project pages: PEP 691 JSON and PEP 503 HTML.

Both forms are read into the same intermediate shape and validated by the same code, so a JSON
page and an HTML page listing the same files give the same :class:`~db.records.DistFile` values
(except for what only JSON can say: ``size``, ``versions``). Page-level problems (wrong content
type, a login form, unreadable JSON, an API major version we do not speak) raise
:class:`PageError`: such a page fails and is never recorded as "0 files". Per-file problems
never raise: the raw value is kept (or ``None``) and a line goes to ``ProjectPage.warnings``.
Nothing here does I/O. The HTML reading itself is in :mod:`mirror.simple_html`.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from db.records import DistFile, ProjectPage, canonical_name
from mirror.filenames import ParsedFilename, UnsupportedFilename, check_filename
from mirror.simple_html import html_charset, read_html
from mirror.simple_records import PageError, RawFile
from mirror.urls import join_url, strip_credentials

__all__ = [
    "ACCEPT",
    "SUPPORTED_API_VERSION",
    "PageError",
    "normalise_upload_time",
    "parse_project_page",
]

# PEP 691 content negotiation: JSON preferred, then the versioned HTML, then legacy text/html.
ACCEPT = (
    "application/vnd.pypi.simple.v1+json, "
    "application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)
# PEP 629: the newest 1.x we know (1.4 adds PEP 792 project status). Newer minors only add keys.
SUPPORTED_API_VERSION = "1.4"
_SUPPORTED = (1, 4)

# ``latest`` is a request-side alias (PEP 691) that servers should not echo, but some do.
# ``application/json`` is not in the spec; misconfigured proxies relabel the JSON form with it.
_JSON_TYPES = frozenset(
    {
        "application/vnd.pypi.simple.v1+json",
        "application/vnd.pypi.simple.latest+json",
        "application/json",
    }
)
_HTML_TYPES = frozenset(
    {"application/vnd.pypi.simple.v1+html", "application/vnd.pypi.simple.latest+html", "text/html"}
)
# PEP 792 statuses; an unknown one is kept raw with a warning.
_STATUSES = frozenset({"active", "archived", "quarantined", "deprecated"})
_HASH_NAME = re.compile(r"[a-z0-9_]+")
_HEX = re.compile(r"[0-9a-f]+")
_API_VERSION = re.compile(r"(\d+)(?:\.(\d+))?")
# PEP 700 says UTC ISO 8601 (``Z``); tolerate ``+00:00``, a space for ``T`` and no zone (UTC).
_UPLOAD_TIME = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:[.,](\d+))?\s*([Zz]|[+-]\d\d(?::?\d\d)?)?"
)
# PEP 691 (JSON): the current name first, then the legacy ones (PEP 714).
# ``data-dist-info-metadata`` as a JSON key is a bug of some servers, copied from the HTML name.
_JSON_METADATA_KEYS = ("core-metadata", "dist-info-metadata", "data-dist-info-metadata")


_CANONICAL_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


@lru_cache(maxsize=1024)
def _valid_specifier(text: str) -> bool:
    """Pages repeat the same few requires-python values; check each once."""
    try:
        SpecifierSet(text)
    except InvalidSpecifier:
        return False
    return True


def normalise_upload_time(value: str) -> str | None:
    """PEP 700 ``upload-time`` → ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z`` in UTC; ``None`` if unreadable.

    Always six fraction digits (more are truncated), so one instant has one spelling and the
    stored strings sort in time order.
    """
    if _CANONICAL_TIME.fullmatch(value):  # already the stored form: the common case on JSON
        try:
            datetime.fromisoformat(value[:-1])  # still reject impossible dates (2024-02-30)
        except ValueError:
            return None
        return value
    match = _UPLOAD_TIME.fullmatch(value.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(match[i]) for i in range(1, 7))
    fraction, zone = match[7], match[8]
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        moment = datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)
    except ValueError:
        return None
    if zone is not None and zone.upper() != "Z":
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
        moment = moment - offset if zone[0] == "+" else moment + offset
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{moment.microsecond:06d}Z"


def parse_project_page(body: bytes, content_type: str, base_url: str, project: str) -> ProjectPage:
    """Parse a project page by the ``Content-Type`` the server actually returned (PEP 691).

    ``base_url`` is the page's final URL (after redirects): relative file URLs resolve against
    it. ``project`` is the name that was asked for; it splits legacy sdist names and is the
    display name when the page gives none. Raises :class:`PageError` for an unreadable page.
    """
    media, _, params = content_type.partition(";")
    media = media.strip().lower()
    if media in _JSON_TYPES:
        return _parse_json(body, base_url, project)
    if media in _HTML_TYPES:
        return _parse_html(body, html_charset(params), base_url, project)
    if not media:
        raise PageError("the response has no Content-Type; expected a Simple API project page")
    raise PageError(
        f"unexpected Content-Type {content_type!r}: expected a Simple API project page "
        "(application/vnd.pypi.simple.v1+json or HTML); a login or error page?"
    )


class _Files:
    """Validates :class:`RawFile` values into :class:`DistFile` values, collecting warnings."""

    def __init__(self, base_url: str, project: str) -> None:
        self.base_url = base_url
        self.project = project
        self.canonical_project = canonical_name(project)
        self.warnings: list[str] = []

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def build(self, raw: RawFile, position: int) -> DistFile | None:
        label = f"file #{position + 1}"
        if not isinstance(raw.href, str) or not raw.href.strip():
            self.warn(f"{label}: no URL (skipped)")
            return None
        try:
            url, _, fragment = join_url(self.base_url, raw.href.strip()).partition("#")
        except ValueError as exc:  # e.g. a malformed IPv6 host
            self.warn(f"{label}: unreadable URL {strip_credentials(raw.href)!r}: {exc} (skipped)")
            return None
        if "@" in url:
            url = strip_credentials(url)
        # The page's own name for the file (JSON ``filename``, PEP 503 anchor text) first; when
        # it is not a distribution name (``Download``), the URL's last path segment (still
        # quoted: check_filename decodes ``%2B``) — only parsed then, as pages are large.
        given = raw.filename.strip() if isinstance(raw.filename, str) else ""
        results: list[ParsedFilename | UnsupportedFilename] = []
        if given:
            results.append(check_filename(given, self.project))
        if not results or not isinstance(results[0], ParsedFilename):
            from_url = urlsplit(url).path.rpartition("/")[2].strip()
            if from_url:
                results.append(check_filename(from_url, self.project))
        parsed = next((r for r in results if isinstance(r, ParsedFilename)), None)
        if parsed is None:
            bad = [r for r in results if isinstance(r, UnsupportedFilename)]
            if bad and bad[0].legacy:
                return None
            problem = (
                f"{bad[0].filename}: skipped: {bad[0].reason}" if bad else f"{label}: no filename"
            )
            self.warn(f"{problem} ({url})")
            return None
        label = parsed.filename
        if not parsed.version_valid:
            self.warn(f"{label}: version {parsed.version!r} is not valid PEP 440 (kept raw)")
        if parsed.project != self.canonical_project:
            self.warn(f"{label}: names project {parsed.project!r}, not {self.project!r}")
        hashes = self.hashes(raw.hashes, label, "hashes")
        algo, sep, digest = fragment.partition("=")
        algo, digest = algo.strip().lower(), digest.strip().lower()
        # PEP 503: ``#<hashname>=<hex>`` with a hashlib name; other fragments (``#egg=``) are not
        # hashes. algorithms_guaranteed, not _available, so every machine reads a page alike.
        if sep and algo in hashlib.algorithms_guaranteed:
            if _HEX.fullmatch(digest):
                hashes.setdefault(algo, digest)
            else:
                self.warn(f"{label}: URL fragment hash {algo}={digest!r} is not hex (ignored)")
        yanked, reason = self.yanked(raw.yanked, label)
        return DistFile(
            filename=parsed.filename,
            url=url,
            project=parsed.project,
            version=parsed.version,
            version_valid=parsed.version_valid,
            is_wheel=parsed.is_wheel,
            tags=parsed.tags,
            hashes=tuple(sorted(hashes.items())),
            requires_python=self.requires_python(raw.requires_python, label),
            yanked=yanked,
            yanked_reason=reason,
            upload_time=self.upload_time(raw.upload_time, label),
            size=self.size(raw.size, label),
            core_metadata=self.core_metadata(raw.core_metadata, label),
            provenance=self.provenance(raw.provenance, label),
        )

    def hashes(self, value: object, label: str, key: str) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.warn(f"{label}: {key} is not an object (ignored)")
            return {}
        found: dict[str, str] = {}
        for algo, digest in value.items():
            name = str(algo).strip().lower()
            hexdigest = digest.strip().lower() if isinstance(digest, str) else ""
            if _HASH_NAME.fullmatch(name) and _HEX.fullmatch(hexdigest):
                found[name] = hexdigest
            else:
                self.warn(
                    f"{label}: {key} entry {algo!r}: {digest!r} is not a hex digest (ignored)"
                )
        return found

    def requires_python(self, value: object, label: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            self.warn(f"{label}: requires-python {value!r} is not a string (ignored)")
            return None
        # Some servers escape twice (``&amp;gt;=3.8``); ``&`` is never part of a specifier, so
        # unescaping again is safe, as pip does for data-requires-python.
        text = html.unescape(value).strip() if "&" in value else value.strip()
        if not text:
            return None
        if not _valid_specifier(text):
            self.warn(f"{label}: requires-python {text!r} is not a valid specifier (kept raw)")
        return text

    def yanked(self, value: object, label: str) -> tuple[bool, str | None]:
        # PEP 592: a string means yanked, with that reason; an empty one gives no reason.
        if value is None or isinstance(value, bool):
            return bool(value), None
        if isinstance(value, str):
            return True, value.strip() or None
        self.warn(f"{label}: yanked {value!r} is neither a bool nor a reason (taken as truthy)")
        return bool(value), None

    def upload_time(self, value: object, label: str) -> str | None:
        if value is None:
            return None  # absent stays unknown, never "now" (MIRROR.md)
        text = normalise_upload_time(value) if isinstance(value, str) else None
        if text is None:
            self.warn(f"{label}: upload-time {value!r} is not an ISO 8601 UTC time (ignored)")
        return text

    def size(self, value: object, label: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        self.warn(f"{label}: size {value!r} is not a byte count (ignored)")
        return None

    def core_metadata(self, value: object, label: str) -> tuple[tuple[str, str], ...] | None:
        """PEP 658/714: ``None`` when not offered, else the metadata file's hashes (maybe none)."""
        if value is None or value is False:
            return None
        if value is True:
            return ()
        if isinstance(value, Mapping):
            return tuple(sorted(self.hashes(value, label, "core-metadata").items()))
        if isinstance(value, str):
            text = value.strip().lower()
            if text in ("", "true"):
                return ()
            if text == "false":
                return None
            algo, sep, digest = text.partition("=")
            if sep and _HASH_NAME.fullmatch(algo) and _HEX.fullmatch(digest):
                return ((algo, digest),)
        # The key is there, so per PEP 658 the file exists; only its hash is unreadable.
        self.warn(f"{label}: core-metadata {value!r} unreadable (taken as offered, no hash)")
        return ()

    def provenance(self, value: object, label: str) -> str | None:
        if value is None:
            return None
        if isinstance(value, str) and value.strip():
            try:  # PEP 740: a URL, relative to the page like file URLs
                return strip_credentials(urljoin(self.base_url, value.strip()))
            except ValueError:
                pass
        self.warn(f"{label}: provenance {value!r} is not a URL (ignored)")
        return None


def _api_version(value: object, files: _Files) -> str:
    """PEP 629: absent means 1.0; another major fails the page; a newer minor warns."""
    if value is None:
        return "1.0"
    text = str(value).strip()
    match = _API_VERSION.fullmatch(text)
    if match is None:
        files.warn(f"unreadable API version {text!r}; read as 1.0")
        return text
    major, minor = int(match[1]), int(match[2] or 0)
    if major != _SUPPORTED[0]:
        raise PageError(
            f"index speaks API version {text}; this tool supports {_SUPPORTED[0]}.x"
            f" (up to {SUPPORTED_API_VERSION})"
        )
    if minor > _SUPPORTED[1]:
        files.warn(
            f"index speaks API version {text}, newer than {SUPPORTED_API_VERSION}: "
            "fields this tool does not know are ignored"
        )
    return text


def _status(value: object, files: _Files) -> tuple[str | None, str | None]:
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


def _parse_json(body: bytes, base_url: str, project: str) -> ProjectPage:
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise PageError(f"the page is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise PageError(f"the JSON page is a {type(doc).__name__}, not an object")
    files = _Files(base_url, project)
    meta = doc.get("meta")
    if not isinstance(meta, dict):
        if meta is not None:
            files.warn(f"'meta' is a {type(meta).__name__}, not an object (ignored)")
        meta = {}
    api_version = _api_version(meta.get("api-version"), files)
    entries = doc.get("files")
    if not isinstance(entries, list):
        raise PageError("the JSON page has no 'files' list: not a PEP 691 project page")
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
        api_version=api_version,
        files=tuple(dists),
        versions=tuple(versions),
        project_status=status,
        project_status_reason=reason,
        last_serial=serial,
        warnings=tuple(files.warnings),
    )


def _parse_html(body: bytes, charset: str, base_url: str, project: str) -> ProjectPage:
    page = read_html(body, charset)  # raises PageError for a login page or one with no markup
    files = _Files(base_url, project)
    for warning in page.warnings:
        files.warn(warning)
    api_version = _api_version(page.api_version, files)
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
    status, reason = _status(page.project_status, files)
    if status is not None:
        reason = page.project_status_reason
    return ProjectPage(
        name=page.name or project,
        api_version=api_version,
        files=tuple(dists),
        project_status=status,
        project_status_reason=reason,
        last_serial=page.serial,
        warnings=tuple(files.warnings),
    )
