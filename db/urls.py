"""URL text that every layer shares: credentials out.

Credentials live in the user's URL at run time, netrc or environment, never in the database, a
lock or a log line (DESIGN.md "Data model"; MIRROR.md "Auth"). Two outputs, because they serve
two readers:

- :func:`strip_credentials`, the form that is *kept*: no userinfo at all, so the stored URL
  compares equal to the same index given without credentials, and is usable as it is;
- :func:`redact_credentials`, the form that is *shown*: pip's ``redact_auth_from_url``
  spelling (``user:****@``, a lone token ``****@``), so a message still says that the URL
  carried credentials, and whose, without the secret.

Both are textual: they never raise on odd input, and leave the rest of the text byte-for-byte.
"""

from __future__ import annotations

import re

__all__ = ["redact_credentials", "strip_credentials"]

# RFC 3986 §3.2: the authority runs from "//" to the next "/", "?" or "#"; its userinfo ends at
# its last "@" (a password may hold a raw "@", and urllib's urlsplit reads it the same way).
_USERINFO = re.compile(r"(?P<start>(?:[A-Za-z][A-Za-z0-9+.-]*:)?//)(?P<userinfo>[^/?#]*)@")


def strip_credentials(url: str) -> str:
    """``url`` without ``user:password@``: the form stored and compared (never a credential).

    Only the URL's own authority counts: a ``//user@host`` later in the text (a query value) is
    left alone.
    """
    found = _USERINFO.match(url)
    return url if found is None else found["start"] + url[found.end() :]


def redact_credentials(text: str) -> str:
    """``text`` with the password of every URL in it masked, for messages:
    ``https://user:secret@host`` → ``https://user:****@host``, ``https://token@host`` →
    ``https://****@host`` (pip's ``redact_auth_from_url``).

    ``text`` may be one URL, even a malformed one with spaces in it, or a line such as
    ``--index-url URL``: the userinfo runs to the last ``@`` before the URL's path.
    """

    def mask(found: re.Match[str]) -> str:
        user, colon, _ = found["userinfo"].partition(":")
        return found["start"] + (f"{user}:****@" if colon else "****@")

    return _USERINFO.sub(mask, text)
