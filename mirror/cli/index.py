"""`mirror index add|list|remove`."""

from __future__ import annotations

import functools

import click

from db.indexes import list_indexes, ordered_for_lookup, remove_index
from db.urls import redact_credentials, strip_credentials
from mirror import event_loop
from mirror.cli.common import (
    AppContext,
    client_config,
    echo_json,
    handle_errors,
    json_option,
    limit_option,
    pass_app,
    timeout_options,
)
from mirror.rules.index_entry import validate_index_name, validate_index_url
from mirror.rules.store import add_index_version, commit, load_rules, rule_errors
from mirror.sources.probe import check_index_url
from resolve.limits import Limits
from resolve.rules.edit import without_index
from resolve.rules.model import parse_cutoff

__all__ = ["index_group"]


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
@click.option(
    "--no-check",
    "no_check",
    is_flag=True,
    help="Add the URL without reading it first (a server that is down, or lists no projects).",
)
@timeout_options
@limit_option
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
    no_check: bool,
    timeout: float,
    read_timeout: float,
    limits: Limits,
) -> None:
    """Add index NAME at URL, after the indexes already configured.

    The URL is read once first: its root must be a Simple API index (PEP 503 HTML or PEP 691
    JSON), with --flat a page of distributions, and a file:// URL must name a directory.
    --no-check skips that, e.g. for an index that answers 403 or 404 at its root but serves
    project pages.

    Credentials in the URL are used for this run only and never stored: keep them in netrc or
    SNEAKERNET_INDEX_<NAME>_USERNAME / _PASSWORD.

    \b
    Examples:
      mirror index add internal http://127.0.0.1:8080/simple/ --not-here 403
      mirror index add links http://127.0.0.1:8081/wheels/ --flat
      mirror index add nightly http://127.0.0.1:8082/whl/nightly/ --no-check
    """
    validate_index_name(name)
    checked = validate_index_url(url)
    with rule_errors():
        cutoff = None if exclude_newer is None else parse_cutoff(exclude_newer)
    add = functools.partial(
        add_index_version,
        name=name,
        url=strip_credentials(checked),
        format="flat" if flat else "simple",
        is_default=is_default,
        explicit=explicit,
        not_here=not_here,
        cutoff=cutoff,
    )
    if not no_check:
        # The rows are tried first and rolled back: a taken name or a rule conflict is told
        # before any network wait, and no write lock is held while the server is read.
        with app.engine().connect() as conn, conn.begin() as trial:
            add(conn)
            trial.rollback()
        probe = client_config(1, read_timeout, limits, timeout)
        event_loop.run(check_index_url(checked, name=name, flat=flat, config=probe))
    with app.engine().begin() as conn:
        config = add(conn)
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
        # Stored URLs carry no credentials (they are stripped on the way in); an older
        # database's might: the listing masks them as every message does.
        click.echo(f"{config.name}\t{redact_credentials(config.url)}{suffix}")


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
