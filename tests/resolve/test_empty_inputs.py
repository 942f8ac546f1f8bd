"""``resolve`` with a requirements file that asks for nothing: an empty lock, as ``uv pip
compile`` writes one; no input at all stays a usage error (DESIGN.md "Command-line surface")."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from packaging.pylock import Pylock

from tests.conftest import Mirror, Serve
from tests.resolve.endtoend import TARGET, add_indexes, failed, invoke, read_lock, shop_index


@pytest.fixture
def shop(mirror: Mirror, serve: Serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Mirror:
    index = shop_index()
    add_indexes(mirror, serve, pypi=index)
    mirror.sync("app", "--quiet", "--name", "fixed")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty.in").write_text("")
    (tmp_path / "comments.in").write_text("# nothing yet\n\n   \n# still nothing\n")
    return mirror


@pytest.mark.parametrize("name", ["empty.in", "comments.in"])
def test_an_empty_requirements_file_is_an_empty_lock(shop: Mirror, name: str) -> None:
    result = invoke(shop, "-r", name, *TARGET)

    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()
    assert header and all(line.startswith("#") for line in header)
    assert any("snapshot: fixed" in line for line in header)
    assert read_lock(result.stdout) == {}
    assert "Resolved 0 packages" in result.stderr


def test_an_empty_pylock_is_valid(shop: Mirror) -> None:
    result = invoke(shop, "-r", "empty.in", *TARGET, "--format", "pylock")

    assert result.exit_code == 0, result.output
    document = tomllib.loads(result.stdout)
    assert document["lock-version"] == "1.0"
    assert document["packages"] == []
    Pylock.from_dict(document).validate()


def test_an_empty_json_lock(shop: Mirror) -> None:
    result = invoke(shop, "-r", "comments.in", *TARGET, "--format", "json")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["packages"] == []
    assert document["snapshot"]["name"] == "fixed"


def test_a_pyproject_without_dependencies_is_an_empty_lock(shop: Mirror, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\nversion = "1"\n')

    result = invoke(shop, "-r", "pyproject.toml", *TARGET)

    assert result.exit_code == 0, result.output
    assert read_lock(result.stdout) == {}


def test_no_input_at_all_is_a_usage_error(shop: Mirror) -> None:
    stderr = failed(shop, *TARGET, code=2)
    assert stderr.startswith("error: nothing to resolve")
    assert "hint: " in stderr


def test_only_constraints_is_a_usage_error(shop: Mirror, tmp_path: Path) -> None:
    (tmp_path / "constraints.txt").write_text("click<8.1\n")
    stderr = failed(shop, "-c", "constraints.txt", *TARGET, code=2)
    assert stderr.startswith("error: nothing to resolve")
