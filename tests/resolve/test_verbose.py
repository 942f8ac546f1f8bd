"""``resolve -v`` prints the solver's steps through its reporter (decisions, rejections,
backtracks, a count at the end) on stderr and changes nothing in the lock; ``-q`` prints
nothing on stderr when all goes well."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Mirror, Serve
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.resolve.endtoend import TARGET, add_indexes, invoke, pins

#: pub's partial-satisfier example: foo 1.1.0 is the first choice, needs left and right,
#: whose only common `shared` needs target<2, which the root rules out: the solver backs out
#: of foo 1.1.0 to foo 1.0.0.
REQUIREMENTS = ("foo>=1.0.0,<2", "target>=2.0.0,<3")


@pytest.fixture
def partial_satisfier(mirror: Mirror, serve: Serve) -> Mirror:
    index = FixtureIndex()
    make_project(
        index,
        "foo",
        ["1.0.0", "1.1.0"],
        deps={"1.0.0": [], "1.1.0": ["left>=1.0.0,<2", "right>=1.0.0,<2"]},
    )
    make_project(index, "left", ["1.0.0"], deps=["shared>=1.0.0"])
    make_project(index, "right", ["1.0.0"], deps=["shared<2.0.0"])
    make_project(
        index, "shared", ["1.0.0", "2.0.0"], deps={"1.0.0": ["target>=1.0.0,<2"], "2.0.0": []}
    )
    make_project(index, "target", ["1.0.0", "2.0.0"])
    add_indexes(mirror, serve, pypi=index)
    mirror.sync(*sorted(index.projects), "--versions", "all", "--quiet")
    return mirror


def test_verbose_prints_decisions_and_a_backtrack(partial_satisfier: Mirror) -> None:
    verbose = invoke(partial_satisfier, *REQUIREMENTS, "-v", *TARGET)
    plain = invoke(partial_satisfier, *REQUIREMENTS, *TARGET)

    assert verbose.exit_code == plain.exit_code == 0, verbose.output
    assert verbose.stdout == plain.stdout  # the lock, and nothing else, on stdout
    assert pins(verbose.stdout) == {"foo": "1.0.0", "target": "2.0.0"}
    steps = [line.strip() for line in verbose.stderr.splitlines() if line.startswith("  ")]
    assert steps == [
        "decide foo 1.1.0 (level 2)",  # level 1 is the root; foo was discovered first
        "decide target 2.0.0 (level 3)",
        "decide left 1.0.0 (level 4)",
        "decide right 1.0.0 (level 5)",
        "conflict on shared: backtrack to level 1",
        "decide foo 1.0.0 (level 2)",
        "decide target 2.0.0 (level 3)",
        "7 decisions, 1 backtrack",  # the root's decision counted
    ]
    assert plain.stderr.startswith("Resolved 2 packages in ")
    assert "decide" not in plain.stderr


def test_verbose_leaves_the_lock_file_as_it_is(partial_satisfier: Mirror, tmp_path: Path) -> None:
    for name, flags in (("plain.txt", ()), ("verbose.txt", ("-v",))):
        result = invoke(
            partial_satisfier, *REQUIREMENTS, *flags, *TARGET, "-o", str(tmp_path / name)
        )
        assert result.exit_code == 0, result.output
        assert result.stdout == ""

    plain = (tmp_path / "plain.txt").read_text()
    verbose = (tmp_path / "verbose.txt").read_text()
    assert verbose.replace(" -o " + str(tmp_path / "verbose.txt"), "") == plain.replace(
        " -o " + str(tmp_path / "plain.txt"), ""
    )


def test_quiet_prints_nothing_on_stderr(partial_satisfier: Mirror, tmp_path: Path) -> None:
    to_stdout = invoke(partial_satisfier, *REQUIREMENTS, "-q", *TARGET)
    to_file = invoke(partial_satisfier, *REQUIREMENTS, "-q", *TARGET, "-o", str(tmp_path / "l"))

    assert to_stdout.exit_code == to_file.exit_code == 0, to_stdout.output
    assert to_stdout.stderr == to_file.stderr == ""
    assert pins(to_stdout.stdout) == {"foo": "1.0.0", "target": "2.0.0"}
    assert to_file.stdout == ""
    assert pins((tmp_path / "l").read_text()) == pins(to_stdout.stdout)
