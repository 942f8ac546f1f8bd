"""Every requirement input a command was given, read in command-line order: requirement
strings, pip requirements and constraints files, and ``pyproject.toml`` (PEP 621 with
``--extra``, PEP 735 groups with ``--group``)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from resolve.inputs.lock_constraints import LOCK_SUFFIXES, lock_constraints
from resolve.inputs.reqfile import parse_requirements_file
from resolve.inputs.requirements import InputError, ParsedInputs, parse_requirement
from resolve.limits import DEFAULT_LIMITS, Limits

__all__ = ["collect_inputs", "parse_requirement_files"]


def parse_requirement_files(
    paths: Iterable[str | os.PathLike[str]],
    *,
    constraint: bool = False,
    environ: Mapping[str, str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> ParsedInputs:
    """Several requirements files (or, with ``constraint``, constraints files), in order."""
    return ParsedInputs.concat(
        parse_requirements_file(path, constraint=constraint, environ=environ, limits=limits)
        for path in paths
    )


def collect_inputs(
    requirements: Iterable[str] = (),
    requirement_files: Iterable[str | os.PathLike[str]] = (),
    constraint_files: Iterable[str | os.PathLike[str]] = (),
    *,
    extras: Iterable[str] = (),
    groups: Iterable[str] = (),
    environ: Mapping[str, str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> ParsedInputs:
    """Everything ``resolve REQ… -r FILE… -c FILE…`` asked for, in command-line order.

    A file named ``pyproject.toml`` is read as one (as ``uv pip compile`` and pip-tools do),
    with ``extras`` and ``groups`` selecting optional dependencies and PEP 735 groups; a
    ``.toml`` or ``.json`` constraints file is read as a lock (:mod:`.lock_constraints`). Every
    file is read within ``limits`` (``requirements-bytes``, ``requirements-depth``).
    """
    extras, groups = tuple(extras), tuple(groups)
    parts = [ParsedInputs(tuple(parse_requirement(text) for text in requirements))]
    saw_pyproject = False
    for name, constraint in [
        *((f, False) for f in requirement_files),
        *((f, True) for f in constraint_files),
    ]:
        path = Path(name)
        if path.name == "pyproject.toml":
            saw_pyproject = True
            # Imported here: keeps the TOML reader out of the plain resolve path's start-up.
            from resolve.inputs.pyproject import parse_pyproject

            part = parse_pyproject(path, extras=extras, groups=groups, limits=limits)
            parts.append(part.as_constraints() if constraint else part)
        elif constraint and path.suffix.lower() in LOCK_SUFFIXES:
            parts.append(lock_constraints(path, limits))
        else:
            parts.append(
                parse_requirements_file(path, constraint=constraint, environ=environ, limits=limits)
            )
    if (extras or groups) and not saw_pyproject:
        what = "extras" if extras else "dependency groups"
        raise InputError(f"selecting {what} needs a pyproject.toml input (-r pyproject.toml)")
    return ParsedInputs.concat(parts)
