"""Index rules from other tools' files: uv's ``[tool.uv]`` (pyproject.toml) or uv.toml, and
pip's configuration files. Each setting becomes the rule that means the same; every setting no
rule can express is named in :attr:`Imported.notes`, so nothing is dropped silently.

uv: ``[[index]]`` (name, url, default, explicit, ``ignore-error-codes`` → not-here,
exclude-newer), ``[sources]`` (``pkg = { index = "name" }`` → a pin; a list of entries with
markers → pins with markers), ``index-strategy``, ``prerelease``, ``exclude-newer``,
``exclude-newer-package``, and the legacy ``index-url`` / ``extra-index-url``.

pip: ``index-url`` is the default index and each ``extra-index-url`` comes before it, in the
order given (SEMANTICS.md §1); ``[install]`` beats ``[global]``, as in pip; ``pre`` is the
``allow`` pre-release mode (SEMANTICS.md §3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from resolve.policy.prerelease import PrereleaseMode
from resolve.rules.edit import package_name, parse_mode, parse_strategy
from resolve.rules.pip_config import (
    INSTALL_SECTIONS,
    parse_pip_config_file,
    pip_settings,
    pip_true,
)
from resolve.rules.toml_file import Imported, ImportedIndex, Source, TomlTable, make_pin

__all__ = ["parse_pip_config", "parse_uv"]

_FLAT_LINKS = "flat link locations: add each with `mirror index add NAME URL --flat`"
_CREDENTIALS = "credentials come from netrc or SNEAKERNET_INDEX_<NAME>_* variables, never rules"

# Settings that shape resolution but that no stored rule expresses, and what to do instead.
_UV_NOT_RULES = {
    "find-links": _FLAT_LINKS,
    "no-index": "sneakernet resolves from the configured indexes only",
    "keyring-provider": _CREDENTIALS,
    "allow-insecure-host": "TLS trust is a matter for `mirror sync`'s environment",
    "resolution": "use `resolve --resolution`",
    "constraint-dependencies": "use `resolve -c FILE`",
    "override-dependencies": "use `resolve --override FILE`",
    "pip": "[tool.uv.pip] settings are not index rules",
}
_UV_INDEX_NOT_RULES = {
    "authenticate": _CREDENTIALS,
    "cache-control": "caching is `mirror sync`'s business",
    "publish-url": "publishing is not part of resolving",
}
_UV_INDEX = ("name", "url", "default", "explicit", "format", "ignore-error-codes", "exclude-newer")
_UV_RULES = (
    "index",
    "sources",
    "index-strategy",
    "prerelease",
    "exclude-newer",
    "exclude-newer-package",
    "index-url",
    "extra-index-url",
)
_PIP_NOT_RULES = {
    "find-links": _FLAT_LINKS,
    "trusted-host": "TLS trust is a matter for `mirror sync`'s environment",
    "no-index": "sneakernet resolves from the configured indexes only",
    "only-binary": "use `resolve --only-binary`",
    "no-binary": "use `resolve --no-binary`",
    "constraint": "use `resolve -c FILE`",
}
_PIP_RULES = ("index-url", "extra-index-url", "pre")


def parse_uv(source: Source, settings: Mapping[str, Any], where: str) -> Imported:
    """uv's settings: ``[tool.uv]`` of a pyproject.toml (``where`` = ``tool.uv.``) or the
    top level of a uv.toml (``where`` = empty)."""
    uv = TomlTable(source, settings, where)
    imported = Imported(kind="uv")
    _note_settings(imported, settings, where, _UV_RULES, _UV_NOT_RULES)
    _pip_style(imported, uv.texts("extra-index-url"), [])
    for n, table in enumerate(uv.tables("index"), start=1):
        imported.indexes.append(_uv_index(table, f"index-{n}", imported))
    _pip_style(imported, [], [uv.text("index-url") or ""])
    _uv_sources(uv.subtable("sources"), imported)
    strategy = uv.text("index-strategy")
    if strategy is not None:
        with source.at(strategy):
            imported.changes["strategy"] = parse_strategy(strategy)
    _uv_prerelease(uv, imported)
    if "exclude-newer" in settings:
        imported.changes["exclude_newer"] = uv.cutoff("exclude-newer")
    per_package = uv.subtable("exclude-newer-package")
    for name in per_package.data:
        with source.at(name):
            imported.exclude_newer_packages[package_name(name)] = per_package.cutoff(name)
    return imported


def _note_settings(
    imported: Imported,
    settings: Mapping[str, object],
    where: str,
    rules: tuple[str, ...],
    not_rules: Mapping[str, str],
) -> None:
    """Name every setting that is not imported: those that shape resolution with what to do
    instead, then the rest in one line."""
    for key, reason in not_rules.items():
        if key in settings:
            imported.notes.append(f"{where}{key}: not imported ({reason})")
    others = [k for k in settings if k not in rules and k not in not_rules]
    if others:
        imported.notes.append(f"{where}{', '.join(others)}: not index rules, ignored")


def _pip_style(imported: Imported, extras: list[str], index_url: list[str]) -> None:
    """pip's unnamed indexes (also uv's legacy settings): each ``extra-index-url`` in order,
    then ``index-url``, the default (SEMANTICS.md §1)."""
    for n, url in enumerate(extras, start=1):
        imported.indexes.append(ImportedIndex.unnamed(f"extra-{n}", url))
    for url in filter(None, index_url):
        imported.indexes.append(ImportedIndex.unnamed("default", url, default=True))


def _uv_index(table: TomlTable, fallback: str, imported: Imported) -> ImportedIndex:
    for key in table.unknown(_UV_INDEX):
        reason = _UV_INDEX_NOT_RULES.get(key, "no rule expresses it")
        imported.notes.append(f"{table.where}{key}: not imported ({reason})")
    name = table.text("name")
    found = ImportedIndex.from_table(table, name or fallback, "ignore-error-codes")
    return found if name is not None else replace(found, named=False)


def _uv_sources(sources: TomlTable, imported: Imported) -> None:
    """``pkg = { index = "name" }`` and lists of them with markers → pins, in file order."""
    for package in sources.data:
        value = sources.data[package]
        entries = value if isinstance(value, list) else [value]
        for n, entry in enumerate(entries):
            label = f"{sources.where}{package}" + (f"[{n}]" if isinstance(value, list) else "")
            table = TomlTable(sources.source, entry if isinstance(entry, dict) else {}, label)
            if "index" not in table.data:
                imported.notes.append(
                    f"{label}: not imported (only index sources are rules; git, url, path and "
                    "workspace sources are not)"
                )
                continue
            conditional = [k for k in ("extra", "group") if k in table.data]
            if conditional:
                imported.notes.append(
                    f"{label}: not imported (a pin that depends on an {conditional[0]} cannot be "
                    "expressed; pins may carry a marker)"
                )
                continue
            index = table.required("index")
            pin = make_pin(sources.source, package, [index], table.text("marker"))
            imported.pins.append(pin)


def _uv_prerelease(uv: TomlTable, imported: Imported) -> None:
    mode = uv.text("prerelease")
    if mode is None:
        return
    with uv.source.at(mode):  # uv's "if-necessary-or-explicit" is our if-necessary
        imported.changes["prerelease"] = parse_mode(mode)


def parse_pip_config(source: Source) -> Imported:
    """A pip configuration file (pip.conf / pip.ini), read by the parser and the precedence
    rule that `mirror sync` uses for the user's own pip configuration."""
    parsed = parse_pip_config_file(source)
    imported = Imported(kind="pip")
    for section, values in parsed.sections.items():
        if section not in INSTALL_SECTIONS:
            imported.notes.append(f"[{section}] {', '.join(values)}: not index rules, ignored")
    settings = pip_settings([parsed])
    _note_settings(imported, settings, "", _PIP_RULES, _PIP_NOT_RULES)
    _pip_style(
        imported,
        settings.get("extra-index-url", "").split(),
        settings.get("index-url", "").split()[:1],
    )
    if pip_true(settings.get("pre")):
        imported.changes["prerelease"] = PrereleaseMode.ALLOW
    return imported
