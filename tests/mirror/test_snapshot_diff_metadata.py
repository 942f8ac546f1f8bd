"""``mirror snapshot diff`` on snapshots synced from a fixture index that changes between syncs:
"no changes" when the content is the same, and versions whose core metadata changed or appeared
(Requires-Dist, Requires-Python, Provides-Extra), in text and in the JSON "metadata" section."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import Mirror, Serve
from tests.fixtures.dists import build_metadata, build_wheel
from tests.fixtures.index_server import FixtureIndex, make_project


def diff_text(mirror: Mirror, old: str, new: str) -> list[str]:
    return mirror.run("snapshot", "diff", old, new).stdout.splitlines()


def changes(mirror: Mirror, old: str, new: str) -> dict[str, list[Any]]:
    """The non-empty sections of ``mirror snapshot diff OLD NEW --json``."""
    diff: dict[str, list[Any]] = mirror.json("snapshot", "diff", old, new)
    return {key: items for key, items in diff.items() if items}


def test_the_same_content_is_no_changes(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    make_project(index, "foo", ["1.0", "2.0"], deps=["bar>=1"])
    make_project(index, "bar", ["1.0"])
    mirror.add_index("one", serve(index))
    mirror.sync("foo", "bar", "--name", "s1")
    mirror.sync("foo", "bar", "--name", "s2")

    assert diff_text(mirror, "s1", "s2") == ["no changes"]
    diff = mirror.json("snapshot", "diff", "s1", "s2")
    assert diff["metadata"] == []
    assert changes(mirror, "s1", "s2") == {}


def test_metadata_that_was_missing_and_is_now_present(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    make_project(index, "foo", ["1.0", "2.0"], deps={"1.0": ["bar<2"], "2.0": ["bar>=2"]})
    mirror.add_index("one", serve(index))
    mirror.sync("foo", "--versions", "latest:1", "--name", "s1")
    mirror.sync("foo", "--versions", "all", "--name", "s2")

    assert diff_text(mirror, "s1", "s2") == ["~ metadata foo 1.0 (one): missing → present"]
    old_only = {"requires_dist": ["bar<2"], "requires_python": None, "provides_extra": []}
    assert changes(mirror, "s1", "s2") == {
        "metadata": [
            {"project": "foo", "version": "1.0", "index": "one", "old": [], "new": [old_only]}
        ]
    }
    assert diff_text(mirror, "s2", "s1") == ["~ metadata foo 1.0 (one): present → missing"]


def test_a_version_whose_requirements_changed(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    foo = make_project(index, "foo", ["1.0"], deps=["bar>=1"])
    mirror.add_index("one", serve(index))
    mirror.sync("foo", "--name", "s1")
    # The release's wheel replaced by another build whose metadata says something else.
    foo.remove("foo-1.0-py3-none-any.whl")
    foo.add(
        build_wheel(
            "foo",
            "1.0",
            tag="py2.py3-none-any",
            requires_dist=["bar>=2", 'baz; extra == "fast"'],
            requires_python=">=3.9",
            provides_extra=["fast"],
        )
    )
    mirror.sync("foo", "--name", "s2")

    assert diff_text(mirror, "s1", "s2") == [
        "+ file foo-1.0-py2.py3-none-any.whl (one)",
        "- file foo-1.0-py3-none-any.whl (one)",
        '~ metadata foo 1.0 (one): requires-dist [bar>=1] → [bar>=2, baz; extra == "fast"]; '
        "requires-python none → >=3.9; provides-extra [] → [fast]",
    ]
    (change,) = changes(mirror, "s1", "s2")["metadata"]
    assert change["old"] == [
        {"requires_dist": ["bar>=1"], "requires_python": None, "provides_extra": []}
    ]
    assert change["new"] == [
        {
            "requires_dist": ["bar>=2", 'baz; extra == "fast"'],
            "requires_python": ">=3.9",
            "provides_extra": ["fast"],
        }
    ]


def test_the_same_file_with_other_pep658_metadata(
    mirror: Mirror, serve: Serve, tmp_path: Path
) -> None:
    """Two machines synced the same file while the index served different PEP 658 metadata;
    one snapshot is imported next to the other."""
    index = FixtureIndex()
    foo = make_project(index, "foo", ["1.0"])
    served = foo.file("foo-1.0-py3-none-any.whl")
    served.metadata_body = build_metadata("foo", "1.0", requires_dist=["bar>=1"])
    url = serve(index)
    mirror.add_index("one", url)
    mirror.sync("foo", "--name", "s1")

    served.metadata_body = build_metadata("foo", "1.0", requires_dist=["bar>=2"])
    other = Mirror(tmp_path / "other.db", dict(mirror.env))
    other.add_index("one", url)
    other.sync("foo", "--name", "s2")
    other.run("export", "s2", "-o", str(tmp_path / "s2.snb"))
    mirror.run("import", str(tmp_path / "s2.snb"))

    assert diff_text(mirror, "s1", "s2") == [
        "~ metadata foo 1.0 (one): requires-dist [bar>=1] → [bar>=2]"
    ]
    assert list(changes(mirror, "s1", "s2")) == ["metadata"]
