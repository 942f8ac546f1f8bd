"""`mirror snapshot list|show|diff|delete`."""

from __future__ import annotations

import click

from db.snapshot_queries import (
    delete_snapshot,
    diff_snapshots,
    find_snapshot,
    list_snapshots,
    snapshot_details,
)
from mirror.cli.common import AppContext, echo_json, handle_errors, json_option, pass_app

__all__ = ["snapshot_group"]


@click.group("snapshot")
def snapshot_group() -> None:
    """Inspect and manage snapshots.

    SNAP is a snapshot name, `latest` (the newest complete one), or a digest prefix.

    \b
    Example:
      mirror snapshot list
      mirror snapshot diff 20261101T000000 latest
    """


@snapshot_group.command("list")
@json_option
@pass_app
@handle_errors
def snapshot_list(app: AppContext, as_json: bool) -> None:
    """List snapshots, oldest first.

    \b
    Example:
      mirror snapshot list --json
    """
    with app.engine(create=False).connect() as conn:
        snaps = list_snapshots(conn)
    if as_json:
        echo_json([s.as_json() for s in snaps])
        return
    for snap in snaps:
        digest = (snap.digest or "-")[:12]
        click.echo(f"{snap.name}\t{snap.state}\t{digest}\t{snap.pages} pages\t{snap.created_at}")


@snapshot_group.command("show")
@click.argument("snap")
@json_option
@pass_app
@handle_errors
def snapshot_show(app: AppContext, snap: str, as_json: bool) -> None:
    """Show what a snapshot holds, per index.

    \b
    Example:
      mirror snapshot show latest
    """
    with app.engine(create=False).connect() as conn:
        details = snapshot_details(conn, find_snapshot(conn, snap, complete_only=False))
    if as_json:
        echo_json(details)
        return
    for key in ("name", "state", "digest", "created_at", "completed_at", "pages"):
        click.echo(f"{key}: {details[key]}")
    indexes = details["indexes"]
    assert isinstance(indexes, dict)
    for name, counts in indexes.items():
        click.echo(f"index {name}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@snapshot_group.command("diff")
@click.argument("old")
@click.argument("new")
@json_option
@pass_app
@handle_errors
def snapshot_diff(app: AppContext, old: str, new: str, as_json: bool) -> None:
    """What changed from snapshot OLD to NEW: projects, versions and files added or removed,
    files yanked or unyanked, and versions in both whose core metadata (Requires-Dist,
    Requires-Python, Provides-Extra) changed or appeared. A page that failed in either snapshot
    is listed as unknown, never as the project having gone. Prints "no changes" when the two
    have the same content.

    \b
    Example:
      mirror snapshot diff 20261101T000000 latest
    """
    with app.engine(create=False).connect() as conn:
        diff = diff_snapshots(conn, find_snapshot(conn, old), find_snapshot(conn, new))
    if as_json:
        echo_json(diff.as_json())
        return
    labels = {
        "projects_added": "+ project",
        "projects_removed": "- project",
        "versions_added": "+ version",
        "versions_removed": "- version",
        "files_added": "+ file",
        "files_removed": "- file",
        "yanked": "! yanked",
        "unyanked": "~ unyanked",
        "unknown": "? unknown (a page failed)",
    }
    if diff.empty:
        click.echo("no changes")
        return
    for key, label in labels.items():
        for item in diff.as_json()[key]:
            click.echo(f"{label} {item}")
    for change in diff.metadata:
        click.echo(
            f"~ metadata {change.project} {change.version} ({change.index}): {change.describe()}"
        )


@snapshot_group.command("delete")
@click.argument("snap")
@pass_app
@handle_errors
def snapshot_delete(app: AppContext, snap: str) -> None:
    """Delete a snapshot and whatever only it used.

    \b
    Example:
      mirror snapshot delete 20261101T000000
    """
    with app.engine(create=False).begin() as conn:
        info = find_snapshot(conn, snap, complete_only=False)
        removed = delete_snapshot(conn, info)
    click.echo(
        f"deleted snapshot {info.name} ({removed['pages']} pages, {removed['blobs']} payloads "
        "no longer used)",
        err=True,
    )
