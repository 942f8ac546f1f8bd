"""Indexes from the user's pip configuration, so a site's mirror settings are respected.

With no index configured, the first sync takes pip's view of the world: ``index-url`` is the
default index (consulted last), each ``extra-index-url`` comes before it in the order given,
and each ``find-links`` location is a flat index; ``no-index`` leaves only the find-links.
With no configuration at all, pip's own built-in default index is used — read from pip, never
written down here.

The configuration is read as pip's user guide ("Configuration") documents it, without pip:
the files below in this order, each over the ones before (parsed, and layered with ``[install]``
over ``[global]`` and the ``PIP_*`` variables over every file, by
:mod:`resolve.rules.pip_config`, which `mirror rules import pip.conf` uses too):

1. global: each ``$XDG_CONFIG_DIRS`` directory's ``pip/pip.conf`` (``/etc/xdg``), then
   ``/etc/pip.conf`` (macOS: ``/Library/Application Support/pip/pip.conf``; Windows:
   ``%ProgramData%\\pip\\pip.ini``);
2. user: the legacy ``~/.pip/pip.conf``, then ``$XDG_CONFIG_HOME/pip/pip.conf``
   (``~/.config``; macOS: ``~/Library/Application Support/pip/pip.conf`` when that folder
   exists; Windows: ``~\\pip\\pip.ini``, then ``%APPDATA%\\pip\\pip.ini``) — skipped when
   ``PIP_CONFIG_FILE`` names an existing file;
3. site: ``pip.conf`` in the active virtual environment (``$VIRTUAL_ENV``, else the running
   interpreter's ``sys.prefix``, which is pip's own choice);
4. the file ``PIP_CONFIG_FILE`` names. ``PIP_CONFIG_FILE=os.devnull`` reads no file at all.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from resolve.rules.pip_config import parse_pip_config_file, pip_settings, pip_true
from resolve.rules.toml_file import Source

__all__ = [
    "UNIX_ETC",
    "PipIndex",
    "pip_builtin_index",
    "pip_config_files",
    "pip_indexes",
    "read_pip_settings",
]

#: The folder of the Unix global file besides the XDG ones (pip's ``site_config_dirs``).
UNIX_ETC = Path("/etc")

_FIX = f"fix it, or set PIP_CONFIG_FILE={os.devnull} to read no pip configuration file"


@dataclass(frozen=True, slots=True)
class PipIndex:
    name: str
    url: str
    format: str  # "simple" or "flat"
    is_default: bool
    origin: str  # which pip setting it came from, to tell the user


def pip_builtin_index() -> str | None:
    """pip's own default index URL, or None when pip is not importable.

    Asked of pip because the project never spells a public index's host (DESIGN.md,
    "Conventions"). The constant has kept its name and place since pip 10; it is read only
    for this default, and a pip that lacks it counts as no pip, never as an error.
    """
    try:
        from pip._internal.models.index import PyPI
    except ImportError:
        return None
    url = getattr(PyPI, "simple_url", None)
    return url if isinstance(url, str) else None


def pip_config_files(
    environ: Mapping[str, str],
    *,
    platform: str = sys.platform,
    prefix: str = sys.prefix,
    etc: Path | None = None,
) -> list[Path]:
    """The configuration files pip reads, in its order (each over the ones before), whether
    or not they exist; ``etc`` is the Unix global file's folder (default :data:`UNIX_ETC`)."""
    named = environ.get("PIP_CONFIG_FILE")
    if named == os.devnull:
        return []
    # pip's "~": os.path.expanduser, which reads USERPROFILE on Windows and HOME elsewhere.
    home = Path(environ.get("USERPROFILE" if platform == "win32" else "HOME") or Path.home())
    basename = "pip.ini" if platform == "win32" else "pip.conf"
    if platform == "win32":
        program_data = Path(environ.get("PROGRAMDATA") or r"C:\ProgramData")
        app_data = Path(environ.get("APPDATA") or home / "AppData" / "Roaming")
        global_dirs = [program_data / "pip"]
        user_dirs = [home / "pip", app_data / "pip"]
    elif platform == "darwin":
        global_dirs = [Path("/Library/Application Support/pip")]
        native = home / "Library/Application Support/pip"
        user_dirs = [home / ".pip", native if native.is_dir() else home / ".config/pip"]
    else:
        xdg_dirs = (environ.get("XDG_CONFIG_DIRS", "").strip() or "/etc/xdg").split(os.pathsep)
        global_dirs = [Path(d) / "pip" for d in xdg_dirs if d] + [etc or UNIX_ETC]
        config_home = Path(environ.get("XDG_CONFIG_HOME", "").strip() or home / ".config")
        user_dirs = [home / ".pip", config_home / "pip"]
    site = Path(environ.get("VIRTUAL_ENV") or prefix)
    files = [d / basename for d in global_dirs]
    if not (named and Path(named).exists()):
        files += [d / basename for d in user_dirs]
    files.append(site / basename)
    if named:
        files.append(Path(named))
    return files


def read_pip_settings(
    environ: Mapping[str, str] | None = None, files: list[Path] | None = None
) -> dict[str, str]:
    """The settings `pip install` would use: ``files`` (by default :func:`pip_config_files`)
    under the ``PIP_*`` variables of ``environ`` (by default the process environment).

    A file that cannot be opened is skipped, as pip skips it; one that is not valid INI is an
    error naming the file and line, as in pip, rather than a silent fall-back to the default.
    """
    env = os.environ if environ is None else environ
    parsed = []
    for path in pip_config_files(env) if files is None else files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise Source(path, "").error(f"not UTF-8 text: {exc.reason}", hint=_FIX) from exc
        except OSError:
            continue
        parsed.append(parse_pip_config_file(Source(path, text), hint=_FIX))
    return pip_settings(parsed, env)


def _as_url(location: str) -> str:
    if "://" in location:
        return location
    return Path(location).expanduser().resolve().as_uri()


def pip_indexes(get: Callable[[str], str | None] | None = None) -> list[PipIndex]:
    """The indexes pip would use, in lookup order; the default index last."""
    get = get or read_pip_settings().get
    found: list[PipIndex] = []
    links = [
        PipIndex(f"links-{n}", _as_url(location), "flat", False, "find-links")
        for n, location in enumerate((get("find-links") or "").split(), start=1)
    ]
    if pip_true(get("no-index")):
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
        found.append(PipIndex("pypi", builtin, "simple", True, "built-in default"))
    return found
