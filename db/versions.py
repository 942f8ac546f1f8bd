"""Version text as every layer reads and orders it.

An index may list a version that is not PEP 440 (a legacy release, a typo in a filename):
such text is kept, never dropped, but it has no place among the real versions. One parser and
one sort key here, so the sync's metadata selection, the candidates, the hints and
``--explain`` all agree on what is a version and which comes first (DESIGN.md "Determinism":
sort by ``packaging.version.Version``, break every tie explicitly).
"""

from __future__ import annotations

from functools import lru_cache

from packaging.version import InvalidVersion, Version

__all__ = ["parse_version", "version_sort_key"]


@lru_cache(maxsize=1 << 16)
def parse_version(text: str) -> Version | None:
    """Version text → :class:`Version`, None if it is not PEP 440. Cached across projects: a
    snapshot's releases share a small set of version strings (and Versions are immutable)."""
    try:
        return Version(text)
    except InvalidVersion:
        return None


def version_sort_key(text: str) -> tuple[int, Version | str]:
    """Ascending order of version texts: text that is not PEP 440 first (by its characters),
    then every PEP 440 version in the PEP's order. Sorted with ``reverse=True``: newest first,
    the invalid texts last. Two spellings of one version ("1.0", "1.0.0") tie, so a stable
    sort keeps their input order."""
    version = parse_version(text)
    return (0, text) if version is None else (1, version)
