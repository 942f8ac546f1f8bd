"""The one spelling every layer stores and compares: a project's name (PEP 503), a JSON value,
and a file's hashes. Kept apart from :mod:`db.records` so that ``resolve`` reads them without
defining the parsers' records."""

from __future__ import annotations

import json
import re

__all__ = ["canonical_json", "canonical_name", "stored_hashes"]

_NAME_SEPARATORS = re.compile(r"[-_.]+")


def canonical_json(value: object) -> str:
    """Sorted keys, no spaces: the same value always serialises to the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_name(name: str) -> str:
    """PEP 503 normalisation: runs of ``-``, ``_`` and ``.`` become one ``-``, lower-cased."""
    return _NAME_SEPARATORS.sub("-", name).lower()


def stored_hashes(sha256: str | None, others: str | None) -> tuple[tuple[str, str], ...]:
    """Every hash of a file row, from its sha256 column and its other-hashes JSON."""
    hashes = dict(json.loads(others)) if others else {}
    if sha256:
        hashes["sha256"] = sha256
    return tuple(sorted(hashes.items()))
