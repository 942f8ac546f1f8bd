"""What one ``resolve`` run was asked for, as typed values built once at the command line.

:class:`ResolveRequest` is everything below the CLI sees: the parsed inputs, where the snapshot
is, the rule overrides, the target, the selection mode, the preferences of an existing lock,
the lock format and the command that regenerates it. The parsers here turn option text into
those values and raise :class:`InputError` / :class:`RuleError` with a hint, which the CLI
renders; nothing here knows click.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from packaging.utils import canonicalize_name
from packaging.version import Version

from resolve.candidates.judge import BinaryPolicy, Target
from resolve.candidates.provider import ResolutionMode
from resolve.inputs.requirements import InputError, ParsedInputs
from resolve.lock.writers import LockStyle
from resolve.policy.prerelease import MODE_NAMES, PrereleaseMode
from resolve.rules.model import Cutoff, IndexRule, IndexStrategy, RuleError, RuleSet, parse_cutoff
from resolve.targets.environment import InvalidPythonVersion, TargetEnvironment, UnknownPlatform

if TYPE_CHECKING:
    from resolve.universal.environment import Universal

__all__ = [
    "LockFormat",
    "ResolveRequest",
    "RuleOverrides",
    "binary_names",
    "check_requires_python",
    "command_line",
    "lock_format",
    "lock_style",
    "option_pairs",
    "prerelease_modes",
    "target_flags",
    "target_of",
]

LockFormat = Literal["requirements", "pylock", "json"]


def option_pairs(values: Iterable[str], option: str) -> dict[str, str]:
    """``NAME=VALUE`` options → ``{canonical name: value}``."""
    found: dict[str, str] = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name.strip() or not rest.strip():
            raise InputError(f"{option}: expected NAME=VALUE, got {value!r}")
        found[canonicalize_name(name.strip())] = rest.strip()
    return found


def prerelease_modes(pairs: Mapping[str, str]) -> dict[str, PrereleaseMode]:
    """``--prerelease-package NAME=MODE`` pairs (from :func:`option_pairs`) → modes."""
    try:
        return {name: PrereleaseMode(mode) for name, mode in pairs.items()}
    except ValueError as exc:
        raise RuleError(
            f"--prerelease-package: {exc}",
            hint="modes: " + ", ".join(MODE_NAMES),
        ) from exc


def binary_names(values: Iterable[str]) -> frozenset[str]:
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


def lock_format(explicit: str | None, output: Path | None) -> LockFormat:
    """``--format``, else from the output name (``pylock*.toml`` → pylock), else requirements."""
    for name in ("requirements", "pylock", "json"):
        if explicit == name:
            return name
    if output is not None and output.name.startswith("pylock") and output.suffix == ".toml":
        return "pylock"
    return "requirements"


def lock_style(options: Mapping[str, Any]) -> LockStyle:
    """The layout flags (the CLI's values by parameter name) → the writers' style."""
    return LockStyle(
        header=not options["no_header"],
        annotate=not options["no_annotate"],
        annotation_style=options["annotation_style"] or "split",
        emit_index_url=options["emit_index_url"],
        strip_extras=options["strip_extras"],
    )


def target_flags(
    python_version: str | None, python_platform: str | None, python: str | None = None
) -> tuple[str, ...]:
    """The target's options as a command line gives them (for a ``mirror sync`` hint)."""
    flags: list[str] = ["--python", python] if python else []
    if python_version:
        flags += ["--python-version", python_version]
    if python_platform:
        flags += ["--python-platform", python_platform]
    return tuple(flags)


def target_of(
    python_version: str | None,
    python_platform: str | None,
    only_binary: Iterable[str] = (),
    no_binary: Iterable[str] = (),
    python: str | None = None,
) -> Target:
    """The target environment and binary policy from their options; ``--python`` asks that
    interpreter, the other two then replace its version or platform."""
    try:
        if python is not None:
            # Imported here: keeps subprocess and shutil out of the plain resolve path's start-up.
            from resolve.targets.interpreter import interpreter_target

            environment = interpreter_target(python, python_version, python_platform)
        else:
            environment = TargetEnvironment.create(python_version, python_platform)
    except (UnknownPlatform, InvalidPythonVersion) as exc:
        raise InputError(str(exc)) from exc
    binary = BinaryPolicy(only_binary=binary_names(only_binary), no_binary=binary_names(no_binary))
    return Target(environment, binary)


def check_requires_python(
    inputs: ParsedInputs, target: Target, python_version: str | None, python: str | None = None
) -> None:
    """A project's ``requires-python`` that excludes the target is a usage error (exit 2):
    the lock would be for a Python the project does not run on, and pip would refuse to
    install the project there."""
    for declared in inputs.requires_python:
        if target.python_fits(declared.text):
            continue
        running = ".".join(map(str, target.environment.python_version))
        given = (
            f"--python-version {python_version}"
            if python_version
            else f"--python {python} ({running})"
            if python
            else f"this Python ({running})"
        )
        raise InputError(
            f"{given} is outside the project's requires-python {declared.text!r}",
            path=declared.source.path,
            line=declared.source.line,
            hint=f"pass a --python-version that {declared.text} allows, or change requires-python",
        )


@dataclass(frozen=True, slots=True)
class RuleOverrides:
    """Command-line flags that override the stored rules for one run (DESIGN.md)."""

    strategy: IndexStrategy | None = None
    indexes: tuple[str, ...] = ()
    default_index: str | None = None
    prerelease: PrereleaseMode | None = None
    prerelease_packages: Mapping[str, PrereleaseMode] = field(default_factory=dict)
    exclude_newer: Cutoff = None
    exclude_newer_packages: Mapping[str, Cutoff] = field(default_factory=dict)

    @classmethod
    def parse(
        cls,
        *,
        strategy: str | None = None,
        indexes: Sequence[str] = (),
        default_index: str | None = None,
        prerelease: str | None = None,
        prerelease_packages: Iterable[str] = (),
        exclude_newer: str | None = None,
        exclude_newer_packages: Iterable[str] = (),
    ) -> RuleOverrides:
        """The overrides from their option text (``NAME=VALUE`` pairs included).

        Every pair's syntax is checked before any value's meaning, as ``resolve`` always did.
        """
        modes = option_pairs(prerelease_packages, "--prerelease-package")
        cutoffs = option_pairs(exclude_newer_packages, "--exclude-newer-package")
        return cls(
            strategy=IndexStrategy(strategy) if strategy else None,
            indexes=tuple(indexes),
            default_index=default_index,
            prerelease=PrereleaseMode(prerelease) if prerelease else None,
            prerelease_packages=prerelease_modes(modes),
            exclude_newer=parse_cutoff(exclude_newer) if exclude_newer else None,
            exclude_newer_packages={n: parse_cutoff(v) for n, v in cutoffs.items()},
        )

    def apply(self, rules: RuleSet) -> RuleSet:
        """``rules`` with these flags applied, for this run only; an unknown ``--index`` or
        ``--default-index`` name is a :class:`RuleError` naming the known ones."""
        changes: dict[str, object] = {}
        if self.strategy is not None:
            changes["strategy"] = self.strategy
        if self.prerelease is not None:
            changes["prerelease"] = self.prerelease
        if self.prerelease_packages:
            changes["prerelease_packages"] = {
                **rules.prerelease_packages,
                **self.prerelease_packages,
            }
        if self.exclude_newer is not None:
            changes["exclude_newer"] = self.exclude_newer
        if self.exclude_newer_packages:
            changes["exclude_newer_packages"] = {
                **rules.exclude_newer_packages,
                **self.exclude_newer_packages,
            }
        if changes:
            rules = rules.with_changes(**changes)
        if self.indexes or self.default_index:
            rules = _with_indexes(rules, self.indexes, self.default_index)
        return rules


def _with_indexes(rules: RuleSet, indexes: Sequence[str], default_index: str | None) -> RuleSet:
    """``--index NAME…`` (only these, in this order) and ``--default-index NAME``."""
    known = {i.name: i for i in rules.indexes}
    for name in [*indexes, *([default_index] if default_index else [])]:
        if name not in known:
            raise RuleError(
                f"unknown index {name!r}",
                hint="known indexes: " + (", ".join(sorted(known)) or "none"),
            )
    chosen = [known[n] for n in dict.fromkeys(indexes)] if indexes else list(rules.indexes)
    if default_index is not None:
        if default_index not in {i.name for i in chosen}:
            chosen.append(known[default_index])
        chosen = [
            IndexRule(
                i.name, i.url, i.name == default_index, i.explicit, i.not_here, i.exclude_newer
            )
            for i in chosen
        ]
    return rules.with_changes(indexes=tuple(chosen))


@dataclass(frozen=True, slots=True)
class ResolveRequest:
    """One ``resolve`` run, typed.

    ``preferences`` are the pins of the existing ``-o`` lock that are to be kept (empty with
    ``--upgrade``); ``command`` is the command line the lock header records; ``target_flags``
    the target's options as given, for the ``mirror sync`` a hint proposes;
    ``allow_incomplete`` resolves past missing data instead of stopping (SEMANTICS §7);
    ``no_deps`` pins the requirements alone; ``style`` lays out a requirements lock.
    """

    inputs: ParsedInputs
    target: Target
    overrides: ParsedInputs = field(default_factory=ParsedInputs)
    database: str | None = None
    snapshot: str = "latest"
    rules_digest: str | None = None
    rule_overrides: RuleOverrides = field(default_factory=RuleOverrides)
    resolution: ResolutionMode = "highest"
    preferences: Mapping[str, Version] = field(default_factory=dict)
    #: With ``universal``: the existing lock's projects pinned at several versions, each
    #: with its marker (:mod:`resolve.policy.preferences`).
    fork_preferences: Mapping[str, tuple[tuple[str, Version], ...]] = field(default_factory=dict)
    format: LockFormat = "requirements"
    command: str = "resolve"
    target_flags: tuple[str, ...] = ()
    allow_incomplete: bool = False
    no_deps: bool = False
    style: LockStyle = field(default_factory=LockStyle)
    #: ``--universal``: one lock for these environments (None: for ``target`` only).
    universal: Universal | None = None


# Options that shape the lock, in the order the header spells them. --db, --quiet and
# --snapshot latest are left out: they say where and how loudly, not what.
_COMMAND_OPTIONS = (
    ("requirement_files", "-r"),
    ("constraint_files", "-c"),
    ("override_files", "--override"),
    ("extras", "--extra"),
    ("groups", "--group"),
    ("python", "--python"),
    ("python_version", "--python-version"),
    ("python_platform", "--python-platform"),
    ("index_strategy", "--index-strategy"),
    ("index_names", "--index"),
    ("default_index", "--default-index"),
    ("prerelease", "--prerelease"),
    ("prerelease_package", "--prerelease-package"),
    ("exclude_newer", "--exclude-newer"),
    ("exclude_newer_package", "--exclude-newer-package"),
    ("only_binary", "--only-binary"),
    ("no_binary", "--no-binary"),
    ("format_", "--format"),
    ("output_file", "-o"),
    ("annotation_style", "--annotation-style"),
)
# Switches that shape the lock: (parameter, the value that is spelled, flag).
_COMMAND_SWITCHES = (
    ("pre", True, "--pre"),
    ("allow_incomplete", True, "--allow-incomplete"),
    ("no_deps", True, "--no-deps"),
    ("no_header", True, "--no-header"),
    ("no_annotate", True, "--no-annotate"),
    ("emit_index_url", True, "--emit-index-url"),
    ("strip_extras", False, "--no-strip-extras"),
)


def command_line(options: Mapping[str, Any]) -> str:
    """The command that regenerates the lock, rebuilt from the parsed options (the CLI's
    values by parameter name)."""
    words = ["resolve", *options["requirements"]]
    if options["snapshot"] != "latest":
        words += ["--snapshot", options["snapshot"]]
    if options.get("rules_digest"):  # an old rule set: without it the command would use today's
        words += ["--rules", options["rules_digest"]]
    for key, flag in _COMMAND_OPTIONS:
        value = options[key]
        for one in value if isinstance(value, tuple) else [value]:
            if one is not None:
                words += [flag, str(one)]
    if options["resolution"] != "highest":
        words += ["--resolution", options["resolution"]]
    words += [flag for key, spelled, flag in _COMMAND_SWITCHES if options[key] is spelled]
    if options.get("universal"):
        words.append("--universal")
        for key, flag in (
            ("environment", "--environment"),
            ("required_environment", "--required-environment"),
        ):
            for one in options.get(key, ()):
                words += [flag, one]
    return shlex.join(words)
