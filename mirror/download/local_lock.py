"""`mirror download`, the lock beside the files: ``DIR/pylock.toml``, the pylock.toml it read
with each downloaded file's entry pointing at the copy in DIR, so that pip and uv install from
DIR alone, with no index and no network.

PEP 751 ("Installation"): an installer uses a file's ``path`` when it is set, and its ``url``
only otherwise; a relative ``path`` is relative to the lock file. So every kept file entry gets
``path = "./NAME"`` next to its ``url``, which stays (the specification allows both: it records
where the file came from, for a bill of materials, and lets `mirror download` read this lock
again), with its ``size`` and ``hashes`` as they were. The entries of files that were not
downloaded (not for the lock's target) are left out: an entry with no copy beside the lock
would send an installer to the network. A package none of whose files was downloaded (a
universal lock's, whose marker holds on none of the targets) keeps its entries as they were.

Everything else is kept as the lock has it, in its order (the header comments, each package's
``index``, ``[tool.sneakernet]``), so the same lock and the same files give the same bytes.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from typing import Any

import tomli_w

from mirror.download.plan import DownloadItem
from resolve.lock.reader import pylock_file_name

__all__ = ["LOCAL_LOCK_NAME", "local_pylock"]

#: PEP 751's file name: what pip and uv recognise as a lock in ``-r FILE``.
LOCAL_LOCK_NAME = "pylock.toml"
_NOTE = (
    "# Written by `mirror download` beside the files it downloaded: each file's `path` is its",
    "# copy in this directory, which installers use before its `url` (PEP 751).",
)


def local_pylock(text: str, downloaded: Iterable[DownloadItem]) -> str:
    """The pylock.toml ``text`` (as `mirror download` read and planned it) for a directory that
    holds the ``downloaded`` files: only their entries, each with its relative ``path``."""
    present = {(item.filename, item.sha256) for item in downloaded}
    document = tomllib.loads(text)
    packages = []
    for package in document.get("packages", []):
        if not _any_present(package, present):
            # A universal lock's package whose marker holds on none of the targets: kept as
            # it was, a valid entry (PEP 751: a package has a source) that installers on
            # these targets skip, and that sends an installer on another to its URL rather
            # than leaving the package out without a word.
            packages.append(package)
            continue
        entry: dict[str, Any] = {}
        for key, value in package.items():
            if key == "wheels":
                wheels = [local for w in value if (local := _local(w, present)) is not None]
                if wheels:
                    entry[key] = wheels
            elif key == "sdist":
                if (sdist := _local(value, present)) is not None:
                    entry[key] = sdist
            else:
                entry[key] = value
        packages.append(entry)
    document["packages"] = packages
    return "\n".join([*_NOTE, *_header(text)]) + "\n\n" + tomli_w.dumps(document)


def _any_present(package: Mapping[str, Any], present: set[tuple[str, str]]) -> bool:
    tables = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
    return any(_local(table, present) is not None for table in tables)


def _local(table: Mapping[str, Any], present: set[tuple[str, str]]) -> dict[str, Any] | None:
    """The file entry with ``path`` after its ``url``, or None when the file is not present."""
    name = pylock_file_name(table, table["url"])
    if (name, str(table["hashes"]["sha256"]).lower()) not in present:
        return None
    local: dict[str, Any] = {}
    for key, value in table.items():
        if key == "path":
            continue  # this lock read again: the path is written anew, after the url
        local[key] = value
        if key == "url":
            # POSIX separators, relative to the lock (PEP 751): the lock and the files move
            # together. The name was checked to be a plain file name (mirror/download/plan.py).
            local["path"] = f"./{name}"
    return local


def _header(text: str) -> list[str]:
    """The comment lines that open ``text`` (what `resolve` wrote there: the command and the
    snapshot), without the note a copy made by this module begins with."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        lines.append(line.rstrip())
    return lines[len(_NOTE) :] if tuple(lines[: len(_NOTE)]) == _NOTE else lines
