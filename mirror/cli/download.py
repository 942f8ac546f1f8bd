"""`mirror download`: the files a lock names, from their origin indexes, into one directory."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import click

from db.errors import DatabaseError, SneakernetError, UnknownSnapshot
from db.read.snapshot_reader import IndexConfig, SnapshotReader, SnapshotRef
from mirror import event_loop
from mirror.cli.common import (
    AppContext,
    client_config,
    concurrency_option,
    echo_json,
    handle_errors,
    json_option,
    limit_option,
    pass_app,
    read_timeout_option,
    warn,
)
from mirror.download.fetch import DownloadProgress, DownloadResult, Outcome, download_all
from mirror.download.local_lock import LOCAL_LOCK_NAME, local_pylock
from mirror.download.plan import DownloadItem, listing, plan_from_snapshot, plan_from_urls
from mirror.download.target_files import download_targets, target_environment, target_files
from mirror.download.universal_files import environment_files, universal_target_files
from mirror.http.client import ClientConfig, IndexClient
from mirror.pipconfig import pip_indexes
from mirror.sources.factory import runtime_url
from resolve.interrupts import keeping
from resolve.limits import Limits
from resolve.lock.files import write_lock
from resolve.lock.reader import LockFile, read_lock
from resolve.universal.environment import declared_environment

__all__ = ["download_command"]


class DownloadFailed(SneakernetError):
    exit_code = 3


class _RichProgress(DownloadProgress):
    """One bar: bytes (with speed and time left when the lock gives sizes), files done."""

    def __init__(self) -> None:
        # rich costs a tenth of a second to import: only a terminal that shows a bar pays it.
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = self._bar.add_task("files", total=None)
        self._files = 0
        self._done = 0

    def __enter__(self) -> _RichProgress:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()

    def started(self, files: int, total_bytes: int | None) -> None:
        self._files = files
        self._bar.update(self._task, total=total_bytes, description=f"0/{files} files")

    def advanced(self, nbytes: int) -> None:
        self._bar.update(self._task, advance=nbytes)

    def finished(self, result: DownloadResult) -> None:
        self._done += 1
        self._bar.update(self._task, description=f"{self._done}/{self._files} files")


@contextmanager
def _progress(live: bool) -> Iterator[DownloadProgress]:
    if not live:
        yield DownloadProgress()
        return
    with _RichProgress() as progress:
        yield progress


def _plan_requirements(app: AppContext, lock: LockFile) -> tuple[list[DownloadItem], SnapshotRef]:
    """A requirements lock names hashes only: find its files in the snapshot it names."""
    header = lock.snapshot
    try:
        reader = SnapshotReader.open(app.db, header.digest if header else "latest")
    except UnknownSnapshot as exc:
        if header is None:
            raise
        raise UnknownSnapshot(
            f"{lock.path} was resolved from {header.describe()}, "
            f"which the database {app.db or 'mirror.db'} does not hold",
            hint="pass the database it came from with --db (or $MIRROR_DB), or bring the "
            "snapshot in with `mirror import`",
        ) from exc
    with reader:
        if header is None:
            warn(
                f"{lock.path} names no snapshot in its header; looking its hashes up in the "
                f"newest snapshot, {reader.snapshot.name}"
            )
        return plan_from_snapshot(lock, reader), reader.snapshot


def _known_indexes(app: AppContext, lock: LockFile) -> list[IndexConfig]:
    """The database's indexes, when there is one, so a pylock's index URL gets the
    credentials configured for that index by name; a pylock needs no database otherwise."""
    for ref in ([lock.snapshot.digest] if lock.snapshot else []) + ["latest"]:
        try:
            with SnapshotReader.open(app.db, ref) as reader:
                return reader.indexes()
        except UnknownSnapshot:
            continue
        except DatabaseError:
            break
    return []


def _register_origins(client: IndexClient, items: Sequence[DownloadItem]) -> None:
    """Each origin index once, with credentials as for `mirror sync` (mirror/auth.py): they
    are sent to that index's origin only, never to another host."""
    pip_urls = [p.url for p in pip_indexes()] if any(i.index for i in items) else []
    seen: set[tuple[str | None, str]] = set()
    for item in items:
        name = item.index.name if item.index else None
        url = runtime_url(item.index, pip_urls) if item.index else item.index_url
        if url and url.startswith(("http://", "https://")) and (name, url) not in seen:
            seen.add((name, url))
            client.add_index(url, name=name)


async def _run(
    items: Sequence[DownloadItem],
    directory: Path,
    config: ClientConfig,
    progress: DownloadProgress,
) -> list[DownloadResult]:
    async with IndexClient(config) as client:
        _register_origins(client, items)
        return await download_all(
            items, directory, client, progress=progress, max_files=2 * config.concurrency_per_host
        )


@click.command("download")
@click.argument("lock", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-d",
    "--dest",
    "directory",
    required=True,
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to download into (created if missing).",
)
@click.option(
    "--all-files",
    is_flag=True,
    help="Every file of each pinned version, not only those the lock's target can install.",
)
@click.option(
    "--python-version",
    "python_versions",
    multiple=True,
    metavar="X.Y[.Z]",
    help="Fetch for this Python (repeatable; default: the lock's).",
)
@click.option(
    "--python-platform",
    "python_platforms",
    multiple=True,
    metavar="PLATFORM",
    help="Fetch for this platform, as resolve spells it (repeatable; default: the lock's).",
)
@concurrency_option
@read_timeout_option
@limit_option
@click.option("--quiet", "-q", is_flag=True, help="No progress display and no per-file lines.")
@json_option
@pass_app
@handle_errors
def download_command(
    app: AppContext,
    lock: Path,
    directory: Path,
    all_files: bool,
    python_versions: tuple[str, ...],
    python_platforms: tuple[str, ...],
    concurrency: int,
    read_timeout: float,
    limits: Limits,
    quiet: bool,
    as_json: bool,
) -> None:
    """Download the files LOCK names into DIR, each checked against its sha256.

    LOCK is a requirements.txt, pylock.toml or JSON lock written by `resolve` (told apart by
    content). A pylock.toml or JSON lock gives each file's URL; a requirements.txt gives only
    hashes, which are looked up in the snapshot its header names (in --db). A file already in
    DIR with the right hash is kept; an interrupted download resumes from its `.NAME.part`
    file when run again.

    Of each pinned version only the files the lock's target (its header's Python version and
    platform) can install are fetched: the wheels whose tags it supports, else the sdist.
    --python-version and --python-platform (repeatable) name other targets: every pairing
    of them gets its files, the half not given taken from the lock. --all-files fetches
    every file the lock names.

    A universal lock (`resolve --universal`) gets, for each target given, the pins whose
    marker holds there and their files for it; with no target, the files of every
    environment it declares: each wheel that installs on one of them (any architecture),
    and the sdist where no wheel covers them all.

    From a pylock.toml, once every file is in DIR, DIR/pylock.toml is written (replacing one
    there, LOCK itself too): the same lock listing only the files downloaded, each with a
    `path` relative to it, which pip and uv install from before the URL (PEP 751).

    \b
    Example:
      resolve -r requirements.in -o requirements.txt
      mirror download requirements.txt -d wheelhouse
      pip install --no-index --find-links wheelhouse --require-hashes -r requirements.txt
    \b
      mirror download requirements.txt -d wheelhouse --python-version 3.11 \\
          --python-version 3.12 --python-platform linux --python-platform windows
    \b
      resolve -r requirements.in --format pylock -o pylock.toml
      mirror download pylock.toml -d wheelhouse
      pip install --no-index -r wheelhouse/pylock.toml
      uv pip install --offline -r wheelhouse/pylock.toml
    """
    parsed = read_lock(lock)
    for line in parsed.ignored:
        warn(f"{line} ignored")
    snapshot: SnapshotRef | None = None
    if parsed.format == "requirements":
        items, snapshot = _plan_requirements(app, parsed)
    else:
        items = plan_from_urls(parsed, _known_indexes(app, parsed))
    if not all_files:
        items = _for_targets(parsed, items, python_versions, python_platforms)
    directory.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    kept = (
        f"the files downloaded so far are kept in {directory}; the same `mirror download …` "
        "again fetches the rest"
    )
    with keeping(kept), _progress(not quiet and not as_json and sys.stderr.isatty()) as progress:
        config = client_config(concurrency, read_timeout, limits)
        results = event_loop.run(_run(items, directory, config, progress))
    seconds = time.monotonic() - started
    counts = Counter(r.outcome for r in results)
    received = sum(r.received for r in results)
    failed = [r.error or r.item.filename for r in results if r.outcome is Outcome.FAILED]
    # A requirements.txt or JSON lock has no place for a file's path: only a pylock gets its
    # copy, and only now: LOCK may be that very file, and the copy is only as good as the
    # files it points at, every one of them checked.
    local_lock = directory / LOCAL_LOCK_NAME if parsed.format == "pylock" and not failed else None
    if local_lock is not None:
        write_lock(local_lock, local_pylock(parsed.text, items))
    if as_json:
        echo_json(
            {
                "lock": str(lock),
                "format": parsed.format,
                "snapshot": None
                if snapshot is None
                else {"name": snapshot.name, "digest": snapshot.digest},
                "directory": str(directory),
                "pylock": None if local_lock is None else str(local_lock),
                "files": [r.as_json() for r in results],
                "counts": {str(outcome): counts[outcome] for outcome in Outcome},
                "bytes": received,
                "seconds": round(seconds, 3),
            }
        )
    elif not quiet:
        _describe(results, directory, counts, received, seconds)
        if local_lock is not None:
            click.echo(f"wrote {local_lock}: the lock, its files pointing at {directory}", err=True)
    if failed:
        raise DownloadFailed(
            listing(f"{len(failed)} of {len(results)} file(s) failed", failed),
            hint="run the same command again: verified files are kept and partial ones resume; "
            "a sha256 mismatch means the index now serves other bytes than the lock names",
        )


def _for_targets(
    lock: LockFile, items: list[DownloadItem], versions: tuple[str, ...], platforms: tuple[str, ...]
) -> list[DownloadItem]:
    declared = declared_environment(lock.target)
    if declared is not None and not versions and not platforms:
        return environment_files(items, lock, declared)
    if not versions and not platforms:
        target = target_environment(lock.target) if lock.target else None
        if target is None:
            what = f"an unknown target ({lock.target})" if lock.target else "no target"
            warn(f"{lock.path} names {what}; downloading every file it locks")
            return items
    try:
        targets = download_targets(lock.target, versions, platforms)
    except ValueError as exc:  # UnknownPlatform, InvalidPythonVersion
        raise SneakernetError(
            str(exc), hint="spell targets as resolve does, e.g. --python-platform linux"
        ) from exc
    if declared is not None:
        return universal_target_files(items, lock, targets)
    return target_files(items, targets)


def _describe(
    results: Sequence[DownloadResult],
    directory: Path,
    counts: Counter[Outcome],
    received: int,
    seconds: float,
) -> None:
    for result in results:
        if result.note:
            warn(result.note)
        if result.outcome is not Outcome.FAILED:
            click.echo(f"{result.outcome}: {result.item.filename}", err=True)
    tally = ", ".join(f"{counts[o]} {o}" for o in Outcome)
    click.echo(
        f"{len(results)} file(s) in {directory}: {tally}; {received:,} bytes in {seconds:.1f}s",
        err=True,
    )
