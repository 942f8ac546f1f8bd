"""Changing the effective rules: the edits `mirror rules` and `mirror index` make
(SEMANTICS.md §1, §3, §5), and the one-line description of a change.

Every edit is a pure function ``RuleSet → RuleSet`` that raises :class:`RuleError` with a hint
on bad input; :mod:`mirror.rules.store` stores the result as a new rule-set version.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from packaging.markers import InvalidMarker, Marker
from packaging.utils import InvalidName, canonicalize_name

from resolve.policy.prerelease import MODE_NAMES, PrereleaseMode
from resolve.rules.model import (
    Cutoff,
    IndexRule,
    IndexStrategy,
    Pin,
    RuleError,
    RuleSet,
    normalize_glob,
    parse_cutoff,
)

__all__ = [
    "SETTABLE_KEYS",
    "describe",
    "package_name",
    "parse_bool",
    "parse_marker",
    "parse_mode",
    "parse_optional_cutoff",
    "parse_statuses",
    "parse_strategy",
    "pin",
    "set_key",
    "unpin",
    "with_index",
    "without_index",
]

SETTABLE_KEYS = (
    "index-strategy",
    "prerelease",
    "prerelease.<package>",
    "exclude-newer",
    "exclude-newer.<package>",
    "index.<name>.default",
    "index.<name>.explicit",
    "index.<name>.not-here",
    "index.<name>.exclude-newer",
)
_INDEX_FIELDS = ("default", "explicit", "not-here", "exclude-newer")
_GLOB = re.compile(r"[a-z0-9*?\[\]!-]+")


# -- describing a change -------------------------------------------------------------------


def _shown(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value) or "none"
    return str(value)


def _changed(label: str, old: object, new: object) -> list[str]:
    return [] if old == new else [f"{label} {_shown(old)} → {_shown(new)}"]


def _pin_label(glob: str, marker: str | None) -> str:
    return f"{glob} ; {marker}" if marker else glob


def describe(before: RuleSet, after: RuleSet) -> str:
    """What changed from ``before`` to ``after``, in the words of `mirror rules set`."""
    old, new = before.to_document(), after.to_document()
    parts: list[str] = []
    for key, label in (
        ("semantics", "semantics"),
        ("strategy", "index-strategy"),
        ("prerelease", "prerelease"),
        ("exclude-newer", "exclude-newer"),
    ):
        parts += _changed(label, old.get(key), new.get(key))
    old_indexes = {e["name"]: e for e in old["indexes"]}
    new_indexes = {e["name"]: e for e in new["indexes"]}
    parts += [f"+index {n}" for n in new_indexes if n not in old_indexes]
    parts += [f"-index {n}" for n in old_indexes if n not in new_indexes]
    for name, entry in new_indexes.items():
        for key, value in entry.items():
            if name in old_indexes and key != "name":
                parts += _changed(f"index.{name}.{key}", old_indexes[name].get(key), value)
    kept = [n for n in new_indexes if n in old_indexes]
    if kept != [n for n in old_indexes if n in new_indexes]:
        parts.append("index order " + ", ".join(kept))
    old_pins = {(p["glob"], p["marker"]): p["indexes"] for p in old["pins"]}
    new_pins = {(p["glob"], p["marker"]): p["indexes"] for p in new["pins"]}
    for glob_marker, indexes in new_pins.items():
        label = _pin_label(*glob_marker)
        if glob_marker not in old_pins:
            parts.append(f"+pin {label} → {_shown(indexes)}")
        else:
            parts += _changed(f"pin {label}", old_pins[glob_marker], indexes)
    parts += [f"-pin {_pin_label(*gm)}" for gm in old_pins if gm not in new_pins]
    if [k for k in new_pins if k in old_pins] != [k for k in old_pins if k in new_pins]:
        parts.append("pin order changed")
    for name in sorted({*old["packages"], *new["packages"]}):
        for key in ("prerelease", "exclude-newer"):
            was = old["packages"].get(name, {}).get(key)
            parts += _changed(f"{key}.{name}", was, new["packages"].get(name, {}).get(key))
    return "; ".join(parts) or "no change"


# -- values --------------------------------------------------------------------------------


def _choice(value: str, what: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise RuleError(f"invalid {what} {value!r}", hint="valid values: " + ", ".join(choices))
    return value


def parse_strategy(value: str) -> IndexStrategy:
    return IndexStrategy(_choice(value, "index-strategy", [s.value for s in IndexStrategy]))


def parse_mode(value: str, what: str = "prerelease") -> PrereleaseMode:
    return PrereleaseMode(_choice(value, f"{what} mode", MODE_NAMES))


def parse_optional_cutoff(value: str | bool) -> Cutoff:
    """A cutoff, ``false`` (opt out of an outer one) or ``unset`` (inherit it)."""
    if isinstance(value, bool):
        return False if value is False else None
    return None if value.strip().lower() == "unset" else parse_cutoff(value)


def parse_bool(value: str, what: str) -> bool:
    return _choice(value.strip().lower(), what, ("true", "false")) == "true"


def parse_statuses(value: str) -> tuple[int, ...]:
    """``403,401`` → (401, 403); ``none`` or nothing clears the list."""
    found: set[int] = set()
    for part in value.replace(" ", "").split(","):
        if part in ("", "none"):
            continue
        if not part.isdigit() or not 400 <= int(part) <= 599:
            raise RuleError(
                f"invalid not-here status {part!r}",
                hint="give HTTP statuses from 400 to 599 separated by commas, e.g. 401,403",
            )
        found.add(int(part))
    return tuple(sorted(found))


def package_name(name: str) -> str:
    try:
        return canonicalize_name(name, validate=True)
    except InvalidName as exc:
        raise RuleError(f"invalid package name {name!r}", hint="give a project name") from exc


def parse_marker(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return str(Marker(text))
    except InvalidMarker as exc:
        # packaging's message shows the marker with a caret under the bad token.
        raise RuleError(f"invalid marker {text!r}:\n{exc}", hint="see PEP 508 markers") from exc


# -- edits ---------------------------------------------------------------------------------


def _known_index(rules: RuleSet, name: str) -> IndexRule:
    found = rules.index(name)
    if found is None:
        known = ", ".join(i.name for i in rules.indexes) or "none"
        raise RuleError(
            f"unknown index {name!r} (configured: {known})",
            hint="see `mirror index list`; add one with `mirror index add NAME URL`",
        )
    return found


def _per_package(values: Mapping[str, Any], package: str, value: object) -> dict[str, Any]:
    changed = {k: v for k, v in values.items() if k != package}
    if value is not None:
        changed[package] = value
    return dict(sorted(changed.items()))


def set_key(rules: RuleSet, key: str, value: str) -> RuleSet:
    """``mirror rules set KEY VALUE`` (keys: :data:`SETTABLE_KEYS`)."""
    if key == "index-strategy":
        return rules.with_changes(strategy=parse_strategy(value))
    if key == "prerelease":
        return rules.with_changes(prerelease=parse_mode(value))
    if key == "exclude-newer":
        return rules.with_changes(exclude_newer=parse_optional_cutoff(value))
    head, _, rest = key.partition(".")
    if head == "prerelease" and rest:
        mode = None if value == "unset" else parse_mode(value, key)
        modes = _per_package(rules.prerelease_packages, package_name(rest), mode)
        return rules.with_changes(prerelease_packages=modes)
    if head == "exclude-newer" and rest:
        cutoffs = _per_package(
            rules.exclude_newer_packages, package_name(rest), parse_optional_cutoff(value)
        )
        return rules.with_changes(exclude_newer_packages=cutoffs)
    name, _, field = rest.rpartition(".")
    if head == "index" and name and field in _INDEX_FIELDS:
        return _set_index_field(rules, _known_index(rules, name), field, value)
    raise RuleError(f"unknown key {key!r}", hint="valid keys: " + ", ".join(SETTABLE_KEYS))


def _set_index_field(rules: RuleSet, index: IndexRule, field: str, value: str) -> RuleSet:
    if field == "default":
        return with_index(rules, replace(index, default=parse_bool(value, "default")))
    if field == "explicit":
        changed = replace(index, explicit=parse_bool(value, "explicit"))
    elif field == "not-here":
        changed = replace(index, not_here=parse_statuses(value))
    else:
        changed = replace(index, exclude_newer=parse_optional_cutoff(value))
    indexes = tuple(changed if i.name == index.name else i for i in rules.indexes)
    return rules.with_changes(indexes=indexes)


def with_index(rules: RuleSet, entry: IndexRule) -> RuleSet:
    """``entry`` in place of the index of the same name, or added last; a default index
    takes that role from any other (one default index, as `mirror index add --default`)."""
    indexes = [
        entry if i.name == entry.name else replace(i, default=i.default and not entry.default)
        for i in rules.indexes
    ]
    if rules.index(entry.name) is None:
        indexes.append(entry)
    return rules.with_changes(indexes=tuple(indexes))


def without_index(rules: RuleSet, name: str) -> RuleSet:
    """The rules without index ``name``; refused while a pin names it, because dropping the
    pin silently would let the package come from any index (SEMANTICS §1)."""
    pins = [p.glob for p in rules.pins if name in p.indexes]
    if pins:
        raise RuleError(
            f"index {name!r} is named by the pin(s) {', '.join(pins)}",
            hint=f"remove them first with `mirror rules unpin {pins[0]}`",
        )
    return rules.with_changes(indexes=tuple(i for i in rules.indexes if i.name != name))


def pin(rules: RuleSet, glob: str, indexes: Sequence[str], marker: str | None) -> RuleSet:
    """Packages matching ``glob`` (when ``marker`` holds) come only from ``indexes``; a pin
    with the same glob and marker is replaced in place, a new one is added last (the first
    matching pin wins)."""
    pattern = normalize_glob(glob.strip())
    if not _GLOB.fullmatch(pattern):
        raise RuleError(
            f"invalid package glob {glob!r}",
            hint="use a project name with * ? [] wildcards, e.g. torch or 'nvidia-*'",
        )
    names = tuple(dict.fromkeys(_known_index(rules, n).name for n in indexes))
    new = Pin(pattern, names, parse_marker(marker))
    pins = [new if (p.glob, p.marker) == (new.glob, new.marker) else p for p in rules.pins]
    if new not in pins:
        pins.append(new)
    return rules.with_changes(pins=tuple(pins))


def unpin(rules: RuleSet, glob: str, marker: str | None) -> RuleSet:
    """Without the pins of ``glob`` (only the one with ``marker`` when given)."""
    pattern, wanted = normalize_glob(glob.strip()), parse_marker(marker)
    kept = tuple(
        p for p in rules.pins if p.glob != pattern or (wanted is not None and p.marker != wanted)
    )
    if len(kept) == len(rules.pins):
        listed = ", ".join(_pin_label(p.glob, p.marker) for p in rules.pins) or "none"
        raise RuleError(
            f"no pin for {_pin_label(pattern, wanted)!r} (pins: {listed})",
            hint="see `mirror rules show`",
        )
    return rules.with_changes(pins=kept)
