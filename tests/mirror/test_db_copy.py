"""`mirror db copy`: SQLite → PostgreSQL → SQLite, every snapshot verified by its digest, and
the copy resolves to the same lock."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Mirror, Serve
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.fixtures.postgres_server import PostgresServer
from tests.scenarios.harness import run_resolve

pytestmark = pytest.mark.postgresql

TARGET = ("--python-version", "3.12", "--python-platform", "linux")


def _digests(mirror: Mirror) -> list[tuple[str, str]]:
    return [(s["name"], s["digest"]) for s in mirror.json("snapshot", "list")]


def test_copy_to_postgresql_and_back(
    mirror: Mirror, serve: Serve, postgres_server: PostgresServer, tmp_path: Path
) -> None:
    index = FixtureIndex()
    make_project(index, "app", ["1.0", "2.0"], deps=["lib>=1"])
    make_project(index, "lib", ["1.0", "1.1"])
    mirror.add_index("pypi", serve(index), "--default")
    mirror.run("rules", "set", "prerelease", "allow")
    mirror.sync("app", "--name", "first")
    make_project(index, "lib", ["1.2"])
    mirror.sync("app", "lib", "--versions", "all", "--name", "second")
    lock = run_resolve(mirror, "app", *TARGET)
    assert lock.exit_code == 0, lock.stderr

    server = Mirror(postgres_server.url(postgres_server.fresh_database()), mirror.env, tmp_path)
    done = mirror.run("db", "copy", str(server.db))
    assert "copied 2 snapshot(s)" in done.stderr and "2 snapshot digest(s) verified" in done.stderr
    assert _digests(server) == _digests(mirror)
    assert run_resolve(server, "app", *TARGET).stdout == lock.stdout
    assert server.json("rules", "show") == mirror.json("rules", "show")

    back = Mirror(tmp_path / "back.db", mirror.env, tmp_path)
    server.run("db", "copy", str(back.db))
    assert _digests(back) == _digests(mirror)
    assert run_resolve(back, "app", *TARGET).stdout == lock.stdout

    # Copying again changes nothing: every snapshot is already there.
    again = mirror.run("db", "copy", str(server.db))
    assert "copied 0 snapshot(s)" in again.stderr
    assert _digests(server) == _digests(mirror)


def test_copy_needs_a_snapshot(mirror: Mirror, tmp_path: Path) -> None:
    mirror.run("db", "upgrade")
    refused = mirror.run(
        "db", "copy", str(tmp_path / "other.db"), code=2, env={"SNEAKERNET_DEBUG": None}
    )
    assert "there is no complete snapshot to copy" in refused.stderr
