"""Version sets as text: whatever ``describe`` writes means exactly the set, over the universe."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from resolve.report.version_text import describe, specifier
from resolve.solver.pep440 import contains
from resolve.solver.versionset import Universe, VersionSet


def picked(universe: list[str], *versions: str) -> VersionSet:
    u = Universe(Version(v) for v in universe)
    return VersionSet.of(u, [Version(v) for v in versions])


def meaning(text: str, universe: Universe) -> set[Version]:
    """What ``describe``'s text says, read back independently of ``Universe.mask``: clause by
    clause with the project's PEP 440 rules, or the listed versions, or (for a count) None."""
    text = text.strip()
    if text.startswith("{"):
        return {Version(v) for v in text[1:-1].split(", ")}
    found: set[Version] = set()
    for part in text.split(" | "):
        clauses = list(SpecifierSet(part))
        found |= {v for v in universe if all(contains(c, v) for c in clauses)}
    return found


def test_a_pre_release_of_the_next_version_is_not_left_out() -> None:
    # PEP 440: "<2.0" excludes 2.0a1, so it is not {1.0, 2.0a1}.
    universe = ["1.0", "2.0a1", "2.0"]
    assert describe(picked(universe, "1.0", "2.0a1")) == "<=2.0a1"
    assert describe(picked(universe, "2.0a1", "2.0")) == ">=2.0a1"
    assert describe(picked(universe, "1.0", "2.0")) == "!=2.0a1"
    assert describe(picked(universe, "2.0a1")) == "==2.0a1"


def test_a_local_build_is_not_hidden_behind_its_public_version() -> None:
    # PEP 440 "Local version identifiers": "==1.0" also matches 1.0+cpu.
    universe = ["1.0", "1.0+cpu", "2.0"]
    assert describe(picked(universe, "1.0")) == " {1.0}"
    assert describe(picked(universe, "1.0+cpu")) == "==1.0+cpu"
    assert describe(picked(universe, "1.0", "1.0+cpu")) == "<2.0"
    assert describe(picked(universe, "1.0", "2.0")) == "!=1.0+cpu"
    assert describe(picked(universe, "1.0+cpu", "2.0")) == " {1.0+cpu, 2.0}"
    assert specifier(picked(universe, "1.0")) is None


def test_a_range_with_a_few_exclusions() -> None:
    universe = [f"1.{i}" for i in range(10)]
    assert describe(picked(universe, "1.1", "1.2", "1.3", "1.5", "1.6")) == ">=1.1,<1.7,!=1.4"
    assert describe(picked(universe, "1.1", "1.3", "1.5", "1.7")) == (
        ">=1.1,<1.8,!=1.2,!=1.4,!=1.6"
    )
    # Too many gaps and more than five versions: neither a range nor a listing.
    every_other = [f"1.{i}" for i in range(0, 10, 2)] + ["1.9"]
    assert describe(picked(universe, *every_other)) == " (6 versions from 1.0 to 1.9)"


def test_small_sets_are_listed_and_large_ones_counted() -> None:
    universe = [f"1.{i}" for i in range(300)]
    assert describe(picked(universe, "1.1", "1.3", "1.5", "1.7", "1.9")) == (
        " {1.1, 1.3, 1.5, 1.7, 1.9}"
    )
    assert describe(picked(universe, *universe[::2])) == " (150 versions from 1.0 to 1.298)"
    assert describe(picked(universe)) == " (no versions)"
    assert describe(picked(universe, *universe)) == ""


# Pre-, post-, dev- and local variants of a few releases: where PEP 440's special cases live.
_POOL = [
    "0.9",
    "1.0.dev1",
    "1.0a1",
    "1.0rc1",
    "1.0",
    "1.0+cpu",
    "1.0+cu121",
    "1.0.post1",
    "1.0.post1+cpu",
    "1.1",
    "2.0a1",
    "2.0b2.post1",
    "2.0",
    "2.0+local",
    "2.0.1",
    "1!0.5",
]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(_POOL), min_size=1, unique=True),
    st.integers(min_value=0),
)
def test_the_text_always_means_the_set(universe_text: list[str], bits: int) -> None:
    universe = Universe(Version(v) for v in universe_text)
    versions = VersionSet(universe, bits & universe.full)
    text = describe(versions)
    if not versions:
        assert text == " (no versions)"
        return
    counted = re.fullmatch(r" \((\d+) versions from (\S+) to (\S+)\)", text)
    if counted:
        assert int(counted[1]) == len(versions)
        assert (counted[2], counted[3]) == (str(versions.lowest()), str(versions.highest()))
        return
    assert meaning(text, universe) == set(versions), text
