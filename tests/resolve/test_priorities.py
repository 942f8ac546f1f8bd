"""The order in which the solver decides packages (uv's): the root, then exact pins, then
packages promoted or demoted by conflicts, then discovery order; an extra with its base."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from packaging.version import Version

from resolve.solver.priority import CONFLICT_THRESHOLD
from resolve.solver.reporter import BaseReporter
from resolve.solver.solve import solve
from resolve.solver.versionset import VersionSet
from tests.resolve.memory import ROOT, MemoryProvider, Release


class _Order(BaseReporter):
    def __init__(self) -> None:
        self.events: list[str] = []

    def deciding(self, package: str, version: Version, level: int) -> None:
        self.events.append(f"{package} {version}")

    def backtracking(self, package: str, level: int) -> None:
        self.events.append(f"back {package}")


def decided(index: Mapping[str, Any], requires: Mapping[str, str]) -> list[str]:
    order = _Order()
    solve(MemoryProvider(index, requires), ROOT, reporter=order)
    return order.events


def test_packages_are_decided_in_discovery_order_not_by_candidate_count() -> None:
    index = {
        "a": {"1.0": {"y": ""}, "2.0": {"y": ""}, "3.0": {"y": ""}},
        "z": {"1.0": {"b": ""}, "2.0": {"b": ""}, "3.0": {"b": ""}},
        "y": {"1.0": {}},
        "b": {"1.0": {}},
    }
    # The root's requirements first (in name order), then what each decision discovered;
    # fewest candidates first would have decided y and b before z.
    assert decided(index, {"z": "", "a": ""}) == ["a 3.0", "z 3.0", "y 1.0", "b 1.0"]


def test_a_package_pinned_to_one_version_is_decided_first() -> None:
    index = {"b": {"1.0": {}, "2.0": {}}, "c": {"1.0": {}, "2.0": {}}}
    assert decided(index, {"b": "", "c": "==1.0"}) == ["c 1.0", "b 2.0"]


class _CountingChoices(MemoryProvider):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices: dict[str, int] = {}

    def choose(self, package: str, allowed: VersionSet) -> Version | None:
        self.choices[package] = self.choices.get(package, 0) + 1
        return super().choose(package, allowed)


def test_an_extra_takes_its_base_version_without_walking_down() -> None:
    versions = [f"{n}.0" for n in range(1, 4001)]
    index = {
        "a": {v: Release(extras={"x": {}}) for v in versions},
        "b": {"1.0": {"a[x]": ""}},
    }
    provider = _CountingChoices(index, {"a": "<2", "b": ""})
    result = solve(provider, ROOT)
    assert str(result.pins["a"]) == str(result.pins["a[x]"]) == "1.0"
    # a is decided at 1.0 before b discovers a[x]; a[x] is never offered 4000.0, 3999.0, …
    assert "a[x]" not in provider.choices


def test_a_frequent_culprit_is_demoted_and_its_decision_undone() -> None:
    """x is discovered (through a) before b (through c), so x is decided first, at its newest
    version; every b but the oldest needs an older x. Each b is rejected in turn because of
    x: after CONFLICT_THRESHOLD of them x is demoted and its decision undone, b (promoted)
    chooses first and keeps its newest version, and x takes one b accepts (as uv resolves
    it). Without the statistics b would walk down to 1.0."""
    count = CONFLICT_THRESHOLD + 3
    index = {
        "a": {"1.0": {"x": ""}},
        "c": {"1.0": {"b": ""}},
        "b": {f"{n}.0": ({"x": "<=2"} if n > 1 else {}) for n in range(1, count + 1)},
        "x": {"1": {}, "2": {}, "3": {}},
    }
    events = decided(index, {"a": "", "c": ""})
    assert events == ["a 1.0", "c 1.0", "x 3", "back x", f"b {count}.0", "x 2"]
    result = MemoryProvider(index, {"a": "", "c": ""}).solve().pins
    assert {k: str(v) for k, v in result.items()} == {
        "a": "1.0",
        "b": f"{count}.0",
        "c": "1.0",
        "x": "2",
    }
