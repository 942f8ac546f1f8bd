"""Warnings about one file entry of a page, with their kind, so that a summary can say
"120 files in ancient formats left out" in one line instead of 120 (mirror.sync.warning_summary).

A :class:`FileWarning` *is* its text (a ``str``): every reader of ``ProjectPage.warnings`` and of
the sync's JSON ``warnings`` keeps seeing the same lines; only a summary looks at the kind.
"""

from __future__ import annotations

__all__ = ["KINDS", "FileWarning", "prefixed"]

#: Each kind and how a summary line counts it: "<N> <phrase> (e.g. <filenames>)".
KINDS: dict[str, str] = {
    "ancient-format": "files in ancient formats (PEP 527: .egg, .exe, .msi, .rpm, .dmg) left out",
    "unknown-format": "files that are neither wheels nor sdists left out",
    "unsafe-name": "files whose names would leave their directory left out",
    "other-project": "files of another project left out",
    "no-url": "file entries without a usable URL or filename left out",
    "bad-digest": "digests that are not digests (wrong length or not hex) ignored",
    "invalid-version": "files whose version is not PEP 440 kept as they are",
    "bad-requires-python": "files with an unreadable requires-python",
    "bad-yanked": "files with an unreadable yanked value (taken as yanked)",
    "bad-upload-time": "files with an unreadable upload-time (ignored)",
    "bad-size": "files with an unreadable size (ignored)",
    "bad-core-metadata": "files with an unreadable core-metadata value",
    "bad-provenance": "files with an unreadable provenance (ignored)",
}


class FileWarning(str):
    """One warning line about one file: ``kind`` is a key of :data:`KINDS`, ``filename`` the
    file's name (or its position on the page when it has none)."""

    __slots__ = ("filename", "kind")
    kind: str
    filename: str

    def __new__(cls, text: str, kind: str, filename: str) -> FileWarning:
        warning = super().__new__(cls, text)
        warning.kind, warning.filename = kind, filename
        return warning


def prefixed(prefix: str, warning: str) -> str:
    """``prefix + warning``, keeping a file warning's kind and filename."""
    if isinstance(warning, FileWarning):
        return FileWarning(prefix + warning, warning.kind, warning.filename)
    return prefix + warning
