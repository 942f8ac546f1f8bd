"""Index credentials: where they come from, and keeping them out of every URL we keep.

MIRROR.md ("Sync behaviour", Auth) and DESIGN.md ("Data model", index): credentials live in the
user's URL at run time, netrc or environment, never in the database, a lock or a log line. This
module finds them; :mod:`mirror.http.client` decides on which requests they are sent (only to the
index's own origin, never across a redirect to another host).

Lookup order for one index URL (first hit wins):

1. userinfo in the URL given at run time: ``https://user:token@host/simple/`` (percent-decoded;
   a URL with only a user part is a token with an empty password);
2. netrc: the file named by ``$NETRC``, else ``~/.netrc``, entry ``machine <host>`` (or
   ``default``), read with the standard library's :mod:`netrc`;
3. environment: ``SNEAKERNET_INDEX_<NAME>_USERNAME`` and ``SNEAKERNET_INDEX_<NAME>_PASSWORD``,
   where ``<NAME>`` is the configured index name upper-cased with every character outside
   ``A-Z0-9`` replaced by ``_`` (index ``corp-pypi`` reads ``SNEAKERNET_INDEX_CORP_PYPI_*``).
   Either variable alone is enough (a token may have no user name).
"""

from __future__ import annotations

import base64
import logging
import netrc
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from yarl import URL

from db.urls import strip_credentials

__all__ = [
    "CredentialTable",
    "Credentials",
    "Origin",
    "credentials_from_env",
    "credentials_from_netrc",
    "env_prefix",
    "find_credentials",
    "origin_of",
    "split_credentials",
]

_log = logging.getLogger(__name__)
_NOT_ALNUM = re.compile(r"[^A-Z0-9]")

Origin = tuple[str, str, int | None]
"""(scheme, host, port) as RFC 6454 compares them; the unit the Authorization header is tied to."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """A user name and password (or token) for HTTP basic auth.

    ``source`` says where they came from (``url``, ``netrc``, ``env``) for diagnostics; the
    password is excluded from ``repr`` so that logging a value never leaks it.
    """

    username: str
    password: str = field(repr=False)
    source: str = "url"

    def authorization(self) -> str:
        """The ``Authorization`` header value (RFC 7617; user-pass is UTF-8)."""
        token = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(token).decode("ascii")


def origin_of(url: str | URL) -> Origin:
    """The origin of ``url``: the explicit or default port makes ``:443`` and no port equal."""
    parsed = url if isinstance(url, URL) else URL(url)
    return (parsed.scheme.lower(), (parsed.host or "").lower(), parsed.port)


def split_credentials(url: str) -> tuple[str, Credentials | None]:
    """``url`` without userinfo, and the credentials that were in it (if any).

    The URL is :func:`db.urls.strip_credentials`'s, the same text that is stored for the index,
    so a base URL is the same with credentials or without; what was removed comes back
    percent-decoded, for the Authorization header.
    """
    clean = strip_credentials(url)
    if clean == url:
        return url, None
    parsed = URL(url)
    if parsed.user is None and parsed.password is None:  # an empty userinfo: "https://@host/"
        return clean, None
    return clean, Credentials(parsed.user or "", parsed.password or "", "url")


def env_prefix(index_name: str) -> str:
    """``SNEAKERNET_INDEX_<NAME>_`` for an index name (see the module docstring)."""
    return f"SNEAKERNET_INDEX_{_NOT_ALNUM.sub('_', index_name.upper())}_"


def credentials_from_env(index_name: str, environ: Mapping[str, str]) -> Credentials | None:
    prefix = env_prefix(index_name)
    username = environ.get(prefix + "USERNAME")
    password = environ.get(prefix + "PASSWORD")
    if username is None and password is None:
        return None
    return Credentials(username or "", password or "", "env")


def credentials_from_netrc(
    host: str, *, environ: Mapping[str, str], path: str | os.PathLike[str] | None = None
) -> Credentials | None:
    """Credentials for ``host`` from ``path``, ``$NETRC`` or ``~/.netrc``.

    An unreadable or malformed file is logged and ignored rather than failing the sync: the
    index may not need credentials at all, and its 401 will say so.
    """
    location = path or environ.get("NETRC") or Path.home() / ".netrc"
    if not Path(location).is_file():
        return None
    try:
        entry = netrc.netrc(os.fspath(location)).authenticators(host)
    except netrc.NetrcParseError as exc:
        # Only the line: the parser's message quotes the offending token, maybe a password.
        _log.warning("ignoring netrc file %s: malformed at line %s", location, exc.lineno)
        return None
    except OSError as exc:
        _log.warning("ignoring netrc file %s: %s", location, exc.strerror)
        return None
    if entry is None:
        return None
    login, _account, password = entry
    return Credentials(login or "", password or "", "netrc")


def find_credentials(
    url: str,
    *,
    index_name: str | None = None,
    environ: Mapping[str, str] | None = None,
    netrc_path: str | os.PathLike[str] | None = None,
) -> tuple[str, Credentials | None]:
    """The credential-free URL and the credentials for it, in the documented order."""
    env = os.environ if environ is None else environ
    clean, creds = split_credentials(url)
    if creds is not None:
        return clean, creds
    host = URL(clean).host
    if host:
        creds = credentials_from_netrc(host, environ=env, path=netrc_path)
        if creds is not None:
            return clean, creds
    if index_name is not None:
        creds = credentials_from_env(index_name, env)
    return clean, creds


@dataclass(frozen=True, slots=True)
class _Registration:
    origin: Origin
    path: str
    credentials: Credentials


@dataclass(slots=True)
class CredentialTable:
    """The credentials of one run, by index URL: which ones a request to a URL carries."""

    _entries: list[_Registration] = field(default_factory=list)

    def register(self, clean_url: str, creds: Credentials) -> None:
        parsed = URL(clean_url)
        reg = _Registration(origin_of(parsed), parsed.path, creds)
        kept = [r for r in self._entries if (r.origin, r.path) != (reg.origin, reg.path)]
        self._entries = [*kept, reg]

    def lookup(self, url: URL) -> Credentials | None:
        """Only the URL's own origin's credentials; with several indexes on it, the longest
        matching path wins."""
        here = origin_of(url)
        same_origin = [r for r in self._entries if r.origin == here]
        if not same_origin:
            return None
        # Files often live outside the index path (/simple/ vs /packages/): fall back to the
        # origin's first registration when no index path is a prefix of this one.
        by_path = [r for r in same_origin if url.path.startswith(r.path)]
        best = max(by_path, key=lambda r: len(r.path)) if by_path else same_origin[0]
        return best.credentials
