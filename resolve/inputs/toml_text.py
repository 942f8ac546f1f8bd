"""Where things stand in a TOML file's text, for error carets: ``tomllib`` gives no positions.

Best effort: a requirement string is looked for after its table's header and its key, as
written with either quote; one written with escapes has no position. Each array is searched
once, each string from where the previous one was found, and line numbers come from one table
of line starts, so a file of many thousand entries costs one pass. A string not found costs a
search to the end of the text, so after :data:`_MISSES` of those the rest go without.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

__all__ = ["TomlText"]

Position = tuple[int, int] | None  # (1-based line, 0-based offset of the content in its line)
_MISSES = 32
# A key at the start of a line, bare or quoted (TOML 1.0 "Keys"), then `=`.
_KEY_RE = re.compile(r"""^[ \t]*(?:["']([^"'\n]*)["']|([A-Za-z0-9_-]+))[ \t]*=""", re.M)


class TomlText:
    def __init__(self, text: str) -> None:
        self.text = text
        self._starts = [0, *(m.end() for m in re.finditer("\n", text))]
        self._arrays: dict[tuple[str, str], list[Position]] = {}
        self._misses = 0
        self._keys: dict[str, dict[str, int]] = {}  # table → key → offset, filled once a table
        self._quotes = "\"'"  # the quote found last first: the other is looked for only before

    def line_of(self, offset: int) -> int:
        """The 1-based line of a 0-based offset into the text."""
        return bisect.bisect_right(self._starts, offset)

    def key_offset(self, table: str, key: str) -> int | None:
        """Where ``key = `` is first written after ``[table]`` (or the top, with no header)."""
        keys = self._keys.get(table)
        if keys is None:
            header = re.compile(rf"^[ \t]*\[\s*{re.escape(table)}\s*\]", re.M).search(self.text)
            keys = self._keys[table] = {}
            for found in _KEY_RE.finditer(self.text, header.end() if header else 0):
                keys.setdefault(found.group(1) or found.group(2), found.start())
        return keys.get(key)

    def strings(self, table: str, key: str, items: Sequence[object]) -> list[Position]:
        """The position of each string of the array ``table.key`` (None for non-strings)."""
        found = self._arrays.get((table, key))
        if found is None:
            found = self._arrays[(table, key)] = self._find(table, key, items)
        return found

    def _find(self, table: str, key: str, items: Sequence[object]) -> list[Position]:
        cursor = self.key_offset(table, key) or 0
        positions: list[Position] = []
        for item in items:
            if not isinstance(item, str) or self._misses >= _MISSES:
                positions.append(None)
                continue
            at = self._next(item, cursor)
            if at < 0:
                self._misses += 1
                positions.append(None)
                continue
            line = self.line_of(at)
            positions.append((line, at - self._starts[line - 1] + 1))
            cursor = at + len(item) + 2
        return positions

    def _next(self, item: str, cursor: int) -> int:
        """Where ``item`` is next written in either quote (-1: nowhere). The quote last found
        is tried first, and the other only up to that hit: a file that always uses one quote
        is never searched to its end for the other."""
        first, second = self._quotes[0], self._quotes[1]
        at = self.text.find(first + item + first, cursor)
        other = self.text.find(second + item + second, cursor, at if at >= 0 else len(self.text))
        if other >= 0:
            self._quotes = second + first
            return other
        return at
