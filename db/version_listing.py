"""A page's files grouped by version in PEP 440 order, computed once when the page is stored.

Resolving lists every version of every project it meets but reads the records of the few it
tries. Before this column existed, each project cost a query returning one row per file (sorted
by SQLite), one ``Version`` per distinct text and a sort; at 700 projects that was a fifth of a
resolution. The writer now stores the grouping next to the page (``page.listing``), so the
reader gets a project's whole version list in the row it reads for the page, and reads file
records by their position when it judges a version.

The stored form is the JSON array ``[count, versions, invalid, spellings]``:

- ``count``: how many files the page lists;
- ``versions``: ``[text, [position, ...]]`` for each distinct version, ascending; two spellings
  of one version ("1.0", "1.0.0") are one entry under the one listed first, with the positions
  of both, as the reader grouped them when it grouped the files itself;
- ``invalid``: ``[text, [position, ...]]`` for each text that is not a version, in listing order;
- ``spellings``: the other spellings' texts, which only ``--explain`` shows.

Positions are the files' ``position`` column: a page's files are numbered 0 to count - 1 in
listing order when stored (:func:`listing_of` takes them in that order). A page stored before the
column existed holds NULL and is grouped on the fly from its file rows, with the same function.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter

from packaging.version import Version

from db.errors import DatabaseError
from db.versions import parse_version

__all__ = [
    "DamagedListing",
    "Listing",
    "listing_json",
    "listing_of",
    "listings_by_page",
    "load_listing",
]

# One version text and the positions of the files that carry it, ascending.
Group = tuple[str, list[int]]


@dataclass(frozen=True, slots=True)
class Listing:
    """A page's files by version (see the module docstring for the order of each part)."""

    count: int
    versions: list[Group]
    invalid: list[Group]
    spellings: list[str]

    def texts(self) -> list[str]:
        """Every distinct version text the page lists, sorted as text."""
        return sorted([t for t, _ in self.versions] + [t for t, _ in self.invalid] + self.spellings)


def listing_of(heads: Iterable[tuple[str, bool]]) -> Listing:
    """The listing of files given as ``(version text, version_valid)`` in listing order."""
    valid: dict[str, list[int]] = {}
    invalid: dict[str, list[int]] = {}
    count = 0
    for position, (text, is_valid) in enumerate(heads):
        (valid if is_valid else invalid).setdefault(text, []).append(position)
        count = position + 1
    by_version: dict[Version, list[Group]] = {}
    for text, positions in valid.items():
        version = parse_version(text)
        if version is None:  # flagged valid by an older parser, not PEP 440 here
            invalid.setdefault(text, []).extend(positions)
        else:  # spellings of one version in listing order: the first one names it
            by_version.setdefault(version, []).append((text, positions))
    versions: list[Group] = []
    spellings: list[str] = []
    for version in sorted(by_version):
        (text, positions), *others = by_version[version]
        for other, more in others:
            spellings.append(other)
            positions = positions + more
        versions.append((text, sorted(positions) if others else positions))
    others = sorted(invalid.items(), key=lambda group: min(group[1]))
    return Listing(count, versions, [(t, sorted(p)) for t, p in others], sorted(spellings))


def listing_json(listing: Listing) -> str:
    """The stored form of ``listing`` (compact JSON)."""
    value = [listing.count, listing.versions, listing.invalid, listing.spellings]
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def load_listing(text: str) -> Listing:
    """A stored listing (written by :func:`listing_json`); DatabaseError if it is damaged."""
    try:
        count, versions, invalid, spellings = json.loads(text)
        return Listing(
            count, [(t, p) for t, p in versions], [(t, p) for t, p in invalid], spellings
        )
    except (ValueError, TypeError) as exc:
        raise DamagedListing() from exc


class DamagedListing(DatabaseError):
    """A page's stored listing that is not one :func:`listing_json` wrote, or that names a
    file its page does not have."""

    def __init__(self) -> None:
        super().__init__("a page's version listing is damaged", hint="run `mirror db check`")


def listings_by_page(
    rows: Iterable[tuple[int, int, str, bool]],
) -> Iterator[tuple[int, list[int], Listing]]:
    """Each page's listing from its file rows ``(page_id, position, version, version_valid)``
    ordered by page, position and filename; with the stored positions in that order, which a
    caller checks are 0 to count - 1 (what :func:`listing_of` numbers them)."""
    for page_id, files in groupby(rows, key=itemgetter(0)):
        heads = list(files)
        yield page_id, [h[1] for h in heads], listing_of((h[2], bool(h[3])) for h in heads)
