"""pip's requirements-file line grammar: logical lines, a requirement and its options.

The grammar is pip's (pip/_internal/req/req_file.py, documented in pip's "Requirements File
Format"): a trailing backslash joins the next line; ``#`` at the start of a line or after
whitespace starts a comment; ``${VAR}`` (upper case, digits, ``_``) is replaced from the
environment, after comments are removed. A line is a requirement followed by per-requirement
options (``--hash``), or options alone (``-r``, ``-c``, ``--index-url`` ...). What the lines
mean, and the files they include, is :mod:`resolve.inputs.reqfile`'s.
"""

from __future__ import annotations

import codecs
import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from resolve.inputs.requirements import InputError, RequirementSource

__all__ = [
    "PER_REQUIREMENT",
    "Line",
    "Option",
    "check_hash",
    "decode",
    "logical_lines",
    "parse_options",
    "split_requirement",
]

# Long spelling -> takes a value. Short spellings map to long ones below. The set is pip's
# SUPPORTED_OPTIONS plus SUPPORTED_OPTIONS_REQ (the per-requirement ones).
_OPTIONS: dict[str, bool] = {
    "--index-url": True,
    "--extra-index-url": True,
    "--no-index": False,
    "--constraint": True,
    "--requirement": True,
    "--editable": True,
    "--find-links": True,
    "--no-binary": True,
    "--only-binary": True,
    "--prefer-binary": False,
    "--require-hashes": False,
    "--pre": False,
    "--trusted-host": True,
    "--use-feature": True,
    "--hash": True,
    "--config-settings": True,
    "--global-option": True,
}
_SHORT = {
    "-i": "--index-url",
    "-c": "--constraint",
    "-r": "--requirement",
    "-e": "--editable",
    "-f": "--find-links",
}
PER_REQUIREMENT = {"--hash", "--config-settings", "--global-option"}
# pip's STRONG_HASHES: the algorithms --hash accepts.
_HASH_ALGORITHMS = ("sha256", "sha384", "sha512")

_COMMENT_RE = re.compile(r"(^|\s+)#.*$")  # pip's COMMENT_RE
# shlex's POSIX whitespace: what separates words when nothing is quoted or escaped.
_SHLEX_WORD_RE = re.compile(r"[^ \t\r\n]+")
_ENV_VAR_RE = re.compile(r"\$\{([A-Z0-9_]+)\}")  # pip's ENV_VAR_RE (POSIX names, upper case)


@dataclass(frozen=True, slots=True)
class Line:
    """One logical line of a requirements file: where it starts, and its text."""

    path: Path
    number: int  # of the first physical line
    text: str  # joined, comment-stripped, expanded: what is parsed
    raw: str  # joined and comment-stripped, before ${VAR} expansion: what errors show

    def source(self) -> RequirementSource:
        return RequirementSource(self.path, self.number)

    def error(
        self, message: str, *, at: int | None = None, token: str = "", detail: str | None = None
    ) -> InputError:
        """An error pointing at ``token`` found at 0-based ``at`` in ``text``."""
        column = None if at is None else at + 1
        if self.raw != self.text:
            # Show the line as written, not with environment values (they may be secrets).
            found = self.raw.find(token) if token else -1
            column = found + 1 if found >= 0 and column is not None else None
            token = token if found >= 0 else ""
        return InputError(
            message,
            path=self.path,
            line=self.number,
            column=column,
            token=token or None,
            text=self.raw,
            detail=detail,
        )


@dataclass(frozen=True, slots=True)
class Option:
    """An option on a requirements line (``--hash``, ``-i``, …) and where it stands."""

    name: str  # long spelling
    value: str | None
    at: int  # 0-based position of the option token in the line
    token: str


def split_requirement(text: str) -> tuple[str, int]:
    """pip's break_args_options: the requirement runs up to the first word starting with "-".

    Returns the requirement and where the options start.
    """
    words = re.finditer(r"\S+", text)
    split = next((w.start() for w in words if w.group().startswith("-")), len(text))
    return text[:split].rstrip(), split


def decode(data: bytes) -> str:
    # pip's auto_decode honours byte-order marks; everything else is read as UTF-8.
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding)
    return data.decode("utf-8")


def logical_lines(text: str, path: Path, environ: Mapping[str, str]) -> Iterator[Line]:
    """pip's preprocess(): join_lines, then ignore_comments, then expand_env_variables."""
    pending: list[str] = []
    first = 0
    joined: list[tuple[int, str]] = []
    for number, physical in enumerate(text.splitlines(), start=1):
        # A comment line never continues, even when it ends with a backslash.
        if not physical.endswith("\\") or _COMMENT_RE.match(physical):
            if _COMMENT_RE.match(physical):
                physical = " " + physical  # keep it a comment once joined to a pending line
            if pending:
                joined.append((first, "".join([*pending, physical])))
                pending = []
            else:
                joined.append((number, physical))
        else:
            if not pending:
                first = number
            pending.append(physical[:-1])
    if pending:  # the file ends with a backslash
        joined.append((first, "".join(pending)))
    for number, logical in joined:
        raw = _COMMENT_RE.sub("", logical).strip()
        if not raw:
            continue
        yield Line(path, number, _expand(raw, environ), raw)


def _expand(line: str, environ: Mapping[str, str]) -> str:
    # pip leaves ${VAR} as written when the variable is unset or empty.
    def value(match: re.Match[str]) -> str:
        return environ.get(match.group(1)) or match.group(0)

    return _ENV_VAR_RE.sub(value, line)


def parse_options(line: Line, start: int) -> list[Option]:
    """The option words of a line, optparse-style: ``--name=value``, ``--name value``, ``-xV``."""
    rest = line.text[start:]
    if not rest:
        return []
    if not any(c in rest for c in "\"'\\"):
        # What shlex would give, without its per-character loop: a lock's --hash options
        # (thousands of words when -o names an existing lock) have no quotes or escapes.
        words = _SHLEX_WORD_RE.findall(rest)
    else:
        try:
            words = shlex.split(rest)
        except ValueError as exc:  # unbalanced quotes
            token = rest.split()[0]
            raise line.error(f"cannot split options: {exc}", at=start, token=token) from None
    # shlex drops positions; find each word again, left to right, for the caret.
    positions: list[int] = []
    cursor = start
    for word in words:
        found = line.text.find(word, cursor)
        positions.append(found if found >= 0 else cursor)
        cursor = positions[-1] + len(word) if found >= 0 else cursor
    options: list[Option] = []
    index = 0
    while index < len(words):
        word, at = words[index], positions[index]
        if word.startswith("--"):
            spelled, has_value, value = word.partition("=")
            name = _long_name(line, spelled, at)
        elif word.startswith("-") and len(word) > 1:
            spelled, value = word[:2], word[2:]
            has_value = "=" if value else ""
            if spelled not in _SHORT:
                raise line.error(f"unknown option {spelled!r}", at=at, token=spelled)
            name = _SHORT[spelled]
        else:
            raise line.error(f"unexpected argument {word!r}", at=at, token=word)
        if _OPTIONS[name]:
            if not has_value:
                index += 1
                if index >= len(words):
                    raise line.error(f"option {spelled} needs a value", at=at, token=spelled)
                value = words[index]
                word = line.text[at : positions[index] + len(value)]
        elif has_value:
            raise line.error(f"option {spelled} takes no value", at=at, token=word)
        options.append(Option(name, value if _OPTIONS[name] else None, at, word))
        index += 1
    return options


def _long_name(line: Line, spelled: str, at: int) -> str:
    if spelled in _OPTIONS:
        return spelled
    # optparse, which pip uses, accepts any unambiguous prefix of a long option.
    matches = [name for name in _OPTIONS if name.startswith(spelled)] if len(spelled) > 2 else []
    if len(matches) == 1:
        return matches[0]
    raise line.error(f"unknown option {spelled!r}", at=at, token=spelled)


def check_hash(line: Line, option: Option) -> str:
    algorithm, colon, digest = (option.value or "").partition(":")
    if not colon or not digest:
        raise line.error(
            "--hash needs a hash name and a value, like --hash=sha256:abcde…",
            at=option.at,
            token=option.token,
        )
    if algorithm not in _HASH_ALGORITHMS:
        raise line.error(
            f"hash algorithm {algorithm!r} is not allowed",
            at=option.at,
            token=option.token,
            detail="allowed: " + ", ".join(_HASH_ALGORITHMS),
        )
    return f"{algorithm}:{digest}"
