"""`mirror download`, planning: the files a lock names → what to fetch, and from where.

A lock that names no URLs (requirements.txt) is planned from the snapshot its header names; a
pylock.toml carries its URLs. Either way nothing is fetched until the whole plan is checked:
every target name is a plain wheel or sdist name (:func:`check_target_name`), every URL is
HTTP, and no name is locked with two hashes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from db.errors import SneakernetError
from db.index_config import IndexConfig
from db.read.snapshot_reader import SnapshotReader
from db.urls import strip_credentials
from mirror.index_api.filenames import UnsupportedFilename, check_filename
from resolve.lock.reader import LockFile

__all__ = [
    "DownloadItem",
    "LockMismatch",
    "check_target_name",
    "listing",
    "plan_from_snapshot",
    "plan_from_urls",
]


class LockMismatch(SneakernetError):
    """The lock names a file that cannot be planned: a bad file name, or a hash that the
    snapshot does not know. Raised before anything is fetched."""


@dataclass(frozen=True, slots=True)
class DownloadItem:
    """One file to fetch. ``index`` is the origin index as the database knows it (its name
    selects credentials from the environment); ``index_url`` when only the URL is known."""

    filename: str
    url: str
    sha256: str
    size: int | None
    pin: str
    index: IndexConfig | None = None
    index_url: str | None = None

    @property
    def shown_url(self) -> str:
        return strip_credentials(self.url)


def check_target_name(filename: str) -> str | None:
    """Why ``filename`` may not be written into the download directory, or None."""
    if not filename or any(ord(c) < 32 or c == "\x7f" for c in filename):
        return "it is empty or contains a control character"
    if "/" in filename or "\\" in filename or ":" in filename:
        return "it contains a path separator or a drive"
    if filename.startswith("."):
        return "it starts with a dot"
    checked = check_filename(filename)
    if isinstance(checked, UnsupportedFilename):
        return f"it is not a wheel or sdist file name: {checked.reason}"
    return None


def plan_from_snapshot(lock: LockFile, reader: SnapshotReader) -> list[DownloadItem]:
    """The files of a requirements lock: each ``--hash`` looked up in the snapshot's pages
    for its pin (the first index by priority that lists the hash)."""
    items: list[DownloadItem] = []
    unknown: list[str] = []
    for pin in lock.pins:
        project = reader.project(pin.name)
        by_hash: dict[str, DownloadItem] = {}
        for page in project.pages:
            for record in page.files:
                if record.sha256 and record.sha256 not in by_hash:
                    by_hash[record.sha256] = DownloadItem(
                        record.filename,
                        record.url,
                        record.sha256,
                        record.size,
                        str(pin),
                        page.index,
                        page.index.url,
                    )
        for locked in pin.files:
            item = by_hash.get(locked.sha256)
            if item is None:
                where = f"{lock.path}:{locked.line}" if locked.line else str(lock.path)
                absent = "" if project.in_snapshot else f" ({pin.name} is not in it at all)"
                unknown.append(
                    f"{where}: {pin}: no file with sha256 {locked.sha256} in snapshot "
                    f"{reader.snapshot.name}{absent}"
                )
            else:
                items.append(item)
    if unknown:
        raise LockMismatch(
            listing(f"{len(unknown)} locked hash(es) are not in the snapshot", unknown),
            hint="download with the database the lock was resolved from (--db), or resolve the "
            "lock again against this snapshot",
        )
    return _checked(items)


def plan_from_urls(lock: LockFile, indexes: Sequence[IndexConfig] = ()) -> list[DownloadItem]:
    """The files of a pylock.toml, which names their URLs; ``indexes`` are the configured
    ones, matched by URL to a pin's index so that their credentials apply."""
    by_url = {i.url.rstrip("/"): i for i in indexes}
    items: list[DownloadItem] = []
    for pin in lock.pins:
        index_url = strip_credentials(pin.index).rstrip("/") if pin.index else None
        index = by_url.get(index_url) if index_url else None
        for locked in pin.files:
            assert locked.filename is not None and locked.url is not None  # pylock names both
            items.append(
                DownloadItem(
                    locked.filename,
                    locked.url,
                    locked.sha256,
                    locked.size,
                    str(pin),
                    index,
                    pin.index,
                )
            )
    return _checked(items)


def _checked(items: Iterable[DownloadItem]) -> list[DownloadItem]:
    """Refuse unsafe names, URLs other than HTTP, and two files under one name; one item
    per file, by name."""
    problems: list[str] = []
    chosen: dict[str, DownloadItem] = {}
    for item in items:
        reason = check_target_name(item.filename)
        if reason is not None:
            problems.append(f"{item.pin}: refusing the file name {item.filename!r}: {reason}")
            continue
        if not item.url.lower().startswith(("http://", "https://")):
            problems.append(
                f"{item.filename}: only http(s) URLs can be downloaded, not {item.shown_url}"
            )
            continue
        other = chosen.setdefault(item.filename, item)
        if other.sha256 != item.sha256:
            problems.append(
                f"{item.filename} is locked with two hashes ({other.pin}: {other.sha256}; "
                f"{item.pin}: {item.sha256})"
            )
    if problems:
        raise LockMismatch(
            listing("the lock names files that cannot be fetched or written", problems),
            hint="a lock names each file by its plain wheel or sdist name, once; regenerate "
            "it with `resolve` rather than editing it by hand",
        )
    return sorted(chosen.values(), key=lambda i: i.filename)


def listing(title: str, lines: Sequence[str]) -> str:
    """``title:`` and the first 20 ``lines``, indented, one per line."""
    shown = "\n  ".join(lines[:20])
    more = f"\n  … and {len(lines) - 20} more" if len(lines) > 20 else ""
    return f"{title}:\n  {shown}{more}"
