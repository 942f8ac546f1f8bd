"""The ``resolve`` command's options → snapshot, rules, target and request, then the run.

Kept apart from the click layer so the option semantics (flags override stored rules for one
run; ``-o`` names the lock whose pins are preferences) can be read and tested on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import Version

from db.read.snapshot_reader import SnapshotReader
from resolve.candidates.project import BinaryPolicy, Target
from resolve.inputs.collect import collect_inputs
from resolve.inputs.requirements import InputError, ParsedInputs
from resolve.lock.writers import Lock, render_lock
from resolve.pipeline import Outcome, apply_index_flags, resolve_once
from resolve.policy.preferences import read_preferences
from resolve.policy.prerelease import PrereleaseMode
from resolve.rules.model import IndexStrategy, RuleError, RuleSet, parse_cutoff
from resolve.targets.environment import InvalidPythonVersion, TargetEnvironment, UnknownPlatform

__all__ = ["ResolveRun", "binary_names", "lock_format", "option_pairs", "stored_rules"]


def option_pairs(values: Sequence[str], option: str) -> dict[str, str]:
    """``NAME=VALUE`` options → ``{canonical name: value}``."""
    found: dict[str, str] = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name.strip() or not rest.strip():
            raise InputError(f"{option}: expected NAME=VALUE, got {value!r}")
        found[canonicalize_name(name.strip())] = rest.strip()
    return found


def binary_names(values: Sequence[str]) -> frozenset[str]:
    """``--only-binary``/``--no-binary`` values: comma lists of names, ``:all:``, ``:none:``."""
    names: set[str] = set()
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if part == ":none:":
                names.clear()
            elif part == ":all:":
                names.add(part)
            elif part:
                names.add(canonicalize_name(part))
    return frozenset(names)


def lock_format(explicit: str | None, output: Path | None) -> str:
    """``--format``, else from the output name (``pylock*.toml`` → pylock), else requirements."""
    if explicit:
        return explicit
    if output is not None and output.name.startswith("pylock") and output.suffix == ".toml":
        return "pylock"
    return "requirements"


def stored_rules(reader: SnapshotReader, digest: str | None) -> RuleSet:
    """The rules stored in the database: the current version, or the one named by digest
    (a database with no stored version implies them from its indexes: db.rules.rows)."""
    return RuleSet.from_document(reader.rule_document(digest))


def _rules_with_flags(rules: RuleSet, options: dict[str, Any]) -> RuleSet:
    """Command-line flags override the stored rules for this run only (DESIGN.md)."""
    changes: dict[str, Any] = {}
    if options.get("index_strategy"):
        changes["strategy"] = IndexStrategy(options["index_strategy"])
    if options.get("prerelease"):
        changes["prerelease"] = PrereleaseMode(options["prerelease"])
    pairs = options.get("prerelease_packages", {})
    if pairs:
        try:
            modes = {name: PrereleaseMode(mode) for name, mode in pairs.items()}
        except ValueError as exc:
            raise RuleError(
                f"--prerelease-package: {exc}",
                hint="modes: " + ", ".join(m.value for m in PrereleaseMode),
            ) from exc
        changes["prerelease_packages"] = {**rules.prerelease_packages, **modes}
    if options.get("exclude_newer"):
        changes["exclude_newer"] = parse_cutoff(options["exclude_newer"])
    cutoffs = options.get("exclude_newer_packages", {})
    if cutoffs:
        parsed = {name: parse_cutoff(value) for name, value in cutoffs.items()}
        changes["exclude_newer_packages"] = {**rules.exclude_newer_packages, **parsed}
    if changes:
        rules = rules.with_changes(**changes)
    if options.get("index_names") or options.get("default_index"):
        rules = apply_index_flags(
            rules, options.get("index_names", ()), options.get("default_index")
        )
    return rules


def _target(options: dict[str, Any]) -> Target:
    try:
        environment = TargetEnvironment.create(
            options.get("python_version"), options.get("python_platform")
        )
    except (UnknownPlatform, InvalidPythonVersion) as exc:
        raise InputError(str(exc)) from exc
    binary = BinaryPolicy(
        only_binary=binary_names(options.get("only_binary", ())),
        no_binary=binary_names(options.get("no_binary", ())),
    )
    return Target(environment, binary)


@dataclass(slots=True)
class ResolveRun:
    reader: SnapshotReader
    rules: RuleSet
    target: Target
    inputs: ParsedInputs
    overrides: ParsedInputs
    preferences: dict[str, Version]
    resolution: str
    format: str

    @classmethod
    def from_options(cls, options: dict[str, Any], inputs: ParsedInputs) -> ResolveRun:
        options = dict(options)
        options["prerelease_packages"] = option_pairs(
            options.get("prerelease_package", ()), "--prerelease-package"
        )
        options["exclude_newer_packages"] = option_pairs(
            options.get("exclude_newer_package", ()), "--exclude-newer-package"
        )
        target = _target(options)
        overrides = collect_inputs((), options.get("override_files", ()))
        output: Path | None = options.get("output_file")
        preferences: dict[str, Version] = {}
        if output is not None and not options.get("upgrade"):
            preferences = read_preferences(output)
            for name in options.get("upgrade_package", ()):
                preferences.pop(canonicalize_name(name), None)
        reader = SnapshotReader.open(options.get("db"), options.get("snapshot") or "latest")
        try:
            rules = _rules_with_flags(stored_rules(reader, options.get("rules_digest")), options)
        except BaseException:
            reader.close()
            raise
        return cls(
            reader=reader,
            rules=rules,
            target=target,
            inputs=inputs,
            overrides=overrides,
            preferences=preferences,
            resolution=options.get("resolution") or "highest",
            format=lock_format(options.get("format_"), output),
        )

    def resolve(self, command: str = "resolve") -> Outcome:
        return resolve_once(
            self.reader,
            self.rules,
            self.target,
            self.inputs.requirements,
            constraints=self.inputs.constraints,
            overrides=self.overrides.requirements,
            preferences=self.preferences,
            resolution=self.resolution,
            command=command,
        )

    def render(self, lock: Lock) -> str:
        return render_lock(lock, self.format)

    def explain(self, name: str, *, as_json: bool) -> int:
        from resolve.report.explain_versions import explain_project

        code: int = explain_project(self, canonicalize_name(name), as_json=as_json)
        return code
