"""``resolve --version`` and ``mirror --version``: one shape, naming the distribution's version
and the PEP 440 semantics every lock records on its ``semantics:`` line."""

from __future__ import annotations

import importlib.metadata
import re

from click.testing import CliRunner

from tests.conftest import Mirror, Serve
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.resolve.endtoend import TARGET, add_indexes, resolved


def version_line(program: str) -> str:
    if program == "resolve":
        from resolve.cli import command
    else:
        from mirror.cli.main import main as command
    result = CliRunner().invoke(command, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout


def test_both_commands_print_the_version_and_the_locks_semantics(
    mirror: Mirror, serve: Serve
) -> None:
    index = FixtureIndex()
    make_project(index, "a", ["1.0"])
    add_indexes(mirror, serve, pypi=index)
    mirror.sync("a", "--quiet")
    lock = resolved(mirror, "a", *TARGET)
    (semantics,) = re.findall(r"^#\s+semantics: (\S+)$", lock, re.MULTILINE)
    version = importlib.metadata.version("sneakernet")

    for program in ("resolve", "mirror"):
        line = version_line(program)
        assert line == f"{program} {version} (PEP 440 semantics: {semantics})\n"
