"""The sync's warnings for people: one line per kind of file warning that repeats ("120 files in
ancient formats left out (e.g. …)"), every other warning as it is; and per-kind counts for the
JSON summary, which keeps every line as well."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from mirror.index_api.file_warnings import KINDS, FileWarning

__all__ = ["kind_counts", "summary_lines"]

EXAMPLES = 3


def kind_counts(warnings: Iterable[str]) -> dict[str, int]:
    """How many file warnings of each kind (kinds with none left out)."""
    counts: dict[str, int] = defaultdict(int)
    for warning in warnings:
        if isinstance(warning, FileWarning):
            counts[warning.kind] += 1
    return dict(sorted(counts.items()))


def summary_lines(warnings: Iterable[str]) -> list[str]:
    """A kind seen once keeps its full line (which names the project and index); a kind seen
    more often becomes one count with a few filenames; other warnings are kept as they are."""
    by_kind: dict[str, list[FileWarning]] = defaultdict(list)
    lines: list[str] = []
    for warning in sorted(warnings):
        if isinstance(warning, FileWarning):
            by_kind[warning.kind].append(warning)
        else:
            lines.append(warning)
    for kind, found in by_kind.items():
        if len(found) == 1:
            lines.append(found[0])
            continue
        names = sorted({w.filename for w in found})
        more = ", …" if len(names) > EXAMPLES else ""
        lines.append(f"{len(found)} {KINDS[kind]} (e.g. {', '.join(names[:EXAMPLES])}{more})")
    return sorted(lines)
