"""Following Requires-Dist to close a set of projects under their dependencies.

A dependency is followed when its marker holds for one of the sync's targets, for the extras
requested of its project (all extras a requirement names, PEP 508). With no target given, every
environment counts: a marker is followed when it holds for any of a spread of representative
interpreters and platforms, so the snapshot serves any machine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement

from db.canonical import canonical_name

__all__ = ["ClosureState", "MarkerEnvironments", "representative_environments"]

MarkerEnvironments = Sequence[Mapping[str, str]]

_PLATFORMS = (
    ("linux", "Linux", "x86_64", "posix"),
    ("linux", "Linux", "aarch64", "posix"),
    ("darwin", "Darwin", "arm64", "posix"),
    ("darwin", "Darwin", "x86_64", "posix"),
    ("win32", "Windows", "AMD64", "nt"),
)


@cache
def representative_environments() -> tuple[dict[str, str], ...]:
    """CPython 3.8–3.15 on the common platforms: "all environments" for a universal sync."""
    envs = []
    for minor in range(8, 16):
        for sys_platform, system, machine, os_name in _PLATFORMS:
            envs.append(
                {
                    "implementation_name": "cpython",
                    "implementation_version": f"3.{minor}.0",
                    "os_name": os_name,
                    "platform_machine": machine,
                    "platform_python_implementation": "CPython",
                    "platform_release": "",
                    "platform_system": system,
                    "platform_version": "",
                    "python_full_version": f"3.{minor}.0",
                    "python_version": f"3.{minor}",
                    "sys_platform": sys_platform,
                }
            )
    return tuple(envs)


def marker_holds(marker: Marker | None, envs: MarkerEnvironments, extras: Iterable[str]) -> bool:
    if marker is None:
        return True
    extra_values = ("", *sorted(extras))
    return any(marker.evaluate({**env, "extra": extra}) for env in envs for extra in extra_values)


@dataclass(slots=True)
class ClosureState:
    """Projects reached so far, with the extras requested of each and exact pins seen."""

    envs: MarkerEnvironments
    extras: dict[str, set[str]] = field(default_factory=dict)
    pins: dict[str, set[str]] = field(default_factory=dict)
    # (requirement text, extras of its project) → followed?; markers repeat across releases.
    _verdicts: dict[tuple[str, frozenset[str]], Requirement | None] = field(default_factory=dict)

    def add_requirement(self, requirement: Requirement) -> bool:
        """Record a requirement; True when it makes new work (a new project, extra or pin)."""
        name = canonical_name(requirement.name)
        changed = False
        for spec in requirement.specifier:
            if spec.operator in ("==", "===") and "*" not in spec.version:
                pins = self.pins.setdefault(name, set())
                changed |= spec.version not in pins
                pins.add(spec.version)
        known = self.extras.get(name)
        new_extras = {canonical_name(e) for e in requirement.extras}
        if known is None:
            self.extras[name] = new_extras
            return True
        if new_extras - known:
            known |= new_extras
            return True
        return changed

    def _followed(self, text: str, extras: frozenset[str]) -> Requirement | None:
        key = (text, extras)
        if key not in self._verdicts:
            try:
                requirement: Requirement | None = Requirement(text)
            except InvalidRequirement:
                requirement = None  # the resolver reports it; the crawl just skips it
            if requirement is not None and not marker_holds(requirement.marker, self.envs, extras):
                requirement = None
            self._verdicts[key] = requirement
        return self._verdicts[key]

    def follow(self, project: str, requires_dist: Iterable[str]) -> list[str]:
        """Dependencies of one release of ``project`` to follow, given the extras requested of
        it so far; returns the projects that need (re)visiting."""
        extras = frozenset(self.extras.get(project, ()))
        touched: list[str] = []
        for text in requires_dist:
            requirement = self._followed(text, extras)
            if requirement is not None and self.add_requirement(requirement):
                touched.append(canonical_name(requirement.name))
        return touched
