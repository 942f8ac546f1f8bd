"""PEP 792 project status through ``resolve``: deprecated and archived projects are used with
a warning naming the index and the reason; a quarantined project offers nothing, and a failure
says so; ``--explain`` shows the status."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Mirror, Serve
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.resolve.endtoend import TARGET, add_indexes, hint_lines, invoke, pins


@pytest.fixture
def statuses(mirror: Mirror, serve: Serve) -> Mirror:
    internal, pypi = FixtureIndex(), FixtureIndex()
    make_project(pypi, "app", ["1.0"], deps=["old", "frozen"])
    make_project(pypi, "old", ["1.0"], project_status="deprecated", project_status_reason="use new")
    make_project(pypi, "frozen", ["1.0"], project_status="archived")
    # An index that still lists files of a quarantined project is not trusted with them.
    make_project(
        pypi, "bad", ["1.0"], project_status="quarantined", project_status_reason="malware"
    )
    make_project(pypi, "shadowed", ["1.0"])
    make_project(internal, "shadowed", ["2.0"], project_status="quarantined")
    add_indexes(mirror, serve, internal=internal, pypi=pypi)
    mirror.sync("app", "old", "frozen", "bad", "shadowed", "--versions", "all", "--quiet")
    return mirror


def test_deprecated_and_archived_are_used_with_a_warning(statuses: Mirror) -> None:
    result = invoke(statuses, "app", *TARGET)
    assert result.exit_code == 0, result.output
    assert pins(result.stdout) == {"app": "1.0", "frozen": "1.0", "old": "1.0"}
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: frozen is archived on index pypi",
        "warning: old is deprecated (use new) on index pypi",
    ]
    again = invoke(statuses, "app", *TARGET, "--format", "json")
    assert again.exit_code == 0 and again.stderr.count("warning:") == 2


def test_a_quarantined_project_is_unavailable(statuses: Mirror) -> None:
    result = invoke(statuses, "bad", *TARGET)
    assert result.exit_code == 1, result.output
    assert any(
        "bad is quarantined on index pypi (malware)" in hint for hint in hint_lines(result.stderr)
    )
    # Under first-index the quarantined page still answers for the project: no later index
    # stands in for it.
    shadowed = invoke(statuses, "shadowed", *TARGET)
    assert shadowed.exit_code == 1, shadowed.output
    hints = hint_lines(shadowed.stderr)
    assert any("quarantined on index internal" in h for h in hints)
    # The same name on another index may be the look-alike the quarantine is about: no hint
    # suggests the strategy that would take it.
    assert not any("unsafe" in h for h in hints), hints
    other = invoke(statuses, "shadowed", *TARGET, "--index-strategy", "unsafe-best-match")
    assert other.exit_code == 0, other.output
    assert pins(other.stdout) == {"shadowed": "1.0"}


def test_explain_shows_the_status(statuses: Mirror) -> None:
    text = invoke(statuses, "--explain", "old", *TARGET)
    assert text.exit_code == 0, text.output
    assert "  deprecated on index pypi: use new" in text.stdout.splitlines()
    document = json.loads(invoke(statuses, "--explain", "bad", "--json", *TARGET).stdout)
    assert document["statuses"] == [{"index": "pypi", "status": "quarantined", "reason": "malware"}]
    rows = {(r["index"], r["version"]): r for r in document["versions"]}
    assert rows[("pypi", "1.0")]["verdict"] == "excluded"
    assert "quarantined" in rows[("pypi", "1.0")]["reason"]
