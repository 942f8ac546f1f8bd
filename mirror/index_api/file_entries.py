"""Per-file validation of Simple Repository API pages: one raw file entry to a :class:`DistFile`.

The JSON (PEP 691) and HTML (PEP 503) readers in :mod:`mirror.index_api.project_page` both produce
:class:`~mirror.index_api.raw.RawFile` values and hand them here, so both forms of a page are
checked by the same rules. A file entry never fails the page: an unreadable field is kept raw or
dropped, and a warning line says which.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from db.canonical import canonical_name
from db.records import DistFile
from db.urls import strip_credentials
from mirror.index_api.file_warnings import FileWarning
from mirror.index_api.filenames import ParsedFilename, UnsupportedFilename, check_filename
from mirror.index_api.raw import RawFile
from mirror.index_api.urls import join_url

__all__ = ["FileValidator", "is_digest", "normalise_upload_time"]

_HASH_NAME = re.compile(r"[a-z0-9_]+")
_HEX = re.compile(r"[0-9a-f]+")
# Hex length of each hashlib algorithm's digest (the SHAKEs have none fixed): a digest of
# another length cannot be the file's, and would only make a lock that never installs.
_HEX_LENGTH = {
    name: hashlib.new(name).digest_size * 2
    for name in hashlib.algorithms_guaranteed
    if not name.startswith("shake_")
}
# PEP 700 says UTC ISO 8601 (``Z``); tolerate ``+00:00``, a space for ``T`` and no zone (UTC).
_UPLOAD_TIME = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:[.,](\d+))?\s*([Zz]|[+-]\d\d(?::?\d\d)?)?"
)
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


def is_digest(algorithm: str, hexdigest: str) -> bool:
    """Lower-case hex of the algorithm's length (any length for a name hashlib lacks)."""
    expected = _HEX_LENGTH.get(algorithm)
    if expected is not None and len(hexdigest) != expected:
        return False
    return _HEX.fullmatch(hexdigest) is not None


class FileValidator:
    """Validates :class:`RawFile` values into :class:`DistFile` values, collecting warnings."""

    def __init__(self, base_url: str, project: str, *, listing: bool = False) -> None:
        self.base_url = base_url
        self.project = project
        #: A flat listing (pip's --find-links page) holds many projects' files; the source
        #: picks each project's own. A project page holds only its own.
        self.listing = listing
        self.canonical_project = canonical_name(project)
        self.warnings: list[str] = []
        #: Links that name one of this project's distributions (any project's in a listing;
        #: legacy kinds included): a
        #: page with none, and no PEP 629 version, is not a project page (project_page.py).
        self.distribution_links = 0

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def warn_file(self, kind: str, filename: str, detail: str) -> None:
        """A warning about one file, counted by kind in the sync's summary."""
        self.warnings.append(FileWarning(f"{filename}: {detail}", kind, filename))

    def build(self, raw: RawFile, position: int) -> DistFile | None:
        label = f"file #{position + 1}"
        if not isinstance(raw.href, str) or not raw.href.strip():
            self.warn_file("no-url", label, "no URL (skipped)")
            return None
        try:
            url, _, fragment = join_url(self.base_url, raw.href.strip()).partition("#")
        except ValueError as exc:  # e.g. a malformed IPv6 host
            shown = strip_credentials(raw.href)
            self.warn_file("no-url", label, f"unreadable URL {shown!r}: {exc} (skipped)")
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
            if not bad:
                self.warn_file("no-url", label, f"no filename ({url})")
                return None
            if bad[0].legacy:
                # PEP 527's retired formats: pip and uv pass over them without a word; old
                # releases list thousands, so the summary gives them one line.
                self.distribution_links += 1
            self.warn_file(bad[0].kind, bad[0].filename, f"skipped: {bad[0].reason} ({url})")
            return None
        label = parsed.filename
        if not parsed.version_valid:
            detail = f"version {parsed.version!r} is not valid PEP 440 (kept raw)"
            self.warn_file("invalid-version", label, detail)
        # pip skips a file named for another project; keeping it would let a page put bar's
        # file (and hash) into a lock as foo.
        if parsed.project != self.canonical_project and not self.listing:
            detail = f"names project {parsed.project!r}, not {self.project!r} (skipped)"
            self.warn_file("other-project", label, detail)
            return None
        self.distribution_links += 1
        hashes = self.hashes(raw.hashes, label, "hashes")
        algo, sep, digest = fragment.partition("=")
        algo, digest = algo.strip().lower(), digest.strip().lower()
        # PEP 503: ``#<hashname>=<hex>`` with a hashlib name; other fragments (``#egg=``) are not
        # hashes. algorithms_guaranteed, not _available, so every machine reads a page alike.
        if sep and algo in hashlib.algorithms_guaranteed:
            if is_digest(algo, digest):
                hashes.setdefault(algo, digest)
            else:
                detail = f"URL fragment hash {algo}={digest!r} is not a digest (ignored)"
                self.warn_file("bad-digest", label, detail)
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
            self.warn_file("bad-digest", label, f"{key} is not an object (ignored)")
            return {}
        found: dict[str, str] = {}
        for algo, digest in value.items():
            name = str(algo).strip().lower()
            hexdigest = digest.strip().lower() if isinstance(digest, str) else ""
            if _HASH_NAME.fullmatch(name) and is_digest(name, hexdigest):
                found[name] = hexdigest
            else:
                detail = f"{key} entry {algo!r}: {digest!r} is not a digest (ignored)"
                self.warn_file("bad-digest", label, detail)
        return found

    def requires_python(self, value: object, label: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            detail = f"requires-python {value!r} is not a string (ignored)"
            self.warn_file("bad-requires-python", label, detail)
            return None
        # Some servers escape twice (``&amp;gt;=3.8``); ``&`` is never part of a specifier, so
        # unescaping again is safe, as pip does for data-requires-python.
        text = html.unescape(value).strip() if "&" in value else value.strip()
        if not text:
            return None
        if not _valid_specifier(text):
            detail = f"requires-python {text!r} is not a valid specifier (kept raw)"
            self.warn_file("bad-requires-python", label, detail)
        return text

    def yanked(self, value: object, label: str) -> tuple[bool, str | None]:
        # PEP 592: a string means yanked, with that reason; an empty one gives no reason.
        if value is None or isinstance(value, bool):
            return bool(value), None
        if isinstance(value, str):
            return True, value.strip() or None
        detail = f"yanked {value!r} is neither a bool nor a reason (taken as truthy)"
        self.warn_file("bad-yanked", label, detail)
        return bool(value), None

    def upload_time(self, value: object, label: str) -> str | None:
        if value is None:
            return None  # absent stays unknown, never "now" (MIRROR.md)
        text = normalise_upload_time(value) if isinstance(value, str) else None
        if text is None:
            detail = f"upload-time {value!r} is not an ISO 8601 UTC time (ignored)"
            self.warn_file("bad-upload-time", label, detail)
        return text

    def size(self, value: object, label: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        self.warn_file("bad-size", label, f"size {value!r} is not a byte count (ignored)")
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
            if sep and _HASH_NAME.fullmatch(algo) and is_digest(algo, digest):
                return ((algo, digest),)
        # The key is there, so per PEP 658 the file exists; only its hash is unreadable.
        detail = f"core-metadata {value!r} unreadable (taken as offered, no hash)"
        self.warn_file("bad-core-metadata", label, detail)
        return ()

    def provenance(self, value: object, label: str) -> str | None:
        if value is None:
            return None
        if isinstance(value, str) and value.strip():
            try:  # PEP 740: a URL, relative to the page like file URLs
                return strip_credentials(urljoin(self.base_url, value.strip()))
            except ValueError:
                pass
        self.warn_file("bad-provenance", label, f"provenance {value!r} is not a URL (ignored)")
        return None
