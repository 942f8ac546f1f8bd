"""Incomplete snapshots (SEMANTICS §7): missing data stops `resolve` with exit 4 and the sync
that fetches it, never a different lock; `--allow-incomplete` resolves past it out loud.

Each test syncs real fixture indexes on loopback, then resolves with the servers still up but
never asked (`resolve` opens no socket), and follows the hint's own command.
"""

from __future__ import annotations

import json
import shlex
import tomllib

from tests.conftest import Mirror, Serve
from tests.fixtures.dists import build_sdist, build_wheel
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.resolve.endtoend import (
    TARGET,
    add_indexes,
    failed,
    hint_lines,
    invoke,
    pins,
    resolved,
)

WINDOWS_310 = ("--python-version", "3.10", "--python-platform", "windows")


def sync_hint(stderr: str) -> list[str]:
    """The ``mirror sync …`` words of the hint, without ``mirror``."""
    (line,) = [h for h in hint_lines(stderr) if "`mirror sync" in h]
    return shlex.split(line.split("`")[1])[1:]


def httpx_index() -> FixtureIndex:
    """A dependency only an older Python needs; an older release and a development release that
    need nothing: without the dependency, a resolver that backtracks would silently pick one."""
    index = FixtureIndex()
    make_project(index, "httpx", ["0.28.0", "0.29.0", "1.0.dev6"], deps={"0.29.0": ["anyio"]})
    make_project(index, "anyio", ["4.0"], deps=['exceptiongroup; python_version < "3.11"'])
    make_project(index, "exceptiongroup", ["1.2"])
    return index


def test_a_dependency_only_the_target_needs(mirror: Mirror, serve: Serve) -> None:
    add_indexes(mirror, serve, pypi=httpx_index())
    # Every release's metadata: what the other target lacks is the project alone.
    mirror.sync("httpx", "--closure", "--python-version", "3.12", "--versions", "all", "--quiet")
    assert pins(resolved(mirror, "httpx", "--python-version", "3.12")) == {
        "anyio": "4.0",
        "httpx": "0.29.0",
    }

    stderr = failed(mirror, "httpx", *WINDOWS_310, code=4)
    assert stderr.startswith(
        "error: the snapshot lacks data this resolution needs: exceptiongroup (not in the "
        "snapshot)\n"
    )
    assert "0.28.0" not in stderr and "1.0.dev6" not in stderr
    # The hint's sync is for this target: following it makes the resolve work.
    command = sync_hint(stderr)
    assert command == ["sync", "httpx", "exceptiongroup", "--closure", *WINDOWS_310]
    mirror.run(*command, "--quiet")
    assert pins(resolved(mirror, "httpx", *WINDOWS_310)) == {
        "anyio": "4.0",
        "exceptiongroup": "1.2",
        "httpx": "0.29.0",
    }


def test_lowest_direct_needs_the_metadata_of_old_versions(mirror: Mirror, serve: Serve) -> None:
    index = FixtureIndex()
    make_project(index, "requests", ["2.20.0", "2.21.0", "2.22.0", "2.33.1"], deps=["idna"])
    make_project(index, "idna", ["3.0"])
    add_indexes(mirror, serve, pypi=index)
    mirror.sync("requests", "idna", "--versions", "latest:1", "--quiet")

    stderr = failed(mirror, "requests>=2.20", "--resolution", "lowest-direct", code=4)
    # Each version the solver tried on its way up lacked metadata; it never settles on 2.33.1.
    lacking = ["requests==2.20.0", "requests==2.21.0", "requests==2.22.0"]
    assert f"needs: core metadata of {', '.join(lacking)}\n" in stderr
    command = sync_hint(stderr)
    assert command == ["sync", "requests>=2.20", *lacking, "--closure"]
    mirror.run(*command, "--quiet")
    lowest = resolved(mirror, "requests>=2.20", "--resolution", "lowest-direct")
    assert pins(lowest) == {"idna": "3.0", "requests": "2.20.0"}


def test_allow_incomplete_says_so_in_the_warning_and_the_lock(mirror: Mirror, serve: Serve) -> None:
    add_indexes(mirror, serve, pypi=httpx_index())
    mirror.sync("httpx", "--closure", "--python-version", "3.12", "--versions", "all", "--quiet")
    missing = "exceptiongroup (not in the snapshot)"

    result = invoke(mirror, "httpx", "--allow-incomplete", *WINDOWS_310)
    assert result.exit_code == 0, result.output
    assert f"warning: the snapshot lacks data this resolution needs: {missing}" in result.stderr
    assert pins(result.stdout) == {"httpx": "0.28.0"}  # missing data counted as absent
    assert f"#   incomplete: {missing}\n" in result.stdout
    assert "--allow-incomplete" in result.stdout  # the command in the header repeats it

    pylock = invoke(mirror, "httpx", "--allow-incomplete", "--format", "pylock", *WINDOWS_310)
    document = tomllib.loads(pylock.stdout)
    assert document["tool"]["sneakernet"]["incomplete"] == [missing]
    as_json = invoke(mirror, "httpx", "--allow-incomplete", "--format", "json", *WINDOWS_310)
    assert json.loads(as_json.stdout)["incomplete"] == [missing]

    complete = resolved(mirror, "httpx", "--python-version", "3.12")
    assert "incomplete" not in complete


def test_a_project_no_index_has_is_not_missing_data(mirror: Mirror, serve: Serve) -> None:
    """Every index answered 404: the project does not exist (uv's "not found"), exit 1."""
    add_indexes(mirror, serve, pypi=httpx_index())
    mirror.sync("httpx", "nowhere", "--quiet")

    stderr = failed(mirror, "nowhere", code=1)
    assert "nowhere was not found on any index the rules allow (pypi: 404)" in stderr
    assert "lacks data" not in stderr


def test_an_sdist_needs_its_own_metadata_and_the_hint_fetches_it(
    mirror: Mirror, serve: Serve
) -> None:
    """SEMANTICS §5: an sdist never borrows a wheel's metadata. For a target only the sdist
    fits, the snapshot lacks it until a sync pins the version; then static metadata is used
    and metadata that needs a build makes the version unavailable."""
    index = FixtureIndex()
    for name, dynamic in (("static", False), ("dynamic", True)):
        project = index.add_project(name)
        windows = build_wheel(name, "1.0", tag="cp312-cp312-win_amd64", requires_dist=["attrs"])
        project.add(windows, version="1.0")
        sdist = build_sdist(
            name, "1.0", requires_dist=["attrs"], dynamic=["Requires-Dist"] if dynamic else ()
        )
        project.add(sdist, version="1.0")
    make_project(index, "attrs", ["23.0"])
    add_indexes(mirror, serve, pypi=index)
    mirror.sync("static", "dynamic", "attrs", "--quiet")

    stderr = failed(mirror, "static", *TARGET, code=4)
    assert "needs: core metadata of static==1.0\n" in stderr
    mirror.run(*sync_hint(stderr), "--quiet")
    assert pins(resolved(mirror, "static", *TARGET)) == {"attrs": "23.0", "static": "1.0"}

    mirror.sync("static", "dynamic", "attrs", "--quiet")
    stderr = failed(mirror, "dynamic", *TARGET, code=4)
    assert "needs: core metadata of dynamic==1.0\n" in stderr
    # The sync fetches what was missing, and its own resolution then fails: exit 1, as the
    # resolve that follows.
    synced = mirror.run(*sync_hint(stderr), "--quiet", code=1)
    assert "metadata needs a build" in synced.stderr
    stderr = failed(mirror, "dynamic", *TARGET)
    assert "dynamic==1.0 is unavailable (metadata needs a build)" in stderr
