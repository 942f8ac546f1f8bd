"""Snapshot names: the ones a user gave (``mirror sync --name``) and the ones made up.

A made-up name is the UTC creation time (``20261124T101500``, then ``-2``, ``-3`` on a
clash). It is a local label: two databases synced from the same indexes give the same
snapshot digest but different made-up names, so a lock names a snapshot only by a name the
user chose (DESIGN.md "Determinism").
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["given_name", "made_up_name"]

_MADE_UP = re.compile(r"\d{8}T\d{6}(?:-\d+)?")


def made_up_name(created: str, taken: Callable[[str], bool]) -> str:
    """The name of a snapshot created at ``created`` (ISO 8601, UTC) that the user did not
    name: its creation second, with a counter when ``taken`` says that name is in use."""
    base = created[:19].replace(":", "").replace("-", "")  # 20261124T101500
    name, n = base, 1
    while taken(name):
        n += 1
        name = f"{base}-{n}"
    return name


def given_name(name: str) -> str | None:
    """``name`` when a user chose it, None when it is a made-up one."""
    return None if _MADE_UP.fullmatch(name) else name
