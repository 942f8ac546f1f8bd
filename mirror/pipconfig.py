"""Indexes from the user's pip configuration, so a site's mirror settings are respected.

With no index configured, the first sync takes pip's view of the world: ``index-url`` is the
default index (consulted last), each ``extra-index-url`` comes before it in the order given,
and each ``find-links`` location is a flat index; ``no-index`` leaves only the find-links.
pip's environment variables beat its configuration files, and ``install`` settings beat
``global`` ones, as in pip itself. With no configuration at all, pip's own built-in default
index is used — read from pip, never written down here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PipIndex", "pip_builtin_index", "pip_indexes"]


@dataclass(frozen=True, slots=True)
class PipIndex:
    name: str
    url: str
    format: str  # "simple" or "flat"
    is_default: bool
    origin: str  # which pip setting it came from, to tell the user


def pip_builtin_index() -> str | None:
    """pip's own default index URL, or None when pip is not importable."""
    try:
        from pip._internal.models.index import PyPI
    except ImportError:  # pragma: no cover - pip ships with every venv we create
        return None
    return str(PyPI.simple_url)


def _pip_getter() -> Callable[[str], str | None]:
    try:
        from pip._internal.configuration import Configuration
        from pip._internal.exceptions import ConfigurationError
    except ImportError:  # pragma: no cover
        return lambda key: None
    config = Configuration(isolated=False)
    try:
        config.load()
    except ConfigurationError:
        return lambda key: None

    def get(key: str) -> str | None:
        for section in (":env:", "install", "global"):
            try:
                value = config.get_value(f"{section}.{key}")
            except ConfigurationError:
                continue
            if value is not None:
                return str(value)
        return None

    return get


def _as_url(location: str) -> str:
    if "://" in location:
        return location
    return Path(location).expanduser().resolve().as_uri()


def _is_true(value: str | None) -> bool:
    # pip's own reading of boolean settings (strtobool): 1/true/yes/on, any case.
    return (value or "").strip().lower() in ("1", "true", "yes", "on", "y", "t")


def pip_indexes(get: Callable[[str], str | None] | None = None) -> list[PipIndex]:
    """The indexes pip would use, in lookup order; the default index last."""
    get = get or _pip_getter()
    found: list[PipIndex] = []
    links = [
        PipIndex(f"links-{n}", _as_url(location), "flat", False, "find-links")
        for n, location in enumerate((get("find-links") or "").split(), start=1)
    ]
    if _is_true(get("no-index")):
        # pip's no-index ignores index-url and extra-index-url and uses find-links only; a site
        # that forbids indexes must not get pip's built-in default added behind its back.
        return links
    for n, url in enumerate((get("extra-index-url") or "").split(), start=1):
        found.append(PipIndex(f"extra-{n}", url, "simple", False, "extra-index-url"))
    found += links
    index_url = get("index-url")
    builtin = pip_builtin_index()
    if index_url and index_url.rstrip("/") != (builtin or "").rstrip("/"):
        found.append(PipIndex("default", index_url, "simple", True, "index-url"))
    elif builtin:
        found.append(PipIndex("pypi", builtin, "simple", True, "pip's built-in default"))
    return found
