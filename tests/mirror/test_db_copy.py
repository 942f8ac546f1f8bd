"""`mirror db copy TARGET`: every complete snapshot, configured index, rule set and the rule
history into another database, verified by digest, merged by content; the copy resolves to
the same lock and exports the same bundle bytes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import Mirror, Serve
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.fixtures.postgres_server import PostgresServer
from tests.mirror.test_bundle import digests, other_db
from tests.resolve.endtoend import resolved


@pytest.fixture
def source(mirror: Mirror, serve: Serve) -> Mirror:
    """Two snapshots over two indexes, a third index never synced, rules changed twice."""
    one, two = FixtureIndex(), FixtureIndex()
    make_project(one, "foo", ["1.0", "2.0"], deps=["bar>=1"], sdist=True)
    make_project(one, "bar", ["1.0", "1.1"])
    make_project(two, "foo", ["2.0"], format="html")
    mirror.add_index("one", serve(one), "--default")
    mirror.add_index("two", serve(two))
    mirror.sync("foo", "bar", "--name", "s1")
    make_project(one, "foo", ["1.0", "2.0", "3.0"], deps=["bar>=1"], sdist=True)
    mirror.sync("foo", "bar", "--name", "s2")
    mirror.add_index("later", serve(FixtureIndex()), check=False)
    mirror.run("rules", "pin", "bar", "one")
    mirror.run("rules", "set", "prerelease", "allow")
    return mirror


def _history(mirror: Mirror) -> list[str]:
    lines = mirror.run("rules", "history").stdout.splitlines()
    return [line.split("\t", 1)[-1] for line in lines]


def test_a_copy_holds_everything_and_resolves_to_the_same_lock(
    source: Mirror, tmp_path: Path
) -> None:
    target = other_db(tmp_path, source)
    report = source.json("db", "copy", str(target.db))
    assert report["copied"] == ["s1", "s2"]
    assert report["rule_history_copied"] == len(_history(source))
    assert digests(target) == digests(source)
    listed = "index", "list"
    assert target.run(*listed).stdout == source.run(*listed).stdout
    assert _history(target) == _history(source)

    (tmp_path / "req.in").write_text("foo\n")
    for snap in ("s1", "s2"):
        args = ("-r", str(tmp_path / "req.in"), "--snapshot", snap, "--python-version", "3.12")
        assert resolved(target, *args) == resolved(source, *args)

    export = "export", "s1", "s2", "-o"
    source.run(*export, str(tmp_path / "a.sneakernet"))
    target.run(*export, str(tmp_path / "b.sneakernet"))
    assert (tmp_path / "a.sneakernet").read_bytes() == (tmp_path / "b.sneakernet").read_bytes()
    target.run("db", "check")


def test_a_second_copy_adds_nothing_and_a_new_snapshot_is_added(
    source: Mirror, tmp_path: Path
) -> None:
    target = other_db(tmp_path, source)
    source.run("db", "copy", str(target.db))
    again = source.json("db", "copy", str(target.db))
    assert again["copied"] == [] and again["present"] == ["s1", "s2"]
    assert again["added"] == {} and again["rule_history_copied"] == 0
    source.sync("bar", "--name", "s3")
    assert source.json("db", "copy", str(target.db))["copied"] == ["s3"]
    assert digests(target) == digests(source)


def test_a_building_snapshot_stays_behind(source: Mirror, tmp_path: Path) -> None:
    with sqlite3.connect(source.db) as conn:  # what a killed sync leaves
        conn.execute(
            "INSERT INTO snapshot (name, state, created_at) VALUES ('half', 'building', 'now')"
        )
    target = other_db(tmp_path, source)
    result = source.run("db", "copy", str(target.db))
    assert "warning: not copied, still building: half" in result.stderr
    assert list(digests(target)) == ["s1", "s2"]


def test_a_clashing_index_refuses_the_whole_copy(source: Mirror, tmp_path: Path) -> None:
    target = other_db(tmp_path, source)
    target.add_index("one", "http://127.0.0.1:9/simple/", check=False)
    before = target.run("index", "list").stdout
    result = source.run("db", "copy", str(target.db), code=2)
    assert "error: index names clash: 'one' is" in result.stderr
    assert "hint: remove the local index" in result.stderr
    assert target.run("index", "list").stdout == before
    assert digests(target) == {}


def test_the_source_itself_is_refused(source: Mirror) -> None:
    result = source.run("db", "copy", str(source.db), code=2)
    assert f"error: {source.db} is the database being copied" in result.stderr
    assert "hint: name another database as TARGET" in result.stderr


@pytest.mark.postgresql
def test_to_postgresql_and_back(
    source: Mirror, postgres_server: PostgresServer, tmp_path: Path
) -> None:
    server = Mirror(postgres_server.url(postgres_server.fresh_database()), source.env, tmp_path)
    assert source.json("db", "copy", str(server.db))["copied"] == ["s1", "s2"]
    back = other_db(tmp_path, source, "back.db")
    assert server.json("db", "copy", str(back.db))["copied"] == ["s1", "s2"]

    (tmp_path / "req.in").write_text("foo\n")
    args = ("-r", str(tmp_path / "req.in"), "--python-version", "3.12")
    for copy in (server, back):
        assert digests(copy) == digests(source)
        assert copy.run("index", "list").stdout == source.run("index", "list").stdout
        assert _history(copy) == _history(source)
        assert resolved(copy, *args) == resolved(source, *args)
    bundles = {}
    for name, mirror in (("sqlite", source), ("postgresql", server)):
        bundles[name] = tmp_path / f"{name}.sneakernet"
        mirror.run("export", "s1", "s2", "-o", str(bundles[name]))
    assert bundles["sqlite"].read_bytes() == bundles["postgresql"].read_bytes()
    again = source.json("db", "copy", str(server.db))
    assert again["copied"] == [] and again["added"] == {}
