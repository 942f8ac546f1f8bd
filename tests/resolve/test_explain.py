"""Failure reports: pub/uv-style sentences from the derivation tree, hints kept apart."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Mapping
from typing import Any

import pytest
from packaging.version import Version

from resolve.report.derivation import render
from resolve.report.version_text import describe
from resolve.solver.solve import NoSolution
from resolve.solver.versionset import Universe, VersionSet
from tests.resolve.memory import ROOT, MemoryProvider, Release, split_extra


def failure(index: Mapping[str, Any], requires: dict[str, str]) -> NoSolution:
    with pytest.raises(NoSolution) as caught:
        MemoryProvider(index, requires).solve()
    return caught.value


def test_describe_reads_ranges_off_the_candidate_list() -> None:
    u = Universe(Version(v) for v in ["0.9", "1.0", "1.5", "2.0", "3.0"])

    def d(*picked: str) -> str:
        return describe(VersionSet.of(u, [Version(v) for v in picked]))

    assert d("0.9", "1.0", "1.5", "2.0", "3.0") == ""
    assert d("1.0") == "==1.0"
    assert d("0.9", "1.0") == "<1.5"
    assert d("2.0", "3.0") == ">=2.0"
    assert d("1.0", "1.5") == ">=1.0,<2.0"
    assert d("0.9", "1.0", "2.0", "3.0") == "!=1.5"
    assert d("0.9", "2.0") == "==0.9 | ==2.0"
    assert d("0.9", "1.0", "3.0") == "<1.5 | ==3.0"
    assert d() == " (no versions)"
    single = Universe([Version("1.0")])
    assert describe(VersionSet.full(single)) == "==1.0"


def test_linear_report() -> None:
    index = {
        "foo": {"1.0.0": {"bar": ">=2.0.0,<3"}},
        "bar": {"2.0.0": {"baz": ">=3.0.0,<4"}},
        "baz": {"1.0.0": {}, "3.0.0": {}},
    }
    assert render(failure(index, {"foo": ">=1.0.0,<2", "baz": ">=1.0.0,<2"})) == (
        "Because foo==1.0.0 depends on bar>=2.0.0,<3 which depends on baz>=3.0.0,<4,"
        " foo==1.0.0 depends on baz==3.0.0.\n"
        "And because you require both baz>=1.0.0,<2 and foo>=1.0.0,<2,"
        " we can conclude that your requirements are unsatisfiable."
    )


def test_branching_report_numbers_the_shared_line() -> None:
    index = {
        "foo": {
            "1.0.0": {"a": ">=1.0.0,<2", "b": ">=1.0.0,<2"},
            "1.1.0": {"x": ">=1.0.0,<2", "y": ">=1.0.0,<2"},
        },
        "a": {"1.0.0": {"b": ">=2.0.0,<3"}},
        "b": {"1.0.0": {}, "2.0.0": {}},
        "x": {"1.0.0": {"y": ">=2.0.0,<3"}},
        "y": {"1.0.0": {}, "2.0.0": {}},
    }
    assert render(failure(index, {"foo": ">=1.0.0,<2"})).splitlines() == [
        "    Because foo==1.0.0 depends on a>=1.0.0,<2 which depends on b>=2.0.0,<3,"
        " foo==1.0.0 depends on b==2.0.0.",
        "(1) And because foo==1.0.0 depends on b>=1.0.0,<2, foo==1.0.0 cannot be used.",
        "",
        "    Because foo==1.1.0 depends on x>=1.0.0,<2 which depends on y>=2.0.0,<3,"
        " foo==1.1.0 depends on y==2.0.0.",
        "    And because foo==1.1.0 depends on y>=1.0.0,<2, foo==1.1.0 cannot be used.",
        "    And because foo==1.0.0 cannot be used (1), all versions of foo cannot be used.",
        "    And because you require foo>=1.0.0,<2,"
        " we can conclude that your requirements are unsatisfiable.",
    ]


def test_c5_report() -> None:
    index = {"a": {"1.0": {"b": "==2.0.0+bar"}}, "b": {"2.0.0+foo": {}, "2.0.0+bar": {}}}
    assert render(failure(index, {"a": "", "b": "==2.0.0+foo"})) == (
        "Because you require a which depends on b==2.0.0+bar, you require b==2.0.0+bar.\n"
        "And because you require b==2.0.0+foo,"
        " we can conclude that your requirements are unsatisfiable."
    )


def test_no_matching_versions_and_unavailable_reasons() -> None:
    index = {
        "a": {
            "0.9": Release(unavailable="metadata needs a build"),
            "1.0": {"b": ">=2"},
            "1.1": {"b": ">=2"},
        },
        "b": {"1.0": {}},
    }
    assert render(failure(index, {"a": ""})) == (
        "Because a==0.9 is unavailable (metadata needs a build) and a>=1.0 depends on b>=2"
        " which matches no versions, all versions of a cannot be used.\n"
        "And because you require a, we can conclude that your requirements are unsatisfiable."
    )


def test_a_policy_rejection_names_the_versions_and_the_policy() -> None:
    with pytest.raises(NoSolution) as caught:
        MemoryProvider({"a": {"1.0a1": {}, "1.0a2": {}}}, {"a": ""}, prerelease="disallow").solve()
    assert render(caught.value) == (
        "Because you require a which matches no versions the policy allows (1.0a1, 1.0a2 are"
        " pre-releases, not allowed by policy `disallow`), we can conclude that your"
        " requirements are unsatisfiable."
    )


def test_display_hook_and_hints_stay_apart() -> None:
    index = {"a": {"1.0": Release(extras={"x": {"b": ">=2"}})}, "b": {"1.0": {}}}
    caught = failure(index, {"a[x]": ""})

    def display(package: str) -> str:
        base, extra = split_extra(package)
        return f"{base.upper()}[{extra}]" if extra else base.upper()

    text = render(caught, display=display, hints=["b 2.0 is on another index", "try --pre"])
    assert text.splitlines() == [
        "Because A[x]==1.0 depends on B>=2 which matches no versions and you require A[x],"
        " we can conclude that your requirements are unsatisfiable.",
        "",
        "hint: b 2.0 is on another index",
        "hint: try --pre",
    ]


def test_render_a_bare_incompatibility() -> None:
    caught = failure({}, {"ghost": ""})
    text = render(caught.incompatibility, root=ROOT)
    assert text == (
        "Because you require ghost which has no versions,"
        " we can conclude that your requirements are unsatisfiable."
    )


def test_deep_derivations_render_without_recursion_errors() -> None:
    n = 150
    index: dict[str, dict[str, object]] = {
        f"p{i}": {"1.0": {f"p{i + 1}": ""}, "2.0": {f"p{i + 1}": ""}} for i in range(n)
    }
    index[f"p{n}"] = {"1.0": {"p0": "<0"}}
    caught = failure(index, {"p0": ""})
    # Leave far fewer frames than the tree is deep: the walk is a loop, not recursion.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack(0)) + 60)
    try:
        lines = render(caught).splitlines()
    finally:
        sys.setrecursionlimit(limit)
    assert lines[-1].endswith("we can conclude that your requirements are unsatisfiable.")
    assert len(lines) > n // 3


# -- version sets say what is true -----------------------------------------------------------


def test_a_set_holding_a_pre_release_of_the_next_version_is_not_written_as_below_it() -> None:
    # PEP 440: "<2.0" leaves out 2.0a1, so a{1.0, 2.0a1} is "<=2.0a1".
    index = {
        "a": {"1.0": {"c": ">=2"}, "2.0a1": {"c": ">=2"}, "2.0": {"d": ">=2"}},
        "c": {"1.0": {}},
        "d": {"1.0": {}},
    }
    with pytest.raises(NoSolution) as caught:
        MemoryProvider(index, {"a": ""}, prerelease="allow").solve()
    assert render(caught.value).splitlines()[0] == (
        "Because a<=2.0a1 depends on c>=2 which matches no versions and a==2.0 depends on d>=2"
        " which matches no versions, all versions of a cannot be used."
    )


def test_a_version_with_a_local_build_is_listed_not_written_as_equal_to_it() -> None:
    # PEP 440: "==1.0" matches 1.0+cpu too, which depends on something else.
    index = {"a": {"1.0": {"b": ">=2"}, "1.0+cpu": {"b": "<1"}}, "b": {"1.0": {}}}
    text = render(failure(index, {"a": ""}))
    assert text.splitlines()[0] == (
        "Because a {1.0} depends on b>=2 which matches no versions and a==1.0+cpu depends on"
        " b<1 which matches no versions, all versions of a cannot be used."
    )
    assert "a==1.0 " not in text


def test_an_extra_pinned_to_its_version_beside_a_local_build() -> None:
    # a[x] 1.0 needs a at exactly 1.0, not "a==1.0" (which 1.0+cpu would satisfy).
    extra = Release(extras={"x": {"b": ">=1"}})
    index = {"a": {"1.0": extra, "1.0+cpu": extra}, "b": {"1.0": {}}}
    text = render(failure(index, {"a[x]": "===1.0", "a": "==1.0+cpu"}))
    assert "a[x] {1.0} depends on a {1.0} and you require a==1.0+cpu" in text
    assert "==1.0 " not in text.replace("===1.0", "")


def test_the_requirements_own_text_is_kept_through_extras_and_pep440() -> None:
    index = {
        "a": {"1.0": Release(requires={"b": ">=2.0b1"}, extras={"x": {"b": ">=2,<3"}})},
        "b": {"1.0": {}, "2.0b1": {"c": "<0"}, "2.0": {"c": "<0"}},
        "c": {"1": {}},
    }
    with pytest.raises(NoSolution) as caught:
        MemoryProvider(index, {"a": ""}, prerelease="pep440").solve()
    assert "a==1.0 depends on b>=2.0b1 and " in render(caught.value)
    assert "a[x]==1.0 depends on b>=2,<3 and " in render(failure(index, {"a[x]": ""}))


# -- long chains -----------------------------------------------------------------------------


def test_a_project_with_many_versions_gives_a_short_report() -> None:
    # Every version of a needs another b, none of which exists: one line, not 150.
    index: dict[str, dict[str, object]] = {
        "a": {f"1.{i}": {"b": f">={i + 1}"} for i in range(300)},
        "b": {"0.5": {}},
    }
    lines = render(failure(index, {"a": ""})).splitlines()
    assert lines == [
        "Because a 1.0 through 1.299 (300 versions) depend on b>=1 through b>=300 which match"
        " no versions and you require a, we can conclude that your requirements are"
        " unsatisfiable."
    ]


def test_a_chain_through_two_projects_with_many_versions_gives_a_short_report() -> None:
    # a 1.i needs b==i, and every b needs a c that does not exist.
    index: dict[str, dict[str, object]] = {
        "a": {f"1.{i}": {"b": f"=={i}"} for i in range(300)},
        "b": {f"{i}": {"c": "<0"} for i in range(300)},
        "c": {"1": {}},
    }
    lines = render(failure(index, {"a": ""})).splitlines()
    assert len(lines) < 20
    text = "\n".join(lines)
    assert "a 1.0 through 1.299 (300 versions) depend on b==0 through b==299" in text
    assert "b 0 through 299 (300 versions) depend on c<0 which matches no versions" in text
    assert lines[-1].endswith("we can conclude that your requirements are unsatisfiable.")


def test_a_chain_of_versions_that_are_not_consecutive_names_its_set() -> None:
    # a 2.0 fails for another reason, so the summarised versions are not one run.
    index: dict[str, dict[str, object]] = {
        "a": {
            **{f"1.{i}": {"b": f">={i + 1}"} for i in range(6)},
            "1.10": Release(unavailable="metadata needs a build"),
            **{f"1.{i}": {"b": f">={i + 1}"} for i in range(11, 16)},
        },
        "b": {"0.5": {}},
    }
    text = render(failure(index, {"a": ""}))
    assert len(text.splitlines()) < 5
    assert "a!=1.10 depends on b>=1 through b>=16 which match no versions" in text
    assert "a==1.10 is unavailable (metadata needs a build)" in text
