"""Index precedence as a property (SEMANTICS.md §1): dependency-confusion safety.

Under ``first-index``, once a higher-priority index has a project, nothing a lower-priority
index publishes under that name can change a resolution: not newer versions, not versions
that would satisfy a conflict, not different dependencies. The snapshot provider runs on
in-memory snapshot records, so hypothesis can try many index contents quickly.
"""

from __future__ import annotations

from collections.abc import Mapping

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from db.index_config import IndexConfig
from db.read.snapshot_reader import PageRecord, ProjectRecord
from resolve.candidates.project import Target
from resolve.candidates.provider import Request, SnapshotProvider
from resolve.inputs.requirements import parse_requirement
from resolve.rules.model import IndexRule, IndexStrategy, RuleSet
from resolve.solver.incompatibility import NoSolution
from resolve.solver.names import ROOT
from resolve.solver.solve import solve
from resolve.targets.environment import TargetEnvironment
from tests.resolve.records import pure_wheel

INTERNAL = IndexConfig(
    1, "internal", "http://127.0.0.1:1/simple/", "simple", 0, False, False, (), None
)
PUBLIC = IndexConfig(2, "public", "http://127.0.0.1:2/simple/", "simple", 1, True, False, (), None)
RULES = RuleSet(
    indexes=(IndexRule(INTERNAL.name, INTERNAL.url), IndexRule(PUBLIC.name, PUBLIC.url, True))
)
TARGET = Target(TargetEnvironment.create("3.12", "x86_64-manylinux_2_28"))
NAMES = ["p0", "p1", "p2", "p3"]
VERSIONS = ["0.9", "1.0", "1.1", "2.0a1", "2.0", "3.0", "99.0"]
SPECS = ["", ">=1.0", "<2", "==1.0", "!=1.1", ">=2", "~=1.0", ">=99"]

# {index name: {project: {version: [requirement, …]}}}
Snapshot = dict[str, dict[str, dict[str, list[str]]]]


def _loader(snapshot: Snapshot) -> object:
    def load(name: str) -> ProjectRecord:
        pages = []
        for config in (INTERNAL, PUBLIC):
            versions = snapshot[config.name].get(name)
            releases = sorted((versions or {}).items())
            files = tuple(pure_wheel(name, v, reqs, config.name) for v, reqs in releases)
            pages.append(
                PageRecord(config, 200 if versions is not None else 404, False, None, files)
            )
        return ProjectRecord(name, True, tuple(pages))

    return load


def _resolve(snapshot: Snapshot, root: list[str], strategy: IndexStrategy) -> object:
    rules = RULES.with_changes(strategy=strategy)
    request = Request(tuple(parse_requirement(r).requirement for r in root))
    provider = SnapshotProvider(_loader(snapshot), rules, TARGET, request)  # type: ignore[arg-type]
    try:
        result = solve(provider, ROOT)
    except NoSolution:
        return "no solution"
    return {
        name: (str(version), provider.project(name).versions[version].index.name)
        for name, version in result.pins.items()
    }


@st.composite
def releases(draw: st.DrawFn, name: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    later = NAMES[NAMES.index(name) + 1 :]
    for version in draw(st.lists(st.sampled_from(VERSIONS), min_size=0, max_size=3)):
        requires = []
        if later:
            for _ in range(draw(st.integers(0, 2))):
                requires.append(draw(st.sampled_from(later)) + draw(st.sampled_from(SPECS)))
        found[version] = requires
    return found


@st.composite
def snapshots(draw: st.DrawFn) -> tuple[Snapshot, list[str], str, dict[str, list[str]]]:
    snapshot: Snapshot = {"internal": {}, "public": {}}
    for name in NAMES:
        if draw(st.booleans()):
            snapshot["internal"][name] = draw(releases(name))
        if draw(st.booleans()):
            snapshot["public"][name] = draw(releases(name))
    root = [
        n + draw(st.sampled_from(SPECS))
        for n in draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=2, unique=True))
    ]
    # The attacker's upload: a project the internal index already has, with anything in it.
    shadowed = sorted(snapshot["internal"]) or ["p0"]
    target = draw(st.sampled_from(shadowed))
    upload = draw(releases(target))
    upload[draw(st.sampled_from(VERSIONS))] = []
    return snapshot, root, target, upload


def _with_upload(snapshot: Snapshot, target: str, upload: Mapping[str, list[str]]) -> Snapshot:
    public = dict(snapshot["public"])
    public[target] = {**public.get(target, {}), **upload}
    return {"internal": snapshot["internal"], "public": public}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snapshots())
def test_first_index_ignores_what_a_later_index_adds(
    case: tuple[Snapshot, list[str], str, dict[str, list[str]]],
) -> None:
    snapshot, root, target, upload = case
    if target not in snapshot["internal"]:
        snapshot["internal"][target] = {}
    before = _resolve(snapshot, root, IndexStrategy.FIRST_INDEX)
    after = _resolve(_with_upload(snapshot, target, upload), root, IndexStrategy.FIRST_INDEX)
    assert after == before


def test_the_same_upload_does_change_a_merged_resolution() -> None:
    """The property is not vacuous: under unsafe-best-match the upload wins."""
    snapshot: Snapshot = {"internal": {"p0": {"1.0": []}}, "public": {}}
    upload = {"99.0": []}
    assert _resolve(snapshot, ["p0"], IndexStrategy.FIRST_INDEX) == {"p0": ("1.0", "internal")}
    shadowed = _with_upload(snapshot, "p0", upload)
    assert _resolve(shadowed, ["p0"], IndexStrategy.FIRST_INDEX) == {"p0": ("1.0", "internal")}
    assert _resolve(shadowed, ["p0"], IndexStrategy.UNSAFE_BEST_MATCH) == {"p0": ("99.0", "public")}
