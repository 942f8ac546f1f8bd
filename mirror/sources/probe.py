"""Before ``mirror index add`` stores a URL: is there an index there?

An http(s) URL's root is read once through the sync's own client (its timeouts, retries, body
bounds and credentials: the URL's, pip's configuration's, netrc's or the index's
``SNEAKERNET_INDEX_<NAME>_*`` variables) and checked by :mod:`mirror.index_api.index_root`.
A ``file://`` URL must name a directory. Failures name the URL with its password masked and
say what it answered: exit 3 when no usable answer came (the network, a non-2xx status, a root
past ``page-bytes``), exit 2 when a 2xx came that is no index (the URL is wrong).
"""

from __future__ import annotations

from db.errors import SneakernetError
from db.urls import redact_credentials
from mirror.http.auth import env_prefix, split_credentials
from mirror.http.client import ClientConfig, FetchFailed, IndexClient, PageResponse
from mirror.index_api.index_root import check_index_root
from mirror.index_api.raw import PageError
from mirror.index_api.urls import path_from_file_url
from mirror.pipconfig import pip_indexes
from mirror.sources.factory import with_pip_credentials

__all__ = ["IndexUnreachable", "NotAnIndex", "check_index_url"]

_NO_CHECK = "pass --no-check to add it anyway"


class IndexUnreachable(SneakernetError):
    """No usable answer from the index URL: a network or index error."""

    exit_code = 3


class NotAnIndex(SneakernetError):
    """The URL answered, with something that is not an index: the URL is wrong."""


async def check_index_url(url: str, *, name: str, flat: bool, config: ClientConfig) -> None:
    """Raise :class:`IndexUnreachable` or :class:`NotAnIndex` unless ``url`` (http(s) or
    ``file://``, as :func:`~mirror.rules.index_entry.validate_index_url` gives it) names an
    index of its kind."""
    shown = redact_credentials(url)
    if url.startswith("file:"):
        path = path_from_file_url(url)
        if not path.is_dir():
            raise NotAnIndex(
                f"index URL {shown} names no directory: {path} does not exist or is a file",
                hint=f"check the path; {_NO_CHECK}",
            )
        return
    if split_credentials(url)[1] is None:  # the credentials a sync would use for it
        url = with_pip_credentials(url, [p.url for p in pip_indexes()])
    async with IndexClient(config) as client:
        try:
            resp = await client.fetch_page(client.add_index(url, name=name))
        except FetchFailed as exc:
            raise IndexUnreachable(
                f"cannot reach index URL {shown}: {exc.reason}",
                hint=f"check the URL and that the server is up; {_NO_CHECK}",
            ) from None
    _judge(resp, shown, name=name, flat=flat, config=config)


def _judge(resp: PageResponse, shown: str, *, name: str, flat: bool, config: ClientConfig) -> None:
    answered = f"HTTP {resp.status}"
    if resp.final_url.rstrip("/") != resp.url.rstrip("/"):
        answered += f" from {resp.final_url}"
    ok = 200 <= resp.status < 300
    if ok and resp.error is not None:  # a body past page-bytes: nothing to judge
        raise IndexUnreachable(f"cannot check index URL {shown}: {resp.error}", hint=_NO_CHECK)
    if not ok:
        tries = f" after {resp.attempts} attempts" if resp.attempts > 1 else ""
        raise IndexUnreachable(
            f"index URL {shown} answered {answered}{tries}",
            hint=_status_hint(resp.status, name, flat),
        )
    content = f"{resp.content_type or 'no Content-Type'}, {len(resp.body)} bytes"
    try:
        check_index_root(
            resp.body,
            resp.content_type or "",
            resp.final_url,
            flat=flat,
            max_files=config.limits.page_files,
        )
    except PageError as exc:
        kind = "a flat page of distributions" if flat else "a Simple API index"
        raise NotAnIndex(
            f"index URL {shown} is not {kind}: it answered {answered} ({content}): {exc}",
            hint=(
                "is this the page of files pip's --find-links reads? "
                if flat
                else "is this the index's /simple/ URL? A page of files is added with --flat; "
            )
            + _NO_CHECK,
        ) from None


def _status_hint(status: int, name: str, flat: bool) -> str:
    if status in (401, 403):
        return (
            "give credentials in the URL (https://user:password@host/…), in netrc, or in "
            f"{env_prefix(name)}USERNAME / _PASSWORD; an index that lists no projects at its "
            f"root answers so too: {_NO_CHECK}"
        )
    if status >= 500:
        return f"the server failed; try again later, or {_NO_CHECK}"
    if flat:
        return f"is this the page of files pip's --find-links reads? {_NO_CHECK}"
    return (
        "is this the index's /simple/ URL? An index that lists no projects at its root "
        f"answers so too: {_NO_CHECK}"
    )
