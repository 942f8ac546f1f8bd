"""Requirement inputs: typed records, span-carrying errors, and one requirement string parsed.

A requirement comes from the command line (PEP 508 strings), a requirements file in pip's syntax
(``resolve.inputs.reqfile``) or a ``pyproject.toml`` (``resolve.inputs.pyproject``). Every record
keeps where it came from, so an explanation or an error can name the file and line, and every error
points at the offending token the way ``packaging``'s own parser errors do::

    requirements.in:3: invalid requirement 'foo>=>1'
        foo>=>1
           ^^^^
    Expected semicolon (after name with no version specifier) or end
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

__all__ = [
    "COMMAND_LINE",
    "InputError",
    "InputRequirement",
    "ParsedInputs",
    "ReportedOption",
    "RequirementSource",
    "parse_requirement",
]


@dataclass(frozen=True, slots=True)
class RequirementSource:
    """Where a requirement or option was written: a file and line, or the command line.

    ``section`` names the ``pyproject.toml`` table a requirement came from, such as
    ``project.optional-dependencies.test`` or ``dependency-groups.dev``.
    """

    path: Path | None = None
    line: int | None = None
    section: str | None = None

    def __str__(self) -> str:
        if self.path is None:
            return "command line"
        where = f"{self.path}:{self.line}" if self.line is not None else str(self.path)
        return f"{where} [{self.section}]" if self.section else where


COMMAND_LINE = RequirementSource()


@dataclass(frozen=True, slots=True)
class InputRequirement:
    """A PEP 508 requirement, its origin, and the ``--hash`` values given with it."""

    requirement: Requirement
    source: RequirementSource
    # "algorithm:hexdigest", as written after pip's --hash option.
    hashes: tuple[str, ...] = ()

    def __str__(self) -> str:
        return str(self.requirement)


@dataclass(frozen=True, slots=True)
class ReportedOption:
    """An option line of a requirements file (``--index-url URL``, ``--pre`` ...).

    Reported, not applied: the caller decides whether it maps to a resolver setting or only
    deserves a warning. ``name`` is the long spelling; ``value`` is None for flags. Values had
    ``${VAR}`` expanded, so an index URL may carry credentials: never store it as given.
    """

    name: str
    value: str | None
    source: RequirementSource

    @property
    def text(self) -> str:
        """The option as a command line would spell it: ``--index-url URL``, ``--pre``."""
        return self.name if self.value is None else f"{self.name} {self.value}"


@dataclass(frozen=True, slots=True)
class RequiresPython:
    """A project's ``requires-python`` (PEP 621), already checked to be a valid specifier."""

    text: str
    source: RequirementSource


@dataclass(frozen=True, slots=True)
class ParsedInputs:
    """What the inputs asked for, in the order written (duplicates are kept)."""

    requirements: tuple[InputRequirement, ...] = ()
    constraints: tuple[InputRequirement, ...] = ()
    options: tuple[ReportedOption, ...] = ()
    requires_python: tuple[RequiresPython, ...] = ()

    @classmethod
    def concat(cls, parts: Iterable[ParsedInputs]) -> ParsedInputs:
        requirements: list[InputRequirement] = []
        constraints: list[InputRequirement] = []
        options: list[ReportedOption] = []
        pythons: list[RequiresPython] = []
        for part in parts:
            requirements.extend(part.requirements)
            constraints.extend(part.constraints)
            options.extend(part.options)
            pythons.extend(part.requires_python)
        return cls(tuple(requirements), tuple(constraints), tuple(options), tuple(pythons))

    def as_constraints(self) -> ParsedInputs:
        """Everything as constraints (a ``-c`` file, or a pyproject given as constraints)."""
        return ParsedInputs(
            (), self.requirements + self.constraints, self.options, self.requires_python
        )


class InputError(ValueError):
    """An input that cannot be read, with the file, line, column and token at fault.

    ``column`` is 1-based and counts in ``text`` (the line as shown); ``detail`` is an extra
    explanation printed under the caret line, such as packaging's parser message.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | os.PathLike[str] | None = None,
        line: int | None = None,
        column: int | None = None,
        token: str | None = None,
        text: str | None = None,
        detail: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        #: What to do, when more can be said than "fix the input".
        self.hint = hint
        self.path = Path(path) if path is not None else None
        self.line = line
        self.column = column
        self.token = token
        self.text = text
        self.detail = detail
        super().__init__(message)

    def __str__(self) -> str:
        return self.render()

    @property
    def location(self) -> str | None:
        if self.path is None:
            return None
        return f"{self.path}:{self.line}" if self.line is not None else str(self.path)

    def render(self) -> str:
        """The message, the line, a caret under the token, and the detail, one per line."""
        location = self.location
        lines = [f"{location}: {self.message}" if location else self.message]
        if self.text is not None:
            lines.append(f"    {self.text}")
            if self.column is not None:
                width = max(1, len(self.token or ""))
                lines.append("    " + " " * (self.column - 1) + "^" * width)
        if self.detail:
            lines.append(self.detail)
        return "\n".join(lines)


_OFFLINE_HINT = (
    "sneakernet resolves names and versions from an index snapshot; name the project "
    "(e.g. 'name==1.2'), or read a local project's dependencies with '-r pyproject.toml'"
)


def parse_requirement(
    text: str,
    source: RequirementSource = COMMAND_LINE,
    *,
    hashes: Iterable[str] = (),
    line_text: str | None = None,
    offset: int = 0,
) -> InputRequirement:
    """Parse one PEP 508 requirement; an error points into ``line_text`` at ``offset``.

    ``line_text`` is the line as the user wrote it (default: ``text``) and ``offset`` the
    0-based position of ``text`` in it, so the caret lands under the right character.
    """
    shown = text if line_text is None else line_text
    kind = _unsupported_form(text)
    if kind is not None:
        token = text.split(";", 1)[0].strip()
        raise InputError(
            f"{kind} {token!r} is not supported offline",
            path=source.path,
            line=source.line,
            column=offset + text.find(token) + 1,
            token=token,
            text=shown,
            detail=_OFFLINE_HINT,
        )
    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        message, start, end = _span(exc)
        start, token = _token(text, start, end)
        raise InputError(
            f"invalid requirement {text!r}",
            path=source.path,
            line=source.line,
            column=offset + start + 1,
            token=token,
            text=shown,
            detail=message,
        ) from None
    if requirement.url is not None:
        # PEP 508 direct references (`name @ URL`) bypass the index snapshot entirely.
        at = text.find("@")
        raise InputError(
            f"direct reference {text!r} is not supported offline",
            path=source.path,
            line=source.line,
            column=offset + at + 1 if at >= 0 else None,
            token=text[at:].split(";", 1)[0].rstrip() if at >= 0 else None,
            text=shown,
            detail=_OFFLINE_HINT,
        )
    return InputRequirement(requirement, source, tuple(hashes))


_WORD_RE = re.compile(r"\s*(\S*)")
_URL_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://|file:")
_ARCHIVE_SUFFIXES = (
    ".whl",
    ".zip",
    ".tar.gz",
    ".tgz",
    ".tar.bz2",
    ".tbz",
    ".tar.xz",
    ".txz",
    ".tar",
)


def _unsupported_form(text: str) -> str | None:
    """pip also reads URLs and local paths where a requirement goes; we cannot (offline).

    The tests follow pip's install_req_from_line: a URL scheme, a path separator or a leading
    dot, or an archive file name. A PEP 508 `name @ URL` is caught after parsing.
    """
    head = text.split(";", 1)[0].strip()
    if "@" in head:
        return None
    if _URL_RE.match(head):
        return "URL"
    if (
        head.startswith((".", "/", "~", "\\"))
        or "/" in head
        or "\\" in head
        or head.lower().endswith(_ARCHIVE_SUFFIXES)
    ):
        return "local path"
    return None


def _span(exc: InvalidRequirement) -> tuple[str, int, int]:
    """packaging's message and (start, end) span of an InvalidRequirement.

    packaging raises InvalidRequirement from its ParserSyntaxError, whose ``span`` is the
    offending range and whose text is "message / source / ~~~^" joined by newline-indents.
    """
    text = str(exc)
    message, _, rest = text.partition("\n")
    span = getattr(exc.__cause__, "span", None)
    if isinstance(span, tuple) and len(span) == 2:
        return message, int(span[0]), int(span[1])
    marker = rest.rsplit("\n", 1)[-1][4:] if rest else ""
    start = len(marker) - len(marker.lstrip(" "))
    return message, start, start + marker.count("~")


def _token(text: str, start: int, end: int) -> tuple[int, str]:
    """The offending token and where it starts: packaging's span (its ``~~~^`` covers
    ``start..end`` inclusive), or, for a zero-width span, the next word from ``start``."""
    if end > start:
        return start, text[start : end + 1]
    match = _WORD_RE.match(text, start)
    assert match is not None  # the pattern matches the empty string
    return (match.start(1), match.group(1)) if match.group(1) else (start, "")
