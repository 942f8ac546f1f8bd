"""``--db`` after the subcommand as well as before it, on every command of ``mirror``; given
in both places, the one after the subcommand wins (over ``$MIRROR_DB`` too)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from mirror.cli.main import main
from tests.conftest import Mirror, Serve
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.resolve.endtoend import TARGET, invoke


def run(mirror: Mirror, *args: str, env: dict[str, str | None] | None = None) -> Result:
    """``mirror ARGS…`` exactly as given (no ``--db`` put in front), asserting exit 0."""
    result = CliRunner().invoke(main, list(args), env={**mirror.env, **(env or {})})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, f"mirror {' '.join(args)}\n{result.output}"
    return result


def leaves(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    ctx = click.Context(main)
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            child = command.get_command(ctx, name)
            assert child is not None
            yield from leaves(child, (*path, name))
    else:
        yield path


@pytest.fixture
def elsewhere(
    mirror: Mirror, serve: Serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Mirror, Path]:
    """A served index; the working directory holds no database (the default must stay unused).
    Returns the mirror and the database the tests name only after the subcommand."""
    index = FixtureIndex()
    make_project(index, "app", ["1.0"], deps=["lib"])
    make_project(index, "lib", ["2.0"])
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    db = tmp_path / "after.db"
    run(mirror, "db", "upgrade", "--db", str(db))
    run(mirror, "index", "add", "pypi", serve(index), "--default", "--db", str(db))
    return mirror, db


def test_every_command_accepts_db_after_it(elsewhere: tuple[Mirror, Path]) -> None:
    mirror, db = elsewhere
    after = ("--db", str(db))
    summary = json.loads(run(mirror, "sync", *after, "app", "lib", "--quiet", "--json").stdout)
    assert summary["failures"] == []
    (listed,) = json.loads(run(mirror, "snapshot", "list", "--json", *after).stdout)
    assert listed["digest"] == summary["digest"]
    indexes = json.loads(run(mirror, "index", "list", *after, "--json").stdout)
    assert [i["name"] for i in indexes] == ["pypi"]
    run(mirror, "rules", "set", *after, "index-strategy", "first-index")
    assert "first-index" in run(mirror, "rules", "show", *after).stdout
    run(mirror, "db", "check", *after)

    run(mirror, "export", "latest", "-o", "bundle.snb", *after)
    other = db.with_name("imported.db")
    run(mirror, "import", "bundle.snb", "--db", str(other))
    (imported,) = json.loads(run(mirror, "snapshot", "list", "--json", "--db", str(other)).stdout)
    assert imported["digest"] == summary["digest"]

    lock = invoke(Mirror(db, mirror.env), "app", *TARGET, "-o", "requirements.txt")
    assert lock.exit_code == 0, lock.output
    run(mirror, "download", "requirements.txt", "-d", "files", "--quiet", *after)
    assert sorted(p.name for p in Path("files").iterdir()) == [
        "app-1.0-py3-none-any.whl",
        "lib-2.0-py3-none-any.whl",
    ]
    assert not Path("mirror.db").exists()


def test_the_db_after_the_subcommand_wins(elsewhere: tuple[Mirror, Path]) -> None:
    mirror, db = elsewhere
    before = db.with_name("before.db")
    unreachable = "http://127.0.0.1:9/simple/"
    run(mirror, "--db", str(before), "index", "add", "other", unreachable, "--no-check")

    def names(*args: str, env: dict[str, str | None] | None = None) -> list[str]:
        listed = json.loads(run(mirror, *args, "--json", env=env).stdout)
        return [i["name"] for i in listed]

    assert names("--db", str(before), "index", "list", "--db", str(db)) == ["pypi"]
    assert names("--db", str(db), "index", "--db", str(before), "list") == ["other"]
    assert names("index", "list", "--db", str(db), env={"MIRROR_DB": str(before)}) == ["pypi"]
    assert names("index", "list", env={"MIRROR_DB": str(before)}) == ["other"]
    assert not Path("mirror.db").exists()


def test_every_leafs_help_shows_db(mirror: Mirror) -> None:
    paths = list(leaves(main))
    assert ("sync",) in paths and ("snapshot", "diff") in paths and ("serve",) in paths
    for path in paths:
        text = run(mirror, *path, "--help").stdout
        assert "--db URL" in text, path
        assert "after the subcommand" in " ".join(text.split()), path
