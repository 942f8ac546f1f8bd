"""No password of a database URL or an index URL reaches the output of either CLI: errors,
warnings, JSON documents and listings show it masked (``user:****@``), whether the URL came from
the command line, pip's configuration or the text of a library's exception.

The commands run in real subprocesses, failing and succeeding, against fixture indexes on
127.0.0.1 (one that refuses the credentials with 401, one that nothing listens on).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from mirror.cli.common import handle_errors
from resolve.clikit import ErrorRenderingCommand, echo_json, warn
from tests.conftest import Mirror, Serve, clean_environment
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.resolve.endtoend import TARGET, source_command, source_env, sync_snapshot

SECRET = "s3cr3t-pw-91f2"
TIMEOUT = 120


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Mirror:
    index = FixtureIndex()
    make_project(index, "a", ["1.0"])
    return sync_snapshot(tmp_path_factory.mktemp("secrets"), {"pypi": index})[0]


def run(
    program: str, db: str | Path, *args: str, cwd: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    """``PROGRAM --db DB ARGS…`` in a subprocess; asserts the secret is nowhere in its output.
    Unexpected errors are rendered as the one-line bug report, not a debugging traceback."""
    mirror = Mirror(cwd / "unused.db", clean_environment(cwd))
    done = subprocess.run(
        [*source_command(program), "--db", str(db), *args],
        cwd=cwd,
        env=source_env(mirror, SNEAKERNET_DEBUG="", **env),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert SECRET not in done.stdout + done.stderr, (args, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    return done


# -- database URLs ------------------------------------------------------------------------------

# Each URL, and what the error shows of it. No PostgreSQL driver need be installed: the URL is
# refused (snapshots live in SQLite) before any driver would be loaded.
DATABASES = [
    pytest.param(f"postgresql://u:{SECRET}@127.0.0.1:1/x", "u:****@", id="postgresql"),
    pytest.param(f"postgresql+psycopg://u:{SECRET}@127.0.0.1:1/x", "u:****@", id="psycopg"),
    pytest.param(f"postgresql://u:{SECRET}@127.0.0.1:port/x", "u:****@", id="bad-port"),
    pytest.param(f"sqlite+nope://u:{SECRET}@/mirror.db", "mirror.db", id="unknown-driver"),
]


@pytest.mark.parametrize(("url", "shown"), DATABASES)
@pytest.mark.parametrize(
    ("program", "args"),
    [
        ("resolve", ("a", *TARGET)),
        ("mirror", ("snapshot", "list")),
        ("mirror", ("db", "upgrade")),
        ("mirror", ("index", "list", "--json")),
    ],
    ids=lambda v: v if isinstance(v, str) else " ".join(v[:2]),
)
def test_a_database_url_is_shown_masked(
    url: str, shown: str, program: str, args: tuple[str, ...], tmp_path: Path
) -> None:
    done = run(program, url, *args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ")
    assert shown in done.stderr


def test_resolve_masks_a_url_in_its_input(snapshot: Mirror, tmp_path: Path) -> None:
    direct = f"a @ https://u:{SECRET}@127.0.0.1:1/a-1.0-py3-none-any.whl"
    done = run("resolve", snapshot.db, direct, *TARGET, cwd=tmp_path)
    assert done.returncode == 2
    assert "https://u:****@127.0.0.1:1/a-1.0" in done.stderr


def test_a_click_usage_error_masks_the_argument(snapshot: Mirror, tmp_path: Path) -> None:
    done = run("mirror", snapshot.db, "index", "list", f"http://u:{SECRET}@h/", cwd=tmp_path)
    assert done.returncode == 2
    assert "http://u:****@h/" in done.stderr


# -- index URLs ---------------------------------------------------------------------------------


@pytest.fixture
def refusing(serve: Serve) -> Iterator[str]:
    """A private index on 127.0.0.1 that answers 401 to our credentials; its URL with them."""
    index = FixtureIndex(auth=("u", "the-right-one"))
    make_project(index, "a", ["1.0"])
    yield serve(index).replace("http://", f"http://u:{SECRET}@")


def test_index_add_list_and_sync_against_a_401_index(refusing: str, tmp_path: Path) -> None:
    db = tmp_path / "mirror.db"
    # Checked first: the index refuses the URL's credentials, and the error shows them masked.
    refused = run("mirror", db, "index", "add", "private", refusing, "--default", cwd=tmp_path)
    assert refused.returncode == 3, refused.stderr
    assert "u:****@127.0.0.1" in refused.stderr and "HTTP 401" in refused.stderr
    added = run(
        "mirror", db, "index", "add", "private", refusing, "--default", "--no-check", cwd=tmp_path
    )
    assert added.returncode == 0, added.stderr
    for args in (("index", "list"), ("index", "list", "--json"), ("rules", "show")):
        listed = run("mirror", db, *args, cwd=tmp_path)
        assert listed.returncode == 0, listed.stderr
        assert "127.0.0.1" in listed.stdout
    # The credentials given at run time (pip's configuration) are refused by the index.
    for args in (("sync", "a"), ("sync", "a", "--json")):
        synced = run("mirror", db, *args, cwd=tmp_path, PIP_INDEX_URL=refusing)
        assert synced.returncode in (0, 3), synced.stderr
    for args in (("snapshot", "show", "latest"), ("snapshot", "show", "latest", "--json")):
        shown = run("mirror", db, *args, cwd=tmp_path)
        assert shown.returncode == 0, shown.stderr
        assert "private" in shown.stdout


def test_sync_adopting_pips_index_masks_it_in_failures(tmp_path: Path) -> None:
    """Nothing listens on the index pip names: the failures name it, without the password."""
    unreachable = f"http://u:{SECRET}@127.0.0.1:1/simple/"
    for args in (("sync", "a"), ("sync", "a", "--json")):
        done = run("mirror", tmp_path / "mirror.db", *args, cwd=tmp_path, PIP_INDEX_URL=unreachable)
        assert done.returncode == 3, done.stderr
        assert "127.0.0.1:1" in done.stdout + done.stderr


@pytest.mark.parametrize(
    "url",
    [f"http://u:{SECRET}@127.0.0.1:1/simple/ x", f"http://u:{SECRET}@[::1/simple/"],
    ids=["space", "broken-host"],
)
def test_a_malformed_index_url_is_shown_masked(url: str, tmp_path: Path) -> None:
    done = run("mirror", tmp_path / "mirror.db", "index", "add", "x", url, cwd=tmp_path)
    assert done.returncode == 2
    assert "http://u:****@" in done.stderr


# -- the edge itself, in-process ----------------------------------------------------------------


@click.command(cls=ErrorRenderingCommand)
@handle_errors
def _fails_with_a_library_error() -> None:
    raise RuntimeError(f"connection to https://ci:{SECRET}@10.0.0.1/simple/ reset")


@click.command(cls=ErrorRenderingCommand)
def _warns_and_prints_json() -> None:
    warn(f"skipped https://{SECRET}@10.0.0.1/simple/")
    echo_json({"url": f"https://ci:{SECRET}@10.0.0.1/", "list": [f"//ci:{SECRET}@h", 1]})


def test_a_library_exceptions_text_is_masked() -> None:
    result = CliRunner().invoke(_fails_with_a_library_error, [], env={"SNEAKERNET_DEBUG": None})
    assert result.exit_code == 70
    assert SECRET not in result.output
    assert "https://ci:****@10.0.0.1/simple/ reset" in result.stderr


def test_warnings_and_json_are_masked() -> None:
    result = CliRunner().invoke(_warns_and_prints_json, [])
    assert result.exit_code == 0
    assert SECRET not in result.output
    assert result.stderr == "warning: skipped https://****@10.0.0.1/simple/\n"
    assert '"url": "https://ci:****@10.0.0.1/"' in result.stdout
    assert '"//ci:****@h"' in result.stdout


def test_a_malformed_netrc_is_ignored_without_quoting_it(serve: Serve, tmp_path: Path) -> None:
    """The netrc parser's message quotes the token it stopped at: maybe a password."""
    index = FixtureIndex()
    make_project(index, "a", ["1.0"])
    url = serve(index)
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login u {SECRET}\n")  # "password" forgotten
    db = tmp_path / "mirror.db"
    assert run("mirror", db, "index", "add", "pypi", url, "--default", cwd=tmp_path).returncode == 0
    synced = run("mirror", db, "sync", "a", cwd=tmp_path, NETRC=str(netrc))
    assert synced.returncode == 0, synced.stderr
