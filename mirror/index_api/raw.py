"""Shared pieces of the Simple API parsers (:mod:`mirror.index_api.project_page`,
:mod:`mirror.index_api.html_page`, :mod:`mirror.index_api.index_root`).

:class:`PageError` fails a whole page; :class:`RawFile` is one file as a page states it, before
validation; the media types of each form, the JSON object a PEP 691 body must be, and the PEP
629 version check are those of project pages and index roots alike. They live here so the
readers need not import each other.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "HTML_TYPES",
    "JSON_TYPES",
    "SUPPORTED_API_VERSION",
    "PageError",
    "RawFile",
    "api_version",
    "json_object",
]

# PEP 629: the newest 1.x we know (1.4 adds PEP 792 project status). Newer minors only add keys.
SUPPORTED_API_VERSION = "1.4"
_SUPPORTED = (1, 4)
_API_VERSION = re.compile(r"(\d+)(?:\.(\d+))?")

# ``latest`` is a request-side alias (PEP 691) that servers should not echo, but some do.
# ``application/json`` is not in the spec; misconfigured proxies relabel the JSON form with it.
JSON_TYPES = frozenset(
    {
        "application/vnd.pypi.simple.v1+json",
        "application/vnd.pypi.simple.latest+json",
        "application/json",
    }
)
HTML_TYPES = frozenset(
    {"application/vnd.pypi.simple.v1+html", "application/vnd.pypi.simple.latest+html", "text/html"}
)


class PageError(ValueError):
    """The body is not a Simple API page this tool can read; the message says why."""


def json_object(body: bytes) -> dict[str, Any]:
    """A PEP 691 body as the JSON object it must be, or :class:`PageError` saying why not."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise PageError(f"the page is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise PageError(f"the JSON page is a {type(doc).__name__}, not an object")
    return doc


def api_version(value: object, warn: Callable[[str], None]) -> str:
    """PEP 629: absent means 1.0; another major fails the page; a newer minor warns."""
    if value is None:
        return "1.0"
    text = str(value).strip()
    match = _API_VERSION.fullmatch(text)
    if match is None:
        warn(f"unreadable API version {text!r}; read as 1.0")
        return text
    major, minor = int(match[1]), int(match[2] or 0)
    if major != _SUPPORTED[0]:
        raise PageError(
            f"index speaks API version {text}; this tool supports {_SUPPORTED[0]}.x"
            f" (up to {SUPPORTED_API_VERSION})"
        )
    if minor > _SUPPORTED[1]:
        warn(
            f"index speaks API version {text}, newer than {SUPPORTED_API_VERSION}: "
            "fields this tool does not know are ignored"
        )
    return text


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
