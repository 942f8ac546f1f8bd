"""``hint:`` lines for a failed resolution, in terms of the user's snapshot and rules.

The derivation tree says *what* conflicts; hints say what the snapshot and the rules did
about the packages involved, and the command that would change it: the ``mirror sync`` that
fetches what the snapshot lacks, the index that failed at sync time, the strategy or pin
that kept a version out, a yanked or pre-release version, a cutoff (DESIGN.md "The resolver").
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence

from packaging.utils import canonicalize_name
from packaging.version import Version

from db.versions import version_sort_key
from resolve.candidates.project import INCOMPLETE, QUARANTINED, ProjectCandidates, Reason
from resolve.inputs.requirements import InputRequirement
from resolve.policy.prerelease import PrereleaseMode
from resolve.rules.model import RuleSet
from resolve.solver.incompatibility import Dependency, Derived, Incompatibility
from resolve.solver.names import ROOT, split_extra

__all__ = [
    "failure_hints",
    "incomplete_hint",
    "involved_packages",
    "missing_data",
    "sync_command",
]

_LISTED = 5


def involved_packages(top: Incompatibility) -> list[str]:
    """The real (base) packages named anywhere in a derivation tree, sorted."""
    seen: set[int] = set()
    names: set[str] = set()
    stack = [top]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        names.update(split_extra(t.package)[0] for t in node.terms)
        if isinstance(node.cause, Dependency):  # may have only the depender's term
            names.add(split_extra(node.cause.dependency)[0])
        if isinstance(node.cause, Derived):
            stack += (node.cause.conflict, node.cause.other)
    names.discard(ROOT)
    return sorted(names)


def failure_hints(
    packages: Iterable[str],
    projects: dict[str, ProjectCandidates],
    rules: RuleSet,
    policy_mode: dict[str, PrereleaseMode],
    *,
    markers: Mapping[str, str],
    needed_metadata: Collection[tuple[str, str]] | None = None,
    roots: Sequence[InputRequirement] = (),
    constraints: Sequence[InputRequirement] = (),
    target_flags: Sequence[str] = (),
) -> list[str]:
    """Hints for ``packages`` (as :func:`involved_packages` lists them), in that order.

    ``needed_metadata`` is the (project, version) pairs whose missing core metadata the solver
    ran into; when given, the ``mirror sync`` hint names those only, not every old version
    that a ``--versions latest:N`` sync left without metadata. ``roots`` are the requirements
    resolved and ``target_flags`` the target's options, for the ``mirror sync`` commands (see
    :func:`sync_command`); ``markers`` the target's marker values, for pins with markers.
    ``constraints`` from files are named where they limit an involved package (a lock given
    as ``-c`` pins every package it holds).
    """
    hints: list[str] = list(_constraint_hints(packages, constraints))
    missing: list[str] = []
    for name in packages:
        project = projects.get(name)
        if project is None:
            continue
        for problem in project.problems:
            if problem.kind == "not-in-snapshot":
                missing.append(name)
            else:
                command = sync_command(roots, [name], target_flags)
                hints.append(
                    _problem_hint(name, problem.kind, problem.index, problem.detail, command)
                )
        hints.extend(_index_hints(project, rules, markers))
        hints.extend(_version_hints(project, rules))
        mode = policy_mode.get(name)
        if mode is not None:
            hints.extend(_prerelease_hint(project, mode))
    pins = sorted(
        {
            f"{name}=={version}"
            for name in packages
            if (project := projects.get(name)) is not None
            for version, c in project.versions.items()
            if c.unavailable is not None
            and c.unavailable[0] is Reason.METADATA_MISSING
            and (needed_metadata is None or (name, str(version)) in needed_metadata)
        }
    )
    if missing or pins:
        what = " and ".join(
            part
            for part in (
                ", ".join(missing) + (" not in the snapshot" if missing else ""),
                ("core metadata of " + ", ".join(pins)) if pins else "",
            )
            if part
        )
        command = sync_command(roots, [*missing, *pins], target_flags)
        hints.insert(0, f"{what}: fetch with `{command}`")
    return hints


def missing_data(
    projects: dict[str, ProjectCandidates],
    missing_projects: Collection[str],
    missing_metadata: Collection[tuple[str, str]],
) -> list[str]:
    """What the snapshot lacked, one phrase each: the projects (and why), then the versions
    whose core metadata it lacks, sorted so the report and the lock header are stable."""
    phrases: list[str] = []
    for name in sorted(missing_projects):
        project = projects.get(name)
        problems = project.problems if project is not None else ()
        problem = next((p for p in problems if p.kind in INCOMPLETE), None)
        if problem is None or problem.kind == "not-in-snapshot":
            phrases.append(f"{name} (not in the snapshot)")
        elif problem.kind == "not-synced":
            phrases.append(f"{name} (index {problem.index} was not asked about it)")
        else:
            phrases.append(f"{name} (index {problem.index} failed at sync time: {problem.detail})")
    ordered = sorted(missing_metadata, key=lambda p: (p[0], version_sort_key(p[1])))
    if ordered:
        phrases.append("core metadata of " + ", ".join(f"{n}=={v}" for n, v in ordered))
    return phrases


def incomplete_hint(
    roots: Sequence[InputRequirement],
    missing_projects: Collection[str],
    missing_metadata: Collection[tuple[str, str]],
    target_flags: Sequence[str],
) -> str:
    """The ``hint:`` of an incomplete snapshot: the sync that fetches what it lacks, and the
    opt-out (SEMANTICS §7)."""
    ordered = sorted(missing_metadata, key=lambda p: (p[0], version_sort_key(p[1])))
    pins = [f"{n}=={v}" for n, v in ordered]
    command = sync_command(roots, [*sorted(missing_projects), *pins], target_flags)
    return (
        f"fetch it with `{command}`, then resolve again; or pass --allow-incomplete to "
        "resolve as if the missing data did not exist"
    )


def sync_command(
    roots: Sequence[InputRequirement], wanted: Iterable[str], target_flags: Sequence[str] = ()
) -> str:
    """The ``mirror sync`` that fetches ``wanted`` (project names, ``name==version`` pins).

    A snapshot holds only what its own sync fetched, and ``resolve`` reads the newest one, so
    syncing ``wanted`` alone would leave out everything else the resolution needs: the command
    also names the requirements (their files as ``-r FILE``) and follows their dependencies
    with ``--closure`` (MIRROR.md "Sync behaviour") for the same target (``target_flags``,
    ``--python-version`` and ``--python-platform`` as given to ``resolve``): without them
    the closure would be worked out for another interpreter and miss what this one needs.
    """
    words: list[str] = []
    named: set[str] = set()
    for root in roots:
        source = root.source
        named.add(canonicalize_name(root.requirement.name))
        if source.path is not None and source.section is None:  # a requirements file
            include = ["-r", str(source.path)]
            if not any(words[i : i + 2] == include for i in range(len(words) - 1)):
                words += include
        else:
            words.append(str(root.requirement))
    words += [w for w in dict.fromkeys(wanted) if w not in named and w not in words]
    closure = ["--closure"] if roots else []
    return shlex.join(["mirror", "sync", *words, *closure, *target_flags])


def _constraint_hints(
    packages: Iterable[str], constraints: Sequence[InputRequirement]
) -> Iterator[str]:
    involved = set(packages)
    for constraint in constraints:
        name = canonicalize_name(constraint.requirement.name)
        if name in involved and constraint.source.path is not None:
            yield (
                f"{name} is constrained to {constraint.requirement.specifier} by "
                f"{constraint.source} (-c): change or drop that constraint to let it move"
            )


def _problem_hint(name: str, kind: str, index: str | None, detail: str, command: str) -> str:
    if kind == "not-synced":
        return (
            f"index {index} was not asked about {name} when this snapshot was made: run `{command}`"
        )
    if kind == "failed":
        return (
            f"index {index} failed for {name} at sync time ({detail}); a failed page never "
            f"lets a later index supply the project: sync again with `{command}`"
        )
    status = detail.removeprefix("HTTP ")
    # The variables `mirror sync` reads (mirror/auth.py): every character of the index name
    # outside A-Z0-9 becomes "_".
    variable = "SNEAKERNET_INDEX_" + re.sub(r"[^A-Z0-9]", "_", (index or "").upper())
    return (
        f"index {index} refused {name} ({detail}): check its credentials (netrc, or "
        f"{variable}_USERNAME and _PASSWORD) "
        f"and sync again; if the index answers {status} for projects it does not host, "
        f"say so with `mirror rules set index.{index}.not-here {status}`"
    )


def _index_hints(
    project: ProjectCandidates, rules: RuleSet, markers: Mapping[str, str]
) -> Iterator[str]:
    name = project.name
    for status in project.statuses:
        if status.status == QUARANTINED:
            why = f" ({status.reason})" if status.reason else ""
            yield (
                f"{name} is quarantined on index {status.index}{why}: its files are not used "
                "(PEP 792); require another project, or wait until the index lifts it"
            )
    if not project.versions and not project.problems and project.supplying:
        yield f"index {project.supplying[0]} lists {name} but offers no usable files for it"
    if not project.supplying and project.not_here and not project.problems:
        answers = ", ".join(f"{i}: {s}" for i, s in sorted(project.not_here.items()))
        yield f"{name} was not found on any index the rules allow ({answers})"
    by_reason: dict[tuple[Reason, str], list[str]] = {}
    for exclusion in project.excluded:
        if exclusion.reason in (Reason.STRATEGY, Reason.PIN):
            by_reason.setdefault((exclusion.reason, exclusion.index), []).append(exclusion.version)
    for (reason, index), versions in sorted(by_reason.items()):
        listed = _versions(versions)
        if reason is Reason.STRATEGY:
            if project.supplying:
                yield (
                    f"{name} was found on index {project.supplying[0]}, so strategy "
                    f"{rules.strategy} does not consult index {index}, which has {name} "
                    f"{listed}; `--index-strategy unsafe-first-match` would use it"
                )
            elif refused := [
                p
                for p in project.problems
                if p.kind == "refused" and p.detail in ("HTTP 401", "HTTP 403")
            ]:
                # The unsafe strategies pass over a 401/403 (SEMANTICS A13), never over a
                # failed page (A21) or another status: those have their own hint above.
                yield (
                    f"index {index} has {name} {listed}, but the search stopped when index "
                    f"{refused[0].index} refused it; `--index-strategy unsafe-first-match` "
                    "would pass over the refusal"
                )
            continue
        pin = rules.pin_for(name, markers)  # the target's markers, never this machine's
        rule = rules.index(index)
        if pin is not None:
            yield (
                f"{name} {listed} {_exist(versions)} on index {index}, which the pin "
                f"`{pin.glob}` excludes (it allows {', '.join(pin.indexes)})"
            )
        elif rule is not None and rule.explicit:
            yield (
                f"{name} {listed} {_exist(versions)} on index {index}, which is explicit: "
                f"only pinned packages come from it; pin it too: "
                f"`mirror rules pin '{name}' {index}`"
            )


def _version_hints(project: ProjectCandidates, rules: RuleSet) -> Iterator[str]:
    name = project.name
    grouped: dict[Reason, list[tuple[Version, str]]] = {}
    for version, candidate in project.versions.items():
        if candidate.unavailable is not None:
            grouped.setdefault(candidate.unavailable[0], []).append(
                (version, candidate.unavailable[1])
            )
        elif candidate.yanked is not None:
            grouped.setdefault(Reason.YANKED, []).append((version, candidate.yanked))
    for version, reason in grouped.get(Reason.YANKED, []):
        why = f" ({reason})" if reason else ""
        yield (
            f"{name} {version} is yanked{why}; pin it exactly (`{name}=={version}`) "
            "to use it anyway"
        )
    if needs_build := grouped.get(Reason.NEEDS_BUILD):
        yield (
            f"{name} {_versions(str(v) for v, _ in needs_build)}: only sdists whose metadata "
            "needs a build; `mirror sync` builds it unless --no-build (its report says why a "
            "build failed)"
        )
    if no_time := grouped.get(Reason.NO_UPLOAD_TIME):
        index = project.versions[no_time[0][0]].index.name
        yield (
            f"{name} {_versions(str(v) for v, _ in no_time)} on index {index} has no upload "
            f"time, so the cutoff hides it; opt out with `--exclude-newer-package {name}=false` "
            f"or `mirror rules set index.{index}.exclude-newer false`"
        )
    if no_wheel := grouped.get(Reason.NO_WHEEL):
        yield (
            f"{name} {_versions(str(v) for v, _ in no_wheel)}: {no_wheel[0][1]} "
            f"on index {project.versions[no_wheel[0][0]].index.name}"
        )


def _prerelease_hint(project: ProjectCandidates, mode: PrereleaseMode) -> Iterator[str]:
    if mode not in (PrereleaseMode.DISALLOW, PrereleaseMode.EXPLICIT):
        return
    pre = [str(v) for v, c in project.versions.items() if v.is_prerelease and not c.unavailable]
    if pre:
        yield (
            f"{project.name} has pre-releases ({_versions(pre)}) that the pre-release mode "
            f"`{mode}` excludes; allow them with `--prerelease-package {project.name}=allow`"
        )


def _exist(versions: Iterable[str]) -> str:
    return "exists" if len(set(versions)) == 1 else "exist"


def _versions(versions: Iterable[str]) -> str:
    unique = sorted(set(versions), key=version_sort_key)
    if len(unique) > _LISTED:
        return ", ".join(unique[-_LISTED:]) + f" and {len(unique) - _LISTED} older"
    return ", ".join(unique)
