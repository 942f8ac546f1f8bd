"""Requirements from ``pyproject.toml``: PEP 621 dependencies and extras, PEP 735 groups.

``[project] dependencies`` are always read; ``[project.optional-dependencies]`` by extra name
and ``[dependency-groups]`` by group name, both compared after PEP 503 normalisation (PEP 685
for extras, PEP 735 for groups). A requirement on the project itself (``me[test]``, common in
an ``all`` extra) stands for the project's own dependencies and those extras: the project is
not on any index. TOML gives no positions, so a requirement's line is found again in the text,
best effort, for error carets.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from resolve.inputs.reading import read_bounded
from resolve.inputs.requirements import (
    InputError,
    InputRequirement,
    ParsedInputs,
    RequirementSource,
    RequiresPython,
)
from resolve.inputs.requirements import parse_requirement as _parse_requirement
from resolve.inputs.toml_text import Position, TomlText
from resolve.limits import DEFAULT_LIMITS, LimitExceeded, Limits

__all__ = ["parse_pyproject", "parse_pyproject_text"]

_TOML_POSITION_RE = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def parse_pyproject(
    path: str | os.PathLike[str],
    *,
    extras: Iterable[str] = (),
    groups: Iterable[str] = (),
    dependencies: bool = True,
    limits: Limits = DEFAULT_LIMITS,
) -> ParsedInputs:
    """The project's dependencies (unless ``dependencies`` is false), extras and groups."""
    file = Path(path)
    try:
        data = read_bounded(file, limit=limits.requirements_bytes, what=repr(str(file)))
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(f"cannot read {str(file)!r}: {reason}", path=file) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not valid UTF-8 ({exc.reason})", path=file) from None
    return parse_pyproject_text(
        text, file, extras=extras, groups=groups, dependencies=dependencies, limits=limits
    )


def parse_pyproject_text(
    text: str,
    path: str | os.PathLike[str],
    *,
    extras: Iterable[str] = (),
    groups: Iterable[str] = (),
    dependencies: bool = True,
    limits: Limits = DEFAULT_LIMITS,
) -> ParsedInputs:
    """Like ``parse_pyproject``, for text already read from ``path``."""
    project = _Project(Path(path), text, limits)
    out: list[InputRequirement] = []
    if dependencies and "project" in project.data:
        out.extend(project.dependencies())
    for extra in _unique(extras):
        out.extend(project.extra(extra))
    for group in _unique(groups):
        out.extend(project.group(group))
    return ParsedInputs(tuple(out), requires_python=project.requires_python())


def _unique(names: Iterable[str]) -> list[str]:
    seen: set[NormalizedName] = set()
    result = []
    for name in names:
        if canonicalize_name(name) not in seen:
            seen.add(canonicalize_name(name))
            result.append(name)
    return result


@dataclass(frozen=True, slots=True)
class _Entry:
    text: str
    section: str  # dotted TOML table, as RequirementSource.section
    position: Position  # where the string is written, for carets


_Frame = tuple[Iterator[_Entry], tuple[Marker, ...]]
_END = object()


class _Project:
    def __init__(self, path: Path, text: str, limits: Limits) -> None:
        self.path = path
        self.text = text
        self.toml = TomlText(text)
        self.lines = text.splitlines()
        self.limits = limits
        self.parsed = 0  # requirement strings parsed, for the requirements-lines limit
        self._extras: dict[NormalizedName, str] | None = None  # normalised name → key
        import tomllib  # imported here for start-up time: most runs read no pyproject.toml

        try:
            self.data: dict[str, Any] = tomllib.loads(text)
        except RecursionError:
            # tomllib reads nested arrays and inline tables by recursion.
            raise InputError(
                "invalid TOML: arrays or tables nested too deeply to read", path=path
            ) from None
        except tomllib.TOMLDecodeError as exc:
            message = str(exc)
            found = _TOML_POSITION_RE.search(message)
            line = int(found.group(1)) if found else None
            column = int(found.group(2)) if found else None
            raise InputError(
                f"invalid TOML: {_TOML_POSITION_RE.sub('', message)}",
                path=path,
                line=line,
                column=column,
                text=self.lines[line - 1] if line and line <= len(self.lines) else None,
            ) from None
        project = self.data.get("project", {})
        if not isinstance(project, dict):
            raise self.error("[project] must be a table")
        self.project: dict[str, Any] = project
        name = project.get("name")
        self.name = canonicalize_name(name) if isinstance(name, str) else None

    def requires_python(self) -> tuple[RequiresPython, ...]:
        """``[project] requires-python``: the Pythons the project runs on (PEP 621)."""
        text = self.project.get("requires-python")
        if text is None:
            return ()
        found = re.search(r"^[ \t]*requires-python\s*=", self.text, re.M)
        line = self.toml.line_of(found.start()) if found else None
        if not isinstance(text, str):
            raise self.error("[project] requires-python must be a string", line=line)
        try:
            SpecifierSet(text)
        except InvalidSpecifier as exc:
            raise self.error(
                f"invalid requires-python {text!r}", line=line, detail=str(exc)
            ) from None
        source = RequirementSource(self.path, line, "project.requires-python")
        return (RequiresPython(text, source),)

    def error(
        self, message: str, *, line: int | None = None, detail: str | None = None
    ) -> InputError:
        return InputError(message, path=self.path, line=line, detail=detail)

    # -- PEP 621 -------------------------------------------------------------------------------

    def _static(self, key: str) -> None:
        dynamic = self.project.get("dynamic", [])
        if isinstance(dynamic, list) and key in dynamic:
            raise self.error(
                f"[project] {key} are dynamic: they exist only once the project is built",
                detail="list them statically in pyproject.toml to resolve them offline",
            )

    # -- PEP 621 -------------------------------------------------------------------------------
    #
    # `seen` holds what one chain of self-references has expanded ("extra:NAME",
    # "dependencies"), so `a = ["me[b]"]`, `b = ["me[a]"]` ends instead of going on forever.

    def dependencies(self) -> list[InputRequirement]:
        seen: set[str] = set()
        return self._expand(self._dependency_entries(seen), seen=seen)

    def extra(self, extra: str) -> list[InputRequirement]:
        seen: set[str] = set()
        return self._expand(self._extra_entries(extra, seen), seen=seen)

    def _dependency_entries(self, seen: set[str]) -> list[_Entry]:
        if "dependencies" in seen:
            return []
        seen.add("dependencies")
        self._static("dependencies")
        items = self._list(self.project.get("dependencies", []), "project.dependencies")
        return self._entries(items, "project.dependencies", "project", "dependencies")

    def _extra_entries(self, extra: str, seen: set[str]) -> list[_Entry]:
        wanted = canonicalize_name(extra)
        if f"extra:{wanted}" in seen:
            return []
        seen.add(f"extra:{wanted}")
        self._static("optional-dependencies")
        table = self.project.get("optional-dependencies", {})
        if not isinstance(table, dict):
            raise self.error("[project.optional-dependencies] must be a table")
        if self._extras is None:
            self._extras = {canonicalize_name(key): key for key in table}
        names = self._extras
        if wanted not in names:
            defined = ", ".join(sorted(table)) or "none"
            raise self.error(
                f"extra {extra!r} is not defined in [project.optional-dependencies]",
                detail=f"defined extras: {defined}",
            )
        key = names[wanted]
        section = f"project.optional-dependencies.{key}"
        items = self._list(table[key], section)
        return self._entries(items, section, "project.optional-dependencies", key)

    def _own(self, requirement: Requirement, seen: set[str]) -> Iterator[_Entry]:
        """A self-reference (``me[test]``): the project's dependencies, then the named
        extras. A generator, so each list is looked at (and marked seen) only once the
        entries before it, and everything they referred to, have been expanded."""
        if "project" in self.data:
            yield from self._dependency_entries(seen)
        for extra in sorted(requirement.extras):
            yield from self._extra_entries(extra, seen)

    def _expand(self, entries: Iterable[_Entry], *, seen: set[str]) -> list[InputRequirement]:
        """The entries parsed, each self-reference replaced by what it stands for under its
        marker as well as the entry's own. A loop over a stack, not recursion: a chain of
        extras that each name the next is as long as the file makes it."""
        out: list[InputRequirement] = []
        stack: list[_Frame] = [(iter(entries), ())]
        while stack:
            items, markers = stack[-1]
            entry = next(items, None)
            if entry is None:
                stack.pop()
                continue
            parsed = self.parse(entry)
            requirement = parsed.requirement
            if self.name is None or canonicalize_name(requirement.name) != self.name:
                for marker in reversed(markers):  # the innermost self-reference's first
                    parsed = _with_marker(parsed, marker)
                out.append(parsed)
                continue
            if requirement.marker is not None:
                markers = (*markers, requirement.marker)
            stack.append((self._own(requirement, seen), markers))
        return out

    # -- PEP 735 -------------------------------------------------------------------------------

    def group(self, group: str) -> list[InputRequirement]:
        """The group's requirements, its includes expanded where they stand. A loop over the
        chain of groups being expanded, not recursion; a group included again is not
        expanded again (it would add what it already added)."""
        table = self.data.get("dependency-groups", {})
        if not isinstance(table, dict):
            raise self.error("[dependency-groups] must be a table")
        names: dict[NormalizedName, str] = {}
        for key in table:
            # PEP 735: names that normalise alike are an error.
            if canonicalize_name(key) in names:
                other = names[canonicalize_name(key)]
                raise self.error(f"dependency groups {other!r} and {key!r} have the same name")
            names[canonicalize_name(key)] = key
        result: list[InputRequirement] = []
        expanded: set[NormalizedName] = set()
        chain: list[tuple[NormalizedName, str, Iterator[tuple[object, Position]]]] = []
        on_chain: set[NormalizedName] = set()
        wanted: str | None = group
        while wanted is not None or chain:
            if wanted is not None:
                self._enter_group(wanted, table, names, chain, on_chain, expanded)
                wanted = None
                continue
            _, key, items = chain[-1]
            item, position = next(items, (_END, None))
            if item is _END:
                on_chain.discard(chain.pop()[0])
            elif isinstance(item, str):
                entry = _Entry(item, f"dependency-groups.{key}", position)
                result.extend(self._expand([entry], seen=set()))
            elif isinstance(item, dict) and set(item) == {"include-group"}:
                wanted = item["include-group"]
                if not isinstance(wanted, str):
                    raise self.error(f"[dependency-groups] {key}: include-group must be a string")
            else:
                raise self.error(
                    f"[dependency-groups] {key}: invalid entry {item!r}",
                    detail='an entry is a requirement string or {include-group = "name"}',
                )
        return result

    def _enter_group(
        self,
        group: str,
        table: dict[str, Any],
        names: dict[NormalizedName, str],
        chain: list[tuple[NormalizedName, str, Iterator[tuple[object, Position]]]],
        on_chain: set[NormalizedName],
        expanded: set[NormalizedName],
    ) -> None:
        wanted = canonicalize_name(group)
        if wanted in on_chain:
            including = [name for name, _, _ in chain]
            cycle = " -> ".join([*including[including.index(wanted) :], wanted])
            offset = self.toml.key_offset("dependency-groups", group)
            line = None if offset is None else self.toml.line_of(offset)
            raise self.error(f"dependency group cycle: {cycle}", line=line)
        if wanted not in names:
            defined = ", ".join(sorted(table)) or "none"
            where = f" (included from group {chain[-1][0]!r})" if chain else ""
            raise self.error(
                f"dependency group {group!r} is not defined in [dependency-groups]{where}",
                detail=f"defined groups: {defined}",
            )
        if wanted in expanded:
            return
        expanded.add(wanted)
        key = names[wanted]
        items = table[key]
        if not isinstance(items, list):
            raise self.error(f"[dependency-groups] {key} must be a list")
        positions = self.toml.strings("dependency-groups", key, items)
        chain.append((wanted, key, zip(items, positions, strict=True)))
        on_chain.add(wanted)

    # -- requirements and positions ------------------------------------------------------------

    def _list(self, value: object, section: str) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            table, _, key = section.rpartition(".")
            raise self.error(f"[{table}] {key} must be a list of strings")
        return list(value)

    def _entries(self, items: list[str], section: str, table: str, key: str) -> list[_Entry]:
        positions = self.toml.strings(table, key, items)
        return [_Entry(i, section, p) for i, p in zip(items, positions, strict=True)]

    def parse(self, entry: _Entry) -> InputRequirement:
        self.parsed += 1
        if self.parsed > self.limits.requirements_lines:
            what = f"the requirements read from {str(self.path)!r}"
            raise LimitExceeded(what, "requirements-lines", self.limits.requirements_lines)
        if entry.position is None:
            return _parse_requirement(entry.text, RequirementSource(self.path, None, entry.section))
        line, offset = entry.position
        source = RequirementSource(self.path, line, entry.section)
        return _parse_requirement(entry.text, source, line_text=self.lines[line - 1], offset=offset)


def _with_marker(item: InputRequirement, marker: Marker) -> InputRequirement:
    requirement = Requirement(str(item.requirement))
    own = requirement.marker
    requirement.marker = marker if own is None else Marker(f"({own}) and ({marker})")
    return InputRequirement(requirement, item.source, item.hashes)
