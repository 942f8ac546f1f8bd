"""Resolution scenarios as data: TOML files → fixture indexes → ``mirror sync`` → ``resolve``.

One file per scenario (SEMANTICS.md §6): the indexes and their projects, optional stored
rules, and one or more cases (requirements, options, expected pins with their origin index,
or an expected failure with text the report and the ``hint:`` lines must contain). Every
case runs the real path: real wheels and sdists served on 127.0.0.1, a real sync into a
real database, then the real ``resolve`` command with the network unused.

Format::

    description = "C1: == without a label ignores the candidate's label"
    target = ["--python-version", "3.12", "--python-platform", "x86_64-manylinux_2_28"]

    [[index]]
    name = "pypi"
    flags = ["--default"]            # `mirror index add` options
    format = "json"                  # or "html" (no upload times, like many mirrors)

    [[index.project]]
    name = "a"
    versions = ["1.2.3+bar", "1.2.3+foo"]
    deps = ["b>=1"]                  # every version; or a table {"1.0" = ["b"]}
    status = 403                     # the page answers this instead
    padding = 64                     # other bytes, so other hashes, for the same release

    [[index.project.file]]           # full control over one file
    version = "1.0"
    tag = "cp312-cp312-manylinux_2_17_x86_64"   # or sdist = true
    yanked = "broken"
    requires_python = ">=3.10"
    upload_time = "2024-06-01T00:00:00Z"
    deps = ["c==2"]
    dynamic = true                   # sdist metadata needs a build

    [[case]]
    requirements = ["a==1.2.3"]
    options = ["--prerelease", "allow"]
    expect = { a = "1.2.3+foo" }     # exactly these pins
    lock = ["a==1 ; python_version < '3.10'", "a==2 ; python_version >= '3.10'"]
                                     # or exactly these entries (a universal lock)
    origin = { a = "pypi" }          # and these origin indexes
    # or: error = true, report = ["…"], hints = ["…"]; warnings = ["…"]
"""

from __future__ import annotations

import contextlib
import json
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from tests.conftest import Mirror
from tests.fixtures.dists import build_sdist, build_wheel
from tests.fixtures.index_model import FixtureIndex, FixtureProject
from tests.fixtures.index_server import serve_in_thread

__all__ = ["Case", "Scenario", "load_scenarios", "prepare", "run_resolve"]

HERE = Path(__file__).parent
DEFAULT_TARGET = ("--python-version", "3.12", "--python-platform", "x86_64-manylinux_2_28")


@dataclass(frozen=True)
class Case:
    requirements: tuple[str, ...]
    options: tuple[str, ...] = ()
    expect: Mapping[str, str] | None = None
    origin: Mapping[str, str] = field(default_factory=dict)
    error: bool = False
    code: int = 0  # the exit code: 1 for an error unless the scenario says (4: incomplete)
    report: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()  # text the output must not contain
    warnings: tuple[str, ...] = ()
    files: Mapping[str, str] = field(default_factory=dict)  # extra input files
    # A universal lock's entries, exactly: "name==version" or "name==version ; marker".
    lock: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Scenario:
    path: Path
    data: Mapping[str, Any]

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def cases(self) -> list[Case]:
        cases = []
        for raw in self.data.get("case", []):
            cases.append(
                Case(
                    requirements=tuple(raw.get("requirements", ())),
                    options=tuple(raw.get("options", ())),
                    expect=raw.get("expect"),
                    origin=raw.get("origin", {}),
                    error=bool(raw.get("error", False)),
                    code=int(raw.get("code", 1 if raw.get("error") else 0)),
                    report=tuple(raw.get("report", ())),
                    hints=tuple(raw.get("hints", ())),
                    absent=tuple(raw.get("absent", ())),
                    warnings=tuple(raw.get("warnings", ())),
                    files=raw.get("files", {}),
                    lock=tuple(raw["lock"]) if "lock" in raw else None,
                )
            )
        return cases

    @property
    def target(self) -> tuple[str, ...]:
        return tuple(self.data.get("target", DEFAULT_TARGET))


def load_scenarios(*sections: str) -> list[Scenario]:
    found = []
    for path in sorted(HERE.glob("*.toml")):
        if not sections or path.stem.rstrip("0123456789") in sections:
            found.append(Scenario(path, tomllib.loads(path.read_text())))
    return found


def _project(index: FixtureIndex, raw: Mapping[str, Any], html: bool) -> FixtureProject:
    name = raw["name"]
    project = index.add_project(name, format="html" if html else "negotiate")
    if "status" in raw:
        project.status = int(raw["status"])
    deps = raw.get("deps", [])
    files = list(raw.get("file", []))
    for version in raw.get("versions", []):
        files.append({"version": version})
    for spec in files:
        version = spec["version"]
        requires = spec.get("deps", deps.get(version, []) if isinstance(deps, dict) else deps)
        requires_python = spec.get("requires_python", raw.get("requires_python"))
        extras = spec.get("extras", raw.get("extras", []))
        if spec.get("sdist"):
            built = build_sdist(
                name,
                version,
                requires_dist=requires,
                requires_python=requires_python,
                provides_extra=extras,
                dynamic=["Requires-Dist"] if spec.get("dynamic") else (),
            )
        else:
            built = build_wheel(
                name,
                version,
                tag=spec.get("tag", raw.get("tag", "py3-none-any")),
                requires_dist=requires,
                requires_python=requires_python,
                provides_extra=extras,
                padding=int(spec.get("padding", raw.get("padding", 0))),
            )
        options: dict[str, Any] = {"version": version, "requires_python": requires_python}
        if "yanked" in spec:
            options["yanked"] = spec["yanked"]
        if "upload_time" in spec:
            options["upload_time"] = spec["upload_time"]
        project.add(built, **options)
    return project


def prepare(scenario: Scenario, mirror: Mirror) -> None:
    """Serve the scenario's indexes, configure them, apply its rules, and sync everything."""
    indexes: list[tuple[Mapping[str, Any], FixtureIndex]] = []
    projects: set[str] = set(scenario.data.get("sync", []))
    for raw in scenario.data.get("index", []):
        index = FixtureIndex()
        for project in raw.get("project", []):
            _project(index, project, raw.get("format") == "html")
            projects.add(project["name"])
        indexes.append((raw, index))
    with _served([index for _, index in indexes]) as urls:
        for (raw, _), url in zip(indexes, urls, strict=True):
            mirror.add_index(raw["name"], url, *raw.get("flags", ()))
        for rule in scenario.data.get("rules", []):
            mirror.run("rules", *rule)
        code = int(scenario.data.get("sync_code", 0))
        mirror.sync(*sorted(projects), "--versions", "all", "--quiet", code=code)


@contextlib.contextmanager
def _served(indexes: list[FixtureIndex]) -> Iterator[list[str]]:
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(serve_in_thread(index)) for index in indexes]


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def pins(self) -> dict[str, str]:
        return {p["name"]: p["version"] for p in json.loads(self.stdout)["packages"]}

    @property
    def entries(self) -> list[str]:
        found = []
        for p in json.loads(self.stdout)["packages"]:
            marker = p.get("marker")
            found.append(f"{p['name']}=={p['version']}" + (f" ; {marker}" if marker else ""))
        return sorted(found)

    @property
    def origins(self) -> dict[str, str]:
        return {p["name"]: p["index"]["name"] for p in json.loads(self.stdout)["packages"]}


def run_resolve(mirror: Mirror, *args: str, env: Mapping[str, str | None] | None = None) -> Outcome:
    from resolve.cli import command

    result = CliRunner().invoke(
        command, ["--db", str(mirror.db), *args], env={**mirror.env, **(env or {})}
    )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Outcome(result.exit_code, result.stdout, result.stderr)
