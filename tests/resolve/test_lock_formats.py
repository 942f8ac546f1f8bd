"""The locks ``resolve`` writes: requirements.txt in pip's hash-checking layout, pylock.toml
(PEP 751) and JSON, from a real snapshot (DESIGN.md "Determinism"; SEMANTICS.md §1)."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from resolve.lock.writers import FORMATS
from resolve.solver.pep440 import SEMANTICS
from tests.conftest import Mirror, Serve, clean_environment
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.resolve.endtoend import (
    TARGET,
    add_indexes,
    catalogue,
    invoke,
    pins,
    read_lock,
    resolved,
    subprocess_env,
    write_dists,
)


@pytest.fixture
def shelf(
    mirror: Mirror, serve: Serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Mirror, FixtureIndex, dict[str, object]]:
    """The catalogue synced as snapshot ``fixed``; returns the mirror, the index, the sync
    summary. The working directory is the test's tmp_path."""
    index = catalogue()
    add_indexes(mirror, serve, pypi=index)
    projects = sorted(index.projects)
    summary = mirror.sync(*projects, "--versions", "all", "--quiet", "--name", "fixed")
    monkeypatch.chdir(tmp_path)
    return mirror, index, summary


def served_sha256(index: FixtureIndex, name: str, version: str) -> list[str]:
    return sorted(f.dist.sha256 for f in index.project(name).files if f.release == version)


def test_requirements_layout(shelf: tuple[Mirror, FixtureIndex, dict[str, object]]) -> None:
    mirror, index, summary = shelf
    text = resolved(mirror, "zeta-pkg", *TARGET, "-o", "requirements.txt")
    assert text == ""
    text = Path("requirements.txt").read_text()
    lock = read_lock(text)

    assert list(lock) == ["alpha", "mid", "speedy", "zeta-pkg"]  # sorted by canonical name
    assert pins(text) == {
        "alpha": "1.0",
        "mid": "2.0",
        "speedy": "3.0",
        "zeta-pkg": "1.0",
    }
    # One hash per file of the pinned version, wheels for other targets and the sdist too.
    for name, pin in lock.items():
        assert list(pin.hashes) == served_sha256(index, name, pin.version), name
    assert len(lock["alpha"].hashes) == 4
    assert lock["alpha"].via == ("mid", "zeta-pkg")
    assert lock["speedy"].via == ("mid",)
    assert lock["zeta-pkg"].via == ("command line",)

    header = [line for line in text.splitlines() if line.startswith("#") and "via" not in line]
    command = f"resolve zeta-pkg {shlex.join(TARGET)} -o requirements.txt"
    assert f"#    {command}" in header
    assert f"#   snapshot: fixed (sha256 {summary['digest']})" in header
    assert any(re.fullmatch(r"#   rules: sha256 [0-9a-f]{64}", line) for line in header)
    assert not re.search(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}", "\n".join(header))  # no clock

    # The header's command regenerates the lock, byte for byte.
    again = invoke(mirror, *shlex.split(command)[1:])
    assert again.exit_code == 0, again.output
    assert Path("requirements.txt").read_text() == text


def test_pylock(shelf: tuple[Mirror, FixtureIndex, dict[str, object]]) -> None:
    mirror, index, summary = shelf
    url = mirror.scalar("SELECT url FROM \"index\" WHERE name = 'pypi'")
    assert resolved(mirror, "zeta-pkg", *TARGET, "-o", "pylock.toml") == ""
    text = Path("pylock.toml").read_text()
    document = tomllib.loads(text)

    assert document["lock-version"] == "1.0"
    assert document["created-by"] == "sneakernet"
    assert document["requires-python"] == "==3.12.*"
    packages = document["packages"]
    assert [p["name"] for p in packages] == ["alpha", "mid", "speedy", "zeta-pkg"]
    for package in packages:
        assert package["index"] == url
        files = package.get("wheels", []) + ([package["sdist"]] if "sdist" in package else [])
        hashes = sorted(f["hashes"]["sha256"] for f in files)
        assert hashes == served_sha256(index, package["name"], package["version"])
        names = [w["name"] for w in package["wheels"]]
        assert names == sorted(names)
        for entry in files:
            served = index.project(package["name"]).file(entry["name"])
            assert entry["url"] == f"{url.removesuffix('simple/')}files/{entry['name']}"
            assert entry["size"] == len(served.data)
    alpha = packages[0]
    assert alpha["version"] == "1.0"
    assert alpha["sdist"]["name"] == "alpha-1.0.tar.gz"
    assert len(alpha["wheels"]) == 3
    assert alpha["wheels"][0]["upload-time"] == datetime(2024, 1, 1, tzinfo=UTC)
    speedy = packages[2]
    assert speedy["wheels"][0]["upload-time"] == datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    assert "upload-time" not in speedy["sdist"]  # the index gave none
    assert "sdist" not in packages[1]
    assert document["tool"]["sneakernet"]["snapshot-digest"] == summary["digest"]

    resolved(mirror, "zeta-pkg", *TARGET, "-o", "pylock.toml")
    assert Path("pylock.toml").read_text() == text


def test_json(shelf: tuple[Mirror, FixtureIndex, dict[str, object]]) -> None:
    mirror, index, summary = shelf
    document = json.loads(resolved(mirror, "zeta-pkg", *TARGET, "--format", "json"))
    assert document["snapshot"] == {"name": "fixed", "digest": summary["digest"]}
    assert document["target"] == "CPython 3.12.0 on x86_64-manylinux_2_28"
    alpha = document["packages"][0]
    assert (alpha["name"], alpha["version"], alpha["index"]["name"]) == ("alpha", "1.0", "pypi")
    assert alpha["via"] == ["mid", "zeta-pkg"]
    filenames = [f["filename"] for f in alpha["files"]]
    served = [f.filename for f in index.project("alpha").files if f.release == "1.0"]
    assert filenames == sorted(served)


def test_rules_digest_names_the_rules_applied(
    shelf: tuple[Mirror, FixtureIndex, dict[str, object]],
) -> None:
    mirror = shelf[0]

    def rules_digest(*options: str) -> str:
        document = json.loads(resolved(mirror, "alpha", *TARGET, "--format", "json", *options))
        digest: str = document["rules"]
        return digest

    default = rules_digest()
    assert re.fullmatch(r"[0-9a-f]{64}", default)
    assert rules_digest("--index-strategy", "first-index") == default  # the stored default
    assert rules_digest("--index-strategy", "unsafe-best-match") != default
    assert rules_digest("--prerelease", "allow") != default


def test_hashes_come_from_the_origin_index_only(mirror: Mirror, serve: Serve) -> None:
    first, second = FixtureIndex(), FixtureIndex()
    make_project(first, "foo", ["1.0"])
    make_project(second, "foo", ["1.0", "2.0"], padding=64)  # the same release, other bytes
    add_indexes(mirror, serve, first=first, second=second)
    mirror.sync("foo", "--versions", "all", "--quiet")

    for strategy, version, origin in [
        ("first-index", "1.0", first),
        ("unsafe-first-match", "1.0", first),
        ("unsafe-best-match", "2.0", second),
    ]:
        text = resolved(mirror, "foo", "--index-strategy", strategy, *TARGET)
        assert read_lock(text)["foo"].hashes == tuple(served_sha256(origin, "foo", version))
    text = resolved(mirror, "foo==1.0", "--index-strategy", "unsafe-best-match", *TARGET)
    assert read_lock(text)["foo"].hashes == tuple(served_sha256(first, "foo", "1.0"))


@pytest.mark.slow
def test_pip_checks_the_hashes(
    shelf: tuple[Mirror, FixtureIndex, dict[str, object]], tmp_path: Path
) -> None:
    """pip's own hash-checking mode reads the lock and verifies every file it would install."""
    mirror, index, _ = shelf
    write_dists(index, tmp_path / "dists")
    # The interpreter running the tests is the target: pip installs for it.
    resolved(mirror, "zeta-pkg", "-o", "requirements.txt")

    def pip(lock: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                *(sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--no-index"),
                *("--require-hashes", "--ignore-installed", "--disable-pip-version-check"),
                *("--find-links", str(tmp_path / "dists"), "-r", lock),
            ],
            env=subprocess_env(mirror),
            capture_output=True,
            text=True,
            check=False,
        )

    run = pip("requirements.txt")
    assert run.returncode == 0, run.stdout + run.stderr
    (would,) = [line for line in run.stdout.splitlines() if line.startswith("Would install")]
    assert sorted(would.split()[2:]) == ["Zeta_Pkg-1.0", "alpha-1.0", "mid-2.0", "speedy-3.0"]

    text = Path("requirements.txt").read_text()
    wrong = text.replace(read_lock(text)["mid"].hashes[0], "0" * 64)
    Path("tampered.txt").write_text(wrong)
    run = pip("tampered.txt")
    assert run.returncode != 0
    assert "DO NOT MATCH THE HASHES" in run.stderr


def test_the_header_command_pins_an_old_snapshot_and_rule_set(
    mirror: Mirror, serve: Serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra, pypi = FixtureIndex(), FixtureIndex()
    make_project(extra, "foo", ["1.0"])
    make_project(pypi, "foo", ["2.0"])
    add_indexes(mirror, serve, extra=extra, pypi=pypi)
    mirror.sync("foo", "--quiet", "--name", "first")
    monkeypatch.chdir(tmp_path)
    old_rules = json.loads(resolved(mirror, "foo", *TARGET, "--format", "json"))["rules"]
    # Since then: a newer snapshot, and rules that take foo from the other index.
    make_project(extra, "foo", ["1.0", "1.1"])
    mirror.sync("foo", "--quiet", "--name", "second")
    mirror.run("rules", "set", "index-strategy", "unsafe-best-match")
    assert read_lock(resolved(mirror, "foo", *TARGET))["foo"].version == "2.0"

    options = ("--snapshot", "first", "--rules", old_rules[:12], "-o", "requirements.txt")
    assert resolved(mirror, "foo", *TARGET, *options) == ""
    text = Path("requirements.txt").read_text()
    assert read_lock(text)["foo"].version == "1.0"
    assert f"#   rules: sha256 {old_rules}" in text.splitlines()

    (command,) = [line[5:] for line in text.splitlines() if line.startswith("#    resolve ")]
    Path("requirements.txt").unlink()  # no preferences: the command alone must say it all
    assert resolved(mirror, *shlex.split(command)[1:]) == ""
    assert Path("requirements.txt").read_text() == text


def test_two_databases_with_the_same_content_give_the_same_lock(
    serve: Serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A made-up snapshot name is local (a timestamp): the lock names the digest only, so two
    databases synced from the same index give byte-identical locks in every format."""
    index = catalogue()
    url = serve(index)
    monkeypatch.chdir(tmp_path)
    locks: list[list[str]] = []
    for home in ("one", "two"):
        mirror = Mirror(tmp_path / home / "mirror.db", clean_environment(tmp_path / home))
        mirror.db.parent.mkdir()
        mirror.add_index("pypi", url, "--default")
        mirror.sync(*sorted(index.projects), "--versions", "all", "--quiet")
        locks.append([resolved(mirror, "zeta-pkg", *TARGET, "--format", kind) for kind in FORMATS])
        if home == "one":  # a second snapshot gets its made-up name a counter, never the lock
            mirror.sync(*sorted(index.projects), "--versions", "all", "--quiet")
    assert locks[0] == locks[1]
    requirements, pylock, as_json = locks[0]
    digest = json.loads(as_json)["snapshot"]["digest"]
    assert f"#   snapshot: sha256 {digest}" in requirements.splitlines()
    assert "snapshot" not in tomllib.loads(pylock)["tool"]["sneakernet"]
    assert json.loads(as_json)["snapshot"] == {"name": None, "digest": digest}
    # Each format names the matching rules the pins were chosen under.
    assert f"#   semantics: {SEMANTICS}" in requirements.splitlines()
    assert tomllib.loads(pylock)["tool"]["sneakernet"]["semantics"] == SEMANTICS
    assert json.loads(as_json)["semantics"] == SEMANTICS
    # The digest alone is enough for `mirror download` to find the lock's files.
    Path("requirements.txt").write_text(requirements)
    summary = mirror.json("download", "requirements.txt", "-d", "wheelhouse")
    assert summary["snapshot"]["digest"] == digest
    assert summary["counts"]["failed"] == 0 and summary["counts"]["downloaded"] > 0
