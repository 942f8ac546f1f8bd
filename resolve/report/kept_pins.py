"""Why a pin of the existing lock was not kept (SEMANTICS §7: never replaced silently).

``resolve -o LOCK`` honours the lock's pins as preferences, as pip-compile does; the solver
keeps each one it can. One it could not keep gets a ``warning:`` naming the old pin, the new
one and the reason, in terms of the snapshot and the requirements.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from resolve.candidates.project import ProjectCandidates
from resolve.solver.pep440 import contains

__all__ = ["unkept_pins"]


def unkept_pins(
    preferences: Mapping[str, Version],
    pins: Mapping[str, Version],
    projects: Mapping[str, ProjectCandidates],
    roots: Sequence[Requirement],
) -> list[str]:
    """One warning per preferred pin the lock changes, sorted by name. A pin whose package
    the new lock no longer holds is not a changed pin: nothing requires it any more."""
    warnings = []
    for name in sorted(preferences):
        old, new = preferences[name], pins.get(name)
        if new is None or new == old:
            continue
        why = _why(name, old, projects.get(name), roots)
        warnings.append(
            f"the existing lock's pin {name}=={old} is not kept ({name} is now {new}): {why}"
        )
    return warnings


def _why(
    name: str, old: Version, project: ProjectCandidates | None, roots: Sequence[Requirement]
) -> str:
    for root in roots:
        if canonicalize_name(root.name) == name and not all(
            contains(spec, old) for spec in root.specifier
        ):
            return f"the requirement {root} excludes it"
    if project is not None and old in project.versions:
        candidate = project.versions[old]
        if candidate.unavailable is not None:
            return f"it is unavailable ({candidate.unavailable[1]})"
        return (
            "a dependency's requirement or the pre-release policy excludes it; "
            f"`resolve --explain {name}` shows why each version is or is not used"
        )
    if project is not None:
        for exclusion in project.excluded:
            if exclusion.version == str(old) and exclusion.detail:
                return f"it is not usable here ({exclusion.detail})"
    return f"the snapshot offers no {name} {old} that the rules and the target allow"
