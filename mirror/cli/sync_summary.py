"""The lines `mirror sync` writes to stderr about what went wrong on which index, which projects
no index has, and its warnings (repeated kinds counted in one line); the JSON summary holds the
same facts (SyncStats.as_json)."""

from __future__ import annotations

import click

from db.urls import redact_credentials
from mirror.sync.syncer import SyncStats
from mirror.sync.warning_summary import summary_lines

__all__ = ["build_failure_lines", "index_lines", "not_found_line", "warning_lines"]

SHOWN = 20


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def index_lines(stats: SyncStats) -> list[str]:
    """One line per index that refused (401/403, unless its policy reads them as "not here")
    or failed some pages, with the counts."""
    named = stats.unauthorized.keys() | stats.forbidden.keys() | stats.failed_pages.keys()
    lines = []
    for name in sorted(named):
        parts: list[str] = []
        for count, what in [
            (stats.unauthorized.get(name, 0), "answered 401 Unauthorized"),
            (stats.forbidden.get(name, 0), "answered 403 Forbidden"),
            (stats.failed_pages.get(name, 0), "failed"),
        ]:
            if count:
                parts.append(f"{count if parts else _count(count, 'page')} {what}")
        lines.append(f"index {name}: {', '.join(parts)}")
    return lines


def not_found_line(stats: SyncStats) -> str | None:
    """How many projects every index said it does not have, and which."""
    if not stats.not_found:
        return None
    names = sorted(stats.not_found)
    shown = ", ".join(names[:SHOWN]) + (", …" if len(names) > SHOWN else "")
    return f"{_count(len(names), 'project')} on no index (every index answered not found): {shown}"


def warning_lines(stats: SyncStats) -> list[str]:
    """The warnings, repeated kinds as one count each; at most SHOWN lines and a last one
    saying how many more (`--json` lists every warning)."""
    lines = summary_lines(stats.warnings)
    if len(lines) <= SHOWN:
        return lines
    return [*lines[:SHOWN], f"{len(lines) - SHOWN} more warnings (--json lists every one)"]


def build_failure_lines(stats: SyncStats) -> None:
    """Each sdist whose metadata build failed or timed out, as an ``error:`` line, then one
    ``hint:``: the snapshot records them as needing a build (also with --json and --quiet)."""
    if not stats.build_failures:
        return
    for line in sorted(stats.build_failures):
        click.echo(redact_credentials(f"error: {line}"), err=True)
    click.echo(
        "\nhint: these versions are recorded as needing a build, and `resolve` reports them; "
        "raise --build-timeout for a slow build, or run the same `mirror sync` again to retry",
        err=True,
    )
