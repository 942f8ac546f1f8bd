"""`mirror rules show|set|pin|unpin|history|export|import`: the index-precedence rules that
`resolve` applies by default (SEMANTICS.md §1, §3, §5), stored as versioned rows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from db.indexes import list_indexes
from db.rules.store import current_digest, rule_history
from mirror.cli.common import AppContext, echo_json, handle_errors, json_option, pass_app
from mirror.rules.importing import apply_import, read_rules_file
from mirror.rules.store import Change, change_rules, load_rules
from resolve.output import open_output
from resolve.rules.edit import pin, set_key, unpin
from resolve.rules.model import Cutoff, RuleSet
from resolve.rules.toml_file import export_rules

__all__ = ["rules_group"]


def _apply(app: AppContext, edit: Callable[[RuleSet], RuleSet]) -> None:
    with app.engine().begin() as conn:
        _report(change_rules(conn, edit))


def _report(change: Change) -> None:
    if change.recorded:
        click.echo(f"rules {change.after.digest[:12]}: {change.summary}", err=True)
    else:
        click.echo(f"rules unchanged ({change.after.digest[:12]})", err=True)


def _cutoff(value: Cutoff) -> str:
    return "unset" if value is None else "false" if value is False else str(value)


def _render(rules: RuleSet, stored: bool) -> list[str]:
    """`rules show` as aligned ``key  value`` lines, in the words of `rules set`."""
    origin = "stored" if stored else "implied by the configured indexes (none stored yet)"
    lines = [
        f"digest          {rules.digest}  ({origin})",
        f"semantics       {rules.semantics}",
        f"index-strategy  {rules.strategy}",
        f"prerelease      {rules.prerelease}",
        f"exclude-newer   {_cutoff(rules.exclude_newer)}",
        "",
        "indexes (in priority order; a default index is consulted last):",
    ]
    width = max((len(i.name) for i in rules.indexes), default=0)
    for index in rules.indexes:
        flags = [f for f, on in (("default", index.default), ("explicit", index.explicit)) if on]
        if index.not_here:
            flags.append("not-here " + ",".join(map(str, index.not_here)))
        if index.exclude_newer is not None:
            flags.append(f"exclude-newer {_cutoff(index.exclude_newer)}")
        suffix = f"  [{'; '.join(flags)}]" if flags else ""
        lines.append(f"  {index.name.ljust(width)}  {index.url}{suffix}")
    lines += ["", "pins (the first match wins):"]
    for p in rules.pins:
        marker = f" ; {p.marker}" if p.marker else ""
        lines.append(f"  {p.glob}{marker}  → {', '.join(p.indexes)}")
    lines += ["", "packages:"]
    for name, fields in rules.to_document()["packages"].items():
        said = [f"{k} {_cutoff(v)}" for k, v in fields.items() if v is not None]
        lines.append(f"  {name}  {'; '.join(said)}")
    return lines


@click.group("rules")
def rules_group() -> None:
    """Index-precedence rules: indexes, strategy, pins, pre-releases, cutoffs.

    Every change makes a new rule-set version named by its digest; locks record the digest
    of the rules they were made with, and `resolve --rules DIGEST` applies an old version.

    \b
    Example:
      mirror rules set index-strategy unsafe-best-match
      mirror rules pin 'torch*' cpu --marker "sys_platform == 'darwin'"
      mirror rules show
    """


@rules_group.command("show")
@click.option("--digest", "digest", metavar="DIGEST", help="Show a stored older version.")
@click.option("--json", "as_json", is_flag=True, help="The rule document and its digest.")
@pass_app
@handle_errors
def rules_show(app: AppContext, digest: str | None, as_json: bool) -> None:
    """Show the effective rules and their digest.

    \b
    Example:
      mirror rules show
      mirror rules show --json --digest 1a2b3c4d
    """
    with app.engine(create=False).connect() as conn:
        rules = load_rules(conn, digest)
        stored = digest is not None or current_digest(conn) is not None
    if as_json:
        echo_json({**rules.to_document(), "digest": rules.digest})
        return
    click.echo("\n".join(_render(rules, stored)))


@rules_group.command("set")
@click.argument("key")
@click.argument("value")
@pass_app
@handle_errors
def rules_set(app: AppContext, key: str, value: str) -> None:
    """Set KEY to VALUE.

    \b
    Keys:
      index-strategy               first-index | unsafe-first-match | unsafe-best-match
      prerelease                   if-necessary | allow | disallow | explicit | pep440
      prerelease.<package>         a mode, or unset
      exclude-newer                a timestamp, false, or unset
      exclude-newer.<package>      a timestamp, false (opt out), or unset
      index.<name>.default         true | false
      index.<name>.explicit        true | false
      index.<name>.not-here        HTTP statuses, e.g. 401,403 (none clears them)
      index.<name>.exclude-newer   a timestamp, false (opt out), or unset

    \b
    Example:
      mirror rules set prerelease.torch allow
      mirror rules set index.nightly.not-here 403
      mirror rules set exclude-newer 2024-03-01
    """
    _apply(app, lambda r: set_key(r, key, value))


@rules_group.command("pin")
@click.argument("glob")
@click.argument("indexes", nargs=-1, required=True)
@click.option("--marker", metavar="M", help="Only where this PEP 508 marker holds.")
@pass_app
@handle_errors
def rules_pin(app: AppContext, glob: str, indexes: tuple[str, ...], marker: str | None) -> None:
    """Packages matching GLOB come only from INDEXES, wherever they appear in the graph.

    A pin with the same GLOB and marker is replaced; a new one is added last, and the first
    matching pin wins.

    \b
    Example:
      mirror rules pin torch cu121
      mirror rules pin 'nvidia-*' cu121 --marker "sys_platform == 'linux'"
    """
    _apply(app, lambda r: pin(r, glob, indexes, marker))


@rules_group.command("unpin")
@click.argument("glob")
@click.option("--marker", metavar="M", help="Only the pin with this marker.")
@pass_app
@handle_errors
def rules_unpin(app: AppContext, glob: str, marker: str | None) -> None:
    """Remove the pins of GLOB (every marker, unless --marker names one).

    \b
    Example:
      mirror rules unpin torch
    """
    _apply(app, lambda r: unpin(r, glob, marker))


@rules_group.command("history")
@json_option
@pass_app
@handle_errors
def rules_history(app: AppContext, as_json: bool) -> None:
    """List the rule-set versions, newest (the current one) first.

    \b
    Example:
      mirror rules history
    """
    with app.engine(create=False).connect() as conn:
        changes = rule_history(conn)
    if as_json:
        echo_json([c.as_json() for c in changes])
        return
    if not changes:
        click.echo("no rules stored yet: they are implied by the configured indexes", err=True)
    for change in changes:
        click.echo(f"{change.digest[:12]}  {change.created_at}  {change.summary}")


@rules_group.command("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File.")
@click.option("--digest", "digest", metavar="DIGEST", help="Export a stored older version.")
@pass_app
@handle_errors
def rules_export(app: AppContext, output: Path | None, digest: str | None) -> None:
    """Write the rules as TOML (to stdout, or to FILE); the same rules give the same bytes.

    \b
    Example:
      mirror rules export -o rules.toml
    """
    with app.engine(create=False).connect() as conn:
        rules = load_rules(conn, digest)
        formats = {i.name: i.format for i in list_indexes(conn)}
    text = export_rules(rules, formats)
    if output is None:
        click.echo(text, nl=False)
        return
    with open_output(output, "the rules") as written:
        written.file.write(text.encode("utf-8"))
    click.echo(f"wrote rules {rules.digest[:12]} to {output}", err=True)


@rules_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Re-point existing indexes at the file's URLs.")
@pass_app
@handle_errors
def rules_import(app: AppContext, file: Path, replace: bool) -> None:
    """Import rules from FILE, in one transaction.

    FILE is a `mirror rules export` (it replaces the rules), or uv's pyproject.toml / uv.toml
    ([[tool.uv.index]], [tool.uv.sources], index-strategy, prerelease, exclude-newer) or a
    pip configuration file (index-url, extra-index-url), laid over the current rules. Missing
    indexes are created; every setting no rule can express is reported.

    \b
    Example:
      mirror rules import rules.toml
      mirror rules import pyproject.toml
      mirror rules import ~/.config/pip/pip.conf
    """
    imported = read_rules_file(file)
    with app.engine().begin() as conn:
        result = apply_import(conn, imported, path=file, replace_urls=replace)
    for name in result.created:
        click.echo(f"added index {name}", err=True)
    for note in result.notes:
        click.echo(f"warning: {file.name}: {note}", err=True)
    _report(result.change)
