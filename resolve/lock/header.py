"""The snapshot a lock was resolved from, spelled once for the writers and the reader.

Every lock names its snapshot (DESIGN.md "Snapshots"), so that `mirror download` finds the
files of a requirements.txt, which names only hashes, in the snapshot it came from. Each
format says it in its own way, and each way is written and read here:

- a header comment in every format, ``snapshot: NAME (sha256 DIGEST)``, or
  ``snapshot: sha256 DIGEST`` when the snapshot has no name the user chose (the only place a
  requirements.txt has for it);
- ``[tool.sneakernet]`` in a pylock.toml (PEP 751's table for tools), as ``snapshot`` and
  ``snapshot-digest``;
- the ``snapshot`` object of a JSON lock, as ``name`` (null when unnamed) and ``digest``.

Only the digest identifies a snapshot across machines: a made-up name is a local label
(:mod:`db.snapshot_names`), and naming it would make two databases with the same content give
different locks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

__all__ = ["PYLOCK_TOOL", "SnapshotHeader", "lock_target"]

_LABEL = "snapshot"
#: The ``[tool.NAME]`` table of a pylock.toml that holds sneakernet's own data.
PYLOCK_TOOL = "sneakernet"
_LINE = re.compile(
    rf"^#\s*{_LABEL}:\s*(?:(?P<name>\S.*?)\s+\(sha256\s+(?P<digest>[0-9a-fA-F]{{64}})\)"
    rf"|sha256\s+(?P<bare>[0-9a-fA-F]{{64}}))\s*$"
)
_DIGEST = re.compile(r"[0-9a-fA-F]{64}")
_TARGET = re.compile(r"^#\s*target:\s*(?P<target>\S.*?)\s*$")


def lock_target(text: str, document: Mapping[str, object] | None = None) -> str | None:
    """The ``target`` a lock was resolved for (``CPython 3.12.0 on PLATFORM``): the JSON
    lock's ``target``, the pylock's ``[tool.sneakernet] target``, or the header comment."""
    if document is not None:
        tool = document.get("tool")
        table = tool.get(PYLOCK_TOOL) if isinstance(tool, Mapping) else None
        value = table.get("target") if isinstance(table, Mapping) else document.get("target")
        if isinstance(value, str) and value:
            return value
    for line in _header_comments(text):
        if found := _TARGET.match(line):
            return found["target"]
    return None


def _header_comments(text: str) -> Iterator[str]:
    """The comment lines that open ``text`` (blank lines skipped), stripped: the header ends at
    the first line that is not a comment."""
    for line in text.splitlines():
        if line.startswith("#"):
            yield line.strip()
        elif line.strip():
            return


@dataclass(frozen=True, slots=True)
class SnapshotHeader:
    """The snapshot a lock was resolved from: the name its user gave it (None for a made-up
    one) and its content digest (lower-case hex)."""

    name: str | None
    digest: str

    def line(self) -> str:
        """The header comment's text, without the ``#``."""
        if self.name is None:
            return f"{_LABEL}: sha256 {self.digest}"
        return f"{_LABEL}: {self.name} (sha256 {self.digest})"

    def describe(self) -> str:
        """For messages: ``snapshot NAME (sha256 DIGEST)`` or ``snapshot sha256 DIGEST``."""
        return self.line().replace(":", "", 1)

    def tool_table(self) -> dict[str, str]:
        """The keys of ``[tool.sneakernet]`` in a pylock.toml that name the snapshot (PEP 751:
        a tool's own data lives under ``[tool.NAME]``)."""
        named = {_LABEL: self.name} if self.name is not None else {}
        return {**named, f"{_LABEL}-digest": self.digest}

    def json(self) -> dict[str, str | None]:
        """The ``snapshot`` object of a JSON lock."""
        return {"name": self.name, "digest": self.digest}

    @classmethod
    def from_comments(cls, text: str) -> SnapshotHeader | None:
        """The header comment among the comment lines that open ``text``, if any."""
        for line in _header_comments(text):
            if found := _LINE.match(line):
                return cls(found["name"], (found["digest"] or found["bare"]).lower())
        return None

    @classmethod
    def from_pylock(cls, document: Mapping[str, object]) -> SnapshotHeader | None:
        """The snapshot a pylock.toml's ``[tool.sneakernet]`` names, if it names one."""
        tool = document.get("tool")
        table = tool.get(PYLOCK_TOOL) if isinstance(tool, Mapping) else None
        if not isinstance(table, Mapping):
            return None
        return cls._checked(table.get(_LABEL), table.get(f"{_LABEL}-digest"))

    @classmethod
    def from_json(cls, value: object) -> SnapshotHeader | None:
        """The snapshot a JSON lock's ``snapshot`` object names, if it names one."""
        if not isinstance(value, Mapping):
            return None
        return cls._checked(value.get("name"), value.get("digest"))

    @classmethod
    def _checked(cls, name: object, digest: object) -> SnapshotHeader | None:
        if not (isinstance(digest, str) and _DIGEST.fullmatch(digest)):
            return None
        return cls(name if isinstance(name, str) and name else None, digest.lower())
