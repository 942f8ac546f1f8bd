"""``resolve`` end to end: requirement inputs, extras and markers, input errors, and the
``hint:`` lines of a failed resolution, through fixture indexes, ``mirror sync`` and the real
command (DESIGN.md "Command-line surface", "Conventions"; SEMANTICS.md §1, §5)."""

from __future__ import annotations

import json
import re
import shlex
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import Mirror, Serve
from tests.db import assert_error
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.resolve.endtoend import (
    TARGET,
    add_indexes,
    failed,
    hint_lines,
    invoke,
    pins,
    read_lock,
    resolved,
    shop_index,
)

WINDOWS = ("--python-version", "3.12", "--python-platform", "x86_64-pc-windows-msvc")


# -- inputs ------------------------------------------------------------------------------------


def test_requirements_file_in_pip_syntax(shop: Mirror, tmp_path: Path) -> None:
    (tmp_path / "more").mkdir()
    (tmp_path / "requirements.in").write_text(
        "# the application\n"
        "app[web] \\\n"
        "    >=1.0  # a comment after a continuation\n"
        "-r more/dev.in\n"
        "-c constraints.txt\n"
        "--index-url http://127.0.0.1:9/simple/\n"
        'attrs<23; python_version >= "3.8"\n'
        'pywin; sys_platform == "win32"\n'
    )
    (tmp_path / "more" / "dev.in").write_text("click  # narrowed by the constraints\n")
    (tmp_path / "constraints.txt").write_text("click<8.1\nunrelated==1.0\n")

    result = invoke(shop, "-r", "requirements.in", "-o", "requirements.txt", *TARGET)

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    text = (tmp_path / "requirements.txt").read_text()
    lock = read_lock(text)
    # The constraint narrowed click and added nothing; the win32-only line was dropped.
    assert pins(text) == {
        "app": "1.0",
        "attrs": "22.0",
        "click": "8.0",
        "flask": "3.0",
    }
    assert lock["app"].via == ("-r requirements.in",)
    assert lock["click"].via == ("-r more/dev.in", "flask")
    assert lock["attrs"].via == ("-r requirements.in", "app")
    (warning,) = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert "requirements.in:6: `--index-url http://127.0.0.1:9/simple/` is not applied" in warning


def test_a_credential_in_an_index_line_is_not_printed(shop: Mirror, tmp_path: Path) -> None:
    (tmp_path / "requirements.in").write_text(
        "--extra-index-url http://me:${INDEX_TOKEN}@127.0.0.1:9/simple/\n"
        "-i http://${INDEX_TOKEN}@127.0.0.1:9/simple/\n"
        "attrs\n"
    )
    result = invoke(shop, "-r", "requirements.in", *TARGET, env={"INDEX_TOKEN": "s3cret"})
    assert result.exit_code == 0, result.output
    assert "s3cret" not in result.output
    assert "`--extra-index-url http://me:****@127.0.0.1:9/simple/` is not applied" in result.stderr
    assert "`--index-url http://****@127.0.0.1:9/simple/` is not applied" in result.stderr


def test_pyproject_with_an_extra_and_a_group(shop: Mirror, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[project]\n"
        'name = "me"\n'
        'version = "0"\n'
        'dependencies = ["attrs<23"]\n'
        "[project.optional-dependencies]\n"
        'dev = ["legacy"]\n'
        'web = ["me[dev]", "flask"]\n'
        "[dependency-groups]\n"
        'lint = ["unrelated"]\n'
        'all = [{include-group = "lint"}, "blinker"]\n'
    )
    assert pins(resolved(shop, "-r", "pyproject.toml", *TARGET)) == {"attrs": "22.0"}

    text = resolved(shop, "-r", "pyproject.toml", "--extra", "web", "--group", "all", *TARGET)
    lock = read_lock(text)
    assert pins(text) == {
        "attrs": "22.0",
        "blinker": "1.0",
        "click": "7.0",  # legacy's pin, through the self-referencing extra
        "flask": "3.0",
        "legacy": "1.0",
        "unrelated": "1.0",
    }
    assert lock["attrs"].via == ("pyproject.toml (project.dependencies)",)
    assert lock["legacy"].via == ("pyproject.toml (project.optional-dependencies.dev)",)
    assert lock["unrelated"].via == ("pyproject.toml (dependency-groups.lint)",)
    assert "resolve -r pyproject.toml --extra web --group all" in text


def test_requires_python_that_excludes_the_target_is_a_usage_error(
    shop: Mirror, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "me"\nversion = "0"\nrequires-python = ">=3.13"\n'
        'dependencies = ["attrs"]\n'
    )
    stderr = failed(shop, "-r", "pyproject.toml", *TARGET, code=2)
    assert stderr.startswith(
        "error: pyproject.toml:4: --python-version 3.12 is outside the project's "
        "requires-python '>=3.13'\n"
    )
    assert "hint: pass a --python-version that >=3.13 allows, or change requires-python" in stderr
    # Inside the range it resolves as before.
    assert pins(resolved(shop, "-r", "pyproject.toml", "--python-version", "3.13")) == {
        "attrs": "23.0"
    }
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "me"\nversion = "0"\nrequires-python = "3.x"\n'
    )
    stderr = failed(shop, "-r", "pyproject.toml", *TARGET, code=2)
    assert stderr.startswith("error: pyproject.toml:4: invalid requires-python '3.x'")


def test_constraints_narrow_and_never_add(shop: Mirror, tmp_path: Path) -> None:
    (tmp_path / "constraints.txt").write_text("click<8.1\nunrelated==1.0\nblinker\n")
    assert pins(resolved(shop, "flask", "-c", "constraints.txt", *TARGET)) == {
        "click": "8.0",
        "flask": "3.0",
    }
    # A constraint is a requirement like any other when the package is in the graph.
    stderr = failed(shop, "click>=8.1", "-c", "constraints.txt", *TARGET)
    assert "click" in stderr and "unsatisfiable" in stderr


def test_override_replaces_every_requirement_on_a_package(shop: Mirror, tmp_path: Path) -> None:
    assert pins(resolved(shop, "legacy", *TARGET)) == {"click": "7.0", "legacy": "1.0"}
    (tmp_path / "overrides.txt").write_text("click==8.1\nunrelated==1.0\n")
    # legacy's `click==7.0` and the root's `click<8` both give way; unrelated is not added.
    overridden = resolved(shop, "legacy", "click<8", "--override", "overrides.txt", *TARGET)
    assert pins(overridden) == {"click": "8.1", "legacy": "1.0"}


def test_malformed_requirement_names_file_line_and_token(shop: Mirror, tmp_path: Path) -> None:
    (tmp_path / "requirements.in").write_text("attrs\n# a comment\nflask>=>2\n")
    result = invoke(shop, "-r", "requirements.in", *TARGET)
    block = assert_error(result, 2, "requirements.in:3: invalid requirement 'flask>=>2'")
    lines = block.splitlines()
    shown = lines.index("    flask>=>2")
    caret = lines[shown + 1]
    assert caret.strip() == "^^^^"
    assert caret.index("^") == lines[shown].index(">=>2")


@pytest.mark.parametrize(
    ("option", "value", "needle"),
    [
        ("--python-platform", "plan9", "unknown Python platform 'plan9'"),
        ("--python-version", "three", "invalid Python version 'three'"),
        ("--snapshot", "no-such-snapshot", "no snapshot named 'no-such-snapshot'"),
        ("--index", "no-such-index", "unknown index 'no-such-index'"),
    ],
)
def test_bad_option_values_are_usage_errors(
    shop: Mirror, option: str, value: str, needle: str
) -> None:
    assert_error(invoke(shop, "attrs", option, value), 2, needle)


def test_unreadable_databases(shop: Mirror, tmp_path: Path) -> None:
    (tmp_path / "empty.db").write_bytes(b"")
    (tmp_path / "text.db").write_text("not a database\n" * 400)
    cases = {
        "missing.db": "no database at",
        "empty.db": "is empty",
        "text.db": "is not an SQLite database",
    }
    for name, needle in cases.items():
        assert_error(invoke(shop, "attrs", "--db", str(tmp_path / name)), 2, needle)


def test_a_damaged_page_anywhere_is_an_error_or_harmless(shop: Mirror, tmp_path: Path) -> None:
    """Overwrite each database page in turn: ``resolve`` either gives the same lock (the page
    was not needed) or the error convention with exit 2, never a crash or another lock."""
    conn = sqlite3.connect(shop.db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    (page_size,) = conn.execute("PRAGMA page_size").fetchone()
    conn.close()
    data = shop.db.read_bytes()
    expected = resolved(shop, "app[web]", *TARGET)
    damaged = tmp_path / "damaged.db"
    codes = set()
    for start in range(page_size, len(data), page_size):
        damaged.write_bytes(data[:start] + b"\x13" * page_size + data[start + page_size :])
        result = invoke(shop, "app[web]", *TARGET, "--db", str(damaged))
        codes.add(result.exit_code)
        if result.exit_code == 0:
            assert result.stdout == expected
        else:
            assert_error(result, 2)
    assert codes == {0, 2}


def test_output_file_dash_is_stdout(shop: Mirror, tmp_path: Path) -> None:
    to_stdout = invoke(shop, "attrs", *TARGET, "-o", "-")
    default = invoke(shop, "attrs", *TARGET)

    assert to_stdout.exit_code == 0, to_stdout.output
    assert "attrs==" in to_stdout.stdout
    assert to_stdout.stdout == default.stdout
    assert not (tmp_path / "-").exists()


def test_lock_in_a_missing_directory(shop: Mirror) -> None:
    result = invoke(shop, "attrs", *TARGET, "-o", "no/such/dir/requirements.txt")
    assert_error(result, 2, "cannot write the lock no/such/dir/requirements.txt")


# -- extras and markers ------------------------------------------------------------------------


def test_an_extra_brings_its_requirements(shop: Mirror) -> None:
    assert pins(resolved(shop, "app", *TARGET)) == {"app": "1.0", "attrs": "23.0"}
    text = resolved(shop, "app[web]", *TARGET)
    lock = read_lock(text)
    assert pins(text) == {
        "app": "1.0",
        "attrs": "23.0",
        "click": "8.1",
        "flask": "3.0",
    }
    assert lock["flask"].via == ("app",)  # the extra is not a package of its own


def test_nested_extras(shop: Mirror) -> None:
    # plugin[all] needs flask[signals], which needs blinker.
    lock = read_lock(resolved(shop, "plugin[all]", *TARGET))
    assert sorted(lock) == ["blinker", "click", "flask", "plugin"]
    assert lock["blinker"].via == ("flask",)
    assert "blinker" not in pins(resolved(shop, "plugin", "flask", *TARGET))


def test_markers_follow_the_target(shop: Mirror) -> None:
    linux = pins(resolved(shop, "app", *TARGET))
    windows = pins(resolved(shop, "app", *WINDOWS))
    old_python = pins(resolved(shop, "app", "--python-version", "3.10"))
    assert "pywin" not in linux and windows["pywin"] == "1.0"
    assert "tomli" not in linux and old_python["tomli"] == "2.0"
    root_marker = pins(resolved(shop, "attrs", 'pywin; sys_platform == "win32"', *TARGET))
    assert root_marker == {"attrs": "23.0"}


# -- hints ---------------------------------------------------------------------------------------


def sync_hint(stderr: str) -> list[str]:
    """The ``mirror sync …`` command a hint quotes, as words."""
    (line,) = [h for h in hint_lines(stderr) if "`mirror sync" in h]
    return shlex.split(line.split("`")[1])


def test_a_project_missing_from_the_snapshot(mirror: Mirror, serve: Serve) -> None:
    index = shop_index()
    make_project(index, "late", ["1.0"], deps=["blinker"])
    add_indexes(mirror, serve, pypi=index)
    mirror.sync("legacy", "attrs", "--quiet")

    stderr = failed(mirror, "legacy", "late", *TARGET, code=4)
    assert stderr.startswith(
        "error: the snapshot lacks data this resolution needs: late (not in the snapshot)\n"
    )
    # A snapshot holds only what its sync fetched: the command names every requirement and
    # follows their dependencies for the same target, or the next snapshot would lack click
    # and legacy, or what this target alone needs.
    command = sync_hint(stderr)
    assert command == ["mirror", "sync", "legacy", "late", "--closure", *TARGET]

    mirror.run(*command[1:], "--quiet")
    assert pins(resolved(mirror, "legacy", "late", *TARGET)) == {
        "blinker": "1.0",
        "click": "7.0",
        "late": "1.0",
        "legacy": "1.0",
    }


def test_a_dependency_missing_from_the_snapshot(
    mirror: Mirror, serve: Serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_indexes(mirror, serve, pypi=shop_index())
    mirror.sync("flask", "click", "--quiet")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "requirements.in").write_text("flask[signals]\n")

    stderr = failed(mirror, "-r", "requirements.in", "click<8", *TARGET, code=4)
    assert "blinker (not in the snapshot)" in stderr
    command = sync_hint(stderr)
    assert command == [
        "mirror",
        "sync",
        "click<8",
        "-r",
        "requirements.in",
        "blinker",
        "--closure",
        *TARGET,
    ]

    mirror.run(*command[1:], "--quiet")
    lock = pins(resolved(mirror, "-r", "requirements.in", "click<8", *TARGET))
    assert lock == {"blinker": "1.0", "click": "7.0", "flask": "3.0"}


def test_versions_without_metadata(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    make_project(index, "old", [f"{major}.0" for major in range(1, 9)], deps=["attrs"])
    make_project(index, "attrs", ["23.0"])
    add_indexes(mirror, serve, pypi=index)
    mirror.sync("old", "attrs", "--quiet")  # the default: metadata of the latest versions only

    # Exactly the versions the resolution needed, not every old one.
    assert sync_hint(failed(mirror, "old==2.0", *TARGET, code=4)) == [
        "mirror",
        "sync",
        "old==2.0",
        "--closure",
        *TARGET,
    ]
    stderr = failed(mirror, "old<3", *TARGET, code=4)
    assert "needs: core metadata of old==1.0, old==2.0\n" in stderr
    command = sync_hint(stderr)
    assert command == ["mirror", "sync", "old<3", "old==1.0", "old==2.0", "--closure", *TARGET]

    mirror.run(*command[1:], "--quiet")
    assert pins(resolved(mirror, "old<3", *TARGET)) == {"attrs": "23.0", "old": "2.0"}


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sync's real retry loop, with backoff delays of about a millisecond."""
    import functools

    from mirror.http.client import ClientConfig

    fast = functools.partial(ClientConfig, backoff_base=0.001, backoff_cap=0.001)
    monkeypatch.setattr("mirror.cli.common.ClientConfig", fast)


def test_a_page_that_failed_at_sync(mirror: Mirror, serve: Serve, fast_retries: None) -> None:
    extra, pypi = FixtureIndex(), FixtureIndex()
    make_project(extra, "foo", ["1.0"], status=503)
    make_project(pypi, "foo", ["1.0"])
    add_indexes(mirror, serve, extra=extra, pypi=pypi)
    mirror.sync("foo", "--quiet", code=3)

    for strategy in ("first-index", "unsafe-first-match", "unsafe-best-match"):
        stderr = failed(mirror, "foo", "--index-strategy", strategy, *TARGET, code=4)
        assert "needs: foo (index extra failed at sync time: HTTP 503" in stderr
        (hint,) = hint_lines(stderr)  # nothing suggests a strategy: none falls through
        assert hint.startswith(
            f"hint: fetch it with `mirror sync foo --closure {shlex.join(TARGET)}`"
        )
        # Resolving past it anyway still never falls through to the next index.
        stderr = failed(mirror, "foo", "--index-strategy", strategy, "--allow-incomplete", *TARGET)
        assert "hint: index extra failed for foo at sync time (HTTP 503" in stderr


def test_a_refusal_on_an_extra_index(mirror: Mirror, serve: Serve) -> None:
    corp, pypi = FixtureIndex(), FixtureIndex()
    make_project(corp, "foo", ["1.0"], status=401)
    make_project(pypi, "foo", ["1.0"])
    add_indexes(mirror, serve, **{"corp.internal": corp, "pypi": pypi})
    mirror.sync("foo", "--quiet", code=3)  # the sync names the index that refused every page

    stderr = failed(mirror, "foo", *TARGET)
    auth, strategy = hint_lines(stderr)
    assert "index corp.internal refused foo (HTTP 401): check its credentials" in auth
    # The variables `mirror sync` reads for that index.
    assert "SNEAKERNET_INDEX_CORP_INTERNAL_USERNAME and _PASSWORD" in auth
    assert "mirror rules set index.corp.internal.not-here 401" in auth
    assert strategy == (
        "hint: index pypi has foo 1.0, but the search stopped when index corp.internal refused "
        "it; `--index-strategy unsafe-first-match` would pass over the refusal"
    )
    passed_over = resolved(mirror, "foo", "--index-strategy", "unsafe-first-match", *TARGET)
    assert pins(passed_over) == {"foo": "1.0"}


def test_an_index_added_after_the_snapshot(mirror: Mirror, serve: Serve) -> None:
    """Its answer is unknown, so nothing may fall through past it: sync again."""
    pypi, extra = FixtureIndex(), FixtureIndex()
    make_project(pypi, "foo", ["2.0"], deps=["bar"])
    make_project(pypi, "bar", ["1.0"])
    make_project(extra, "foo", ["1.0"])
    add_indexes(mirror, serve, pypi=pypi)
    mirror.sync("foo", "bar", "--quiet")
    mirror.add_index("extra", serve(extra))

    stderr = failed(mirror, "foo", *TARGET, code=4)
    assert "needs: foo (index extra was not asked about it)\n" in stderr
    (hint,) = hint_lines(stderr)
    # With --format json the error is data on stdout too; stderr is the same report.
    as_json = invoke(mirror, "foo", "--format", "json", *TARGET)
    assert (as_json.exit_code, as_json.stderr) == (4, stderr)
    document = json.loads(as_json.stdout)
    assert document["missing"] == ["foo (index extra was not asked about it)"]
    assert document["hints"] == [hint.removeprefix("hint: ")]
    command = sync_hint(stderr)
    assert command == ["mirror", "sync", "foo", "--closure", *TARGET]

    mirror.run(*command[1:], "--quiet")
    assert pins(resolved(mirror, "foo", *TARGET)) == {"foo": "1.0"}


# -- failures as data, and the solver's steps ---------------------------------------------------


def test_a_failure_is_json_on_stdout_with_format_json(shop: Mirror) -> None:
    result = invoke(shop, "legacy", "click>=8", "--format", "json", *TARGET)

    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["error"] == "no solution"
    assert document["target"] == "CPython 3.12.0 on x86_64-manylinux_2_28"
    assert set(document["snapshot"]) == {"name", "digest"}
    assert document["report"] == [
        "Because legacy==1.0 depends on click==7.0 and you require click>=8, legacy==1.0 cannot"
        " be used.",
        "And because you require legacy, we can conclude that your requirements are unsatisfiable.",
    ]
    # The human report still goes to stderr, the same sentences.
    assert document["report"][-1] in result.stderr
    assert list(document) == sorted(document)


def test_verbose_prints_the_solvers_decisions(shop: Mirror) -> None:
    result = invoke(shop, "app[web]", "-v", *TARGET)

    assert result.exit_code == 0, result.output
    steps = [line.strip() for line in result.stderr.splitlines() if line.startswith("  ")]
    assert steps[0] == "decide app[web] 1.0 (level 2)"  # level 1 is the root
    assert any(step.startswith("decide flask 3.0") for step in steps)
    assert steps[-1].endswith("backtracks")
    assert "decide" not in invoke(shop, "app[web]", *TARGET).stderr


def test_a_pin_with_a_marker_is_hinted_for_the_target(mirror: Mirror, serve: Serve) -> None:
    """The pin applies on Windows only: resolving for Windows on any machine names it."""
    corp, pypi = FixtureIndex(), FixtureIndex()
    make_project(corp, "other", ["1.0"])
    make_project(pypi, "foo", ["1.0"])
    add_indexes(mirror, serve, corp=corp, pypi=pypi)
    mirror.run("rules", "pin", "foo", "corp", "--marker", "sys_platform == 'win32'")
    mirror.sync("foo", "other", "--quiet")

    assert pins(resolved(mirror, "foo", *TARGET)) == {"foo": "1.0"}
    stderr = failed(mirror, "foo", "--python-platform", "windows", "--python-version", "3.12")
    assert (
        "hint: foo 1.0 exists on index pypi, which the pin `foo` excludes (it allows corp)"
    ) in stderr


def test_an_extra_the_distribution_does_not_provide_is_a_warning(shop: Mirror) -> None:
    result = invoke(shop, "app[web,nope]", *TARGET)
    assert result.exit_code == 0, result.output
    assert pins(result.stdout)["flask"] == "3.0"  # the extra it has still counts
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == ["warning: app 1.0 does not provide the extra 'nope'"]


@pytest.mark.parametrize("fmt, name", [("requirements", "old.txt"), ("pylock", "pylock.old.toml")])
def test_a_lock_as_constraints_retargets_it(
    shop: Mirror, tmp_path: Path, fmt: str, name: str
) -> None:
    old = invoke(shop, "app[web]", "click<8.1", "attrs<23", *TARGET, "--format", fmt, "-o", name)
    assert old.exit_code == 0, old.output
    assert "# via" in (tmp_path / name).read_text() or fmt == "pylock"

    text = resolved(shop, "app[web]", "-c", name, *WINDOWS)
    # Every pin of the old lock holds; what only the new target needs is added.
    assert pins(text) == {
        "app": "1.0",
        "attrs": "22.0",
        "click": "8.0",
        "flask": "3.0",
        "pywin": "1.0",
    }


def test_a_pylock_marker_stays_on_its_constraint(shop: Mirror, tmp_path: Path) -> None:
    (tmp_path / "pylock.toml").write_text(
        'lock-version = "1.0"\ncreated-by = "hand"\n\n'
        '[[packages]]\nname = "click"\nversion = "7.0"\nmarker = \'sys_platform == "win32"\'\n'
    )
    assert pins(resolved(shop, "click", "-c", "pylock.toml", *WINDOWS)) == {"click": "7.0"}
    assert pins(resolved(shop, "click", "-c", "pylock.toml", *TARGET)) == {"click": "8.1"}


@pytest.mark.parametrize("name", ["old-lock.txt", "pylock.prod.toml"])
def test_a_lock_pin_conflicting_with_a_requirement_names_the_lock(shop: Mirror, name: str) -> None:
    kind = "pylock" if name.endswith(".toml") else "requirements"
    resolved(shop, "flask<3", "-o", name, "--format", kind, *TARGET)
    stderr = failed(shop, "flask>=3", "-c", name, *TARGET)
    assert stderr.startswith("error: no solution"), stderr
    hint = [line for line in hint_lines(stderr) if name in line]
    assert re.fullmatch(
        rf"hint: flask is constrained to ==2\.0 by {re.escape(name)}:\d+ \(-c\): "
        "change or drop that constraint to let it move",
        hint[0],
    ), stderr
