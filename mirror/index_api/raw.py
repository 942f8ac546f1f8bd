"""Shared pieces of the Simple API parsers (:mod:`mirror.index_api.project_page`,
:mod:`mirror.index_api.html_page`).

:class:`PageError` fails a whole page; :class:`RawFile` is one file as a page states it, before
validation. Both live here so the HTML reader and the dispatcher need not import each other.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PageError", "RawFile"]


class PageError(ValueError):
    """The body is not a project page this tool can read; the message says why."""


# Not frozen: one is built per file of every page and dropped after validation, and a frozen
# dataclass's __init__ costs about five times as much (0.14 s per 40,000 files).
@dataclass(slots=True)
class RawFile:
    """One file as a page states it, before validation; values keep their JSON types.

    HTML attributes are mapped onto JSON's meaning: ``yanked`` is ``False``, ``True`` or a reason
    string; ``core_metadata`` is ``None`` (not offered), a bool, an ``algo=hex`` string or a map.
    """

    href: object
    filename: object = None
    hashes: object = None
    requires_python: object = None
    yanked: object = False
    size: object = None
    upload_time: object = None
    core_metadata: object = None
    provenance: object = None
