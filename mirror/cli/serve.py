"""`mirror serve`: a snapshot as a read-only package index for pip and uv."""

from __future__ import annotations

import functools
import ipaddress
import socket
from pathlib import Path

import click

from mirror import event_loop
from mirror.cli.common import AppContext, handle_errors, pass_app, warn
from mirror.serve.app import build_app, open_view
from mirror.serve.listen import WorkerPool, bind, serve_forever

__all__ = ["serve_command"]


def _base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/simple/"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command("serve")
@click.option(
    "--snapshot",
    default="latest",
    show_default=True,
    metavar="SNAP",
    help="Snapshot to serve: a name, `latest` (newest complete) or a digest prefix.",
)
@click.option(
    "--files",
    metavar="DIR",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Wheelhouse whose files are served under /files/ (see `mirror download`).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on; 0 picks a free one (printed at startup).",
)
@click.option(
    "--python-version",
    metavar="V",
    help="Target Python (as for `resolve`), for marker-conditional pins; default: this one.",
)
@click.option(
    "--python-platform",
    metavar="P",
    help="Target platform (as for `resolve`), for marker-conditional pins; default: this one.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 256),
    metavar="N",
    help="Processes answering on the one port; a worker that dies is replaced.",
)
@pass_app
@handle_errors
def serve_command(
    app: AppContext,
    snapshot: str,
    files: Path | None,
    host: str,
    port: int,
    python_version: str | None,
    python_platform: str | None,
    workers: int,
) -> None:
    """Serve a snapshot as a read-only package index (PEP 503/691) for pip and uv.

    Every project page lists what `resolve` would see under the stored rules: the files of
    the index each version comes from, with hashes, yanks, Requires-Python and core metadata.
    File links point at /files/NAME, answered from --files DIR. The access log goes to stderr;
    stop with Ctrl-C.

    \b
    Example:
      resolve -r requirements.in -o requirements.txt
      mirror download requirements.txt -d wheelhouse
      mirror serve --files wheelhouse --port 8080
      pip install --index-url http://127.0.0.1:8080/simple/ --require-hashes -r requirements.txt
      mirror serve --files wheelhouse --host 0.0.0.0 --port 8000 --workers 4
    """
    view = open_view(app.db, snapshot, python_version, python_platform)
    if not _is_loopback(host):
        warn(f"listening on {host}: anyone who can reach it can read snapshot {snapshot}")
    try:
        sock = bind(host, port)
    except BaseException:
        view.close()
        raise
    with sock:
        click.echo(f"serving snapshot {view.snapshot_name} on {_base_url(sock)}", err=True)
        if files is None:
            warn("no --files DIR: pages list files, but downloading them answers 404")
        if workers == 1:
            event_loop.run(serve_forever(build_app(view, files), sock))
            return
        # Each worker opens the snapshot the parent chose, by name: never a newer `latest`.
        view.close()
        reopen = functools.partial(
            open_view, app.db, view.snapshot_name, python_version, python_platform
        )
        WorkerPool(sock, lambda: build_app(reopen(), files), workers).run()
