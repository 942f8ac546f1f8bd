"""`mirror sync`: snapshot the configured indexes' pages and core metadata."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from sqlalchemy import Engine

from db.errors import SneakernetError
from db.indexes import IndexConfig, list_indexes, ordered_for_lookup
from db.snapshot_queries import list_snapshots
from db.urls import strip_credentials
from db.write.snapshot_writer import Completed, SnapshotWriter
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
    timeout_options,
    warn,
)
from mirror.cli.progress import make_progress
from mirror.cli.sync_outcome import check_outcome
from mirror.cli.sync_summary import (
    build_failure_lines,
    index_lines,
    not_found_line,
    warning_lines,
)
from mirror.http.client import IndexClient
from mirror.metadata.build import DEFAULT_TIMEOUT, BuildSettings
from mirror.pipconfig import pip_indexes
from mirror.rules.index_entry import validate_index_url
from mirror.rules.store import add_index_version
from mirror.sources.factory import open_sources
from mirror.sync.build_requirements import BuildRequirements
from mirror.sync.builds import DEFAULT_JOBS, Builds
from mirror.sync.closure import ClosureState, representative_environments
from mirror.sync.selection import parse_version_policy
from mirror.sync.syncer import Syncer, SyncStats
from resolve.candidates.project import Target
from resolve.inputs.collect import parse_requirement_files
from resolve.inputs.requirements import (
    COMMAND_LINE,
    InputError,
    InputRequirement,
    parse_requirement,
)
from resolve.interrupts import keeping
from resolve.limits import Limits
from resolve.targets.environment import TargetEnvironment
from resolve.targets.interpreter import interpreter_target

__all__ = ["sync_command"]


def _indexes_or_pip(engine: Engine) -> list[IndexConfig]:
    """The configured indexes; with none, adopt pip's configuration and say so."""
    with engine.begin() as conn:
        configured = list_indexes(conn)
        if configured:
            return ordered_for_lookup(configured)
        adopted = pip_indexes()
        for found in adopted:  # all checked before any is added
            try:
                validate_index_url(found.url)
            except SneakernetError as exc:
                raise SneakernetError(
                    f"pip's {found.origin}: {exc.message}",
                    hint="fix pip's configuration, or add the indexes yourself with "
                    "`mirror index add NAME URL`",
                ) from exc
        for found in adopted:
            add_index_version(
                conn,
                name=found.name,
                url=strip_credentials(found.url),
                format=found.format,
                is_default=found.is_default,
            )
            role = " (default)" if found.is_default else ""
            click.echo(
                f"no index configured: added {found.name}{role} {strip_credentials(found.url)} "
                f"from pip's {found.origin}",
                err=True,
            )
        configured = list_indexes(conn)
    if not configured:
        raise SneakernetError(
            "no index is configured and pip has no index configuration",
            hint="add one with `mirror index add NAME URL --default`",
        )
    return ordered_for_lookup(configured)


def _resolved(requirements: list[Requirement]) -> list[Requirement]:
    """What the closure check resolves. Exact pins (``old==1.0``) beside another requirement
    on the project, as `resolve`'s hint writes them (``mirror sync 'old<3' old==1.0
    old==2.0``), ask for those versions' metadata, not for a resolution with all of them:
    they are left out; several pins alone stand for the project itself."""
    by_name: dict[str, list[Requirement]] = {}
    for requirement in requirements:
        by_name.setdefault(canonicalize_name(requirement.name), []).append(requirement)
    resolved: list[Requirement] = []
    for name, group in by_name.items():
        others = [r for r in group if not _exact_pin(r)]
        if others:
            resolved += others
        elif len({str(r) for r in group}) > 1:
            resolved.append(Requirement(name))
        else:
            resolved.append(group[0])
    return resolved


def _exact_pin(requirement: Requirement) -> bool:
    specs = list(requirement.specifier)
    return (
        len(specs) == 1
        and specs[0].operator == "=="
        and not specs[0].version.endswith(".*")
        and not requirement.extras
        and requirement.marker is None
    )


def _read_requirements(
    args: tuple[str, ...], files: tuple[str, ...], limits: Limits
) -> tuple[list[Requirement], list[str]]:
    """Requirements from arguments and -r files; returns them and notes on reported options."""
    requirements: list[Requirement] = []
    for arg in args:
        # resolve's own parser: a requirement `resolve` refuses (`pkg @ not-a-url`, a direct
        # reference) must not be synced as something else.
        try:
            requirements.append(parse_requirement(arg).requirement)
        except InputError as exc:
            raise SneakernetError(
                exc.render(),
                hint=exc.hint
                or "give project names or PEP 508 requirements, e.g. 'requests>=2.31'",
            ) from exc
    notes: list[str] = []
    if files:
        try:
            parsed = parse_requirement_files([Path(f) for f in files], limits=limits)
        except InputError as exc:
            raise SneakernetError(exc.render(), hint="fix the requirement file") from exc
        requirements += [item.requirement for item in parsed.requirements]
        notes += [f"{o.source.path}:{o.source.line}: {o.text} ignored" for o in parsed.options]
    return requirements, notes


def _target_environments(
    versions: tuple[str, ...],
    platforms: tuple[str, ...],
    interpreters: list[TargetEnvironment],
) -> list[dict[str, str]]:
    envs = [dict(interpreter.markers) for interpreter in interpreters]
    if not versions and not platforms:
        return envs or list(representative_environments())
    for version in versions or (f"{sys.version_info.major}.{sys.version_info.minor}",):
        for platform in platforms or (None,):
            try:
                target = TargetEnvironment.create(version, platform)
            except ValueError as exc:
                raise SneakernetError(str(exc), hint="see `resolve --help` for platforms") from exc
            envs.append(dict(target.markers))
    return envs


def _resolve_targets(
    versions: tuple[str, ...],
    platforms: tuple[str, ...],
    interpreters: list[TargetEnvironment],
) -> list[Target]:
    """The environments the closure check resolves for: every ``--python`` and every version
    × platform given, or this interpreter (``resolve``'s default target) when none is."""
    if not versions and not platforms:
        return [Target(i) for i in interpreters] or [Target(TargetEnvironment.current())]
    return [Target(i) for i in interpreters] + [
        Target(TargetEnvironment.create(version, platform))
        for version in versions or (None,)
        for platform in platforms or (None,)
    ]


@click.command("sync")
@click.argument("projects", nargs=-1)
@click.option("-r", "--requirement", "requirement_files", multiple=True, type=click.Path())
@click.option("--closure", is_flag=True, help="Follow Requires-Dist until nothing new appears.")
@click.option(
    "--python-version", "python_versions", multiple=True, help="Target Python, e.g. 3.12."
)
@click.option("--python-platform", "python_platforms", multiple=True, help="Target platform.")
@click.option(
    "--python", "pythons", multiple=True, metavar="PATH", help="Target that interpreter too."
)
@click.option(
    "--versions",
    "versions_text",
    default=None,
    help="Which versions get core metadata besides what a --closure resolution needs: "
    "'all' or 'latest:N' (plus exact pins). Default: latest:1 with --closure, else latest:5.",
)
@click.option("--name", help="Name of the new snapshot (default: a UTC timestamp).")
@click.option(
    "--fresh",
    is_flag=True,
    help="Hold exactly what this run syncs; carry nothing over from the latest snapshot.",
)
@click.option(
    "--no-build",
    is_flag=True,
    help="Do not build sdists whose metadata is dynamic; record that they need a build.",
)
@click.option(
    "--build-timeout",
    default=DEFAULT_TIMEOUT,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds for one sdist's metadata build (its requirements installed, its hooks run).",
)
@click.option(
    "--build-jobs",
    default=DEFAULT_JOBS,
    show_default=True,
    type=click.IntRange(min=1),
    help="Metadata builds at once.",
)
@concurrency_option
@timeout_options
@limit_option
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
@json_option
@pass_app
@handle_errors
def sync_command(
    app: AppContext,
    projects: tuple[str, ...],
    requirement_files: tuple[str, ...],
    closure: bool,
    python_versions: tuple[str, ...],
    python_platforms: tuple[str, ...],
    pythons: tuple[str, ...],
    versions_text: str | None,
    name: str | None,
    fresh: bool,
    no_build: bool,
    build_timeout: float,
    build_jobs: int,
    concurrency: int,
    timeout: float,
    read_timeout: float,
    limits: Limits,
    quiet: bool,
    as_json: bool,
) -> None:
    """Snapshot PROJECTs (and those in -r files) from every configured index.

    Every project's page is fetched from every index, so precedence is decided later, offline.
    Snapshots are cumulative: the projects of the latest snapshot that this run does not sync
    are carried over unchanged, not fetched again (pages of removed indexes are left out);
    --fresh makes a snapshot of exactly what this run syncs. An sdist whose metadata is
    dynamic gets it built by its PEP 517 backend in an isolated environment, its build
    requirements resolved and fetched from the indexes (--no-build refuses). With no index
    configured, the
    indexes come from pip's configuration. An interrupted sync resumes when run again with the
    same arguments.

    \b
    Example:
      mirror sync requests rich
      mirror sync httpx            # refreshes httpx; requests and rich are carried over
      mirror sync httpx --fresh    # a snapshot of httpx alone
      mirror sync -r requirements.in --closure --python-version 3.12 --python-platform linux
      mirror sync torch --timeout 600 --limit page-bytes=256MiB   # a slow, very large index
    """
    if versions_text is None:
        versions_text = "latest:1" if closure else "latest:5"
    try:
        policy = parse_version_policy(versions_text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--versions") from exc
    requirements, notes = _read_requirements(projects, requirement_files, limits)
    for note in notes:
        warn(note)
    if not requirements:
        raise SneakernetError(
            "nothing to sync", hint="name projects, or give a requirements file with -r"
        )
    interpreters = [interpreter_target(python) for python in pythons]
    envs = _target_environments(python_versions, python_platforms, interpreters)
    # With targets, the resolution for each is the closure. With none, `resolve`'s default
    # target is resolved, and Requires-Dist is followed besides under every representative
    # environment, so that the snapshot serves any machine.
    crawl = closure and not (python_versions or python_platforms or pythons)
    engine = app.engine()
    indexes = _indexes_or_pip(engine)
    state = ClosureState(envs=envs)
    for requirement in requirements:
        state.add_requirement(requirement)
    plan = {
        "requirements": sorted(str(r) for r in requirements),
        "closure": closure,
        "python_versions": sorted(python_versions),
        "python_platforms": sorted(python_platforms),
        **({"pythons": [str(i) for i in interpreters]} if interpreters else {}),
        "versions": policy.describe(),
        "indexes": [i.name for i in indexes],
    }
    writer = SnapshotWriter.open(engine, name=name, plan=plan)
    if not no_build:  # what the previous snapshot could not build is tried again
        writer.retried = (*writer.retried, "needs-build")
    kept = (
        f"the building snapshot {_snapshot_name(writer)} is kept; the same `mirror sync …` "
        "again resumes it"
    )
    started = time.monotonic()
    show_progress = not quiet and not as_json and sys.stderr.isatty()
    with keeping(kept), make_progress(show_progress) as progress:

        async def run() -> SyncStats:
            config = client_config(concurrency, read_timeout, limits, timeout)
            async with (
                IndexClient(config) as client,
                open_sources(indexes, client=client) as sources,
            ):
                syncer = Syncer(
                    writer,
                    indexes,
                    sources,
                    policy=policy,
                    closure=state if crawl else None,
                    pins=state.pins,
                    concurrency=concurrency,
                    progress=progress,
                )
                if not no_build:
                    needs = BuildRequirements(app.url, syncer, indexes, client)
                    settings = BuildSettings(build_timeout, limits.metadata_bytes)
                    syncer.builds = Builds(sources, needs, settings, build_jobs)
                if not closure:
                    stats = await syncer.run(sorted(state.extras))
                else:
                    # Only a closure sync runs the resolver; others need not load it.
                    from mirror.sync.resolved_closure import ClosureReport, resolve_closure

                    report = ClosureReport()

                    async def resolving() -> None:
                        nonlocal report
                        report = await resolve_closure(
                            syncer,
                            app.url,
                            [InputRequirement(r, COMMAND_LINE) for r in _resolved(requirements)],
                            _resolve_targets(python_versions, python_platforms, interpreters),
                        )

                    stats = await syncer.run(sorted(state.extras), during=resolving)
                    stats.closure = report.as_json()
                stats.traffic = client.traffic.as_json()
                return stats

        stats = event_loop.run(run())
        completed = writer.complete(stats.as_json(), cumulative=not fresh)
    _report(writer, completed, stats, time.monotonic() - started, as_json, quiet)


def _snapshot_name(writer: SnapshotWriter) -> str:
    with writer.engine.connect() as conn:
        return next(s.name for s in list_snapshots(conn) if s.id == writer.snapshot_id)


def _report(
    writer: SnapshotWriter,
    completed: Completed,
    stats: SyncStats,
    seconds: float,
    as_json: bool,
    quiet: bool,
) -> None:
    name = _snapshot_name(writer)
    digest, carried = completed
    if as_json:
        echo_json(
            {"snapshot": name, "digest": digest, "seconds": round(seconds, 3), **stats.as_json()}
            | {"carried": carried.as_json()}
        )
    elif not quiet:
        carried_text = (
            "" if carried.base is None else f", {carried.projects} carried over from {carried.base}"
        )
        click.echo(
            f"snapshot {name} complete ({digest[:12]}): {stats.projects} projects fetched"
            f"{carried_text}; pages: "
            f"{stats.pages_fetched} fetched, "
            f"{stats.pages_not_modified + stats.pages_unchanged} unchanged, "
            f"{stats.pages_resumed} resumed, {stats.pages_failed} failed; core metadata: "
            f"{stats.metadata_fetched} fetched, {stats.metadata_known} already known, "
            f"{stats.built} built, {stats.needs_build} need a build, "
            f"{stats.metadata_failed} failed or invalid; "
            f"{stats.bytes_fetched:,} bytes in {seconds:.1f}s",
            err=True,
        )
        for removed, count in sorted(carried.removed_indexes.items()):
            click.echo(
                f"not carried over from {carried.base}: {count} page(s) of index {removed}, "
                "which is no longer configured",
                err=True,
            )
        for line in warning_lines(stats):
            warn(line)
    # Every index that refused or failed pages, and the projects no index has: also with
    # --json and --quiet, as these say the snapshot may lack what was asked.
    for line in [*index_lines(stats), *filter(None, [not_found_line(stats)])]:
        warn(line)
    build_failure_lines(stats)
    check_outcome(stats)
