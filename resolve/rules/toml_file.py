"""Rule files: sneakernet's own TOML (what `mirror rules export` writes and `rules import` reads
back, losslessly), and the pieces every rule-file reader shares: errors that name the file,
line and token (DESIGN.md, "Conventions"), typed access to TOML tables, and :class:`Imported`,
what a file says about the rules.
"""

from __future__ import annotations

import contextlib
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import tomli_w

from db.errors import SneakernetError
from resolve.policy.prerelease import PrereleaseMode
from resolve.rules.edit import (
    package_name,
    parse_marker,
    parse_mode,
    parse_optional_cutoff,
    parse_statuses,
    parse_strategy,
)
from resolve.rules.model import Cutoff, IndexRule, Pin, RuleError, RuleSet, normalize_glob

__all__ = [
    "Imported",
    "ImportedIndex",
    "RulesFileError",
    "Source",
    "TomlTable",
    "export_rules",
    "make_pin",
    "parse_rules_toml",
]

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


class RulesFileError(SneakernetError):
    """A rule file that cannot be read, or that says something wrong."""


@dataclass(frozen=True, slots=True)
class Source:
    """A rule file's name and text, to point errors at the line where a token stands."""

    path: Path
    text: str

    @classmethod
    def read(cls, path: Path) -> Source:
        try:
            return cls(path, path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else str(exc)
            raise RulesFileError(
                f"cannot read {path}: {reason}", hint="give the path of a TOML or pip.conf file"
            ) from exc

    def line_of(self, token: object) -> int | None:
        """The first line where ``token`` (a key or value as written) stands."""
        needle = str(token).lower()
        for number, line in enumerate(self.text.splitlines(), start=1):
            if needle and needle in line.lower():
                return number
        return None

    def error(
        self,
        message: str,
        *,
        token: object = None,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> RulesFileError:
        line = line if line is not None else (self.line_of(token) if token is not None else None)
        where = str(self.path) + (f":{line}" if line else "") + (f":{column}" if column else "")
        text = f"{where}: {message}"
        lines = self.text.splitlines()
        if line and line <= len(lines):
            text += f"\n  {lines[line - 1]}"
            if column:
                text += "\n  " + " " * (column - 1) + "^"
        return RulesFileError(text, hint=hint or "fix the file and import it again")

    @contextlib.contextmanager
    def at(self, token: object) -> Iterator[None]:
        """A :class:`RuleError` raised inside becomes an error at the line of ``token``."""
        try:
            yield
        except RuleError as exc:
            raise self.error(exc.message, token=token, hint=exc.hint) from exc

    def toml(self) -> dict[str, Any]:
        try:
            return tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            message = str(exc)
            found = _TOML_POSITION.search(message)
            if found is None:
                raise self.error(f"invalid TOML: {message}") from exc
            reason = message[: found.start()]
            line, column = int(found[1]), int(found[2])
            reason = reason[:1].lower() + reason[1:]
            raise self.error(f"invalid TOML: {reason}", line=line, column=column) from exc


@dataclass(frozen=True, slots=True)
class TomlTable:
    """Typed access to one TOML table; errors name the key and its line."""

    source: Source
    data: Mapping[str, Any]
    where: str

    def _wrong(self, key: str, expected: str) -> RulesFileError:
        value = self.data[key]
        # A string value is likelier than the key to stand on one line only.
        token = value if isinstance(value, str) and value else key
        return self.source.error(
            f"{self.where}{key} must be {expected}, not {value!r}", token=token
        )

    def unknown(self, known: Sequence[str]) -> list[str]:
        return [k for k in self.data if k not in known]

    def text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            raise self._wrong(key, "a string")
        return value

    def required(self, key: str) -> str:
        value = self.text(key)
        if value is None:
            raise self.source.error(f"{self.where}{key} is missing")
        return value

    def flag(self, key: str) -> bool:
        value = self.data.get(key, False)
        if not isinstance(value, bool):
            raise self._wrong(key, "true or false")
        return value

    def texts(self, key: str) -> list[str]:
        value = self.data.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._wrong(key, "a string or a list of strings")
        return value

    def statuses(self, key: str) -> tuple[int, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(type(v) is int for v in value):
            raise self._wrong(key, "a list of HTTP statuses")
        with self.source.at(key):
            return parse_statuses(",".join(str(v) for v in value))

    def cutoff(self, key: str) -> Cutoff:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, date):  # a bare TOML date or date-time, as uv accepts
            value = value.isoformat()
        if value is True or not isinstance(value, str | bool):
            raise self._wrong(key, "a timestamp or false")
        with self.source.at(value if isinstance(value, str) else key):
            return parse_optional_cutoff(value)

    def choice(self, key: str, choices: Sequence[str]) -> str:
        value = self.text(key) or choices[0]
        if value not in choices:
            raise self._wrong(key, " or ".join(repr(c) for c in choices))
        return value

    def table(self, key: str) -> Mapping[str, Any]:
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            raise self._wrong(key, "a table")
        return value

    def subtable(self, key: str) -> TomlTable:
        return TomlTable(self.source, self.table(key), f"{self.where}{key}.")

    def tables(self, key: str) -> list[TomlTable]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self._wrong(key, "an array of tables")
        return [TomlTable(self.source, v, f"{self.where}{key}[{n}].") for n, v in enumerate(value)]


@dataclass(frozen=True, slots=True)
class ImportedIndex:
    """An index as a file describes it: its rule, and its format for creating it.

    ``named`` is False when the file gives no name (pip's ``index-url``): then an index with
    the same URL keeps its name, and the rule's name is only the one to give a new index.
    ``policy`` is False when the file says nothing of the index's policy (pip again): then an
    existing index keeps its own.
    """

    rule: IndexRule
    format: str = "simple"
    named: bool = True
    policy: bool = True

    @classmethod
    def unnamed(cls, name: str, url: str, *, default: bool = False) -> ImportedIndex:
        return cls(IndexRule(name, url, default=default), named=False, policy=False)

    @classmethod
    def from_table(cls, table: TomlTable, name: str, statuses_key: str) -> ImportedIndex:
        """``[[index]]`` of an export or of uv, whose not-here statuses are ``statuses_key``."""
        rule = IndexRule(
            name=name,
            url=table.required("url"),
            default=table.flag("default"),
            explicit=table.flag("explicit"),
            not_here=table.statuses(statuses_key),
            exclude_newer=table.cutoff("exclude-newer"),
        )
        return cls(rule, format=table.choice("format", ("simple", "flat")))


@dataclass(slots=True)
class Imported:
    """What a rule file says. ``complete``: the file is the whole rule set (an export);
    otherwise its settings are laid over the current rules (uv's and pip's files)."""

    kind: str
    indexes: list[ImportedIndex] = field(default_factory=list)
    pins: list[Pin] = field(default_factory=list)
    changes: dict[str, Any] = field(default_factory=dict)
    prerelease_packages: dict[str, PrereleaseMode] = field(default_factory=dict)
    exclude_newer_packages: dict[str, Cutoff] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    complete: bool = False
    source: Source | None = None


# -- sneakernet's own format ---------------------------------------------------------------

_TOP = ("semantics", "index-strategy", "prerelease", "exclude-newer", "index", "pin", "package")
_INDEX = ("name", "url", "default", "explicit", "not-here", "exclude-newer", "format")
_PIN = ("glob", "indexes", "marker")
_PACKAGE = ("prerelease", "exclude-newer")


def export_rules(rules: RuleSet, formats: Mapping[str, str]) -> str:
    """The rules as TOML: the same rules give the same bytes. Values at their defaults are
    left out; ``format`` (not part of the rules) lets an import create a flat index as such."""
    data: dict[str, Any] = {
        "semantics": rules.semantics,
        "index-strategy": str(rules.strategy),
        "prerelease": str(rules.prerelease),
    }
    document = rules.to_document()
    if rules.exclude_newer is not None:
        data["exclude-newer"] = rules.exclude_newer
    indexes = []
    for entry in document["indexes"]:
        table = {k: v for k, v in entry.items() if v not in (None, False, [])}
        if entry["exclude-newer"] is False:
            table["exclude-newer"] = False
        if formats.get(entry["name"], "simple") != "simple":
            table["format"] = formats[entry["name"]]
        indexes.append(table)
    if indexes:
        data["index"] = indexes
    if document["pins"]:
        data["pin"] = [{k: v for k, v in p.items() if v is not None} for p in document["pins"]]
    packages = {
        name: {k: v for k, v in fields.items() if v is not None}
        for name, fields in document["packages"].items()
    }
    if packages:
        data["package"] = packages
    header = f"# sneakernet rules {rules.digest}\n# Read back with `mirror rules import FILE`.\n\n"
    return header + tomli_w.dumps(data)


def parse_rules_toml(source: Source, data: Mapping[str, Any]) -> Imported:
    """An exported rule set (recognised by its top-level ``semantics`` key)."""
    top = TomlTable(source, data, "")
    _refuse_unknown(top, _TOP)
    imported = Imported(kind="sneakernet rules", complete=True)
    imported.changes["semantics"] = top.required("semantics")
    with source.at(data.get("index-strategy")):
        imported.changes["strategy"] = parse_strategy(top.text("index-strategy") or "first-index")
    with source.at(data.get("prerelease")):
        imported.changes["prerelease"] = parse_mode(top.text("prerelease") or "if-necessary")
    imported.changes["exclude_newer"] = top.cutoff("exclude-newer")
    for table in top.tables("index"):
        _refuse_unknown(table, _INDEX)
        imported.indexes.append(ImportedIndex.from_table(table, table.required("name"), "not-here"))
    for table in top.tables("pin"):
        _refuse_unknown(table, _PIN)
        imported.pins.append(
            make_pin(source, table.required("glob"), table.texts("indexes"), table.text("marker"))
        )
    packages = top.subtable("package")
    for name in packages.data:
        package = packages.subtable(name)
        _refuse_unknown(package, _PACKAGE)
        with source.at(name):
            canonical = package_name(name)
        mode = package.text("prerelease")
        if mode is not None:
            with source.at(mode):
                imported.prerelease_packages[canonical] = parse_mode(mode)
        cutoff = package.cutoff("exclude-newer")
        if cutoff is not None:
            imported.exclude_newer_packages[canonical] = cutoff
    return imported


def make_pin(source: Source, glob: str, indexes: Sequence[str], marker: str | None) -> Pin:
    with source.at(marker if marker is not None else glob):
        return Pin(normalize_glob(glob.strip()), tuple(indexes), parse_marker(marker))


def _refuse_unknown(table: TomlTable, known: Sequence[str]) -> None:
    unknown = table.unknown(known)
    if unknown:
        raise table.source.error(
            f"unknown key {table.where}{unknown[0]}",
            token=unknown[0],
            hint="valid keys here: " + ", ".join(known),
        )
