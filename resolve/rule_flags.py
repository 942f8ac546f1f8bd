"""The rule flags of ``resolve``: one run's overrides of the stored index-precedence rules.

``--index-strategy``, ``--index``, ``--default-index``, the pre-release modes (uv's
``--prerelease`` and pip-compile's ``--pre``) and the upload-time cutoffs, as one decorator,
and the typed :class:`~resolve.options.RuleOverrides` built from their values once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import click

from resolve.options import RuleOverrides
from resolve.policy.prerelease import MODE_NAMES

__all__ = ["rule_options", "rule_overrides_of"]

_STRATEGIES = ("first-index", "unsafe-first-match", "unsafe-best-match")
_F = TypeVar("_F", bound=Callable[..., Any])


def rule_options(func: _F) -> _F:
    """The rule-override options, in ``--help`` order."""
    decorators = [
        click.option(
            "--index-strategy", type=click.Choice(_STRATEGIES), help="Override the rules."
        ),
        click.option(
            "--index",
            "index_names",
            multiple=True,
            metavar="NAME",
            help="Use only these indexes, in this order.",
        ),
        click.option("--default-index", metavar="NAME", help="The index consulted last."),
        click.option("--prerelease", type=click.Choice(MODE_NAMES), help="Pre-release mode."),
        click.option("--pre", is_flag=True, help="--prerelease allow (pip-compile's spelling)."),
        click.option(
            "--prerelease-package",
            multiple=True,
            metavar="NAME=MODE",
            help="Pre-release mode for one package.",
        ),
        click.option("--exclude-newer", metavar="TS", help="Ignore files uploaded after TS."),
        click.option(
            "--exclude-newer-package",
            multiple=True,
            metavar="NAME=TS|false",
            help="Cutoff for one package (false opts out).",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def rule_overrides_of(options: Mapping[str, Any]) -> RuleOverrides:
    """The overrides the command line gave (``--pre`` is ``--prerelease allow``)."""
    prerelease, pre = options["prerelease"], options["pre"]
    if pre and prerelease not in (None, "allow"):
        raise click.UsageError(f"--pre means --prerelease allow, not {prerelease}")
    return RuleOverrides.parse(
        strategy=options["index_strategy"],
        indexes=options["index_names"],
        default_index=options["default_index"],
        prerelease="allow" if pre else prerelease,
        prerelease_packages=options["prerelease_package"],
        exclude_newer=options["exclude_newer"],
        exclude_newer_packages=options["exclude_newer_package"],
    )
