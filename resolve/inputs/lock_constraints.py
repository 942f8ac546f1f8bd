"""A lock given as constraints (``resolve -c pylock.toml``): every pin becomes an ``==``
constraint, its PEP 751 ``marker`` kept, so one lock can be re-targeted
(``resolve -r requirements.in -c old-lock.txt --python-platform windows``). A requirements lock
needs nothing of this: pinned lines with ``--hash`` options are constraints in pip's syntax."""

from __future__ import annotations

from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from resolve.inputs.reading import read_bounded
from resolve.inputs.reqfile import parse_requirements_text
from resolve.inputs.requirements import (
    InputError,
    InputRequirement,
    ParsedInputs,
    RequirementSource,
)
from resolve.limits import Limits

__all__ = ["LOCK_SUFFIXES", "lock_constraints"]

#: The names read as a pylock.toml or JSON lock when given as constraints.
LOCK_SUFFIXES = frozenset([".toml", ".json"])


def lock_constraints(path: Path, limits: Limits) -> ParsedInputs:
    """The pins of the lock at ``path`` as constraints (a requirements lock by its content is
    read as the pip-syntax constraints file it is)."""
    try:
        raw = read_bounded(path, limit=limits.requirements_bytes, what=str(path))
        text = raw.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from exc
    # Imported here for start-up time: most runs give no lock as a constraints file.
    from resolve.lock.reader import parse_lock_text

    lock = parse_lock_text(text, path, need_files=False)
    if lock.format == "requirements":
        return parse_requirements_text(text, path, constraint=True, limits=limits)
    constraints = []
    for pin in lock.pins:
        text = f"{pin.name}=={pin.version}" + (f"; {pin.marker}" if pin.marker else "")
        try:
            requirement = Requirement(text)
        except InvalidRequirement as exc:
            raise InputError(f"{pin.name}: {exc}", path=path, line=pin.line) from exc
        constraints.append(InputRequirement(requirement, RequirementSource(path, pin.line)))
    return ParsedInputs(constraints=tuple(constraints))
