"""An index's name and URL as a user types them (`mirror index add`) or a rule file gives
them (`mirror rules import`): checked once, with errors that say what to type instead."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from db.errors import SneakernetError
from db.urls import redact_credentials

__all__ = ["validate_index_name", "validate_index_url"]

# uv's rule for index names: they appear in `rules pin`, in lock files and in the
# SNEAKERNET_INDEX_<NAME>_* variables, so no spaces, tabs or empty names.
_INDEX_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def validate_index_name(name: str) -> str:
    if not _INDEX_NAME.fullmatch(name):
        raise SneakernetError(
            f"invalid index name {name!r}",
            hint="use letters, digits, '-', '_' and '.', starting with a letter or digit",
        )
    return name


def validate_index_url(url: str) -> str:
    """Accept http(s):// and file:// URLs, and local directories (made file:// URLs)."""
    if "://" not in url:
        path = Path(url).expanduser()
        if not path.is_dir():
            raise SneakernetError(
                f"{url!r} is neither a URL nor a directory",
                hint="give an http(s):// or file:// index URL, e.g. http://127.0.0.1:8080/simple/",
            )
        return path.resolve().as_uri() + "/"
    hint = "give an http(s):// or file:// URL, e.g. http://127.0.0.1:8080/simple/"
    shown = redact_credentials(url)  # errors end up in CI logs: no credentials there
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise SneakernetError(
            f"malformed index URL {shown!r}: it contains spaces or control characters",
            hint=hint + "; percent-encode spaces as %20",
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - validates the port number
    except ValueError as exc:  # a bad port, or a broken [IPv6] host
        raise SneakernetError(f"malformed index URL {shown!r}: {exc}", hint=hint) from exc
    if parts.scheme not in ("http", "https", "file"):
        raise SneakernetError(f"malformed index URL {shown!r}: unsupported scheme", hint=hint)
    if (parts.scheme != "file" and not parts.hostname) or (
        parts.scheme == "file" and not parts.path
    ):
        raise SneakernetError(
            f"malformed index URL {shown!r}: no {'host' if parts.scheme != 'file' else 'path'}",
            hint=hint,
        )
    return url
