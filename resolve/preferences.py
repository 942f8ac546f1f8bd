"""The pins of an existing lock, honoured as preferences (pip-compile's ``-o`` habit).

Reads what :mod:`resolve.lock` writes: ``name==version`` lines of a requirements.txt (hash
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
from packaging.version import InvalidVersion, Version

from resolve.inputs import InputError

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
        return _json(path, text)
    if _PYLOCK_KEY.search(text):
        return _pylock(path, text)
    return _requirements(path, text)


# A pylock.toml's required top-level key (PEP 751); no requirements file has such a line.
_PYLOCK_KEY = re.compile(r"^lock-version\s*=", re.MULTILINE)


def _json(path: Path, text: str) -> dict[str, Version]:
    try:
        document = json.loads(text)
        return {
            canonicalize_name(str(p["name"])): Version(str(p["version"]))
            for p in document["packages"]
        }
    except (ValueError, KeyError, TypeError) as exc:  # JSONDecodeError, InvalidVersion
        raise InputError(
            f"cannot read the existing lock as a JSON lock: {exc}",
            path=path,
            detail="remove it or pass another -o file",
        ) from exc


def _pylock(path: Path, text: str) -> dict[str, Version]:
    try:
        document = tomllib.loads(text)
        return {
            canonicalize_name(str(p["name"])): Version(str(p["version"]))
            for p in document.get("packages", [])
        }
    except (tomllib.TOMLDecodeError, KeyError, TypeError, InvalidVersion) as exc:
        raise InputError(
            f"cannot read the existing lock as pylock.toml: {exc}",
            path=path,
            detail="remove it or pass another -o file",
        ) from exc


def _requirements(path: Path, text: str) -> dict[str, Version]:
    found: dict[str, Version] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip().removesuffix("\\").strip()
        if not line or line.startswith("-") or raw[:1].isspace():
            continue
        name, sep, version = line.partition("==")
        version = version.split(";", 1)[0].split()[0] if version.strip() else ""
        try:
            if not sep:
                raise InvalidVersion(line)
            found[canonicalize_name(name.strip().split("[", 1)[0])] = Version(version)
        except InvalidVersion as exc:
            raise InputError(
                "the existing lock has a line that is not a pin 'name==version'",
                path=path,
                line=number,
                text=raw,
                detail="remove it or pass another -o file",
            ) from exc
    return found
