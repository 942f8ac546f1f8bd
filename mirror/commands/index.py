"""`mirror index add|list|remove`."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import click

from db.errors import SneakernetError
from db.indexes import list_indexes, remove_index
from mirror.commands.common import AppContext, echo_json, handle_errors, json_option, pass_app
from mirror.rules_edit import add_index_version, commit, load_rules, rule_errors, without_index
from mirror.urls import strip_credentials
from resolve.rules import parse_cutoff

__all__ = ["index_group", "validate_index_name", "validate_index_url"]

# uv's rule for index names: they appear in `rules pin`, in lock files and in the
# SNEAKERNET_INDEX_<NAME>_* variables, so no spaces, tabs or empty names.
_INDEX_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_USERINFO = re.compile(r"//[^/?#]*@")


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
    shown = _USERINFO.sub("//***@", url)  # errors end up in CI logs: no credentials there
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


@click.group("index")
def index_group() -> None:
    """Configure the indexes that `mirror sync` reads.

    \b
    Example:
      mirror index add internal http://127.0.0.1:8080/simple/
      mirror index add nightly http://127.0.0.1:8081/whl/nightly/ --not-here 403
      mirror index add pypi http://127.0.0.1:8082/simple/ --default
    """


@index_group.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--default", "is_default", is_flag=True, help="The default index: consulted last.")
@click.option("--explicit", is_flag=True, help="Used only for packages pinned to it.")
@click.option(
    "--not-here",
    "not_here",
    multiple=True,
    type=click.IntRange(400, 599),
    help="An HTTP status that means 'project not on this index' (404 always does).",
)
@click.option("--exclude-newer", help="Upload-time cutoff for this index, or 'false' to opt out.")
@click.option(
    "--flat",
    is_flag=True,
    help="The URL is a flat directory or page of distributions (like pip's --find-links).",
)
@pass_app
@handle_errors
def index_add(
    app: AppContext,
    name: str,
    url: str,
    is_default: bool,
    explicit: bool,
    not_here: tuple[int, ...],
    exclude_newer: str | None,
    flat: bool,
) -> None:
    """Add index NAME at URL, after the indexes already configured.

    Credentials in the URL are used for this run only and never stored: keep them in netrc or
    SNEAKERNET_INDEX_<NAME>_USERNAME / _PASSWORD.

    \b
    Example:
      mirror index add internal http://127.0.0.1:8080/simple/ --not-here 403
    """
    validate_index_name(name)
    checked = validate_index_url(url)
    with rule_errors():
        cutoff = None if exclude_newer is None else parse_cutoff(exclude_newer)
    with app.engine().begin() as conn:
        config = add_index_version(
            conn,
            name=name,
            url=strip_credentials(checked),
            format="flat" if flat else "simple",
            is_default=is_default,
            explicit=explicit,
            not_here=not_here,
            cutoff=cutoff,
        )
    role = " (default)" if config.is_default else " (explicit)" if config.explicit else ""
    click.echo(f"added index {config.name}{role}: {config.url}", err=True)


@index_group.command("list")
@json_option
@pass_app
@handle_errors
def index_list(app: AppContext, as_json: bool) -> None:
    """List the configured indexes in lookup order (the default index last).

    \b
    Example:
      mirror index list --json
    """
    from db.indexes import ordered_for_lookup

    with app.engine(create=False).connect() as conn:
        indexes = ordered_for_lookup(list_indexes(conn))
    if as_json:
        echo_json([i.as_json() for i in indexes])
        return
    for config in indexes:
        flags = [
            flag
            for flag, on in (
                ("default", config.is_default),
                ("explicit", config.explicit),
                ("flat", config.format == "flat"),
            )
            if on
        ]
        if config.not_here:
            flags.append("not-here " + ",".join(map(str, config.not_here)))
        if config.exclude_newer:
            flags.append(f"exclude-newer {config.exclude_newer}")
        suffix = f"  [{'; '.join(flags)}]" if flags else ""
        click.echo(f"{config.name}\t{config.url}{suffix}")


@index_group.command("remove")
@click.argument("name")
@pass_app
@handle_errors
def index_remove(app: AppContext, name: str) -> None:
    """Stop syncing from index NAME. Existing snapshots keep its pages.

    \b
    Example:
      mirror index remove internal
    """
    with app.engine(create=False).begin() as conn:
        before = load_rules(conn)
        config = remove_index(conn, name)
        with rule_errors():
            after = without_index(before, name)
        commit(conn, before, after)
    click.echo(f"removed index {config.name}", err=True)
