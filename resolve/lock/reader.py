"""The one reader of the locks `resolve` writes, for `mirror download` and for the pins an
existing `resolve -o FILE` lock keeps (:mod:`resolve.policy.preferences`).

:func:`lock_format` tells the formats apart by content, alike for every caller (``--format``
need not match the file's name):

- JSON, an object: ``packages[].files[]`` (``filename``, ``url``, ``size``, ``hashes``) and
  ``packages[].index.url``, the origin index;
- pylock.toml (PEP 751), text with its ``lock-version`` key, or TOML under its ``*.toml`` name:
  ``packages[].wheels[]`` and ``.sdist`` (``name``, ``url``, ``size``, ``hashes``), and
  ``packages[].index``;
- otherwise requirements.txt in pip's hash-checking mode: ``name==version`` pins with
  ``--hash=sha256:HEX`` options, read with every requirements file's grammar
  (:mod:`resolve.inputs.reqfile`). It names hashes only (``filename`` and ``url`` are None):
  the files are found in the snapshot its header names.

The snapshot is read as :mod:`resolve.lock.header` spells it, from the data where the format
has a place for it. ``need_files=False`` reads names and versions only (a pin list without
hashes still gives preferences). Errors name the file, the line and the token at fault
(DESIGN.md, "Conventions").
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from db.canonical import canonical_name
from db.errors import SneakernetError
from resolve.inputs.reqfile import parse_requirements_text
from resolve.inputs.requirements import InputError, InputRequirement
from resolve.lock.header import SnapshotHeader, lock_target

__all__ = [
    "LockFile",
    "LockPin",
    "LockedFile",
    "LockfileError",
    "lock_format",
    "parse_lock_text",
    "pylock_file_name",
    "read_lock",
]

LockFormat = Literal["requirements", "pylock", "json"]

# PEP 751's one required top-level key: no requirements file has such a line.
_PYLOCK_KEY = re.compile(r"^lock-version\s*=", re.MULTILINE)
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


class LockfileError(SneakernetError):
    """A lock that cannot be read; the message names the file, line and token."""

    @classmethod
    def at(
        cls,
        message: str,
        path: Path,
        lines: list[str],
        *,
        line: int | None = None,
        token: str | None = None,
        detail: str | None = None,
        hint: str | None = None,
    ) -> LockfileError:
        """The error, showing line ``line`` of ``lines`` with a caret under ``token``."""
        text = lines[line - 1] if line is not None and 0 < line <= len(lines) else None
        found = text.find(token) if text is not None and token else -1
        error = InputError(
            message,
            path=path,
            line=line,
            column=found + 1 if found >= 0 else None,
            token=token if found >= 0 else None,
            text=text,
            detail=detail,
        )
        return cls(error.render(), hint=hint)


@dataclass(frozen=True, slots=True)
class LockedFile:
    """One locked file. ``filename``, ``url`` and ``size`` are None when the lock does not
    say (requirements.txt names only hashes); ``line`` is where the lock names it."""

    sha256: str
    filename: str | None = None
    url: str | None = None
    size: int | None = None
    line: int | None = None


@dataclass(frozen=True, slots=True)
class LockPin:
    """``name==version`` and its files; ``index`` is the origin index URL when given."""

    name: str
    version: str
    files: tuple[LockedFile, ...]
    line: int | None = None
    index: str | None = None
    # PEP 751's ``marker`` (or a universal requirements lock's ``; marker``): the environments
    # the package is installed in.
    marker: str | None = None

    def __str__(self) -> str:
        return f"{self.name}=={self.version}"


@dataclass(frozen=True, slots=True)
class LockFile:
    path: Path
    format: LockFormat
    pins: tuple[LockPin, ...]
    snapshot: SnapshotHeader | None = None
    # Lines that are valid in a requirements file but mean nothing to a download.
    ignored: tuple[str, ...] = ()
    # The header's "CPython X.Y.Z on PLATFORM", when it names one.
    target: str | None = None
    # The text as read: `mirror download` writes a pylock.toml's copy beside the files.
    text: str = field(default="", repr=False, compare=False)


def read_lock(path: Path, *, need_files: bool = True) -> LockFile:
    """Read and parse ``path`` (see the module docstring for the formats)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise LockfileError(
            f"cannot read the lock {path}: {reason}",
            hint="give a requirements.txt, pylock.toml or JSON lock written by `resolve`",
        ) from exc
    return parse_lock_text(text, path, need_files=need_files)


def lock_format(text: str, path: Path) -> LockFormat:
    """Which of the three formats ``text`` (read from ``path``) is written in: by content,
    since ``resolve -o pylock.toml --format requirements`` is a requirements lock."""
    if text.lstrip().startswith("{"):
        return "json"
    if _PYLOCK_KEY.search(text):
        return "pylock"
    if path.suffix.lower() == ".toml" and _is_toml_data(text):
        return "pylock"  # PEP 751's name, and TOML without the key: its error will say so
    return "requirements"


def _is_toml_data(text: str) -> bool:
    """Whether ``text`` is TOML with something in it (comments alone are an empty pin list)."""
    try:
        return bool(tomllib.loads(text))
    except tomllib.TOMLDecodeError:
        return False


def parse_lock_text(text: str, path: Path, *, need_files: bool = True) -> LockFile:
    kind = lock_format(text, path)
    if kind == "requirements":
        parsed = _parse_requirements(text, path, need_files)
    else:
        parsed = _parse_document(text, path, kind, need_files)
    return replace(parsed, text=text)


def _line_of(lines: list[str], needle: str, start: int = 1) -> int | None:
    """1-based number of the first line at or after ``start`` containing ``needle``."""
    for number in range(max(start, 1), len(lines) + 1):
        if needle in lines[number - 1]:
            return number
    return None


# --- requirements.txt -------------------------------------------------------------------------

_REQUIREMENTS_HINT = (
    "a requirements lock pins every project as 'name==version' with one "
    "'--hash=sha256:HEX' per file, as `resolve` writes it"
)


def _parse_requirements(text: str, path: Path, need_files: bool) -> LockFile:
    try:
        # No ${VAR} expansion: a lock is data, its meaning must not depend on the environment.
        parsed = parse_requirements_text(text, path, environ={})
    except InputError as exc:
        raise LockfileError(exc.render(), hint=_REQUIREMENTS_HINT) from exc
    lines = text.splitlines()
    pins: list[LockPin] = []
    seen: dict[str, LockPin] = {}
    for item in parsed.requirements:
        pin = _requirement_pin(item, path, lines, need_files)
        key = canonical_name(pin.name)
        if key in seen and not (pin.marker and seen[key].marker):
            # A universal lock pins a project once per set of environments, each with its
            # marker (uv's layout); a lock for one target pins it once.
            raise LockfileError.at(
                f"{pin.name} is pinned twice (also on line {seen[key].line})",
                path,
                lines,
                line=pin.line,
                token=pin.name,
                hint=_REQUIREMENTS_HINT,
            )
        seen[key] = pin
        pins.append(pin)
    # Names only: an option's value may be an index URL with credentials in it.
    ignored = tuple(f"{o.source}: {o.name}" for o in parsed.options)
    header = SnapshotHeader.from_comments(text)
    return LockFile(path, "requirements", tuple(pins), header, ignored, lock_target(text))


def _requirement_pin(
    item: InputRequirement, path: Path, lines: list[str], need_files: bool
) -> LockPin:
    requirement = item.requirement
    number = item.source.line or 1
    specs = list(requirement.specifier)
    if len(specs) != 1 or specs[0].operator not in ("==", "===") or "*" in specs[0].version:
        raise LockfileError.at(
            f"{requirement.name} is not pinned to one version",
            path,
            lines,
            line=number,
            token=str(requirement.specifier) or requirement.name,
            detail="expected 'name==version'",
            hint=_REQUIREMENTS_HINT,
        )
    version = specs[0].version
    marker = str(requirement.marker) if requirement.marker is not None else None
    if not need_files:
        return LockPin(requirement.name, version, (), line=number, marker=marker)
    files: list[LockedFile] = []
    for written in item.hashes:
        algorithm, _, digest = written.partition(":")
        if algorithm != "sha256":
            continue  # sha384/sha512 are valid for pip, but files are identified by sha256
        where = _line_of(lines, digest, number) or number
        if not _SHA256.fullmatch(digest):
            raise LockfileError.at(
                f"{digest!r} is not a sha256 digest (64 hexadecimal digits)",
                path,
                lines,
                line=where,
                token=digest,
                hint=_REQUIREMENTS_HINT,
            )
        files.append(LockedFile(sha256=digest.lower(), line=where))
    if not files:
        raise LockfileError.at(
            f"{requirement.name}=={version} has no --hash=sha256:… option",
            path,
            lines,
            line=number,
            token=requirement.name,
            detail="without hashes the locked files cannot be identified",
            hint=_REQUIREMENTS_HINT,
        )
    return LockPin(requirement.name, version, tuple(files), line=number, marker=marker)


# --- pylock.toml (PEP 751) and JSON ----------------------------------------------------------


def pylock_file_name(table: Mapping[str, Any], url: str) -> str:
    """A pylock.toml file entry's file name: PEP 751's ``name`` may be left out, and is then
    the last path segment of its ``url``."""
    name = table.get("name")
    return name if isinstance(name, str) else _url_file_name(url)


def _url_file_name(url: str) -> str:
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


_PYLOCK_HINT = (
    "PEP 751 lists each file as a table with 'name', 'url', 'size' and "
    "'hashes = {sha256 = \"…\"}', as `resolve --format pylock` writes it"
)
_JSON_HINT = (
    "a JSON lock lists each package's 'files', each with 'filename', 'url', 'size' and "
    "'hashes': {'sha256': …}, as `resolve --format json` writes it"
)


def _parse_document(text: str, path: Path, kind: LockFormat, need_files: bool) -> LockFile:
    lines = text.splitlines()
    hint = _PYLOCK_HINT if kind == "pylock" else _JSON_HINT
    document = _load(text, path, lines, kind, hint)
    if kind == "pylock":
        version = document.get("lock-version")
        if not isinstance(version, str) or not version.startswith("1."):
            # PEP 751: a tool must refuse a lock-version it does not support.
            raise LockfileError.at(
                f"unsupported lock-version {version!r}",
                path,
                lines,
                line=_line_of(lines, "lock-version"),
                token=str(version),
                hint="this version of sneakernet reads pylock.toml lock-version 1.x",
            )
    packages = document.get("packages", [])
    if not isinstance(packages, list):
        shape = "tables" if kind == "pylock" else "objects"
        message = f"'packages' must be an array of {shape}"
        raise LockfileError.at(message, path, lines, line=_line_of(lines, "packages"), hint=hint)
    reader = _Packages(path, lines, kind, hint, need_files)
    pins = tuple(reader.pin(entry) for entry in packages)
    if kind == "pylock":
        header = SnapshotHeader.from_pylock(document) or SnapshotHeader.from_comments(text)
    else:
        header = SnapshotHeader.from_json(document.get("snapshot"))
    return LockFile(path, kind, pins, header, target=lock_target(text, document))


def _load(text: str, path: Path, lines: list[str], kind: LockFormat, hint: str) -> dict[str, Any]:
    """The document as TOML or JSON; a syntax error points at its line."""
    if kind == "json":
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LockfileError.at(
                f"not valid JSON: {exc.msg}", path, lines, line=exc.lineno, hint=hint
            ) from exc
        if not isinstance(document, dict):
            raise LockfileError.at("a JSON lock is an object", path, lines, line=1, hint=hint)
        return document
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        position = _TOML_POSITION.search(str(exc))
        raise LockfileError.at(
            f"not valid TOML: {_TOML_POSITION.sub('', str(exc)).strip()}",
            path,
            lines,
            line=int(position[1]) if position else None,
            hint=hint,
        ) from exc


@dataclass(frozen=True, slots=True)
class _Packages:
    """The ``packages`` of a pylock.toml or a JSON lock. Neither parser keeps positions:
    errors find their line by the value they name."""

    path: Path
    lines: list[str]
    kind: LockFormat
    hint: str
    need_files: bool

    def error(self, message: str, token: str, line: int | None) -> LockfileError:
        return LockfileError.at(
            message, self.path, self.lines, line=line, token=token, hint=self.hint
        )

    def pin(self, entry: object) -> LockPin:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            token = "[[packages]]" if self.kind == "pylock" else "packages"
            raise self.error(f"a {token} entry has no name", token, _line_of(self.lines, token))
        name: str = entry["name"]
        line = _line_of(self.lines, f'"{name}"')
        version = entry.get("version")
        if not isinstance(version, str):
            raise self.error(f"package {name} has no version", name, line)
        index = entry.get("index")
        if isinstance(index, Mapping):  # JSON: {"name": …, "url": …}
            index = index.get("url")
        index = index if isinstance(index, str) else None
        marker = entry.get("marker") if isinstance(entry.get("marker"), str) else None
        if not self.need_files:
            return LockPin(name, version, (), line, index, marker)
        tables = self._file_tables(entry, name, line)
        files = tuple(self.file(table, name, line) for table in tables)
        return LockPin(name, version, files, line, index, marker)

    def _file_tables(self, entry: Mapping[str, Any], name: str, line: int | None) -> list[object]:
        if self.kind == "json":
            tables = entry.get("files")
            if not isinstance(tables, list) or not tables:
                raise self.error(f"package {name} lists no files", name, line)
            return tables
        for kind in ("vcs", "directory", "archive"):
            if kind in entry:
                raise self.error(
                    f"package {name}: a '{kind}' source cannot be downloaded", name, line
                )
        found: list[object] = list(entry.get("wheels", []))
        if "sdist" in entry:
            found.append(entry["sdist"])
        if not found:
            raise self.error(f"package {name} lists no wheels and no sdist", name, line)
        return found

    def file(self, table: object, package: str, start: int | None) -> LockedFile:
        if not isinstance(table, Mapping):
            raise self.error(f"package {package}: a file entry is not a table", package, start)
        url = table.get("url")
        if not isinstance(url, str):
            path = table.get("path")
            what = "a local 'path'" if path is not None else "no 'url'"
            message = f"package {package}: a file has {what}; only URLs can be downloaded"
            token = f'"{path}"' if path is not None else package
            raise self.error(message, token, _line_of(self.lines, token, start or 1) or start)
        if self.kind == "pylock":
            filename = pylock_file_name(table, url)
        else:
            named = table.get("filename")
            filename = named if isinstance(named, str) else _url_file_name(url)
        line = _line_of(self.lines, f'"{filename}"', start or 1) or _line_of(self.lines, url)
        hashes = table.get("hashes")
        digest = hashes.get("sha256") if isinstance(hashes, Mapping) else None
        if not isinstance(digest, str):
            raise self.error(f"{filename} has no sha256 hash", filename, line)
        if not _SHA256.fullmatch(digest):
            message = f"{digest!r} is not a sha256 digest (64 hexadecimal digits)"
            raise self.error(message, digest, _line_of(self.lines, digest) or line)
        size = table.get("size")
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
            where = _line_of(self.lines, str(size), line or 1) or line
            raise self.error(f"{filename}: size {size!r} is not a byte count", str(size), where)
        return LockedFile(digest.lower(), filename, url, size, line)
