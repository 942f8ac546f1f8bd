"""`mirror export` and `mirror import`: snapshots into and out of one bundle file."""

from __future__ import annotations

from pathlib import Path

import click

from mirror.bundle.transfer import (
    ExportResult,
    ImportResult,
    export_bundle,
    import_bundle,
    verify_bundle,
)
from mirror.cli.common import AppContext, echo_json, handle_errors, json_option, pass_app
from resolve.clikit import limit_option
from resolve.limits import Limits
from resolve.output import writes_to_stdout

__all__ = ["export_command", "import_command"]


# How the summaries name the tables a bundle carries.
_ROW_NAMES = {
    "page": "pages",
    "file": "files",
    "metadata": "core metadata files",
    "blob": "payloads",
    "rule_set": "rule sets",
}


def _counts(rows: dict[str, int]) -> str:
    return ", ".join(f"{rows.get(t, 0)} {name}" for t, name in _ROW_NAMES.items())


@click.command("export")
@click.argument("snaps", metavar="SNAP...", nargs=-1, required=True)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The bundle file to write (replaced if it exists; a device or FIFO is written to).",
)
@json_option
@pass_app
@handle_errors
def export_command(app: AppContext, snaps: tuple[str, ...], output: Path, as_json: bool) -> None:
    """Write complete snapshots, with everything they use, to one bundle file.

    SNAP is a snapshot name, `latest` (the newest complete one), or a digest prefix. The
    bundle also carries every rule set. Exporting the same snapshots again gives the same
    bytes. Prints the file's sha256 and each snapshot's content digest.

    \b
    Example:
      mirror export latest -o mirror-2026-11.snb
      sha256sum mirror-2026-11.snb      # on the other side, before `mirror import`
    """
    result = export_bundle(app.engine(create=False), snaps, output)
    # With the bundle itself on stdout (-o /dev/stdout), the report goes to stderr.
    elsewhere = writes_to_stdout(output)
    if as_json:
        echo_json(result.as_json(), err=elsewhere)
        return
    _print_export(result, err=elsewhere)


def _print_export(result: ExportResult, *, err: bool) -> None:
    click.echo(f"file\t{result.file.sha256}\t{result.file.path}", err=err)
    for snap in result.manifest["snapshots"]:
        click.echo(f"snapshot\t{snap['digest']}\t{snap['name']}", err=err)
    click.echo(
        f"exported {len(result.manifest['snapshots'])} snapshot(s) to {result.file.path} "
        f"({result.file.size} bytes): {_counts(result.manifest['rows'])}",
        err=True,
    )


@click.command("import")
@click.argument("bundle", metavar="FILE", type=click.Path(path_type=Path))
@json_option
@limit_option
@pass_app
@handle_errors
def import_command(app: AppContext, bundle: Path, as_json: bool, limits: Limits) -> None:
    """Add the snapshots of a bundle file to the database.

    The whole file is checked first (its digest, then every row); a truncated or altered
    file is refused and nothing is written. Snapshots already here (same content digest)
    are skipped, indexes are matched by name and URL, and a snapshot whose name is taken
    gets a suffix. Importing the same file again changes nothing. A file that inflates past
    the bundle limits (a few small snapshots may inflate at any ratio) is refused.

    \b
    Example:
      mirror --db /srv/airgap.db import mirror-2026-11.snb
    """
    verified = verify_bundle(bundle, limits)  # before the database is opened (or created)
    result = import_bundle(app.engine(), verified)
    if as_json:
        echo_json(result.as_json())
        return
    _print_import(result)


def _print_import(result: ImportResult) -> None:
    def say(line: str) -> None:
        click.echo(line, err=True)

    for snap in result.imported:
        renamed = snap.name != snap.bundle_name
        say(
            f"imported snapshot {snap.bundle_name}"
            + (f" as {snap.name} (the name {snap.bundle_name} is taken here)" if renamed else "")
            + f", digest {snap.digest[:12]}"
        )
    for skipped in result.skipped:
        say(
            f"skipped snapshot {skipped.name}: already here as {skipped.existing} "
            f"(digest {skipped.digest[:12]})"
        )
    for name in result.indexes_created:
        say(f"created index {name}")
    if result.rules_adopted:
        say(f"adopted the bundle's rules {result.rules_adopted[:12]} (see `mirror rules show`)")
    if result.changed:
        say(f"added {_counts(result.added)}")
    else:
        say(f"nothing to import: everything in {result.file.path} is already here")
