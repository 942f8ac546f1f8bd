"""`mirror serve --workers N`: N processes on one port, each answering; a worker that dies is
replaced; SIGTERM stops them all and the parent exits 0 with no worker left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import Mirror
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.fixtures.postgres_server import PostgresServer
from tests.resolve.endtoend import start_serve, sync_snapshot

TIMEOUT = 60


@dataclass
class Served:
    process: subprocess.Popen[str]
    url: str

    def workers(self) -> set[int]:
        """The live children of the server process, from /proc."""
        found = set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid and fields[0] != "Z":
                found.add(int(entry.name))
        return found

    def get(self, path: str) -> int:
        with urllib.request.urlopen(self.url + path, timeout=TIMEOUT) as answer:
            answer.read()
            return int(answer.status)


def _wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Mirror:
    index = FixtureIndex()
    make_project(index, "a", ["1.0"])
    make_project(index, "b", ["2.0"])
    return sync_snapshot(tmp_path_factory.mktemp("workers"), {"pypi": index})[0]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def database(request: pytest.FixtureRequest, snapshot: Mirror) -> str:
    """The snapshot's database: its SQLite file, or a PostgreSQL copy of it."""
    if request.param == "sqlite":
        return str(snapshot.db)
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.url(server.fresh_database())
    snapshot.run("db", "copy", url)
    return url


@pytest.fixture
def served(snapshot: Mirror, database: str) -> Iterator[Served]:
    process, url = start_serve(snapshot, database, "--workers", "3")
    try:
        yield Served(process, url.removesuffix("simple/"))
    finally:
        process.kill()
        process.wait(timeout=TIMEOUT)


def test_workers_share_the_port_and_a_dead_one_is_replaced(served: Served, database: str) -> None:
    _wait_for(lambda: len(served.workers()) == 3, "three workers")
    paths = ["simple/", "simple/a/", "simple/b/"] * 20
    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(served.get, paths)) == {200}

    victim = min(served.workers())
    os.kill(victim, signal.SIGKILL)
    _wait_for(lambda: len(served.workers()) == 3 and victim not in served.workers(), "a new worker")
    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(served.get, paths)) == {200}

    if database.startswith("postgresql"):
        # A server's readers hold no transaction open between requests (it would hold back
        # vacuum for as long as the server runs).
        import psycopg

        with psycopg.connect(database) as conn:
            idle = conn.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND state = 'idle in transaction'"
            ).fetchone()
        assert idle == (0,)

    workers = served.workers()
    served.process.send_signal(signal.SIGTERM)
    _, stderr = served.process.communicate(timeout=TIMEOUT)
    assert served.process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert f"warning: worker {victim} ended (-9); starting another" in stderr
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()


def test_one_worker_is_the_default_and_serves_in_process(snapshot: Mirror) -> None:
    help_text = snapshot.run("serve", "--help").stdout
    assert "--workers N" in help_text
    assert "--workers 4" in help_text
    assert snapshot.run("serve", "--workers", "0", code=2).stderr.count("--workers") >= 1


@pytest.mark.slow
def test_a_worker_that_does_not_stop_is_killed(served: Served) -> None:
    _wait_for(lambda: len(served.workers()) == 3, "three workers")
    stuck = min(served.workers())
    os.kill(stuck, signal.SIGSTOP)  # a stopped process does not act on SIGTERM
    started = time.monotonic()
    served.process.send_signal(signal.SIGTERM)
    _, stderr = served.process.communicate(timeout=TIMEOUT)
    assert served.process.returncode == 0, stderr
    assert time.monotonic() - started < TIMEOUT / 2
    assert not Path(f"/proc/{stuck}").exists()
