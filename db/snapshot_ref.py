"""Which snapshot a reference means: a name, ``latest``, a digest or a digest prefix.

One resolver for every command (``resolve --snapshot``, ``mirror snapshot``, ``serve``,
``export``, ``download``), so they all agree. It runs plain SQL through a callable, so both
the stdlib ``sqlite3`` reader and SQLAlchemy connections use it.

* ``latest`` is the snapshot that became complete last (a sync interrupted and resumed later
  completes after one started after it; a snapshot still building is never ``latest``).
* A name a snapshot has (given or made up) means that snapshot.
* Otherwise at least :data:`MIN_PREFIX` hex digits are a digest prefix. Two no-change syncs
  give two snapshots with the same digest, the same content: the newest complete one answers.
  A prefix shared by different digests is ambiguous and an error listing them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from db.errors import UnknownSnapshot

__all__ = ["MIN_PREFIX", "Query", "SnapshotRow", "resolve_snapshot"]

MIN_PREFIX = 8
_HEX = re.compile(r"[0-9a-f]+")

# (id, name, state, digest)
SnapshotRow = tuple[int, str, str, str | None]
Query = Callable[[str, Sequence[object]], Sequence[Sequence[Any]]]

_SELECT = "SELECT id, name, state, digest FROM snapshot"
# Newest complete first: by completion time, then by id for equal times.
_NEWEST = "ORDER BY completed_at DESC, id DESC"


def resolve_snapshot(query: Query, ref: str, *, complete_only: bool = True) -> SnapshotRow:
    """The snapshot ``ref`` means; ``complete_only`` refuses a named snapshot still building."""
    if ref == "latest":
        rows = query(f"{_SELECT} WHERE state = 'complete' {_NEWEST} LIMIT 1", ())
        if not rows:
            raise UnknownSnapshot(
                "there is no complete snapshot yet", hint="run `mirror sync PROJECT…` first"
            )
        return _row(rows[0])
    rows = query(f"{_SELECT} WHERE name = ?", (ref,))
    if not rows:
        rows = _by_digest(query, ref)
    if not rows:
        names = [r[0] for r in query("SELECT name FROM snapshot ORDER BY id", ())][-5:]
        raise UnknownSnapshot(
            f"no snapshot named {ref!r}",
            hint="see `mirror snapshot list`; a digest prefix needs at least "
            f"{MIN_PREFIX} hex digits"
            + (f"; recent: {', '.join(names)}" if names else "; there are none yet"),
        )
    found = _row(rows[0])
    if complete_only and found[2] != "complete":
        raise UnknownSnapshot(
            f"snapshot {ref!r} is {found[2]}, not complete",
            hint="run the same `mirror sync` again to resume it",
        )
    return found


def _by_digest(query: Query, ref: str) -> Sequence[Sequence[Any]]:
    """Complete snapshots whose digest starts with ``ref``, newest first; [] when none."""
    prefix = ref.lower().removeprefix("sha256:")
    if len(prefix) < MIN_PREFIX or not _HEX.fullmatch(prefix):
        return []
    # A prefix compare, not LIKE: nothing in ref is a wildcard.
    rows = query(
        f"{_SELECT} WHERE state = 'complete' AND substr(digest, 1, ?) = ? {_NEWEST}",
        (len(prefix), prefix),
    )
    digests = sorted({r[3] for r in rows})
    if len(digests) > 1:
        raise UnknownSnapshot(
            f"the digest prefix {ref!r} matches {len(digests)} different snapshots: "
            + ", ".join(digests),
            hint="give more digits of the digest, or the snapshot's name",
        )
    return rows


def _row(r: Sequence[Any]) -> SnapshotRow:
    return int(r[0]), str(r[1]), str(r[2]), r[3]
