"""Requirements files in pip's syntax, read without a network, and the files they include.

The line grammar is pip's (:mod:`resolve.inputs.reqlines`). Every file is read through one
bounded reader (``requirements-bytes``), and ``-r``/``-c`` includes are followed by a loop, not
recursion, at most ``requirements-depth`` deep; a file that includes itself is an error, and a
file included again is not read again (it would add only what it already added).

Differences from pip, on purpose: ``-e``, URLs and local paths are errors (nothing can be built
or fetched offline); options other than ``-r``/``-c`` are returned as ``ReportedOption`` for the
caller to apply or warn about; inside a constraints file, ``-r`` includes constraints too (as uv
reads it; pip would turn them into requirements).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from resolve.inputs.reading import read_bounded
from resolve.inputs.reqlines import (
    PER_REQUIREMENT,
    Line,
    Option,
    check_hash,
    decode,
    logical_lines,
    parse_options,
    split_requirement,
)
from resolve.inputs.requirements import (
    InputError,
    InputRequirement,
    ParsedInputs,
    ReportedOption,
    parse_requirement,
)
from resolve.limits import DEFAULT_LIMITS, LimitExceeded, Limits

__all__ = ["parse_requirements_file", "parse_requirements_text"]

_URL_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def parse_requirements_file(
    path: str | os.PathLike[str],
    *,
    constraint: bool = False,
    environ: Mapping[str, str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> ParsedInputs:
    """Read a requirements (or, with ``constraint``, constraints) file and what it includes."""
    reader = _Reader(os.environ if environ is None else environ, limits)
    reader.walk(reader.open(Path(path), constraint=constraint, depth=0, site=None))
    return reader.result()


def parse_requirements_text(
    text: str,
    path: str | os.PathLike[str],
    *,
    constraint: bool = False,
    environ: Mapping[str, str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> ParsedInputs:
    """Parse ``text`` as if read from ``path`` (nested ``-r``/``-c`` are relative to it)."""
    reader = _Reader(os.environ if environ is None else environ, limits)
    file = Path(path)
    reader.walk(reader.frame(text, file, constraint=constraint, depth=0))
    return reader.result()


@dataclass(frozen=True, slots=True)
class _Include:
    """A ``-r``/``-c`` option: the file it names, how to read it, and the option itself."""

    path: Path
    constraint: bool
    site: tuple[Line, Option]


@dataclass(frozen=True, slots=True)
class _Frame:
    """A file being read: what it is, how many includes deep, and the includes still ahead."""

    identity: Path
    depth: int  # -r/-c steps from the file named on the command line
    includes: Iterator[_Include]


@dataclass(slots=True)
class _Reader:
    """What reading one command-line file (and its includes) has collected so far."""

    environ: Mapping[str, str]
    limits: Limits
    requirements: list[InputRequirement] = field(default_factory=list)
    constraints: list[InputRequirement] = field(default_factory=list)
    options: list[ReportedOption] = field(default_factory=list)
    # (identity, read as constraints) of every file read. A file included again adds nothing
    # it has not added already, and reading it again would let a few files that each include
    # the next one twice cost 2**depth reads.
    handled: set[tuple[Path, bool]] = field(default_factory=set)
    lines: int = 0  # logical lines read, in every file

    def result(self) -> ParsedInputs:
        return ParsedInputs(tuple(self.requirements), tuple(self.constraints), tuple(self.options))

    def walk(self, first: _Frame) -> None:
        """Read ``first`` and what it includes, each included file where its ``-r`` stands.

        A loop over the stack of open files, not recursion: how deep includes may nest is
        the ``requirements-depth`` limit, never the interpreter's recursion limit.
        """
        stack = [first]
        while stack:
            frame = stack[-1]
            include = next(frame.includes, None)
            if include is None:
                stack.pop()
                continue
            identity = _identity(include.path)
            open_files = [f.identity for f in stack]
            if identity in open_files:
                kind = "constraints" if include.constraint else "requirements"
                chain = " -> ".join(
                    str(p) for p in (*open_files[open_files.index(identity) :], identity)
                )
                message = f"{kind} file {str(include.path)!r} includes itself: {chain}"
                raise _at_site(include.site, message, include.path)
            if (identity, include.constraint) in self.handled:
                continue
            if frame.depth >= self.limits.requirements_depth:
                line = include.site[0]
                what = (
                    f"the chain of -r/-c includes reaching {str(include.path)!r} "
                    f"(from {line.path}:{line.number})"
                )
                raise LimitExceeded(what, "requirements-depth", self.limits.requirements_depth)
            depth = frame.depth + 1
            stack.append(
                self.open(
                    include.path, constraint=include.constraint, depth=depth, site=include.site
                )
            )

    def open(
        self, path: Path, *, constraint: bool, depth: int, site: tuple[Line, Option] | None
    ) -> _Frame:
        kind = "constraints" if constraint else "requirements"
        what = f"{kind} file {str(path)!r}"
        if site is not None:
            what += f" (included from {site[0].path}:{site[0].number})"
        try:
            data = read_bounded(path, limit=self.limits.requirements_bytes, what=what)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise _at_site(site, f"cannot read {kind} file {str(path)!r}: {reason}", path) from None
        try:
            text = decode(data)
        except UnicodeDecodeError as exc:
            raise InputError(f"{kind} file is not valid UTF-8 ({exc.reason})", path=path) from None
        return self.frame(text, path, constraint=constraint, depth=depth)

    def frame(self, text: str, path: Path, *, constraint: bool, depth: int) -> _Frame:
        identity = _identity(path)
        self.handled.add((identity, constraint))
        lines = logical_lines(text, path, self.environ)
        return _Frame(identity, depth, self._includes(lines, constraint=constraint))

    def _includes(self, lines: Iterator[Line], *, constraint: bool) -> Iterator[_Include]:
        # A generator: the lines after an include are read once the included file is done.
        for line in lines:
            self.lines += 1
            if self.lines > self.limits.requirements_lines:
                kind = "constraints" if constraint else "requirements"
                what = (
                    f"{kind} file {str(line.path)!r}, at line {line.number}, "
                    "with the lines read before it,"
                )
                raise LimitExceeded(what, "requirements-lines", self.limits.requirements_lines)
            yield from self._line(line, constraint=constraint)

    def _line(self, line: Line, *, constraint: bool) -> Iterator[_Include]:
        requirement, split = split_requirement(line.text)
        options = parse_options(line, split)
        if requirement:
            self._requirement(line, requirement, options, constraint=constraint)
            return
        for option in options:
            if option.name in ("--requirement", "--constraint"):
                yield self._include(line, option, constraint=constraint)
            elif option.name == "--editable":
                raise line.error(
                    f"editable requirement '-e {option.value}' is not supported offline",
                    at=option.at,
                    token=option.token,
                    detail="nothing is built while resolving; name the project and a version",
                )
            elif option.name in PER_REQUIREMENT:
                raise line.error(
                    f"option {option.name} must follow a requirement on the same line",
                    at=option.at,
                    token=option.token,
                )
            else:
                self.options.append(ReportedOption(option.name, option.value, line.source()))

    def _requirement(
        self, line: Line, text: str, options: list[Option], *, constraint: bool
    ) -> None:
        hashes: list[str] = []
        for option in options:
            if option.name == "--hash":
                hashes.append(check_hash(line, option))
            elif option.name in PER_REQUIREMENT:
                self.options.append(ReportedOption(option.name, option.value, line.source()))
            else:
                raise line.error(
                    f"option {option.name} cannot follow a requirement; put it on its own line",
                    at=option.at,
                    token=option.token,
                )
        try:
            parsed = parse_requirement(text, line.source(), hashes=hashes, line_text=line.text)
        except InputError as exc:
            if line.raw == line.text:
                raise
            at = None if exc.column is None else exc.column - 1
            written = split_requirement(line.raw)[0]
            message = exc.message.replace(repr(text), repr(written))
            raise line.error(message, at=at, token=exc.token or "", detail=exc.detail) from None
        if constraint:
            # pip (check_invalid_constraint_type): "Constraints cannot have extras".
            if parsed.requirement.extras:
                at = text.find("[")
                raise line.error(
                    "constraints cannot have extras",
                    at=at,
                    token=text[at : text.find("]", at) + 1],
                    detail=f"constrain the project itself: {parsed.requirement.name}"
                    f"{parsed.requirement.specifier}",
                )
            self.constraints.append(parsed)
        else:
            self.requirements.append(parsed)

    def _include(self, line: Line, option: Option, *, constraint: bool) -> _Include:
        target = option.value or ""
        if _URL_RE.match(target):
            raise line.error(
                f"including {target!r} over the network is not supported offline",
                at=option.at,
                token=option.token,
            )
        # pip: a nested file's path is relative to the directory of the file naming it.
        path = Path(target).expanduser()
        if not path.is_absolute():
            path = line.path.parent / path
        nested = constraint or option.name == "--constraint"
        return _Include(path, nested, (line, option))


def _identity(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def _at_site(site: tuple[Line, Option] | None, message: str, path: Path) -> InputError:
    if site is None:
        return InputError(message, path=path)
    line, option = site
    return line.error(message, at=option.at, token=option.token)
