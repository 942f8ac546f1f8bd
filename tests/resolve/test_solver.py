"""The PubGrub solver on the in-memory provider: pub's classic cases, SEMANTICS C and D."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from packaging.version import Version

from resolve.policy.prerelease import PrereleaseMode, PrereleasePolicy
from resolve.report.derivation import render
from resolve.solver.incompatibility import Dependency, Derived
from resolve.solver.reporter import BaseReporter
from resolve.solver.solve import Dependencies, NoSolution, Unavailable, solve
from resolve.solver.versionset import VersionSet
from tests.resolve.memory import ROOT, MemoryProvider, Release

# Test data is written as literals; the provider validates its input.
Index = Mapping[str, Any]


def pins(index: Index, requires: Mapping[str, str], **options: Any) -> dict[str, str]:
    provider = MemoryProvider(index, requires, **options)
    return {name: str(version) for name, version in provider.solve().pins.items()}


def fails(index: Index, requires: Mapping[str, str], **options: Any) -> NoSolution:
    provider = MemoryProvider(index, requires, **options)
    with pytest.raises(NoSolution) as caught:
        provider.solve()
    return caught.value


# -- pub's documented examples (doc/solver.md) -----------------------------------------------


def test_no_conflicts() -> None:
    index: Index = {
        "foo": {"1.0.0": {"bar": ">=1.0.0,<2"}},
        "bar": {"1.0.0": {}, "2.0.0": {}},
    }
    assert pins(index, {"foo": ">=1.0.0,<2"}) == {"bar": "1.0.0", "foo": "1.0.0"}


def test_avoiding_conflict_during_decision_making() -> None:
    index: Index = {
        "foo": {"1.0.0": {}, "1.1.0": {"bar": ">=2.0.0,<3"}},
        "bar": {"1.0.0": {}, "1.1.0": {}, "2.0.0": {}},
    }
    requires = {"foo": ">=1.0.0,<2", "bar": ">=1.0.0,<2"}
    assert pins(index, requires) == {"bar": "1.1.0", "foo": "1.0.0"}


def test_performing_conflict_resolution() -> None:
    index: Index = {
        "foo": {"1.0.0": {}, "2.0.0": {"bar": ">=1.0.0,<2"}},
        "bar": {"1.0.0": {"foo": ">=1.0.0,<2"}},
    }
    assert pins(index, {"foo": ">=1.0.0"}) == {"foo": "1.0.0"}


# pub's partial-satisfier example: foo 1.1.0 is tried, conflicts, and is backed out of.
PARTIAL_SATISFIER: Index = {
    "foo": {"1.0.0": {}, "1.1.0": {"left": ">=1.0.0,<2", "right": ">=1.0.0,<2"}},
    "left": {"1.0.0": {"shared": ">=1.0.0"}},
    "right": {"1.0.0": {"shared": "<2.0.0"}},
    "shared": {"1.0.0": {"target": ">=1.0.0,<2"}, "2.0.0": {}},
    "target": {"1.0.0": {}, "2.0.0": {}},
}


def test_conflict_resolution_with_a_partial_satisfier() -> None:
    index = PARTIAL_SATISFIER
    requires = {"foo": ">=1.0.0,<2", "target": ">=2.0.0,<3"}
    assert pins(index, requires) == {"foo": "1.0.0", "target": "2.0.0"}


def test_linear_error_reporting() -> None:
    index: Index = {
        "foo": {"1.0.0": {"bar": ">=2.0.0,<3"}},
        "bar": {"2.0.0": {"baz": ">=3.0.0,<4"}},
        "baz": {"1.0.0": {}, "3.0.0": {}},
    }
    failure = fails(index, {"foo": ">=1.0.0,<2", "baz": ">=1.0.0,<2"})
    assert failure.root == ROOT
    assert not failure.incompatibility.terms or failure.incompatibility.terms[0].package == ROOT


def test_branching_error_reporting() -> None:
    index: Index = {
        "foo": {
            "1.0.0": {"a": ">=1.0.0,<2", "b": ">=1.0.0,<2"},
            "1.1.0": {"x": ">=1.0.0,<2", "y": ">=1.0.0,<2"},
        },
        "a": {"1.0.0": {"b": ">=2.0.0,<3"}},
        "b": {"1.0.0": {}, "2.0.0": {}},
        "x": {"1.0.0": {"y": ">=2.0.0,<3"}},
        "y": {"1.0.0": {}, "2.0.0": {}},
    }
    failure = fails(index, {"foo": ">=1.0.0,<2"})
    assert isinstance(failure.incompatibility.cause, Derived)


def test_backjumps_over_unrelated_decisions() -> None:
    # c's versions are all incompatible with a's; the solver must not enumerate b.
    index: Index = {
        "a": {"1.0": {"c": ">=2"}, "2.0": {"c": "<2"}},
        "b": {f"{i}.0": {} for i in range(1, 30)},
        "c": {"1.0": {"a": "<2"}, "2.0": {}},
    }
    assert pins(index, {"a": "", "b": "", "c": ""}) == {"a": "1.0", "b": "29.0", "c": "2.0"}


def test_merged_dependencies_rule_out_many_versions_at_once() -> None:
    index: Index = {
        "a": {f"1.{i}": {"b": ">=2"} for i in range(20)} | {"0.9": {}},
        "b": {"1.0": {}},
    }
    assert pins(index, {"a": ""}) == {"a": "0.9"}


# -- results, ordering and the provider contract ---------------------------------------------


def test_via_lists_who_required_each_package() -> None:
    index: Index = {
        "a": {"1.0": {"c": ""}},
        "b": {"1.0": {"c": ">=1"}},
        "c": {"1.0": {}},
    }
    result = MemoryProvider(index, {"a": "", "b": ""}).solve()
    assert dict(result.via) == {"a": (ROOT,), "b": (ROOT,), "c": ("a", "b")}
    assert list(result.pins) == ["a", "b", "c"]


def test_empty_requirements_resolve_to_nothing() -> None:
    assert pins({}, {}) == {}


def test_lowest_and_lowest_direct() -> None:
    index: Index = {
        "a": {"1.0": {"b": ">=1"}, "2.0": {"b": ">=1"}},
        "b": {"1.0": {}, "2.0": {}},
    }
    assert pins(index, {"a": ""}) == {"a": "2.0", "b": "2.0"}
    assert pins(index, {"a": ""}, resolution="lowest") == {"a": "1.0", "b": "1.0"}
    assert pins(index, {"a": ""}, resolution="lowest-direct") == {"a": "1.0", "b": "2.0"}


def test_preferences_from_a_lock_win_when_allowed() -> None:
    index: Index = {"a": {"1.0": {}, "2.0": {}, "3.0": {}}}
    assert pins(index, {"a": ""}, preferences={"a": "2.0"}) == {"a": "2.0"}
    assert pins(index, {"a": ">=3"}, preferences={"a": "2.0"}) == {"a": "3.0"}


def test_unavailable_versions_are_skipped() -> None:
    index: Index = {"a": {"1.0": {}, "2.0": Release(unavailable="metadata needs a build")}}
    assert pins(index, {"a": ""}) == {"a": "1.0"}
    failure = fails(index, {"a": ">=2"})
    assert isinstance(failure.incompatibility.cause, Derived)
    assert "a==2.0 is unavailable (metadata needs a build)" in render(failure)


def test_missing_package() -> None:
    failure = fails({}, {"ghost": ""})
    assert isinstance(failure.incompatibility.cause, Dependency)


def test_provider_choosing_outside_the_allowed_set_is_an_error() -> None:
    class Wrong(MemoryProvider):
        def choose(self, package: str, allowed: VersionSet) -> Version | None:
            return Version("9.9")

    with pytest.raises(ValueError, match="not allowed"):
        Wrong({"a": {"1.0": {}}}, {"a": ""}).solve()


def test_a_requirement_the_policy_admits_nothing_of_says_why() -> None:
    failure = fails({"a": {"1.0a1": {}}}, {"a": ""}, prerelease="disallow")
    cause = failure.incompatibility.cause
    assert cause == Dependency(
        ROOT, "a", "", "1.0a1 is a pre-release, not allowed by policy `disallow`"
    )


class _Plain:
    """A minimal provider over plain lists, with SpecifierSet-free requirements."""

    def __init__(
        self, versions: dict[str, list[str]], deps: dict[tuple[str, str], Dependencies]
    ) -> None:
        self._versions = versions
        self._deps = deps

    def versions(self, package: str) -> Sequence[Version]:
        return [Version(v) for v in self._versions[package]]

    def dependencies(self, package: str, version: Version) -> Dependencies | Unavailable:
        return self._deps.get((package, str(version)), {})

    def choose(self, package: str, allowed: VersionSet) -> Version | None:
        return allowed.highest()


def test_plain_provider_with_version_pins() -> None:
    provider = _Plain(
        {"a": ["1.0", "1.0+cpu"], "z": ["1.0", "2.0"]},
        {("root", "0"): {"a": Version("1.0+cpu"), "z": ""}, ("a", "1.0+cpu"): {}},
    )
    result = solve(provider, "root")
    assert {k: str(v) for k, v in result.pins.items()} == {"a": "1.0+cpu", "z": "2.0"}


def test_unavailable_root_dependency_reason() -> None:
    class NoWheels(_Plain):
        def dependencies(self, package: str, version: Version) -> Dependencies | Unavailable:
            if package == "root":
                return {"a": ""}
            return Unavailable("no wheel for the target")

    with pytest.raises(NoSolution) as caught:
        solve(NoWheels({"a": ["1.0"]}, {}), "root")
    assert "a==1.0 is unavailable (no wheel for the target)" in render(caught.value)


# -- extras as virtual packages -------------------------------------------------------------


def test_extra_pulls_its_requirements_and_pins_its_base() -> None:
    index: Index = {
        "a": {"1.0": Release(extras={"x": {"b": ">=1"}}), "2.0": Release()},
        "b": {"1.0": {}},
    }
    assert pins(index, {"a[x]": ""}) == {"a": "2.0", "a[x]": "2.0"}
    index["a"]["2.0"] = Release(extras={"x": {"b": ">=2"}})
    # a[x]==2.0 needs b>=2, which does not exist: both fall back to 1.0 together.
    assert pins(index, {"a[x]": ""}) == {"a": "1.0", "a[x]": "1.0", "b": "1.0"}


def test_extra_pin_keeps_the_local_label() -> None:
    index: Index = {
        "a": {"1.0+cpu": Release(extras={"x": {}}), "1.0+cu121": Release(extras={"x": {}})}
    }
    assert pins(index, {"a[x]": "==1.0"}) == {"a": "1.0+cu121", "a[x]": "1.0+cu121"}
    both = pins(index, {"a[x]": "==1.0", "a": "==1.0+cpu"})
    assert both == {"a": "1.0+cpu", "a[x]": "1.0+cpu"}


# -- SEMANTICS C: local versions ----------------------------------------------------------------


def test_c1_local_versions_match_a_plain_pin() -> None:
    assert pins({"a": {"1.2.3+bar": {}, "1.2.3+foo": {}}}, {"a": "==1.2.3"}) == {"a": "1.2.3+foo"}


def test_c2_a_pin_with_a_label_needs_that_label() -> None:
    index: Index = {"a": {"1.2.3": {}, "1.2.3+foo": {}, "1.2.3+foo.1": {}}}
    assert pins(index, {"a": "==1.2.3+foo"}) == {"a": "1.2.3+foo"}


@pytest.mark.parametrize(
    ("spec", "ok"),
    [
        (">1.2.3", False),
        ("<1.2.3", False),
        (">=1.2.3", True),
        ("<=1.2.3", True),
        ("==1.2.*", True),
        ("~=1.2", True),
        ("!=1.2.3", False),
        ("!=1.2.3+bar", True),
    ],
)
def test_c3_specifiers_against_a_local_version(spec: str, ok: bool) -> None:
    index: Index = {"a": {"1.2.3+foo": {}}}
    if ok:
        assert pins(index, {"a": spec}) == {"a": "1.2.3+foo"}
    else:
        fails(index, {"a": spec})


def test_c4_local_builds_depend_on_a_plain_pin() -> None:
    index: Index = {
        "torch": {"2.0.0+cu118": {}},
        "torchvision": {"0.15.1+cu118": {"torch": "==2.0.0"}},
    }
    requires = {"torch": "==2.0.0+cu118", "torchvision": "==0.15.1+cu118"}
    assert pins(index, requires) == {"torch": "2.0.0+cu118", "torchvision": "0.15.1+cu118"}


def test_c5_conflicting_labels_are_unsatisfiable() -> None:
    index: Index = {"a": {"1.0": {"b": "==2.0.0+bar"}}, "b": {"2.0.0+foo": {}, "2.0.0+bar": {}}}
    failure = fails(index, {"a": "", "b": "==2.0.0+foo"})
    assert "b==2.0.0+foo" in render(failure) and "b==2.0.0+bar" in render(failure)


def test_c6_numeric_labels_sort_highest() -> None:
    index: Index = {"a": {"1.0": {}, "1.0+abc": {}, "1.0+abc.1": {}, "1.0+1": {}}}
    assert pins(index, {"a": "==1.0"}) == {"a": "1.0+1"}


@pytest.mark.parametrize("resolution", ["highest", "lowest"])
def test_c7_an_unusable_plain_version_falls_back_to_a_local_one(resolution: str) -> None:
    index: Index = {"a": {"1.2.3": Release(unavailable="no wheel for the target"), "1.2.3+foo": {}}}
    assert pins(index, {"a": "==1.2.3"}, resolution=resolution) == {"a": "1.2.3+foo"}


def test_c8_less_than_excludes_dev_builds_of_that_version() -> None:
    index: Index = {"torch": {"2.2.0": {}, "2.3.0.dev20240219+cu121": {}}}
    assert pins(index, {"torch": "<2.3"}, prerelease="allow") == {"torch": "2.2.0"}


# -- SEMANTICS D: pre-releases (default if-necessary; ALT pep440) ------------------------------

D_CASES = [
    # (id, index, requires, options, expected, expected under pep440)
    ("D1", {"a": {"0.1.0": {}, "1.0.0a1": {}}}, {"a": ""}, {}, {"a": "0.1.0"}, None),
    ("D2", {"a": {"1.0.0a1": {}}}, {"a": ""}, {}, {"a": "1.0.0a1"}, None),
    ("D3", {"a": {"0.1.0": {}, "1.0.0a1": {}}}, {"a": ">0.1.0"}, {}, {"a": "1.0.0a1"}, None),
    (
        "D4",
        {"a": {"0.1.0": {}, "0.2.0a1": {}, "0.3.0": {}, "1.0.0a1": {}}},
        {"a": ">=0.1.0a1"},
        {},
        {"a": "0.3.0"},
        {"a": "1.0.0a1"},
    ),
    (
        "D5",
        {"a": {v: {} for v in ["0.1.0", "0.2.0", "0.2.0a1", "0.2.0a2", "0.2.0a3", "0.3.0"]}},
        {"a": "<0.2.0a2"},
        {},
        {"a": "0.1.0"},
        {"a": "0.2.0a1"},
    ),
    (
        "D6",
        {"a": {"0.1.0": {"b": ">0.1"}}, "b": {"0.1.0": {}, "1.0.0a1": {}}},
        {"a": ""},
        {},
        {"a": "0.1.0", "b": "1.0.0a1"},
        None,
    ),
    (
        "D7",
        {"a": {"0.1.0": {}, "0.2.0a1": {}, "0.3.0": {}}},
        {"a": "<0.2.0"},
        {"prerelease": "allow"},
        {"a": "0.1.0"},
        None,
    ),
    ("D8", {"a": {"1.0": {}, "2.0a2": {}}}, {"a": "!=2.0a1"}, {}, {"a": "1.0"}, None),
    (
        "D9",
        {"a": {"1.0": {"c": "==2.0.0b1"}}, "c": {"1.0": {}, "2.0.0b1": {}}},
        {"a": ""},
        {"prerelease": PrereleasePolicy(PrereleaseMode.DISALLOW, {"c": PrereleaseMode.ALLOW})},
        {"a": "1.0", "c": "2.0.0b1"},
        None,
    ),
    (
        "D10",
        {"a": {"0.1.0": {}, "1.0.0a1": {}}},
        {"a": ""},
        {"prerelease": "explicit"},
        {"a": "0.1.0"},
        None,
    ),
    (
        "D10b",
        {"a": {"0.1.0": {}, "1.0.0a1": {}}},
        {"a": ">=1.0.0a1"},
        {"prerelease": "explicit"},
        {"a": "1.0.0a1"},
        None,
    ),
]


@pytest.mark.parametrize(
    ("index", "requires", "options", "expected", "pep440"),
    [pytest.param(*case[1:], id=case[0]) for case in D_CASES],
)
def test_prerelease_scenarios(
    index: Index,
    requires: dict[str, str],
    options: dict[str, object],
    expected: dict[str, str],
    pep440: dict[str, str] | None,
) -> None:
    assert pins(index, requires, **options) == expected
    if "prerelease" not in options:
        assert pins(index, requires, prerelease="pep440") == (pep440 or expected)


def test_d9_disallow_rejects_the_beta_without_an_override() -> None:
    index: Index = {"a": {"1.0": {"c": "==2.0.0b1"}}, "c": {"1.0": {}, "2.0.0b1": {}}}
    failure = fails(index, {"a": ""}, prerelease="disallow")
    assert (
        "a==1.0 depends on c==2.0.0b1 which matches no versions the policy allows "
        "(2.0.0b1 is a pre-release, not allowed by policy `disallow`)"
    ) in render(failure)
    assert pins(index, {"a": ""}, prerelease="pep440") == {"a": "1.0", "c": "2.0.0b1"}


def test_explicit_only_opens_the_named_package() -> None:
    index: Index = {"a": {"1.0a1": {"b": ""}}, "b": {"1.0": {}, "2.0b1": {}}}
    assert pins(index, {"a": ">=1.0a1"}, prerelease="explicit") == {"a": "1.0a1", "b": "1.0"}
    assert pins(index, {"a": ">=1.0a1"}, prerelease="allow") == {"a": "1.0a1", "b": "2.0b1"}


class _Recorder(BaseReporter):
    def __init__(self) -> None:
        self.events: list[str] = []

    def starting(self) -> None:
        self.events.append("start")

    def deciding(self, package: str, version: Version, level: int) -> None:
        self.events.append(f"decide {package} {version}")

    def rejecting(self, package: str, version: Version, reason: str) -> None:
        self.events.append(f"reject {package} {version}")

    def backtracking(self, package: str, level: int) -> None:
        self.events.append(f"backtrack {package} to {level}")

    def ending(self, decisions: int, backtracks: int) -> None:
        self.events.append(f"end {decisions} {backtracks}")


def test_the_reporter_hears_decisions_backtracks_and_rejections() -> None:
    """pub's partial-satisfier example: foo 1.1.0 is tried, conflicts, and is backed out of."""
    index: Index = {
        **PARTIAL_SATISFIER,
        "broken": {"1.0": Release(unavailable="no wheel"), "0.9": {}},
    }
    recorder = _Recorder()
    provider = MemoryProvider(index, {"foo": ">=1.0.0,<2", "target": ">=2.0.0,<3", "broken": ""})
    solve(provider, ROOT, reporter=recorder)
    # Packages are decided in the order they were discovered (the root's requirements, by
    # name). The only shared that left and right both accept needs target<2, which the root
    # rules out: the conflict undoes every decision above the root's level, so broken and
    # target are decided again (broken 1.0 stays rejected: that was learned at the root's).
    assert recorder.events == [
        "start",
        "reject broken 1.0",
        "decide broken 0.9",
        "decide foo 1.1.0",
        "decide target 2.0.0",
        "decide left 1.0.0",
        "decide right 1.0.0",
        "backtrack shared to 1",
        "decide broken 0.9",
        "decide foo 1.0.0",
        "decide target 2.0.0",
        "end 9 1",  # eight decisions heard, and the root's
    ]
    # Without a reporter nothing changes in the answer.
    assert pins(index, {"foo": ">=1.0.0,<2", "target": ">=2.0.0,<3", "broken": ""}) == {
        "broken": "0.9",
        "foo": "1.0.0",
        "target": "2.0.0",
    }


def test_pep440_merges_every_specifier_on_a_package_as_pip_does() -> None:
    """A dependency naming a pre-release opens them for the package, as pip's merged
    specifier does; without it, a final release is preferred."""
    index: Index = {
        "a": {"1.0": {}, "2.0b1": {}},
        "b": {"1.0": {"a": ">=2.0b1"}},
    }
    assert pins(index, {"a": ">=1", "b": ""}, prerelease="pep440") == {"a": "2.0b1", "b": "1.0"}
    assert pins(index, {"a": ">=1"}, prerelease="pep440") == {"a": "1.0"}
    # The default policy is per requirement: the root's `a>=1` matches a stable release.
    assert "not allowed by policy `if-necessary`" in render(fails(index, {"a": ">=1", "b": ""}))
