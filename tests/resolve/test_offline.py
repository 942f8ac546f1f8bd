"""``resolve`` works with no network at all (SEMANTICS E15; DESIGN.md "Dependency rule"): the
installed command, run after the fixture index has stopped, in an interpreter whose sockets
refuse to exist, gives the same lock as before and never imports the sync's HTTP or database
stack (aiohttp, SQLAlchemy, alembic)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Mirror
from tests.resolve.endtoend import (
    TARGET,
    catalogue,
    hint_lines,
    resolved,
    run_console,
    shop_index,
    subprocess_env,
    sync_snapshot,
)

# Loaded by every interpreter started with its directory on PYTHONPATH (the site module
# imports `sitecustomize`): any attempt to open a socket or resolve a name is logged to the
# file named by NO_NETWORK_LOG and fails loudly.
NO_NETWORK = """
import os
import socket


def _refuse(*args, **kwargs):
    with open(os.environ["NO_NETWORK_LOG"], "a") as log:
        log.write(f"network access: {args!r}\\n")
    raise OSError("network access is disabled in this test")


class _NoSocket(socket.socket):
    def __init__(self, *args, **kwargs):
        _refuse(*args)


socket.socket = _NoSocket
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
socket.socketpair = _refuse
"""

HEAVY = ("sqlalchemy", "aiohttp", "alembic")


@pytest.fixture(scope="module")
def carried(tmp_path_factory: pytest.TempPathFactory) -> Mirror:
    """A snapshot synced from fixture indexes that have stopped since: the air gap."""
    pypi = shop_index()
    pypi.projects.update(catalogue().projects)
    return sync_snapshot(tmp_path_factory.mktemp("offline"), {"pypi": pypi})[0]


@pytest.fixture
def offline(tmp_path: Path) -> dict[str, str]:
    """Environment variables that take the network away from a Python subprocess."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(NO_NETWORK)
    # In front of the PYTHONPATH given (the code under test), not instead of it.
    path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    return {"PYTHONPATH": path, "NO_NETWORK_LOG": str(tmp_path / "network.log")}


def test_the_guard_works(carried: Mirror, offline: dict[str, str], tmp_path: Path) -> None:
    probe = "import socket; socket.create_connection(('127.0.0.1', 9))"
    run = subprocess.run(
        [sys.executable, "-c", probe],
        env=subprocess_env(carried, **offline),
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode != 0
    assert "network access is disabled in this test" in run.stderr
    assert "network access" in (tmp_path / "network.log").read_text()


@pytest.mark.parametrize("format_", ["requirements", "pylock", "json"])
def test_resolve_offline_gives_the_same_lock(
    carried: Mirror, offline: dict[str, str], tmp_path: Path, format_: str
) -> None:
    args = ("zeta-pkg", "app[web]", "plugin[all]", *TARGET, "--format", format_)
    expected = resolved(carried, *args)

    run = run_console(carried, *args, cwd=tmp_path, PYTHONPROFILEIMPORTTIME="1", **offline)

    assert run.returncode == 0, run.stderr
    assert run.stdout == expected
    assert not (tmp_path / "network.log").exists()
    imported = {
        line.split("|")[-1].strip().split(".")[0]
        for line in run.stderr.splitlines()
        if line.startswith("import time:")
    }
    # socket: imported by the guard itself, so the guard was loaded.
    assert {"resolve", "db", "packaging", "click", "socket"} <= imported
    assert imported.isdisjoint(HEAVY), sorted(imported & set(HEAVY))


def test_a_failure_offline_still_explains(
    carried: Mirror, offline: dict[str, str], tmp_path: Path
) -> None:
    run = run_console(carried, "legacy", "not-synced", *TARGET, cwd=tmp_path, **offline)
    assert run.returncode == 4, run.stderr
    assert hint_lines(run.stderr) == [
        "hint: fetch it with `mirror sync legacy not-synced --closure "
        f"{shlex.join(TARGET)}`, then resolve again; or pass --allow-incomplete to resolve as "
        "if the missing data did not exist"
    ]
    assert not (tmp_path / "network.log").exists()
