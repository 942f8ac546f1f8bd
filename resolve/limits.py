"""Bounds on what is read from outside: index pages, metadata and distribution files, bundles,
requirement files.

Every such read of untrusted bytes is bounded, so a lying server or a damaged file costs an
error, never gigabytes of memory or a hung build. Each bound has a default generous enough for
real indexes and a name a user can raise on the command line: ``--limit page-bytes=512MiB``
(repeatable). When a bound is exceeded the error names the limit and the option that raises it
(:class:`LimitExceeded`).

It lives on the resolve side because ``resolve`` reads requirement files too, and ``mirror``
may import ``resolve`` but not the other way round. Stdlib only: ``resolve`` starts fast.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from db.errors import SneakernetError

__all__ = [
    "DEFAULT_LIMITS",
    "LimitExceeded",
    "Limits",
    "describe_limits",
    "format_size",
    "parse_limit",
    "parse_size",
]

_KIB = 1024
_MIB = 1024 * _KIB
_GIB = 1024 * _MIB


@dataclass(frozen=True, slots=True)
class Limits:
    """The named bounds; field names are the CLI names with ``_`` for ``-``.

    Sizes are bytes, counts are plain numbers. The defaults sit well above what real indexes
    publish (the largest project pages of public indexes are a few MB and tens of thousands of
    files; METADATA files rarely pass 1 MB) and far below what would hurt a build machine.
    """

    #: A project page or index root as received and as decoded (gzip/deflate inflated).
    page_bytes: int = 64 * _MIB
    #: File links on one project page (PEP 503 anchors or PEP 691 ``files`` entries).
    page_files: int = 200_000
    #: A core metadata file (PEP 658 ``.metadata``, a wheel's METADATA, an sdist's PKG-INFO).
    metadata_bytes: int = 16 * _MIB
    #: A distribution read whole into memory, when its metadata cannot be had by ranges (a
    #: server that ignores Range, a listing without sizes).
    file_bytes: int = 512 * _MIB
    #: A bundle (`mirror import`) as inflated: its rows and payloads, in all.
    bundle_bytes: int = 64 * _GIB
    #: Inflated bytes per compressed byte read so far, past the first 16 MiB (a zstd bomb
    #: inflates by thousands; real bundles by well under a hundred).
    bundle_ratio: int = 200
    #: One requirements file, constraints file or pyproject.toml.
    requirements_bytes: int = 16 * _MIB
    #: How deep ``-r``/``-c`` lines may nest inside requirement files.
    requirements_depth: int = 32
    #: Requirements and options read from one requirement input, with what it includes: each
    #: is parsed and kept, so within requirements-bytes short lines would still cost gigabytes.
    requirements_lines: int = 100_000

    def with_overrides(self, overrides: dict[str, int]) -> Limits:
        return dataclasses.replace(self, **overrides)


DEFAULT_LIMITS = Limits()

_NAMES = {f.name.replace("_", "-"): f.name for f in dataclasses.fields(Limits)}
_SIZE_RE = re.compile(r"^\s*(\d+)\s*([KMGT]i?B?|B)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": _KIB, "m": _MIB, "g": _GIB, "t": 1024 * _GIB}


class LimitExceeded(SneakernetError):
    """A read went past one of the :class:`Limits`; the message names the limit and the
    ``--limit`` option that raises it. Exit code 2 unless the caller records it otherwise (a
    page that is too large is a failed page, exit 3, like any other bad answer from an index).
    """

    def __init__(self, what: str, limit: str, value: int) -> None:
        shown = format_size(value) if limit.endswith("-bytes") else str(value)
        super().__init__(
            f"{what} exceeds the limit {limit}={shown}",
            hint=f"if the input is genuine, raise the limit: --limit {limit}=<larger value>",
        )
        self.limit = limit
        self.value = value


def parse_size(text: str) -> int:
    """``"64MiB"``, ``"512k"``, ``"1G"``, ``"1000"`` → bytes (binary units, as pip and uv)."""
    match = _SIZE_RE.match(text)
    if match is None:
        raise ValueError(f"not a size: {text!r} (use a number with an optional unit: 64MiB)")
    unit = (match.group(2) or "").lower()[:1]
    return int(match.group(1)) * _UNITS[unit]


def format_size(value: int) -> str:
    """Bytes as the largest binary unit that divides them exactly: ``64MiB``, ``1000B``."""
    for suffix, size in (("GiB", _GIB), ("MiB", _MIB), ("KiB", _KIB)):
        if value >= size and value % size == 0:
            return f"{value // size}{suffix}"
    return f"{value}B"


def parse_limit(text: str) -> tuple[str, int]:
    """``"page-bytes=512MiB"`` → ``("page_bytes", 536870912)``; ValueError names the choices."""
    name, sep, value = text.partition("=")
    name = name.strip().lower()
    if not sep or name not in _NAMES:
        choices = ", ".join(sorted(_NAMES))
        raise ValueError(f"unknown limit {text!r}; the limits are: {choices} (as NAME=VALUE)")
    number = parse_size(value) if name.endswith("-bytes") else _count(value)
    if number < 1:
        raise ValueError(f"limit {name} must be at least 1")
    return _NAMES[name], number


def _count(text: str) -> int:
    try:
        return int(text.strip().replace("_", ""))
    except ValueError:
        raise ValueError(f"not a number: {text!r}") from None


def describe_limits(limits: Limits = DEFAULT_LIMITS) -> str:
    """``page-bytes=64MiB, page-files=200000, …``: the limits as ``--limit`` spells them."""
    parts = []
    for field in dataclasses.fields(limits):
        name = field.name.replace("_", "-")
        value = getattr(limits, field.name)
        parts.append(f"{name}={format_size(value) if name.endswith('-bytes') else value}")
    return ", ".join(parts)
