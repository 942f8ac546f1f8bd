"""A universal lock in each format, read back, and resolved again with it as ``-o``; the
failure of a fork names it; the same lock under other hash seeds."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from resolve.lock.reader import read_lock
from tests.conftest import Mirror, clean_environment
from tests.resolve.endtoend import run_console
from tests.scenarios.harness import HERE, Scenario, prepare, run_resolve

ARGS = ("--universal", "--python-version", "3.12", "app")


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Mirror:
    home = tmp_path_factory.mktemp("universal")
    found = Mirror(home / "mirror.db", clean_environment(home))
    path = HERE / "U2.toml"
    prepare(Scenario(path, tomllib.loads(path.read_text())), found)
    return found


def test_requirements_layout(mirror: Mirror) -> None:
    outcome = run_resolve(mirror, *ARGS, "--no-header")
    assert outcome.exit_code == 0, outcome.stderr
    lines = outcome.stdout.splitlines()
    assert lines[0] == "# snapshot: " + lines[0].split(": ", 1)[1]
    assert lines[1] == "# target: universal: python_version >= '3.12'"
    pins = [line for line in lines if not line.startswith(" ") and not line.startswith("#")]
    assert pins == [
        "app==1.0 \\",
        "helper==1.0 ; sys_platform == 'win32' \\",
        "helper==2.0 ; sys_platform != 'win32' \\",
        "lib==1.0 ; sys_platform == 'win32' \\",
        "lib==2.0 ; sys_platform != 'win32' \\",
        "winonly==1.0 ; sys_platform == 'win32' \\",
    ]
    at = lines.index("lib==1.0 ; sys_platform == 'win32' \\")
    assert lines[at + 1].startswith("    --hash=sha256:")
    assert lines[at + 2] == "    # via app"


def test_pylock_environments_and_markers(mirror: Mirror, tmp_path: Path) -> None:
    output = tmp_path / "pylock.toml"
    environment = (
        "--environment",
        "sys_platform == 'win32'",
        "--environment",
        "sys_platform == 'linux'",
    )
    outcome = run_resolve(mirror, *ARGS, *environment, "-o", str(output))
    assert outcome.exit_code == 0, outcome.stderr
    document = tomllib.loads(output.read_text())
    assert document["environments"] == ["sys_platform == 'win32'", "sys_platform == 'linux'"]
    assert document["requires-python"] == ">=3.12"
    markers = {(p["name"], p["version"]): p.get("marker") for p in document["packages"]}
    assert markers == {
        ("app", "1.0"): None,
        ("helper", "1.0"): "sys_platform == 'win32'",
        ("helper", "2.0"): "sys_platform == 'linux'",
        ("lib", "1.0"): "sys_platform == 'win32'",
        ("lib", "2.0"): "sys_platform == 'linux'",
        ("winonly", "1.0"): "sys_platform == 'win32'",
    }
    assert all(p["wheels"] for p in document["packages"])
    # Read back, and resolved again with it as the previous lock: the same lock.
    assert len(read_lock(output).pins) == 6
    before = output.read_text()
    again = run_resolve(mirror, *ARGS, *environment, "-o", str(output))
    assert again.exit_code == 0, again.stderr
    assert output.read_text() == before


def test_json_markers(mirror: Mirror) -> None:
    outcome = run_resolve(mirror, *ARGS, "--format", "json")
    packages = json.loads(outcome.stdout)["packages"]
    assert {p["name"]: p.get("marker") for p in packages if p["name"] in ("app", "winonly")} == {
        "app": None,
        "winonly": "sys_platform == 'win32'",
    }


def test_requirements_read_back(mirror: Mirror, tmp_path: Path) -> None:
    output = tmp_path / "requirements.txt"
    assert run_resolve(mirror, *ARGS, "-o", str(output)).exit_code == 0
    before = output.read_text()
    pins = read_lock(output).pins
    assert len(pins) == 6
    assert run_resolve(mirror, *ARGS, "-o", str(output)).exit_code == 0
    assert output.read_text() == before


def test_universal_flags_are_checked(mirror: Mirror) -> None:
    outcome = run_resolve(mirror, "--environment", "sys_platform == 'win32'", "app")
    assert outcome.exit_code == 2
    assert "need --universal" in outcome.stderr
    outcome = run_resolve(mirror, "--universal", "--python-platform", "linux", "app")
    assert outcome.exit_code == 2
    assert "hint: restrict a universal lock's platforms with --environment" in outcome.stderr
    outcome = run_resolve(mirror, "--universal", "--environment", "sys_platform ==", "app")
    assert outcome.exit_code == 2
    assert "--environment" in outcome.stderr


@pytest.mark.slow
def test_hash_seed_never_shows(mirror: Mirror, tmp_path: Path) -> None:
    runs = set()
    for seed in ("0", "4242", "7"):
        run = run_console(mirror, *ARGS, "tool", "-q", cwd=tmp_path, PYTHONHASHSEED=seed)
        runs.add((run.returncode, run.stdout, run.stderr))
    assert len(runs) == 1, runs
    assert runs.pop()[0] == 0


def test_explain_per_environment(mirror: Mirror) -> None:
    outcome = run_resolve(mirror, *ARGS, "--explain", "lib")
    assert outcome.exit_code == 0, outcome.stderr
    blocks = outcome.stdout.split("\n\n")
    assert len(blocks) == 2
    assert blocks[0].splitlines()[0].endswith(", for sys_platform != 'win32'")
    assert blocks[1].splitlines()[0].endswith(", for sys_platform == 'win32'")
    assert any("2.0" in line and "picked" in line for line in blocks[0].splitlines())
    assert any("1.0" in line and "picked" in line for line in blocks[1].splitlines())
    documents = json.loads(run_resolve(mirror, *ARGS, "--explain", "lib", "--json").stdout)
    assert [(d["environment"], d["picked"]) for d in documents] == [
        ("sys_platform != 'win32'", "2.0"),
        ("sys_platform == 'win32'", "1.0"),
    ]


def test_failure_names_the_fork_and_keeps_the_hints(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    mirror = Mirror(home / "mirror.db", clean_environment(home))
    path = HERE / "U3.toml"
    prepare(Scenario(path, tomllib.loads(path.read_text())), mirror)
    outcome = run_resolve(mirror, *ARGS[:-1], "split")
    assert outcome.exit_code == 1
    assert outcome.stderr.startswith("error: no solution for sys_platform != 'win32' (snapshot ")
    assert "pin==2.0" in outcome.stderr
    explained = run_resolve(mirror, *ARGS[:-1], "split", "--explain", "pin")
    assert ", for sys_platform != 'win32'" in explained.stdout
    assert "pin==2.0" in explained.stdout


def test_an_existing_lock_keeps_one_preference_per_fork(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    mirror = Mirror(home / "mirror.db", clean_environment(home))
    data = tomllib.loads((HERE / "U2.toml").read_text())
    data["index"][0]["project"] += [
        {
            "name": "forked",
            "versions": ["1.0"],
            "deps": [*data["index"][0]["project"][0]["deps"], "free"],
        },
        {"name": "free", "versions": ["1.0", "2.0"]},
    ]
    prepare(Scenario(HERE / "U2.toml", data), mirror)
    output = tmp_path / "requirements.txt"
    # The lock as a user left it: free kept at 1.0 on Windows, 2.0 elsewhere.
    output.write_text(
        "forked==1.0\nfree==1.0 ; sys_platform == 'win32'\nfree==2.0 ; sys_platform != 'win32'\n"
    )
    outcome = run_resolve(mirror, *ARGS[:-1], "forked", "-o", str(output), "--no-header")
    assert outcome.exit_code == 0, outcome.stderr
    pins = [line for line in output.read_text().splitlines() if line.startswith("free")]
    assert pins == [
        "free==1.0 ; sys_platform == 'win32' \\",
        "free==2.0 ; sys_platform != 'win32' \\",
    ]
    # --upgrade-package drops them: the highest everywhere.
    again = run_resolve(mirror, *ARGS[:-1], "forked", "-o", str(output), "-P", "free")
    assert again.exit_code == 0, again.stderr
    assert [line for line in output.read_text().splitlines() if line.startswith("free")] == [
        "free==2.0 \\"
    ]
