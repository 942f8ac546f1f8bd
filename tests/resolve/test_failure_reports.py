"""Failure reports end to end: a project with hundreds of versions, each needing a version of
another project that does not exist, reads in a few lines, as text on stderr and as the same
lines in the ``--format json`` document (the failure stays data until the command line)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Mirror, Serve
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.resolve.endtoend import TARGET, add_indexes, invoke

VERSIONS = 300


@pytest.mark.slow
def test_hundreds_of_versions_give_a_short_report_in_text_and_json(
    mirror: Mirror, serve: Serve
) -> None:
    index = FixtureIndex()
    versions = [f"1.{i}" for i in range(VERSIONS)]
    make_project(index, "a", versions, deps={v: [f"b>={i + 1}"] for i, v in enumerate(versions)})
    make_project(index, "b", ["0.5"])
    add_indexes(mirror, serve, pypi=index)
    mirror.sync("a", "b", "--versions", "all", "--quiet")

    result = invoke(mirror, "a", "--format", "json", *TARGET)

    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    report = document["report"]
    assert report == [
        f"Because a 1.0 through 1.{VERSIONS - 1} ({VERSIONS} versions) depend on b>=1 through"
        f" b>={VERSIONS} which match no versions and you require a, we can conclude that your"
        " requirements are unsatisfiable."
    ]
    # The same sentences on stderr, between the headline and the hints.
    text = result.stderr.splitlines()
    assert text[0].startswith("error: no solution for ")
    assert text[2 : 2 + len(report)] == report
    assert len(result.stderr.splitlines()) < 20
