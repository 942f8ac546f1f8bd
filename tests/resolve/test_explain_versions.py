"""``resolve --explain NAME`` through the CLI: every index's answer for NAME, with the real
reason an index was passed over, under the indexes the command selects."""

from __future__ import annotations

import json

from tests.conftest import Mirror, Serve
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.resolve.endtoend import TARGET, add_indexes, invoke


def explained(mirror: Mirror, *args: str, code: int = 0) -> dict[str, object]:
    result = invoke(mirror, "--explain", "foo", *TARGET, "--json", *args)
    assert result.exit_code == code, result.output
    document: dict[str, object] = json.loads(result.stdout)
    return document


def test_an_index_passed_over_after_a_failed_page(mirror: Mirror, serve: Serve) -> None:
    extra, pypi = FixtureIndex(), FixtureIndex()
    make_project(extra, "foo", ["1.0"])
    extra.project("foo").status = 503
    make_project(pypi, "foo", ["1.0", "2.0"])
    add_indexes(mirror, serve, extra=extra, pypi=pypi)
    mirror.sync("foo", "--versions", "all", "--quiet", code=3)

    rows = explained(mirror)["versions"]
    assert isinstance(rows, list)
    failed, *passed_over = rows
    assert (failed["index"], failed["verdict"]) == ("extra", "failed")
    assert failed["reason"].startswith("HTTP 503")
    assert [(r["index"], r["version"], r["verdict"]) for r in passed_over] == [
        ("pypi", "2.0", "excluded"),
        ("pypi", "1.0", "excluded"),
    ]
    for row in passed_over:  # the real reason, not "the strategy chose an earlier index"
        assert row["reason"].startswith("index extra failed at sync time (HTTP 503")
        assert row["reason"].endswith("a failed page never lets a later index supply foo")

    # --index pypi: the failed index is not consulted, so it has no say and no row.
    document = explained(mirror, "--index", "pypi")
    assert document["picked"] == "2.0"
    assert [(r["index"], r["version"], r["verdict"]) for r in document["versions"]] == [  # type: ignore[attr-defined]
        ("pypi", "2.0", "picked"),
        ("pypi", "1.0", "candidate"),
    ]
