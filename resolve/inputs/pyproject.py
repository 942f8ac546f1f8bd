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
import tomllib
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
from resolve.limits import DEFAULT_LIMITS, Limits

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
    return parse_pyproject_text(text, file, extras=extras, groups=groups, dependencies=dependencies)


def parse_pyproject_text(
    text: str,
    path: str | os.PathLike[str],
    *,
    extras: Iterable[str] = (),
    groups: Iterable[str] = (),
    dependencies: bool = True,
) -> ParsedInputs:
    """Like ``parse_pyproject``, for text already read from ``path``."""
    project = _Project(Path(path), text)
    out: list[InputRequirement] = []
    if dependencies and "project" in project.data:
        out.extend(project.dependencies(seen=set()))
    for extra in _unique(extras):
        out.extend(project.extra(extra, seen=set()))
    for group in _unique(groups):
        out.extend(project.group(group, chain=()))
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
    table: str  # header to search for the line ("project", "dependency-groups" ...)
    key: str  # key holding the list


class _Project:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text
        self.lines = text.splitlines()
        try:
            self.data: dict[str, Any] = tomllib.loads(text)
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
        line = self.text.count("\n", 0, found.start()) + 1 if found else None
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

    # `seen` holds what one chain of self-references has expanded ("extra:NAME", "dependencies"),
    # so `a = ["me[b]"]`, `b = ["me[a]"]` ends instead of recursing forever.

    def dependencies(self, *, seen: set[str]) -> list[InputRequirement]:
        if "dependencies" in seen:
            return []
        seen.add("dependencies")
        self._static("dependencies")
        items = self._list(self.project.get("dependencies", []), "project.dependencies")
        entries = [_Entry(i, "project.dependencies", "project", "dependencies") for i in items]
        return list(self._expand(entries, seen=seen))

    def extra(self, extra: str, *, seen: set[str]) -> list[InputRequirement]:
        wanted = canonicalize_name(extra)
        if f"extra:{wanted}" in seen:
            return []
        seen.add(f"extra:{wanted}")
        self._static("optional-dependencies")
        table = self.project.get("optional-dependencies", {})
        if not isinstance(table, dict):
            raise self.error("[project.optional-dependencies] must be a table")
        names = {canonicalize_name(key): key for key in table}
        if wanted not in names:
            defined = ", ".join(sorted(table)) or "none"
            raise self.error(
                f"extra {extra!r} is not defined in [project.optional-dependencies]",
                detail=f"defined extras: {defined}",
            )
        key = names[wanted]
        section = f"project.optional-dependencies.{key}"
        items = self._list(table[key], section)
        entries = [_Entry(i, section, "project.optional-dependencies", key) for i in items]
        return list(self._expand(entries, seen=seen))

    def _expand(self, entries: list[_Entry], *, seen: set[str]) -> Iterator[InputRequirement]:
        for entry in entries:
            parsed = self.parse(entry)
            requirement = parsed.requirement
            if self.name is None or canonicalize_name(requirement.name) != self.name:
                yield parsed
                continue
            # A self-reference: the project's dependencies plus the named extras, each under
            # the self-reference's marker as well as its own.
            own = self.dependencies(seen=seen) if "project" in self.data else []
            for extra in sorted(requirement.extras):
                own.extend(self.extra(extra, seen=seen))
            for item in own:
                yield _with_marker(item, requirement.marker)

    # -- PEP 735 -------------------------------------------------------------------------------

    def group(self, group: str, *, chain: tuple[NormalizedName, ...]) -> list[InputRequirement]:
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
        wanted = canonicalize_name(group)
        if wanted in chain:
            cycle = " -> ".join([*chain[chain.index(wanted) :], wanted])
            raise self.error(f"dependency group cycle: {cycle}", line=self._line_of_key(group))
        if wanted not in names:
            defined = ", ".join(sorted(table)) or "none"
            where = f" (included from group {chain[-1]!r})" if chain else ""
            raise self.error(
                f"dependency group {group!r} is not defined in [dependency-groups]{where}",
                detail=f"defined groups: {defined}",
            )
        key = names[wanted]
        section = f"dependency-groups.{key}"
        items = table[key]
        if not isinstance(items, list):
            raise self.error(f"[dependency-groups] {key} must be a list")
        result: list[InputRequirement] = []
        for item in items:
            if isinstance(item, str):
                entry = _Entry(item, section, "dependency-groups", key)
                result.extend(self._expand([entry], seen=set()))
            elif isinstance(item, dict) and set(item) == {"include-group"}:
                included = item["include-group"]
                if not isinstance(included, str):
                    raise self.error(f"[dependency-groups] {key}: include-group must be a string")
                result.extend(self.group(included, chain=(*chain, wanted)))
            else:
                raise self.error(
                    f"[dependency-groups] {key}: invalid entry {item!r}",
                    detail='an entry is a requirement string or {include-group = "name"}',
                )
        return result

    # -- requirements and positions ------------------------------------------------------------

    def _list(self, value: object, section: str) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            table, _, key = section.rpartition(".")
            raise self.error(f"[{table}] {key} must be a list of strings")
        return list(value)

    def parse(self, entry: _Entry) -> InputRequirement:
        line, column = self._locate(entry)
        source = RequirementSource(self.path, line, entry.section)
        if line is None or column is None:
            return _parse_requirement(entry.text, source)
        return _parse_requirement(entry.text, source, line_text=self.lines[line - 1], offset=column)

    def _locate(self, entry: _Entry) -> tuple[int | None, int | None]:
        """(1-based line, 0-based column of the string's content), or Nones when not found."""
        start = 0
        header = re.search(rf"^[ \t]*\[\s*{re.escape(entry.table)}\s*\]", self.text, re.M)
        if header:
            start = header.end()
        key = re.search(rf"^[ \t]*[\"']?{re.escape(entry.key)}[\"']?\s*=", self.text[start:], re.M)
        if key:
            start += key.start()
        found = [i for q in "\"'" if (i := self.text.find(q + entry.text + q, start)) >= 0]
        if not found:
            return None, None
        at = min(found)
        line_start = self.text.rfind("\n", 0, at) + 1
        return self.text.count("\n", 0, at) + 1, at - line_start + 1

    def _line_of_key(self, name: str) -> int | None:
        header = re.search(r"^[ \t]*\[\s*dependency-groups\s*\]", self.text, re.M)
        start = header.end() if header else 0
        key = re.search(rf"^[ \t]*[\"']?{re.escape(name)}[\"']?\s*=", self.text[start:], re.M)
        return self.text.count("\n", 0, start + key.start()) + 1 if key else None


def _with_marker(item: InputRequirement, marker: Marker | None) -> InputRequirement:
    if marker is None:
        return item
    requirement = Requirement(str(item.requirement))
    own = requirement.marker
    requirement.marker = marker if own is None else Marker(f"({own}) and ({marker})")
    return InputRequirement(requirement, item.source, item.hashes)
