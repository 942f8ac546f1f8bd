"""The project's own PEP 440 matching (resolve.solver.pep440), checked against a fixed table
taken from the text of PEP 440's "Version specifiers" section, through the version sets the
solver uses, so the table holds whatever ``packaging`` is installed."""

from __future__ import annotations

import random

import packaging
import pytest
from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.version import Version

from resolve.solver.pep440 import SEMANTICS, contains
from resolve.solver.versionset import Universe, VersionSet

# (specifier, candidate, matches?) — each row restates a sentence or example of PEP 440.
TABLE: list[tuple[str, str, bool]] = [
    # Version matching: zero padding, and local labels ignored unless the clause has one.
    ("==1.1", "1.1.0", True),
    ("==1.1", "1.1+local", True),
    ("==1.1", "1.1.post1", False),
    ("==1.1", "1.1a1", False),
    ("==1.1+local", "1.1+local", True),
    ("==1.1+local", "1.1", False),
    ("==1.1+local", "1.1+other", False),
    # Prefix matching: ``==1.1.*`` matches every release that starts 1.1, in any phase.
    ("==1.1.*", "1.1", True),
    ("==1.1.*", "1.1.post1", True),
    ("==1.1.*", "1.1a1", True),
    ("==1.1.*", "1.1.dev1", True),
    ("==1.1.*", "1.1.5+local", True),
    ("==1.1.*", "1.10", False),
    ("==1.1.*", "1!1.1", False),
    ("==1.*", "1", True),
    # Version exclusion is the negation of matching.
    ("!=1.1", "1.1+local", False),
    ("!=1.1+local", "1.1+other", True),
    ("!=1.1.*", "1.1.post1", False),
    ("!=1.1.*", "1.2", True),
    # Inclusive ordered comparison: local labels ignored.
    (">=1.0", "1.0+local", True),
    ("<=1.0", "1.0+local", True),
    (">=1.0", "1.0.dev1", False),
    ("<=1.0", "1.0.post1", False),
    # Exclusive ordered comparison, >V: no post-release of V unless V is one; no local of V.
    (">1.7", "1.7.1", True),
    (">1.7", "1.7.0.post1", False),
    (">1.7", "1.7.post1.dev1", False),
    (">1.7", "1.7+local", False),
    (">1.7.post2", "1.7.1", True),
    (">1.7.post2", "1.7.0.post3", True),
    (">1.7.post2", "1.7.0.post2", False),
    (">1.0a1", "1.0", True),
    (">1.0a1", "1.0.post1", True),  # a post-release of 1.0, not of 1.0a1
    (">1.0a1", "1.0+cpu", True),  # a local version of 1.0, not of 1.0a1
    (">1.0a1", "1.0a1.post1", False),
    (">1.0a1", "1.0a2", True),
    # Exclusive ordered comparison, <V: no pre-release of V unless V is one.
    ("<2.0", "1.9", True),
    ("<2.0", "2.0a1", False),
    ("<2.0", "2.0.dev0", False),
    ("<2.0", "2.0rc1.post1", False),
    ("<2.0", "2.0+local", False),
    ("<2.0rc1", "2.0b2", True),
    ("<2.0rc1", "2.0.dev5", True),
    ("<2.0.post1", "2.0", True),
    # Compatible release: ~=V.N is >=V.N, ==V.*.
    ("~=2.2", "2.3", True),
    ("~=2.2", "3.0", False),
    ("~=2.2", "2.2.dev1", False),
    ("~=1.4.5", "1.4.9", True),
    ("~=1.4.5", "1.5.0", False),
    ("~=1.4.5", "1.4.5+local", True),
    ("~=2.2.post3", "2.2.post4", True),
    ("~=2.2.post3", "2.2", False),
    ("~=1.4.5a4", "1.4.5", True),
    ("~=1.4.5a4", "1.4.5a3", False),
    # Epochs order before everything else.
    (">=1.0", "1!0.1", True),
    ("<2.0", "1!0.1", False),
    ("==1!1.0", "1.0", False),
    # Arbitrary equality: the version text, case-insensitively; no padding.
    ("===1.0", "1.0", True),
    ("===1.0", "1.0.0", False),
    ("===1.0a1", "1.0A1", True),
]


@pytest.mark.parametrize(("spec", "candidate", "expected"), TABLE)
def test_pep440_table(spec: str, candidate: str, expected: bool) -> None:
    version = Version(candidate)
    assert contains(Specifier(spec), version) is expected
    # The same answer through the bitmask sets the solver uses, among neighbours.
    universe = Universe([version, Version("0.1"), Version("99")])
    assert (version in VersionSet.from_specifier(universe, spec)) is expected


def test_the_semantics_have_a_name() -> None:
    assert SEMANTICS == "pep440/1"


def test_greater_than_a_pre_release_takes_the_post_release() -> None:
    """SEMANTICS §2: ``a>1.0a1`` over {1.0a1, 1.0, 1.0.post1, 1.0+cpu} gives 1.0.post1."""
    universe = Universe(Version(v) for v in ("1.0a1", "1.0", "1.0.post1", "1.0+cpu"))
    assert VersionSet.from_specifier(universe, ">1.0a1").highest() == Version("1.0.post1")


_RELEASES = ["0.9", "1", "1.0", "1.0.0", "1.1", "2.0", "1!1.0"]
_SUFFIXES = ["", "a1", "b2", "rc1", ".post1", ".dev1", "a1.dev1", ".post1.dev1", "a1.post1"]
_LOCALS = ["", "+cpu", "+1", "+abc.2"]


def _version(rng: random.Random) -> str:
    return rng.choice(_RELEASES) + rng.choice(_SUFFIXES) + rng.choice(_LOCALS)


@pytest.mark.skipif(
    int(packaging.__version__.split(".")[0]) < 26,
    reason="packaging before 26 matched >V against post-releases differently (PEP 440 wins)",
)
def test_agrees_with_packaging_where_packaging_follows_the_pep() -> None:
    """Fuzzed clauses against fuzzed candidates: the installed packaging (26 or newer, as in
    this project's environment) agrees with every answer; the table above stays the spec."""
    rng = random.Random(440)
    operators = ["==", "!=", ">=", "<=", ">", "<", "~="]
    checked = 0
    for _ in range(20000):
        op = rng.choice(operators)
        text = _version(rng).split("+")[0] if op not in ("==", "!=") else _version(rng)
        try:
            spec = Specifier(op + text)
        except InvalidSpecifier:  # ``~=`` needs two release parts
            continue
        candidate = Version(_version(rng))
        expected = SpecifierSet(str(spec)).contains(candidate, prereleases=True)
        assert contains(spec, candidate) is expected, (str(spec), str(candidate))
        checked += 1
    assert checked > 15000
