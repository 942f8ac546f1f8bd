"""The ``resolve`` command: requirements + snapshot + rules → a pinned, hashed lock.

Offline by construction: it reads the snapshot database through :mod:`db.read.snapshot_reader`
(stdlib sqlite3) and imports nothing that can open a socket. stdout carries the lock when no ``-o``
is given; everything else goes to stderr (DESIGN.md "Conventions").
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from packaging.utils import canonicalize_name
from packaging.version import Version

from db.errors import SnapshotIncomplete, SneakernetError
from db.urls import redact_credentials
from resolve.clikit import (
    ErrorRenderingCommand,
    echo_json,
    fail,
    limit_option,
    version_option,
    warn,
)
from resolve.compile_flags import check_target, compile_options, report_check
from resolve.inputs.collect import collect_inputs
from resolve.inputs.requirements import InputError, ParsedInputs
from resolve.lock.files import write_lock
from resolve.lock.writers import render_lock
from resolve.options import (
    ResolveRequest,
    check_requires_python,
    command_line,
    lock_format,
    lock_style,
    target_flags,
    target_of,
)
from resolve.pipeline import Session
from resolve.policy.preferences import ForkPreferences, read_lock_preferences
from resolve.rule_flags import rule_options, rule_overrides_of
from resolve.rules.model import RuleError
from resolve.solver.reporter import BaseReporter

if TYPE_CHECKING:
    from resolve.report.explain_versions import Explanation

__all__ = ["main"]


@click.command(
    cls=ErrorRenderingCommand,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.argument("requirements", nargs=-1, metavar="[REQ]...")
@click.option(
    "-r",
    "--requirement",
    "requirement_files",
    multiple=True,
    metavar="FILE",
    help="Requirements file (pip syntax) or pyproject.toml.",
)
@click.option(
    "-c",
    "--constraint",
    "constraint_files",
    multiple=True,
    metavar="FILE",
    help="Constraints file or lock (its pins): narrows versions, never adds packages.",
)
@click.option(
    "--override",
    "override_files",
    multiple=True,
    metavar="FILE",
    help="Overrides file: replaces every requirement on the packages it names.",
)
@click.option(
    "--extra",
    "extras",
    multiple=True,
    metavar="NAME",
    help="Optional dependencies of the pyproject.toml input.",
)
@click.option(
    "--group",
    "groups",
    multiple=True,
    metavar="NAME",
    help="Dependency group (PEP 735) of the pyproject.toml input.",
)
@click.option(
    "--db",
    envvar="MIRROR_DB",
    metavar="URL",
    help="Snapshot database (default: ./mirror.db, or $MIRROR_DB).",
)
@click.option(
    "--snapshot",
    default="latest",
    show_default=True,
    metavar="SNAP",
    help="Snapshot name, digest prefix, or latest.",
)
@click.option(
    "--rules",
    "rules_digest",
    metavar="DIGEST",
    help="Apply a stored rule-set version (as named in a lock) instead of the current.",
)
@click.option("--python", metavar="PATH", help="Target that interpreter (path or name on PATH).")
@click.option("--python-version", metavar="X.Y[.Z]", help="Target Python (default: this one).")
@click.option(
    "--python-platform",
    metavar="PLATFORM",
    help="Target platform, e.g. x86_64-manylinux_2_28, aarch64-apple-darwin, windows.",
)
@click.option(
    "--universal",
    is_flag=True,
    help="One lock for every platform and Python of the project's range, with markers.",
)
@click.option(
    "--environment",
    multiple=True,
    metavar="MARKER",
    help="With --universal: lock only for environments matching one of these markers.",
)
@click.option(
    "--required-environment",
    multiple=True,
    metavar="MARKER",
    help="With --universal: every pinned version must have a wheel or usable sdist here.",
)
@rule_options
@click.option("--only-binary", multiple=True, metavar="X", help=":all:, :none: or names.")
@click.option("--no-binary", multiple=True, metavar="X", help=":all:, :none: or names.")
@click.option(
    "--resolution",
    type=click.Choice(["highest", "lowest", "lowest-direct"]),
    default="highest",
    show_default=True,
)
@click.option(
    "--allow-incomplete",
    is_flag=True,
    help="Resolve past data the snapshot lacks (as if absent) instead of stopping with exit 4.",
)
@click.option("-U", "--upgrade", is_flag=True, help="Ignore the pins of the existing -o lock.")
@click.option(
    "-P",
    "--upgrade-package",
    multiple=True,
    metavar="NAME",
    help="Ignore the existing lock's pin for NAME only.",
)
@click.option(
    "--format",
    "format_",
    type=click.Choice(["requirements", "pylock", "json"]),
    help="Lock format (default: from the -o name, else requirements).",
)
@click.option(
    "-o",
    "--output-file",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    callback=lambda _ctx, _param, value: None if value == Path("-") else value,
    help="Write the lock here ('-': stdout); an existing lock's pins are kept as preferences.",
)
@click.option(
    "--explain",
    metavar="NAME",
    help="Show every version of NAME on every index, and why it is or is not used.",
)
@click.option("--json", "as_json", is_flag=True, help="With --explain: JSON on stdout.")
@click.option("-q", "--quiet", is_flag=True, help="No summary on stderr.")
@click.option(
    "-v", "--verbose", is_flag=True, help="Print the solver's decisions and backtracks on stderr."
)
@compile_options
@limit_option
@version_option("resolve")
def command(**options: Any) -> None:
    """Resolve requirements against a snapshot, offline, into a pinned, hashed lock.

    \b
    Examples:
      resolve -r requirements.in -o requirements.txt
      resolve "httpx<0.28" --python-version 3.10 --python-platform aarch64-apple-darwin
      resolve -r pyproject.toml --extra dev --format pylock -o pylock.toml
      resolve -r requirements.in -o requirements.txt --upgrade-package httpx
      resolve -r requirements.in --format json -v     # a failure is JSON on stdout too
      resolve -r requirements.in -o requirements.txt --check   # CI: exit 1, diff, if stale
    """
    try:
        code = _run(options)
    except InputError as exc:
        fail(exc.render(), hint=exc.hint or "fix the input and run the command again")
    except SneakernetError as exc:
        fail(exc.message, hint=exc.hint, code=exc.exit_code)
    except sqlite3.DatabaseError as exc:
        # Opening checks the file; damage deeper in it shows only when a query reaches it.
        fail(
            f"cannot read the snapshot database: {exc}",
            hint="if it is damaged, restore it from a backup or an exported snapshot "
            "(`mirror import`)",
        )
    except RuleError as exc:
        fail(exc.message, hint=exc.hint)
    except BrokenPipeError:
        raise  # stdout's reader has gone: ErrorRenderingCommand exits 141, quietly
    except Exception as exc:
        if os.environ.get("SNEAKERNET_DEBUG"):
            raise
        fail(
            f"unexpected {type(exc).__name__}: {exc}",
            hint="this is a bug in sneakernet; rerun with SNEAKERNET_DEBUG=1 for details",
            code=70,
        )
    sys.exit(code)


def _request(options: dict[str, Any], inputs: ParsedInputs) -> ResolveRequest:
    """Click's values → the typed request, once. Every option error is raised here, before the
    snapshot is opened: rule flags, target, overrides file, then the ``-o`` lock's pins."""
    rule_overrides = rule_overrides_of(options)
    target = target_of(
        options["python_version"],
        options["python_platform"],
        options["only_binary"],
        options["no_binary"],
        options["python"],
    )
    universal = None
    if options["universal"] or options["environment"] or options["required_environment"]:
        # Imported here: keeps the marker algebra out of the plain resolve path's start-up.
        from resolve.universal.environment import universal_of

        universal = universal_of(
            options["universal"],
            options["environment"],
            options["required_environment"],
            python_platform=options["python_platform"],
            python_version=target.environment.python_version
            if options["python_version"] or options["python"]
            else None,
            requires_python=[declared.text for declared in inputs.requires_python],
        )
    if universal is None:
        check_requires_python(inputs, target, options["python_version"], options["python"])
    overrides = collect_inputs((), options["override_files"], limits=options["limits"])
    output: Path | None = options["output_file"]
    preferences: dict[str, Version] = {}
    fork_preferences: ForkPreferences = {}
    if output is not None and not options["upgrade"]:
        preferences, fork_preferences = read_lock_preferences(output)
        for name in options["upgrade_package"]:
            preferences.pop(canonicalize_name(name), None)
            fork_preferences.pop(canonicalize_name(name), None)
    return ResolveRequest(
        inputs=inputs,
        target=target,
        overrides=overrides,
        database=options["db"],
        snapshot=options["snapshot"],
        rules_digest=options["rules_digest"],
        rule_overrides=rule_overrides,
        resolution=options["resolution"],
        preferences=preferences,
        fork_preferences=fork_preferences,
        format=lock_format(options["format_"], output),
        command=command_line(options),
        target_flags=target_flags(
            options["python_version"], options["python_platform"], options["python"]
        ),
        allow_incomplete=options["allow_incomplete"],
        no_deps=options["no_deps"],
        style=lock_style(options),
        universal=universal,
    )


def _run(options: dict[str, Any]) -> int:
    started = time.perf_counter()
    check = check_target(options)  # before any work: --check without a lock is a usage error
    inputs = collect_inputs(
        options["requirements"],
        options["requirement_files"],
        options["constraint_files"],
        extras=options["extras"],
        groups=options["groups"],
        limits=options["limits"],
    )
    if options["explain"]:
        with Session.open(_request(options, inputs)) as session:
            # Imported here for start-up time, as the failure report below: a lock needs neither.
            from resolve.report.explain_versions import explain_project

            explanations = explain_project(session, canonicalize_name(options["explain"]))
        _print_explanations(explanations, as_json=options["as_json"])
        return 0
    # A requirements file that asks for nothing is an empty lock, as `uv pip compile` writes
    # one; no input at all (or constraints alone) is a mistake in the command line.
    if not inputs.requirements and not options["requirement_files"]:
        raise InputError(
            "nothing to resolve: give requirements, -r FILE or a pyproject.toml",
            detail="example: resolve -r requirements.in -o requirements.txt",
        )
    for option in inputs.options:
        where = (
            "indexes come from the rules (see `mirror rules show`)"
            if option.name in _INDEX_OPTIONS
            else "pass the matching `resolve` option instead"
        )
        # A `${TOKEN}` in the file has been expanded by now: never print the credential.
        warn(f"{option.source}: `{redact_credentials(option.text)}` is not applied; {where}")
    request = _request(options, inputs)
    reporter = _VerboseReporter() if options["verbose"] else None
    with Session.open(request) as session:
        outcome = session.resolve(reporter=reporter)
        snapshot = session.reader.snapshot
    for message in outcome.warnings:
        warn(message)
    if outcome.incomplete is not None:
        incomplete = outcome.incomplete
        if not request.allow_incomplete:
            if request.format == "json":
                document = {
                    "error": "incomplete snapshot",
                    "missing": list(incomplete.missing),
                    "snapshot": {"name": snapshot.name, "digest": snapshot.digest},
                    "hints": [incomplete.hint],
                }
                echo_json(document)
            raise SnapshotIncomplete(incomplete.message(), hint=incomplete.hint)
        warn(f"{incomplete.message()}; resolved as if it did not exist (--allow-incomplete)")
    if outcome.failure is not None:
        # Imported here for start-up time: only a failure is put into sentences.
        from resolve.report.derivation import render, sentences

        report = render(outcome.failure.no_solution, hints=outcome.failure.hints)
        where = str(request.target.environment)
        if outcome.failure.environment is not None:
            where = outcome.failure.environment
        click.echo(
            f"error: no solution for {where} (snapshot {snapshot.name})\n\n{report}",
            err=True,
        )
        if request.format == "json":
            document = {
                "error": "no solution",
                "target": where,
                "snapshot": {"name": snapshot.name, "digest": snapshot.digest},
                "rules": session.rules.digest,
                "report": sentences(outcome.failure.no_solution),
                "hints": list(outcome.failure.hints),
            }
            echo_json(document)
        return 1
    assert outcome.lock is not None
    text = render_lock(outcome.lock, request.format, request.style)
    output: Path | None = options["output_file"]
    if output is None:  # never with --check: it needs -o
        click.echo(text, nl=False)
    elif check is None:
        write_lock(output, text)
    if not options["quiet"]:
        elapsed = (time.perf_counter() - started) * 1000
        count = len(outcome.lock.packages)
        noun = "package" if count == 1 else "packages"
        click.echo(f"Resolved {count} {noun} in {elapsed:.0f}ms", err=True)
    return 0 if check is None else report_check(check, text, quiet=options["quiet"])


def _print_explanations(explanations: list[Explanation], *, as_json: bool) -> None:
    """One target's explanation, or a universal resolution's, one per fork (JSON: a list)."""
    universal = explanations[0].environment is not None
    if as_json:
        documents = [e.as_json() for e in explanations]
        echo_json(documents if universal else documents[0])
        return
    for number, explanation in enumerate(explanations):
        if number:
            click.echo()
        for line in explanation.table():
            click.echo(line)
        if explanation.failure is not None:
            failure = explanation.failure
            from resolve.report.derivation import render  # for start-up time, as above

            click.echo(f"\n{render(failure.no_solution, hints=failure.hints)}")


class _VerboseReporter(BaseReporter):
    """``-v``: the solver's steps on stderr, as they happen."""

    def deciding(self, package: str, version: Version, level: int) -> None:
        click.echo(f"  decide {package} {version} (level {level})", err=True)

    def rejecting(self, package: str, version: Version, reason: str) -> None:
        click.echo(f"  reject {package} {version}: {reason}", err=True)

    def backtracking(self, package: str, level: int) -> None:
        click.echo(f"  conflict on {package}: backtrack to level {level}", err=True)

    def ending(self, decisions: int, backtracks: int) -> None:
        noun = "backtrack" if backtracks == 1 else "backtracks"
        click.echo(f"  {decisions} decisions, {backtracks} {noun}", err=True)


_INDEX_OPTIONS = frozenset(
    ["--index-url", "--extra-index-url", "--no-index", "--find-links", "--trusted-host"]
)


def main() -> None:
    command(prog_name="resolve")
