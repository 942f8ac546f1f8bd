"""pip's configuration, read as pip reads it, with the standard library only (pip's internals
are not an API, and pip need not be installed).

One parser of a configuration *file* (pip.conf, pip.ini) and one precedence rule, shared by
`mirror rules import pip.conf` (:mod:`resolve.rules.foreign`) and by the sync's adoption of
the user's pip configuration (:mod:`mirror.pipconfig`, which also knows where the files are).
pip's user guide, "Configuration":

- a file is INI without interpolation; a key may be spelled ``index_url``, ``index-url`` or
  ``--index-url`` (pip normalises them to one, and refuses one key given twice);
- `pip install` reads ``[global]``, then ``[install]`` over it (uv reads the same sections);
- files are read in order, each over the ones before, section by section; then the ``PIP_*``
  environment variables (``PIP_INDEX_URL``, ``PIP_EXTRA_INDEX_URL``…) over every file;
- an empty value sets nothing (pip drops empty values before applying them).
"""

from __future__ import annotations

import configparser
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from resolve.rules.toml_file import Source

__all__ = [
    "INSTALL_SECTIONS",
    "PipConfigFile",
    "parse_pip_config_file",
    "pip_key",
    "pip_settings",
    "pip_true",
]

#: The sections `pip install` reads, weakest first.
INSTALL_SECTIONS = ("global", "install")


def pip_key(name: str) -> str:
    """A setting's name as pip compares it, from a file or from ``PIP_<NAME>``: lower case,
    ``-`` for ``_``, no leading ``--`` (pip's ``configuration._normalize_name``)."""
    return name.lower().replace("_", "-").removeprefix("--")


def pip_true(value: str | None) -> bool:
    """pip's reading of a boolean setting (``strtobool``): 1/true/yes/on/y/t, any case."""
    return (value or "").strip().lower() in ("1", "true", "yes", "on", "y", "t")


class _Parser(configparser.RawConfigParser):
    """INI as pip reads it: no interpolation, keys normalised before duplicates are checked."""

    def optionxform(self, optionstr: str) -> str:
        return pip_key(optionstr)


@dataclass(frozen=True, slots=True)
class PipConfigFile:
    """One configuration file: ``{section: {key: value}}`` in the file's order, keys as
    :func:`pip_key` spells them."""

    source: Source
    sections: Mapping[str, Mapping[str, str]]


def parse_pip_config_file(source: Source, *, hint: str | None = None) -> PipConfigFile:
    """The sections of a pip configuration file; an error names the file and the line, with
    ``hint`` (what the caller's user can do about it) when given."""
    parser = _Parser()
    try:
        parser.read_string(source.text, source=str(source.path))
    except configparser.Error as exc:
        line = getattr(exc, "lineno", None)
        errors = getattr(exc, "errors", None)
        if line is None and errors:
            line = errors[0][0]
        first = str(exc).splitlines()[0]
        raise source.error(f"invalid pip configuration: {first}", line=line, hint=hint) from exc
    sections = {name: dict(parser.items(name)) for name in parser.sections()}
    return PipConfigFile(source, sections)


def pip_settings(
    files: Sequence[PipConfigFile], environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The settings `pip install` takes from ``files`` (in pip's order, each over the ones
    before) and from the ``PIP_*`` variables of ``environ``, which beat every file."""
    sections: dict[str, dict[str, str]] = {name: {} for name in INSTALL_SECTIONS}
    for found in files:
        for name in INSTALL_SECTIONS:
            # Within a section a later file wins even with an empty value, as in pip.
            sections[name].update(found.sections.get(name, {}))
    variables = {
        pip_key(name[4:]): value
        for name, value in (environ or {}).items()
        if name.startswith("PIP_")
    }
    settings: dict[str, str] = {}
    for layer in (*(sections[name] for name in INSTALL_SECTIONS), variables):
        settings.update((key, value) for key, value in layer.items() if value)
    return settings
