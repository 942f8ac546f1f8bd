"""Requires-Dist split once, when a snapshot is written, so that resolving parses none of it.

Every version's requirements are PEP 508 strings; parsing them is a fifth of a large
resolution, and one snapshot stores each distinct METADATA once. So the writer stores, next to
the strings, each one already split (``metadata.requires_split``): the canonical name (PEP 503),
the extras (canonical, sorted), the specifier and the marker as ``packaging`` writes them back,
and, for a direct URL reference (which the resolver refuses, naming it), the whole requirement
as written back. A string that is not PEP 508 is stored as its error, which the resolver
reports as it always did. Rows written before the column existed hold NULL: the reader splits
their strings on the fly with the same function, so old snapshots resolve to the same locks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

__all__ = ["SplitRequirement", "load_split", "split_json", "split_one", "split_requirements"]


class SplitRequirement(NamedTuple):
    """One Requires-Dist string, split; ``error`` set (and the rest empty) when it is not
    PEP 508."""

    name: str
    extras: tuple[str, ...]
    specifier: str
    marker: str | None
    direct: str | None
    error: str | None = None


def _split(text: str) -> SplitRequirement:
    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        return SplitRequirement("", (), "", None, None, f"{text!r}: {exc}")
    return split_one(requirement)


def split_one(requirement: Requirement) -> SplitRequirement:
    """A parsed requirement (a user's, from the command line or a file), split alike."""
    marker = requirement.marker
    return SplitRequirement(
        canonicalize_name(requirement.name),
        tuple(sorted(canonicalize_name(e) for e in requirement.extras)),
        str(requirement.specifier),
        None if marker is None else str(marker),
        str(requirement) if requirement.url else None,
    )


@lru_cache(maxsize=4096)
def split_requirements(texts: tuple[str, ...]) -> tuple[SplitRequirement, ...]:
    """``texts`` split; cached, since consecutive releases mostly repeat their requirements."""
    return tuple(map(_split, texts))


def split_json(texts: Iterable[str]) -> str:
    """The stored form of ``texts`` split: a compact JSON list, one list per string (an error
    is ``[message]``, a split string ``[name, extras, specifier, marker, direct]``)."""
    rows: list[list[object]] = []
    for one in split_requirements(tuple(texts)):
        if one.error is not None:
            rows.append([one.error])
        else:
            rows.append([one.name, list(one.extras), one.specifier, one.marker, one.direct])
    return json.dumps(rows, separators=(",", ":"), ensure_ascii=False)


@lru_cache(maxsize=8192)
def load_split(stored: str) -> tuple[SplitRequirement, ...]:
    """:func:`split_json`'s text back as records; each distinct text decoded once."""
    found = []
    for row in json.loads(stored):
        if len(row) == 1:
            found.append(SplitRequirement("", (), "", None, None, row[0]))
        else:
            name, extras, specifier, marker, direct = row
            found.append(SplitRequirement(name, tuple(extras), specifier, marker, direct))
    return tuple(found)
