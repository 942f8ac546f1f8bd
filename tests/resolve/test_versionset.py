"""Version sets as bitmasks: set operations and PEP 440 membership (SEMANTICS §2)."""

from __future__ import annotations

import packaging
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from resolve.solver.versionset import Universe, VersionSet, bit_range


def universe(*versions: str) -> Universe:
    return Universe(Version(v) for v in versions)


def matched(u: Universe, spec: str) -> list[str]:
    return [str(v) for v in VersionSet.from_specifier(u, spec)]


# -- values and operators ------------------------------------------------------------------


def test_universe_sorts_and_deduplicates() -> None:
    u = universe("2.0", "1.0", "1.0.0", "1.0+b", "1.0+a", "1.0a1")
    assert [str(v) for v in u] == ["1.0a1", "1.0", "1.0+a", "1.0+b", "2.0"]
    assert len(u) == 5
    assert u[1] == Version("1.0")


def test_pin_is_label_exact() -> None:
    u = universe("1.0", "1.0+cpu", "1.0+cu121")
    assert u.pin(Version("1.0+cpu")) == 0b010
    assert u.pin(Version("1.0")) == 0b001
    assert u.pin(Version("1.0.0")) == 0b001  # PEP 440 equality pads zeros
    assert u.pin(Version("3.0")) == 0


def test_set_operations() -> None:
    u = universe("1.0", "1.1", "2.0", "3.0")
    low = VersionSet.from_specifier(u, "<2")
    odd = VersionSet.of(u, [Version("1.1"), Version("3.0")])
    assert [str(v) for v in low & odd] == ["1.1"]
    assert [str(v) for v in low | odd] == ["1.0", "1.1", "3.0"]
    assert [str(v) for v in low - odd] == ["1.0"]
    assert [str(v) for v in ~low] == ["2.0", "3.0"]
    assert (~VersionSet.empty(u)).is_full
    assert len(odd) == 2
    assert Version("1.1") in odd and Version("1.0") not in odd and "1.1" not in odd
    assert [str(v) for v in odd.descending()] == ["3.0", "1.1"]
    assert odd.highest() == Version("3.0") and odd.lowest() == Version("1.1")
    assert VersionSet.empty(u).highest() is None and not VersionSet.empty(u)


def test_runs_are_maximal() -> None:
    u = universe(*(f"{i}.0" for i in range(10)))
    vs = VersionSet(u, 0b1101110011)
    assert list(vs.runs()) == [(0, 2), (4, 7), (8, 10)]
    assert list(VersionSet.full(u).runs()) == [(0, 10)]
    assert list(VersionSet.empty(u).runs()) == []


def test_bit_range() -> None:
    assert bit_range(2, 5) == 0b11100
    assert bit_range(3, 3) == 0


def test_sets_over_different_universes_do_not_mix() -> None:
    a = VersionSet.full(universe("1.0", "2.0"))
    b = VersionSet.full(universe("1.0", "3.0"))
    with pytest.raises(ValueError):
        _ = a & b
    # Equal candidate lists are the same space, even as different objects.
    assert (a & VersionSet.full(universe("1.0", "2.0"))).is_full


def test_mask_is_cached_per_specifier_string() -> None:
    u = universe("1.0", "2.0")
    assert u.mask(">=2") == u.mask(SpecifierSet(">=2")) == 0b10
    assert u.mask("") == u.full


# -- SEMANTICS §2: local versions (C3) ----------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (">1.2.3", False),
        ("<1.2.3", False),
        (">=1.2.3", True),
        ("<=1.2.3", True),
        ("==1.2.*", True),
        ("~=1.2", True),
        ("!=1.2.3", False),
        ("!=1.2.3+bar", True),
        ("==1.2.3", True),
        ("==1.2.3+foo", True),
        ("==1.2.3+bar", False),
    ],
)
def test_c3_local_versions(spec: str, expected: bool) -> None:
    u = universe("1.2.3+foo")
    assert (u.mask(spec) == 1) is expected


def test_local_label_order_and_exact_pins() -> None:
    # C2/C6: X+label sorts above X; numeric label segments beat alphanumeric ones.
    u = universe("1.0", "1.0+abc", "1.0+abc.1", "1.0+1")
    assert [str(v) for v in u] == ["1.0", "1.0+abc", "1.0+abc.1", "1.0+1"]
    assert matched(u, "==1.0") == ["1.0", "1.0+abc", "1.0+abc.1", "1.0+1"]
    assert matched(u, "==1.0+abc") == ["1.0+abc"]


# -- SEMANTICS §2: pre-release boundaries ---------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("<2.0", ["1.0", "1.0.post1"]),  # <V never admits pre-releases of V ...
        ("<2.0a2", ["1.0", "1.0.post1", "2.0.dev1", "2.0a1"]),  # ... unless V is one
        ("<=2.0", ["1.0", "1.0.post1", "2.0.dev1", "2.0a1", "2.0a2", "2.0"]),
        (">1.0", ["2.0.dev1", "2.0a1", "2.0a2", "2.0", "2.0.post1"]),  # not 1.0.post1
        (">2.0", []),  # not 2.0.post1 either
        (">=2.0", ["2.0", "2.0.post1"]),
        (">2.0a1", ["2.0a2", "2.0", "2.0.post1"]),
        ("!=2.0a1", ["1.0", "1.0.post1", "2.0.dev1", "2.0a2", "2.0", "2.0.post1"]),
        ("==2.*", ["2.0.dev1", "2.0a1", "2.0a2", "2.0", "2.0.post1"]),
        ("~=1.0", ["1.0", "1.0.post1"]),  # >=1.0, ==1.*
        ("===2.0a1", ["2.0a1"]),
    ],
)
def test_prerelease_boundaries(spec: str, expected: list[str]) -> None:
    u = universe("1.0", "1.0.post1", "2.0.dev1", "2.0a1", "2.0a2", "2.0", "2.0.post1")
    assert matched(u, spec) == expected


def test_wildcards_and_epochs() -> None:
    u = universe("1.0", "1.0.1", "1.1", "1.10", "2.0", "1!1.0")
    assert matched(u, "==1.0.*") == ["1.0", "1.0.1"]
    assert matched(u, "!=1.*") == ["2.0", "1!1.0"]
    assert matched(u, "==1!1.*") == ["1!1.0"]
    assert matched(u, "~=1.0.0") == ["1.0", "1.0.1"]
    assert matched(u, ">=1.1,<2") == ["1.1", "1.10"]


# -- property: the bisect fast path agrees with packaging, candidate by candidate ----------

_labels = st.sampled_from([None, "foo", "bar", "1", "foo.1", "cu121"])
_release = st.lists(st.integers(0, 3), min_size=1, max_size=3)


@st.composite
def versions(draw: st.DrawFn, local: bool = True) -> str:
    text = ".".join(map(str, draw(_release)))
    if draw(st.integers(0, 5)) == 0:
        text = f"1!{text}"
    if draw(st.booleans()):
        text += draw(st.sampled_from(["a", "b", "rc"])) + str(draw(st.integers(0, 2)))
    if draw(st.integers(0, 3)) == 0:
        text += f".post{draw(st.integers(0, 2))}"
    if draw(st.integers(0, 3)) == 0:
        text += f".dev{draw(st.integers(0, 2))}"
    label = draw(_labels) if local else None
    return f"{text}+{label}" if label else text


@st.composite
def specifiers(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 2))):
        op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "~=", "===", "==*", "!=*"]))
        if op.endswith("*"):
            parts.append(f"{op[:-1]}{'.'.join(map(str, draw(_release)))}.*")
        else:
            parts.append(op + draw(versions(local=op in ("==", "!=", "==="))))
    return ",".join(parts)


@pytest.mark.skipif(
    int(packaging.__version__.split(".")[0]) < 26,
    reason="packaging before 26 matched <V and >V around post-releases differently (PEP 440 "
    "wins; tests/resolve/test_pep440.py holds the table on every supported release)",
)
@settings(max_examples=300, deadline=None)
@given(st.lists(versions(), min_size=1, max_size=12), specifiers())
def test_mask_matches_packaging(candidates: list[str], spec: str) -> None:
    try:
        parsed = SpecifierSet(spec)
    except InvalidSpecifier:
        return
    u = universe(*candidates)
    expected = [str(v) for v in u if parsed.contains(v, prereleases=True)]
    assert matched(u, spec) == expected
