"""URL helpers shared by the mirror side."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

__all__ = ["strip_userinfo"]


def strip_userinfo(url: str) -> str:
    """The URL without ``user:password@``: credentials are never stored (MIRROR.md, "Auth")."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
