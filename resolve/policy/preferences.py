"""The pins of an existing lock, honoured as preferences (pip-compile's ``-o`` habit).

The lock is read by :mod:`resolve.lock.reader`, the one reader `mirror download` uses too, so a
requirements.txt, a pylock.toml and a JSON lock are told apart the same way everywhere, whatever
the file is called (``--format`` need not match the name). Only the pins' names and versions
matter here, so their files are not checked: a pin list without hashes still gives its pins. A
file that cannot be read as a lock is an error naming it: silently ignoring it would quietly
upgrade every pin. Only a regular file is read: ``-o /dev/null`` or a FIFO is where the new lock
goes, not an old one (reading a FIFO would wait for a writer that never comes).
"""

from __future__ import annotations

from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import Version

from db.errors import SneakernetError
from db.versions import parse_version
from resolve.lock.files import is_regular_file

__all__ = ["ForkPreferences", "read_lock_preferences", "read_preferences"]

#: A project a universal lock pins at several versions: each version with its marker.
ForkPreferences = dict[str, tuple[tuple[str, Version], ...]]


def read_preferences(path: Path) -> dict[str, Version]:
    """``{canonical name: version}`` from an existing lock; ``{}`` if there is no regular
    file at PATH."""
    return read_lock_preferences(path)[0]


def read_lock_preferences(path: Path) -> tuple[dict[str, Version], ForkPreferences]:
    """The preferences of an existing lock (:func:`read_preferences`), and, of a universal
    lock, each project pinned at several versions with each version's marker, so that
    each fork keeps the version the lock gave its environments
    (:func:`resolve.universal.forks.solve_forks`)."""
    if not is_regular_file(path):
        return {}, {}
    # Imported here for start-up time: a first lock (no file at PATH yet) reads none.
    from resolve.lock.reader import LockfileError, read_lock

    hint = f"{path} is the lock whose pins are kept: fix it, remove it, or give another -o FILE"
    try:
        lock = read_lock(path, need_files=False)
    except SneakernetError as exc:
        raise LockfileError(exc.message, hint=hint) from exc
    found: dict[str, Version] = {}
    marked: dict[str, list[tuple[str, Version]]] = {}
    for pin in lock.pins:
        version = parse_version(pin.version)
        if version is None:
            where = f"{path}:{pin.line}" if pin.line else str(path)
            raise LockfileError(
                f"{where}: {pin.name} {pin.version!r} is not a PEP 440 version", hint=hint
            )
        name = canonicalize_name(pin.name)
        # A universal lock may pin a project at several versions (one per set of
        # environments): the highest is the preference, except in the forks of a universal
        # resolution that one of the others' markers meets.
        if pin.marker:
            marked.setdefault(name, []).append((pin.marker, version))
        if name not in found or version > found[name]:
            found[name] = version
    forked = {name: tuple(pins) for name, pins in marked.items() if len(pins) > 1}
    return found, forked
