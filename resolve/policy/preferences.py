"""The pins of an existing lock, honoured as preferences (pip-compile's ``-o`` habit).

Reads what :mod:`resolve.lock.writers` writes: ``name==version`` lines of a requirements.txt (hash
options, comments and annotations ignored), or the ``packages`` of a pylock.toml or of a JSON
lock, whatever the file is called (``--format`` need not match the name). A file
that cannot be read as a lock is an error naming it: silently ignoring it would quietly
upgrade every pin.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import Version

from resolve.inputs.reqfile import parse_requirements_text
from resolve.inputs.requirements import InputError

__all__ = ["read_preferences"]


def read_preferences(path: Path) -> dict[str, Version]:
    """``{canonical name: version}`` from an existing lock; ``{}`` if the file is absent."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the existing lock {path}: {exc}") from exc
    # By content, not by name: `--format` need not match the file's name.
    if text.lstrip().startswith("{"):
        return _documents(path, text, "JSON")
    if _PYLOCK_KEY.search(text):
        return _documents(path, text, "pylock.toml")
    return _requirements(path, text)


# A pylock.toml's required top-level key (PEP 751); no requirements file has such a line.
_PYLOCK_KEY = re.compile(r"^lock-version\s*=", re.MULTILINE)


def _documents(path: Path, text: str, kind: str) -> dict[str, Version]:
    """The ``packages`` array (name, version) of a JSON lock or a pylock.toml."""
    try:
        document = json.loads(text) if kind == "JSON" else tomllib.loads(text)
        return {
            canonicalize_name(str(p["name"])): Version(str(p["version"]))
            for p in document["packages"]
        }
    except (ValueError, KeyError, TypeError) as exc:  # decode errors, InvalidVersion
        raise InputError(
            f"cannot read the existing lock as {kind}: {exc}",
            path=path,
            detail="remove it or pass another -o file",
        ) from exc


def _requirements(path: Path, text: str) -> dict[str, Version]:
    """Pins of a requirements.txt lock, read with the same pip-syntax reader as every other
    requirements file (continuations, ``--hash`` options, comments)."""
    found: dict[str, Version] = {}
    for item in parse_requirements_text(text, path).requirements:
        specs = list(item.requirement.specifier)
        if len(specs) != 1 or specs[0].operator != "==" or "*" in specs[0].version:
            raise InputError(
                "the existing lock has a requirement that is not a pin 'name==version'",
                path=path,
                line=item.source.line,
                text=str(item.requirement),
                detail="remove it or pass another -o file",
            )
        found[canonicalize_name(item.requirement.name)] = Version(specs[0].version)
    return found
