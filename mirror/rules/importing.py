"""`mirror rules import FILE`: read any rule file, then apply it in the caller's transaction.

The file kind is told by its name and content: pip's configuration (``pip.conf``, ``*.ini``,
or INI text with a ``[global]``/``[install]`` section), sneakernet's own export (a top-level
``semantics`` key), a pyproject.toml's ``[tool.uv]``, or else a uv.toml. An export replaces
the rules; the others are laid over the current rules, their indexes first (uv puts a
project's indexes before inherited ones; SEMANTICS.md §1).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import Connection

from db.errors import SneakernetError
from db.indexes import add_index, list_indexes, remove_index
from db.urls import strip_credentials
from mirror.rules.index_entry import validate_index_name, validate_index_url
from mirror.rules.store import Change, commit, load_rules
from resolve.rules.foreign import parse_pip_config, parse_uv
from resolve.rules.model import IndexRule, Pin, RuleSet
from resolve.rules.toml_file import (
    Imported,
    ImportedIndex,
    RulesFileError,
    Source,
    parse_rules_toml,
)

__all__ = ["ImportResult", "apply_import", "read_rules_file"]

_INI_SECTION = re.compile(r"^\s*\[(global|install)\]\s*$", re.MULTILINE)


def read_rules_file(path: Path) -> Imported:
    """Parse ``path`` (nothing is stored); errors name the file and line."""
    source = Source.read(path)
    imported = _parse(path, source)
    imported.source = source
    return imported


def _parse(path: Path, source: Source) -> Imported:
    if path.suffix in (".conf", ".ini"):
        return parse_pip_config(source)
    try:
        data = source.toml()
    except RulesFileError:
        if _INI_SECTION.search(source.text):
            return parse_pip_config(source)
        raise
    if "semantics" in data:
        return parse_rules_toml(source, data)
    tool = data.get("tool")
    if isinstance(tool, dict) and isinstance(tool.get("uv"), dict):
        return parse_uv(source, tool["uv"], "tool.uv.")
    if path.name == "pyproject.toml" or "project" in data or "tool" in data:
        raise RulesFileError(
            f"{path}: no [tool.uv] settings to import",
            hint="import a pyproject.toml with [tool.uv] settings, a uv.toml, a pip.conf, "
            "or a file written by `mirror rules export`",
        )
    return parse_uv(source, data, "")


@dataclass(frozen=True, slots=True)
class ImportResult:
    change: Change
    notes: tuple[str, ...]
    created: tuple[str, ...]


def apply_import(
    conn: Connection, imported: Imported, *, path: Path, replace_urls: bool
) -> ImportResult:
    """Create the indexes the file names that do not exist, then store the resulting rules as
    one new version. Raises before anything is stored when the file and database disagree."""
    before = load_rules(conn)
    notes = list(imported.notes)
    entries, created, skipped = _indexes(conn, imported, before, path, replace_urls, notes)
    known = {e.name for e in entries}
    if not imported.complete:
        known |= {i.name for i in before.indexes}
    pins = []
    for pin in imported.pins:
        missing = [n for n in pin.indexes if n in skipped]
        if missing:
            notes.append(f"pin {pin.glob}: not imported (index {missing[0]} was not imported)")
            continue
        unknown = [n for n in pin.indexes if n not in known]
        if unknown:
            message = f"the pin {pin.glob!r} names unknown index {unknown[0]!r}"
            hint = "define the index in the file, or add it with `mirror index add NAME URL`"
            if imported.source is None:
                raise RulesFileError(f"{path}: {message}", hint=hint)
            raise imported.source.error(message, token=unknown[0], hint=hint)
        pins.append(pin)
    if imported.complete:
        after = RuleSet(
            indexes=tuple(entries),
            pins=tuple(pins),
            prerelease_packages=dict(sorted(imported.prerelease_packages.items())),
            exclude_newer_packages=dict(sorted(imported.exclude_newer_packages.items())),
            **imported.changes,
        )
        listed = {e.name for e in entries}
        notes += [
            f"index {c.name} is configured but not in the imported rules, so resolve will not "
            f"use it (remove it with `mirror index remove {c.name}`)"
            for c in list_indexes(conn)
            if c.name not in listed
        ]
    else:
        after = _laid_over(before, entries, pins, imported)
    change = commit(conn, before, after, f"import {path.name}")
    return ImportResult(change, tuple(notes), tuple(created))


def _indexes(
    conn: Connection,
    imported: Imported,
    before: RuleSet,
    path: Path,
    replace_urls: bool,
    notes: list[str],
) -> tuple[list[IndexRule], list[str], set[str]]:
    """The file's indexes as rules, creating (or, with ``replace_urls``, re-pointing) the
    ones the database lacks. Returns them, the names created, and the names skipped."""
    configured = {c.name: c for c in list_indexes(conn)}
    entries: list[IndexRule] = []
    created: list[str] = []
    skipped: set[str] = set()
    for wanted in imported.indexes:
        with _in_file(path):
            url = strip_credentials(validate_index_url(_located_url(wanted.rule.url, path)))
        name = wanted.rule.name
        if not wanted.named:
            # pip names no index: one with the same URL keeps its name.
            same = [i.name for i in before.indexes if i.url == url]
            same += [c.name for c in configured.values() if c.url == url]
            name = same[0] if same else name
        with _in_file(path):
            validate_index_name(name)
        if any(e.name == name for e in entries):
            raise RulesFileError(f"{path}: index {name!r} is given twice", hint="keep one")
        existing = configured.get(name)
        if existing is not None and existing.url != url:
            if not replace_urls:
                raise SneakernetError(
                    f"index {name!r} exists with another URL ({existing.url}, the file says {url})",
                    hint="import with --replace to point it at the file's URL, or rename the "
                    "index in the file",
                )
            remove_index(conn, name)
            existing = None
        if existing is None:
            if wanted.format == "flat" and not imported.complete:
                notes.append(
                    f"index {name}: flat indexes are not imported (add it with "
                    f"`mirror index add {name} {url} --flat`, then import again)"
                )
                skipped.add(name)
                continue
            add_index(conn, name=name, url=url, format=wanted.format)
            created.append(name)
        entries.append(_rule(wanted, name, url, before))
    return entries, created, skipped


@contextlib.contextmanager
def _in_file(path: Path) -> Iterator[None]:
    try:
        yield
    except SneakernetError as exc:
        raise RulesFileError(f"{path}: {exc.message}", hint=exc.hint) from exc


def _rule(wanted: ImportedIndex, name: str, url: str, before: RuleSet) -> IndexRule:
    current = before.index(name)
    if current is not None and not wanted.policy:
        return replace(current, url=url, default=wanted.rule.default)
    return replace(wanted.rule, name=name, url=url)


def _located_url(url: str, path: Path) -> str:
    """A local directory is relative to the file that names it, as uv reads it."""
    if "://" in url or Path(url).expanduser().is_absolute():
        return url
    return str(path.resolve().parent / url)


def _laid_over(
    before: RuleSet, entries: list[IndexRule], pins: list[Pin], imported: Imported
) -> RuleSet:
    names = {e.name for e in entries}
    takes_default = any(e.default for e in entries)
    rest = [
        replace(i, default=i.default and not takes_default)
        for i in before.indexes
        if i.name not in names
    ]
    globs = {p.glob for p in pins}
    return before.with_changes(
        indexes=(*entries, *rest),
        # The file's pins replace every earlier pin of the same glob, whatever its marker.
        pins=(*pins, *(p for p in before.pins if p.glob not in globs)),
        prerelease_packages=dict(
            sorted({**before.prerelease_packages, **imported.prerelease_packages}.items())
        ),
        exclude_newer_packages=dict(
            sorted({**before.exclude_newer_packages, **imported.exclude_newer_packages}.items())
        ),
        **imported.changes,
    )
