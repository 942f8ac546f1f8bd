"""An existing ``-o`` lock is the preference set (pip-compile's habit): its pins survive a
newer snapshot unless ``--upgrade`` or ``--upgrade-package`` says otherwise; and the
``--resolution`` modes (DESIGN.md "Command-line surface"; SEMANTICS.md §4, §5)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from packaging.version import Version

from resolve.lock.reader import LockfileError
from resolve.policy.preferences import read_preferences
from tests.conftest import Mirror, Serve
from tests.fixtures.dists import build_wheel
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.resolve.endtoend import TARGET, add_indexes, invoke, pins, read_lock, resolved


def locked(path: Path) -> dict[str, str]:
    """The pins of a lock file in any of the three formats, whatever its name."""
    text = path.read_text()
    if text.lstrip().startswith("{"):
        packages = json.loads(text)["packages"]
    elif "\nlock-version = " in text:
        packages = tomllib.loads(text)["packages"]
    else:
        return pins(text)
    return {p["name"]: p["version"] for p in packages}


@pytest.fixture
def releases(
    mirror: Mirror, serve: Serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Mirror, FixtureIndex]:
    """a 1.0/2.0 needing b, b 1.0/2.0, synced; the test publishes more and syncs again."""
    index = FixtureIndex()
    make_project(index, "a", ["1.0", "2.0"], deps=["b>=1"])
    make_project(index, "b", ["1.0", "2.0"])
    add_indexes(mirror, serve, pypi=index)
    mirror.sync("a", "b", "--versions", "all", "--quiet")
    monkeypatch.chdir(tmp_path)
    return mirror, index


def publish_newer(mirror: Mirror, index: FixtureIndex) -> None:
    index.project("a").add(build_wheel("a", "3.0", requires_dist=["b>=1"]), version="3.0")
    index.project("b").add(build_wheel("b", "3.0"), version="3.0")
    mirror.sync("a", "b", "--versions", "all", "--quiet")


@pytest.mark.parametrize(
    ("output", "options"),
    [
        ("requirements.txt", ()),
        ("pylock.toml", ()),
        ("lock.json", ("--format", "json")),
        ("pylock.dev.toml", ()),
        ("locked.out", ("--format", "pylock")),
        ("pylock.toml", ("--format", "requirements")),
        ("lock.json", ("--format", "requirements")),
    ],
)
def test_pins_survive_a_newer_snapshot(
    releases: tuple[Mirror, FixtureIndex], output: str, options: tuple[str, ...]
) -> None:
    mirror, index = releases
    lock = Path(output)

    def relock(*extra: str) -> dict[str, str]:
        assert resolved(mirror, "a", *TARGET, "-o", output, *options, *extra) == ""
        return locked(lock)

    assert relock() == {"a": "2.0", "b": "2.0"}
    publish_newer(mirror, index)
    assert relock() == {"a": "2.0", "b": "2.0"}
    assert relock("--upgrade-package", "B") == {"a": "2.0", "b": "3.0"}
    assert relock() == {"a": "2.0", "b": "3.0"}
    assert relock("--upgrade") == {"a": "3.0", "b": "3.0"}


def test_a_preference_outside_the_new_range_gives_way(
    releases: tuple[Mirror, FixtureIndex],
) -> None:
    mirror, _ = releases
    resolved(mirror, "a", *TARGET, "-o", "requirements.txt")
    result = invoke(mirror, "a<2", *TARGET, "-o", "requirements.txt")
    assert result.exit_code == 0, result.output
    assert locked(Path("requirements.txt")) == {"a": "1.0", "b": "2.0"}
    # SEMANTICS §7: a pin that cannot be kept is never replaced without a word.
    assert result.stderr.splitlines()[0] == (
        "warning: the existing lock's pin a==2.0 is not kept (a is now 1.0): "
        "the requirement a<2 excludes it"
    )


def test_every_pin_that_cannot_be_kept_is_reported(
    releases: tuple[Mirror, FixtureIndex],
) -> None:
    mirror, index = releases
    resolved(mirror, "a", *TARGET, "-o", "requirements.txt")
    # b 2.0 leaves the index; a new release of c wants an older b.
    index.project("b").files[:] = [f for f in index.project("b").files if f.release != "2.0"]
    make_project(index, "c", ["1.0"], deps=["b<2"])
    mirror.sync("a", "b", "c", "--versions", "all", "--quiet")
    text = Path("requirements.txt").read_text()
    Path("requirements.txt").write_text(text + "c==0.9\n")

    result = invoke(mirror, "a", "c", *TARGET, "-o", "requirements.txt")
    assert result.exit_code == 0, result.output
    assert locked(Path("requirements.txt")) == {"a": "2.0", "b": "1.0", "c": "1.0"}
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: the existing lock's pin b==2.0 is not kept (b is now 1.0): the snapshot "
        "offers no b 2.0 that the rules and the target allow",
        "warning: the existing lock's pin c==0.9 is not kept (c is now 1.0): the snapshot "
        "offers no c 0.9 that the rules and the target allow",
    ]


def test_a_pin_a_dependency_excludes_says_so(releases: tuple[Mirror, FixtureIndex]) -> None:
    mirror, index = releases
    resolved(mirror, "a", *TARGET, "-o", "requirements.txt")
    make_project(index, "c", ["1.0"], deps=["b<2"])
    mirror.sync("a", "b", "c", "--versions", "all", "--quiet")

    result = invoke(mirror, "a", "c", *TARGET, "-o", "requirements.txt")
    assert result.exit_code == 0, result.output
    assert (
        "warning: the existing lock's pin b==2.0 is not kept (b is now 1.0): a dependency's "
        "requirement or the pre-release policy excludes it; `resolve --explain b` shows why "
        "each version is or is not used"
    ) in result.stderr


def test_a_kept_pin_that_was_yanked_since(releases: tuple[Mirror, FixtureIndex]) -> None:
    """SEMANTICS E5: the previous lock's pin is used, with a warning showing the reason."""
    mirror, index = releases
    resolved(mirror, "a", *TARGET, "-o", "requirements.txt")
    for entry in index.project("b").files:
        if entry.release == "2.0":
            entry.yanked = "bad build"
    mirror.sync("a", "b", "--versions", "all", "--quiet")

    result = invoke(mirror, "a", *TARGET, "-o", "requirements.txt")
    assert result.exit_code == 0, result.output
    assert "warning: b 2.0 is yanked (bad build)" in result.stderr
    assert locked(Path("requirements.txt")) == {"a": "2.0", "b": "2.0"}
    assert "    # yanked: bad build" in Path("requirements.txt").read_text()
    # Without the lock the yanked version is skipped.
    assert read_lock(resolved(mirror, "a", *TARGET))["b"].version == "1.0"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("this is not a lock\n", "requirements.txt:1: invalid requirement 'this is not a lock'"),
        ("a==1.0\nb>=1\n", "requirements.txt:2: b is not pinned to one version"),
    ],
)
def test_an_unreadable_existing_lock_is_an_error(
    releases: tuple[Mirror, FixtureIndex], content: str, message: str
) -> None:
    mirror, _ = releases
    Path("requirements.txt").write_text(content)
    result = invoke(mirror, "a", *TARGET, "-o", "requirements.txt")
    assert result.exit_code == 2
    assert message in result.stderr
    assert Path("requirements.txt").read_text() == content


@pytest.mark.parametrize(
    ("resolution", "expected"),
    [
        ("highest", {"a": "2.0", "b": "2.0"}),
        ("lowest", {"a": "1.0", "b": "1.0"}),
        ("lowest-direct", {"a": "1.0", "b": "2.0"}),
    ],
)
def test_resolution_modes(
    releases: tuple[Mirror, FixtureIndex], resolution: str, expected: dict[str, str]
) -> None:
    mirror, _ = releases
    text = resolved(mirror, "a", *TARGET, "--resolution", resolution)
    assert pins(text) == expected
    assert ("--resolution" in text) == (resolution != "highest")


# --- the preferences are read by the one lock reader ------------------------------------------


def test_preferences_of_each_format(tmp_path: Path) -> None:
    """What `mirror download` reads, `-o` reads, whatever the file is called; no hashes needed."""
    assert read_preferences(tmp_path / "absent.txt") == {}
    plain = tmp_path / "pylock.toml"  # a requirements lock under a pylock's name
    plain.write_text("# pins\nFoo_Bar==1.0\n")
    assert read_preferences(plain) == {"foo-bar": Version("1.0")}
    document = tmp_path / "lock.txt"
    document.write_text('{"packages": [{"name": "Foo", "version": "2.0rc1", "files": []}]}')
    assert read_preferences(document) == {"foo": Version("2.0rc1")}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("foo===not.pep.440!\n", "requirements.txt:1: foo 'not.pep.440!' is not a PEP 440 version"),
        ('{"packages": [}', "requirements.txt:1: not valid JSON"),
    ],
)
def test_an_unusable_preference_names_the_lock(
    tmp_path: Path, content: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("requirements.txt").write_text(content)
    with pytest.raises(LockfileError) as caught:
        read_preferences(Path("requirements.txt"))
    assert caught.value.message.startswith(message)
    assert caught.value.hint is not None and "another -o FILE" in caught.value.hint


def test_a_kept_pin_without_metadata_is_missing_data(
    mirror: Mirror, serve: Serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pin would be kept online: a snapshot without its metadata stops with exit 4 rather
    than moving the pin to the newest version it has metadata for."""
    index = FixtureIndex()
    make_project(index, "a", ["1.0", "2.0"], deps=["b>=1"])
    make_project(index, "b", ["1.0", "2.0"])
    add_indexes(mirror, serve, pypi=index)
    mirror.sync("a", "b", "--versions", "latest:1", "--quiet")
    monkeypatch.chdir(tmp_path)
    Path("requirements.txt").write_text("a==2.0\nb==1.0\n")

    result = invoke(mirror, "a", *TARGET, "-o", "requirements.txt")
    assert result.exit_code == 4, result.output
    assert "needs: core metadata of b==1.0\n" in result.stderr
    assert Path("requirements.txt").read_text() == "a==2.0\nb==1.0\n"
